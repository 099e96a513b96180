"""`merge --move`: what is taken leaves the shard folder (a downloaded artifact, used once)
instead of being copied, only after its checks passed, and the merged folder is the one a
copying merge makes; the batch that puts files in place fsyncs before it renames."""

from __future__ import annotations

import errno
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from test_run import scholar_stats, tree
from test_shard import two_shards, write_config
from test_store import synced

from crawler.merge import merge, shard_reads
from crawler.storage import atomic
from crawler.storage.batch import Batch, Moved, identity_of

_ = two_shards, synced  # the fixtures, from the shard and store tests

Shards = tuple[list[str], list[Path]]


def without_lock(files: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in files.items() if k != ".scholar-stats.lock"}


def inodes(folder: Path) -> dict[str, int]:
    return {str(p.relative_to(folder)): p.stat().st_ino for p in folder.rglob("*") if p.is_file()}


def copies(dirs: list[Path], where: Path) -> list[Path]:
    where.mkdir()
    return [Path(shutil.copytree(d, where / d.name)) for d in dirs]


def authors_in(shard: Path) -> list[str]:
    return sorted(p.name for p in shard.iterdir() if p.is_dir() and p.name != "badges")


def test_move_merges_what_a_copy_merges_and_takes_the_files_out_of_the_shards(
    tmp_path: Path, two_shards: Shards
) -> None:
    ids, dirs = two_shards
    config = write_config(tmp_path, ids)
    copied = tmp_path / "copied"
    assert scholar_stats("merge", *dirs, "--into", copied, "--config", config).returncode == 0
    shards = copies(dirs, tmp_path / "artifacts")
    before = {shard: inodes(shard) for shard in shards}
    into = tmp_path / "moved"
    result = scholar_stats("merge", *shards, "--into", into, "--config", config, "--move")
    assert result.returncode == 0, result.stderr
    assert "merged 6 authors from 2 shard folders" in result.stderr
    assert without_lock(tree(into)) == without_lock(tree(copied))
    assert f"{len([k for k in tree(into) if '/' in k and not k.startswith('badges/')])} files written" in (
        result.stderr
    )
    merged = inodes(into)
    for shard in shards:
        # Each author's folder went whole (its note of the last attempt went with it and is gone).
        assert authors_in(shard) == []
        for rel, ino in before[shard].items():
            if "/" in rel and not rel.endswith(".attempt.json"):
                assert merged[rel] == ino, rel  # the very file, renamed: not written again
    assert all(p.stat().st_nlink == 1 for p in into.rglob("*") if p.is_file())
    assert not list(into.rglob("*.tmp")) and not [p for p in into.iterdir() if p.name.startswith(".b")]


def test_move_into_a_data_folder_takes_only_what_changed(tmp_path: Path, two_shards: Shards) -> None:
    _, dirs = two_shards
    into = tmp_path / "merged"
    assert scholar_stats("merge", *dirs, "--into", into).returncode == 0
    shards = copies(dirs, tmp_path / "artifacts")
    sid = authors_in(shards[0])[0]
    changed = shards[0] / sid / "gs_data_shieldsio.json"
    badge = json.loads(changed.read_bytes())
    badge["message"] = "12345"
    changed.write_text(json.dumps(badge) + "\n", encoding="utf-8")
    changed_ino = changed.stat().st_ino
    same = shards[0] / sid / "gs_data.json"
    result = scholar_stats("merge", *shards, "--into", into, "--move")
    assert result.returncode == 0, result.stderr
    assert "1 files written" in result.stderr
    assert not changed.exists()  # taken: moved out of the shard
    assert (into / sid / "gs_data_shieldsio.json").stat().st_ino == changed_ino
    assert json.loads((into / sid / "gs_data_shieldsio.json").read_bytes())["message"] == "12345"
    # What the data folder already holds is not taken: it stays in the shard, a file of its own.
    assert same.is_file() and same.stat().st_ino != (into / sid / "gs_data.json").stat().st_ino


