"""The local Google Scholar answers as designed (checked with plain httpx)."""

from __future__ import annotations

import html
import math
import re
import threading
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from replay import (
    OFFHOST_SIGNIN,
    Captcha,
    ChangedMarkup,
    CutPage,
    DripFeed,
    Forbidden,
    NotFoundPage,
    RateLimited,
    ReplayProcess,
    ReplayServer,
    Scenario,
    ServerError,
    SigninRedirect,
    Slow,
    SorryRedirect,
    TruncatedBody,
    fixture_scholar_id,
    generate_profile,
)

SID = "gEnErAtEdIDx"
ROW_RE = re.compile(r'<tr class="gsc_a_tr">(.*?)</tr>', re.S)
PUB_ID_RE = re.compile(r"citation_for_view=([\w-]+:[\w-]+)")
CITES_RE = re.compile(r'class="gsc_a_ac gs_ibl">(\d*)</a>')
YEAR_RE = re.compile(r'<span class="gsc_a_h gsc_a_hc gs_ibl">(\d*)</span>')
TITLE_RE = re.compile(r'class="gsc_a_at">(.*?)</a>')
STD_RE = re.compile(r'<td class="gsc_rsb_std">(\d+)</td>')
RANGE_RE = re.compile(r'<span id="gsc_a_nn">([^<]*)</span>')
MORE_RE = re.compile(r'<button[^>]* id="gsc_bpf_more"[^>]*>')


def get(replay: ReplayServer, scholar_id: str = SID, **params: Any) -> httpx.Response:
    return httpx.get(replay.profile_url(scholar_id, **params), timeout=10)


def show_more_enabled(page: str) -> bool:
    match = MORE_RE.search(page)
    assert match, "no show-more button"
    return re.search(r"\sdisabled[\s=>]", match.group(0)) is None


def fetch_all(replay: ReplayServer, scholar_id: str) -> tuple[int, list[str], str]:
    """Walk the pages as a careful client does; (pages, row IDs, first page)."""
    pages, ids, cstart, first = 0, [], 0, ""
    while True:
        page = get(replay, scholar_id, pagesize=100, cstart=cstart).text
        pages += 1
        first = first or page
        ids += PUB_ID_RE.findall(page)
        if not show_more_enabled(page):
            return pages, ids, first
        cstart += 100


# -- generated profiles -------------------------------------------------------


@pytest.mark.parametrize("n", [0, 1, 12, 99, 100, 101, 250, 999])
def test_pages_needed_and_every_row_served_once(replay: ReplayServer, n: int) -> None:
    profile = replay.add_profile(SID, n)
    pages, ids, first = fetch_all(replay, SID)
    assert pages == max(1, math.ceil(n / 100)) == profile.pages()
    assert ids == [p.author_pub_id for p in profile.publications]
    assert len(set(ids)) == n
    assert len(replay.profile_requests(SID)) == pages
    stats = [int(v) for v in STD_RE.findall(first)]
    assert stats == [
        profile.citations,
        profile.citations_since,
        profile.h_index,
        profile.h_index_since,
        profile.i10_index,
        profile.i10_index_since,
    ]
    assert profile.citations == sum(p.citations for p in profile.publications)


def test_rows_carry_the_generated_values(replay: ReplayServer) -> None:
    profile = replay.add_profile(SID, 250, seed=3)
    rows: list[str] = []
    for cstart in (0, 100, 200):
        rows += ROW_RE.findall(get(replay, pagesize=100, cstart=cstart).text)
    assert len(rows) == 250
    for row, pub in zip(rows, profile.publications, strict=True):
        assert PUB_ID_RE.findall(row) == [pub.author_pub_id]
        assert html.unescape(TITLE_RE.findall(row)[0]) == pub.title
        cell = CITES_RE.findall(row)[0]
        assert (int(cell) if cell else 0) == pub.citations
        year = YEAR_RE.findall(row)[0]
        assert (int(year) if year else None) == pub.year
    # Like real pages: some uncited rows (empty cell, empty href) and some rows without a year.
    assert sum(1 for p in profile.publications if p.citations == 0) > 10
    assert sum(1 for p in profile.publications if p.year is None) > 5
    assert sum(1 for r in rows if '<a href="" class="gsc_a_ac gs_ibl"></a>' in r) == sum(
        1 for p in profile.publications if p.citations == 0
    )
    # Titles that need escaping arrive escaped.
    escaped = [r for r in rows if "&amp; beyond" in r]
    assert escaped and all("&lt;review&gt;" in r for r in escaped)


