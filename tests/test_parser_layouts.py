"""Every profile layout Scholar has served, read exactly; Wayback Machine captures of them.

The pages are real (see ``fixtures/scholar_layouts/README.md`` for where each
came from) and ``expected.json`` holds the values read from each page by hand.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import wayback
from click.testing import CliRunner

from crawler.cli import main
from crawler.errors import Blocked, NotAProfile, ParseError
from crawler.sources.scholar_page import chart_cites_per_year, page_to_record, parse_profile

LAYOUTS = Path(__file__).parent / "fixtures" / "scholar_layouts"
CURRENT = Path(__file__).parent / "fixtures" / "scholar"
EXPECTED = json.loads((LAYOUTS / "expected.json").read_text(encoding="utf-8"))
PAGES = sorted(EXPECTED)


def page(name: str) -> bytes:
    return (LAYOUTS / name).read_bytes()


@pytest.mark.parametrize("name", PAGES)
def test_profile(name: str) -> None:
    want = EXPECTED[name]
    got = parse_profile(page(name)).profile
    assert (got.scholar_id, got.name, got.affiliation) == (
        want["scholar_id"],
        want["name"],
        want["affiliation"],
    )
    assert list(got.interests) == want["interests"]
    assert (got.email_domain, got.homepage) == (want["email_domain"], want["homepage"])


@pytest.mark.parametrize("name", PAGES)
def test_stats_table_with_its_since_year(name: str) -> None:
    m = parse_profile(page(name)).metrics
    assert {
        "citations": m.citations,
        "citations_since": m.citations_since,
        "h_index": m.h_index,
        "h_index_since": m.h_index_since,
        "i10_index": m.i10_index,
        "i10_index_since": m.i10_index_since,
        "since_year": m.since_year,
    } == EXPECTED[name]["metrics"]


@pytest.mark.parametrize("name", PAGES)
def test_every_row(name: str) -> None:
    want = EXPECTED[name]
    result = parse_profile(page(name))
    rows = [{"title": p.title, "citations": p.citations, "year": p.year} for p in result.publications]
    assert rows == want["rows"]
    first = result.publications[0]
    assert (first.authors, first.venue) == (want["first_row"]["authors"], want["first_row"]["venue"])
    if "author_pub_id" in want["first_row"]:
        assert (first.author_pub_id, first.cites_id) == (
            want["first_row"]["author_pub_id"],
            want["first_row"]["cites_id"],
        )
    assert result.named_ids == {want["scholar_id"]}


@pytest.mark.parametrize("name", PAGES)
def test_histogram_and_paging(name: str) -> None:
    want = EXPECTED[name]
    result = parse_profile(page(name))
    assert {str(y): c for y, c in result.cites_per_year} == want["cites_per_year"]
    assert (result.has_more, result.range_text) == (want["has_more"], want["range_text"])
    record = page_to_record(result)
    chart_notes = [n for n in record.notes if "per-year" in n]
    # A page whose chart is an image it does not describe gives no numbers, and says so.
    assert bool(chart_notes) == want["chart_note"]
    assert record.complete is not want["has_more"]
    assert result.captured_at is None


def test_the_2017_stats_table_used_to_be_refused() -> None:
    """The header row of a table without <thead> is not a row of numbers."""
    body = page("leek_en_2017_readlines.html")
    assert b'<table id="gsc_rsb_st"><tr><th' in body
    assert parse_profile(body).metrics.citations == 4623


def test_the_2013_page_reads_as_the_lecture_that_printed_it_read_it() -> None:
    """January 2013: the lecture that printed the page also printed its "Cited by" column as
    R's XML package read it from the same address: the parser gives the same counts."""
    result = parse_profile(page("leek_en_2013_cit_readlines.html"))
    lecture = [338, 171, 140, 133, 107, 95, 78, 78, 53, 16, 10, 9, 9, 8, 8, 6, 6, 6, 5, 3]
    assert [p.citations for p in result.publications] == lecture
    # The chart's address survived (the page was printed, not saved by a browser): every year
    # is exact, the tallest bar being the axis maximum (chxr=1,0,402,402).
    assert max(c for _, c in result.cites_per_year) == dict(result.cites_per_year)[2012] == 402
    assert page_to_record(result).notes == ()


# -- the chart of the cit- layout ---------------------------------------------------------------

