"""Only regular files, of bounded size: every file read from a data folder, a shard or a
homepage repository goes through ``crawler.storage.readfile``; a link, a FIFO, a device or a huge
file is a one-line error, never a hang or a ``MemoryError``."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from replay import ReplayServer
from sites import make_site
from test_run import SID, run_cli, snapshots

from crawler.errors import StorageError, UsageError
from crawler.storage.readfile import (
    MAX_PAGE_BYTES,
    MAX_SNAPSHOT_BYTES,
    first_page_cached,
    read_bounded,
    read_bounded_or_none,
    read_fd,
    read_files_at,
    read_starts,
)
from crawler.storage.store import AuthorStore

ROOT = Path(__file__).resolve().parent.parent


def test_a_regular_file_is_read_whole(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    path.write_bytes(b"x" * 200_000)
    assert read_bounded(path, limit=200_000) == b"x" * 200_000
    assert read_bounded_or_none(tmp_path / "missing.json", limit=10) is None
    assert read_bounded_or_none(path / "below-a-file", limit=10) is None


def test_a_file_one_byte_over_its_bound_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    path.write_bytes(b"x" * 1001)
    with pytest.raises(StorageError, match=r"a.json is 1001 bytes, more than the 1000 a file of its kind"):
        read_bounded(path, limit=1000)


def test_a_file_that_grows_while_read_is_cut_at_the_bound(tmp_path: Path) -> None:
    path = tmp_path / "growing"
    path.write_bytes(b"x" * 10)
    fd = os.open(path, os.O_RDONLY)
    try:
        # fstat said 10 bytes; by the time it is read it holds a million.
        path.write_bytes(b"x" * 1_000_000)
        with pytest.raises(StorageError, match="holds more than the 100 bytes"):
            read_fd(fd, 10, limit=100, path=path, error=StorageError)
    finally:
        os.close(fd)


def test_a_link_is_not_followed_unless_asked(tmp_path: Path) -> None:
    target = tmp_path / "target.json"
    target.write_text("{}", encoding="utf-8")
    link = tmp_path / "link.json"
    link.symlink_to(target)
    with pytest.raises(StorageError, match=r"link.json is a symbolic link, which is not followed; not read"):
        read_bounded(link, limit=100)
    assert read_bounded(link, limit=100, follow=True) == b"{}"


def test_dev_zero_is_refused_through_a_link_and_when_named(tmp_path: Path) -> None:
    link = tmp_path / "snapshot.json"
    link.symlink_to("/dev/zero")
    with pytest.raises(StorageError, match="symbolic link"):
        read_bounded(link, limit=MAX_SNAPSHOT_BYTES)
    with pytest.raises(UsageError, match="is a character device, not a regular file; not read"):
        read_bounded(link, limit=MAX_SNAPSHOT_BYTES, follow=True, error=UsageError)


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)
    outcome: list[BaseException] = []

    def read() -> None:
        try:
            read_bounded(fifo, limit=100)
        except BaseException as exc:  # handed to the test's thread
            outcome.append(exc)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(10)
    if reader.is_alive():
        # Unblock the reader before failing, so the test run does not hang.
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        pytest.fail("reading a FIFO waited for a writer")
    assert len(outcome) == 1 and isinstance(outcome[0], StorageError)
    assert "is a FIFO, not a regular file; not read" in str(outcome[0])


def test_a_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="is a folder, not a regular file"):
        read_bounded(tmp_path, limit=100)


def test_the_starts_of_files_in_a_folder_are_read_only_from_regular_files_within_the_bound(
    tmp_path: Path,
) -> None:
    """``read_starts`` opens each name relative to the folder with the same checks as
    ``open_regular``; whatever fails one is ``None``, for its reader to open it the careful way."""
    folder = tmp_path / "snapshots"
    folder.mkdir()
    (folder / "a.json").write_bytes(b"0123456789")
    (folder / "short.json").write_bytes(b"ab")
    (folder / "big.json").write_bytes(b"x" * 101)
    (folder / "link.json").symlink_to(folder / "a.json")
    (folder / "zero.json").symlink_to("/dev/zero")
    os.mkfifo(folder / "fifo.json")  # opening it must not wait for a writer
    (folder / "dir.json").mkdir()
    names = [
        "a.json",
        "short.json",
        "big.json",
        "link.json",
        "zero.json",
        "fifo.json",
        "dir.json",
        "gone.json",
    ]
    assert read_starts(folder, names, 4, limit=100) == [b"0123", b"ab", None, None, None, None, None, None]
    assert read_starts(tmp_path / "nowhere", ["a.json"], 4, limit=100) == [None]


def test_the_files_of_a_folder_are_read_whole_only_when_regular_and_within_their_bound(
    tmp_path: Path,
) -> None:
    """``read_files_at`` reads whole files below a folder with ``open_regular``'s checks, each
    folder on the way opened without following a link; whatever fails one is ``None``."""
    folder = tmp_path / "author"
    (folder / "badges" / "pubs").mkdir(parents=True)
    (folder / "a.json").write_bytes(b"0123456789")
    (folder / "badges" / "pubs" / "p.svg").write_bytes(b"<svg/>")
    (folder / "big.json").write_bytes(b"x" * 101)
    (folder / "zero.json").symlink_to("/dev/zero")
    os.mkfifo(folder / "fifo.json")
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "x.json").write_bytes(b"outside")
    (folder / "linked").symlink_to(tmp_path / "elsewhere")  # a folder on the way that is a link
    names = [
        "a.json",
        "badges/pubs/p.svg",
        "big.json",
        "zero.json",
        "fifo.json",
        "linked/x.json",
        "gone.json",
    ]
    found = read_files_at(folder, names, [100, 10, 100, 100, 100, 100, 100])
    assert [None if f is None else f[0] for f in found] == [
        b"0123456789",
        b"<svg/>",
        None,
        None,
        None,
        None,
        None,
    ]
    info = found[0][1] if found[0] is not None else None
    assert info is not None and info.st_ino == (folder / "a.json").stat().st_ino
    assert read_files_at(folder, ["badges/pubs/p.svg"], [5]) == [None]  # 6 bytes, more than its bound
    assert read_files_at(tmp_path / "nowhere", ["a.json"], [100]) == [None]


def test_whether_a_files_first_page_is_in_the_page_cache(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    path.write_bytes(b"x" * 8192)
    assert first_page_cached(path) is True  # just written
    (tmp_path / "link.json").symlink_to(path)
    assert first_page_cached(tmp_path / "link.json") is None  # not followed, so not told
    assert first_page_cached(tmp_path / "gone.json") is None
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)
    # Asked once: a read refused with RWF_NOWAIT may start the kernel's read-ahead, so a second
    # question could find the page brought in meanwhile.
    cached = first_page_cached(path)
    if cached:
        pytest.skip("this file system keeps the file in memory (tmpfs)")
    assert cached is False


def test_a_slow_batch_of_cached_files_starts_no_threads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a loaded machine a batch of reads from the page cache can take as long as reads from
    a disk; the disk is taken for cold only when a file is found not to be in the page cache."""
    import concurrent.futures

    import crawler.history.snapshot_heads as heads
    from crawler.storage.store import snapshot_refs

    folder = tmp_path / "data" / SID / "snapshots"
    folder.mkdir(parents=True)
    for day in range(1, 29):
        for hour in range(10, 20):
            (folder / f"202602{day:02d}T{hour}0000Z.json").write_bytes(b"{}")
    refs = snapshot_refs(tmp_path / "data", SID)
    clock = iter(range(0, 10**6))
    monkeypatch.setattr(heads, "perf_counter", lambda: float(next(clock)))  # every batch looks slow
    started: list[int] = []

    class Watched(concurrent.futures.ThreadPoolExecutor):
        def __init__(self, workers: int) -> None:
            started.append(workers)
            super().__init__(workers)

    monkeypatch.setattr(concurrent.futures, "ThreadPoolExecutor", Watched)
    assert heads.read_heads(refs) == [b"{}"] * len(refs)
    assert started == []
    monkeypatch.setattr(heads, "first_page_cached", lambda path: False)
    assert heads.read_heads(refs) == [b"{}"] * len(refs)
    assert started == [8]


