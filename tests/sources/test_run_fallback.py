"""`run` with the chain scholar -> openalex: Scholar's CAPTCHA sends it to OpenAlex, honestly labelled."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

from replay import Captcha, ReplayServer
from standin import StandIn, file_reply

SCHOLAR_ID = "AoKJ_g4AAAAJ"
OPENALEX_ID = "A5041365215"
CURSOR1 = "IlsxNTcsICdodHRwczovL29wZW5hbGV4Lm9yZy9XMjk1OTgxMDM5NCddIg=="
CURSOR2 = "IlszLCAnaHR0cHM6Ly9vcGVuYWxleC5vcmcvVzQzODc1NDI3ODQnXSI="


def serve_openalex(stand_in: StandIn) -> None:
    stand_in.on(f"/authors/{OPENALEX_ID}", file_reply("openalex_author.json"))
    stand_in.on("/works", file_reply("openalex_works_page1.json"), query={"cursor": "*"})
    stand_in.on("/works", file_reply("openalex_works_page2.json"), query={"cursor": CURSOR1})
    stand_in.on("/works", file_reply("openalex_works_page3.json"), query={"cursor": CURSOR2})


def run(tmp_path: Path, replay: ReplayServer, stand_in: StandIn) -> subprocess.CompletedProcess[str]:
    config = tmp_path / "scholar-stats.toml"
    config.write_text(
        f'data_dir = "data"\ndelay = 0\n\n[[authors]]\nid = "{SCHOLAR_ID}"\n'
        f'sources = ["scholar", "openalex"]\nopenalex = "{OPENALEX_ID}"\n',
        encoding="utf-8",
    )
    env = {**os.environ, "SCHOLAR_STATS_OPENALEX_URL": stand_in.url}
    return subprocess.run(
        [
            "scholar-stats",
            "run",
            "--config",
            str(config),
            "--base-url",
            replay.url,
            "--summary",
            str(tmp_path / "summary.json"),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def read(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def test_captcha_switches_to_openalex_and_says_so(
    tmp_path: Path, replay: ReplayServer, stand_in: StandIn
) -> None:
    replay.add_fixture_page(SCHOLAR_ID, "denner_pt-PT_176rows_browser-saved.html")
    replay.set_scenario(SCHOLAR_ID, Captcha())
    serve_openalex(stand_in)

    result = run(tmp_path, replay, stand_in)

    assert result.returncode == 7, result.stderr
    assert "Traceback" not in result.stderr
    assert "primary source scholar failed" in result.stderr
    assert "CAPTCHA" in result.stderr
    author_dir = tmp_path / "data" / SCHOLAR_ID
    gs_data = read(author_dir / "gs_data.json")
    assert gs_data["source"] == "openalex"
    assert gs_data["citedby"] == 1355
    assert gs_data["citedby5y"] is None  # OpenAlex has no "since" column: not provided, never 0
    shield = read(author_dir / "gs_data_shieldsio.json")
    assert shield["label"] == "citations (OpenAlex)"
    assert shield["message"] == "1355"
    assert read(author_dir / "badges" / "h-index.json")["label"] == "h-index (OpenAlex)"
    summary = read(tmp_path / "summary.json")
    assert summary["exit_code"] == 7
    assert summary["authors"][0]["source"] == "openalex"
    snapshots = sorted((author_dir / "snapshots").glob("*.json"))
    assert len(snapshots) == 1 and read(snapshots[0])["source"] == "openalex"


def test_back_on_scholar_a_new_series_not_a_drop(
    tmp_path: Path, replay: ReplayServer, stand_in: StandIn
) -> None:
    replay.add_fixture_page(SCHOLAR_ID, "denner_pt-PT_176rows_browser-saved.html")
    replay.set_scenario(SCHOLAR_ID, Captcha())
    serve_openalex(stand_in)
    assert run(tmp_path, replay, stand_in).returncode == 7

    replay.set_scenario(SCHOLAR_ID, None)
    result = run(tmp_path, replay, stand_in)

    assert result.returncode == 0, result.stderr
    assert "source changed from openalex to scholar" in result.stderr
    author_dir = tmp_path / "data" / SCHOLAR_ID
    assert read(author_dir / "gs_data.json")["citedby"] == 1799
    assert read(author_dir / "gs_data_shieldsio.json")["label"] == "citations"
    assert len(list((author_dir / "snapshots").glob("*.json"))) == 2


def test_missing_profile_does_not_fall_back(tmp_path: Path, replay: ReplayServer, stand_in: StandIn) -> None:
    serve_openalex(stand_in)  # the replay server knows no such profile: 404
    result = run(tmp_path, replay, stand_in)
    assert result.returncode == 4, result.stderr
    assert stand_in.requests == []
