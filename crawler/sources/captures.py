"""Pages that were saved rather than served: a Wayback Machine capture (its toolbar, its
rewritten links, the capture's time in its address), a page saved by a browser or by SingleFile
(the date it was saved), and whether a saved page ends whole.  Pure: text in, answers out."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime

from selectolax.lexbor import LexborHTMLParser as HTMLParser

# The playback script of every capture names the original address and the capture's time.
_WOMBAT_RE = re.compile(r"""__wm\.wombat\(\s*["'][^"']*["']\s*,\s*["'](\d{14})["']""")


_SAVED_FROM_RE = re.compile(r"<!--\s*saved from url=\(\d+\)(\S+?)\s*-->", re.IGNORECASE)


_ARCHIVED_RE = re.compile(r"^(?:https?://web\.archive\.org)?/web/(\d{14})(?:[a-z]{2}_)?/(.+)$")


_ARCHIVED_ON_RE = re.compile(
    r"FILE ARCHIVED ON (\d{1,2}:\d\d:\d\d [A-Z][a-z]{2} \d{1,2}, \d{4}) AND RETRIEVED"
)


TOOLBAR_RE = re.compile(
    r"<!--\s*BEGIN WAYBACK TOOLBAR INSERT\s*-->.*?<!--\s*END WAYBACK TOOLBAR INSERT\s*-->", re.DOTALL
)


def is_archived(text: str) -> bool:
    """Whether the page may come from the archive: its playback script and toolbar name
    web.archive.org, and it ends with a ``FILE ARCHIVED ON`` comment (one scan of the page)."""
    return "web.archive.org" in text or "FILE ARCHIVED ON" in text[-16384:]


def _timestamp(stamp: str) -> datetime | None:
    try:
        return datetime.strptime(stamp, "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    except ValueError:
        return None


def unarchive(href: str) -> str:
    """The original address behind a Wayback Machine link (``/web/<time>[im_]/<url>``)."""
    match = _ARCHIVED_RE.match(href)
    return match.group(2) if match else href


def capture_time(text: str, tree: HTMLParser) -> datetime | None:
    """When the Wayback Machine captured the page, from the capture's own address.

    In order: the playback script, the address a browser saved the page from,
    the rewritten canonical link, the time most of the page's own links carry
    (the toolbar, which links to the captures before and after, is gone by
    now), and the ``FILE ARCHIVED ON`` comment the archive appends.
    """
    match = _WOMBAT_RE.search(text)
    if match:
        return _timestamp(match.group(1))
    saved = _SAVED_FROM_RE.search(text[:4096])
    archived = _ARCHIVED_RE.match(saved.group(1)) if saved else None
    if archived:
        return _timestamp(archived.group(1))
    canonical = tree.css_first('link[rel="canonical"]')
    archived = _ARCHIVED_RE.match(canonical.attributes.get("href") or "") if canonical is not None else None
    if archived:
        return _timestamp(archived.group(1))
    # Only links to Scholar count: a live page may link to an archived homepage.
    stamps = Counter(
        found.group(1)
        for found in (_ARCHIVED_RE.match(a.attributes.get("href") or "") for a in tree.css("a[href]"))
        if found and "scholar.google." in found.group(2)
    )
    stamp, seen = stamps.most_common(1)[0] if stamps else ("", 0)
    if seen >= 2:
        return _timestamp(stamp)
    match = _ARCHIVED_ON_RE.search(text)
    if match:
        try:
            return datetime.strptime(match.group(1), "%H:%M:%S %b %d, %Y").replace(tzinfo=UTC)
        except ValueError:
            return None
    return None


# The SingleFile extension puts a comment first in <html>: the address, and the time it
# saved the page as JavaScript prints a date ("Fri Nov 14 2025 07:30:05 GMT+0100 (...)").
_SINGLEFILE_RE = re.compile(
    r"<!--\s*(?:Page saved with|Archive processed by) SingleFile\s+url:[^\n]*\n\s*saved date: "
    r"[A-Z][a-z]{2} ([A-Z][a-z]{2} \d{1,2} \d{4} \d\d:\d\d:\d\d) GMT([+-]\d{4})"
)


def saved_date(text: str) -> datetime | None:
    """When the SingleFile extension saved the page, from the comment it writes first."""
    head = text[:8192]
    match = _SINGLEFILE_RE.search(head) if "SingleFile" in head else None
    if match is None:
        return None
    try:
        saved = datetime.strptime(f"{match.group(1)} {match.group(2)}", "%b %d %Y %H:%M:%S %z")
    except ValueError:
        return None
    return saved.astimezone(UTC)


def ends_whole(text: str) -> bool:
    """Whether the page reaches its ``</html>`` (comments after it, like the archive's, aside)."""
    tail = text[-65536:].rstrip()
    while tail.endswith("-->"):
        start = tail.rfind("<!--")
        if start < 0:
            break
        tail = tail[:start].rstrip()
    return "</html>" in tail[-4096:].lower()