def test_a_snapshot_linked_to_dev_zero_is_skipped_by_the_store(tmp_path: Path) -> None:
    folder = tmp_path / "data" / SID / "snapshots"
    folder.mkdir(parents=True)
    (folder / "29990101T000000Z.json").symlink_to("/dev/zero")
    store = AuthorStore(tmp_path / "data", SID)
    assert store.latest() is None
    assert ["symbolic link" in bad.reason for bad in store.bad_snapshots] == [True]


def test_a_fifo_or_dev_zero_in_snapshots_does_not_hang_or_break_run(
    replay: ReplayServer, tmp_path: Path
) -> None:
    replay.add_profile(SID, 5)
    data = tmp_path / "data"
    assert run_cli(replay, data).returncode == 0
    good = snapshots(data, SID)
    os.mkfifo(data / SID / "snapshots" / "29990101T000000Z.json")
    (data / SID / "snapshots" / "29990102T000000Z.json").symlink_to("/dev/zero")
    result = run_cli(replay, data)  # scholar_stats' timeout fails the test on a hang
    # As for any corrupt snapshot: the fetch is checked against the last good one and
    # kept, and the run says which files to fix (exit 8).
    assert result.returncode == 8, result.stderr
    assert "unchanged: 162 citations" in result.stderr and "(fix or remove it)" in result.stderr
    assert "29990101T000000Z.json is a FIFO, not a regular file; not read" in result.stderr
    assert "29990102T000000Z.json is a symbolic link, which is not followed; not read" in result.stderr
    assert [p for p in snapshots(data, SID) if p.is_file() and not p.is_symlink()] == good
    assert json.loads((data / SID / "gs_data.json").read_bytes())["scholar_id"] == SID


