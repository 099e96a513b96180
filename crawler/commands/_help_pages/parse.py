"""`scholar-stats parse --help`, as click prints it 78 wide: written by `python .ci/render-help`."""

LINES = (
    "Usage: scholar-stats parse [OPTIONS] FILE",
    "",
    "  Parse a profile page saved from a browser and print it.",
    "",
    "  Only the publications on that page are included; the record says whether the",
    '  page held them all ("complete").  Use - to read standard input.',
    "",
    "Options:",
    "  --format [json|gs-data]  json: our record; gs-data: AcadHomepage's author",
    "                           object.  [default: json]",
    "  -h, --help               Show this message and exit.",
)
