"""`merge --move` takes each author's folder out of its shard (one rename into a private folder of
the data folder) before it reads any of it: what is read and checked there is what is moved in,
with nothing to check again afterwards; what is refused goes back to the shard; a merge killed on
the way leaves the folders where the next merge finds them and puts them back."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from test_merge_move import authors_in, copies, without_lock
from test_run import scholar_stats, tree
from test_shard import two_shards, write_config

from crawler.merge import merge, shard_reads
from crawler.merge.staging import SHARD_NOTE, recover
from crawler.storage import readfile

_ = two_shards  # the fixture, from the shard tests

Shards = tuple[list[str], list[Path]]


def test_an_authors_folder_leaves_its_shard_before_any_of_its_files_is_read(
    tmp_path: Path, two_shards: Shards, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids, dirs = two_shards
    shards = copies(dirs, tmp_path / "artifacts")
    read_in: set[Path] = set()
    real, real_at = shard_reads._read, readfile.read_files_at

    def recorded(folder: Path, rel: str, limit: int) -> tuple[bytes, os.stat_result]:
        read_in.add(folder.parent)
        return real(folder, rel, limit)

    def recorded_at(folder: Path, names: list[str], limits: list[int]) -> list[Any]:
        read_in.add(folder.parent)
        return real_at(folder, names, limits)

    monkeypatch.setattr(shard_reads, "_read", recorded)
    monkeypatch.setattr(shard_reads, "read_files_at", recorded_at)
    into = tmp_path / "moved"
    summary = merge(shards, into, expected=ids, move=True)
    assert len(summary.merged) == 6
    assert read_in and all(folder.parent == into for folder in read_in), read_in
    assert not [p for p in into.iterdir() if p.name.startswith(".merging")]  # the private folders are gone


def test_a_file_written_into_the_shard_after_the_read_is_neither_merged_nor_lost(
    tmp_path: Path, two_shards: Shards, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Something still writing into a downloaded shard folder once merge has read a file: what is
    merged is what was read and checked, and what was written stays in the shard."""
    ids, dirs = two_shards
    copied = tmp_path / "copied"
    merge(dirs, copied, expected=ids)
    shards = copies(dirs, tmp_path / "artifacts")
    sid = authors_in(shards[0])[0]
    forged = shards[0] / sid / "gs_data.json"
    real = readfile.read_files_at

    def read_then_swapped(folder: Path, names: list[str], limits: list[int]) -> list[Any]:
        found = real(folder, names, limits)
        if folder.name == sid and "gs_data.json" in names:
            forged.parent.mkdir(exist_ok=True)
            forged.write_bytes(b'{"scholar_id": "forged"}\n')
        return found

    monkeypatch.setattr(shard_reads, "read_files_at", read_then_swapped)
    merge(shards, tmp_path / "moved", expected=ids, move=True)
    assert without_lock(tree(tmp_path / "moved")) == without_lock(tree(copied))
    assert forged.read_bytes() == b'{"scholar_id": "forged"}\n'


def test_a_shard_file_with_a_second_name_is_copied_never_moved(tmp_path: Path, two_shards: Shards) -> None:
    """A file of the shard with another name (a hard link) could be changed through that name
    after the merge, behind every check: it is written anew, the rest of its folder moved."""
    ids, dirs = two_shards
    copied = tmp_path / "copied"
    merge(dirs, copied, expected=ids)
    shards = copies(dirs, tmp_path / "artifacts")
    sid = authors_in(shards[0])[0]
    other_name = tmp_path / "elsewhere.json"
    os.link(shards[0] / sid / "gs_data.json", other_name)
    into = tmp_path / "moved"
    summary = merge(shards, into, expected=ids, move=True)
    assert without_lock(tree(into)) == without_lock(tree(copied))
    merged = into / sid / "gs_data.json"
    assert merged.stat().st_ino != other_name.stat().st_ino and merged.stat().st_nlink == 1
    other_name.write_bytes(b"changed through the other name\n")
    assert merged.read_bytes() == (copied / sid / "gs_data.json").read_bytes()
    assert summary.moved_files > 0  # the other files of the folder were moved


def test_what_a_move_refuses_goes_back_to_its_shard_and_is_named_there(
    tmp_path: Path, two_shards: Shards
) -> None:
    """Into a data folder that holds the author already (files taken one by one), a refused file
    is named in its shard, where it is left, as a copying merge names it."""
    ids, dirs = two_shards
    into = tmp_path / "merged"
    merge(dirs, into, expected=ids)
    shards = copies(dirs, tmp_path / "artifacts")
    sid = authors_in(shards[0])[0]
    gs_data = shards[0] / sid / "gs_data.json"
    gs_data.unlink()
    gs_data.symlink_to("/dev/zero")
    fifo = shards[0] / sid / "snapshots" / "29990101T000000Z.json"
    os.mkfifo(fifo)
    result = scholar_stats("merge", *shards, "--into", into, "--move")
    assert result.returncode == 0, result.stderr
    assert f"{gs_data} is a symbolic link; ignored" in result.stderr
    assert f"{fifo} is not a regular file; ignored" in result.stderr
    assert ".merging" not in result.stderr
    assert gs_data.is_symlink() and fifo.exists()  # left in the shard, as it was
    assert not [p for p in into.iterdir() if p.name.startswith(".merging")]


_KILLED_AFTER_STAGING = """
import os, signal, sys
from pathlib import Path
import crawler.merge
def killed(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)
crawler.merge._merge_author = killed  # killed once the folders are taken, before the first is merged
crawler.merge.merge([Path(p) for p in sys.argv[2:]], Path(sys.argv[1]), move=True)
"""