def _cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "crawler", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "GIT_CONFIG_GLOBAL": os.devnull},
    )


def one_line_error(proc: subprocess.CompletedProcess[str], code: int) -> str:
    assert proc.returncode == code, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith("error: ") and proc.stderr.count("\n") == 1, proc.stderr
    return proc.stderr


@pytest.mark.parametrize("command", ["init", "doctor"])
def test_socials_linked_to_dev_zero_is_a_one_line_error(tmp_path: Path, command: str) -> None:
    site = make_site(tmp_path, "al-folio")
    socials = site / "_data" / "socials.yml"
    socials.unlink()
    socials.symlink_to("/dev/zero")
    error = one_line_error(_cli(command, "--repo", site), 2)
    assert "socials.yml is a symbolic link, which is not followed; not read" in error


def test_a_homepage_file_that_is_a_fifo_is_a_one_line_error(tmp_path: Path) -> None:
    site = make_site(tmp_path, "al-folio")
    config = site / "_config.yml"
    config.unlink()
    os.mkfifo(config)
    error = one_line_error(_cli("doctor", "--repo", site), 2)
    assert "_config.yml is a FIFO, not a regular file; not read" in error


def _peak_rss_kib(*args: str | Path) -> tuple[subprocess.CompletedProcess[str], int]:
    """The command's result and the peak resident memory of the process that ran it."""
    probe = (
        "import resource, subprocess, sys, json\n"
        "p = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "print(json.dumps([p.returncode, p.stdout, p.stderr,"
        " resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe, sys.executable, "-m", "crawler", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    code, stdout, stderr, rss = json.loads(out.stdout)
    return subprocess.CompletedProcess(args, code, stdout, stderr), rss


@pytest.mark.parametrize("command", ["import-html", "parse"])
def test_a_30_mb_page_of_nul_bytes_is_refused_in_bounded_memory(tmp_path: Path, command: str) -> None:
    page = tmp_path / "page.html"
    with open(page, "wb") as handle:
        handle.write(b"\0" * (30 * 1024 * 1024))
    args: tuple[str | Path, ...] = (command, page)
    if command == "import-html":
        args += ("--author", SID, "--data-dir", tmp_path / "data")
    result, rss_kib = _peak_rss_kib(*args)
    error = one_line_error(result, 2)
    assert f"is {30 * 1024 * 1024} bytes, more than the {MAX_PAGE_BYTES}" in error
    # The interpreter and the package's imports alone take about 100 MiB; the page is never read.
    assert rss_kib < 200 * 1024, f"{rss_kib} KiB"
    assert not (tmp_path / "data" / SID).exists()


def test_parse_reads_standard_input_up_to_the_bound(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "crawler", "parse", "-"],
        input=b"\0" * (MAX_PAGE_BYTES + 1),
        capture_output=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.decode() == (
        f"error: standard input holds more than the {MAX_PAGE_BYTES} bytes "
        "a file of its kind may be; not read\n"
    )


def test_every_reader_of_a_data_or_homepage_file_goes_through_readfile() -> None:
    """A new ``read_bytes``/``read_text``/``open`` in the package must be one of the few that
    read the package's own files or a file the user names, or go through crawler.storage.readfile."""
    allowed = {
        # The package's own assets and sources.
        "crawler/sources/bookmarklet.py": 1,
        "crawler/outputs/embed.py": 1,
        "crawler/homepage/lab.py": 1,
        "crawler/outputs/manifest.py": 1,
        # Files written, not read: the atomic writer's temporary file, --out, the CI summary.
        "crawler/storage/atomic.py": 1,
        "crawler/history/report.py": 1,
        "crawler/outputs/annotations.py": 3,
        # git hash-object of a file publish lists itself (crawler.branch.layout checks them).
        "crawler/branch/git.py": 1,
        # A docstring: each source module has ``open(settings)``.
        "crawler/sources/__init__.py": 1,
    }
    calls = re.compile(r"\.read_bytes\(|(?<!sites)\.read_text\(|(?<![\w.])(?<!def )open\(|os\.fdopen\(")
    found: dict[str, int] = {}
    for path in sorted((ROOT / "crawler").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel == "crawler/storage/readfile.py":
            continue
        count = len(calls.findall(path.read_text(encoding="utf-8")))
        if count:
            found[rel] = count
    assert found == allowed


def test_a_snapshot_nested_too_deeply_is_skipped_not_a_traceback(tmp_path: Path) -> None:
    from crawler.history.snapshots import HeaderReader
    from crawler.outputs.gs_history import write_history
    from crawler.storage.stale import read_state, stale_since_of
    from crawler.storage.store import snapshot_refs

    folder = tmp_path / "data" / SID / "snapshots"
    folder.mkdir(parents=True)
    deep = folder / "29990101T000000Z.json"
    deep.write_text("[" * 100_000, encoding="utf-8")
    (tmp_path / "data" / SID / "state.json").write_text("[" * 100_000, encoding="utf-8")
    # Our own layout's header, read from the first 4 KiB alone, nested too deeply inside.
    header = folder / "29980101T000000Z.json"
    header.write_text('{\n  "format": 1,\n  "x": ' + "[" * 3000 + ',\n  "publications": []}', "utf-8")
    store = AuthorStore(tmp_path / "data", SID)
    assert store.latest() is None
    assert [bad.path for bad in store.bad_snapshots] == [deep, header]
    refs = snapshot_refs(tmp_path / "data", SID)
    assert [ref.path for ref in refs] == [header, deep]
    bad: list[Any] = []
    reader = HeaderReader(SID, bad=bad, quiet=True)
    reader.prefetch(refs)
    assert [reader.read(ref) for ref in refs] == [None, None] and len(bad) == 2
    # Nothing readable: no history is written, and no traceback.
    assert write_history(AuthorStore(tmp_path / "data", SID)) is False
    assert not (tmp_path / "data" / SID / "gs_history.json").exists()
    assert stale_since_of(tmp_path / "data", SID) is None
    with pytest.raises(ValueError):
        read_state(tmp_path / "data", SID)
