"""The bookmarklet that saves a complete Google Scholar profile page from the user's browser.

Google Scholar rarely blocks a person's own browser.  The script
(``crawler/assets/bookmarklet.js``) clicks "Show more" (``#gsc_bpf_more``)
until Scholar disables it, waiting for each batch of rows, then downloads the
page as HTML: what ``import-html`` reads.  An incomplete list is never saved.
"""

from __future__ import annotations

import re
from importlib import resources
from urllib.parse import quote

_COMMENT_RE = re.compile(r"/\*.*?\*/", re.DOTALL)
_LINE_COMMENT_RE = re.compile(r"^\s*//.*$", re.MULTILINE)
# What a javascript: URL may carry as it is; everything else is %-escaped.
_SAFE = "()[]{};,=+-*/!?:.'\"<>&|_$@~"


def source() -> str:
    return resources.files("crawler").joinpath("assets/bookmarklet.js").read_text(encoding="utf-8")


def bookmarklet() -> str:
    """``javascript:…`` on one line: comments dropped, lines joined, the rest %-escaped."""
    code = _LINE_COMMENT_RE.sub("", _COMMENT_RE.sub("", source()))
    code = " ".join(line.strip() for line in code.splitlines() if line.strip())
    return "javascript:" + quote(code, safe=_SAFE)