def test_range_text_and_show_more(replay: ReplayServer) -> None:
    replay.add_profile(SID, 250)
    first = get(replay, pagesize=100).text
    middle = get(replay, pagesize=100, cstart=100).text
    last = get(replay, pagesize=100, cstart=200).text
    assert RANGE_RE.findall(first) == ["Articles 1&ndash;100"]
    assert RANGE_RE.findall(middle) == ["Articles 101&ndash;200"]
    assert RANGE_RE.findall(last) == ["Articles 201&ndash;250"]
    assert show_more_enabled(first) and show_more_enabled(middle)
    assert not show_more_enabled(last)


def test_exactly_full_last_page_disables_show_more(replay: ReplayServer) -> None:
    replay.add_profile(SID, 200)
    assert not show_more_enabled(get(replay, pagesize=100, cstart=100).text)
    assert show_more_enabled(get(replay, pagesize=100).text)


def test_pagesize_is_capped_at_100_and_defaults_to_20(replay: ReplayServer) -> None:
    replay.add_profile(SID, 250)
    assert len(ROW_RE.findall(get(replay, pagesize=999).text)) == 100
    default = get(replay).text
    assert len(ROW_RE.findall(default)) == 20
    assert RANGE_RE.findall(default) == ["Articles 1&ndash;20"]
    assert show_more_enabled(default)


def test_past_the_last_row_there_are_no_articles(replay: ReplayServer) -> None:
    replay.add_profile(SID, 12)
    page = get(replay, pagesize=100, cstart=100).text
    assert "There are no articles in this profile." in page
    assert PUB_ID_RE.findall(page) == []
    assert not show_more_enabled(page)


def test_empty_profile(replay: ReplayServer) -> None:
    profile = replay.add_profile(SID, 0)
    page = get(replay, pagesize=100).text
    assert "There are no articles in this profile." in page
    assert [int(v) for v in STD_RE.findall(page)] == [0, 0, 0, 0, 0, 0]
    assert profile.cites_per_year == dict.fromkeys(profile.cites_per_year, 0)
    # Years with no citations have a label but no bar, as on Scholar.
    assert 'class="gsc_g_a"' not in page and page.count('class="gsc_g_t"') == 7


def test_histogram_bars_hold_cites_per_year(replay: ReplayServer) -> None:
    profile = replay.add_profile(SID, 40)
    page = get(replay, pagesize=100).text
    labels = [int(y) for y in re.findall(r'<span class="gsc_g_t" style="[^"]*">(\d+)</span>', page)]
    bars = re.findall(r'z-index:(\d+)"><span class="gsc_g_al">(\d+)</span>', page)
    # z-index counts from the right, so bar k belongs to the k-th year from the end.
    found = {labels[-int(z)]: int(v) for z, v in bars}
    assert found == {y: v for y, v in profile.cites_per_year.items() if v}
    assert sum(profile.cites_per_year.values()) <= profile.citations


def test_profile_user_id_and_name_replaced(replay: ReplayServer) -> None:
    replay.add_profile(SID, 5, name="Ada Q. Example", affiliation="Institute of Tests")
    page = get(replay, pagesize=100).text
    assert "amIMrIEAAAAJ" not in page and "Cherukuri" not in page
    assert f'<link rel="canonical" href="https://scholar.google.com/citations?user={SID}&amp;hl=en">' in page
    assert '<div id="gsc_prf_in">Ada Q. Example</div>' in page
    assert '<div class="gsc_prf_il">Institute of Tests</div>' in page


