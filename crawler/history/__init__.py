"""Citation history: what the snapshots say over time.

::

    snapshots.py   reading many snapshots fast (names, headers, publication columns, records)
    export.py      metrics / publications / years as CSV, JSON or Parquet (pandas)
    plot.py        total citations over time and the per-year bars (matplotlib)
    report.py      a Markdown summary of what changed, also for $GITHUB_STEP_SUMMARY
    backfill.py    snapshots from an AcadHomepage git history or saved profile pages

Everything here reads the data folder; only ``backfill`` writes to it, through
the guard, the lock and the atomic writes of ``crawler.storage.store``, as ``run`` does.
"""

# The file ``import-git`` reads from each commit unless told another; here so that the
# command's help names it without loading the backfill (git, every output writer).
DEFAULT_PATH = "gs_data.json"
