"""`scholar-stats run` against the local Google Scholar: the files it writes, and what it
never does to them (rewrite unchanged data, replace good data with a blocked, partial,
wrong or implausible fetch, lose anything when the disk is full or the folder is odd)."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import re
import shutil
import subprocess
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest
from clitools import SCHOLAR_STATS
from replay import (
    Captcha,
    CutPage,
    Forbidden,
    GeneratedProfile,
    RateLimited,
    ReplayServer,
    Scenario,
    ServerError,
    SigninRedirect,
    Slow,
    SorryRedirect,
)

from crawler.config import load_config
from crawler.models import format_time, record_from_dict
from crawler.outputs.badges import endpoint_problems
from crawler.outputs.write import accept_record
from crawler.run import run
from crawler.sources import fetch_with_fallback
from crawler.storage.stale import STATE_FILE
from crawler.storage.store import ATTEMPT_FILE, AuthorStore, locked

SID = "rUnTeStPrOf1"
OTHER = "rUnTeStPrOf2"
N_PUBS = 150  # two pages of 100
SNAPSHOT_RE = re.compile(r"^\d{8}T\d{6}Z(_\d+)?\.json$")


@pytest.fixture(autouse=True)
def no_proxy(clean_environment: None) -> None:
    pass


def scholar_stats(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*SCHOLAR_STATS, *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        env=dict(os.environ),
    )


def run_cli(
    replay: ReplayServer, data: Path, *authors: str, extra: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    ids = [a for sid in (authors or (SID,)) for a in ("--author", sid)]
    result = scholar_stats("run", *ids, "--data-dir", data, "--base-url", replay.url, "--delay", "0", *extra)
    assert "Traceback" not in result.stderr, result.stderr
    return result


def tree(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (dot files too) and the sha256 of its bytes."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def mtimes(folder: Path) -> dict[str, int]:
    return {
        str(p.relative_to(folder)): p.stat().st_mtime_ns for p in sorted(folder.rglob("*")) if p.is_file()
    }


def without_state(files: dict[str, str], *sids: str) -> dict[str, str]:
    drop = {f"{sid}/{name}" for sid in (sids or (SID,)) for name in (STATE_FILE, ATTEMPT_FILE)}
    return {k: v for k, v in files.items() if k not in drop}


def report_lines(stderr: str, sid: str = SID) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith(f"{sid}: ")]


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def snapshots(data: Path, sid: str = SID) -> list[Path]:
    return AuthorStore(data, sid).snapshot_paths()


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def profile(replay: ReplayServer) -> GeneratedProfile:
    return replay.add_profile(SID, N_PUBS)


@pytest.fixture
def first_run(replay: ReplayServer, data: Path, profile: GeneratedProfile) -> dict[str, str]:
    """The folder after one good run: the files and their checksums."""
    result = run_cli(replay, data)
    assert result.returncode == 0, result.stderr
    return tree(data)


# -- 1. the files -----------------------------------------------------------------------


def check_badge(path: Path, label: str, message: str) -> None:
    badge = read_json(path)
    assert endpoint_problems(badge) == [], path
    assert (badge["label"], badge["message"]) == (label, message), path
    svg = ET.fromstring(path.with_suffix(".svg").read_bytes())
    assert svg.tag == "{http://www.w3.org/2000/svg}svg"
    assert message in "".join(svg.itertext())


def test_run_writes_every_file_with_the_right_numbers(
    replay: ReplayServer, data: Path, profile: GeneratedProfile, tmp_path: Path
) -> None:
    summary_path = tmp_path / "summary.json"
    result = run_cli(replay, data, extra=("--summary", str(summary_path)))
    assert result.returncode == 0, result.stderr
    assert report_lines(result.stderr) == [f"{SID}: updated: {profile.citations} citations"]
    author = data / SID

    # The snapshot: one file named by UTC time, the whole record.
    (snap,) = snapshots(data)
    assert SNAPSHOT_RE.match(snap.name)
    record = record_from_dict(read_json(snap))
    assert record.complete and record.source == "scholar" and record.scholar_id == SID
    assert record.fetched_at is not None and snap.name == record.fetched_at.strftime("%Y%m%dT%H%M%SZ.json")
    assert len(record.publications) == N_PUBS

    # gs_data.json: every key AcadHomepage's page reads, and the rest of scholarly's shape.
    gs = read_json(author / "gs_data.json")
    assert gs["scholar_id"] == SID and gs["name"] == profile.name and gs["affiliation"] == profile.affiliation
    assert gs["citedby"] == profile.citations
    assert gs["citedby5y"] == profile.citations_since
    assert gs["hindex"] == profile.h_index
    assert gs["hindex5y"] == profile.h_index_since
    assert gs["i10index"] == profile.i10_index
    assert gs["i10index5y"] == profile.i10_index_since
    assert gs["since_year"] == profile.since_year
    assert gs["cites_per_year"] == {str(y): n for y, n in profile.cites_per_year.items()}
    assert gs["updated"] == format_time(record.fetched_at)
    assert gs["complete"] is True and gs["source"] == "scholar"
    assert list(gs["publications"]) == [p.author_pub_id for p in profile.publications]
    for pub in profile.publications:
        entry = gs["publications"][pub.author_pub_id]
        assert entry["num_citations"] == pub.citations
        assert entry["author_pub_id"] == pub.author_pub_id
        assert entry["bib"]["title"] == pub.title
        assert entry["bib"]["pub_year"] == (str(pub.year) if pub.year is not None else None)
        assert entry["bib"]["citation"] == pub.venue
        assert entry.get("cites_id") == ([pub.cites_id] if pub.cites_id else None)

    # The shields.io badge AcadHomepage links to, and ours.
    shield = read_json(author / "gs_data_shieldsio.json")
    assert endpoint_problems(shield) == []
    assert (shield["label"], shield["message"]) == ("citations", str(profile.citations))
    check_badge(author / "badges" / "citations.json", "citations", str(profile.citations))
    check_badge(author / "badges" / "h-index.json", "h-index", str(profile.h_index))
    check_badge(author / "badges" / "i10-index.json", "i10-index", str(profile.i10_index))
    check_badge(author / "badges" / "publications.json", "publications", str(N_PUBS))
    pubs_dir = author / "badges" / "pubs"
    for pub in profile.publications:
        check_badge(pubs_dir / f"{pub.author_pub_id}.json", "citations", str(pub.citations))
    assert len(list(pubs_dir.iterdir())) == 2 * N_PUBS

    # Every endpoint badge in the folder passes the schema; nothing else was written.
    for path in author.rglob("*.json"):
        if "badges" in path.parts or path.name == "gs_data_shieldsio.json":
            assert endpoint_problems(read_json(path)) == [], path
    assert not (author / STATE_FILE).exists()
    assert sorted(p.name for p in author.iterdir()) == [
        ".outputs.json",
        "badges",
        "gs_data.json",
        "gs_data_shieldsio.json",
        "gs_history.json",
        "snapshots",
    ]
    # The homepage chart's history: one point, the snapshot's numbers.
    history = read_json(author / "gs_history.json")
    assert history["citations"] == [0, profile.citations] and history["last"] == snap.name
    assert history["papers"] == {
        p.author_pub_id: [0, p.citations] for p in profile.publications if p.citations is not None
    }
    assert not [p for p in data.rglob("*.tmp")]

    summary = read_json(summary_path)
    assert summary["exit_code"] == 0 and summary["changed"] is True
    (outcome,) = summary["authors"]
    assert outcome["scholar_id"] == SID and outcome["status"] == "updated" and outcome["changed"] is True
    assert outcome["citations"] == profile.citations and outcome["snapshot"] == str(snap)
    assert [int(r.query.get("cstart") or 0) for r in replay.profile_requests(SID)] == [0, 100]


def test_number_format_from_the_config(replay: ReplayServer, tmp_path: Path) -> None:
    profile = replay.add_profile(SID, 30, citations=12_345)
    config = tmp_path / "scholar-stats.toml"
    config.write_text(f'[badge]\nnumber_format = "short"\n[[authors]]\nid = "{SID}"\n')
    data = tmp_path / "d"
    result = scholar_stats(
        "run", "--config", config, "--data-dir", data, "--base-url", replay.url, "--delay", "0"
    )
    assert result.returncode == 0, result.stderr
    assert profile.citations == 12_345
    assert read_json(data / SID / "gs_data_shieldsio.json")["message"] == "12k"
    assert read_json(data / SID / "gs_data.json")["citedby"] == 12_345


# -- 2. nothing new, nothing written --------------------------------------------------------


def test_second_run_with_no_change_leaves_the_folder_byte_identical(
    replay: ReplayServer, data: Path, first_run: dict[str, str], tmp_path: Path
) -> None:
    before = mtimes(data)
    time.sleep(1.1)  # a later second: a snapshot or an "updated" time would differ if rewritten
    summary_path = tmp_path / "summary.json"
    result = run_cli(replay, data, extra=("--summary", str(summary_path)))
    assert result.returncode == 0, result.stderr
    assert tree(data) == first_run
    assert mtimes(data) == before
    assert len(snapshots(data)) == 1
    (outcome,) = read_json(summary_path)["authors"]
    assert (outcome["status"], outcome["changed"], outcome["snapshot"]) == ("unchanged", False, None)
    assert report_lines(result.stderr) == [f"{SID}: unchanged: {outcome['citations']} citations"]


def test_a_missing_output_is_rebuilt_without_a_new_snapshot(
    replay: ReplayServer, data: Path, first_run: dict[str, str]
) -> None:
    (data / SID / "gs_data.json").unlink()
    some_badge = next((data / SID / "badges" / "pubs").glob("*.svg"))
    some_badge.unlink()
    result = run_cli(replay, data)
    assert result.returncode == 0, result.stderr
    assert tree(data) == first_run


def test_a_change_writes_a_new_snapshot_and_new_outputs(
    replay: ReplayServer, data: Path, profile: GeneratedProfile, first_run: dict[str, str]
) -> None:
    time.sleep(1.1)
    grown = replay.add_profile(SID, N_PUBS, citations=profile.citations + 7)
    result = run_cli(replay, data)
    assert result.returncode == 0, result.stderr
    old, new = snapshots(data)
    assert tree(data)[f"{SID}/snapshots/{old.name}"] == first_run[f"{SID}/snapshots/{old.name}"]
    gs = read_json(data / SID / "gs_data.json")
    assert gs["citedby"] == grown.citations == profile.citations + 7
    assert gs["updated"] == format_time(record_from_dict(read_json(new)).fetched_at)  # type: ignore[arg-type]


# -- 3. blocked, refused, incomplete: old data kept, stale marker, exit code ---------------------


BLOCKS: list[Scenario] = [
    Captcha(),
    Forbidden(),
    SigninRedirect(),
    SigninRedirect(offhost=True),
    SorryRedirect(),
    RateLimited(retry_after=3600),
]


@pytest.mark.parametrize(
    "scenario", BLOCKS, ids=lambda s: type(s).__name__ + ("-offhost" if getattr(s, "offhost", False) else "")
)
def test_blocked_run_keeps_everything_but_marks_stale(
    replay: ReplayServer, data: Path, first_run: dict[str, str], scenario: Scenario
) -> None:
    before = mtimes(data)
    gs_data = read_json(data / SID / "gs_data.json")
    replay.set_scenario(SID, scenario)
    result = run_cli(replay, data, extra=("--retries", "0"))
    assert result.returncode == 3, result.stderr
    # Every number is kept; gs_data.json only says since when they are stale (on_block = keep).
    # (.outputs.json is the local cache of what the outputs were built from: it follows them.)
    built = {f"{SID}/gs_data.json", f"{SID}/.outputs.json"}
    assert {k: v for k, v in without_state(tree(data)).items() if k not in built} == {
        k: v for k, v in first_run.items() if k not in built
    }
    assert {k: v for k, v in mtimes(data).items() if k in before and k not in built} == {
        k: v for k, v in before.items() if k not in built
    }
    (line,) = report_lines(result.stderr)
    assert line.startswith(f"{SID}: KEPT last good numbers: ")
    state = read_json(data / SID / STATE_FILE)
    assert state["stale"] is True and state["error"] == "Blocked" and state["exit_code"] == 3
    assert line == f"{SID}: KEPT last good numbers: 0 citations; {state['reason']}".replace(
        "0 citations", f"{gs_data['citedby']} citations"
    )
    assert read_json(data / SID / "gs_data.json") == {**gs_data, "stale_since": state["stale_since"]}
    assert "wait a few hours" in state["reason"]
    assert result.stderr.count(state["reason"]) == 1, result.stderr  # the reason once, not in notes too
    assert "on_block = keep" in result.stderr  # the numbers were kept: the policy that kept them is named
    assert not [
        r for r in replay.requests if r.path not in ("/citations", "/v3/signin/identifier", "/sorry/index")
    ]

    # Unblocked: the next run clears the marker and leaves everything else as it was.
    replay.set_scenario(SID, None)
    result = run_cli(replay, data)
    assert result.returncode == 0, result.stderr
    assert tree(data) == first_run


def test_stale_marker_keeps_the_time_the_data_went_stale(
    replay: ReplayServer, data: Path, first_run: dict[str, str]
) -> None:
    replay.set_scenario(SID, Captcha())
    assert run_cli(replay, data).returncode == 3
    first = read_json(data / SID / STATE_FILE)
    time.sleep(1.1)
    replay.set_scenario(SID, Forbidden())
    assert run_cli(replay, data).returncode == 3
    second = read_json(data / SID / STATE_FILE)
    assert second["stale_since"] == first["stale_since"]
    assert "HTTP 403" in second["reason"]
    # The time of the last attempt is kept beside it, in a file the data branch never gets.
    assert read_json(data / SID / ATTEMPT_FILE)["last_attempt"] > first["stale_since"]


def test_a_blocked_day_changes_the_published_files_only_when_the_marker_appears(
    replay: ReplayServer, data: Path, first_run: dict[str, str]
) -> None:
    from crawler.branch.layout import data_files

    def published() -> dict[str, str]:
        files = tree(data)
        return {name: files[name] for name, _ in data_files(data)}

    replay.set_scenario(SID, Captcha())
    assert run_cli(replay, data).returncode == 3
    day_one = published()
    assert f"{SID}/{STATE_FILE}" in day_one and day_one != {
        k: v for k, v in first_run.items() if k in day_one
    }
    time.sleep(1.1)
    assert run_cli(replay, data).returncode == 3
    # Another blocked day, the same reason: nothing for the data branch to commit.
    assert published() == day_one
    assert ATTEMPT_FILE not in {Path(name).name for name, _ in data_files(data)}
    # A new reason is news: the marker says it.
    replay.set_scenario(SID, Forbidden())
    assert run_cli(replay, data).returncode == 3
    assert published()[f"{SID}/{STATE_FILE}"] != day_one[f"{SID}/{STATE_FILE}"]
    replay.set_scenario(SID, None)
    assert run_cli(replay, data).returncode == 0
    assert tree(data) == first_run


def test_sharp_drop_is_refused_then_accepted_with_accept_drop(
    replay: ReplayServer, data: Path, profile: GeneratedProfile, first_run: dict[str, str], tmp_path: Path
) -> None:
    dropped = profile.citations - profile.citations // 20 - 1  # just over 5 %
    replay.add_profile(SID, N_PUBS, citations=dropped)
    summary_path = tmp_path / "s.json"
    result = run_cli(replay, data, extra=("--summary", str(summary_path)))
    assert result.returncode == 6, result.stderr
    assert without_state(tree(data)) == first_run
    (line,) = report_lines(result.stderr)
    assert line == (
        f"{SID}: REFUSED: total citations fell from {profile.citations} to {dropped} (more than 5%); "
        "kept the last good data (use --accept-drop if this is real)"
    )
    (outcome,) = read_json(summary_path)["authors"]
    assert (outcome["status"], outcome["exit_code"]) == ("refused", 6)
    assert read_json(data / SID / STATE_FILE)["error"] == "GuardRefused"

    result = run_cli(replay, data, extra=("--accept-drop",))
    assert result.returncode == 0, result.stderr
    assert f"  note: accepted: total citations fell from {profile.citations} to {dropped}" in result.stderr
    assert len(snapshots(data)) == 2
    assert read_json(data / SID / "gs_data.json")["citedby"] == dropped
    assert not (data / SID / STATE_FILE).exists()


def test_small_decrease_passes(
    replay: ReplayServer, data: Path, profile: GeneratedProfile, first_run: dict[str, str]
) -> None:
    smaller = profile.citations - profile.citations // 20  # 5 % at most
    replay.add_profile(SID, N_PUBS, citations=smaller)
    result = run_cli(replay, data)
    assert result.returncode == 0, result.stderr
    assert read_json(data / SID / "gs_data.json")["citedby"] == smaller
    assert len(snapshots(data)) == 2


def test_fewer_publications_by_more_than_ten_percent_is_refused(
    replay: ReplayServer, data: Path, profile: GeneratedProfile, first_run: dict[str, str]
) -> None:
    fewer = N_PUBS - N_PUBS // 10 - 1
    replay.add_profile(SID, fewer, citations=profile.citations)  # same total: only the count fell
    result = run_cli(replay, data)
    assert result.returncode == 6, result.stderr
    assert without_state(tree(data)) == first_run
    assert f"publications fell from {N_PUBS} to {fewer} (more than 10%)" in report_lines(result.stderr)[0]

    replay.add_profile(SID, N_PUBS - N_PUBS // 10, citations=profile.citations)
    result = run_cli(replay, data)
    assert result.returncode == 0, result.stderr
    assert len(read_json(data / SID / "gs_data.json")["publications"]) == N_PUBS - N_PUBS // 10


def test_page_of_another_profile_is_refused(
    replay: ReplayServer, data: Path, first_run: dict[str, str]
) -> None:
    # A complete saved page (no "show more") that names cIn8pGEAAAAJ, served for our ID.
    replay.add_fixture_page(SID, "bohlooli_en_50rows.html")
    result = run_cli(replay, data)
    assert result.returncode == 6, result.stderr
    assert without_state(tree(data)) == first_run
    assert report_lines(result.stderr) == [
        f"{SID}: REFUSED: the page is the profile of cIn8pGEAAAAJ, not {SID}"
    ]
    assert not (data / "cIn8pGEAAAAJ").exists()


def test_page_of_another_profile_with_show_more_is_not_stored(
    replay: ReplayServer, data: Path, first_run: dict[str, str]
) -> None:
    # The saved cherukuri page names amIMrIEAAAAJ and has "show more" enabled; served
    # verbatim, every later page is the same 20 rows.
    replay.add_fixture_page(SID, "cherukuri_en_20rows_showmore.html")
    result = run_cli(replay, data)
    assert result.returncode in (5, 6), result.stderr
    assert without_state(tree(data)) == first_run
    assert not (data / "amIMrIEAAAAJ").exists()


def test_page_of_another_profile_costs_one_request(replay: ReplayServer, data: Path) -> None:
    replay.add_fixture_page(SID, "cherukuri_en_20rows_showmore.html")
    run_cli(replay, data)
    assert len(replay.profile_requests(SID)) == 1


INCOMPLETE: list[tuple[Scenario, int]] = [
    (ServerError(500), 1),
    (Captcha(), 3),
    (SorryRedirect(), 3),
    (CutPage(0.5), 5),
]


@pytest.mark.parametrize(
    ("second_page", "code"), INCOMPLETE, ids=lambda v: type(v).__name__ if not isinstance(v, int) else str(v)
)
def test_incomplete_fetch_keeps_the_old_data(
    replay: ReplayServer, data: Path, first_run: dict[str, str], second_page: Scenario, code: int
) -> None:
    replay.reset()
    replay.queue(SID, Slow(0), second_page)  # the first page comes back, the second does not
    result = run_cli(replay, data, extra=("--retries", "0"))
    assert result.returncode == code, result.stderr
    assert [int(r.query.get("cstart") or 0) for r in replay.profile_requests(SID)] == [0, 100]
    # Scholar did not answer in full: the last numbers are kept, marked stale (on_block = keep).
    built = {f"{SID}/gs_data.json", f"{SID}/.outputs.json"}
    assert {k: v for k, v in without_state(tree(data)).items() if k not in built} == {
        k: v for k, v in first_run.items() if k not in built
    }
    state = read_json(data / SID / STATE_FILE)
    assert state["exit_code"] == code
    assert read_json(data / SID / "gs_data.json")["stale_since"] == state["stale_since"]
    (line,) = report_lines(result.stderr)
    assert line.startswith(f"{SID}: KEPT last good numbers: ") and re.search(r"cstart(=|%3D)100", line)

    result = run_cli(replay, data)
    assert result.returncode == 0, result.stderr
    assert tree(data) == first_run


def test_first_run_blocked_writes_only_the_marker(
    replay: ReplayServer, data: Path, profile: GeneratedProfile
) -> None:
    replay.set_scenario(SID, Captcha())
    result = run_cli(replay, data)
    assert result.returncode == 3
    # The marker says why there are no numbers yet (report, merge of shards); nothing else is written.
    assert sorted(tree(data)) == [".scholar-stats.lock", f"{SID}/{ATTEMPT_FILE}", f"{SID}/{STATE_FILE}"]


def test_first_run_blocked_says_what_is_true_once(
    replay: ReplayServer, data: Path, profile: GeneratedProfile
) -> None:
    replay.set_scenario(SID, Captcha())
    result = run_cli(replay, data)
    assert result.returncode == 3
    said = result.stderr
    # The reason once, no claim of numbers kept, and what to try with this command line's flags.
    assert said.count("CAPTCHA") == 1, said
    assert "on_block" not in said and "kept" not in said.lower(), said
    assert "nothing has been fetched" in said.lower()
    for advice in ("--proxy", "--source", "scholar-stats bookmarklet", "scholar-stats import-git"):
        assert advice in said, (advice, said)
    assert "input" not in said and "proxy:" not in said
    assert f"{SID}/{STATE_FILE}" in said  # what is left behind, and why


def test_first_run_blocked_in_the_action_names_its_inputs(
    replay: ReplayServer, data: Path, profile: GeneratedProfile, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SCHOLAR_STATS_INTERFACE", "action")
    replay.set_scenario(SID, Captcha())
    result = run_cli(replay, data)
    assert result.returncode == 3
    said = result.stderr
    assert said.count("CAPTCHA") == 1, said
    for advice in ("proxy:", "source:", "openalex-id:", "self-hosted", "import-git:", "bookmarklet"):
        assert advice in said, (advice, said)
    assert "--proxy" not in said and "--source" not in said


def test_unknown_profile_is_exit_4_and_marked_stale(replay: ReplayServer, data: Path) -> None:
    result = run_cli(replay, data, "nOsUcHpRoFiL")
    assert result.returncode == 4
    assert "no Google Scholar profile with ID nOsUcHpRoFiL" in report_lines(result.stderr, "nOsUcHpRoFiL")[0]
    assert sorted(tree(data)) == [
        ".scholar-stats.lock",
        f"nOsUcHpRoFiL/{ATTEMPT_FILE}",
        f"nOsUcHpRoFiL/{STATE_FILE}",
    ]


# -- 4. several authors ---------------------------------------------------------------------


def test_one_author_blocked_the_other_updated(replay: ReplayServer, data: Path, tmp_path: Path) -> None:
    replay.add_profile(SID, 20)
    other = replay.add_profile(OTHER, 12, seed=3)
    replay.set_scenario(SID, Forbidden())
    summary_path = tmp_path / "summary.json"
    result = run_cli(replay, data, SID, OTHER, extra=("--summary", str(summary_path)))
    assert result.returncode == 3, result.stderr
    assert report_lines(result.stderr, OTHER) == [f"{OTHER}: updated: {other.citations} citations"]
    assert report_lines(result.stderr, SID)[0].startswith(f"{SID}: FAILED: access refused (HTTP 403")
    assert read_json(data / OTHER / "gs_data.json")["citedby"] == other.citations
    assert len(snapshots(data, OTHER)) == 1 and not (data / OTHER / STATE_FILE).exists()
    assert sorted(p.name for p in (data / SID).iterdir()) == [ATTEMPT_FILE, STATE_FILE]

    summary = read_json(summary_path)
    assert summary["exit_code"] == 3 and summary["changed"] is True
    assert [(a["scholar_id"], a["status"], a["exit_code"]) for a in summary["authors"]] == [
        (SID, "failed", 3),
        (OTHER, "updated", 0),
    ]
    assert summary["authors"][0]["reason"] == read_json(data / SID / STATE_FILE)["reason"]
    assert summary["authors"][1]["citations"] == other.citations


def test_summary_to_stdout(replay: ReplayServer, data: Path, profile: GeneratedProfile) -> None:
    result = run_cli(replay, data, extra=("--summary", "-"))
    assert result.returncode == 0
    summary = json.loads(result.stdout)
    assert set(summary) == {"started", "finished", "exit_code", "changed", "authors"}
    assert summary["authors"][0]["citations"] == profile.citations


def test_a_bug_for_one_author_does_not_stop_the_others(
    replay: ReplayServer, data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    replay.add_profile(SID, 5)
    other = replay.add_profile(OTHER, 5, seed=2)
    real = accept_record

    def broken(store: AuthorStore, record: Any, **kwargs: Any) -> Any:
        if record.scholar_id == SID:
            raise RuntimeError("boom")
        return real(store, record, **kwargs)

    # run calls the accept_record it imported: that name is the one to break.
    monkeypatch.setattr("crawler.run.accept_record", broken)
    config = load_config(None, authors=[SID, OTHER], data_dir=data, base_url=replay.url, http={"delay": 0.0})
    summary = run(config)
    assert [(a.status, a.exit_code) for a in summary.authors] == [("failed", 1), ("updated", 0)]
    assert summary.authors[0].reason == "boom"
    assert summary.exit_code == 1
    assert read_json(data / OTHER / "gs_data.json")["citedby"] == other.citations


def test_an_authors_files_are_written_while_the_next_author_is_fetched(
    replay: ReplayServer, data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The run stores an author's record and writes its files in the background while the next
    author's requests wait on the network; outcomes still come in the configured order, and the
    run waits for every file before the group's numbers and the summary."""
    replay.add_profile(SID, 5)
    other = replay.add_profile(OTHER, 5, seed=2)
    next_fetched = threading.Event()
    overlapped: list[bool] = []
    real_accept, real_fetch = accept_record, fetch_with_fallback

    def slow_accept(store: AuthorStore, record: Any, **kwargs: Any) -> Any:
        if record.scholar_id == SID:
            overlapped.append(next_fetched.wait(10))
        return real_accept(store, record, **kwargs)

    def fetch(author: Any, *args: Any, **kwargs: Any) -> Any:
        if author.scholar_id == OTHER:
            next_fetched.set()
        return real_fetch(author, *args, **kwargs)

    monkeypatch.setattr("crawler.run.accept_record", slow_accept)
    monkeypatch.setattr("crawler.run.fetch_with_fallback", fetch)
    config = load_config(None, authors=[SID, OTHER], data_dir=data, base_url=replay.url, http={"delay": 0.0})
    seen: list[str] = []
    summary = run(config, progress=lambda outcome: seen.append(outcome.scholar_id))
    assert overlapped == [True]
    assert seen == [SID, OTHER] == [a.scholar_id for a in summary.authors]
    assert [a.status for a in summary.authors] == ["updated", "updated"]
    assert read_json(data / OTHER / "gs_data.json")["citedby"] == other.citations
    assert (data / "group.json").is_file()


