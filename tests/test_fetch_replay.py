"""Fetching from the local Google Scholar: request counts, completeness, and
what each failure ends in (error class, exit code, one line on stderr)."""

from __future__ import annotations

import math
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import replay as scenarios
from replay import ReplayServer, Scenario

from crawler.errors import Blocked, DeadlineExceeded, FetchError, NotFound, ParseError
from crawler.models import AuthorRecord
from crawler.net.http import HttpOptions
from crawler.sources import AuthorRef, SourceSettings
from crawler.sources.scholar import open_source

SID = "rEpLaYpRoFiL"
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")


@pytest.fixture(autouse=True)
def no_proxy(clean_environment: None) -> None:
    """Local servers are reached directly, with no proxy or scholar-stats setting of this machine."""


def fetch(replay: ReplayServer, scholar_id: str = SID, **http: Any) -> AuthorRecord:
    options = HttpOptions(**{"delay": 0.0, "retries": 2, "deadline": 30.0, **http})
    source = open_source(SourceSettings(http=options, base_url=replay.url))
    try:
        return source.fetch(AuthorRef(scholar_id))
    finally:
        source.close()


def cstarts(replay: ReplayServer, scholar_id: str = SID) -> list[int]:
    return [int(r.query.get("cstart") or 0) for r in replay.profile_requests(scholar_id)]


# -- the library --------------------------------------------------------------------


@pytest.mark.parametrize("n", [0, 12, 100, 101, 250, 999])
def test_whole_profile_in_ceil_n_over_100_requests(replay: ReplayServer, n: int) -> None:
    expected = replay.add_profile(SID, n)
    record = fetch(replay)
    starts = cstarts(replay)
    assert len(starts) == max(1, math.ceil(n / 100))
    assert starts == [100 * i for i in range(len(starts))]  # never the same page twice
    assert all(r.query.get("pagesize") == "100" for r in replay.profile_requests(SID))
    assert record.complete and record.scholar_id == SID
    assert [p.author_pub_id for p in record.publications] == [p.author_pub_id for p in expected.publications]
    for got, want in zip(record.publications, expected.publications, strict=True):
        assert (got.title, got.year, got.citations or 0, got.cites_id) == (
            want.title,
            want.year,
            want.citations,
            want.cites_id,
        )
    m = record.metrics
    assert (m.citations, m.citations_since, m.h_index, m.h_index_since, m.i10_index, m.i10_index_since) == (
        expected.citations,
        expected.citations_since,
        expected.h_index,
        expected.h_index_since,
        expected.i10_index,
        expected.i10_index_since,
    )
    assert m.citations == sum(p.citations or 0 for p in record.publications)
    assert record.cites_per_year_map == {y: v for y, v in expected.cites_per_year.items() if v} | {
        y: 0 for y, v in expected.cites_per_year.items() if not v
    }


def test_saved_page_fetched_in_one_request(replay: ReplayServer, expected_values: dict[str, Any]) -> None:
    sid = replay.add_fixture_page(None, "bohlooli_en_50rows.html")
    want = expected_values["bohlooli_en_50rows.html"]
    record = fetch(replay, sid)
    assert len(replay.profile_requests(sid)) == 1
    assert record.profile.name == want["name"]
    assert record.metrics.citations == want["citedby"] and record.metrics.h_index == want["hindex"]
    assert len(record.publications) == want["n_publication_rows"]
    assert record.cites_per_year_map == {int(y): v for y, v in want["cites_per_year"].items()}


def test_rate_limited_then_success(replay: ReplayServer) -> None:
    expected = replay.add_profile(SID, 150)
    replay.queue(SID, scenarios.RateLimited(retry_after=0))
    record = fetch(replay)
    assert len(record.publications) == expected.n_publications
    assert cstarts(replay) == [0, 0, 100]


def test_server_error_then_success(replay: ReplayServer) -> None:
    expected = replay.add_profile(SID, 250)
    replay.queue(SID, scenarios.ServerError(502))
    record = fetch(replay)
    assert cstarts(replay) == [0, 0, 100, 200]
    assert [p.author_pub_id for p in record.publications] == [p.author_pub_id for p in expected.publications]


