"""Shared fixtures: the local Google Scholar (``replay``) and the saved real pages."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from replay import FIXTURES_DIR, ReplayServer


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
