"""The profile page Scholar served from 2011 to 2014 (``cit-`` ids): ``#cit-name-display``,
``table#stats``, rows ``tr.cit-table.item``, a "Next >" link instead of "Show more", and the
histogram as a Google Chart image whose address carries the bars in tenths of a percent of
the tallest (read only when that is exact to one citation).  Pure, no I/O;
``scholar_page.parse_profile`` tells the layouts apart and calls ``parse_cit_page``.
"""

from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import parse_qs

from selectolax.lexbor import LexborHTMLParser as HTMLParser
from selectolax.lexbor import LexborNode as Node

from crawler.errors import ParseError
from crawler.models import Metrics, Profile, Publication, unique_publications
from crawler.sources.captures import unarchive
from crawler.sources.scholar_page_readers import (
    CITES_RE,
    DOMAIN_RE,
    YEAR_RE,
    ProfilePage,
    cell_count,
    checked_pub_id,
    link_param,
    node_link,
    node_text,
    own_text,
    page_scholar_id,
    profile_ids_named,
    query_value,
    stats_table,
)

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
    domain_line = node_text(tree.css_first("#cit-domain-display"))
    domains = DOMAIN_RE.findall(domain_line)
    picture = tree.css_first(".cit-user-info img")
    picture_url = node_link(picture, base_url, capture=capture)
    return Profile(
        scholar_id=page_scholar_id(tree, url),
        name=own_text(name_node) or node_text(name_node),
        affiliation=node_text(tree.css_first("#cit-affiliation-display")) or None,
        interests=tuple(t for t in (node_text(a) for a in tree.css("#cit-int-read a")) if t),
        email_domain=domains[-1] if domains else None,
        homepage=node_link(tree.css_first("#cit-homepage-read a"), capture=capture),
        # A saved page points at its own copy of the photo: only Scholar's address is one.
        picture_url=picture_url if picture_url and "view_photo" in picture_url else None,
    )


def _cit_metrics(table: Node, url: str | None) -> Metrics:
    header_row = table.css_first("tr.cit-headerrow")
    headers = header_row.css("td") if header_row is not None else []
    return stats_table(table, "td.cit-data", headers, url)


def _cit_publication(row: Node, url: str | None) -> Publication | None:
    link = row.css_first("td#col-title a")
    # Checked as today's rows are: a malformed or cut ID is refused, never stored.
    author_pub_id = checked_pub_id(link.attributes.get("href") or "", url) if link is not None else None
    if link is None or not author_pub_id:
        return None
    grays = row.css("span.cit-gray")
    cell = row.css_first("td#col-citedby a")
    citations = 0
    cites_id = None
    if cell is not None:
        citations = cell_count(node_text(cell), f"the citation count of {author_pub_id}", url) or 0
        cites_id = link_param(CITES_RE, cell.attributes.get("href") or "") if citations else None
    year_match = YEAR_RE.search(node_text(row.css_first("td#col-year")))
    return Publication(
        author_pub_id=author_pub_id,
        title=node_text(link),
        authors=node_text(grays[0]) or None if grays else None,
        venue=node_text(grays[1]) or None if len(grays) > 1 else None,
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
        shown = next((m for m in (_RANGE_RE.match(node_text(s)) for s in box.css("span")) if m), None)
        if shown is None:
            continue
        shown_to = int(shown.group(2))
        starts = [
            query_value(unarchive(a.attributes.get("href") or ""), "cstart") for a in box.css("a[href]")
        ]
        return shown.group(0), any(s is not None and s.isdigit() and int(s) >= shown_to for s in starts)
    # No pager: the links alone say whether another page follows.
    starts = [query_value(unarchive(a.attributes.get("href") or ""), "cstart") for a in tree.css("a[href]")]
    return None, any(s is not None and s.isdigit() and int(s) > 0 for s in starts)


_CIT_CHART_MISSING = (
    "the page's layout (2011-2014) drew citations per year as a chart image the page "
    "does not describe; no per-year counts were read"
)
_CIT_CHART_COARSE = (
    "the page's per-year chart (2011-2014 layout) gives each year as a share of the tallest "
    "bar, too coarse here to be an exact count; no per-year counts were read"
)


def parse_cit_page(
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
        named_ids=profile_ids_named(tree, publications),
        repeated=repeated,
        captured_at=captured_at,
        notes=notes,
    )
