"""The data folder: atomic writes, write-only-on-change, the lock, snapshot names."""

from __future__ import annotations

import errno
import json
import os
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crawler.errors import StorageError
from crawler.models import AuthorRecord, Metrics, Profile, record_to_dict
from crawler.storage.atomic import write_new_folder
from crawler.storage.store import (
    AuthorStore,
    atomic_write_bytes,
    json_bytes,
    locked,
    remove_temp_files,
    snapshot_name,
    write_if_changed,
)

SID = "stOrEtEsTiD_"
WHEN = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)


def record(citations: int = 10, when: datetime = WHEN) -> AuthorRecord:
    return AuthorRecord(Profile(SID, "A. Author"), Metrics(citations=citations), fetched_at=when)


def temp_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


# -- atomic_write_bytes ---------------------------------------------------------


def test_atomic_write_creates_folders_and_file(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "file.json"
    atomic_write_bytes(target, b"new\n")
    assert target.read_bytes() == b"new\n"
    assert temp_files(target.parent) == []
    assert oct(target.stat().st_mode & 0o777) == oct(0o644)


def test_failure_between_write_and_rename_keeps_the_old_content(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "gs_data.json"
    target.write_bytes(b"old\n")

    def no_rename(src: str, dst: str) -> None:
        # The temporary file holds the full new content at this point.
        assert Path(src).read_bytes() == b"new content\n"
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(os, "replace", no_rename)
    with pytest.raises(StorageError) as info:
        atomic_write_bytes(target, b"new content\n")
    assert str(target) in str(info.value)
    assert target.read_bytes() == b"old\n"
    assert temp_files(tmp_path) == []


def test_disk_full_while_writing_is_a_storage_error_naming_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "snap.json"
    target.write_bytes(b"old\n")
    real_fsync = os.fsync

    def full(fd: int) -> None:
        real_fsync(fd)
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(StorageError) as info:
        atomic_write_bytes(target, b"x" * 10_000)
    assert str(info.value) == f"disk full while writing {target}"
    assert info.value.exit_code == 8
    assert target.read_bytes() == b"old\n"
    assert temp_files(tmp_path) == []


def test_write_under_a_file_fails_clearly(tmp_path: Path) -> None:
    blocker = tmp_path / "plain-file"
    blocker.write_text("x")
    with pytest.raises(StorageError) as info:
        atomic_write_bytes(blocker / "sub" / "f.json", b"{}\n")
    assert str(blocker / "sub" / "f.json") in str(info.value)


# -- write_if_changed, json_bytes -------------------------------------------------


def test_write_if_changed(tmp_path: Path) -> None:
    target = tmp_path / "f.json"
    assert write_if_changed(target, b"one\n") is True
    stat = target.stat()
    assert write_if_changed(target, b"one\n") is False
    assert target.stat().st_mtime_ns == stat.st_mtime_ns and target.stat().st_ino == stat.st_ino
    assert write_if_changed(target, b"two\n") is True
    assert target.read_bytes() == b"two\n"


def test_json_bytes_is_indented_utf8_with_a_trailing_newline() -> None:
    data = json_bytes({"b": 1, "a": "café"})
    assert data == '{\n  "b": 1,\n  "a": "café"\n}\n'.encode()


# -- temporary files ----------------------------------------------------------------


def test_remove_temp_files_removes_only_leftovers(tmp_path: Path) -> None:
    (tmp_path / ".gs_data.json.ab12cd34.tmp").write_text("{")
    (tmp_path / "gs_data.json").write_text("{}")
    (tmp_path / "notes.tmp").write_text("mine")  # not a name atomic_write_bytes makes
    (tmp_path / ".hidden").write_text("x")
    removed = remove_temp_files(tmp_path)
    assert [p.name for p in removed] == [".gs_data.json.ab12cd34.tmp"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [".hidden", "gs_data.json", "notes.tmp"]
    assert remove_temp_files(tmp_path / "missing") == []


def test_remove_temp_files_removes_a_folder_left_half_written(tmp_path: Path) -> None:
    left = tmp_path / ".pubs.123-4.tmp"
    (left / "deeper").mkdir(parents=True)
    (left / "a.json").write_text("{")
    (left / "deeper" / "b.svg").write_text("<")
    (tmp_path / "pubs").mkdir()
    removed = remove_temp_files(tmp_path)
    assert removed == [left]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pubs"]


def test_write_new_folder_puts_the_folder_in_place_whole(tmp_path: Path) -> None:
    folder = tmp_path / "badges"
    items = [("citations.json", b"{}\n"), ("pubs/x.svg", b"<svg/>"), ("pubs/y.json", b"")]
    written = write_new_folder(folder, items, jail=tmp_path)
    assert written == [folder / "citations.json", folder / "pubs" / "x.svg", folder / "pubs" / "y.json"]
    assert {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()} == {
        "citations.json": b"{}\n",
        "pubs/x.svg": b"<svg/>",
        "pubs/y.json": b"",
    }
    assert (folder / "pubs" / "x.svg").stat().st_mode & 0o777 == 0o644
    assert sorted(p.name for p in tmp_path.iterdir()) == ["badges"]


def test_write_new_folder_cut_short_leaves_no_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_write = os.write
    calls = []

    def full_disk(fd: int, data: Any) -> int:
        calls.append(fd)
        if len(calls) == 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", full_disk)
    items = [(f"{n}.json", b"{}") for n in range(5)]
    with pytest.raises(StorageError, match="disk full"):
        write_new_folder(tmp_path / "badges", items, jail=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_write_new_folder_never_mixes_with_a_folder_already_there(tmp_path: Path) -> None:
    (tmp_path / "badges").mkdir()
    (tmp_path / "badges" / "old.json").write_text("old")
    with pytest.raises(StorageError):
        write_new_folder(tmp_path / "badges", [("new.json", b"new")], jail=tmp_path)
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["badges", "old.json"]


def test_write_new_folder_refuses_a_way_out_of_the_jail(tmp_path: Path) -> None:
    outside, data = tmp_path / "outside", tmp_path / "data"
    outside.mkdir()
    data.mkdir()
    (data / "author").symlink_to(outside)
    with pytest.raises(StorageError, match="symbolic link"):
        write_new_folder(data / "author" / "badges", [("a.json", b"{}")], jail=data)
    assert list(outside.iterdir()) == []


# -- snapshots ---------------------------------------------------------------------------


def test_snapshot_name_is_utc_whatever_the_zone() -> None:
    paris = timezone(timedelta(hours=2))
    assert snapshot_name(datetime(2026, 3, 4, 7, 6, 7, tzinfo=paris)) == "20260304T050607Z.json"
    assert snapshot_name(WHEN) == "20260304T050607Z.json"


def test_snapshot_names_sort_by_time(tmp_path: Path) -> None:
    author = AuthorStore(tmp_path, SID)
    times = [WHEN + timedelta(days=d, seconds=s) for d, s in ((40, 0), (0, 5), (400, 0), (0, 0), (1, 59))]
    for i, when in enumerate(times):
        author.write_snapshot(record(100 + i, when))
    paths = author.snapshot_paths()
    read = [author.read_snapshot(p).fetched_at for p in paths]
    assert read == sorted(times)
    latest = author.latest()
    assert latest is not None and latest[1].metrics.citations == 102  # the 400-day one


def test_same_second_snapshot_gets_a_suffix_and_never_overwrites(tmp_path: Path) -> None:
    author = AuthorStore(tmp_path, SID)
    first = author.write_snapshot(record(1))
    second = author.write_snapshot(record(2))
    assert first.name == "20260304T050607Z.json"
    assert second.name == "20260304T050607Z_1.json"
    assert json.loads(first.read_bytes())["metrics"]["citations"] == 1
    for n in range(3, 13):
        author.write_snapshot(record(n))
    paths = author.snapshot_paths()
    assert paths[-1].name == "20260304T050607Z_11.json"
    # ..._10 and ..._11 sort after ..._9, so the newest is the last written.
    assert [author.read_snapshot(p).metrics.citations for p in paths] == list(range(1, 13))
    latest = author.latest()
    assert latest is not None and latest[1].metrics.citations == 12


def test_snapshot_paths_ignore_temporary_and_foreign_names(tmp_path: Path) -> None:
    author = AuthorStore(tmp_path, SID)
    good = author.write_snapshot(record(7))
    snaps = author.snapshot_dir
    (snaps / ".20990101T000000Z.json.x1y2z3.tmp").write_text('{"format": 1')
    (snaps / "latest.json").write_bytes(json_bytes(record_to_dict(record(1, WHEN + timedelta(days=9)))))
    (snaps / "20990101T000000Z.json.bak").write_text("{}")
    assert author.snapshot_paths() == [good]
    latest = author.latest()
    assert latest is not None and latest[0] == good and latest[1].metrics.citations == 7
    assert [b.path.name for b in author.bad_snapshots] == ["latest.json"]
    assert "not a snapshot name" in author.bad_snapshots[0].reason


def test_corrupt_newest_snapshot_is_skipped_and_kept(tmp_path: Path) -> None:
    author = AuthorStore(tmp_path, SID)
    good = author.write_snapshot(record(7))
    bad = author.snapshot_dir / "20990101T000000Z.json"
    bad.write_text('{"format": 1, "scholar_id": ')
    latest = author.latest()
    assert latest is not None and latest[0] == good
    assert [b.path for b in author.bad_snapshots] == [bad]
    assert str(bad) in author.bad_snapshots[0].reason
    assert bad.read_text() == '{"format": 1, "scholar_id": '
    with pytest.raises(StorageError, match="corrupt snapshot"):
        author.read_snapshot(bad)


def test_snapshot_that_parses_but_is_not_a_record_is_corrupt(tmp_path: Path) -> None:
    author = AuthorStore(tmp_path, SID)
    author.snapshot_dir.mkdir(parents=True)
    (author.snapshot_dir / "20260101T000000Z.json").write_text('{"format": 1, "scholar_id": 5}\n')
    assert author.latest() is None
    assert "profile" in author.bad_snapshots[0].reason


def test_the_newest_snapshot_from_some_sources_skips_others_and_corrupt_ones(tmp_path: Path) -> None:
    author = AuthorStore(tmp_path, SID)
    assert author.latest_from({"scholar"}) is None
    day = timedelta(days=1)
    complete = record(1, WHEN)
    partial = replace(record(2, WHEN + day), complete=False)
    other = replace(record(3, WHEN + 2 * day), source="openalex")
    for each in (complete, partial, other):
        author.write_snapshot(each)
    (author.snapshot_dir / "20990101T000000Z.json").write_text('{"format": 1, "scholar_id": ')
    assert author.latest_from({"scholar", "serpapi"}) == partial
    assert author.latest_from({"scholar", "serpapi"}, complete=True) == complete
    assert author.latest_from({"openalex"}) == other
    assert author.latest_from({"serpapi"}) is None


# -- the lock ------------------------------------------------------------------------------


def test_lock_held_fails_at_once_with_a_clear_message(tmp_path: Path) -> None:
    with locked(tmp_path), pytest.raises(StorageError) as info, locked(tmp_path):
        pass  # pragma: no cover
    assert "another scholar-stats run is writing" in str(info.value)
    assert str(tmp_path) in str(info.value)
    with locked(tmp_path):  # released: a later run gets it
        pass


def test_lock_under_a_file_is_a_storage_error(tmp_path: Path) -> None:
    blocker = tmp_path / "f"
    blocker.write_text("x")
    with pytest.raises(StorageError, match="Not a directory"), locked(blocker / "data"):
        pass  # pragma: no cover


@pytest.mark.parametrize("count", [3, 200])
def test_a_batch_writes_only_what_changed_and_says_what_in_order(tmp_path: Path, count: int) -> None:
    from crawler.storage.store import write_all_if_changed

    items = [(tmp_path / "pubs" / f"p{n:03d}.json", f"{n}\n".encode()) for n in range(count)]
    assert write_all_if_changed(items) == [path for path, _ in items]
    assert all(path.read_bytes() == data for path, data in items)
    changed = [(path, data + b"x" if n % 7 == 0 else data) for n, (path, data) in enumerate(items)]
    assert write_all_if_changed(changed) == [path for n, (path, _) in enumerate(items) if n % 7 == 0]
    assert not [p for p in (tmp_path / "pubs").iterdir() if p.name.endswith(".tmp")]


def test_a_batch_stops_at_the_first_error_leaving_whole_files(tmp_path: Path) -> None:
    from crawler.storage.store import write_all_if_changed

    (tmp_path / "blocked").write_text("a file where a folder should be")
    items = [(tmp_path / ("blocked" if n == 50 else "ok") / f"p{n:03d}.json", b"{}\n") for n in range(100)]
    with pytest.raises(StorageError):
        write_all_if_changed(items)
    # The files before it are written whole, and no temporary file is left.
    assert sorted(p.name for p in (tmp_path / "ok").iterdir()) == [f"p{n:03d}.json" for n in range(50)]


def test_a_snapshot_read_again_is_the_file_as_it_is_now(tmp_path: Path) -> None:
    from dataclasses import replace

    store_ = AuthorStore(tmp_path, "abcdefghijkl")
    first = AuthorRecord(
        profile=Profile(scholar_id="abcdefghijkl", name="A"),
        metrics=Metrics(
            citations=10,
            citations_since=None,
            h_index=1,
            h_index_since=None,
            i10_index=None,
            i10_index_since=None,
            since_year=None,
        ),
        fetched_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    path = store_.write_snapshot(first)
    assert store_.read_snapshot(path) == first
    assert store_.read_snapshot(path) is store_.read_snapshot(path)  # read once, then remembered
    # Edited by hand (same size, new content): the new content is read, not the remembered one.
    second = replace(first, metrics=replace(first.metrics, citations=11))
    path.write_bytes(json_bytes(record_to_dict(second)))
    assert store_.read_snapshot(path) == second
    path.write_bytes(b"{broken")
    with pytest.raises(StorageError, match="corrupt snapshot"):
        store_.read_snapshot(path)


# -- durability: the fsyncs a power cut needs, in their order ----------------------------


@pytest.fixture
def synced(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Every fsync (of a file or a folder, by what the descriptor is) and every rename, in order."""
    import stat

    events: list[tuple[str, str]] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        info = os.fstat(fd)
        events.append(("fsync-dir" if stat.S_ISDIR(info.st_mode) else "fsync-file", str(info.st_ino)))
        real_fsync(fd)

    def replace(src: str, dst: str) -> None:
        real_replace(src, dst)
        events.append(("rename", str(os.stat(dst).st_ino)))

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    return events


def test_a_durable_write_fsyncs_the_file_then_renames_then_fsyncs_its_folder(
    tmp_path: Path, synced: list[tuple[str, str]]
) -> None:
    from crawler.storage.store import atomic_write_bytes

    folder = tmp_path / "data" / "a" / "snapshots"
    folder.mkdir(parents=True)
    path = folder / "20260101T000000Z.json"
    atomic_write_bytes(path, b"{}\n", jail=tmp_path / "data")
    file_ino, folder_ino = str(path.stat().st_ino), str(folder.stat().st_ino)
    assert synced == [("fsync-file", file_ino), ("rename", file_ino), ("fsync-dir", folder_ino)]


def test_a_snapshot_written_by_the_store_is_durable(tmp_path: Path, synced: list[tuple[str, str]]) -> None:
    store = AuthorStore(tmp_path / "data", SID)
    path = store.write_snapshot(record(100))
    assert synced[-1] == ("fsync-dir", str(path.parent.stat().st_ino))
    assert ("fsync-file", str(path.stat().st_ino)) in synced


def test_derived_files_fsync_each_folder_once_after_their_renames(
    tmp_path: Path, synced: list[tuple[str, str]]
) -> None:
    from crawler.storage.store import sync_folders, write_if_changed

    folders = [tmp_path / "a", tmp_path / "a" / "badges"]
    paths = [folders[0] / "gs_data.json", folders[1] / "citations.json", folders[1] / "h-index.json"]
    for path in paths:
        assert write_if_changed(path, b"{}\n", durable=False)
    assert [kind for kind, _ in synced] == ["rename"] * 3
    sync_folders(p.parent for p in paths)
    assert sorted(synced[3:]) == sorted(("fsync-dir", str(f.stat().st_ino)) for f in folders)


def test_removing_a_file_fsyncs_its_folder(tmp_path: Path, synced: list[tuple[str, str]]) -> None:
    from crawler.storage.store import remove_file

    path = tmp_path / "state.json"
    path.write_text("{}", encoding="utf-8")
    assert remove_file(path, jail=tmp_path)
    assert synced == [("fsync-dir", str(tmp_path.stat().st_ino))]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("20260102T030405Z.json", datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)),
        ("20260102T030405Z_12.json", datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)),
        ("20261302T030405Z.json", None),  # month 13
        ("20260230T030405Z.json", None),  # 30 February
        ("20260102T240000Z.json", None),  # hour 24
        ("20260102T030460Z.json", None),  # second 60
        ("20260102T030405.json", None),
        ("20260102T030405Z.txt", None),
        ("notes.json", None),
    ],
)
def test_the_time_in_a_snapshot_name(name: str, expected: datetime | None) -> None:
    from crawler.storage.store import time_from_name

    assert time_from_name(name) == expected


@pytest.mark.parametrize("extra", [[], ["20260101T000000Z_9.json", "20260101T000000Z_10.json"]])
def test_snapshot_refs_are_in_time_order_and_other_names_are_named(tmp_path: Path, extra: list[str]) -> None:
    from crawler.storage.store import BadSnapshot, snapshot_refs

    folder = tmp_path / "ABCDEFGHIJKL" / "snapshots"
    folder.mkdir(parents=True)
    plain = ["20260102T000000Z.json", "20251231T235959Z.json", "20260101T000000Z.json"]
    odd = ["zzzzzzzzzzzzzzzz.json", "aaaaaaaaaaaaaaaa.json", "20261301T000000Z.json"]
    for name in [*plain, *extra, *odd, ".20260103T000000Z.json", "20260104T000000Z.json.tmp"]:
        (folder / name).write_text("{}")
    bad: list[BadSnapshot] = []
    refs = snapshot_refs(tmp_path, "ABCDEFGHIJKL", bad, quiet=True)
    expected = ["20251231T235959Z.json", "20260101T000000Z.json", *extra, "20260102T000000Z.json"]
    assert [ref.name for ref in refs] == expected
    assert [ref.file for ref in refs] == [os.path.join(folder, name) for name in expected]
    assert [ref.time for ref in refs] == [time_of(name) for name in expected]
    assert [b.path.name for b in bad] == sorted(odd)


def time_of(name: str) -> datetime:
    return datetime.strptime(name[:16], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)


_JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()  # NaN and the infinities too: json writes NaN, Infinity, -Infinity
    | st.text()  # surrogates and control characters included
)
_JSON_KEYS = st.text() | st.integers() | st.floats() | st.booleans() | st.none()
_JSON_VALUES = st.recursive(
    _JSON_SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.lists(inner, max_size=3).map(tuple)
        | st.dictionaries(_JSON_KEYS, inner, max_size=4)
    ),
    max_leaves=30,
)


@given(_JSON_VALUES)
def test_indented_json_is_what_json_dumps_writes(value: object) -> None:
    """Every file's JSON form, written without the standard library's slow pure-Python
    indenting encoder, is byte for byte the text that encoder writes."""
    from crawler.storage.atomic import indented_json

    assert indented_json(value) == json.dumps(value, indent=2, ensure_ascii=False)


def test_indented_json_of_records_and_enums_is_what_json_dumps_writes() -> None:
    from crawler.models import TextEnum
    from crawler.storage.atomic import indented_json

    class Word(TextEnum):
        A = "a"

    data = record_to_dict(record())
    data["word"] = Word.A
    data["nested"] = {"empty list": [], "empty table": {}, "x": [{"y": [1, 2.5, None, True]}]}
    assert indented_json(data) == json.dumps(data, indent=2, ensure_ascii=False)


@pytest.mark.parametrize("value", [{"x": object()}, [1, {2, 3}], {(1, 2): 3}, b"bytes"])
def test_indented_json_refuses_what_json_dumps_refuses(value: object) -> None:
    from crawler.storage.atomic import indented_json

    with pytest.raises(TypeError) as expected:
        json.dumps(value, indent=2, ensure_ascii=False)
    with pytest.raises(TypeError) as got:
        indented_json(value)
    assert str(got.value) == str(expected.value)


def test_indented_json_refuses_a_circular_value_as_json_dumps_does() -> None:
    from crawler.storage.atomic import indented_json

    loop: list[object] = []
    loop.append(loop)
    with pytest.raises(ValueError, match="Circular reference"):
        indented_json(loop)


@pytest.mark.parametrize("by_folder", [True, False], ids=["opened-in-folder", "opened-by-path"])
@pytest.mark.parametrize("mask", [0o022, 0o077, 0o000])
def test_write_new_folder_files_are_readable_by_all_whatever_the_umask(
    tmp_path: Path, mask: int, by_folder: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    from crawler.storage import atomic

    if by_folder and not atomic._BY_FOLDER:
        pytest.skip("files cannot be opened relative to a folder here")
    monkeypatch.setattr(atomic, "_BY_FOLDER", by_folder)
    folder = tmp_path / "badges"
    items = [("a.json", b"1"), ("pubs/b.svg", b"2"), ("pubs/c.json", b"3"), ("pubs/deeper/d.json", b"4")]
    old = os.umask(mask)
    try:
        write_new_folder(folder, items, jail=tmp_path)
    finally:
        os.umask(old)
    modes = {name: (folder / name).stat().st_mode & 0o777 for name, _ in items}
    assert modes == {name: 0o644 for name, _ in items}
    assert {name: (folder / name).read_bytes() for name, _ in items} == dict(items)