def test_each_author_folder_is_opened_once_per_run(
    replay: ReplayServer, data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The author's store is opened by the driver and handed down: a good day, a day with nothing
    new and a blocked day each open each author's folder once (the group's numbers, written at
    the end from every author's newest snapshot, open their own)."""
    replay.add_profile(SID, 5)
    replay.add_profile(OTHER, 5, seed=2)
    opened: list[tuple[str, str | None]] = []
    real_init = AuthorStore.__init__

    def counting(self: AuthorStore, data_dir: Path, scholar_id: str, series: str | None = None) -> None:
        opened.append((scholar_id, series))
        real_init(self, data_dir, scholar_id, series)

    monkeypatch.setattr(AuthorStore, "__init__", counting)
    config = load_config(None, authors=[SID, OTHER], data_dir=data, base_url=replay.url, http={"delay": 0.0})
    for day in ("good", "nothing new", "blocked"):
        if day == "blocked":
            replay.set_scenario(SID, Captcha())
        opened.clear()
        summary = run(config, group=False)
        assert [a.status for a in summary.authors][1] in ("updated", "unchanged"), day
        assert sorted(opened) == sorted([(SID, None), (OTHER, None)]), day
    assert summary.authors[0].status == "kept"


def test_accept_record_library_call(replay: ReplayServer, tmp_path: Path) -> None:
    config = load_config(None, authors=[SID], data_dir=tmp_path, base_url=replay.url, http={"delay": 0.0})
    replay.add_profile(SID, 3)
    summary = run(config)
    assert summary.exit_code == 0
    record = AuthorStore(tmp_path, SID).read_snapshot(snapshots(tmp_path)[0])
    again = accept_record(
        AuthorStore(tmp_path, SID),
        record.with_fetched_at(record.fetched_at.replace(year=2099)),  # type: ignore[union-attr]
        guard=config.guard,
        badge=config.badge,
    )
    assert again.changed is False and again.snapshot is None and again.written == ()
    assert again.record == record


# -- 6. bad input, storage trouble -------------------------------------------------------------


def test_data_folder_under_a_file(replay: ReplayServer, tmp_path: Path, profile: GeneratedProfile) -> None:
    blocker = tmp_path / "some_file"
    blocker.write_text("not a folder\n")
    before = tree(tmp_path)
    result = run_cli(replay, blocker / "sub")
    assert result.returncode == 8
    assert result.stderr == f"error: cannot write {blocker / 'sub'}: Not a directory\n"
    assert tree(tmp_path) == before
    assert replay.requests == []


def chmod_stops_writes(tmp_path: Path) -> bool:
    """False for root (or anyone with CAP_DAC_OVERRIDE), who writes through chmod."""
    probe = tmp_path / "probe"
    probe.mkdir(mode=0o500)
    try:
        (probe / "f").write_text("x")
    except PermissionError:
        return True
    finally:
        probe.chmod(0o755)
    return False


def test_unwritable_data_folder(
    replay: ReplayServer, data: Path, profile: GeneratedProfile, first_run: dict[str, str], tmp_path: Path
) -> None:
    if not chmod_stops_writes(tmp_path):
        pytest.skip("this user writes through chmod (root); the folder-under-a-file test covers this")
    replay.add_profile(SID, N_PUBS, citations=profile.citations + 1)
    folders = [p for p in data.rglob("*") if p.is_dir()] + [data]
    for folder in folders:
        folder.chmod(0o500)
    try:
        result = run_cli(replay, data)
    finally:
        for folder in folders:
            folder.chmod(0o755)
    assert result.returncode == 8
    (line,) = report_lines(result.stderr)
    assert re.fullmatch(
        rf"{SID}: FAILED: cannot write {re.escape(str(data / SID))}/\S+: permission denied", line
    ), line
    assert tree(data) == first_run


class FailingRename:
    """os.replace that fails with ``error`` after ``allow`` successful calls."""

    def __init__(self, error: int, allow: int) -> None:
        self.error = error
        self.allow = allow
        self.real = os.replace
        self.failed: list[str] = []

    def __call__(self, src: Any, dst: Any) -> None:
        if self.allow <= 0:
            self.failed.append(str(dst))
            raise OSError(self.error, os.strerror(self.error))
        self.allow -= 1
        self.real(src, dst)


# (error, message, how many files are written before it strikes)
STORAGE_FAILURES = [
    (errno.ENOSPC, "disk full while writing {}", 0),  # the snapshot
    (errno.ENOSPC, "disk full while writing {}", 1),  # gs_data.json
    (errno.ENOSPC, "disk full while writing {}", 3),
    (errno.ENOSPC, "disk full while writing {}", 40),  # among the publication badges
    (errno.EACCES, "cannot write {}: permission denied", 0),
    (errno.EROFS, "cannot write {}: permission denied", 3),
    (errno.EIO, "cannot write {}: Input/output error", 0),
]


@pytest.mark.parametrize(
    ("error", "message", "allow"),
    STORAGE_FAILURES,
    ids=[f"{errno.errorcode[e]}-after-{n}" for e, _, n in STORAGE_FAILURES],
)
def test_storage_failure_loses_nothing_and_the_next_run_completes(
    replay: ReplayServer,
    data: Path,
    profile: GeneratedProfile,
    first_run: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    allow: int,
    error: int,
    message: str,
) -> None:
    old_snapshot = snapshots(data)[0]
    grown = replay.add_profile(SID, N_PUBS, citations=profile.citations + 50)
    config = load_config(None, authors=[SID], data_dir=data, base_url=replay.url, http={"delay": 0.0})
    failing = FailingRename(error, allow)
    monkeypatch.setattr(os, "replace", failing)
    summary = run(config)
    monkeypatch.undo()
    (outcome,) = summary.authors
    assert summary.exit_code == 8 and outcome.status == "failed"
    assert outcome.reason == message.format(failing.failed[0])
    after = tree(data)
    # Nothing stored is lost: the old snapshot is intact, every file is whole and
    # either the old or the new version, and no temporary file is left.
    assert after[f"{SID}/snapshots/{old_snapshot.name}"] == first_run[f"{SID}/snapshots/{old_snapshot.name}"]
    assert not [name for name in after if name.endswith(".tmp")]
    assert set(first_run) <= set(after)
    if allow == 0:
        assert after == first_run
    check_folder_is_valid(data)
    assert not (data / SID / STATE_FILE).exists()

    # Space again: the next run finishes the job.
    summary = run(config)
    assert summary.exit_code == 0
    assert read_json(data / SID / "gs_data.json")["citedby"] == grown.citations
    assert read_json(data / SID / "gs_data_shieldsio.json")["message"] == str(grown.citations)
    assert len(snapshots(data)) == 2


@contextlib.contextmanager
def tiny_tmpfs(where: Path, size: str) -> Iterator[Path]:
    where.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs root")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode(errors='replace').strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def test_full_tmpfs(replay: ReplayServer, tmp_path: Path) -> None:
    small = replay.add_profile(SID, 10)
    with tiny_tmpfs(tmp_path / "disk", "256k") as disk:
        data = disk / "data"
        result = run_cli(replay, data)
        assert result.returncode == 0, result.stderr
        before = tree(data)
        replay.add_profile(SID, 999, citations=small.citations + 10_000)
        # A hundredfold profile, to fill the disk: a rise the guard would refuse unless told.
        result = run_cli(replay, data, extra=("--accept-drop",))
        assert result.returncode == 8, result.stderr
        (line,) = report_lines(result.stderr)
        assert re.fullmatch(
            rf"{SID}: FAILED: disk full while writing {re.escape(str(data / SID))}/\S+", line
        ), line
        after = tree(data)
        assert not [name for name in after if name.endswith(".tmp")]
        for name in before:
            if "snapshots" in name:
                assert after[name] == before[name]
        check_folder_is_valid(data)
        assert read_json(data / SID / "gs_data.json")["citedby"] in (
            small.citations,
            small.citations + 10_000,
        )


def check_folder_is_valid(data: Path) -> None:
    for path in data.rglob("*"):
        if not path.is_file() or path.name.endswith(".tmp") or path.name == ".scholar-stats.lock":
            continue
        if path.suffix == ".json":
            value = json.loads(path.read_bytes())
            if path.parent.name == "snapshots":
                record_from_dict(value)
            elif "badges" in path.parts or path.name == "gs_data_shieldsio.json":
                assert endpoint_problems(value) == [], path
        elif path.suffix == ".svg":
            ET.fromstring(path.read_bytes())
        else:
            raise AssertionError(f"unexpected file {path}")


def test_corrupt_newest_snapshot_is_reported_skipped_and_kept(
    replay: ReplayServer, data: Path, profile: GeneratedProfile, first_run: dict[str, str]
) -> None:
    time.sleep(1.1)
    replay.add_profile(SID, N_PUBS, citations=profile.citations + 10)
    assert run_cli(replay, data).returncode == 0
    oldest, newest = snapshots(data)
    newest.write_text(newest.read_text()[:500] + "\n  hand-edited, oops\n")
    corrupt = newest.read_bytes()
    before = tree(data)

    # The guard compares with the newest snapshot that reads: a drop from it is refused...
    replay.add_profile(SID, N_PUBS, citations=profile.citations - profile.citations // 10)
    result = run_cli(replay, data)
    assert result.returncode == 6
    assert f"total citations fell from {profile.citations} to" in report_lines(result.stderr)[0]
    assert without_state(tree(data)) == before

    # ... and the same numbers as the corrupt one are stored again, under a new name.
    time.sleep(1.1)
    replay.add_profile(SID, N_PUBS, citations=profile.citations + 10)
    result = run_cli(replay, data)
    assert result.returncode == 8, result.stderr
    warning = [line for line in result.stderr.splitlines() if str(newest) in line]
    assert warning and all("corrupt snapshot" in line for line in warning)
    assert report_lines(result.stderr)[0].startswith(
        f"{SID}: updated: {profile.citations + 10} citations; corrupt snapshot {newest}"
    )
    assert newest.read_bytes() == corrupt
    paths = snapshots(data)
    assert paths[:2] == [oldest, newest] and len(paths) == 3
    after = tree(data)
    for name in before:
        if "snapshots" in name:
            assert after[name] == before[name]

    # Now a newer good snapshot stands in front of it: nothing new, nothing changed, and
    # the corrupt file (no longer in the guard's way) is still there for a person to fix.
    result = run_cli(replay, data)
    assert result.returncode == 0
    assert tree(data) == after
    assert newest.read_bytes() == corrupt


def test_only_snapshot_corrupt_is_reported_and_kept(
    replay: ReplayServer, data: Path, first_run: dict[str, str]
) -> None:
    (snap,) = snapshots(data)
    snap.write_bytes(b"\x00\x01 not json")
    result = run_cli(replay, data)
    assert result.returncode == 8
    assert snap.read_bytes() == b"\x00\x01 not json"
    assert len(snapshots(data)) == 2  # the good record is stored again beside it
    check_folder_is_valid_but(data, snap)


def check_folder_is_valid_but(data: Path, bad: Path) -> None:
    moved = bad.with_name(".moved-away.tmp")
    bad.rename(moved)
    try:
        check_folder_is_valid(data)
    finally:
        moved.rename(bad)


def test_leftover_temporary_files_are_ignored_and_cleaned(
    replay: ReplayServer, data: Path, first_run: dict[str, str]
) -> None:
    leftovers = [
        data / SID / ".gs_data.json.k2j3h4g5.tmp",
        data / SID / "snapshots" / ".29991231T235959Z.json.abcdefgh.tmp",
        data / SID / "badges" / ".citations.svg.q1w2e3r4.tmp",
        data / SID / "badges" / "pubs" / ".x.json.zzzzzzzz.tmp",
    ]
    for path in leftovers:
        path.write_bytes(b'{"format": 1, "scholar_id": "half')
    assert len(snapshots(data)) == 1
    result = run_cli(replay, data)
    assert (result.returncode, tree(data)) == (0, first_run), result.stderr


# -- 7. the lock ------------------------------------------------------------------------------


def test_second_run_on_a_locked_folder_exits_8_at_once(
    replay: ReplayServer, data: Path, first_run: dict[str, str]
) -> None:
    replay.reset()
    with locked(data):
        result = run_cli(replay, data)
    assert result.returncode == 8
    assert result.stderr == (
        f"error: another scholar-stats run is writing {data} (lock {data / '.scholar-stats.lock'}); "
        "try again later\n"
    )
    assert replay.requests == []
    assert tree(data) == first_run


def test_a_site_error_in_the_summary_is_masked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import datetime

    import crawler.history.dashboard as dashboard
    from crawler.errors import StorageError
    from crawler.outputs.run_summary import RunSummary
    from crawler.run import _update_site

    def failing(*_: object, **__: object) -> None:
        raise StorageError("cannot write https://bob:hunter2@host.example/site?token=TOKEN42")

    monkeypatch.setattr(dashboard, "update_site", failing)
    summary = RunSummary(started=datetime(2026, 1, 1, tzinfo=UTC))
    _update_site(load_config(None, authors=["aaaaaaaaaaaA"], data_dir=tmp_path), summary)
    text = json.dumps(summary.to_dict())
    assert "host.example" in text and "hunter2" not in text and "TOKEN42" not in text