def test_move_leaves_what_it_refuses_in_the_shard_and_takes_the_rest(
    tmp_path: Path, two_shards: Shards
) -> None:
    _, dirs = two_shards
    copied = tmp_path / "copied"
    assert scholar_stats("merge", *dirs, "--into", copied).returncode == 0
    shards = copies(dirs, tmp_path / "artifacts")
    sid = authors_in(shards[0])[0]
    evil = shards[0] / sid / "badges" / "evil.html"
    evil.write_text("<script>alert(1)</script>\n", encoding="utf-8")
    into = tmp_path / "moved"
    result = scholar_stats("merge", *shards, "--into", into, "--move")
    assert result.returncode == 0, result.stderr
    assert f"skipped: {evil}: not a file scholar-stats writes; not merged" in result.stderr
    assert without_lock(tree(into)) == without_lock(tree(copied))
    # The folder holding a file that is not taken is taken file by file: only that file stays.
    left = sorted(str(p.relative_to(shards[0] / sid)) for p in (shards[0] / sid).rglob("*") if p.is_file())
    assert left == ["badges/evil.html"]


def test_move_across_file_systems_copies(
    tmp_path: Path, two_shards: Shards, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids, dirs = two_shards
    copied = tmp_path / "copied"
    merge(dirs, copied, expected=ids)
    shards = copies(dirs, tmp_path / "artifacts")
    before = {shard: tree(shard) for shard in shards}
    real_rename = os.rename

    def rename(src: str | Path, dst: str | Path) -> None:
        if str(tmp_path / "artifacts") in str(src):
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        real_rename(src, dst)

    monkeypatch.setattr(os, "rename", rename)
    into = tmp_path / "moved"
    summary = merge(shards, into, expected=ids, move=True)
    assert len(summary.merged) == 6 and summary.moved_files == 0
    assert without_lock(tree(into)) == without_lock(tree(copied))
    assert {shard: tree(shard) for shard in shards} == before  # copied, nothing moved


def test_a_batch_fsyncs_its_durable_files_before_any_rename(
    tmp_path: Path, synced: list[tuple[str, str]]
) -> None:
    folder = tmp_path / "data" / "a"
    folder.mkdir(parents=True)
    elsewhere = tmp_path / "shard" / "snapshot.json"
    elsewhere.parent.mkdir()
    elsewhere.write_bytes(b"{}\n")
    batch = Batch()
    batch.write(folder / "one.json", b"1\n", durable=True)
    batch.write(folder / "badge.svg", b"<svg/>\n", durable=False)
    moved = batch.move(str(elsewhere), folder / "two.json", identity_of(os.stat(elsewhere)), durable=True)
    assert moved is Moved.MOVED
    assert synced == [] and not (folder / "one.json").exists()
    batch.commit()
    kinds = [kind for kind, _ in synced]
    assert kinds == ["fsync-file", "fsync-file", "rename", "rename", "rename"]
    assert (folder / "two.json").read_bytes() == b"{}\n" and not elsewhere.exists()
    assert sorted(p.name for p in folder.iterdir()) == ["badge.svg", "one.json", "two.json"]


def test_many_folders_are_flushed_by_one_syncfs_of_their_file_system(
    tmp_path: Path, synced: list[tuple[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []

    def syncfs(fd: int) -> int:
        calls.append(os.fstat(fd).st_dev)
        return 0

    monkeypatch.setattr(atomic, "_libc_syncfs", lambda: syncfs)
    folders = [tmp_path / f"f{n}" for n in range(atomic.SYNCFS_FROM)]
    for folder in folders:
        folder.mkdir()
    atomic.sync_folders(folders)
    assert calls == [tmp_path.stat().st_dev] and synced == []
    atomic.sync_folders(folders[:2])  # a few: one fsync each
    assert calls == [tmp_path.stat().st_dev] and [kind for kind, _ in synced] == ["fsync-dir"] * 2


def test_a_batch_given_up_puts_back_what_it_moved_and_removes_what_it_wrote(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    shard = tmp_path / "shard.json"
    shard.write_bytes(b"{}\n")
    batch = Batch()
    batch.write(folder / "one.json", b"1\n", durable=False)
    moved = batch.move(str(shard), folder / "two.json", identity_of(os.stat(shard)), durable=True)
    assert moved is Moved.MOVED and not shard.exists()
    batch.discard()
    assert shard.read_bytes() == b"{}\n" and list(folder.iterdir()) == []


def test_the_groups_numbers_after_a_merge_decode_no_snapshot_again(
    tmp_path: Path, two_shards: Shards, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each author's newest snapshot is decoded and checked once, when it is taken from its shard:
    the group's numbers, read from the data folder just after, find its record by its bytes."""
    from crawler.outputs.badges import BadgeStyle
    from crawler.outputs.group_numbers import group_dict, read_members, write_group
    from crawler.storage import store

    ids, dirs = two_shards
    into = tmp_path / "moved"
    merge(copies(dirs, tmp_path / "artifacts"), into, expected=ids, move=True)
    decoded: list[object] = []
    real = store.record_from_dict  # type: ignore[attr-defined]

    def counted(value: Any) -> object:
        decoded.append(value)
        return real(value)

    monkeypatch.setattr(store, "record_from_dict", counted)
    assert write_group(into, ids, BadgeStyle())
    assert decoded == []
    store.forget_reads()
    assert json.loads((into / "group.json").read_bytes()) == json.loads(
        atomic.json_bytes(group_dict(read_members(into, ids)))
    )
    assert len(decoded) == len(ids)


def test_a_shard_file_is_read_with_one_open_one_fstat_and_one_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A lab's merge reads tens of thousands of small files: each costs one open, one fstat (its
    size bound and its identity, for a move) and one read, which finds the file's end too."""
    badge = tmp_path / "citations.json"
    badge.write_bytes(_badge_json())
    calls: list[str] = []

    def counting(name: str) -> Callable[..., Any]:
        real = getattr(os, name)

        def counted(*args: Any, **kwargs: Any) -> Any:
            calls.append(name)
            return real(*args, **kwargs)

        return counted

    for name in ("read", "fstat", "open"):
        monkeypatch.setattr(os, name, counting(name))
    data, info = shard_reads._read(tmp_path, "citations.json", 1024)
    assert sorted(calls) == ["fstat", "open", "read"]
    assert data == badge.read_bytes() and identity_of(info) == identity_of(os.stat(badge))


def _badge_json() -> bytes:
    from crawler.outputs.badges import BadgeStyle, endpoint_badge

    return atomic.json_bytes(endpoint_badge("citations", "12", BadgeStyle()))


@pytest.mark.parametrize("how", [(), ("--move",)], ids=["copy", "move"])
def test_a_badge_folder_left_half_written_in_a_shard_is_neither_taken_nor_named(
    tmp_path: Path, two_shards: Shards, how: tuple[str, ...]
) -> None:
    """A run killed while it wrote a new badge folder leaves it under its hidden temporary name
    (``.<name>.<pid>-<n>.tmp``) with files inside: like a temporary file, it is a write cut
    short, left out of the merge without a warning about each of its files."""
    ids, dirs = two_shards
    shards = copies(dirs, tmp_path / "artifacts")
    sid = authors_in(shards[0])[0]
    badges = next(p for p in (shards[0] / sid).rglob("*") if p.is_dir() and p.name == "pubs")
    left = badges.parent / ".pubs.4242-7.tmp"
    shutil.copytree(badges, left)
    assert len(list(left.iterdir())) >= 2
    names = sorted(p.name for p in badges.iterdir())
    into = tmp_path / "merged"
    result = scholar_stats("merge", *shards, "--into", into, "--config", write_config(tmp_path, ids), *how)
    assert result.returncode == 0, result.stderr
    assert ".tmp" not in result.stderr and "not merged" not in result.stderr, result.stderr
    assert not [p for p in into.rglob("*") if p.name.endswith(".tmp")]
    assert sorted(p.name for p in (into / badges.relative_to(shards[0])).iterdir()) == names
