"""What `scholar-stats --help` and each `scholar-stats COMMAND --help` print in a terminal of 80
columns or more, as click renders them: one module per page, its ``LINES``; printed by
``crawler.__main__`` where click would print the same bytes.  Written by
`python .ci/render-help`, never by hand; tests/test_cli_help.py holds each equal to click's.
"""

# The spellings of --help.
HELP_OPTIONS = ("-h", "--help")
# The command ("" for the group) -> the module of this package holding its page.
PAGES = {
    "": "_group",
    "bookmarklet": "bookmarklet",
    "doctor": "doctor",
    "embed": "embed",
    "export": "export",
    "fetch": "fetch",
    "import-git": "import_git",
    "import-html": "import_html",
    "init": "init",
    "match": "match",
    "merge": "merge",
    "parse": "parse",
    "plot": "plot",
    "publish": "publish",
    "report": "report",
    "run": "run",
    "schedule": "schedule",
    "site": "site",
}
