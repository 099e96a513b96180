"""Google Scholar profile pages: bytes in, ``ProfilePage`` out (pure, no I/O).

The parser reads structure, never words: the stats table is read by position
(citations, h-index, i10-index; all, since), so ``hl=fr`` or ``hl=pt-PT`` pages
give the same numbers as ``hl=en``.  A page that is not a profile is told apart
before anything is read, each kind with its own error:

* Scholar's CAPTCHA page, Google's ``/sorry/`` page, the Google sign-in page
  (its title looks like a profile's)  -> ``Blocked``
* an empty or cut-off body                                              -> ``TruncatedPage``
* any other page without a profile                                      -> ``NotAProfile``
* a profile page whose markup changed (no stats table)                  -> ``ParseError``

Every layout Scholar has served since profiles began (2011) is read, so that
pages saved years ago backfill the history exactly (docs/history.md lists them):

* ``gsc_`` ids (2014 onwards): the stats table with or without ``<thead>``
  (before about 2018 its first row held the ``<th>`` headers), histogram bars
  placed by ``right:`` or ``left:`` and counted from the right by ``z-index``;
* ``cit-`` ids (2011-2014): ``#cit-name-display``, ``table#stats``, rows
  ``tr.cit-table.item``, a "Next >" link instead of "Show more", and the
  histogram as a Google Chart image whose address carries the bars in tenths
  of a percent of the tallest (read only when that is exact to one citation).

A Wayback Machine capture (served or saved from web.archive.org) is read as
the page it archived: the toolbar is dropped, rewritten links are followed to
the original address, and ``ProfilePage.captured_at`` is the capture's time
from its address (``/web/20150208123456/...``); for a page the SingleFile
extension saved, the time it wrote in its comment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import parse_qs, unquote, urljoin, urlsplit

from selectolax.lexbor import LexborHTMLParser as HTMLParser
from selectolax.lexbor import LexborNode as Node

from crawler.errors import Blocked, NotAProfile, ParseError, TruncatedPage
from crawler.models import (
    AuthorRecord,
    Metrics,
    Profile,
    Publication,
    check_scholar_pub_id,
    parse_count,
    repeated_note,
    unique_publications,
)
from crawler.sources.captures import TOOLBAR_RE, capture_time, ends_whole, is_archived, saved_date, unarchive

SCHOLAR_URL = "https://scholar.google.com/"

_CHARSET_RE = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_HEADER_CHARSET_RE = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9_.:-]+)", re.IGNORECASE)
_USER_RE = re.compile(r"^([A-Za-z0-9_-]{12}):")
_YEAR_RE = re.compile(r"(1[89]\d\d|2\d\d\d)")
# Bars and labels are placed from the right today, from the left until about 2017.
_PX_RE = re.compile(r"(left|right)\s*:\s*(-?\d+(?:\.\d+)?)px")
_Z_RE = re.compile(r"z-index\s*:\s*(\d+)")
_DOMAIN_RE = re.compile(r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,}")
# Bidi isolation marks Scholar wraps around names in titles.
_BIDI = dict.fromkeys(map(ord, "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"), None)


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


def whose(page: ProfilePage) -> str:
    """Whose page this is, in words: "is the profile of X", "mixes the profiles X, Y" or
    "names no profile".
    """
    named = sorted(page.named_ids)
    if not named:
        return "names no profile"
    if len(named) == 1:
        return f"is the profile of {named[0]}"
    return f"mixes the profiles {', '.join(named)}"


def page_to_record(
    page: ProfilePage,
    publications: tuple[Publication, ...] | None = None,
    *,
    complete: bool | None = None,
    source: str = "scholar",
) -> AuthorRecord:
    """A record from a page, with the publications of every page when given; dated when the
    page carries its own date (``captured_at``), else left for the caller to date."""
    return AuthorRecord(
        profile=page.profile,
        metrics=page.metrics,
        cites_per_year=page.cites_per_year,
        publications=page.publications if publications is None else publications,
        complete=(not page.has_more) if complete is None else complete,
        source=source,
        fetched_at=page.captured_at,
        notes=(*page.notes, *repeated_note(page.repeated)),
    )


# -- decoding -----------------------------------------------------------------


def decode(body: bytes, content_type: str | None = None) -> str:
    """Text of ``body`` in its declared charset (header first, then <meta>), never failing."""
    candidates: list[str] = []
    if content_type:
        match = _HEADER_CHARSET_RE.search(content_type)
        if match:
            candidates.append(match.group(1))
    meta = _CHARSET_RE.search(body[:4096])
    if meta:
        candidates.append(meta.group(1).decode("ascii", "replace"))
    candidates.append("utf-8")
    for charset in candidates:
        try:
            return body.decode(charset, errors="replace")
        except (LookupError, UnicodeError):
            # Unknown names, and codecs that are not text or refuse "replace"
            # (a page declaring charset=idna or undefined): the next candidate.
            continue
    return body.decode("utf-8", errors="replace")  # pragma: no cover - utf-8 always exists


# -- small readers --------------------------------------------------------------


def _clean(text: str | None) -> str:
    if not text:
        return ""
    if not text.isascii():
        text = text.translate(_BIDI)
    # str.split() folds every Unicode space (NBSP included), like \s+ but faster.
    return " ".join(text.split())


def _text(node: Node | None) -> str:
    return _clean(node.text(deep=True)) if node is not None else ""


def _own_text(node: Node) -> str:
    """Text of ``node`` without its child elements (the owner's edit button sits inside the name)."""
    parts = []
    child = node.child
    while child is not None:
        if child.tag == "-text":
            parts.append(child.text_content or "")
        child = child.next
    return _clean("".join(parts))


def _count(text: str, what: str, url: str | None) -> int | None:
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


def _query_value(url: str, key: str) -> str | None:
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
_CITES_RE = re.compile(r"[?&](?:amp;)?cites=([^&#\s]+)")


# What may follow the ID in a row's link: the end, or the next parameter (name=).
_AFTER_PUB_ID_RE = re.compile(r"(?:$|&(?:amp;)?[\w.-]+=)")


def _pub_id(href: str, url: str | None) -> str | None:
    """The row's ``citation_for_view``, whole and Scholar-shaped; ``ParseError`` for one that is
    not, or that a ``#`` or a bare ``&`` would cut (two papers would then become one)."""
    match = _PUB_ID_RE.search(href)
    if match is None:
        return None
    value = unquote(match.group(1))
    if not _AFTER_PUB_ID_RE.match(href, match.end()):
        value += href[match.end() : match.end() + 20]
    try:
        return check_scholar_pub_id(value)
    except ValueError as exc:
        raise ParseError(f"{exc}; the page is not understood", url=url) from None


def _param(pattern: re.Pattern[str], url: str) -> str | None:
    match = pattern.search(url)
    return unquote(match.group(1)) if match else None


# -- block and non-profile pages -------------------------------------------------


def _classify_non_profile(text: str, tree: HTMLParser, url: str | None) -> Exception:
    lowered = text.lower()
    if "gs_captcha_f" in text or "gsc_captcha_ccl" in text or "recaptcha/api.js" in lowered:
        return Blocked(
            'Google Scholar answered with its CAPTCHA page ("please show you\'re not a robot")',
            kind="captcha",
            url=url,
        )
    if "unusual traffic" in lowered or (url is not None and "/sorry/" in url):
        return Blocked("Google answered with its /sorry/ page (unusual traffic)", kind="sorry", url=url)
    base = tree.css_first("base")
    base_href = (base.attributes.get("href") or "") if base is not None else ""
    if "accounts.google.com" in base_href or "ServiceLogin" in text or "signin/identifier" in text:
        return Blocked(
            "Google answered with its sign-in page instead of the profile "
            "(Scholar does this when it throttles a client, and for some unknown IDs)",
            kind="sign-in",
            url=url,
        )
    title = _text(tree.css_first("title"))
    return NotAProfile(f"not a Google Scholar profile page (title {title[:80]!r})", url=url)


# -- the profile parts -----------------------------------------------------------


def _named_ids(tree: HTMLParser, publications: tuple[Publication, ...]) -> frozenset[str]:
    """The profile IDs the page names itself: its canonical link, its form and
    the owner part (``USER:``) of every row's publication ID."""
    named = set()
    canonical = tree.css_first('link[rel="canonical"]')
    if canonical is not None:
        found = _query_value(canonical.attributes.get("href") or "", "user")
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


def _scholar_id(tree: HTMLParser, url: str | None) -> str:
    for selector, attr in (('link[rel="canonical"]', "href"), ('input[name="user"]', "value")):
        node = tree.css_first(selector)
        value = node.attributes.get(attr) if node is not None else None
        if value:
            found = _query_value(value, "user") if attr == "href" else value
            if found:
                return found
    row_link = tree.css_first("a.gsc_a_at") or tree.css_first("tr.cit-table.item td a")
    if row_link is not None:
        href = row_link.attributes.get("href") or ""
        if not href.startswith("http") and not href.startswith("/"):
            href = row_link.attributes.get("data-href") or ""
        view = _query_value(href, "citation_for_view")
        if view and ":" in view:
            return view.split(":", 1)[0]
    return (_query_value(url, "user") if url else None) or ""


def _link(node: Node | None, base_url: str | None = None, *, capture: bool = False) -> str | None:
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


def _is_label_link(node: Node) -> bool:
    return "label:" in (node.attributes.get("href") or "")


def _profile(tree: HTMLParser, name_node: Node, base_url: str, url: str | None, capture: bool) -> Profile:
    affiliation = None
    email_domain = None
    homepage = None
    for node in tree.css("#gsc_prf_i .gsc_prf_il"):
        node_id = node.attributes.get("id")
        links = node.css("a")
        if node_id is None and affiliation is None:
            # Until about 2017 the interests were a second line of label links, not #gsc_prf_int.
            if not links or not all(_is_label_link(a) for a in links):
                affiliation = _text(node) or None
        elif node_id == "gsc_prf_ivh":
            # "Verified email at dc.gov - Homepage", in the page's language: take the
            # domain from the text before the homepage link, whatever the words around it.
            homepage = _link(node.css_first("a"), capture=capture)
            domains = _DOMAIN_RE.findall(_own_text(node))
            email_domain = domains[-1] if domains else None
    interest_links = tree.css("#gsc_prf_int a") or [
        a for a in tree.css("#gsc_prf_i a.gsc_prf_ila") if _is_label_link(a)
    ]
    interests = tuple(t for t in (_text(a) for a in interest_links) if t)
    picture = tree.css_first("#gsc_prf_pup-img") or tree.css_first("img#gsc_prf_pup")
    return Profile(
        scholar_id=_scholar_id(tree, url),
        name=_own_text(name_node) or _text(name_node),
        affiliation=affiliation,
        interests=interests,
        email_domain=email_domain,
        homepage=homepage,
        picture_url=_link(picture, base_url, capture=capture),
    )


_STAT_NAMES = ("citations", "h-index", "i10-index")


def _stats(table: Node, number_cell: str, header_cells: list[Node], url: str | None) -> Metrics:
    """The stats table read by position: the first three rows of cells, all then since;
    the since-year from the third header cell.  Header rows hold no numbers: rows of
    ``<th>`` (before about 2018 they sat in the body, with no ``<thead>``) and the
    cit- layout's caption row."""
    rows = [
        row
        for row in table.css("tr")
        if row.css_first("td") is not None and "cit-headerrow" not in _classes(row)
    ]
    values: list[tuple[int | None, int | None]] = []
    for index, row in enumerate(rows[:3]):
        cells = row.css(number_cell)
        if len(cells) < 2:
            raise ParseError("the stats table has a row without two numbers; the markup changed", url=url)
        what = f"the stats table's {_STAT_NAMES[index]}"
        values.append((_count(_text(cells[0]), what, url), _count(_text(cells[1]), f"{what} (since)", url)))
    if len(values) < 3:
        raise ParseError(f"the stats table has {len(values)} rows, expected 3; the markup changed", url=url)
    since_year = None
    if len(header_cells) >= 3:
        match = _YEAR_RE.search(_text(header_cells[2]))
        since_year = int(match.group(1)) if match else None
    (c_all, c_since), (h_all, h_since), (i_all, i_since) = values
    return Metrics(c_all, c_since, h_all, h_since, i_all, i_since, since_year)


def _metrics(table: Node, url: str | None) -> Metrics:
    header_row = next((row for row in table.css("tr") if row.css_first("th") is not None), None)
    headers = header_row.css("th") if header_row is not None else []
    return _stats(table, "td.gsc_rsb_std", headers, url)


def _style_number(style: str, pattern: re.Pattern[str]) -> float | None:
    match = pattern.search(style)
    return float(match.group(1)) if match else None


def _position(style: str) -> tuple[str, float] | None:
    match = _PX_RE.search(style)
    return (match.group(1), float(match.group(2))) if match else None


def _cites_per_year(tree: HTMLParser, url: str | None) -> tuple[tuple[int, int], ...]:
    """Bars mapped to years by position: years with zero citations have no bar,
    so zipping labels with bars would shift every count after a gap."""
    labels: list[tuple[tuple[str, float] | None, int]] = []
    for node in tree.css(".gsc_g_t"):
        match = _YEAR_RE.search(_text(node))
        if match:
            labels.append((_position(node.attributes.get("style") or ""), int(match.group(1))))
    if not labels:
        return ()
    counts = {year: 0 for _, year in labels}
    for bar in tree.css(".gsc_g_a"):
        style = bar.attributes.get("style") or ""
        value = _count(_text(bar.css_first(".gsc_g_al") or bar), "a bar of the citations-per-year chart", url)
        if value is None:
            continue
        year = None
        z = _style_number(style, _Z_RE)
        if z is not None and 1 <= z <= len(labels):
            # z-index counts from the right: the rightmost (latest) bar is 1.
            year = labels[len(labels) - int(z)][1]
        else:
            here = _position(style)
            placed = (
                [
                    (abs(where[1] - here[1]), y)
                    for where, y in labels
                    if where is not None and where[0] == here[0]
                ]
                if here is not None
                else []
            )
            if placed:
                year = min(placed)[1]
        if year is not None:
            counts[year] = value
    return tuple(sorted(counts.items()))


_ROW_PARTS = ", ".join(
    (
        "tr.gsc_a_tr",
        *(f"tr.gsc_a_tr {part}" for part in ("a.gsc_a_at", "div.gs_gray", "a.gsc_a_ac", "span.gsc_a_h")),
    )
)
# HTML separates classes by ASCII whitespace only (a no-break space is part of a name).
_CLASS_SEP_RE = re.compile(r"[ \t\n\r\f]+")


@dataclass(slots=True)
class _Row:
    link: Node | None = None
    grays: list[Node] | None = None
    cell: Node | None = None
    """The first citation count that is not a struck-through duplicate's."""
    year: Node | None = None


def _classes(node: Node) -> list[str]:
    return _CLASS_SEP_RE.split(node.attributes.get("class") or "")


def _rows(tree: HTMLParser) -> list[_Row]:
    rows: list[_Row] = []
    row = _Row()
    for node in tree.css(_ROW_PARTS):
        tag = node.tag
        if tag == "tr":
            row = _Row()
            rows.append(row)
        elif tag == "a":
            classes = _classes(node)
            if row.link is None and "gsc_a_at" in classes:
                row.link = node
            # A struck-through count Scholar shows next to a merged duplicate is not the paper's.
            if row.cell is None and "gsc_a_ac" in classes and "gsc_a_acm" not in classes:
                row.cell = node
        elif tag == "div":
            if row.grays is None:
                row.grays = []
            row.grays.append(node)
        elif tag == "span" and row.year is None:
            row.year = node
    return rows


def _publication(row: _Row, url: str | None) -> Publication | None:
    link = row.link
    if link is None:
        return None
    attributes = link.attributes
    href = attributes.get("href") or ""
    if not href or href.startswith("javascript"):
        href = attributes.get("data-href") or ""
    author_pub_id = _pub_id(href, url)
    if not author_pub_id:
        return None
    grays = row.grays or ()
    citations = 0
    cites_id = None
    if row.cell is not None:
        citations = _count(_text(row.cell), f"the citation count of {author_pub_id}", url) or 0
        cites_id = _param(_CITES_RE, row.cell.attributes.get("href") or "") if citations else None
    year_match = _YEAR_RE.search(_text(row.year))
    return Publication(
        author_pub_id=author_pub_id,
        title=_text(link),
        authors=_text(grays[0]) or None if grays else None,
        venue=_text(grays[1]) or None if len(grays) > 1 else None,
        year=int(year_match.group(1)) if year_match else None,
        citations=citations,
        cites_id=cites_id,
    )


# -- the cit- layout (2011-2014) -------------------------------------------------

_CHART_DATA_RE = re.compile(r"^t:(-?\d+(?:\.\d+)?(?:,-?\d+(?:\.\d+)?)*)$")


def chart_cites_per_year(src: str) -> tuple[tuple[int, int], ...] | None:
    """Citations per year from the Google Chart address the 2011-2014 layout drew its
    histogram with, or None when the address does not give them exactly.

    The chart carries each bar as a percentage of the tallest with one or two
    decimals (``chd=t:1.5,8.0,...,100.0``), the tallest bar's count as the
    axis range (``chxr=1,0,537,537``) and a label every few years
    (``chxl=0:|2005|||2008``).  A count is taken only when exactly one whole
    number of citations gives that percentage: above a thousand citations a
    year one tenth of a percent spans several, and a guess is not a count.
    """
    query = unarchive(src).split("?", 1)[-1]
    params = parse_qs(query.replace("&amp;", "&"))
    data = _CHART_DATA_RE.match((params.get("chd") or [""])[0])
    axis = (params.get("chxr") or [""])[0].split(",")
    labels_param = (params.get("chxl") or [""])[0]
    if not data or len(axis) < 3 or not labels_param.startswith("0:|"):
        return None
    try:
        tallest = int(float(axis[2]))
    except ValueError:
        return None
    shares = data.group(1).split(",")
    if tallest <= 0 or not any(float(share) == 100 for share in shares):
        return None
    labels = labels_param[3:].split("|")[: len(shares)]
    first = None
    for index, label in enumerate(labels):
        if label:
            if not label.isdigit():
                return None
            if first is None:
                first = int(label) - index
            elif int(label) != first + index:
                return None
    if first is None:
        return None
    counts = []
    for index, share in enumerate(shares):
        value = float(share)
        # Half a step of the printed precision, and a hair for the float arithmetic.
        tolerance = 10 ** -(len(share.split(".")[1]) if "." in share else 0) / 2 + 1e-9
        near = round(value * tallest / 100)
        fits = [
            c for c in range(near - 2, near + 3) if c >= 0 and abs(c * 100 / tallest - value) <= tolerance
        ]
        if len(fits) != 1:
            return None
        counts.append((first + index, fits[0]))
    return tuple(counts)


def _cit_profile(tree: HTMLParser, name_node: Node, base_url: str, url: str | None, capture: bool) -> Profile:
    domain_line = _text(tree.css_first("#cit-domain-display"))
    domains = _DOMAIN_RE.findall(domain_line)
    picture = tree.css_first(".cit-user-info img")
    picture_url = _link(picture, base_url, capture=capture)
    return Profile(
        scholar_id=_scholar_id(tree, url),
        name=_own_text(name_node) or _text(name_node),
        affiliation=_text(tree.css_first("#cit-affiliation-display")) or None,
        interests=tuple(t for t in (_text(a) for a in tree.css("#cit-int-read a")) if t),
        email_domain=domains[-1] if domains else None,
        homepage=_link(tree.css_first("#cit-homepage-read a"), capture=capture),
        # A saved page points at its own copy of the photo: only Scholar's address is one.
        picture_url=picture_url if picture_url and "view_photo" in picture_url else None,
    )


def _cit_metrics(table: Node, url: str | None) -> Metrics:
    header_row = table.css_first("tr.cit-headerrow")
    headers = header_row.css("td") if header_row is not None else []
    return _stats(table, "td.cit-data", headers, url)


def _cit_publication(row: Node, url: str | None) -> Publication | None:
    link = row.css_first("td#col-title a")
    author_pub_id = _param(_PUB_ID_RE, link.attributes.get("href") or "") if link is not None else None
    if link is None or not author_pub_id:
        return None
    grays = row.css("span.cit-gray")
    cell = row.css_first("td#col-citedby a")
    citations = 0
    cites_id = None
    if cell is not None:
        citations = _count(_text(cell), f"the citation count of {author_pub_id}", url) or 0
        cites_id = _param(_CITES_RE, cell.attributes.get("href") or "") if citations else None
    year_match = _YEAR_RE.search(_text(row.css_first("td#col-year")))
    return Publication(
        author_pub_id=author_pub_id,
        title=_text(link),
        authors=_text(grays[0]) or None if grays else None,
        venue=_text(grays[1]) or None if len(grays) > 1 else None,
        year=int(year_match.group(1)) if year_match else None,
        citations=citations,
        cites_id=cites_id,
    )


_RANGE_RE = re.compile(r"^(\d+)\s*[-\u2013]\s*(\d+)$")


def _cit_paging(tree: HTMLParser) -> tuple[str | None, bool]:
    """The range shown ("1-20") and whether a link pages on past it: this layout had
    "< Prev" and "Next >" links (``cstart=``) beside a "Show: 20/100" menu where
    today's has "Show more"."""
    for menu in tree.css("select"):
        box = menu.parent
        if box is None:
            continue
        shown = next((m for m in (_RANGE_RE.match(_text(s)) for s in box.css("span")) if m), None)
        if shown is None:
            continue
        shown_to = int(shown.group(2))
        starts = [
            _query_value(unarchive(a.attributes.get("href") or ""), "cstart") for a in box.css("a[href]")
        ]
        return shown.group(0), any(s is not None and s.isdigit() and int(s) >= shown_to for s in starts)
    # No pager: the links alone say whether another page follows.
    starts = [_query_value(unarchive(a.attributes.get("href") or ""), "cstart") for a in tree.css("a[href]")]
    return None, any(s is not None and s.isdigit() and int(s) > 0 for s in starts)


_CIT_CHART_MISSING = (
    "the page's layout (2011-2014) drew citations per year as a chart image the page "
    "does not describe; no per-year counts were read"
)
_CIT_CHART_COARSE = (
    "the page's per-year chart (2011-2014 layout) gives each year as a share of the tallest "
    "bar, too coarse here to be an exact count; no per-year counts were read"
)


def _parse_cit(
    tree: HTMLParser,
    name_node: Node,
    base_url: str,
    url: str | None,
    captured_at: datetime | None,
    capture: bool,
) -> ProfilePage:
    table = tree.css_first("table#stats")
    if table is None:
        raise ParseError("a profile page without its stats table (#stats); the markup changed", url=url)
    rows = [
        pub
        for pub in (_cit_publication(row, url) for row in tree.css("tr.cit-table.item"))
        if pub is not None
    ]
    publications, repeated = unique_publications(rows)
    range_text, has_more = _cit_paging(tree)
    chart = tree.css_first('img[src*="chd="]')
    cites_per_year = chart_cites_per_year(chart.attributes.get("src") or "") if chart is not None else None
    notes: tuple[str, ...] = ()
    if cites_per_year is None:
        notes = (_CIT_CHART_COARSE if chart is not None else _CIT_CHART_MISSING,)
    return ProfilePage(
        profile=_cit_profile(tree, name_node, base_url, url, capture),
        metrics=_cit_metrics(table, url),
        cites_per_year=cites_per_year or (),
        publications=publications,
        has_more=has_more,
        range_text=range_text,
        named_ids=_named_ids(tree, publications),
        repeated=repeated,
        captured_at=captured_at,
        notes=notes,
    )


# -- the entry point -------------------------------------------------------------


def parse_profile(body: bytes, *, content_type: str | None = None, url: str | None = None) -> ProfilePage:
    """Read one profile page, or raise the typed error that says what the page was."""
    if not body or not body.strip():
        raise TruncatedPage("empty response body", url=url)
    text = decode(body, content_type)
    archived = is_archived(text)
    if archived and "WAYBACK TOOLBAR" in text:
        # The archive's toolbar links to other captures and carries a form of its own.
        text = TOOLBAR_RE.sub("", text)
    tree = HTMLParser(text)
    name_node = tree.css_first("#gsc_prf_in")
    old_name = tree.css_first("#cit-name-display") if name_node is None else None
    truncated = not ends_whole(text)
    if name_node is None and old_name is None:
        if truncated and "gsc_" in text:
            raise TruncatedPage(f"the page ends early ({len(body)} bytes, no </html>)", url=url)
        raise _classify_non_profile(text, tree, url)
    if truncated:
        raise TruncatedPage(f"the profile page ends early ({len(body)} bytes, no </html>)", url=url)
    captured_at = capture_time(text, tree) if archived else None
    # Links of an archived page lead through the archive; those of any other page are as they are.
    capture = captured_at is not None
    captured_at = captured_at or saved_date(text)
    base_url = url or SCHOLAR_URL
    if old_name is not None:
        return _parse_cit(tree, old_name, base_url, url, captured_at, capture)
    assert name_node is not None
    table = tree.css_first("#gsc_rsb_st")
    if table is None:
        raise ParseError("a profile page without its stats table (#gsc_rsb_st); the markup changed", url=url)
    profile = _profile(tree, name_node, base_url, url, capture)
    rows = [pub for pub in (_publication(row, url) for row in _rows(tree)) if pub is not None]
    publications, repeated = unique_publications(rows)
    range_node = tree.css_first("#gsc_a_nn")
    return ProfilePage(
        profile=profile,
        metrics=_metrics(table, url),
        cites_per_year=_cites_per_year(tree, url),
        publications=publications,
        has_more=_has_more(tree),
        range_text=_text(range_node) or None if range_node is not None else None,
        named_ids=_named_ids(tree, publications),
        repeated=repeated,
        captured_at=captured_at,
    )


def _has_more(tree: HTMLParser) -> bool:
    """Whether "Show more" or "Next" is enabled: Scholar disables "Show more" at 1000 rows
    while "Next" still pages on, and pages before about 2018 may have only "Next"."""
    for selector in ("#gsc_bpf_more", "#gsc_bpf_next"):
        button = tree.css_first(selector)
        if button is not None and "disabled" not in button.attributes:
            return True
    return False