# The chart on Jeff Leek's profile in January 2014: bars in tenths of a percent of
# the tallest (537 citations in 2013), labels every third year.
LEEK_2014_CHART = (
    "http://www.google.com/chart?chs=475x90&amp;cht=bvs&amp;chf=bg,s,e8f4f7&amp;chco=1111cc"
    "&amp;chbh=r,2.0,0.0&amp;chxt=x,y&amp;chxr=1,0,537,537"
    "&amp;chd=t:1.5,8.0,15.1,22.7,19.0,35.8,52.0,83.2,100.0,5.0&amp;chxl=0:|2005|||2008|||2011|||2014"
).replace("&amp;", "&")


def test_chart_gives_exact_counts_when_its_precision_allows() -> None:
    years = chart_cites_per_year(LEEK_2014_CHART)
    assert years == (
        (2005, 8),
        (2006, 43),
        (2007, 81),
        (2008, 122),
        (2009, 102),
        (2010, 192),
        (2011, 279),
        (2012, 447),
        (2013, 537),
        (2014, 27),
    )
    # As the Wayback Machine rewrites the image's address.
    archived = "/web/20140115000000im_/" + LEEK_2014_CHART
    assert chart_cites_per_year(archived) == years


@pytest.mark.parametrize(
    "change",
    [
        # Over 1000 citations a year, a tenth of a percent is more than one citation.
        ("chxr=1,0,537,537", "chxr=1,0,5370,5370"),
        # No bar is the tallest: the scale is not the axis maximum.
        ("100.0", "99.0"),
        # Labels that do not step one year per bar.
        ("0:|2005|||2008", "0:|2005||||2008"),
        ("chd=t:", "chd=s:"),
    ],
)
def test_chart_that_cannot_be_read_exactly_gives_nothing(change: tuple[str, str]) -> None:
    assert chart_cites_per_year(LEEK_2014_CHART.replace(*change)) is None


# -- Wayback Machine captures -------------------------------------------------------------------

SCHOLAR = "http://scholar.google.com/citations?user={}&hl=en"


@pytest.mark.parametrize("browser_saved", [False, True])
@pytest.mark.parametrize("name", PAGES)
def test_a_wayback_capture_reads_as_the_page_and_is_dated_by_the_capture(
    name: str, browser_saved: bool
) -> None:
    want = EXPECTED[name]
    body = wayback.capture(
        page(name),
        url=SCHOLAR.format(want["scholar_id"]),
        timestamp="20150208123456",
        browser_saved=browser_saved,
    )
    plain, archived = parse_profile(page(name)), parse_profile(body)
    assert archived.captured_at == datetime(2015, 2, 8, 12, 34, 56, tzinfo=UTC)
    assert archived.profile.scholar_id == want["scholar_id"]
    # Links the archive rewrote are read at their original address.
    assert archived.profile.homepage == plain.profile.homepage == want["homepage"]
    assert archived.profile.name == plain.profile.name
    assert archived.profile.interests == plain.profile.interests
    assert archived.metrics == plain.metrics
    assert archived.publications == plain.publications
    assert archived.cites_per_year == plain.cites_per_year
    assert (archived.has_more, archived.named_ids) == (plain.has_more, plain.named_ids)
    assert page_to_record(archived).fetched_at == archived.captured_at


def test_a_capture_of_todays_layout_too() -> None:
    body = (CURRENT / "denner_pt-PT_176rows_browser-saved.html").read_bytes()
    archived = parse_profile(
        wayback.capture(body, url=SCHOLAR.format("AoKJ_g4AAAAJ"), timestamp="20251114083000")
    )
    assert archived.captured_at == datetime(2025, 11, 14, 8, 30, tzinfo=UTC)
    assert (archived.metrics.citations, len(archived.publications), archived.has_more) == (1799, 176, False)


def test_the_capture_date_comes_from_the_capture_not_the_toolbar_links() -> None:
    """The toolbar links to the captures before and after; only this capture's own address counts."""
    body = wayback.capture(
        page("leek_en_2017_readlines.html"),
        url=SCHOLAR.format("HI-I6C0AAAAJ"),
        timestamp="20170304120000",
        before="20170101000000",
        after="20170401000000",
    )
    assert parse_profile(body).captured_at == datetime(2017, 3, 4, 12, tzinfo=UTC)
    # Without the playback script, the rewritten links of the page itself still say when.
    stripped = body.replace(b"__wm.wombat(", b"__wm.wombat_gone(")
    assert parse_profile(stripped).captured_at == datetime(2017, 3, 4, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("captcha_scholar_profile_request.html", Blocked),
        ("signin_page_invalid_user.html", Blocked),
    ],
)
def test_a_capture_of_what_is_not_a_profile_is_still_refused(name: str, error: type[Exception]) -> None:
    body = wayback.capture(
        (CURRENT / name).read_bytes(), url=SCHOLAR.format("UEjAKwEAAAAJ"), timestamp="20250101000000"
    )
    with pytest.raises(error):
        parse_profile(body)


