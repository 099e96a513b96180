"""`scholar-stats fetch ID --source X` for every source, each against its local stand-in."""

from __future__ import annotations

import json
import types
from typing import Any

import pytest
from click.testing import CliRunner
from replay import ReplayServer
from standin import StandIn, file_reply

from crawler.cli import main

SCHOLAR_ID = "AoKJ_g4AAAAJ"


def run(args: list[str], env: dict[str, str]) -> tuple[int, dict[str, Any], str]:
    result = CliRunner().invoke(main, ["fetch", SCHOLAR_ID, "--delay", "0", "--retries", "1", *args], env=env)
    data = json.loads(result.stdout) if result.exit_code == 0 else {}
    return result.exit_code, data, result.stderr


def test_fetch_from_serpapi(stand_in: StandIn) -> None:
    stand_in.on("/search.json", file_reply("serpapi_author_start0.json"), query={"start": "0"})
    stand_in.on("/search.json", file_reply("serpapi_author_start100.json"), query={"start": "100"})
    code, data, _ = run(
        ["--source", "serpapi"], {"SCHOLAR_STATS_SERPAPI_URL": stand_in.url, "SERPAPI_KEY": "k"}
    )
    assert code == 0
    assert data["source"] == "serpapi"
    assert data["metrics"]["citations"] == 1799
    assert data["metrics"]["since_year"] == 2020
    assert len(data["publications"]) == 176


def test_fetch_from_openalex(stand_in: StandIn) -> None:
    stand_in.on("/authors/A5041365215", file_reply("openalex_author.json"))
    stand_in.on("/works", file_reply("openalex_works_page3.json"))
    code, data, _ = run(
        ["--source", "openalex", "--id", "openalex=A5041365215"], {"SCHOLAR_STATS_OPENALEX_URL": stand_in.url}
    )
    assert code == 0
    assert data["source"] == "openalex"
    assert data["scholar_id"] == SCHOLAR_ID
    assert data["metrics"]["citations"] == 1355
    assert data["metrics"]["citations_since"] is None
    assert any("not zero" in note for note in data["notes"])


def test_fetch_from_semantic_scholar(stand_in: StandIn) -> None:
    stand_in.on("/graph/v1/author/2112416497", file_reply("s2_author.json"))
    stand_in.on("/graph/v1/author/2112416497/papers", file_reply("s2_papers_offset100.json"))
    code, data, _ = run(
        ["--source", "semantic-scholar", "--id", "semantic-scholar=2112416497"],
        {"SCHOLAR_STATS_SEMANTIC_SCHOLAR_URL": stand_in.url},
    )
    assert code == 0
    assert data["source"] == "semantic-scholar"
    assert data["metrics"]["h_index"] == 15
    assert data["metrics"]["i10_index"] is None
    assert len(data["publications"]) == 30


def test_fetch_from_scholarly(replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    scholarly = pytest.importorskip("scholarly")
    monkeypatch.setattr(scholarly._navigator, "time", types.SimpleNamespace(sleep=lambda seconds: None))
    expected = replay.add_profile(SCHOLAR_ID, 42)
    code, data, _ = run(["--source", "scholarly"], {"SCHOLAR_STATS_BASE_URL": replay.url})
    assert code == 0
    assert data["source"] == "scholarly"
    assert data["metrics"]["citations"] == expected.citations
    assert len(data["publications"]) == 42


def test_chain_falls_back_with_a_warning(stand_in: StandIn) -> None:
    stand_in.on("/authors/A5041365215", file_reply("openalex_author.json"))
    stand_in.on("/works", file_reply("openalex_works_page3.json"))
    code, data, stderr = run(
        ["--source", "serpapi", "--source", "openalex", "--id", "openalex=A5041365215"],
        {"SCHOLAR_STATS_OPENALEX_URL": stand_in.url, "SCHOLAR_STATS_SERPAPI_URL": stand_in.url},
    )
    assert code == 0
    assert data["source"] == "openalex"
    assert "serpapi" in stderr and "SERPAPI_KEY" in stderr


def test_missing_id_is_exit_code_2(stand_in: StandIn) -> None:
    code, _, stderr = run(["--source", "openalex"], {"SCHOLAR_STATS_OPENALEX_URL": stand_in.url})
    assert code == 2
    assert stderr.startswith("error: ") and 'openalex = "A..."' in stderr
    assert stand_in.requests == []
