"""Semantic Scholar's Graph API, against a local stand-in and httpx.MockTransport."""

from __future__ import annotations

import httpx
import pytest
from standin import Reply, StandIn, file_reply, load, quiet_client

from crawler.errors import Blocked, NotFound, ParseError, SourceUnavailable, UsageError
from crawler.net.http import HttpOptions, PoliteClient, build_client
from crawler.sources import AuthorRef, SourceSettings, open_source
from crawler.sources.semantic_scholar import AUTHOR_FIELDS, PAPER_FIELDS, SemanticScholarSource, author_id

SCHOLAR_ID = "AoKJ_g4AAAAJ"
S2_ID = "2112416497"
AUTHOR = AuthorRef(SCHOLAR_ID, ids={"semantic-scholar": S2_ID})
AUTHOR_PATH = f"/graph/v1/author/{S2_ID}"
PAPERS_PATH = f"/graph/v1/author/{S2_ID}/papers"


def serve_author(stand_in: StandIn) -> None:
    stand_in.on(AUTHOR_PATH, file_reply("s2_author.json"))
    stand_in.on(PAPERS_PATH, file_reply("s2_papers_offset0.json"), query={"offset": "0"})
    stand_in.on(PAPERS_PATH, file_reply("s2_papers_offset100.json"), query={"offset": "100"})


def source_for(
    stand_in: StandIn, http: HttpOptions, *, key: str | None = None, sleeps: list[float] | None = None
) -> SemanticScholarSource:
    return SemanticScholarSource(quiet_client(http, sleeps), stand_in.url, api_key=key)


def test_author_and_every_papers_page(stand_in: StandIn, fast_http: HttpOptions) -> None:
    serve_author(stand_in)
    record = source_for(stand_in, fast_http).fetch(AUTHOR)

    assert (record.source, record.profile.scholar_id, record.profile.name) == (
        "semantic-scholar",
        SCHOLAR_ID,
        "C. D. Santos",
    )
    assert record.profile.affiliation == "Universidade de Brasília; Videns AI"
    assert record.profile.homepage == "https://www.linkedin.com/in/carlosdenner/"
    assert (record.metrics.citations, record.metrics.h_index) == (1270, 15)
    # Semantic Scholar gives no i10-index and no "since" column: not provided, never 0.
    assert record.metrics.i10_index is None
    assert (record.metrics.citations_since, record.metrics.since_year) == (None, None)
    assert record.cites_per_year == ()
    assert any("i10-index" in note for note in record.notes)

    assert len(record.publications) == 130
    top = record.publications[0]
    assert top.title == "Artificial intelligence regulation: a framework for governance"
    assert (top.year, top.citations, top.venue) == (2021, 353, "Ethics and Information Technology")
    assert top.authors == "PGR De Almeida, CD Dos Santos, JS Farias"
    assert sum(p.citations or 0 for p in record.publications) == 1270
    book = next(p for p in record.publications if p.title.startswith("Inovação no setor público"))
    assert book.venue is None

    assert stand_in.requests[0].query == {"fields": AUTHOR_FIELDS}
    papers = stand_in.requests[1:]
    assert [r.query["offset"] for r in papers] == ["0", "100"]
    assert {r.query["limit"] for r in papers} == {"100"}
    assert {r.query["fields"] for r in papers} == {PAPER_FIELDS}
    assert all("x-api-key" not in r.headers for r in stand_in.requests)
    assert stand_in.unmatched == []


def test_key_goes_in_the_header(
    stand_in: StandIn, fast_http: HttpOptions, monkeypatch: pytest.MonkeyPatch
) -> None:
    serve_author(stand_in)
    monkeypatch.setenv("SEMANTIC_SCHOLAR_API_KEY", "s2-key")
    monkeypatch.setenv("SCHOLAR_STATS_SEMANTIC_SCHOLAR_URL", stand_in.url)
    source = open_source("semantic-scholar", SourceSettings(http=fast_http))
    try:
        record = source.fetch(AUTHOR)
    finally:
        source.close()
    assert record.metrics.citations == 1270
    assert {r.headers.get("x-api-key") for r in stand_in.requests} == {"s2-key"}
    assert all("s2-key" not in str(r.query) for r in stand_in.requests)


def test_rate_limit_honours_retry_after_then_succeeds(stand_in: StandIn, fast_http: HttpOptions) -> None:
    serve_author(stand_in)
    stand_in.on(
        PAPERS_PATH,
        file_reply("s2_rate_limited.json", 429, {"Retry-After": "4"}),
        file_reply("s2_papers_offset100.json"),
        query={"offset": "100"},
    )
    sleeps: list[float] = []
    record = source_for(stand_in, fast_http, sleeps=sleeps).fetch(AUTHOR)
    assert 4.0 in sleeps
    assert len(record.publications) == 130


