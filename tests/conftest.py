"""Shared fixtures: the local Google Scholar (``replay``), the saved real pages, a local API
stand-in for the other sources, and a browser."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from chromium import launched
from clitools import is_foreign_setting
from replay import FIXTURES_DIR, ReplayServer
from standin import StandIn

from crawler.net.http import HttpOptions


@pytest.fixture
def replay() -> Iterator[ReplayServer]:
    """A fresh local Scholar per test; ``replay.url`` is its base URL."""
    with ReplayServer(FIXTURES_DIR) as server:
        yield server


@pytest.fixture
def fixtures_dir() -> Path:
    """The folder of real saved Scholar pages (see its README.md)."""
    return FIXTURES_DIR


@pytest.fixture
def expected_values() -> dict[str, Any]:
    """expected.json: file name -> the values a correct parser extracts from that page."""
    data: dict[str, Any] = json.loads((FIXTURES_DIR / "expected.json").read_text(encoding="utf-8"))
    return data


@pytest.fixture
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """This process's environment as ``clitools.clean_env`` gives it to a child."""
    for name in list(os.environ):
        if is_foreign_setting(name):
            monkeypatch.delenv(name)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium per test module (see ``chromium.py``)."""
    with launched() as chromium:
        yield chromium


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