def test_a_merge_killed_on_the_way_is_put_back_by_the_next(tmp_path: Path, two_shards: Shards) -> None:
    ids, dirs = two_shards
    config = write_config(tmp_path, ids)
    copied = tmp_path / "copied"
    assert scholar_stats("merge", *dirs, "--into", copied, "--config", config).returncode == 0
    shards = copies(dirs, tmp_path / "artifacts")
    into = tmp_path / "moved"
    killed = subprocess.run(
        [sys.executable, "-c", _KILLED_AFTER_STAGING, str(into), *map(str, shards)], env=os.environ.copy()
    )
    assert killed.returncode == -9
    staged = [p for p in into.iterdir() if p.name.startswith(".merging")]
    assert staged and all(authors_in(shard) == [] for shard in shards)
    result = scholar_stats("merge", *shards, "--into", into, "--config", config, "--move")
    assert result.returncode == 0, result.stderr
    for shard in shards:
        assert f"was left by a merge stopped on the way; put back into {shard}" in result.stderr
    assert "merged 6 authors from 2 shard folders" in result.stderr
    assert without_lock(tree(into)) == without_lock(tree(copied))
    assert all(authors_in(shard) == [] for shard in shards)


def test_a_folder_left_by_a_killed_merge_that_cannot_go_back_is_named_and_kept(tmp_path: Path) -> None:
    into, shard = tmp_path / "data", tmp_path / "shard-1"
    (shard / "Df304eQAAAAJ").mkdir(parents=True)  # the shard holds that author again
    root = into / ".merging.4242-1.tmp"
    (root / "Df304eQAAAAJ" / "snapshots").mkdir(parents=True)
    (root / "Df304eQAAAAJ" / "snapshots" / "20260101T000000Z.json").write_text("{}\n", encoding="utf-8")
    (root / SHARD_NOTE).write_bytes(os.fsencode(shard))
    lost = into / ".merging.4242-2.tmp"
    (lost / "2r-sAAAAAAAJ").mkdir(parents=True)
    lines = recover(into)
    assert lines == [
        f"{root / 'Df304eQAAAAJ'} was left by a merge stopped on the way; "
        f"left there: {shard} holds Df304eQAAAAJ again",
        f"{lost / '2r-sAAAAAAAJ'} was left by a merge stopped on the way; "
        "left there: which shard folder it came from is not known",
    ]
    assert (root / "Df304eQAAAAJ" / "snapshots" / "20260101T000000Z.json").is_file()
    assert (lost / "2r-sAAAAAAAJ").is_dir()


_KILLED_AT_COMMIT = """
import os, signal, sys
from pathlib import Path
import crawler.merge
from crawler.storage.batch import Batch
Batch.commit = lambda self: os.kill(os.getpid(), signal.SIGKILL)  # every file staged, none in place
crawler.merge.merge([Path(p) for p in sys.argv[2:]], Path(sys.argv[1]), move=True)
"""


def test_files_taken_one_by_one_stay_in_the_private_folder_until_they_take_their_place(
    tmp_path: Path, two_shards: Shards
) -> None:
    """Into a data folder that holds the authors already, each file taken is renamed from the private
    folder straight into its place when the batch commits: a merge killed before leaves every one of
    them in the private folder, which the next merge puts back into the shard and merges."""
    ids, dirs = two_shards
    into = tmp_path / "merged"
    merge(dirs, into, expected=ids)
    shards = copies(dirs, tmp_path / "artifacts")
    changed = {}
    for shard in shards:
        for sid in authors_in(shard):
            badge = shard / sid / "gs_data_shieldsio.json"
            badge.write_bytes(badge.read_bytes().replace(b'"style"', b'"labelColor": "blue",\n  "style"'))
            changed[sid] = badge.read_bytes()
    killed = subprocess.run(
        [sys.executable, "-c", _KILLED_AT_COMMIT, str(into), *map(str, shards)], env=os.environ.copy()
    )
    assert killed.returncode == -9
    assert not [p for p in into.rglob("*.tmp") if p.is_file()]  # nothing half-way in the author folders
    result = scholar_stats("merge", *shards, "--into", into, "--move")
    assert result.returncode == 0, result.stderr
    assert "put back into" in result.stderr
    for sid, data in changed.items():
        assert (into / sid / "gs_data_shieldsio.json").read_bytes() == data
    assert not [p for shard in shards for p in shard.rglob("gs_data_shieldsio.json")]  # taken: moved


def test_a_link_in_the_data_folder_stops_a_move_and_leaves_every_shard_as_it_was(
    tmp_path: Path, two_shards: Shards
) -> None:
    ids, dirs = two_shards
    into = tmp_path / "merged"
    merge(dirs, into, expected=ids)
    shards = copies(dirs, tmp_path / "artifacts")
    before = {shard: tree(shard) for shard in shards}
    outside = tmp_path / "outside"
    outside.mkdir()
    sid = authors_in(shards[0])[0]
    shutil.rmtree(into / sid / "badges")
    (into / sid / "badges").symlink_to(outside, target_is_directory=True)
    result = scholar_stats("merge", *shards, "--into", into, "--move")
    assert result.returncode == 8 and "symbolic link" in result.stderr.splitlines()[-1], result.stderr
    assert {shard: tree(shard) for shard in shards} == before
    assert list(outside.iterdir()) == [] and not [p for p in into.iterdir() if p.name.startswith(".merging")]