@pytest.mark.parametrize(
    ("scenario", "error", "kind"),
    [
        (scenarios.Captcha(), Blocked, None),
        (scenarios.SigninRedirect(), Blocked, "sign-in"),
        (scenarios.SigninRedirect(offhost=True), Blocked, "sign-in"),
        (scenarios.SorryRedirect(), Blocked, "sorry"),
        (scenarios.Forbidden(), Blocked, None),
        (scenarios.RateLimited(retry_after=0), Blocked, None),
        (scenarios.NotFoundPage(), NotFound, None),
        (scenarios.ServerError(503), FetchError, None),
        (scenarios.CutPage(0.5), ParseError, None),
        (scenarios.ChangedMarkup("rename"), ParseError, None),
        (scenarios.ChangedMarkup("remove"), ParseError, None),
    ],
    ids=lambda value: value.__name__ if isinstance(value, type) else repr(value),
)
def test_failures_raise_their_error(
    replay: ReplayServer, scenario: Scenario, error: type[Exception], kind: str | None
) -> None:
    replay.add_profile(SID, 12)
    replay.set_scenario(SID, scenario)
    with pytest.raises(error) as caught:
        fetch(replay, retries=1, deadline=10.0)
    if kind is not None:
        assert getattr(caught.value, "kind", None) == kind
    # A redirect to a sign-in wall or /sorry/ is seen, not followed.
    assert all(r.path not in (scenarios.SIGNIN_PATH, scenarios.SORRY_PATH) for r in replay.requests)


def test_slow_server_ends_at_the_deadline(replay: ReplayServer) -> None:
    replay.add_profile(SID, 12)
    replay.set_scenario(SID, scenarios.Slow(60))
    with pytest.raises(FetchError):
        fetch(replay, deadline=1.0, timeout=20.0)


def test_drip_feed_ends_at_the_deadline(replay: ReplayServer) -> None:
    replay.add_profile(SID, 12)
    replay.set_scenario(SID, scenarios.DripFeed(0.02))
    with pytest.raises(DeadlineExceeded):
        fetch(replay, deadline=1.0, timeout=20.0)


def test_a_server_repeating_the_same_page_is_not_asked_again_and_again(replay: ReplayServer) -> None:
    # A saved first page with "Show more" enabled, served whatever cstart says:
    # following the button would fetch the same rows for ever.
    sid = replay.add_fixture_page(None, "cherukuri_en_20rows_showmore.html")
    with pytest.raises(ParseError):
        fetch(replay, sid)
    assert len(replay.profile_requests(sid)) <= 2


# -- the command line ---------------------------------------------------------------


def case_id(value: object) -> str:
    return f"exit-{value}" if isinstance(value, int) else repr(value)


def cli() -> list[str]:
    script = Path(sys.executable).with_name("scholar-stats")
    return [str(script)] if script.exists() else [sys.executable, "-m", "crawler"]


def run_fetch(
    replay: ReplayServer, *options: str, scholar_id: str = SID
) -> tuple[subprocess.CompletedProcess[str], float]:
    env = {k: v for k, v in os.environ.items() if k not in PROXY_VARIABLES and k != "SCHOLAR_STATS_BASE_URL"}
    env["NO_PROXY"] = "127.0.0.1,localhost"
    command = [*cli(), "fetch", scholar_id, "--base-url", replay.url, "--delay", "0", *options]
    started = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    return done, time.monotonic() - started


def assert_one_error_line(stderr: str) -> None:
    assert "Traceback" not in stderr
    lines = stderr.splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got {lines!r}"
    assert lines[0].startswith("error: ")


@pytest.fixture
def profile(replay: ReplayServer) -> Iterator[ReplayServer]:
    replay.add_profile(SID, 120)
    yield replay


@pytest.mark.parametrize(
    ("scenario", "code"),
    [
        (scenarios.Captcha(), 3),
        (scenarios.SigninRedirect(), 3),
        (scenarios.SigninRedirect(offhost=True), 3),
        (scenarios.SorryRedirect(), 3),
        (scenarios.Forbidden(), 3),
        (scenarios.RateLimited(retry_after=0), 3),
        (scenarios.NotFoundPage(), 4),
        (scenarios.CutPage(0.5), 5),
        (scenarios.ChangedMarkup("rename"), 5),
        (scenarios.ChangedMarkup("remove"), 5),
        (scenarios.ServerError(503), 1),
        (scenarios.TruncatedBody(0.5), 1),
    ],
    ids=case_id,
)
def test_cli_exit_codes(profile: ReplayServer, scenario: Scenario, code: int) -> None:
    profile.set_scenario(SID, scenario)
    done, _ = run_fetch(profile, "--retries", "1", "--deadline", "20")
    assert done.returncode == code, done.stderr
    assert done.stdout == ""
    assert_one_error_line(done.stderr)


def test_cli_unknown_profile_exits_4(replay: ReplayServer) -> None:
    done, _ = run_fetch(replay, "--retries", "0", scholar_id="nOsUcHpRoFiL")
    assert done.returncode == 4, done.stderr
    assert_one_error_line(done.stderr)
    assert "nOsUcHpRoFiL" in done.stderr


