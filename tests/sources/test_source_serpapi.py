"""SerpApi's google_scholar_author engine, against a local stand-in and httpx.MockTransport."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import httpx
import pytest
from standin import Reply, StandIn, file_reply, json_reply, load, quiet_client

from crawler.errors import Blocked, NotFound, ParseError, SourceUnavailable, UsageError
from crawler.net.http import HttpOptions, PoliteClient, build_client
from crawler.sources import AuthorRef, SourceSettings, open_source
from crawler.sources import serpapi as serpapi_module
from crawler.sources.scholar_page import parse_profile
from crawler.sources.serpapi import SerpApiSource

SCHOLAR_ID = "AoKJ_g4AAAAJ"
KEY = "test-secret-key-123"
PAGE = Path(__file__).parents[1] / "fixtures" / "scholar" / "denner_pt-PT_176rows_browser-saved.html"


def serve_profile(stand_in: StandIn) -> None:
    stand_in.on("/search.json", file_reply("serpapi_author_start0.json"), query={"start": "0"})
    stand_in.on("/search.json", file_reply("serpapi_author_start100.json"), query={"start": "100"})


def source_for(
    stand_in: StandIn, http: HttpOptions, *, key: str | None = KEY, sleeps: list[float] | None = None
) -> SerpApiSource:
    return SerpApiSource(quiet_client(http, sleeps), stand_in.url, key)


def test_profile_across_two_pages_matches_the_scholar_page(stand_in: StandIn, fast_http: HttpOptions) -> None:
    serve_profile(stand_in)
    record = source_for(stand_in, fast_http).fetch(AuthorRef(SCHOLAR_ID))
    page = parse_profile(PAGE.read_bytes(), url=f"https://scholar.google.com/citations?user={SCHOLAR_ID}")

    assert record.source == "serpapi"
    assert record.complete is True
    assert record.profile.scholar_id == SCHOLAR_ID
    assert record.profile.name == "Carlos Denner dos Santos"
    assert record.profile.affiliation == "Videns AI"
    assert record.profile.interests == ("Data Science & Artificial Intelligence",)
    assert record.profile.email_domain == "videns.ai"
    assert record.profile.homepage == "https://www.linkedin.com/in/carlosdenner/"
    assert record.metrics == page.metrics
    assert (record.metrics.citations, record.metrics.citations_since, record.metrics.since_year) == (
        1799,
        1134,
        2020,
    )
    assert (record.metrics.h_index, record.metrics.i10_index_since) == (17, 19)
    assert record.cites_per_year == page.cites_per_year
    assert len(record.publications) == 176
    for ours, scholars in zip(record.publications, page.publications, strict=True):
        assert ours.author_pub_id == scholars.author_pub_id
        assert ours.title == scholars.title
        assert ours.authors == scholars.authors
        assert ours.venue == scholars.venue
        assert ours.year == scholars.year
        assert ours.cites_id == scholars.cites_id
        # SerpApi leaves the count of an uncited article out: not provided, not 0.
        assert ours.citations == (scholars.citations or None)
    assert sum(p.citations or 0 for p in record.publications) == 1799
    assert any("87 articles have no citation count" in note for note in record.notes)

    assert [r.query["start"] for r in stand_in.requests] == ["0", "100"]
    first = stand_in.requests[0].query
    assert first["engine"] == "google_scholar_author"
    assert first["author_id"] == SCHOLAR_ID
    assert first["num"] == "100"
    assert first["hl"] == "en"
    assert first["api_key"] == KEY
    assert stand_in.unmatched == []


def test_open_source_reads_key_and_url_from_the_environment(
    stand_in: StandIn, fast_http: HttpOptions, monkeypatch: pytest.MonkeyPatch
) -> None:
    serve_profile(stand_in)
    monkeypatch.setenv("SERPAPI_KEY", "from-env")
    monkeypatch.setenv("SCHOLAR_STATS_SERPAPI_URL", stand_in.url)
    source = open_source("serpapi", SourceSettings(http=fast_http))
    try:
        record = source.fetch(AuthorRef(SCHOLAR_ID))
    finally:
        source.close()
    assert record.metrics.citations == 1799
    assert {r.query["api_key"] for r in stand_in.requests} == {"from-env"}


def test_rate_limit_honours_retry_after_then_succeeds(stand_in: StandIn, fast_http: HttpOptions) -> None:
    stand_in.on(
        "/search.json",
        json_reply({"error": "Your account has run out of searches."}, 429, {"Retry-After": "7"}),
        file_reply("serpapi_author_start0.json"),
        query={"start": "0"},
    )
    stand_in.on("/search.json", file_reply("serpapi_author_start100.json"), query={"start": "100"})
    sleeps: list[float] = []
    record = source_for(stand_in, fast_http, sleeps=sleeps).fetch(AuthorRef(SCHOLAR_ID))
    assert 7.0 in sleeps
    assert len(record.publications) == 176
    assert [r.query["start"] for r in stand_in.requests] == ["0", "0", "100"]


def test_rate_limit_that_persists_is_blocked_without_leaking_the_key(
    stand_in: StandIn, fast_http: HttpOptions
) -> None:
    stand_in.on("/search.json", json_reply({"error": "Too many requests"}, 429, {"Retry-After": "1"}))
    with pytest.raises(Blocked) as caught:
        source_for(stand_in, fast_http).fetch(AuthorRef(SCHOLAR_ID))
    assert caught.value.status == 429
    assert caught.value.kind == "rate-limited"
    assert "SerpApi" in str(caught.value)
    assert KEY not in str(caught.value)
    assert len(stand_in.requests) == 1 + fast_http.retries


def test_invalid_key_is_source_unavailable(stand_in: StandIn, fast_http: HttpOptions) -> None:
    stand_in.on("/search.json", file_reply("serpapi_invalid_key.json", 401))
    with pytest.raises(SourceUnavailable) as caught:
        source_for(stand_in, fast_http).fetch(AuthorRef(SCHOLAR_ID))
    assert caught.value.status == 401
    assert "SERPAPI_KEY" in str(caught.value)
    assert KEY not in str(caught.value)
    assert len(stand_in.requests) == 1


def test_forbidden_account_is_source_unavailable(stand_in: StandIn, fast_http: HttpOptions) -> None:
    stand_in.on("/search.json", json_reply({"error": "This account has been deleted."}, 403))
    with pytest.raises(SourceUnavailable) as caught:
        source_for(stand_in, fast_http).fetch(AuthorRef(SCHOLAR_ID))
    assert caught.value.status == 403


def test_missing_key_is_source_unavailable_without_a_request(
    stand_in: StandIn, fast_http: HttpOptions
) -> None:
    with pytest.raises(SourceUnavailable, match="SERPAPI_KEY"):
        source_for(stand_in, fast_http, key=None).fetch(AuthorRef(SCHOLAR_ID))
    assert stand_in.requests == []


def test_no_results_for_the_profile_is_not_found(stand_in: StandIn, fast_http: HttpOptions) -> None:
    stand_in.on("/search.json", file_reply("serpapi_no_results.json"))
    with pytest.raises(NotFound, match=SCHOLAR_ID):
        source_for(stand_in, fast_http).fetch(AuthorRef(SCHOLAR_ID))


def test_http_404_is_not_found(stand_in: StandIn, fast_http: HttpOptions) -> None:
    stand_in.on("/search.json", json_reply({"error": "Not found"}, 404))
    with pytest.raises(NotFound) as caught:
        source_for(stand_in, fast_http).fetch(AuthorRef(SCHOLAR_ID))
    assert KEY not in str(caught.value)


def test_a_body_that_is_not_json_is_a_parse_error(stand_in: StandIn, fast_http: HttpOptions) -> None:
    stand_in.on(
        "/search.json", Reply(200, b"<html><body>Bad gateway</body></html>", {"Content-Type": "text/html"})
    )
    with pytest.raises(ParseError, match="not JSON"):
        source_for(stand_in, fast_http).fetch(AuthorRef(SCHOLAR_ID))


def test_an_id_that_is_not_a_scholar_id_is_a_usage_error(stand_in: StandIn, fast_http: HttpOptions) -> None:
    with pytest.raises(UsageError, match="Google Scholar ID"):
        source_for(stand_in, fast_http).fetch(AuthorRef("A5041365215"))
    assert stand_in.requests == []


# -- httpx.MockTransport unit cases -------------------------------------------------


def mock_source(pages: dict[int, dict[str, Any]], http: HttpOptions) -> tuple[SerpApiSource, list[int]]:
    starts: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        start = int(request.url.params["start"])
        starts.append(start)
        return httpx.Response(200, json=pages[start])

    client = PoliteClient(build_client(http, transport=httpx.MockTransport(handler)), http)
    return SerpApiSource(client, "https://serpapi.test", KEY), starts


def test_the_since_column_is_read_whatever_its_year(fast_http: HttpOptions) -> None:
    first = load("serpapi_author_start0.json")
    first["serpapi_pagination"] = {}
    for row in first["cited_by"]["table"]:
        for columns in row.values():
            columns["since_2031"] = columns.pop("since_2020")
    source, _ = mock_source({0: first}, fast_http)
    record = source.fetch(AuthorRef(SCHOLAR_ID))
    assert record.metrics.since_year == 2031
    assert (record.metrics.citations_since, record.metrics.h_index_since, record.metrics.i10_index_since) == (
        1134,
        14,
        19,
    )
    assert len(record.publications) == 100


def test_missing_fields_stay_not_provided(fast_http: HttpOptions) -> None:
    page = {
        "author": {"name": "A. Person"},
        "articles": [{"title": "Untitled work", "citation_id": f"{SCHOLAR_ID}:abc"}],
    }
    source, _ = mock_source({0: page}, fast_http)
    record = source.fetch(AuthorRef(SCHOLAR_ID))
    assert record.metrics.citations is None
    assert record.metrics.h_index is None
    assert record.metrics.since_year is None
    assert record.cites_per_year == ()
    assert record.profile.email_domain is None
    pub = record.publications[0]
    assert (pub.citations, pub.year, pub.venue, pub.cites_id) == (None, None, None, None)


def test_a_later_page_without_results_ends_the_list(fast_http: HttpOptions) -> None:
    first = load("serpapi_author_start0.json")
    source, starts = mock_source({0: first, 100: load("serpapi_no_results.json")}, fast_http)
    record = source.fetch(AuthorRef(SCHOLAR_ID))
    assert starts == [0, 100]
    assert len(record.publications) == 100


def test_a_next_link_that_does_not_move_on_is_a_parse_error(fast_http: HttpOptions) -> None:
    first = load("serpapi_author_start0.json")
    looping = copy.deepcopy(load("serpapi_author_start100.json"))
    looping["serpapi_pagination"] = {
        "next": "https://serpapi.com/search.json?engine=google_scholar_author&start=100"
    }
    source, starts = mock_source({0: first, 100: looping}, fast_http)
    with pytest.raises(ParseError, match="starts at 100"):
        source.fetch(AuthorRef(SCHOLAR_ID))
    assert starts == [0, 100]


def test_api_delay_replaces_only_the_scholar_default() -> None:
    settings = SourceSettings(http=HttpOptions())
    source = serpapi_module.open_source(settings)
    try:
        assert source.client.options.delay == serpapi_module.DEFAULT_DELAY
        assert source.client.options.headers["Accept"] == "application/json"
    finally:
        source.close()
    slow = serpapi_module.open_source(SourceSettings(http=HttpOptions(delay=9.0)))
    try:
        assert slow.client.options.delay == 9.0
    finally:
        slow.close()


# -- the next page's offset, in every form SerpApi writes it ------------------------


@pytest.mark.parametrize(
    "first_page", ["serpapi_author_start0.json", "serpapi_author_start0_next_start.json"]
)
def test_the_next_offset_is_read_as_cstart_or_start(
    stand_in: StandIn, fast_http: HttpOptions, first_page: str
) -> None:
    stand_in.on("/search.json", file_reply(first_page), query={"start": "0"})
    stand_in.on("/search.json", file_reply("serpapi_author_start100.json"), query={"start": "100"})
    record = source_for(stand_in, fast_http).fetch(AuthorRef(SCHOLAR_ID))
    assert len(record.publications) == 176
    assert [seen.query["start"] for seen in stand_in.requests] == ["0", "100"]
    assert stand_in.unmatched == []


def test_the_real_next_link_names_cstart() -> None:
    # SerpApi's documented example: ...author_id=...&cstart=20&engine=google_scholar_author&hl=en
    assert "&cstart=100&" in load("serpapi_author_start0.json")["serpapi_pagination"]["next"]
    assert "&start=100" in load("serpapi_author_start0_next_start.json")["serpapi_pagination"]["next"]


@pytest.mark.parametrize(
    "next_link",
    [
        "https://serpapi.com/search.json?author_id=AoKJ_g4AAAAJ&engine=google_scholar_author&hl=en",
        "https://serpapi.com/search.json?author_id=AoKJ_g4AAAAJ&cstart=next&engine=google_scholar_author",
        # A digit to str.isdigit() that int() refuses.
        "https://serpapi.com/search.json?author_id=AoKJ_g4AAAAJ&cstart=\u00b2&engine=google_scholar_author",
    ],
)
def test_a_next_link_without_an_offset_goes_on_after_the_articles_received(
    fast_http: HttpOptions, next_link: str
) -> None:
    first = load("serpapi_author_start0.json")
    first["serpapi_pagination"] = {"next": next_link}
    source, starts = mock_source({0: first, 100: load("serpapi_author_start100.json")}, fast_http)
    record = source.fetch(AuthorRef(SCHOLAR_ID))
    assert (starts, len(record.publications)) == ([0, 100], 176)


def test_a_next_link_that_is_no_url_is_a_parse_error(fast_http: HttpOptions) -> None:
    first = load("serpapi_author_start0.json")
    first["serpapi_pagination"] = {"next": "https://[serpapi.com/search.json?cstart=100&api_key=SECRET"}
    source, starts = mock_source({0: first}, fast_http)
    with pytest.raises(ParseError, match="not a URL") as info:
        source.fetch(AuthorRef(SCHOLAR_ID))
    assert "SECRET" not in str(info.value) and "SECRET" not in str(info.value.url)
    assert starts == [0]


def test_three_pages_with_cstart_links(fast_http: HttpOptions) -> None:
    # A profile over 200 articles: each page's link names the next cstart.
    first = load("serpapi_author_start0.json")
    second = copy.deepcopy(first)
    second["articles"] = [dict(a, citation_id=a["citation_id"] + "x") for a in first["articles"]]
    second["serpapi_pagination"] = {
        "next": first["serpapi_pagination"]["next"].replace("cstart=100", "cstart=200")
    }
    third = load("serpapi_author_start100.json")
    source, starts = mock_source({0: first, 100: second, 200: third}, fast_http)
    record = source.fetch(AuthorRef(SCHOLAR_ID))
    assert starts == [0, 100, 200]
    assert len(record.publications) == 276


@pytest.mark.parametrize("value", [-5, "-5", "1e9", "4.5", "12 articles", True, 2.5])
def test_a_count_that_is_not_one_is_refused(fast_http: HttpOptions, value: object) -> None:
    first = load("serpapi_author_start0.json")
    first["serpapi_pagination"] = {}
    first["cited_by"]["table"][0]["citations"]["all"] = value
    source, _ = mock_source({0: first}, fast_http)
    with pytest.raises(ParseError, match=r"cited_by\.table\.citations\.all should be a count"):
        source.fetch(AuthorRef(SCHOLAR_ID))


def test_an_article_listed_twice_counts_once_and_is_noted(fast_http: HttpOptions) -> None:
    first = load("serpapi_author_start0.json")
    first["serpapi_pagination"] = {}
    first["articles"].append(copy.deepcopy(first["articles"][0]))
    source, _ = mock_source({0: first}, fast_http)
    record = source.fetch(AuthorRef(SCHOLAR_ID))
    assert len(record.publications) == 100
    assert any(
        "listed twice" in note and first["articles"][0]["citation_id"] in note for note in record.notes
    )


@pytest.mark.parametrize(
    "citation_id", [f"{SCHOLAR_ID}:abc#1", "W1072179852", f"{SCHOLAR_ID}:a&b", "<b>x</b>"]
)
def test_a_citation_id_not_shaped_like_scholars_is_refused(fast_http: HttpOptions, citation_id: str) -> None:
    page = {"author": {"name": "A. Person"}, "articles": [{"title": "T", "citation_id": citation_id}]}
    source, _ = mock_source({0: page}, fast_http)
    with pytest.raises(ParseError, match="publication ID"):
        source.fetch(AuthorRef(SCHOLAR_ID))
