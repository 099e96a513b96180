"""Fixtures for the source tests: a local API stand-in and settings that never wait."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from standin import StandIn

from crawler.http import HttpOptions


@pytest.fixture
def stand_in() -> Iterator[StandIn]:
    """A real HTTP server on 127.0.0.1 that answers what each test tells it to."""
    with StandIn() as server:
        yield server


@pytest.fixture
def fast_http() -> HttpOptions:
    """No delay between requests; one retry; a deadline no test comes near."""
    return HttpOptions(delay=0, jitter=0, timeout=10, deadline=60, retries=1)


@pytest.fixture(autouse=True)
def _no_api_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keys and URLs from the developer's environment must not leak into a test."""
    for name in (
        "SERPAPI_KEY",
        "OPENALEX_API_KEY",
        "OPENALEX_MAILTO",
        "SEMANTIC_SCHOLAR_API_KEY",
        "SCRAPERAPI_KEY",
        "SCHOLAR_STATS_SERPAPI_URL",
        "SCHOLAR_STATS_OPENALEX_URL",
        "SCHOLAR_STATS_SEMANTIC_SCHOLAR_URL",
        "SCHOLAR_STATS_BASE_URL",
        "SCHOLAR_STATS_SCHOLARLY_PROXY",
    ):
        monkeypatch.delenv(name, raising=False)
