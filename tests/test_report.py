"""`scholar-stats report` and the step summary: which snapshots are compared, and what is said."""

from __future__ import annotations

import json
import logging
import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from replay import ReplayServer

import crawler.sources.scholar as scholar_source
from crawler.cli import main
from crawler.config import load_config
from crawler.history.report import append_step_summary, markdown_report
from crawler.models import AuthorRecord, Metrics, Profile, Publication
from crawler.run import run
from crawler.storage.store import AuthorStore

SID = "rEpOrTpRoFi1"
OTHER = "rEpOrTpRoFi2"


@pytest.fixture(autouse=True)
def not_on_github(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)


def day(n: int) -> datetime:
    return datetime(2026, 3, 1, 9, tzinfo=UTC) + timedelta(days=n)


def rec(
    n: int,
    total: int,
    pubs: dict[str, int | None],
    *,
    h: int = 5,
    source: str = "scholar",
    since_year: int | None = 2021,
    complete: bool = True,
    sid: str = SID,
) -> AuthorRecord:
    return AuthorRecord(
        profile=Profile(scholar_id=sid, name="Rosalind Franklin"),
        metrics=Metrics(
            citations=total,
            citations_since=total // 2,
            h_index=h,
            h_index_since=h - 1,
            i10_index=3,
            i10_index_since=None,
            since_year=since_year,
        ),
        publications=tuple(
            Publication(
                author_pub_id=f"{sid}:{key}",
                title=f"Paper {key} | with a pipe" if key == "c" else f"Paper {key}",
                year=2020,
                citations=count,
            )
            for key, count in pubs.items()
        ),
        source=source,
        complete=complete,
        fetched_at=day(n),
    )