def test_generation_is_deterministic_and_honours_citations() -> None:
    assert generate_profile(SID, 30, seed=1) == generate_profile(SID, 30, seed=1)
    assert generate_profile(SID, 30, seed=1) != generate_profile(SID, 30, seed=2)
    total = generate_profile(SID, 30, citations=1234)
    assert total.citations == 1234 == sum(p.citations for p in total.publications)
    counts = [9, 0, 3]
    given = generate_profile(SID, 3, citations=counts)
    assert [p.citations for p in given.publications] == counts
    assert given.h_index == 2 and given.i10_index == 0
    assert given.publications[1].cites_id is None
    with pytest.raises(ValueError):
        generate_profile(SID, 2, citations=[1])


# -- real pages ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("filename", "charset"),
    [
        ("bohlooli_en_50rows.html", "ISO-8859-1"),
        ("cherukuri_en_20rows_showmore.html", "UTF-8"),
        ("denner_pt-PT_176rows_browser-saved.html", "UTF-8"),
        ("kietzig_fr_2019_pagesize2.html", "UTF-8"),
    ],
)
def test_fixture_pages_served_verbatim(
    replay: ReplayServer, fixtures_dir: Path, expected_values: dict[str, Any], filename: str, charset: str
) -> None:
    sid = replay.add_fixture_page(None, filename)
    assert sid == fixture_scholar_id(filename)
    response = get(replay, sid, pagesize=100)
    assert response.status_code == 200
    assert response.headers["content-type"] == f"text/html; charset={charset}"
    assert response.content == (fixtures_dir / filename).read_bytes()
    expected = expected_values[filename]
    assert html.unescape(RANGE_RE.findall(response.text)[0]) == expected["articles_range_text"]
    assert len(ROW_RE.findall(response.text)) == expected["n_publication_rows"]
    assert show_more_enabled(response.text) == (expected["show_more_button"] == "enabled")


def test_fixture_page_under_another_id(replay: ReplayServer, fixtures_dir: Path) -> None:
    replay.add_fixture_page("SoMeOtHeRiD0", "kietzig_en_2021_pagesize2.html")
    assert (
        get(replay, "SoMeOtHeRiD0").content == (fixtures_dir / "kietzig_en_2021_pagesize2.html").read_bytes()
    )


def test_unknown_profile_is_404(replay: ReplayServer) -> None:
    replay.add_profile(SID, 3)
    assert get(replay, "nOsUcHuSeR00").status_code == 404
    assert httpx.get(f"{replay.url}/citations?hl=en").status_code == 404
    assert httpx.get(f"{replay.url}/elsewhere").status_code == 404


# -- failure scenarios ---------------------------------------------------------


def test_captcha_is_a_200_robot_check(replay: ReplayServer, fixtures_dir: Path) -> None:
    replay.add_profile(SID, 3)
    replay.queue(SID, Captcha())
    response = get(replay, pagesize=100)
    assert response.status_code == 200
    assert response.content == (fixtures_dir / "captcha_scholar_profile_request.html").read_bytes()
    assert 'id="gsc_captcha_ccl"' in response.text
    assert 'id="gsc_rsb_st"' not in response.text


def redirected(replay: ReplayServer, scenario: Scenario, *, once: bool = True) -> str:
    """Where a profile request is sent when ``scenario`` plays (``once``: for one request only)."""
    replay.add_profile(SID, 3)
    (replay.queue if once else replay.set_scenario)(SID, scenario)
    response = get(replay, pagesize=100)
    assert response.status_code == 302
    return str(response.headers["location"])


def test_signin_redirect_on_this_server(replay: ReplayServer) -> None:
    location = redirected(replay, SigninRedirect())
    assert location.startswith("/v3/signin/identifier?continue=")
    back = parse_qs(urlsplit(location).query)["continue"][0]
    assert back.startswith(replay.url + "/citations?") and f"user={SID}" in back
    landing = httpx.get(replay.url + location)
    assert landing.status_code == 200
    assert "continue to Google Scholar Citations" in landing.text
    assert 'id="gsc_prf_in"' not in landing.text


def test_signin_redirect_off_host(replay: ReplayServer) -> None:
    location = redirected(replay, SigninRedirect(offhost=True))
    assert location.startswith(OFFHOST_SIGNIN + "?continue=https%3A%2F%2Fscholar.google.com%2Fcitations%3F")
    assert urlsplit(location).netloc == "accounts.google.com"


