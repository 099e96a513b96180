"""The scholarly source: scholarly's parsing, our transport, against the local Scholar.

scholarly pauses 1-2 s before every request (``time.sleep`` in its navigator);
the ``no_pause`` fixture replaces that module's ``time`` so tests do not wait.
Nothing else of scholarly is replaced, except where a test says so.
"""

from __future__ import annotations

import dataclasses
import gc
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from replay import Captcha, CutPage, Forbidden, RateLimited, ReplayServer, SigninRedirect, SorryRedirect

from crawler.errors import (
    Blocked,
    FetchError,
    NotFound,
    ParseError,
    SourceUnavailable,
    TruncatedPage,
    UsageError,
)
from crawler.models import record_to_dict
from crawler.net.http import HttpOptions
from crawler.sources import AuthorRef, SourceSettings, open_source
from crawler.sources import scholarly_source as module

scholarly = pytest.importorskip("scholarly")

SCHOLAR_ID = "abcdefABCDEF"
FIXTURES = Path(__file__).parents[1] / "fixtures" / "scholar"


@pytest.fixture
def no_pause(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scholarly._navigator, "time", types.SimpleNamespace(sleep=lambda seconds: None))


@pytest.fixture
def settings(replay: ReplayServer, fast_http: HttpOptions) -> SourceSettings:
    return SourceSettings(http=fast_http, base_url=replay.url)


def fetch(name: str, settings: SourceSettings, scholar_id: str = SCHOLAR_ID) -> Any:
    source = open_source(name, settings)
    try:
        return source.fetch(AuthorRef(scholar_id))
    finally:
        source.close()


# What scholarly cannot give, each documented in docs/sources.md; the rest must be equal.
SCHOLARLY_LACKS = {("metrics", "since_year"), ("publications", "authors")}


def test_same_record_as_the_scholar_source_field_by_field(
    replay: ReplayServer, settings: SourceSettings, no_pause: None
) -> None:
    expected = replay.add_profile(SCHOLAR_ID, 150, seed=3)
    ours = record_to_dict(fetch("scholar", settings))
    replay.reset()
    theirs = record_to_dict(fetch("scholarly", settings))
    assert [r.query.get("cstart", "0") for r in replay.profile_requests(SCHOLAR_ID)] == ["0", "100"]

    assert theirs["source"] == "scholarly" and ours["source"] == "scholar"
    assert theirs["scholar_id"] == ours["scholar_id"] == SCHOLAR_ID
    assert theirs["complete"] is ours["complete"] is True
    assert theirs["profile"] == ours["profile"]
    for key, value in ours["metrics"].items():
        if ("metrics", key) in SCHOLARLY_LACKS:
            assert theirs["metrics"][key] is None
        else:
            assert theirs["metrics"][key] == value, key
    assert theirs["metrics"]["citations"] == expected.citations
    assert theirs["cites_per_year"] == ours["cites_per_year"]
    assert len(theirs["publications"]) == len(ours["publications"]) == 150
    for mine, other in zip(ours["publications"], theirs["publications"], strict=True):
        for key, value in mine.items():
            if ("publications", key) in SCHOLARLY_LACKS:
                assert other[key] is None
            else:
                assert other[key] == value, (mine["author_pub_id"], key)
    assert any("since" in note for note in theirs["notes"])
    assert any("authors" in note for note in theirs["notes"])


def test_one_source_serves_several_authors(
    replay: ReplayServer, settings: SourceSettings, no_pause: None
) -> None:
    # A run opens each source once for all authors; scholarly drops and closes
    # its old sessions in between, which must not close our client.
    replay.add_profile(SCHOLAR_ID, 12, seed=1)
    replay.add_profile("ABCDEFabcdef", 7, seed=2)
    source = open_source("scholarly", settings)
    try:
        first = source.fetch(AuthorRef(SCHOLAR_ID))
        gc.collect()
        second = source.fetch(AuthorRef("ABCDEFabcdef"))
    finally:
        source.close()
    assert (len(first.publications), len(second.publications)) == (12, 7)
    assert second.profile.scholar_id == "ABCDEFabcdef"


