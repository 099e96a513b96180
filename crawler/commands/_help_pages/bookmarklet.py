"""`scholar-stats bookmarklet --help`, as click prints it 78 wide: written by `python .ci/render-help`."""

LINES = (
    "Usage: scholar-stats bookmarklet [OPTIONS]",
    "",
    "  Print a bookmarklet that saves your complete Scholar profile page for",
    "  import-html.",
    "",
    "  Add it as a bookmark, open your Google Scholar profile, click the bookmark:",
    '  it clicks "Show more" until the list is complete, then downloads the page,',
    "  which `scholar-stats import-html FILE --author ID` turns into a snapshot.",
    "",
    "Options:",
    "  --source    Print the readable JavaScript instead of the javascript: link.",
    "  -h, --help  Show this message and exit.",
)