def test_the_archives_own_pages_are_not_profiles() -> None:
    not_archived = (
        b"<!DOCTYPE html><html><head><title>Wayback Machine</title></head><body>"
        b"<!-- BEGIN WAYBACK TOOLBAR INSERT --><div id='wm-ipp'></div><!-- END WAYBACK TOOLBAR INSERT -->"
        b"<p>Hrm. The Wayback Machine has not archived that URL.</p></body></html>"
    )
    with pytest.raises(NotAProfile):
        parse_profile(not_archived)


def test_a_cit_layout_page_that_is_not_a_profile_is_refused() -> None:
    """The 2011-2014 author search listed profiles with the same link classes as a profile."""
    body = page("spjuth_en_2014_cit_browser-saved.html")
    start, end = body.index(b'<div class="cit-user-info">'), body.index(b'<table id="stats"')
    with pytest.raises(NotAProfile):
        parse_profile(body[:start] + body[end:].replace(b'id="stats"', b'id="something"'))


SPJUTH_ID = "oSJgw2cAAAAJ"


@pytest.mark.parametrize(
    "bad",
    [
        "<script>alert(1)</script>",
        f"{SPJUTH_ID}:a b",
        "notascholarid:u5HHmVD_uO8C",
        f"{SPJUTH_ID}:",
        f"{SPJUTH_ID}:u5HHmVD%3Cx",
    ],
)
def test_a_cit_layout_publication_id_not_shaped_like_scholars_is_refused(bad: str) -> None:
    """The 2011-2014 rows are checked as today's are: a malformed ID is not stored."""
    body = page("spjuth_en_2014_cit_browser-saved.html")
    first = f"citation_for_view={SPJUTH_ID}:u5HHmVD_uO8C".encode()
    assert first in body
    with pytest.raises(ParseError, match="publication ID"):
        parse_profile(body.replace(first, b"citation_for_view=" + bad.encode(), 1))


@pytest.mark.parametrize("joiner", ["%23", "#", "&"])
def test_cit_layout_ids_that_differ_after_a_hash_or_ampersand_are_not_cut_into_one(joiner: str) -> None:
    body = page("spjuth_en_2014_cit_browser-saved.html")
    ids = [b"u5HHmVD_uO8C", b"u-x6o8ySG0sC"]
    for n, old in enumerate(ids):
        new = f"u5HHmVD_uO8C{joiner}{n}".encode()
        body = body.replace(
            f"citation_for_view={SPJUTH_ID}:".encode() + old,
            f"citation_for_view={SPJUTH_ID}:".encode() + new,
            1,
        )
    with pytest.raises(ParseError, match="publication ID"):
        parse_profile(body)


# -- the commands ---------------------------------------------------------------------------------


def test_parse_reads_the_2017_layout(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["parse", str(LAYOUTS / "leek_en_2017_readlines.html")])
    assert result.exit_code == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["metrics"]["citations"] == 4623 and len(record["publications"]) == 20
    assert "incomplete" in result.stderr


def test_parse_reads_the_2013_layout() -> None:
    result = CliRunner().invoke(main, ["parse", str(LAYOUTS / "leek_en_2013_cit_readlines.html")])
    assert result.exit_code == 0, result.stderr
    record = json.loads(result.stdout)
    assert (record["metrics"]["citations"], record["metrics"]["since_year"]) == (1285, 2008)
    assert record["cites_per_year"]["2013"] == 34 and len(record["publications"]) == 20
    assert "incomplete" in result.stderr


def test_parse_prints_the_capture_date(tmp_path: Path) -> None:
    capture = tmp_path / "capture.html"
    capture.write_bytes(
        wayback.capture(
            page("spjuth_en_2014_cit_browser-saved.html"),
            url=SCHOLAR.format("oSJgw2cAAAAJ"),
            timestamp="20140215093000",
        )
    )
    result = CliRunner().invoke(main, ["parse", str(capture)])
    assert result.exit_code == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["fetched_at"] == "2014-02-15T09:30:00Z"
    assert record["metrics"]["citations"] == 437 and record["cites_per_year"] == {}
    assert any("per-year" in note for note in record["notes"])


def test_a_live_page_linking_to_the_archive_is_no_capture() -> None:
    """A homepage that is itself an archived page stays as it is, and dates nothing."""
    body = (CURRENT / "kietzig_en_2021_pagesize2.html").read_bytes()
    archived_home = b"https://web.archive.org/web/20190101000000/http://kietzig-lab.mcgill.ca/"
    result = parse_profile(
        body.replace(b'href="http://kietzig-lab.mcgill.ca/"', b'href="' + archived_home + b'"')
    )
    assert result.profile.homepage == archived_home.decode()
    assert result.captured_at is None


