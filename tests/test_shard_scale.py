"""At lab scale: 500 stand-in authors fetched by 10 shard processes (like 10 runners), merged,
give the same authors, numbers and snapshots as one unsharded run, times aside; a shard killed
midway loses nothing: its unfetched authors keep their last good data, marked stale."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from clitools import SCHOLAR_STATS, clean_env
from replay import ReplayServer, Slow
from test_run import no_proxy, scholar_stats

from crawler.shard import assign

_ = no_proxy  # autouse, from the run tests
N_AUTHORS = 500
N_SHARDS = 10
KILLED = 4
AUTHORS = [f"sCaLe{n:04d}AAJ" for n in range(N_AUTHORS)]
TIME_KEYS = {"fetched_at", "updated"}

pytestmark = pytest.mark.slow


def without_times(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: without_times(v) for k, v in value.items() if k not in TIME_KEYS}
    if isinstance(value, list):
        return [without_times(v) for v in value]
    return value


def author_view(folder: Path) -> dict[str, Any]:
    """What an author's folder says, times aside: snapshots in order, outputs, badges, the stale marker."""
    snaps = sorted((folder / "snapshots").glob("*.json"))
    files = {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and "snapshots" not in p.parts and p.name not in ("gs_data.json", "state.json")
    }
    return {
        "snapshots": [without_times(json.loads(p.read_bytes())) for p in snaps],
        "gs_data": without_times(json.loads((folder / "gs_data.json").read_bytes())),
        "files": files,
    }


def write_config(path: Path, replay: ReplayServer) -> Path:
    path.write_text(
        f'base_url = "{replay.url}"\ndelay = 0\nretries = 0\n' + "".join(f'[[authors]]\nid = "{sid}"\n' for sid in AUTHORS),
        encoding="utf-8",
    )
    return path


def test_500_authors_in_10_shard_processes_equal_one_unsharded_run(replay: ReplayServer, tmp_path: Path) -> None:
    for index, sid in enumerate(AUTHORS):
        replay.add_profile(sid, 2, citations=10 + index % 37, seed=1)
    config = write_config(tmp_path / "scholar-stats.toml", replay)

    # Day 1: one unsharded run; its folder is what the data branch holds.
    base = tmp_path / "base"
    assert scholar_stats("-q", "run", "--config", config, "--data-dir", base).returncode == 0

    # Day 2: new numbers on Scholar.
    for index, sid in enumerate(AUTHORS):
        replay.add_profile(sid, 2, citations=50 + index % 41, seed=2)
    single = tmp_path / "single"
    shutil.copytree(base, single)
    assert scholar_stats("-q", "run", "--config", config, "--data-dir", single).returncode == 0

    # The same day, sharded: each shard restores its authors, then runs in its own process.
    shards = assign(AUTHORS, N_SHARDS)
    killed_authors = [sid for sid in AUTHORS if shards[sid] == KILLED]
    stuck = killed_authors[len(killed_authors) // 2]
    replay.reset()  # the unsharded run asked for the stuck author too
    replay.set_scenario(stuck, Slow(seconds=120))
    folders = []
    processes = {}
    for k in range(1, N_SHARDS + 1):
        folder = tmp_path / f"shard-{k}"
        for sid in AUTHORS:
            if shards[sid] == k:
                shutil.copytree(base / sid, folder / sid)
        folders.append(folder)
        processes[k] = subprocess.Popen(
            [*SCHOLAR_STATS, "-q", "run", "--config", str(config), "--data-dir", str(folder), "--shard", f"{k}/{N_SHARDS}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=clean_env(),
        )
    # Shard KILLED dies midway, as a runner does: killed while it waits on one author.
    deadline = time.monotonic() + 300
    while not replay.profile_requests(stuck):
        assert time.monotonic() < deadline, "the stuck author was never asked for"
        time.sleep(0.1)
    processes[KILLED].send_signal(signal.SIGKILL)
    for k, process in processes.items():
        _, stderr = process.communicate(timeout=600)
        if k == KILLED:
            assert process.returncode == -signal.SIGKILL
        else:
            assert process.returncode == 0, stderr
    fetched_before_kill = [sid for sid in killed_authors if len(list((tmp_path / f"shard-{KILLED}" / sid / "snapshots").glob("*.json"))) == 2]
    assert 0 < len(fetched_before_kill) < len(killed_authors)

    # The killed shard uploads nothing (its job died); the merge gets the other nine.
    merged = tmp_path / "merged"
    shutil.copytree(base, merged)
    result = scholar_stats("merge", *[f for k, f in enumerate(folders, 1) if k != KILLED], "--into", merged, "--config", config)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in merged.iterdir() if p.is_dir() and p.name != "badges") == sorted(AUTHORS)
    for sid in AUTHORS:
        if shards[sid] != KILLED:
            assert author_view(merged / sid) == author_view(single / sid), sid
            assert not (merged / sid / "state.json").exists(), sid
        else:
            # The last good data, from the data branch, marked stale.
            assert author_view(merged / sid) == author_view(base / sid), sid
            assert json.loads((merged / sid / "state.json").read_bytes())["error"] == "ShardMissing"
    group = json.loads((merged / "group.json").read_bytes())
    assert [m["scholar_id"] for m in group["members"]] == AUTHORS
    assert {m["scholar_id"] for m in group["members"] if m["stale"]} == set(killed_authors)
    # Merging the same shards again changes nothing.
    before = {p: p.stat().st_mtime_ns for p in merged.rglob("*") if p.is_file()}
    again = scholar_stats("merge", *[f for k, f in enumerate(folders, 1) if k != KILLED], "--into", merged, "--config", config)
    assert again.returncode == 0 and "0 files written" in again.stderr
    assert {p: p.stat().st_mtime_ns for p in merged.rglob("*") if p.is_file()} == before

    # The next day the killed shard runs again and everything equals the unsharded run.
    replay.set_scenario(stuck, None)
    rerun = scholar_stats("-q", "run", "--config", config, "--data-dir", tmp_path / f"shard-{KILLED}", "--shard", f"{KILLED}/{N_SHARDS}")
    assert rerun.returncode == 0, rerun.stderr
    assert scholar_stats("merge", *folders, "--into", merged, "--config", config).returncode == 0
    for sid in AUTHORS:
        assert author_view(merged / sid) == author_view(single / sid), sid
        assert not (merged / sid / "state.json").exists(), sid
    assert without_times(json.loads((merged / "group.json").read_bytes())) == without_times(json.loads((single / "group.json").read_bytes()))
