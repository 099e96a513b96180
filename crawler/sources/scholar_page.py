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
  of a percent of the tallest (read only when that is exact to one citation);
  read by ``scholar_cit_layout``.

This module tells the kinds of page apart and reads today's layout; what both
layouts share (``ProfilePage``, cells, counts, IDs, links, the stats table read
by position) is in ``scholar_page_readers``.

A Wayback Machine capture (served or saved from web.archive.org) is read as
the page it archived: the toolbar is dropped, rewritten links are followed to
the original address, and ``ProfilePage.captured_at`` is the capture's time
from its address (``/web/20150208123456/...``); for a page the SingleFile
extension saved, the time it wrote in its comment.
"""

from __future__ import annotations

import re

from selectolax.lexbor import LexborHTMLParser as HTMLParser
from selectolax.lexbor import LexborNode as Node

from crawler.errors import Blocked, NotAProfile, ParseError, TruncatedPage
from crawler.models import AuthorRecord, Metrics, Profile, Publication, repeated_note, unique_publications
from crawler.sources.captures import TOOLBAR_RE, capture_time, ends_whole, is_archived, saved_date
from crawler.sources.scholar_cit_layout import chart_cites_per_year, parse_cit_page
from crawler.sources.scholar_page_readers import (
    CITES_RE,
    DOMAIN_RE,
    YEAR_RE,
    ProfilePage,
    cell_count,
    checked_pub_id,
    class_names,
    link_param,
    node_link,
    node_text,
    own_text,
    page_scholar_id,
    profile_ids_named,
    stats_table,
)

__all__ = [
    "SCHOLAR_URL",
    "ProfilePage",
    "chart_cites_per_year",
    "decode",
    "page_to_record",
    "parse_profile",
    "whose",
]

SCHOLAR_URL = "https://scholar.google.com/"

_CHARSET_RE = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_HEADER_CHARSET_RE = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9_.:-]+)", re.IGNORECASE)
# Bars and labels are placed from the right today, from the left until about 2017.
_PX_RE = re.compile(r"(left|right)\s*:\s*(-?\d+(?:\.\d+)?)px")
_Z_RE = re.compile(r"z-index\s*:\s*(\d+)")


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
    title = node_text(tree.css_first("title"))
    return NotAProfile(f"not a Google Scholar profile page (title {title[:80]!r})", url=url)


# -- the profile parts -----------------------------------------------------------


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
                affiliation = node_text(node) or None
        elif node_id == "gsc_prf_ivh":
            # "Verified email at dc.gov - Homepage", in the page's language: take the
            # domain from the text before the homepage link, whatever the words around it.
            homepage = node_link(node.css_first("a"), capture=capture)
            domains = DOMAIN_RE.findall(own_text(node))
            email_domain = domains[-1] if domains else None
    interest_links = tree.css("#gsc_prf_int a") or [
        a for a in tree.css("#gsc_prf_i a.gsc_prf_ila") if _is_label_link(a)
    ]
    interests = tuple(t for t in (node_text(a) for a in interest_links) if t)
    picture = tree.css_first("#gsc_prf_pup-img") or tree.css_first("img#gsc_prf_pup")
    return Profile(
        scholar_id=page_scholar_id(tree, url),
        name=own_text(name_node) or node_text(name_node),
        affiliation=affiliation,
        interests=interests,
        email_domain=email_domain,
        homepage=homepage,
        picture_url=node_link(picture, base_url, capture=capture),
    )


def _metrics(table: Node, url: str | None) -> Metrics:
    header_row = next((row for row in table.css("tr") if row.css_first("th") is not None), None)
    headers = header_row.css("th") if header_row is not None else []
    return stats_table(table, "td.gsc_rsb_std", headers, url)


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
        match = YEAR_RE.search(node_text(node))
        if match:
            labels.append((_position(node.attributes.get("style") or ""), int(match.group(1))))
    if not labels:
        return ()
    counts = {year: 0 for _, year in labels}
    for bar in tree.css(".gsc_g_a"):
        style = bar.attributes.get("style") or ""
        value = cell_count(
            node_text(bar.css_first(".gsc_g_al") or bar), "a bar of the citations-per-year chart", url
        )
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


def _publications(tree: HTMLParser, url: str | None) -> list[Publication]:
    """Every row's publication, in page order; rows without a paper's link are left out.

    One pass over the rows' parts, in document order, each part going to the row
    last opened: a page has a hundred rows and a lab's day 15,000, so each node's
    tag and classes are read once and each row is made into its publication as
    soon as the next one opens.
    """
    pubs: list[Publication] = []
    link: Node | None = None
    cell: Node | None = None
    year: Node | None = None
    grays: list[Node] = []
    in_row = False
    for node in tree.css(_ROW_PARTS):
        tag = node.tag
        if tag == "tr":
            if in_row and link is not None:
                pub = _publication(link, grays, cell, year, url)
                if pub is not None:
                    pubs.append(pub)
            in_row, link, cell, year, grays = True, None, None, None, []
        elif tag == "a":
            classes = class_names(node)
            if link is None and "gsc_a_at" in classes:
                link = node
            # A struck-through count Scholar shows next to a merged duplicate is not the paper's.
            if cell is None and "gsc_a_ac" in classes and "gsc_a_acm" not in classes:
                cell = node
        elif tag == "div":
            grays.append(node)
        elif tag == "span" and year is None:
            year = node
    if in_row and link is not None:
        pub = _publication(link, grays, cell, year, url)
        if pub is not None:
            pubs.append(pub)
    return pubs


def _publication(
    link: Node, grays: list[Node], cell: Node | None, year: Node | None, url: str | None
) -> Publication | None:
    """One row's publication: ``cell`` is its first citation count that is not a struck-through
    duplicate's; None for a row whose link names no paper."""
    attributes = link.attributes
    href = attributes.get("href") or ""
    if not href or href.startswith("javascript"):
        href = attributes.get("data-href") or ""
    author_pub_id = checked_pub_id(href, url)
    if not author_pub_id:
        return None
    citations = 0
    cites_id = None
    if cell is not None:
        citations = cell_count(node_text(cell), f"the citation count of {author_pub_id}", url) or 0
        cites_id = link_param(CITES_RE, cell.attributes.get("href") or "") if citations else None
    year_match = YEAR_RE.search(node_text(year))
    # By position (author_pub_id, title, authors, venue, year, citations, cites_id): a hundred
    # rows a page, and keywords cost a row more than the rest of its fields.
    return Publication(
        author_pub_id,
        node_text(link),
        node_text(grays[0]) or None if grays else None,
        node_text(grays[1]) or None if len(grays) > 1 else None,
        int(year_match.group(1)) if year_match else None,
        citations,
        cites_id,
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
        return parse_cit_page(tree, old_name, base_url, url, captured_at, capture)
    assert name_node is not None
    table = tree.css_first("#gsc_rsb_st")
    if table is None:
        raise ParseError("a profile page without its stats table (#gsc_rsb_st); the markup changed", url=url)
    profile = _profile(tree, name_node, base_url, url, capture)
    publications, repeated = unique_publications(_publications(tree, url))
    range_node = tree.css_first("#gsc_a_nn")
    return ProfilePage(
        profile=profile,
        metrics=_metrics(table, url),
        cites_per_year=_cites_per_year(tree, url),
        publications=publications,
        has_more=_has_more(tree),
        range_text=node_text(range_node) or None if range_node is not None else None,
        named_ids=profile_ids_named(tree, publications),
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
