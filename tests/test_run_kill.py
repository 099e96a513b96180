"""SIGKILL `scholar-stats run` at many points; every file in the data folder must stay valid.

A profile of 999 publications makes the write phase long by nature (a snapshot,
gs_data.json and about two thousand badge files, each written to a temporary file,
fsynced and renamed), so kills land while files are being written without any hook
in the code.  Half the kills are timed from the start of the process, spread over
the length of a whole run; the other half wait until the first new file of the run
appears and then kill at once or a few milliseconds later.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from clitools import SCHOLAR_STATS, clean_env
from replay import GeneratedProfile, ReplayServer, Slow

from crawler.models import record_from_dict
from crawler.outputs.badges import endpoint_problems
from crawler.storage.store import LOCK_NAME, OUTPUTS_MANIFEST, AuthorStore

SID = "kIlLtEsTpRoF"
KILLS = 26

pytestmark = pytest.mark.slow


def start(replay: ReplayServer, data: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            *SCHOLAR_STATS,
            "run",
            "--author",
            SID,
            "--data-dir",
            str(data),
            "--base-url",
            replay.url,
            "--delay",
            "0",
            "--retries",
            "0",
        ],
        env=clean_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def entries(folder: Path) -> set[str]:
    try:
        return set(os.listdir(folder))
    except FileNotFoundError:
        return set()


def check_valid(data: Path, served: set[int]) -> int:
    """Assert every file an reader would read is whole; return how many temporary files were left."""
    author = data / SID
    temps = 0
    for path in sorted(data.rglob("*")):
        if not path.is_file() or path.name == LOCK_NAME:
            continue
        if path.name.startswith(".") and path.name.endswith(".tmp"):
            temps += 1
            continue
        raw = path.read_bytes()
        if path.suffix == ".svg":
            root = ET.fromstring(raw)
            assert root.tag.endswith("svg"), path
            continue
        assert path.suffix == ".json", f"unexpected file {path}"
        value = json.loads(raw)
        if path.parent.name == "snapshots":
            record = record_from_dict(value)
            assert record.complete and record.metrics.citations in served, path
        elif path.name == "gs_data.json":
            assert value["citedby"] in served and value["complete"] is True
            assert len(value["publications"]) in (999, 960)
        elif path.name == "state.json":
            assert value["stale"] is True
        elif path.name == "gs_history.json":
            assert value["scholar_id"] == SID and isinstance(value["citations"], list), path
            assert value["citations"][1::2] and sum(value["citations"][1::2]) in served, path
        elif path.name == OUTPUTS_MANIFEST:
            assert isinstance(value["fingerprint"], str) and isinstance(value["files"], dict), path
        else:
            assert endpoint_problems(value) == [], path
    store = AuthorStore(data, SID)
    paths = store.snapshot_paths()
    assert all(not p.name.startswith(".") and not p.name.endswith(".tmp") for p in paths)
    if paths:
        latest = store.latest()
        assert latest is not None and latest[0] == paths[-1] and store.bad_snapshots == []
    assert author.is_dir() or not paths
    return temps


def serve(replay: ReplayServer, round_: int) -> GeneratedProfile:
    # Alternate the publication list (different IDs: every pub badge is removed or
    # written) and raise the total, so that every run has everything to write.
    n = 999 if round_ % 2 == 0 else 960
    return replay.add_profile(SID, n, citations=100_000 + 1_000 * round_, seed=round_ % 2)


def test_sigkill_at_any_moment_leaves_every_file_valid(replay: ReplayServer, tmp_path: Path) -> None:
    data = tmp_path / "data"
    served: set[int] = set()
    rng = random.Random(20261123)

    # A whole run first, to have old files to lose and to measure how long a run takes.
    served.add(serve(replay, 0).citations)
    began = time.monotonic()
    process = start(replay, data)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 0, err.decode()
    whole_run = time.monotonic() - began
    replay.set_scenario(SID, Slow(0.02))  # a little wider fetch phase, too

    killed_alive = mid_write = temps_seen = 0
    for round_ in range(1, KILLS + 1):
        served.add(serve(replay, round_).citations)
        snapshot_dir = data / SID / "snapshots"
        before = entries(snapshot_dir)
        process = start(replay, data)
        if round_ % 2:
            # Timed from the start, at increasing points over a whole run.
            time.sleep(whole_run * (round_ / KILLS) * rng.uniform(0.8, 1.2))
        else:
            # Timed from the first new file in the snapshot folder: writing has begun.
            deadline = time.monotonic() + 60
            while (
                process.poll() is None
                and not (entries(snapshot_dir) - before)
                and time.monotonic() < deadline
            ):
                time.sleep(0.0005)
            time.sleep(rng.choice((0, 0, 0.001, 0.005, 0.02, 0.05)))
        if process.poll() is None:
            killed_alive += 1
            mid_write += bool(entries(snapshot_dir) - before)
            process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
        assert process.stderr is not None
        stderr = process.stderr.read().decode()
        process.stderr.close()
        assert "Traceback" not in stderr
        temps_seen += check_valid(data, served)

    # The kills timed from the first new file all hit a run busy writing (a write
    # phase of some two thousand fsynced files outlasts their few milliseconds).
    assert mid_write >= KILLS // 4

    # After all that, one run to the end: it cleans up and leaves the newest data.
    replay.set_scenario(SID, None)
    final = serve(replay, KILLS + 1)
    served.add(final.citations)
    process = start(replay, data)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 0, err.decode()
    assert check_valid(data, served) == 0
    author = data / SID
    gs = json.loads((author / "gs_data.json").read_bytes())
    assert gs["citedby"] == final.citations
    assert list(gs["publications"]) == [p.author_pub_id for p in final.publications]
    pubs = {p.name for p in (author / "badges" / "pubs").iterdir()}
    assert pubs == {f"{p.author_pub_id}{ext}" for p in final.publications for ext in (".json", ".svg")}
    latest = AuthorStore(data, SID).latest()
    assert latest is not None and latest[1].metrics.citations == final.citations
    print(
        f"\n{killed_alive} kills of a running process, {mid_write} while writing, "
        f"{temps_seen} temporary files seen"
    )