@pytest.mark.slow
@pytest.mark.parametrize(
    "scenario", [scenarios.Slow(60), scenarios.DripFeed(0.05)], ids=["slow", "drip-feed"]
)
def test_cli_deadline_bounds_a_slow_server(profile: ReplayServer, scenario: Scenario) -> None:
    profile.set_scenario(SID, scenario)
    done, seconds = run_fetch(profile, "--deadline", "3", "--timeout", "20")
    assert done.returncode == 1, done.stderr
    assert_one_error_line(done.stderr)
    # A generous bound: this checks that the deadline is enforced, not speed.
    assert seconds < 10


def test_cli_fetch_after_429_and_5xx_succeeds(profile: ReplayServer) -> None:
    profile.queue(SID, scenarios.RateLimited(retry_after=0), scenarios.ServerError(503))
    done, _ = run_fetch(profile, "--retries", "3", "--deadline", "30")
    assert done.returncode == 0, done.stderr
    assert '"scholar_id": "rEpLaYpRoFiL"' in done.stdout
    assert cstarts(profile) == [0, 0, 0, 100]


# -- whose pages --------------------------------------------------------------------

OTHER = "oThErPrOfIlE"


def test_a_later_page_of_another_profile_is_refused(replay: ReplayServer) -> None:
    replay.add_profile(SID, 150)
    replay.add_profile(OTHER, 150, seed=7)
    replay.set_scenario(SID, scenarios.OtherProfile(OTHER, from_cstart=100))
    with pytest.raises(ParseError) as info:
        fetch(replay)
    assert info.value.exit_code == 5
    assert f"asked for {SID}, but the page at cstart=100 is the profile of {OTHER}" in str(info.value)


def test_cli_a_later_page_of_another_profile_exits_5(replay: ReplayServer) -> None:
    replay.add_profile(SID, 150)
    replay.add_profile(OTHER, 250, seed=7)
    replay.set_scenario(SID, scenarios.OtherProfile(OTHER, from_cstart=100))
    done, _ = run_fetch(replay, "--retries", "0")
    assert done.returncode == 5, done.stderr
    assert done.stdout == ""
    assert_one_error_line(done.stderr)
    assert OTHER in done.stderr and "cstart=100" in done.stderr


def mocked_source(pages: dict[int, bytes]) -> Any:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200,
            content=pages[int(request.url.params.get("cstart") or 0)],
            headers={"content-type": "text/html; charset=utf-8"},
        )

    options = HttpOptions(delay=0.0, retries=0, deadline=30.0)
    return open_source(
        SourceSettings(http=options, base_url="http://scholar.test", transport=httpx.MockTransport(answer))
    )


def generated_pages(scholar_id: str, n: int, seed: int = 0) -> dict[int, bytes]:
    with ReplayServer() as server:
        server.add_profile(scholar_id, n, seed=seed)
        return {
            c: httpx.get(server.profile_url(scholar_id, cstart=c, pagesize=100)).content
            for c in range(0, n, 100)
        }


def test_a_later_page_whose_rows_belong_to_another_profile_is_refused() -> None:
    pages = generated_pages(SID, 150)
    # The header still names SID; only the rows' publication IDs are another's.
    pages[100] = pages[100].replace(
        f"citation_for_view={SID}:".encode(), f"citation_for_view={OTHER}:".encode()
    )
    source = mocked_source(pages)
    with pytest.raises(ParseError, match=f"cstart=100 mixes the profiles {OTHER}, {SID}"):
        source.fetch(AuthorRef(SID))


def test_a_page_that_names_no_profile_is_refused() -> None:
    pages = generated_pages(SID, 150)
    # Without its own canonical link, form and row IDs, only our request URL names SID.
    pages[100] = pages[100].replace(SID.encode(), b"")
    # Its rows' IDs (":PUBID") are then not Scholar's either; the row check refuses first.
    source = mocked_source(pages)
    with pytest.raises(ParseError, match=r"cstart=100 names no profile|publication ID ':[\w-]{12}'"):
        source.fetch(AuthorRef(SID))


def test_a_first_page_mixing_two_profiles_is_refused() -> None:
    pages = generated_pages(SID, 50)
    pages[0] = pages[0].replace(
        f"citation_for_view={SID}:".encode(), f"citation_for_view={OTHER}:".encode(), 1
    )
    with pytest.raises(ParseError, match="cstart=0 mixes the profiles"):
        mocked_source(pages).fetch(AuthorRef(SID))
