"""The parser against real saved Scholar pages and the values a correct parser extracts."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from selectolax.lexbor import LexborHTMLParser as HTMLParser

from crawler.errors import Blocked, NotAProfile, ParseError, TruncatedPage
from crawler.sources.scholar_page import decode, page_to_record, parse_profile
from crawler.sources.scholar_page_readers import checked_pub_id, node_text

FIXTURES = Path(__file__).parent / "fixtures" / "scholar"
EXPECTED = json.loads((FIXTURES / "expected.json").read_text(encoding="utf-8"))
PROFILE_PAGES = sorted(EXPECTED)
BLOCK_PAGES = {
    "captcha_scholar_profile_request.html": "captcha",
    "signin_page_invalid_user.html": "sign-in",
}


def page(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def struck_through_counts(body: bytes) -> int:
    """Sum of the struck-through duplicate counts (``gsc_a_acm``) on a page."""
    text = body.decode("latin-1")
    return sum(int(n) for n in re.findall(r'class="[^"]*gsc_a_acm[^"]*"[^>]*>(\d+)<', text))


@pytest.mark.parametrize("name", PROFILE_PAGES)
def test_profile_fields(name: str) -> None:
    expected = EXPECTED[name]
    result = parse_profile(page(name))
    assert result.profile.name == expected["name"]
    assert result.profile.affiliation == expected["affiliation"]
    assert list(result.profile.interests) == expected["interests"]
    # The verified-email line's domain, whatever the page's language.
    assert result.profile.email_domain is not None
    assert result.profile.email_domain in expected["verified_line"]


@pytest.mark.parametrize("name", PROFILE_PAGES)
def test_metrics(name: str) -> None:
    expected = EXPECTED[name]
    m = parse_profile(page(name)).metrics
    assert (m.citations, m.citations_since) == (expected["citedby"], expected["citedby_since"])
    assert (m.h_index, m.h_index_since) == (expected["hindex"], expected["hindex_since"])
    assert (m.i10_index, m.i10_index_since) == (expected["i10index"], expected["i10index_since"])
    assert m.since_year == expected["since_year"]


@pytest.mark.parametrize("name", PROFILE_PAGES)
def test_cites_per_year_by_position(name: str) -> None:
    expected = EXPECTED[name]
    result = parse_profile(page(name))
    assert {str(y): c for y, c in result.cites_per_year} == expected["cites_per_year"]


@pytest.mark.parametrize("name", PROFILE_PAGES)
def test_publications(name: str) -> None:
    expected = EXPECTED[name]
    result = parse_profile(page(name))
    pubs = result.publications
    assert len(pubs) == expected["n_publication_rows"]
    for got, want in zip(pubs[:3], expected["first3"], strict=True):
        assert got.title == want["title"]
        assert got.citations == want["num_citations"]
        assert got.year == want["year"]
        assert got.authors == want["authors"]
        assert got.venue == want["venue"]
    last = expected["last_row"]
    assert (pubs[-1].title, pubs[-1].citations, pubs[-1].year) == (
        last["title"],
        last["num_citations"],
        last["year"],
    )
    assert sum(1 for p in pubs if p.year is None) == expected["rows_with_empty_year"]
    # expected.json sums the raw cells, struck-through duplicates included; those
    # are not the paper's citations and must not be counted.
    struck = struck_through_counts(page(name))
    assert sum(p.citations or 0 for p in pubs) + struck == expected["sum_of_row_citations"]
    zero_rows = sum(1 for p in pubs if p.citations == 0)
    assert zero_rows == expected["rows_with_empty_citation_cell"] + (1 if struck else 0)
    assert result.has_more == (expected["show_more_button"] == "enabled")
    assert result.range_text == expected["articles_range_text"]
    assert len({p.author_pub_id for p in pubs}) == len(pubs)
    assert all(p.author_pub_id.startswith(result.profile.scholar_id + ":") for p in pubs)


def test_struck_through_duplicate_count_is_ignored() -> None:
    pubs = parse_profile(page("bohlooli_en_50rows.html")).publications
    row = pubs[24]
    assert row.title.startswith("Analytical characterization of cache replacement policy")
    assert row.citations == 0
    assert sum(p.citations or 0 for p in pubs) == EXPECTED["bohlooli_en_50rows.html"]["citedby"]


def test_language_does_not_change_the_numbers() -> None:
    fr = page_to_record(parse_profile(page("kietzig_fr_2019_pagesize2.html")))
    en = page_to_record(parse_profile(page("kietzig_en_2021_pagesize2.html")))
    assert fr.metrics == en.metrics
    assert fr.cites_per_year == en.cites_per_year
    assert [(p.author_pub_id, p.citations, p.year) for p in fr.publications] == [
        (p.author_pub_id, p.citations, p.year) for p in en.publications
    ]


def test_iso_8859_1_page_and_entities() -> None:
    body = page("bohlooli_en_50rows.html")
    assert b"charset=ISO-8859-1" in body
    pubs = parse_profile(body).publications
    assert any("\u2010" in p.title for p in pubs)  # &#8208; decodes to U+2010


def test_header_charset_wins_over_meta() -> None:
    body = '<meta charset="utf-8"><p>caf\xe9</p>'.encode("latin-1")
    assert "café" in decode(body, "text/html; charset=ISO-8859-1")
    assert "\ufffd" in decode(body, None)  # a stray byte is replaced, never fatal


def test_name_without_the_owner_edit_button() -> None:
    result = parse_profile(page("denner_pt-PT_176rows_browser-saved.html"))
    assert result.profile.name == "Carlos Denner dos Santos"
    assert result.profile.scholar_id == "AoKJ_g4AAAAJ"


def test_title_with_inline_markup() -> None:
    body = page("cherukuri_en_20rows_showmore.html").decode("utf-8")
    first = "Optimization of Data Structures and Trade-Offs"
    marked = body.replace(first, "Optimization of <b>Data</b> Structures and Trade-Offs", 1)
    result = parse_profile(marked.encode("utf-8"))
    assert result.publications[0].title.startswith(first)


def test_histogram_gap_years_are_zero_not_shifted() -> None:
    body = page("cherukuri_en_20rows_showmore.html").decode("utf-8")
    # Drop the bar of 2022 (23 citations): Scholar omits bars of zero-citation years.
    gap = re.sub(
        r'<a href="javascript:void\(0\)" class="gsc_g_a" style="[^"]*z-index:5">'
        r'<span class="gsc_g_al">23</span></a>',
        "",
        body,
    )
    assert gap != body
    years = dict(parse_profile(gap.encode("utf-8")).cites_per_year)
    assert years[2022] == 0
    assert years[2021] == 20 and years[2023] == 26 and years[2026] == 212


@pytest.mark.parametrize(("name", "kind"), sorted(BLOCK_PAGES.items()))
def test_block_pages_are_blocked_never_profiles(name: str, kind: str) -> None:
    with pytest.raises(Blocked) as info:
        parse_profile(page(name))
    assert info.value.kind == kind
    assert "proxy" in str(info.value)  # says what the user can do


def test_sorry_page_is_blocked() -> None:
    body = (
        b"<html><body><div>Our systems have detected unusual traffic from your computer network.</div>"
        b"</body></html>"
    )
    with pytest.raises(Blocked) as info:
        parse_profile(body)
    assert info.value.kind == "sorry"


@pytest.mark.parametrize("body", [b"", b"   \n"])
def test_empty_body(body: bytes) -> None:
    with pytest.raises(TruncatedPage):
        parse_profile(body)


def test_truncated_profile() -> None:
    body = page("cherukuri_en_20rows_showmore.html")
    with pytest.raises(TruncatedPage):
        parse_profile(body[: len(body) // 2])


def test_changed_markup_without_stats_table() -> None:
    body = page("cherukuri_en_20rows_showmore.html").replace(b'id="gsc_rsb_st"', b'id="gsc_rsb_stats2"')
    with pytest.raises(ParseError) as info:
        parse_profile(body)
    assert type(info.value) is ParseError
    assert "gsc_rsb_st" in str(info.value)


def test_some_other_page() -> None:
    with pytest.raises(NotAProfile) as info:
        parse_profile(b"<html><head><title>Google Scholar</title></head><body>Search</body></html>")
    assert "Google Scholar" in str(info.value)


def test_record_completeness_follows_show_more() -> None:
    assert page_to_record(parse_profile(page("cherukuri_en_20rows_showmore.html"))).complete is False
    assert page_to_record(parse_profile(page("bohlooli_en_50rows.html"))).complete is True


# -- numbers read exactly or refused -----------------------------------------------

CHERUKURI = "cherukuri_en_20rows_showmore.html"


def with_first_stat(text: str) -> bytes:
    body = page(CHERUKURI).decode("utf-8")
    changed = body.replace('<td class="gsc_rsb_std">425</td>', f'<td class="gsc_rsb_std">{text}</td>', 1)
    assert changed != body or text == "425"
    return changed.encode("utf-8")


def with_first_row_count(text: str) -> bytes:
    body = page(CHERUKURI).decode("utf-8")
    changed = re.sub(
        r'(class="gsc_a_ac gs_ibl">)131(</a>)', lambda m: m.group(1) + text + m.group(2), body, count=1
    )
    assert changed != body
    return changed.encode("utf-8")


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("425", 425),
        ("1,234", 1234),
        ("1.234", 1234),
        ("1 234", 1234),
        ("1\u00a0234", 1234),
        ("1\u202f234", 1234),
        ("1'234", 1234),
        ("12,345,678", 12345678),
        (" 425 ", 425),
    ],
)
def test_counts_in_every_grouping(text: str, value: int) -> None:
    assert parse_profile(with_first_stat(text)).metrics.citations == value
    assert parse_profile(with_first_row_count(text)).publications[0].citations == value


@pytest.mark.parametrize(
    "text",
    [
        "-5",
        "1e9",
        "1E9",
        "+5",
        "4.5",
        "1,23",
        "1,2345",
        "1,234.567",
        "12abc",
        "abc",
        "5%",
        "0x10",
        "\u0665",
        "1 234,5",
        "1,234 567",
    ],
)
def test_what_is_not_a_count_is_refused(text: str) -> None:
    for body, what in (
        (with_first_stat(text), "stats table's citations"),
        (with_first_row_count(text), "citation count of"),
    ):
        with pytest.raises(ParseError) as info:
            parse_profile(body)
        assert what in str(info.value) and "not a count" in str(info.value)
        assert info.value.exit_code == 5


def test_a_bar_that_is_not_a_count_is_refused() -> None:
    body = (
        page(CHERUKURI)
        .decode("utf-8")
        .replace('<span class="gsc_g_al">23</span>', '<span class="gsc_g_al">-23</span>', 1)
    )
    with pytest.raises(ParseError, match="citations-per-year chart"):
        parse_profile(body.encode("utf-8"))


def test_an_empty_stat_is_not_provided_and_an_empty_row_count_is_zero() -> None:
    assert parse_profile(with_first_stat("")).metrics.citations is None
    assert parse_profile(with_first_row_count("")).publications[0].citations == 0


def test_a_publication_listed_twice_is_counted_once() -> None:
    body = page(CHERUKURI).decode("utf-8")
    rows = re.findall(r'<tr class="gsc_a_tr">.*?</tr>', body, re.S)
    doubled = body.replace(rows[0], rows[0] + rows[0], 1).encode("utf-8")
    result = parse_profile(doubled)
    ids = [p.author_pub_id for p in result.publications]
    assert len(ids) == len(set(ids)) == len(rows)
    assert result.repeated == (ids[0],)
    record = page_to_record(result)
    assert len(record.publications) == len(rows)
    assert any("listed twice" in note and ids[0] in note for note in record.notes)


def test_parse_warns_when_the_list_is_incomplete(tmp_path: Path) -> None:
    done = subprocess.run(
        ["scholar-stats", "parse", str(FIXTURES / CHERUKURI)], capture_output=True, text=True
    )
    assert done.returncode == 0
    assert json.loads(done.stdout)["complete"] is False
    warning = done.stderr.strip().splitlines()
    assert len(warning) == 1 and warning[0].startswith("warning: the publication list is incomplete")
    assert "20 publications" in warning[0] and "Show more" in warning[0]


def test_parse_of_a_complete_page_says_nothing() -> None:
    done = subprocess.run(
        ["scholar-stats", "parse", str(FIXTURES / "bohlooli_en_50rows.html")], capture_output=True, text=True
    )
    assert done.returncode == 0 and done.stderr == ""


HOSTILE_HREFS = [b"http://[", b"https://[::1", b"http://]x[/?user=", b"//[zz]:99999/?user="]


def _with_href(body: bytes, marker: bytes, href: bytes) -> bytes:
    """``body`` with the first quoted value after ``marker`` replaced by ``href``."""
    start = body.index(b'"', body.index(marker) + len(marker)) + 1
    return body[:start] + href + body[body.index(b'"', start) :]


@pytest.mark.parametrize("href", HOSTILE_HREFS)
@pytest.mark.parametrize(
    "marker",
    [
        b'rel="canonical" href=',
        b'id="gsc_prf_pup-img" srcset=',
        b'alt="Ali Bohlooli" sizes="print 60px,97px" src=',
    ],
)
def test_malformed_urls_are_no_value(marker: bytes, href: bytes) -> None:
    body = _with_href(page("bohlooli_en_50rows.html"), marker, href)
    result = parse_profile(body)
    # The ID still comes from the form and the rows; a picture that is no URL is none.
    assert result.profile.scholar_id == "cIn8pGEAAAAJ"
    if b"src=" in marker and b"srcset" not in marker:
        assert result.profile.picture_url is None


@pytest.mark.parametrize("href", HOSTILE_HREFS)
def test_malformed_request_url_is_no_value(href: bytes) -> None:
    body = page("bohlooli_en_50rows.html")
    body = re.sub(rb'<link rel="canonical"[^>]*>', b"", body)
    body = re.sub(rb'<input[^>]*name="user"[^>]*>', b"", body)
    result = parse_profile(body, url=href.decode() + "?user=cIn8pGEAAAAJ")
    assert result.profile.name == EXPECTED["bohlooli_en_50rows.html"]["name"]


@pytest.mark.parametrize("charset", ["idna", "undefined", "base64", "rot13"])
def test_charsets_that_cannot_decode_fall_back(charset: str) -> None:
    body = re.sub(
        rb"<meta[^>]+charset=[^>]*>",
        f'<meta charset="{charset}">'.encode(),
        page("bohlooli_en_50rows.html"),
        count=1,
    )
    assert f'charset="{charset}"'.encode() in body
    assert parse_profile(body).profile.name == EXPECTED["bohlooli_en_50rows.html"]["name"]
    assert decode(b"<html>\xff</html>", f"text/html; charset={charset}") == "<html>\ufffd</html>"


# -- publication IDs: Scholar's shape, whole --------------------------------------------

BOHLOOLI_ID = "cIn8pGEAAAAJ"


def with_row_ids(*replacements: tuple[str, str]) -> bytes:
    """Bohlooli's page with the first rows' ``citation_for_view`` values replaced, in order."""
    body = page("bohlooli_en_50rows.html").decode("utf-8")
    ids = re.findall(r"citation_for_view=([\w-]+:[\w-]+)", body)
    for n, (_, new) in enumerate(replacements):
        body = body.replace(f"citation_for_view={ids[n]}", f"citation_for_view={new}")
    return body.encode("utf-8")


@pytest.mark.parametrize(
    "bad",
    [
        "<script>alert(1)</script>",
        "..%2F..%2Fetc",
        f"{BOHLOOLI_ID}:a b",
        "notascholarid:u5HHmVD_uO8C",
        f"{BOHLOOLI_ID}:",
        f"{BOHLOOLI_ID}:u5HHmVD%3Cx",
    ],
)
def test_a_publication_id_not_shaped_like_scholars_is_refused(bad: str) -> None:
    with pytest.raises(ParseError, match="publication ID"):
        parse_profile(with_row_ids(("", bad)))


@pytest.mark.parametrize("joiner", ["%23", "#", "&", "%26"])
def test_ids_that_differ_after_a_hash_or_ampersand_are_not_truncated_into_one(joiner: str) -> None:
    same = f"{BOHLOOLI_ID}:u5HHmVD_uO8C"
    body = with_row_ids(("", f"{same}{joiner}1"), ("", f"{same}{joiner}2"))
    with pytest.raises(ParseError, match="publication ID"):
        parse_profile(body)


def test_every_saved_pages_ids_are_scholar_shaped() -> None:
    for path in sorted(FIXTURES.glob("*.html")):
        try:
            record = page_to_record(parse_profile(path.read_bytes()))
        except (Blocked, NotAProfile, TruncatedPage):
            continue
        assert all(re.fullmatch(r"[\w-]{12}:[\w-]{12}", p.author_pub_id) for p in record.publications), path


@pytest.mark.parametrize(
    ("href", "expected"),
    [
        (f"/citations?user={BOHLOOLI_ID}&citation_for_view={BOHLOOLI_ID}:u5HHmVD_uO8C", "u5HHmVD_uO8C"),
        (f"/citations?citation_for_view={BOHLOOLI_ID}:u5HHmVD_uO8C&amp;hl=en", "u5HHmVD_uO8C"),
        (f"/citations?citation_for_view={BOHLOOLI_ID}:u5HHmVD_uO8C&hl=en", "u5HHmVD_uO8C"),
        (f"/citations?citation_for_view={BOHLOOLI_ID}:u5HHmVD_uO8C\n", "u5HHmVD_uO8C"),
        # Escaped letters of Scholar's alphabet are the same ID once unquoted.
        (f"/citations?citation_for_view={BOHLOOLI_ID}%3Au5HHmVD%5FuO8C", "u5HHmVD_uO8C"),
        (f"/citations?citation_for_view={BOHLOOLI_ID}:{'a' * 64}", "a" * 64),
        (f"/citations?citation_for_view={BOHLOOLI_ID}:{'a' * 65}", None),
        (f"/citations?citation_for_view={BOHLOOLI_ID}:u5HHmVD_uO8C#x", None),
        (f"/citations?citation_for_view={BOHLOOLI_ID}:u5HHmVD_uO8C&x", None),
        (f"/citations?citation_for_view={BOHLOOLI_ID}:u5HHmVD_uO8C&amp;", None),
        (f"/citations?citation_for_view={BOHLOOLI_ID}:u5HHmVD.uO8C", None),
    ],
)
def test_a_row_links_publication_id_is_read_whole_or_refused(href: str, expected: str | None) -> None:
    """A plain ID is taken as it is; an escaped, cut or foreign one goes through every check."""
    if expected is None:
        with pytest.raises(ParseError, match="publication ID"):
            checked_pub_id(href, None)
    else:
        assert checked_pub_id(href, None) == f"{BOHLOOLI_ID}:{expected}"


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("<p>\u2067Müller\u2069,  A  B</p>", "Müller, A B"),
        ("<p>\u202bMüller\u202c</p>", "Müller"),
        ("<p>M\u00fcller,\u00a0Garc\u00eda\n  x</p>", "Müller, García x"),
        ("<p>Smith\u2066 J\u2069</p>", "Smith J"),
        ("<p>  plain   text </p>", "plain text"),
    ],
)
def test_a_cells_text_drops_bidi_marks_and_folds_spaces(html: str, text: str) -> None:
    assert node_text(HTMLParser(html).css_first("p")) == text