def test_a_saved_page_through_a_mock_transport(
    fast_http: HttpOptions, expected_values: dict[str, Any], no_pause: None
) -> None:
    body = (FIXTURES / "bohlooli_en_50rows.html").read_bytes()
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, content=body, headers={"Content-Type": "text/html; charset=ISO-8859-1"})

    settings = SourceSettings(http=fast_http, transport=httpx.MockTransport(handler))
    record = fetch("scholarly", settings, "cIn8pGEAAAAJ")
    want = expected_values["bohlooli_en_50rows.html"]
    assert [url.split("?")[0] for url in seen] == ["https://scholar.google.com/citations"]
    assert record.profile.name == want["name"]
    assert record.profile.affiliation == want["affiliation"]
    assert list(record.profile.interests) == want["interests"]
    assert record.profile.email_domain == "eng.ui.ac.ir"
    assert (record.metrics.citations, record.metrics.citations_since) == (
        want["citedby"],
        want["citedby_since"],
    )
    assert (record.metrics.h_index, record.metrics.i10_index_since) == (
        want["hindex"],
        want["i10index_since"],
    )
    assert record.cites_per_year_map == {int(y): c for y, c in want["cites_per_year"].items()}
    assert len(record.publications) == want["n_publication_rows"]
    for pub, first in zip(record.publications, want["first3"], strict=False):
        assert (pub.title, pub.citations, pub.year) == (first["title"], first["num_citations"], first["year"])


def test_unknown_profile_is_not_found_at_once(
    replay: ReplayServer, settings: SourceSettings, no_pause: None
) -> None:
    with pytest.raises(NotFound, match="unknownIDxyz"):
        fetch("scholarly", settings, "unknownIDxyz")
    # scholarly alone would ask ten times; our transport stops at the first 404.
    assert len(replay.requests) == 1


@pytest.mark.parametrize(
    ("scenario", "kind"),
    [
        (Captcha(), "captcha"),
        (Forbidden(), "http-403"),
        (SorryRedirect(), "sorry"),
        (SigninRedirect(), "sign-in"),
    ],
)
def test_blocking_stops_the_fetch_at_once(
    replay: ReplayServer, settings: SourceSettings, no_pause: None, scenario: Any, kind: str
) -> None:
    replay.add_profile(SCHOLAR_ID, 10)
    replay.set_scenario(SCHOLAR_ID, scenario)
    with pytest.raises(Blocked) as caught:
        fetch("scholarly", settings)
    assert caught.value.kind == kind
    # No second session, no browser for the CAPTCHA: one profile request, then stop.
    assert len(replay.profile_requests(SCHOLAR_ID)) == 1


def test_a_cut_off_page_is_not_read_as_a_shorter_profile(
    replay: ReplayServer, settings: SourceSettings, no_pause: None
) -> None:
    replay.add_profile(SCHOLAR_ID, 80)
    replay.queue(SCHOLAR_ID, CutPage(0.6))
    with pytest.raises(TruncatedPage):
        fetch("scholarly", settings)


def test_rate_limit_is_retried_after_retry_after(
    replay: ReplayServer, settings: SourceSettings, no_pause: None
) -> None:
    replay.add_profile(SCHOLAR_ID, 30)
    replay.queue(SCHOLAR_ID, RateLimited(retry_after=0))
    record = fetch("scholarly", settings)
    assert len(record.publications) == 30
    assert len(replay.profile_requests(SCHOLAR_ID)) == 2


def test_missing_extra_is_source_unavailable(monkeypatch: pytest.MonkeyPatch, fast_http: HttpOptions) -> None:
    monkeypatch.setitem(sys.modules, "scholarly", None)
    with pytest.raises(SourceUnavailable, match=r"scholar-stats\[scholarly\]"):
        fetch("scholarly", SourceSettings(http=fast_http))


def test_an_id_that_is_not_a_scholar_id_is_a_usage_error(fast_http: HttpOptions) -> None:
    with pytest.raises(UsageError, match="Google Scholar ID"):
        fetch("scholarly", SourceSettings(http=fast_http), "A5041365215")


# -- scholarly's own exceptions, raised where scholarly raises them --------------------


@pytest.fixture
def failing_fill(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[BaseException]]:
    """Make ``scholarly.fill`` raise the exception the test puts in the list."""
    raised: list[BaseException] = []

    def fill(*args: Any, **kwargs: Any) -> Any:
        raise raised[0]

    monkeypatch.setattr(scholarly.scholarly, "fill", fill)
    yield raised


