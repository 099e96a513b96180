"""fetch_with_fallback over real sources: the next one only when the previous is blocked or unavailable."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from standin import StandIn, file_reply, json_reply

from crawler.errors import Blocked, NotFound, SourceUnavailable
from crawler.net.http import HttpOptions
from crawler.sources import AuthorRef, SourceSettings, fetch_with_fallback

SCHOLAR_ID = "AoKJ_g4AAAAJ"
OPENALEX_ID = "A5041365215"
AUTHOR = AuthorRef(SCHOLAR_ID, ids={"openalex": OPENALEX_ID}, sources=("serpapi", "openalex"))
CHAIN = ["serpapi", "openalex"]


def serve_openalex(stand_in: StandIn) -> None:
    stand_in.on(f"/authors/{OPENALEX_ID}", file_reply("openalex_author.json"))
    stand_in.on("/works", json_reply({"meta": {"count": 0, "next_cursor": None}, "results": []}))


def settings_for(
    stand_in: StandIn, http: HttpOptions, serpapi_key: str | None = "k"
) -> Callable[[str], SourceSettings]:
    def settings(name: str) -> SourceSettings:
        return SourceSettings(
            http=http, base_url=stand_in.url, api_key=serpapi_key if name == "serpapi" else None
        )

    return settings


def test_falls_back_when_serpapi_has_no_key(stand_in: StandIn, fast_http: HttpOptions) -> None:
    serve_openalex(stand_in)
    result = fetch_with_fallback(AUTHOR, CHAIN, settings_for(stand_in, fast_http, serpapi_key=None))
    assert result.fell_back
    assert result.record.source == "openalex"
    assert result.record.profile.scholar_id == SCHOLAR_ID
    assert result.record.metrics.citations == 1355
    [(name, error)] = result.failures
    assert name == "serpapi" and isinstance(error, SourceUnavailable)
    assert all(not path.startswith("/search") for path in stand_in.paths())


def test_falls_back_when_serpapi_is_rate_limited(stand_in: StandIn, fast_http: HttpOptions) -> None:
    serve_openalex(stand_in)
    stand_in.on(
        "/search.json",
        json_reply({"error": "Your account has run out of searches."}, 429, {"Retry-After": "0"}),
    )
    result = fetch_with_fallback(AUTHOR, CHAIN, settings_for(stand_in, fast_http))
    assert result.record.source == "openalex"
    [(name, error)] = result.failures
    assert name == "serpapi" and isinstance(error, Blocked)
    assert stand_in.paths()[0] == "/search.json"


def test_falls_back_when_serpapi_refuses_the_key(stand_in: StandIn, fast_http: HttpOptions) -> None:
    serve_openalex(stand_in)
    stand_in.on("/search.json", file_reply("serpapi_invalid_key.json", 401))
    result = fetch_with_fallback(AUTHOR, CHAIN, settings_for(stand_in, fast_http))
    assert result.record.source == "openalex"
    assert isinstance(result.failures[0][1], SourceUnavailable)


def test_does_not_fall_back_when_the_profile_does_not_exist(
    stand_in: StandIn, fast_http: HttpOptions
) -> None:
    serve_openalex(stand_in)
    stand_in.on("/search.json", file_reply("serpapi_no_results.json"))
    with pytest.raises(NotFound):
        fetch_with_fallback(AUTHOR, CHAIN, settings_for(stand_in, fast_http))
    assert stand_in.paths() == ["/search.json"]


def test_first_source_that_works_is_used(stand_in: StandIn, fast_http: HttpOptions) -> None:
    serve_openalex(stand_in)
    stand_in.on("/search.json", file_reply("serpapi_author_start0.json"), query={"start": "0"})
    stand_in.on("/search.json", file_reply("serpapi_author_start100.json"), query={"start": "100"})
    result = fetch_with_fallback(AUTHOR, CHAIN, settings_for(stand_in, fast_http))
    assert not result.fell_back
    assert result.record.source == "serpapi"
    assert result.record.metrics.citations == 1799
    assert not any(path.startswith("/authors") for path in stand_in.paths())


def test_when_every_source_fails_the_first_error_is_raised(stand_in: StandIn, fast_http: HttpOptions) -> None:
    stand_in.on(f"/authors/{OPENALEX_ID}", json_reply({"error": "Forbidden"}, 403))
    with pytest.raises(SourceUnavailable, match="SERPAPI_KEY"):
        fetch_with_fallback(AUTHOR, CHAIN, settings_for(stand_in, fast_http, serpapi_key=None))
    assert stand_in.paths() == [f"/authors/{OPENALEX_ID}"]
