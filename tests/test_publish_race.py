"""Two publishes racing on one data branch: the later push replays onto the new tip, and both survive.

A real bare repository is the remote; the other machine is a second process
(`scholar-stats publish` from its own restored copy) that pushes between our
fetch and our push.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from test_publish import ALICE, BOB, BRANCH, git, isolated_git, no_sleep, tree_files, write_author  # noqa: F401

import crawler.branch.publish as module
from crawler.branch.publish import publish
from crawler.branch.restore import restore

# Each test runs git and a second scholar-stats process.
pytestmark = pytest.mark.slow


def machine(remote: Path, where: Path) -> tuple[Path, Path]:
    """A fresh runner: a bare scratch repository that knows the remote, and a data folder restored from it."""
    repo = where / "scratch.git"
    where.mkdir(parents=True)
    git(where, "init", "--quiet", "--bare", str(repo))
    git(repo, "remote", "add", "origin", str(remote))
    data = where / "data"
    data.mkdir()
    restore(data, repo=repo)
    return repo, data


def publish_in_another_process(repo: Path, data: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "crawler", "publish", "--repo", str(repo), "--data-dir", str(data)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ},
    )


def linear(remote: Path) -> list[str]:
    log = git(remote, "log", "--format=%H %P", BRANCH).splitlines()
    for newer, older in itertools.pairwise(log):
        assert newer.split()[1:] == [older.split()[0]], "not a straight line of single-parent commits"
    assert len(log[-1].split()) == 1
    return [line.split()[0] for line in log]


@pytest.fixture
def published(tmp_path: Path) -> Path:
    """A bare repository (the remote) whose data branch has Alice's first snapshot."""
    remote = tmp_path / "remotes" / "alice" / "site.git"
    remote.parent.mkdir(parents=True)
    git(tmp_path, "init", "--quiet", "--bare", "-b", "main", str(remote))
    repo, data = machine(remote, tmp_path / "day0")
    write_author(data, ALICE, 100, snapshot="20250101T000000Z")
    publish(data, repo=repo, sleep=no_sleep)
    return remote


@pytest.mark.parametrize("theirs", ["same author", "another author"])
def test_the_loser_replays_onto_the_winners_push(
    published: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, theirs: str
) -> None:
    remote = published
    # Both runners start from the same tip, each fetches its own new numbers.
    winner_repo, winner_data = machine(remote, tmp_path / "winner")
    loser_repo, loser_data = machine(remote, tmp_path / "loser")
    if theirs == "same author":
        write_author(winner_data, ALICE, 120, snapshot="20250201T000000Z")
    else:
        write_author(winner_data, BOB, 7, snapshot="20250201T000000Z")
    write_author(loser_data, ALICE, 130, snapshot="20250301T000000Z")

    real_push = module._push
    winner: list[subprocess.CompletedProcess[str]] = []

    def push_after_the_winner(*args: object) -> object:
        # Our commit is made on the tip we fetched; the winner's process pushes now.
        if not winner:
            winner.append(publish_in_another_process(winner_repo, winner_data))
            assert winner[0].returncode == 0, winner[0].stderr
        return real_push(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(module, "_push", push_after_the_winner)
    result = publish(loser_data, repo=loser_repo, sleep=no_sleep)

    assert result.pushed and result.attempts == 2
    commits = linear(remote)
    assert len(commits) == 3 and commits[0] == result.commit
    files = tree_files(remote, BRANCH)
    snapshots = {name for name in files if "/snapshots/" in name}
    expected = {f"{ALICE}/snapshots/20250101T000000Z.json", f"{ALICE}/snapshots/20250301T000000Z.json"}
    expected.add(
        f"{ALICE}/snapshots/20250201T000000Z.json"
        if theirs == "same author"
        else f"{BOB}/snapshots/20250201T000000Z.json"
    )
    assert snapshots == expected
    # What the loser fetched is the newest word on its own files.
    assert json.loads(files[f"{ALICE}/gs_data.json"])["citedby"] == 130
    if theirs == "another author":
        assert json.loads(files[f"{BOB}/gs_data.json"])["citedby"] == 7
    # The winner's commit is the loser's parent: nothing of it was rewritten.
    assert git(remote, "rev-parse", f"{BRANCH}~1") == git(
        winner_repo, "rev-parse", f"refs/remotes/origin/{BRANCH}"
    )


def test_the_loser_through_the_command_line_exits_0(published: Path, tmp_path: Path) -> None:
    """As the action runs it: both restored, the winner pushed first, the loser's `publish` still succeeds."""
    remote = published
    winner_repo, winner_data = machine(remote, tmp_path / "winner")
    loser_repo, loser_data = machine(remote, tmp_path / "loser")
    write_author(winner_data, ALICE, 120, snapshot="20250201T000000Z")
    write_author(loser_data, ALICE, 130, snapshot="20250301T000000Z")
    assert publish_in_another_process(winner_repo, winner_data).returncode == 0
    proc = publish_in_another_process(loser_repo, loser_data)
    assert proc.returncode == 0, proc.stderr
    assert len(linear(remote)) == 3
    names = set(tree_files(remote, BRANCH))
    assert {f"{ALICE}/snapshots/2025{m}01T000000Z.json" for m in ("01", "02", "03")} <= names


def test_a_snapshot_the_loser_deleted_stays_deleted_unless_the_winner_changed_it(
    published: Path, tmp_path: Path
) -> None:
    remote = published
    winner_repo, winner_data = machine(remote, tmp_path / "winner")
    loser_repo, loser_data = machine(remote, tmp_path / "loser")
    write_author(winner_data, BOB, 7, snapshot="20250201T000000Z")
    assert publish_in_another_process(winner_repo, winner_data).returncode == 0
    # The loser removes a badge file it no longer writes (not a snapshot: removing those is refused).
    (loser_data / ALICE / "gs_data_shieldsio.json").unlink()
    write_author(loser_data, ALICE, 130, snapshot="20250301T000000Z")
    (loser_data / ALICE / "gs_data_shieldsio.json").unlink()
    result = publish(loser_data, repo=loser_repo, sleep=no_sleep)
    assert result.pushed and result.attempts == 2
    names = set(tree_files(remote, BRANCH))
    assert f"{ALICE}/gs_data_shieldsio.json" not in names
    assert f"{BOB}/gs_data_shieldsio.json" in names
