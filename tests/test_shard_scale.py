"""At lab scale: 500 stand-in authors fetched by 10 ``run --shard K/10`` processes (like 10
runners), merged, give the same authors, numbers and snapshots as one unsharded run of the
same authors, times aside.  Two shards fail midway, the two ways a runner does: one is
blocked by Scholar after some of its authors (it still uploads its folder), one is killed
while it waits on an answer (it uploads nothing).  Their unfetched authors keep their last
good data from the data folder, marked stale, and nothing is invented for them."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from clitools import SCHOLAR_STATS, clean_env
from replay import Captcha, ReplayServer, Slow
from test_run import no_proxy

from crawler.shard import assign

_ = no_proxy  # autouse, from the run tests: proxies and a CI step summary stay out
N_AUTHORS = 500
N_SHARDS = 10
BLOCKED_SHARD = 3  # Scholar shows a CAPTCHA to the second half of its authors
KILLED_SHARD = 7  # its runner dies while it waits on one author
AUTHORS = [f"sCaLe{n:03d}AAAJ" for n in range(N_AUTHORS)]
# The times a fetch stamps, and the outputs' fingerprint (a hash of the record, its fetch
# time included); everything else must be equal.
TIME_KEYS = {"fetched_at", "updated", "stale_since", "fingerprint"}
SNAPSHOT_NAME = re.compile(r"^\d{8}T\d{6}Z(_\d+)?\.json$")  # named by the time it was taken
# A loaded two-core machine runs 500 authors in well under a minute; these only stop a hang.
PROCESS_TIMEOUT = 900

pytestmark = pytest.mark.slow


def scholar_stats(*args: str | Path) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [*SCHOLAR_STATS, *map(str, args)],
        capture_output=True,
        text=True,
        timeout=PROCESS_TIMEOUT,
        env=clean_env(),
    )
    assert "Traceback" not in result.stderr, result.stderr
    return result


def without_times(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: without_times(v) for k, v in value.items() if k not in TIME_KEYS}
    if isinstance(value, list):
        return [without_times(v) for v in value]
    if isinstance(value, str) and SNAPSHOT_NAME.match(value):
        return "<snapshot>"
    return value


def author_view(folder: Path) -> dict[str, Any]:
    """What an author's folder says, times aside: its snapshots in order, and every other file
    (JSON files read, times left out; the rest byte for byte).  The stale marker is left to the
    caller: it says when and why, which a run and a merge of the same data may word apart; the
    time of the last attempt (``.attempt.json``, never published) is a time."""
    view: dict[str, Any] = {"snapshots": []}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if not path.is_file() or rel in ("state.json", ".attempt.json"):
            continue
        data = path.read_bytes()
        content = without_times(json.loads(data)) if path.suffix == ".json" else data
        if rel.startswith("snapshots/"):
            view["snapshots"].append(content)  # named by the time they were taken: in order, names aside
        else:
            view[rel] = content
    return view


def write_config(path: Path, replay: ReplayServer) -> Path:
    # A long timeout: the killed shard must still be waiting on its answer when it is killed.
    path.write_text(
        f'base_url = "{replay.url}"\ndelay = 0\nretries = 0\ntimeout = 600\n'
        + "".join(f'[[authors]]\nid = "{sid}"\n' for sid in AUTHORS),
        encoding="utf-8",
    )
    return path


def restore(base: Path, folder: Path, ids: list[str]) -> None:
    """What a shard job's restore from the data branch gives it: its authors' folders."""
    for sid in ids:
        shutil.copytree(base / sid, folder / sid)


def new_numbers(replay: ReplayServer, day: int) -> None:
    for index, sid in enumerate(AUTHORS):
        replay.add_profile(sid, 2, citations=10 * day + index % 37, seed=day)


def wait_for_request(replay: ReplayServer, sid: str, processes: dict[int, subprocess.Popen[str]]) -> None:
    deadline = time.monotonic() + PROCESS_TIMEOUT
    while not replay.profile_requests(sid):
        assert processes[KILLED_SHARD].poll() is None, (
            "the shard to kill ended before it asked for its stuck author"
        )
        assert time.monotonic() < deadline, f"{sid} was never asked for"
        time.sleep(0.05)


def test_500_authors_in_10_shard_processes_equal_one_unsharded_run(
    replay: ReplayServer, tmp_path: Path
) -> None:
    config = write_config(tmp_path / "scholar-stats.toml", replay)
    shards = assign(AUTHORS, N_SHARDS)
    members = {k: [sid for sid in AUTHORS if shards[sid] == k] for k in range(1, N_SHARDS + 1)}
    assert max(map(len, members.values())) - min(map(len, members.values())) <= 1

    # Day 1: one unsharded run; its folder is what the data branch holds.
    new_numbers(replay, 1)
    base = tmp_path / "base"
    first = scholar_stats("-q", "run", "--config", config, "--data-dir", base)
    assert first.returncode == 0, first.stderr

    # Day 2: new numbers on Scholar.  The reference: one unsharded run from day 1's folder.
    new_numbers(replay, 2)
    single = tmp_path / "single"
    shutil.copytree(base, single)
    second = scholar_stats("-q", "run", "--config", config, "--data-dir", single)
    assert second.returncode == 0, second.stderr

    # The same day, sharded.  The blocked shard is refused from the middle of its list on;
    # the killed shard's runner dies while it waits on the author in the middle of its list.
    replay.reset()
    blocked = members[BLOCKED_SHARD][len(members[BLOCKED_SHARD]) // 2 :]
    for sid in blocked:
        replay.set_scenario(sid, Captcha())
    stuck = members[KILLED_SHARD][len(members[KILLED_SHARD]) // 2]
    replay.set_scenario(stuck, Slow(seconds=PROCESS_TIMEOUT))
    folders = {k: tmp_path / f"shard-{k}" for k in members}
    processes: dict[int, subprocess.Popen[str]] = {}
    for k, folder in folders.items():
        restore(base, folder, members[k])
        processes[k] = subprocess.Popen(
            [
                *SCHOLAR_STATS,
                "-q",
                "run",
                "--config",
                str(config),
                "--data-dir",
                str(folder),
                "--shard",
                f"{k}/{N_SHARDS}",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env=clean_env(),
        )
    wait_for_request(replay, stuck, processes)
    processes[KILLED_SHARD].send_signal(signal.SIGKILL)
    codes = {}
    for k, process in processes.items():
        _, stderr = process.communicate(timeout=PROCESS_TIMEOUT)
        assert "Traceback" not in stderr, stderr
        codes[k] = process.returncode
    assert codes == {
        k: (-signal.SIGKILL if k == KILLED_SHARD else 3 if k == BLOCKED_SHARD else 0) for k in members
    }
    killed = folders[KILLED_SHARD]
    done_before_kill = [
        sid for sid in members[KILLED_SHARD] if len(list((killed / sid / "snapshots").glob("*.json"))) == 2
    ]
    assert done_before_kill == members[KILLED_SHARD][: len(done_before_kill)]
    assert 0 < len(done_before_kill) < len(members[KILLED_SHARD])

    # The data branch is restored into the folder to merge into; the killed shard uploaded nothing.
    merged = tmp_path / "merged"
    shutil.copytree(base, merged)
    uploaded = [folder for k, folder in folders.items() if k != KILLED_SHARD]
    result = scholar_stats("merge", *uploaded, "--into", merged, "--config", config)
    assert result.returncode == 0, result.stderr
    stale = set(blocked) | set(members[KILLED_SHARD])
    assert f"{len(stale)} stale" in result.stderr
    assert sorted(p.name for p in merged.iterdir() if p.is_dir() and p.name != "badges") == AUTHORS
    for sid in AUTHORS:
        if sid in stale:
            # The last good data, as the data branch held it, and a marker that says why.
            state = json.loads((merged / sid / "state.json").read_bytes())
            assert state["stale"] is True, sid
            assert state["error"] == ("ShardMissing" if shards[sid] == KILLED_SHARD else "Blocked"), (
                sid,
                state,
            )
            # Its outputs say since when they are stale (gs_data's stale_since, so the
            # manifest's sizes too), whether its shard said so or the merge did for a shard
            # that brought nothing; the numbers and the history are the last good ones.
            assert (
                json.loads((merged / sid / "gs_data.json").read_bytes())["stale_since"]
                == state["stale_since"]
            )
            view, last_good = author_view(merged / sid), author_view(base / sid)
            assert view.pop(".outputs.json") != last_good.pop(".outputs.json")
            assert view == last_good, sid
        else:
            assert author_view(merged / sid) == author_view(single / sid), sid
            assert not (merged / sid / "state.json").exists(), sid
    group = json.loads((merged / "group.json").read_bytes())
    assert [m["scholar_id"] for m in group["members"]] == AUTHORS
    assert {m["scholar_id"] for m in group["members"] if m["stale"]} == stale
    by_id = {m["scholar_id"]: m for m in group["members"]}
    reference = {m["scholar_id"]: m for m in json.loads((single / "group.json").read_bytes())["members"]}
    day1 = {m["scholar_id"]: m for m in json.loads((base / "group.json").read_bytes())["members"]}
    for sid in AUTHORS:
        numbers = day1[sid] if sid in stale else reference[sid]
        assert {k: by_id[sid][k] for k in ("citations", "h_index", "publications")} == {
            k: numbers[k] for k in ("citations", "h_index", "publications")
        }, sid

    # Merging the same folders again writes nothing.
    before = {p: p.stat().st_mtime_ns for p in merged.rglob("*") if p.is_file()}
    again = scholar_stats("merge", *uploaded, "--into", merged, "--config", config)
    assert again.returncode == 0 and "0 files written, 0 removed" in again.stderr, again.stderr
    assert {p: p.stat().st_mtime_ns for p in merged.rglob("*") if p.is_file()} == before

    # The next run of the two failed shards, with Scholar answering again: restored from the
    # merged data (as from the branch), run, merged: everything equals the unsharded run.
    for sid in (*blocked, stuck):
        replay.set_scenario(sid, None)
    for k in (BLOCKED_SHARD, KILLED_SHARD):
        shutil.rmtree(folders[k])
        restore(merged, folders[k], members[k])
        rerun = scholar_stats(
            "-q", "run", "--config", config, "--data-dir", folders[k], "--shard", f"{k}/{N_SHARDS}"
        )
        assert rerun.returncode == 0, rerun.stderr
    final = scholar_stats("merge", *folders.values(), "--into", merged, "--config", config)
    assert final.returncode == 0 and " 0 stale" in final.stderr, final.stderr
    for sid in AUTHORS:
        assert author_view(merged / sid) == author_view(single / sid), sid
        assert not (merged / sid / "state.json").exists(), sid
    assert without_times(json.loads((merged / "group.json").read_bytes())) == without_times(
        json.loads((single / "group.json").read_bytes())
    )
    assert sorted(os.listdir(merged / "badges")) == sorted(os.listdir(single / "badges"))