@pytest.mark.parametrize(
    ("exception", "error"),
    [
        (scholarly.MaxTriesExceededException("Cannot Fetch from Google Scholar."), Blocked),
        (scholarly.DOSException(), Blocked),
        (AttributeError("'NoneType' object has no attribute 'text'"), ParseError),
        (RuntimeError("something else"), FetchError),
        (TypeError("Client.__init__() got an unexpected keyword argument 'proxies'"), SourceUnavailable),
    ],
)
def test_scholarly_exceptions_are_translated(
    failing_fill: list[BaseException],
    fast_http: HttpOptions,
    exception: BaseException,
    error: type[Exception],
) -> None:
    failing_fill.append(exception)
    with pytest.raises(error) as caught:
        fetch("scholarly", SourceSettings(http=fast_http))
    assert type(caught.value) is error
    if error is SourceUnavailable:
        assert "httpx<0.28" in str(caught.value)


# -- scholarly's proxy modes ------------------------------------------------------


@pytest.mark.skipif(
    tuple(int(p) for p in httpx.__version__.split(".")[:2]) < (0, 28),
    reason="the proxies= removal is httpx 0.28's",
)
def test_proxy_mode_under_httpx_028_is_source_unavailable(
    monkeypatch: pytest.MonkeyPatch, fast_http: HttpOptions
) -> None:
    # scholarly checks a proxy by fetching httpbin.org through it; that probe is
    # the one thing replaced here, so the real session set-up runs and fails.
    monkeypatch.setattr(scholarly.ProxyGenerator, "_check_proxy", lambda self, proxies: True)
    monkeypatch.setenv("SCHOLAR_STATS_SCHOLARLY_PROXY", "single")
    http = dataclasses.replace(fast_http, proxy="http://127.0.0.1:9")
    with pytest.raises(SourceUnavailable, match=r"httpx<0\.28"):
        fetch("scholarly", SourceSettings(http=http))


def test_unknown_proxy_mode_is_a_usage_error(monkeypatch: pytest.MonkeyPatch, fast_http: HttpOptions) -> None:
    monkeypatch.setenv("SCHOLAR_STATS_SCHOLARLY_PROXY", "carrier-pigeon")
    with pytest.raises(UsageError, match="SCHOLAR_STATS_SCHOLARLY_PROXY"):
        fetch("scholarly", SourceSettings(http=fast_http))


def test_scraperapi_mode_without_key_is_source_unavailable(
    monkeypatch: pytest.MonkeyPatch, fast_http: HttpOptions
) -> None:
    monkeypatch.setenv("SCHOLAR_STATS_SCHOLARLY_PROXY", "scraperapi")
    with pytest.raises(SourceUnavailable, match="SCRAPERAPI_KEY"):
        fetch("scholarly", SourceSettings(http=fast_http))


def test_base_url_rewrite_keeps_path_and_query() -> None:
    transport = module.ScholarTransport.__new__(module.ScholarTransport)
    transport.base_url = "http://127.0.0.1:8123/mirror"
    url = httpx.URL("https://scholar.google.com/citations?hl=en&user=abcdefABCDEF&pagesize=100")
    assert (
        transport.target(url) == "http://127.0.0.1:8123/mirror/citations?hl=en&user=abcdefABCDEF&pagesize=100"
    )
    transport.base_url = "https://scholar.google.com"
    assert transport.target(url) == str(url)


def test_hostile_author_fields_are_no_value() -> None:
    # scholarly hands over what the page said: "²" passes str.isdigit() but not
    # int(), and urllib refuses a picture link such as "http://[".
    record = module.record_from_author(
        "amIMrIEAAAAJ",
        {
            "name": "A",
            "url_picture": "http://[",
            "citedby": "\u00b2",
            "hindex": "9" * 5000,
            "i10index": "7",
            "cites_per_year": {"2020": "\u00b3", "2021": "4"},
        },
    )
    assert record.profile.picture_url is None
    assert record.metrics.citations is None and record.metrics.h_index is None
    assert record.metrics.i10_index == 7
    assert record.cites_per_year == ((2021, 4),)