def test_sorry_redirect_then_429(replay: ReplayServer) -> None:
    location = redirected(replay, SorryRedirect(), once=False)
    assert location.startswith("/sorry/index?continue=")
    sorry = httpx.get(replay.url + location)
    assert sorry.status_code == 429
    assert "unusual traffic" in sorry.text
    assert [r.path for r in replay.requests] == ["/citations", "/sorry/index"]


@pytest.mark.parametrize("retry_after", [0, 7, "Wed, 21 Oct 2015 07:28:00 GMT", None])
def test_rate_limited_then_success(replay: ReplayServer, retry_after: int | str | None) -> None:
    replay.add_profile(SID, 3)
    replay.queue(SID, RateLimited(retry_after))
    first = get(replay, pagesize=100)
    assert first.status_code == 429
    assert first.headers.get("retry-after") == (None if retry_after is None else str(retry_after))
    second = get(replay, pagesize=100)
    assert second.status_code == 200 and len(PUB_ID_RE.findall(second.text)) == 3


def test_server_errors_then_success(replay: ReplayServer) -> None:
    replay.add_profile(SID, 3)
    replay.queue(SID, ServerError(503), ServerError(500))
    assert [get(replay).status_code for _ in range(3)] == [503, 500, 200]


def test_forbidden_until_cleared(replay: ReplayServer) -> None:
    replay.add_profile(SID, 3)
    replay.set_scenario(SID, Forbidden())
    assert [get(replay).status_code for _ in range(3)] == [403, 403, 403]
    replay.set_scenario(SID, None)
    assert get(replay).status_code == 200


def test_queue_comes_before_the_set_scenario(replay: ReplayServer) -> None:
    replay.add_profile(SID, 3)
    replay.add_profile("OtherIDxxxxx", 3)
    replay.set_scenario(SID, Forbidden())
    replay.queue(SID, ServerError(502))
    assert get(replay, "OtherIDxxxxx").status_code == 200
    assert [get(replay).status_code for _ in range(2)] == [502, 403]


def test_not_found_for_a_known_id(replay: ReplayServer) -> None:
    replay.add_profile(SID, 3)
    replay.queue(SID, NotFoundPage())
    assert get(replay).status_code == 404
    assert get(replay).status_code == 200


def test_slow_response_times_out_a_client(replay: ReplayServer) -> None:
    replay.add_profile(SID, 3)
    replay.queue(SID, Slow(30))
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(replay.profile_url(SID), timeout=0.3)
    # The next request is answered normally.
    assert get(replay).status_code == 200


def test_slow_response_is_complete_when_waited_for(replay: ReplayServer) -> None:
    replay.add_profile(SID, 3)
    replay.queue(SID, Slow(0.2))
    response = get(replay, pagesize=100)
    assert response.status_code == 200 and len(PUB_ID_RE.findall(response.text)) == 3


def test_drip_feed_sends_one_byte_at_a_time(replay: ReplayServer) -> None:
    replay.add_profile(SID, 3)
    full = get(replay, pagesize=100).content
    replay.queue(SID, DripFeed(interval=0.01))
    with httpx.stream("GET", replay.profile_url(SID, pagesize=100), timeout=5) as response:
        assert response.status_code == 200
        assert int(response.headers["content-length"]) == len(full)
        received = b""
        for chunk in response.iter_raw():
            assert len(chunk) == 1
            received += chunk
            if len(received) == 20:
                break
    assert received == full[:20]


def test_truncated_body_breaks_the_connection(replay: ReplayServer) -> None:
    replay.add_profile(SID, 30)
    replay.queue(SID, TruncatedBody(0.5))
    with pytest.raises(httpx.RemoteProtocolError):
        get(replay, pagesize=100)
    assert get(replay, pagesize=100).status_code == 200


def test_cut_page_has_a_correct_length(replay: ReplayServer) -> None:
    replay.add_profile(SID, 30)
    full = get(replay, pagesize=100).content
    replay.queue(SID, CutPage(0.5))
    cut = get(replay, pagesize=100)
    assert cut.status_code == 200
    assert len(cut.content) == int(cut.headers["content-length"]) == len(full) // 2
    assert full.startswith(cut.content)
    assert b"gsc_bpf_more" not in cut.content