@pytest.fixture
def data(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    store = AuthorStore(folder, SID)
    store.write_snapshot(rec(0, 100, {"a": 50, "b": 30, "c": 20}))
    store.write_snapshot(rec(1, 110, {"a": 55, "b": 30, "c": 25}))
    store.write_snapshot(rec(2, 130, {"a": 60, "b": 31, "c": 29, "d": 10}, h=6))
    store.write_snapshot(rec(3, 140, {"a": 70, "c": 30, "d": 12, "e": None}, h=6))
    return folder


def test_default_compares_the_latest_two(data: Path) -> None:
    text = markdown_report(data)
    assert text.startswith("# Citation report\n\n## Rosalind Franklin (`rEpOrTpRoFi1`)\n")
    assert "Changes from 2026-03-03T09:00:00Z to 2026-03-04T09:00:00Z (Google Scholar)." in text
    assert "| citations | 130 | 140 | +10 |" in text
    assert "| citations since 2021 | 65 | 70 | +5 |" in text
    assert "| h-index | 6 | 6 | 0 |" in text
    assert "| i10-index | 3 | 3 | 0 |" in text
    assert "| publications | 4 | 4 | 0 |" in text
    gained = text.split("**Gained the most citations**")[1].split("**New publications")[0]
    rows = [line for line in gained.splitlines() if line.startswith("| Paper")]
    assert rows == [
        "| Paper a (2020) | 60 | 70 | +10 |",
        "| Paper d (2020) | 10 | 12 | +2 |",
        "| Paper c \\| with a pipe (2020) | 29 | 30 | +1 |",
    ]
    assert "**New publications (1)**\n\n- Paper e (2020): – citations" in text
    assert "**Vanished publications (1)**\n\n- Paper b (2020): 31 citations when last seen" in text
    assert "Source" not in text and "Stale" not in text


def test_last_n_and_since(data: Path) -> None:
    text = markdown_report(data, last=3)
    assert "Changes from 2026-03-01T09:00:00Z to 2026-03-04T09:00:00Z" in text
    assert "| citations | 100 | 140 | +40 |" in text
    assert "**New publications (2)**" in text
    text = markdown_report(data, last=9)
    assert (
        "Changes from 2026-03-01T09:00:00Z" in text
        and "(only 3 earlier snapshots; compared with the oldest.)" in text
    )
    text = markdown_report(data, since="2026-03-02T12:00:00Z")
    assert "Changes from 2026-03-02T09:00:00Z to 2026-03-04T09:00:00Z" in text
    text = markdown_report(data, since="2026-03-02")
    assert "Changes from 2026-03-01T09:00:00Z to" in text
    text = markdown_report(data, since="2020-01-01")
    assert "no snapshot before 2020-01-01T00:00:00Z; compared with the oldest" in text


def test_source_switch_and_new_since_year(data: Path) -> None:
    store = AuthorStore(data, SID)
    store.write_snapshot(rec(4, 90, {"a": 40}, source="openalex", since_year=2022))
    text = markdown_report(data)
    assert (
        "- **Source**: source changed from Google Scholar to OpenAlex on 2026-03-05T09:00:00Z: "
        "numbers are not compared across sources."
    ) in text
    assert "| citations since 2021 → 2022 | 70 | 45 | n/a |" in text
    # Totals of two sources are not one series: no change is computed between them.
    assert "| citations | 140 | 90 | n/a |" in text and "| publications | 4 | 1 | n/a |" in text


def test_stale_author_says_why(data: Path) -> None:
    state = {
        "stale": True,
        "stale_since": "2026-03-05T09:00:00Z",
        "last_attempt": "2026-03-06T09:00:00Z",
        "error": "Blocked",
        "reason": "Google Scholar asks for a CAPTCHA",
        "exit_code": 3,
    }
    (data / SID / "state.json").write_text(json.dumps(state), encoding="utf-8")
    text = markdown_report(data)
    assert (
        "> **Stale**: the last fetch failed (2026-03-06T09:00:00Z): Google Scholar asks for a CAPTCHA. "
        "Stale since 2026-03-05T09:00:00Z. The numbers below are the last good ones."
    ) in text


def test_one_snapshot_and_none(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    AuthorStore(folder, SID).write_snapshot(rec(0, 100, {"a": 100}, complete=False))
    (folder / OTHER / "snapshots").mkdir(parents=True)
    text = markdown_report(folder)
    assert "One snapshot, 2026-03-01T09:00:00Z (Google Scholar)." in text
    assert "| citations | – | 100 | – |" in text
    assert "The latest snapshot is incomplete" in text
    assert "## `rEpOrTpRoFi2`\n\nNo snapshots yet." in text


def test_corrupt_latest_falls_back(data: Path) -> None:
    (data / SID / "snapshots" / "20260310T000000Z.json").write_text("{", encoding="utf-8")
    assert "Changes from 2026-03-03T09:00:00Z to 2026-03-04T09:00:00Z" in markdown_report(data)


def cli(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert "Traceback" not in result.stderr
    return result.exit_code, result.stdout, result.stderr


def test_cli(data: Path) -> None:
    code, out, _ = cli("report", "--data-dir", data, "--author", SID, "--last", "2")
    assert code == 0 and out == markdown_report(data, [SID], last=2)
    for args, message in (
        (["--since", "2026-03-02", "--last", "2"], "--since and --last cannot be used together"),
        (["--author", OTHER], f"no data for author {OTHER}"),
        (["--since", "March"], "--since must be YYYY-MM-DD"),
        (["--last", "0"], "0 is not in the range x>=1"),
    ):
        code, out, err = cli("report", "--data-dir", data, *args)
        assert code == 2 and out == "" and message in err, err


def test_append_step_summary(
    data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    target = tmp_path / "summary.md"
    append_step_summary(data, [SID])
    assert not target.exists()
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(target))
    target.write_text("earlier step\n", encoding="utf-8")
    append_step_summary(data, [SID])
    append_step_summary(data, [SID])
    text = target.read_text(encoding="utf-8")
    assert text.startswith("earlier step\n# Citation report")
    assert text.count("| citations | 130 | 140 | +10 |") == 2
    # A summary that cannot be written is a warning, never an exception.
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path))
    with caplog.at_level(logging.WARNING, logger="crawler"):
        append_step_summary(data, [SID])
    assert "could not write the report" in caplog.text


def test_run_appends_the_report_when_on_github(
    replay: ReplayServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in list(os.environ):
        if "proxy" in name.lower():
            monkeypatch.delenv(name)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    target = tmp_path / "step.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(target))
    sid = "sUmMaRyPrOf1"
    data = tmp_path / "data"
    config = load_config(
        None, authors=[sid], data_dir=data, base_url=replay.url, http={"delay": 0, "retries": 0}
    )
    for n, total in enumerate((500, 520)):
        replay.add_profile(sid, 30, citations=total)
        monkeypatch.setattr(scholar_source, "utc_now", lambda n=n: day(n))
        assert run(config).exit_code == 0
    text = target.read_text(encoding="utf-8")
    assert text.count("# Citation report") == 2
    assert "| citations | 500 | 520 | +20 |" in text


HOSTILE = "<img src=x onerror=alert(1)> **bold** [link](https://evil.test) `code` | pipe # heading\n- item"


def assert_inert(text: str) -> None:
    """HOSTILE is there only as text: on one line, each Markdown or HTML special character escaped."""
    escaped = "".join("\\" + c if c in "\\`*_[]<>|#" else c for c in " ".join(HOSTILE.split()))
    assert escaped in text
    bare = re.sub(r"\\.", "", text)
    assert "<img" not in bare and "**bold**" not in bare and "[link](" not in bare and "\n- item" not in text


@pytest.mark.parametrize("field", ["last_attempt", "stale_since", "reason", "error"])
def test_every_field_of_state_json_is_escaped(data: Path, field: str) -> None:
    state = {
        "stale": True,
        "stale_since": "2026-03-05T09:00:00Z",
        "last_attempt": "2026-03-06T09:00:00Z",
        "error": "Blocked",
        "reason": "" if field == "error" else "Blocked",
        "exit_code": 3,
    }
    state[field] = HOSTILE
    (data / SID / "state.json").write_text(json.dumps(state), encoding="utf-8")
    stale = next(line for line in markdown_report(data).splitlines() if line.startswith("> **Stale**"))
    assert_inert(stale)


def test_state_json_fields_of_other_types_are_text(data: Path) -> None:
    state = {"stale": True, "stale_since": ["<b>"], "last_attempt": {"x": "<b>"}, "reason": 42}
    (data / SID / "state.json").write_text(json.dumps(state), encoding="utf-8")
    stale = next(line for line in markdown_report(data).splitlines() if line.startswith("> **Stale**"))
    assert "<b>" not in stale and "\\<b\\>" in stale and ": 42." in stale


def test_names_and_sources_from_snapshots_are_escaped(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    store = AuthorStore(folder, SID)
    from dataclasses import replace

    store.write_snapshot(rec(0, 100, {"a": 100}, source=HOSTILE))
    latest = rec(1, 110, {"a": 110}, source="<i>other</i>")
    store.write_snapshot(replace(latest, profile=replace(latest.profile, name=HOSTILE)))
    text = markdown_report(folder)
    heading = next(line for line in text.splitlines() if line.startswith("## "))
    assert_inert(heading)
    switch = next(line for line in text.splitlines() if line.startswith("- **Source**"))
    assert_inert(switch)
    assert "<i>" not in text


def test_a_folder_name_with_a_backtick_is_not_a_code_span(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    (folder / "a`b<i>" / "snapshots").mkdir(parents=True)
    text = markdown_report(folder)
    assert "## a\\`b\\<i\\>\n" in text


def test_a_stale_reason_from_an_older_version_is_masked(
    data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # state.json written before reasons were redacted: the report masks at read time.
    state = {
        "stale": True,
        "stale_since": "2026-03-05T09:00:00Z token=SINCESECRET",
        "last_attempt": "2026-03-06T09:00:00Z https://u:ATTEMPTPW@h.example",
        "error": "ProxyError",
        "reason": "cannot reach socks5://bob:hunter2@proxy.example:1080 (?api_key=KEY123)",
        "exit_code": 4,
    }
    (data / SID / "state.json").write_text(json.dumps(state), encoding="utf-8")
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    append_step_summary(data, [SID])
    for text in (markdown_report(data), summary.read_text(encoding="utf-8")):
        assert "**Stale**" in text and "proxy.example" in text
        for secret in ("hunter2", "KEY123", "ATTEMPTPW", "SINCESECRET"):
            assert secret not in text


def test_history_without_the_since_year_says_so(tmp_path: Path) -> None:
    # AcadHomepage's gs_data.json has citedby5y and hindex5y, but not the year they count from.
    folder = tmp_path / "data"
    store = AuthorStore(folder, SID)
    store.write_snapshot(rec(0, 100, {"a": 100}, since_year=None))
    store.write_snapshot(rec(1, 110, {"a": 110}, since_year=None))
    text = markdown_report(folder)
    assert "None" not in text
    assert "| citations since (year not recorded) | 50 | 55 | +5 |" in text
    store.write_snapshot(rec(2, 120, {"a": 120}))
    text = markdown_report(folder)
    assert "None" not in text
    assert "| citations since (year not recorded) → 2021 | 55 | 60 | n/a |" in text


def test_a_blocked_first_run_says_nothing_was_fetched_and_what_to_try(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "data"
    (folder / SID).mkdir(parents=True)
    reason = "Google Scholar answered with its CAPTCHA page; use a proxy (--proxy URL or HTTPS_PROXY)"
    state = {"stale": True, "stale_since": "2026-03-06T09:00:00Z", "error": "Blocked", "reason": reason}
    (folder / SID / "state.json").write_text(json.dumps({**state, "exit_code": 3}), encoding="utf-8")
    text = markdown_report(folder, [SID])
    assert "last good ones" not in text and "numbers below" not in text
    assert "**Nothing fetched yet**: the last fetch failed (2026-03-06T09:00:00Z)" in text
    assert "--proxy" in text and "scholar-stats bookmarklet" in text and "input" not in text
    # In the action, the same summary names the action's inputs.
    monkeypatch.setenv("SCHOLAR_STATS_INTERFACE", "action")
    text = markdown_report(folder, [SID])
    assert "--proxy" not in text and "HTTPS\\_PROXY" not in text
    for advice in ("proxy:", "openalex-id:", "self-hosted", "import-git:", "bookmarklet"):
        assert advice in text, advice