def test_rate_limit_that_persists_is_blocked(stand_in: StandIn, fast_http: HttpOptions) -> None:
    stand_in.on(AUTHOR_PATH, file_reply("s2_rate_limited.json", 429))
    with pytest.raises(Blocked) as caught:
        source_for(stand_in, fast_http).fetch(AUTHOR)
    assert caught.value.status == 429
    assert "SEMANTIC_SCHOLAR_API_KEY" in str(caught.value)
    assert len(stand_in.requests) == 1 + fast_http.retries


def test_unknown_author_is_not_found(stand_in: StandIn, fast_http: HttpOptions) -> None:
    stand_in.on(AUTHOR_PATH, file_reply("s2_not_found.json", 404))
    with pytest.raises(NotFound, match=S2_ID):
        source_for(stand_in, fast_http).fetch(AUTHOR)


def test_refused_key_is_source_unavailable(stand_in: StandIn, fast_http: HttpOptions) -> None:
    stand_in.on(AUTHOR_PATH, file_reply("s2_forbidden.json", 403))
    with pytest.raises(SourceUnavailable, match="SEMANTIC_SCHOLAR_API_KEY") as caught:
        source_for(stand_in, fast_http, key="wrong").fetch(AUTHOR)
    assert caught.value.status == 403


def test_forbidden_without_key_is_blocked(stand_in: StandIn, fast_http: HttpOptions) -> None:
    stand_in.on(AUTHOR_PATH, file_reply("s2_forbidden.json", 403))
    with pytest.raises(Blocked) as caught:
        source_for(stand_in, fast_http).fetch(AUTHOR)
    assert caught.value.status == 403


def test_a_body_that_is_not_json_is_a_parse_error(stand_in: StandIn, fast_http: HttpOptions) -> None:
    stand_in.on(AUTHOR_PATH, Reply(200, b"[1, 2, 3]", {"Content-Type": "application/json"}))
    with pytest.raises(ParseError, match="expected a JSON object"):
        source_for(stand_in, fast_http).fetch(AUTHOR)


@pytest.mark.parametrize("ids", [{}, {"semantic-scholar": "C. D. Santos"}, {"openalex": "A5041365215"}])
def test_ids_of_the_wrong_kind_are_usage_errors(
    stand_in: StandIn, fast_http: HttpOptions, ids: dict[str, str]
) -> None:
    with pytest.raises(UsageError, match="Semantic Scholar"):
        source_for(stand_in, fast_http).fetch(AuthorRef(SCHOLAR_ID, ids=ids))
    assert stand_in.requests == []


def test_author_page_url_is_accepted_as_id() -> None:
    url = f"https://www.semanticscholar.org/author/C.-D.-Santos/{S2_ID}"
    assert author_id(AuthorRef(SCHOLAR_ID, ids={"semantic-scholar": url})) == S2_ID


# -- httpx.MockTransport unit cases -------------------------------------------------


def test_missing_fields_stay_not_provided(fast_http: HttpOptions) -> None:
    offsets: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == PAPERS_PATH:
            offsets.append(request.url.params["offset"])
            return httpx.Response(200, json={"offset": 0, "data": [{"paperId": "abc", "title": None}]})
        return httpx.Response(200, json={"authorId": S2_ID, "name": "A. Person"})

    client = PoliteClient(build_client(fast_http, transport=httpx.MockTransport(handler)), fast_http)
    record = SemanticScholarSource(client, "https://s2.test").fetch(AUTHOR)
    assert offsets == ["0"]
    assert (record.metrics.citations, record.metrics.h_index, record.metrics.i10_index) == (None, None, None)
    assert (record.profile.affiliation, record.profile.homepage) == (None, None)
    pub = record.publications[0]
    assert (pub.author_pub_id, pub.title, pub.citations, pub.year, pub.venue) == ("abc", "", None, None, None)


def test_an_offset_that_does_not_move_on_is_a_parse_error(fast_http: HttpOptions) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == PAPERS_PATH:
            return httpx.Response(
                200, json={"offset": 0, "next": 0, "data": load("s2_papers_offset100.json")["data"]}
            )
        return httpx.Response(200, json=load("s2_author.json"))

    client = PoliteClient(build_client(fast_http, transport=httpx.MockTransport(handler)), fast_http)
    with pytest.raises(ParseError, match="does not move past"):
        SemanticScholarSource(client, "https://s2.test").fetch(AUTHOR)