@pytest.mark.parametrize("how", ["rename", "remove"])
def test_changed_markup_loses_the_stats_table(replay: ReplayServer, how: str) -> None:
    replay.add_profile(SID, 30)
    replay.queue(SID, ChangedMarkup(how))
    page = get(replay, pagesize=100).text
    assert '<table id="gsc_rsb_st">' not in page
    assert ('<table id="gsc_rsb_stats">' in page) == (how == "rename")
    assert len(PUB_ID_RE.findall(page)) == 30
    assert '<table id="gsc_rsb_st">' in get(replay, pagesize=100).text


def test_changed_markup_on_a_fixture_page(replay: ReplayServer) -> None:
    sid = replay.add_fixture_page(None, "bohlooli_en_50rows.html")
    replay.queue(sid, ChangedMarkup("remove"))
    response = get(replay, sid)
    assert response.headers["content-type"] == "text/html; charset=ISO-8859-1"
    assert '<td class="gsc_rsb_std">' not in response.text and len(ROW_RE.findall(response.text)) == 50


# -- bookkeeping -------------------------------------------------------------------


def test_requests_are_recorded_and_reset(replay: ReplayServer) -> None:
    replay.add_profile(SID, 3)
    replay.set_scenario(SID, Forbidden())
    httpx.get(
        replay.profile_url(SID, pagesize=100, cstart=0),
        headers={"User-Agent": "probe/1", "Accept-Language": "fr"},
    )
    ((path, query, headers),) = replay.requests
    assert path == "/citations"
    assert query == {"user": SID, "hl": "en", "pagesize": "100", "cstart": "0"}
    assert headers["user-agent"] == "probe/1" and headers["accept-language"] == "fr"
    replay.reset()
    assert replay.requests == []
    assert get(replay).status_code == 200  # the set scenario went with reset()


def test_concurrent_requests_all_answered_and_recorded(replay: ReplayServer) -> None:
    replay.add_profile(SID, 250)
    statuses: list[int] = []
    lock = threading.Lock()
    client = httpx.Client(timeout=10)

    def worker(cstart: int) -> None:
        status = client.get(replay.profile_url(SID, pagesize=100, cstart=cstart)).status_code
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=worker, args=(100 * (i % 3),)) for i in range(24)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    client.close()
    assert statuses == [200] * 24
    assert len(replay.requests) == 24


def test_server_stops_even_with_a_request_hanging(fixtures_dir: Path) -> None:
    server = ReplayServer(fixtures_dir).start()
    server.add_profile(SID, 3)
    server.set_scenario(SID, Slow(3600))
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(server.profile_url(SID), timeout=0.2)
    url = server.url
    server.close()
    with pytest.raises(httpx.ConnectError):
        httpx.get(url + "/citations?user=" + SID, timeout=2)


def test_the_replay_process_serves_from_a_process_of_its_own() -> None:
    """Profiles, latency and what was received cross the pipe; the server is not in this process."""
    with ReplayProcess() as replay:
        profile = replay.add_profile(SID, 150, seed=3)
        replay.latency = 0.05
        with httpx.Client(trust_env=False) as client:
            first = client.get(f"{replay.url}/citations", params={"user": SID, "pagesize": 100})
            replay.latency = 0.0
            second = client.get(
                f"{replay.url}/citations", params={"user": SID, "pagesize": 100, "cstart": 100}
            )
        assert first.status_code == second.status_code == 200
        assert first.elapsed.total_seconds() >= 0.05
        assert len(ROW_RE.findall(first.text)) == 100
        assert len(ROW_RE.findall(second.text)) == profile.n_publications - 100
        assert [r.query.get("cstart") for r in replay.profile_requests(SID)] == [None, "100"]
        assert all(t.name != "replay-server" for t in threading.enumerate())
        replay.reset()
        assert replay.profile_requests() == []
        with pytest.raises(TypeError):
            replay.add_profile(SID, 10, colour="blue")
