"""`scholar-stats plot --help`, as click prints it 78 wide: written by `python .ci/render-help`."""

LINES = (
    "Usage: scholar-stats plot [OPTIONS]",
    "",
    "  Draw total citations over time and the latest per-year histogram.",
    "",
    "  The top panel has one point per snapshot (a new line when the source",
    "  changes); the bottom one is Scholar's citations per year from the latest",
    "  snapshot.  Prints the file written.",
    "",
    "Options:",
    "  --data-dir DIRECTORY  Data folder (env SCHOLAR_STATS_DATA_DIR; default: the",
    "                        config's data_dir, else data).",
    "  --config FILE         Configuration file (env SCHOLAR_STATS_CONFIG; default:",
    "                        scholar-stats.toml when present), for its data_dir.",
    "  --author ID           Whose history (Scholar ID or profile URL); needed when",
    "                        the folder has several authors.",
    "  --out FILE            PNG or SVG file to write, by its extension [default:",
    "                        <ID>-citations.png].",
    "  -h, --help            Show this message and exit.",
)
