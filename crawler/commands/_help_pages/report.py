"""`scholar-stats report --help`, as click prints it 78 wide: written by `python .ci/render-help`."""

LINES = (
    "Usage: scholar-stats report [OPTIONS]",
    "",
    "  Print a Markdown summary of what changed between two snapshots.",
    "",
    "  Totals, h-index and i10-index with their change, the publications that",
    "  gained the most citations, new and vanished publications, source changes,",
    "  and a warning when the last fetch failed.",
    "",
    "Options:",
    "  --data-dir DIRECTORY  Data folder (env SCHOLAR_STATS_DATA_DIR; default: the",
    "                        config's data_dir, else data).",
    "  --config FILE         Configuration file (env SCHOLAR_STATS_CONFIG; default:",
    "                        scholar-stats.toml when present), for its data_dir.",
    "  --author ID           Only this author (repeatable) [default: every author",
    "                        in the folder].",
    "  --since DATE          Compare the latest snapshot with the last one taken",
    "                        before DATE.",
    "  --last N              Compare the latest snapshot with the Nth one before it",
    "                        [default: 1, the previous one].  [x>=1]",
    "  -h, --help            Show this message and exit.",
)
