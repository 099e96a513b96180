"""OpenAlex's authors and works APIs, against a local stand-in and httpx.MockTransport."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from standin import Reply, StandIn, file_reply, json_reply, load, quiet_client

from crawler.errors import Blocked, FetchError, NotFound, ParseError, SourceUnavailable, UsageError
from crawler.net.http import HttpOptions, PoliteClient, build_client
from crawler.sources import AuthorRef, SourceSettings, open_source
from crawler.sources.openalex import PER_PAGE, OpenAlexSource, author_key

SCHOLAR_ID = "AoKJ_g4AAAAJ"
OPENALEX_ID = "A5041365215"
ORCID = "0000-0002-6416-5463"
AUTHOR = AuthorRef(SCHOLAR_ID, ids={"openalex": OPENALEX_ID})
CURSOR1 = "IlsxNTcsICdodHRwczovL29wZW5hbGV4Lm9yZy9XMjk1OTgxMDM5NCddIg=="
CURSOR2 = "IlszLCAnaHR0cHM6Ly9vcGVuYWxleC5vcmcvVzQzODc1NDI3ODQnXSI="


def serve_author(stand_in: StandIn, author_path: str = f"/authors/{OPENALEX_ID}") -> None:
    stand_in.on(author_path, file_reply("openalex_author.json"))
    stand_in.on("/works", file_reply("openalex_works_page1.json"), query={"cursor": "*"})
    stand_in.on("/works", file_reply("openalex_works_page2.json"), query={"cursor": CURSOR1})
    stand_in.on("/works", file_reply("openalex_works_page3.json"), query={"cursor": CURSOR2})


def source_for(
    stand_in: StandIn,
    http: HttpOptions,
    *,
    key: str | None = None,
    mailto: str | None = None,
    sleeps: list[float] | None = None,
) -> OpenAlexSource:
    return OpenAlexSource(quiet_client(http, sleeps), stand_in.url, api_key=key, mailto=mailto)


def test_author_and_every_works_page(stand_in: StandIn, fast_http: HttpOptions) -> None:
    serve_author(stand_in)
    record = source_for(stand_in, fast_http).fetch(AUTHOR)

    assert record.source == "openalex"
    assert record.profile.scholar_id == SCHOLAR_ID
    assert record.profile.name == "Carlos Denner dos Santos"
    assert record.profile.affiliation == "Universidade de Brasília"
    assert (record.profile.email_domain, record.profile.homepage, record.profile.picture_url) == (
        None,
        None,
        None,
    )
    assert record.profile.interests == ()
    metrics = record.metrics
    assert (metrics.citations, metrics.h_index, metrics.i10_index) == (1355, 15, 22)
    # No "since" column in OpenAlex: not provided, never 0.
    assert (metrics.citations_since, metrics.h_index_since, metrics.i10_index_since, metrics.since_year) == (
        None,
        None,
        None,
        None,
    )
    years = dict(record.cites_per_year)
    assert min(years) == 2016 and max(years) == 2025
    assert years[2024] == 236 and years[2025] == 228
    assert 2015 not in years
    assert any("2016-2025" in note and "not zero" in note for note in record.notes)
    assert any("since" in note for note in record.notes)

    assert len(record.publications) == 130
    top = record.publications[0]
    assert top.author_pub_id == "W1072179852"
    assert top.title == "Artificial intelligence regulation: a framework for governance"
    assert top.venue == "Ethics and Information Technology"
    assert (top.year, top.citations, top.cites_id) == (2021, 376, None)
    assert top.authors == "PGR De Almeida, CD Dos Santos, JS Farias"
    assert sum(p.citations or 0 for p in record.publications) == 1355
    book = next(p for p in record.publications if p.title.startswith("Inovação no setor público"))
    assert book.venue is None

    works = [r for r in stand_in.requests if r.path == "/works"]
    assert [r.query["cursor"] for r in works] == ["*", CURSOR1, CURSOR2]
    for request in works:
        assert request.query["filter"] == f"author.id:{OPENALEX_ID}"
        assert int(request.query["per_page"]) <= 100
        assert "api_key" not in request.query
    assert stand_in.paths()[0] == f"/authors/{OPENALEX_ID}"
    assert stand_in.unmatched == []


def test_by_orcid_with_key_and_mailto(stand_in: StandIn, fast_http: HttpOptions) -> None:
    serve_author(stand_in, f"/authors/orcid:{ORCID}")
    author = AuthorRef(SCHOLAR_ID, ids={"orcid": f"https://orcid.org/{ORCID}"})
    record = source_for(stand_in, fast_http, key="oa-key", mailto="me@example.org").fetch(author)
    assert record.metrics.citations == 1355
    assert stand_in.paths()[0] == f"/authors/orcid:{ORCID}"
    # The works are listed by the OpenAlex ID the author record gave.
    assert stand_in.requests[1].query["filter"] == f"author.id:{OPENALEX_ID}"
    assert {r.query.get("api_key") for r in stand_in.requests} == {"oa-key"}
    assert {r.query.get("mailto") for r in stand_in.requests} == {"me@example.org"}


def test_open_source_reads_url_key_and_mailto_from_the_environment(
    stand_in: StandIn, fast_http: HttpOptions, monkeypatch: pytest.MonkeyPatch
) -> None:
    serve_author(stand_in)
    monkeypatch.setenv("SCHOLAR_STATS_OPENALEX_URL", stand_in.url)
    monkeypatch.setenv("OPENALEX_API_KEY", "env-key")
    monkeypatch.setenv("OPENALEX_MAILTO", "env@example.org")
    source = open_source("openalex", SourceSettings(http=fast_http))
    try:
        record = source.fetch(AUTHOR)
    finally:
        source.close()
    assert len(record.publications) == 130
    assert stand_in.requests[0].query == {"api_key": "env-key", "mailto": "env@example.org"}


@pytest.mark.parametrize(
    ("ids", "message"),
    [
        ({}, "does not know Google Scholar IDs"),
        ({"openalex": "W2741809807"}, "not an OpenAlex author ID"),
        ({"orcid": "0000-0002-6416"}, "not an ORCID"),
    ],
)
def test_ids_of_the_wrong_kind_are_usage_errors(
    stand_in: StandIn, fast_http: HttpOptions, ids: dict[str, str], message: str
) -> None:
    with pytest.raises(UsageError, match=message):
        source_for(stand_in, fast_http).fetch(AuthorRef(SCHOLAR_ID, ids=ids))
    assert stand_in.requests == []


def test_author_keys() -> None:
    assert (
        author_key(AuthorRef(SCHOLAR_ID, ids={"openalex": "https://openalex.org/a5023888391"}))
        == "A5023888391"
    )
    assert (
        author_key(AuthorRef(SCHOLAR_ID, ids={"orcid": "0000-0001-6187-661x"})) == "orcid:0000-0001-6187-661X"
    )
    both = AuthorRef(SCHOLAR_ID, ids={"openalex": "A1", "orcid": ORCID})
    assert author_key(both) == "A1"


def test_unknown_author_is_not_found(stand_in: StandIn, fast_http: HttpOptions) -> None:
    stand_in.on(f"/authors/{OPENALEX_ID}", file_reply("openalex_not_found.json", 404))
    with pytest.raises(NotFound, match=OPENALEX_ID):
        source_for(stand_in, fast_http).fetch(AUTHOR)
    assert len(stand_in.requests) == 1


def test_rate_limit_honours_retry_after_then_succeeds(stand_in: StandIn, fast_http: HttpOptions) -> None:
    serve_author(stand_in)
    stand_in.on(
        "/works",
        json_reply({"error": "Rate limit exceeded"}, 429, {"Retry-After": "3"}),
        file_reply("openalex_works_page2.json"),
        query={"cursor": CURSOR1},
    )
    sleeps: list[float] = []
    record = source_for(stand_in, fast_http, sleeps=sleeps).fetch(AUTHOR)
    assert 3.0 in sleeps
    assert len(record.publications) == 130
    assert [r.query.get("cursor") for r in stand_in.requests] == [None, "*", CURSOR1, CURSOR1, CURSOR2]


def test_rate_limit_that_persists_is_blocked_without_leaking_the_key(
    stand_in: StandIn, fast_http: HttpOptions
) -> None:
    stand_in.on(
        f"/authors/{OPENALEX_ID}", json_reply({"error": "Rate limit exceeded"}, 429, {"Retry-After": "1"})
    )
    with pytest.raises(Blocked) as caught:
        source_for(stand_in, fast_http, key="very-secret").fetch(AUTHOR)
    assert caught.value.status == 429
    assert "OPENALEX_API_KEY" in str(caught.value)
    assert "very-secret" not in str(caught.value)


def test_forbidden_is_blocked(stand_in: StandIn, fast_http: HttpOptions) -> None:
    stand_in.on(
        f"/authors/{OPENALEX_ID}", json_reply({"error": "Forbidden", "message": "Rate limit exceeded"}, 403)
    )
    with pytest.raises(Blocked) as caught:
        source_for(stand_in, fast_http).fetch(AUTHOR)
    assert caught.value.status == 403


@pytest.mark.parametrize(
    ("key", "words"), [(None, "asks for an API key"), ("bad-key", "refused the API key")]
)
def test_unauthorised_is_source_unavailable(
    stand_in: StandIn, fast_http: HttpOptions, key: str | None, words: str
) -> None:
    stand_in.on(f"/authors/{OPENALEX_ID}", file_reply("openalex_author.json"))
    stand_in.on("/works", json_reply({"error": "Unauthorized", "message": "API key required"}, 401))
    with pytest.raises(SourceUnavailable, match=words) as caught:
        source_for(stand_in, fast_http, key=key).fetch(AUTHOR)
    assert caught.value.status == 401
    assert "bad-key" not in str(caught.value)


def test_a_body_that_is_not_json_is_a_parse_error(stand_in: StandIn, fast_http: HttpOptions) -> None:
    stand_in.on(
        f"/authors/{OPENALEX_ID}",
        Reply(200, b'{"id": "https://openalex.org/A50', {"Content-Type": "application/json"}),
    )
    with pytest.raises(ParseError, match="not JSON"):
        source_for(stand_in, fast_http).fetch(AUTHOR)


# -- httpx.MockTransport unit cases -------------------------------------------------


def mock_source(
    author: dict[str, Any], pages: list[dict[str, Any]], http: HttpOptions
) -> tuple[OpenAlexSource, list[str]]:
    cursors: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/authors/"):
            return httpx.Response(200, json=author)
        cursor = request.url.params["cursor"]
        cursors.append(cursor)
        index = 0 if cursor == "*" else int(cursor.removeprefix("c"))
        return httpx.Response(200, json=pages[index])

    client = PoliteClient(build_client(http, transport=httpx.MockTransport(handler)), http)
    return OpenAlexSource(client, "https://openalex.test"), cursors


def work(n: int) -> dict[str, Any]:
    return {
        "id": f"https://openalex.org/W{1000 + n}",
        "display_name": f"Work {n}",
        "publication_year": 2020,
        "cited_by_count": n,
    }


def test_many_pages_are_joined_in_order(fast_http: HttpOptions) -> None:
    pages: list[dict[str, Any]] = [
        {"meta": {"count": 250, "next_cursor": "c1"}, "results": [work(n) for n in range(PER_PAGE)]},
        {"meta": {"count": 250, "next_cursor": "c2"}, "results": [work(n) for n in range(100, 200)]},
        {"meta": {"count": 250, "next_cursor": "c3"}, "results": [work(n) for n in range(200, 250)]},
        {"meta": {"count": 250, "next_cursor": None}, "results": []},
    ]
    source, cursors = mock_source(load("openalex_author.json"), pages, fast_http)
    record = source.fetch(AUTHOR)
    assert cursors == ["*", "c1", "c2", "c3"]
    assert [p.author_pub_id for p in record.publications] == [f"W{1000 + n}" for n in range(250)]


def test_missing_fields_stay_not_provided(fast_http: HttpOptions) -> None:
    author = {"id": f"https://openalex.org/{OPENALEX_ID}", "display_name": "A. Person"}
    pages = [
        {"meta": {"next_cursor": None}, "results": [{"id": "https://openalex.org/W1", "display_name": None}]}
    ]
    source, _ = mock_source(author, pages, fast_http)
    record = source.fetch(AUTHOR)
    assert (record.metrics.citations, record.metrics.h_index, record.metrics.i10_index) == (None, None, None)
    assert record.cites_per_year == ()
    assert "OpenAlex gave no citations per year" in record.notes
    pub = record.publications[0]
    assert (pub.title, pub.citations, pub.year, pub.venue, pub.authors) == ("", None, None, None, None)


def test_a_cursor_that_repeats_is_a_parse_error(fast_http: HttpOptions) -> None:
    pages = [
        {"meta": {"next_cursor": "c1"}, "results": [work(1)]},
        {"meta": {"next_cursor": "c1"}, "results": [work(2)]},
    ]
    source, cursors = mock_source(load("openalex_author.json"), pages, fast_http)
    with pytest.raises(ParseError, match="same cursor"):
        source.fetch(AUTHOR)
    assert cursors == ["*", "c1"]


def test_a_number_of_the_wrong_type_is_a_parse_error(fast_http: HttpOptions) -> None:
    author = load("openalex_author.json")
    author["cited_by_count"] = "many"
    source, _ = mock_source(author, [{"meta": {"next_cursor": None}, "results": []}], fast_http)
    with pytest.raises(ParseError, match="cited_by_count"):
        source.fetch(AUTHOR)


# -- OpenAlex's own words on a 400; every year its answer lists ---------------------

# The shape OpenAlex answers a bad request with: a short ``error`` and a long ``message``.
BAD_REQUEST = {
    "error": "Invalid query parameters error.",
    "message": "author.idx is not a valid field. Valid fields are underscore or hyphenated versions of: "
    + ", ".join(f"field_{n}.search" for n in range(200)),
}


def test_a_bad_request_keeps_openalexs_own_message_on_one_line(
    stand_in: StandIn, fast_http: HttpOptions
) -> None:
    stand_in.on(f"/authors/{OPENALEX_ID}", file_reply("openalex_author.json"))
    stand_in.on(
        "/works",
        json_reply({**BAD_REQUEST, "message": BAD_REQUEST["message"] + " key very-secret\nnext line"}, 400),
    )
    with pytest.raises(FetchError) as caught:
        source_for(stand_in, fast_http, key="very-secret").fetch(AUTHOR)
    text = str(caught.value)
    assert caught.value.status == 400 and caught.value.exit_code == 1
    assert (
        "OpenAlex refused the request for the works list for author A5041365215: "
        "Invalid query parameters error: " in text
    )
    assert "author.idx is not a valid field" in text
    # One line; OpenAlex's own text is cut, whatever the URL after it (masked) adds.
    assert "\n" not in text and len(caught.value.message) < 450
    assert "very-secret" not in text
    assert len([r for r in stand_in.requests if r.path == "/works"]) == 1  # a 400 is not retried


def test_a_bad_request_without_json_still_says_what_came(stand_in: StandIn, fast_http: HttpOptions) -> None:
    stand_in.on(
        f"/authors/{OPENALEX_ID}", Reply(400, b"Bad Request: <b>cursor</b>\n", {"Content-Type": "text/html"})
    )
    with pytest.raises(
        FetchError,
        match="OpenAlex refused the request for the author A5041365215: Bad Request: <b>cursor</b>",
    ):
        source_for(stand_in, fast_http).fetch(AUTHOR)


def test_cli_bad_request_is_one_line_with_openalexs_message(stand_in: StandIn) -> None:
    from click.testing import CliRunner

    from crawler.cli import main

    stand_in.on(f"/authors/{OPENALEX_ID}", json_reply(BAD_REQUEST, 400))
    result = CliRunner().invoke(
        main,
        [
            "fetch",
            SCHOLAR_ID,
            "--source",
            "openalex",
            "--id",
            f"openalex={OPENALEX_ID}",
            "--delay",
            "0",
            "--retries",
            "0",
        ],
        env={"SCHOLAR_STATS_OPENALEX_URL": stand_in.url},
    )
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: OpenAlex refused the request")
    assert "Invalid query parameters error: author.idx is not a valid field" in lines[0]


def test_every_year_the_answer_lists_is_kept(fast_http: HttpOptions) -> None:
    # Real answers often list more than the ten years the documentation promises.
    author = load("openalex_author.json")
    author["counts_by_year"] = [
        {"year": y, "works_count": 1, "cited_by_count": y - 2000} for y in range(2025, 2011, -1)
    ]
    source, _ = mock_source(author, [{"meta": {"next_cursor": None}, "results": []}], fast_http)
    record = source.fetch(AUTHOR)
    assert dict(record.cites_per_year) == {y: y - 2000 for y in range(2012, 2026)}
    assert any("(2012-2025)" in note and "earlier years are not provided" in note for note in record.notes)