# -- the date a page carries itself ---------------------------------------------------------------


@pytest.mark.parametrize("header", ["Page saved with SingleFile", "Archive processed by SingleFile"])
def test_a_page_saved_with_singlefile_is_dated_by_its_saved_date(header: str) -> None:
    """The SingleFile extension writes the address and the time it saved the page first in <html>."""
    body = (CURRENT / "denner_pt-PT_176rows_browser-saved.html").read_bytes()
    comment = (
        f"<!--\n {header} \n url: https://scholar.google.com/citations?user=AoKJ_g4AAAAJ&hl=pt-PT \n"
        " saved date: Fri Nov 14 2025 07:30:05 GMT+0100 (Central European Standard Time) \n-->"
    ).encode()
    at = body.index(b">", body.lower().index(b"<html")) + 1
    result = parse_profile(body[:at] + comment + body[at:])
    assert result.captured_at == datetime(2025, 11, 14, 6, 30, 5, tzinfo=UTC)
    assert result.metrics.citations == 1799
    # The same words elsewhere on a page (a title, a post) date nothing.
    quoted = body.replace(b"<title>", b"<title>Page saved with SingleFile saved date: Fri Nov 14 2025 ", 1)
    assert parse_profile(quoted).captured_at is None


def test_a_wayback_capture_saved_with_singlefile_keeps_the_capture_date() -> None:
    """When Scholar served the page is the capture's time, not when someone saved the capture."""
    body = wayback.capture(
        page("leek_en_2017_readlines.html"), url=SCHOLAR.format("HI-I6C0AAAAJ"), timestamp="20170304120000"
    )
    at = body.index(b"<head>")
    comment = (
        b"<!--\n Page saved with SingleFile \n url: x \n"
        b" saved date: Mon Dec 07 2026 10:00:00 GMT+0000 (UTC) \n-->"
    )
    assert parse_profile(body[:at] + comment + body[at:]).captured_at == datetime(2017, 3, 4, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("chart", "years", "note"),
    [
        (LEEK_2014_CHART, 10, False),
        (LEEK_2014_CHART.replace("chxr=1,0,537,537", "chxr=1,0,5370,5370"), 0, True),
    ],
)
def test_a_2014_page_whose_chart_address_survived(chart: str, years: int, note: bool) -> None:
    """A capture keeps the chart's address where a browser's "Save page as" kept only the image."""
    body = page("spjuth_en_2014_cit_browser-saved.html").replace(
        b'src="./sample1_files/chart"', b'src="' + chart.replace("&", "&amp;").encode() + b'"'
    )
    result = parse_profile(body)
    assert len(result.cites_per_year) == years
    assert any("share of the tallest" in n for n in result.notes) is note
    assert result.metrics.citations == 437


def test_more_rows_follow_while_next_is_enabled() -> None:
    """Scholar disables "Show more" at 1000 rows while "Next" still pages on; older pages may have
    only "Next".  Either enabled means the page does not hold the whole list."""
    body = page("xue_zh-CN_2016_raw.html")
    more = b'<button type="button" id="gsc_bpf_more" class=" gs_btn_smd">'
    nxt = b'<button type="button" id="gsc_bpf_next" aria-label'
    assert more in body and nxt in body
    more_off = body.replace(more, more.replace(b"<button ", b"<button disabled "))
    both_off = more_off.replace(nxt, nxt.replace(b"<button ", b"<button disabled "))
    no_more = body.replace(b'id="gsc_bpf_more"', b'id="gsc_bpf_gone"')
    assert parse_profile(more_off).has_more and parse_profile(no_more).has_more
    assert not parse_profile(both_off).has_more
    assert page_to_record(parse_profile(both_off)).complete


def test_a_2014_page_without_next_holds_the_whole_list() -> None:
    body = page("spjuth_en_2014_cit_browser-saved.html")
    nxt = (
        b'<a href="http://scholar.google.ca/citations?hl=en&user=oSJgw2cAAAAJ&view_op=list_works&cstart=20"'
        b' class="cit-dark-link">Next &gt;</a>'
    )
    assert body.count(nxt) == 2
    last = parse_profile(body.replace(nxt, b""))
    assert (last.has_more, last.range_text) == (False, "1-20")
    # "< Prev" pages back, not on.
    prev = nxt.replace(b"cstart=20", b"cstart=0").replace(b"Next &gt;", b"&lt; Prev")
    assert parse_profile(body.replace(nxt, prev)).has_more is False
