"""What a Scholar profile page is read into (``ProfilePage``) and the small readers both of
its layouts share, today's ``gsc_`` and the 2011-2014 ``cit-``: text and counts from cells,
the IDs a page names, links, and the stats table read by position.  Pure, no I/O.

Every reader that takes a number or an ID from a page checks it and raises ``ParseError``
for one it does not understand: a guess would reach the badges as if Scholar had said it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import parse_qs, unquote, urljoin, urlsplit

from selectolax.lexbor import LexborHTMLParser as HTMLParser
from selectolax.lexbor import LexborNode as Node

from crawler.errors import ParseError
from crawler.models import Metrics, Profile, Publication, check_scholar_pub_id, parse_count
from crawler.sources.captures import unarchive

_USER_RE = re.compile(r"^([A-Za-z0-9_-]{12}):")
YEAR_RE = re.compile(r"(1[89]\d\d|2\d\d\d)")
DOMAIN_RE = re.compile(r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,}")
# Bidi isolation marks Scholar wraps around names in titles.
_BIDI = dict.fromkeys(map(ord, "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"), None)
# Finding a mark is several times faster than str.translate, which rebuilds every non-ASCII
# text (a row's authors with an accent) even when there is no mark to drop.
_BIDI_RE = re.compile("[\u202a-\u202e\u2066-\u2069]")


@dataclass(frozen=True, slots=True)
class ProfilePage:
    """One page of a profile: the profile itself and one slice of its publications."""

    profile: Profile
    metrics: Metrics
    cites_per_year: tuple[tuple[int, int], ...]
    publications: tuple[Publication, ...]
    has_more: bool
    """Whether the "Show more" button is enabled: more publications follow this page."""
    range_text: str | None = None
    named_ids: frozenset[str] = frozenset()
    """Every profile ID the page itself names (canonical link, form, row links);
    ``profile.scholar_id`` may come from the request URL when it names none."""
    repeated: tuple[str, ...] = ()
    """Publication IDs listed more than once on the page (each kept once)."""
    captured_at: datetime | None = None
    """When the page was captured, where the page itself says so: a Wayback Machine capture's
    time, else the time the SingleFile extension saved it."""
    notes: tuple[str, ...] = ()
    """What the page could not say, in words (e.g. a per-year chart that is only an image)."""


def _clean(text: str | None) -> str:
    if not text:
        return ""
    if not text.isascii() and _BIDI_RE.search(text):
        text = text.translate(_BIDI)
    # str.split() folds every Unicode space (NBSP included), like \s+ but faster.
    return " ".join(text.split())


def node_text(node: Node | None) -> str:
    """A node's text, spaces folded and Scholar's bidi marks dropped; "" for no node."""
    if node is None:
        return ""
    text = node.text(deep=True)
    # Plain ASCII (nearly every cell) has no bidi mark to drop: folded here, one call fewer.
    if text.isascii():
        return " ".join(text.split())
    return _clean(text)


def own_text(node: Node) -> str:
    """Text of ``node`` without its child elements (the owner's edit button sits inside the name)."""
    parts = []
    child = node.child
    while child is not None:
        if child.tag == "-text":
            parts.append(child.text_content or "")
        child = child.next
    return _clean("".join(parts))


def cell_count(text: str, what: str, url: str | None) -> int | None:
    """A count from a cell (``text`` already cleaned, so any space is " "); None when empty.

    Anything else than a count raises ``ParseError``: "-5" is not 5 and "1e9"
    is not 1, and a number guessed from a page that says something else would
    reach the badges as if Scholar had said it.
    """
    if not text:
        return None
    try:
        return parse_count(text)
    except ValueError:
        raise ParseError(
            f"{what} is {text[:40]!r}, not a count; the page is not understood", url=url
        ) from None


def query_value(url: str, key: str) -> str | None:
    """The first value of ``key`` in ``url``'s query; None when absent or the URL is malformed."""
    try:
        query = urlsplit(url).query
    except ValueError:
        # urllib refuses hrefs like "http://[" (a broken IPv6 host): the page says nothing there.
        return None
    values = parse_qs(query).get(key)
    return values[0] if values else None


# Row links are read for one parameter each, a hundred times a page: a regex is
# several times faster than urlsplit + parse_qs and sees the same value.
_PUB_ID_RE = re.compile(r"[?&](?:amp;)?citation_for_view=([^&#\s]+)")
CITES_RE = re.compile(r"[?&](?:amp;)?cites=([^&#\s]+)")


# What may follow the ID in a row's link: the end, or the next parameter (name=).
_AFTER_PUB_ID_RE = re.compile(r"(?:$|&(?:amp;)?[\w.-]+=)")
# A plain ID (SCHOLAR_PUB_ID_RE's shape) that ``_AFTER_PUB_ID_RE`` would accept the end of.
_PLAIN_PUB_ID_RE = re.compile(r"[A-Za-z0-9_-]{12}:[A-Za-z0-9_-]{1,64}(?:$|&(?:amp;)?[\w.-]+=)")


def checked_pub_id(href: str, url: str | None) -> str | None:
    """The row's ``citation_for_view``, whole and Scholar-shaped; ``ParseError`` for one that is
    not, or that a ``#`` or a bare ``&`` would cut (two papers would then become one)."""
    match = _PUB_ID_RE.search(href)
    if match is None:
        return None
    # Nearly every link carries the ID plain, then the end or the next parameter: that ID has
    # nothing to unquote and is already whole and Scholar-shaped, so no further check is needed.
    if _PLAIN_PUB_ID_RE.match(href, match.start(1)):
        return match.group(1)
    value = unquote(match.group(1))
    if not _AFTER_PUB_ID_RE.match(href, match.end()):
        value += href[match.end() : match.end() + 20]
    try:
        return check_scholar_pub_id(value)
    except ValueError as exc:
        raise ParseError(f"{exc}; the page is not understood", url=url) from None


def link_param(pattern: re.Pattern[str], url: str) -> str | None:
    """The parameter ``pattern`` finds in a link, unquoted; None when absent."""
    match = pattern.search(url)
    return unquote(match.group(1)) if match else None


def profile_ids_named(tree: HTMLParser, publications: tuple[Publication, ...]) -> frozenset[str]:
    """The profile IDs the page names itself: its canonical link, its form and
    the owner part (``USER:``) of every row's publication ID."""
    named = set()
    canonical = tree.css_first('link[rel="canonical"]')
    if canonical is not None:
        found = query_value(canonical.attributes.get("href") or "", "user")
        if found:
            named.add(found)
    form = tree.css_first('input[name="user"]')
    if form is not None and form.attributes.get("value"):
        named.add(form.attributes.get("value") or "")
    for pub in publications:
        match = _USER_RE.match(pub.author_pub_id)
        if match:
            named.add(match.group(1))
    return frozenset(named)


def page_scholar_id(tree: HTMLParser, url: str | None) -> str:
    """The profile's ID: its canonical link, its form, its first row's link (either layout),
    else the request URL's ``user=``."""
    for selector, attr in (('link[rel="canonical"]', "href"), ('input[name="user"]', "value")):
        node = tree.css_first(selector)
        value = node.attributes.get(attr) if node is not None else None
        if value:
            found = query_value(value, "user") if attr == "href" else value
            if found:
                return found
    row_link = tree.css_first("a.gsc_a_at") or tree.css_first("tr.cit-table.item td a")
    if row_link is not None:
        href = row_link.attributes.get("href") or ""
        if not href.startswith("http") and not href.startswith("/"):
            href = row_link.attributes.get("data-href") or ""
        view = query_value(href, "citation_for_view")
        if view and ":" in view:
            return view.split(":", 1)[0]
    return (query_value(url, "user") if url else None) or ""


def node_link(node: Node | None, base_url: str | None = None, *, capture: bool = False) -> str | None:
    """A node's ``href`` (or ``src``), absolute when ``base_url`` is given; in a capture,
    the original address the archive rewrote."""
    if node is None:
        return None
    value = node.attributes.get("href") or node.attributes.get("src")
    if not value:
        return None
    if capture:
        value = unarchive(value)
    if base_url is None:
        return value
    try:
        return urljoin(base_url, value)
    except ValueError:
        return None


_STAT_NAMES = ("citations", "h-index", "i10-index")


def stats_table(table: Node, number_cell: str, header_cells: list[Node], url: str | None) -> Metrics:
    """The stats table read by position: the first three rows of cells, all then since;
    the since-year from the third header cell.  Header rows hold no numbers: rows of
    ``<th>`` (before about 2018 they sat in the body, with no ``<thead>``) and the
    cit- layout's caption row."""
    rows = [
        row
        for row in table.css("tr")
        if row.css_first("td") is not None and "cit-headerrow" not in class_names(row)
    ]
    values: list[tuple[int | None, int | None]] = []
    for index, row in enumerate(rows[:3]):
        cells = row.css(number_cell)
        if len(cells) < 2:
            raise ParseError("the stats table has a row without two numbers; the markup changed", url=url)
        what = f"the stats table's {_STAT_NAMES[index]}"
        values.append(
            (
                cell_count(node_text(cells[0]), what, url),
                cell_count(node_text(cells[1]), f"{what} (since)", url),
            )
        )
    if len(values) < 3:
        raise ParseError(f"the stats table has {len(values)} rows, expected 3; the markup changed", url=url)
    since_year = None
    if len(header_cells) >= 3:
        match = YEAR_RE.search(node_text(header_cells[2]))
        since_year = int(match.group(1)) if match else None
    (c_all, c_since), (h_all, h_since), (i_all, i_since) = values
    return Metrics(c_all, c_since, h_all, h_since, i_all, i_since, since_year)


# HTML separates classes by ASCII whitespace only (a no-break space is part of a name).
_CLASS_SEP_RE = re.compile(r"[ \t\n\r\f]+")


def class_names(node: Node) -> list[str]:
    """A node's classes, split as HTML splits them."""
    value = node.attributes.get("class") or ""
    # Nearly every class attribute is printable ASCII with single spaces: then the one
    # separator is " ", and str.split(" ") gives what the regular expression gives, faster.
    if value.isascii() and value.isprintable() and "  " not in value:
        return value.split(" ")
    return _CLASS_SEP_RE.split(value)
