"""The data folder: atomic writes, a lock, and each author's snapshots.

Layout (every path relative to the data folder)::

    <scholar_id>/snapshots/<YYYYMMDDTHHMMSSZ>.json   full record, written only on change
    <scholar_id>/gs_data.json                         AcadHomepage-compatible author object
    <scholar_id>/gs_data_shieldsio.json               shields.io endpoint badge, total citations
    <scholar_id>/gs_history.json                      change points of the citations, for the homepage chart
    <scholar_id>/badges/*.json, *.svg                 endpoint and SVG badges
    <scholar_id>/badges/pubs/<author_pub_id>.json     one badge per publication
    <scholar_id>/state.json                           present only while the data is stale
    <scholar_id>/.outputs.json                        what the outputs were built from (a local cache)
    <scholar_id>/sources/<source>/snapshots/*.json    a fallback source's own series (crawler.on_block)
    <scholar_id>/matches/<source>.json                which of its works is which Scholar paper (crawler.match)

Every file is written to a temporary file in the same folder and renamed over
the old one, so a run killed at any moment leaves each file either old or new.
Snapshots, the source of truth, are also fsynced (file, then folder) before and
after the rename; derived files (gs_data, badges) can be rebuilt from them, so
they skip the per-file fsync.  A file whose content would not change is not
touched, so a run that finds nothing new changes nothing.

The data folder is a jail: every writer passes it as ``jail``, and a write,
rename or removal whose way there goes through a symbolic link leading out of
it is refused (:func:`confine`).  Links that stay inside are followed.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import itertools
import json
import logging
import os
import re
import stat
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any

import filelock

from crawler.errors import StorageError
from crawler.models import AuthorRecord, record_from_dict, record_to_dict

log = logging.getLogger(__name__)

LOCK_NAME = ".scholar-stats.lock"
SERIES_DIR = "sources"
# What an author's outputs were built from (crawler.outputs.manifest): a local cache, never published.
OUTPUTS_MANIFEST = ".outputs.json"
# The dashboard `scholar-stats site` keeps in the data folder (``site = true``), published with
# the data; the marker file lists what the last build wrote and makes the folder recognisable.
SITE_FOLDER = "site"
SITE_MARKER = ".scholar-stats-site"
SNAPSHOT_SUFFIX = ".json"
# <YYYYMMDDTHHMMSSZ>.json, or <...>_<n>.json for a second change within one second.
SNAPSHOT_NAME_RE = re.compile(r"^(\d{8}T\d{6}Z)(?:_(\d+))?\.json$")
# What atomic_write_bytes leaves behind when a run is killed between mkstemp and rename.
TEMP_NAME_RE = re.compile(r"^\..+\.tmp$")


def _describe_os_error(exc: OSError, path: Path) -> str:
    if exc.errno == errno.ENOSPC:
        return f"disk full while writing {path}"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"cannot write {path}: permission denied"
    return f"cannot write {path}: {exc.strerror or exc}"


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def confine(path: Path, jail: Path | None, *, whole: bool = False) -> None:
    """Refuse ``path`` when a symbolic link on its way from ``jail`` leads out of the jail.

    Only the folders on the way are checked, not the last name: a rename or an
    unlink replaces or removes a link itself, never what it points to.  With
    ``whole`` the last name is checked too (a folder whose files are listed and
    removed).  ``jail=None`` is for files the user named (``--out``).
    """
    if jail is None:
        return
    # Plain strings and one lstat per folder: this runs before each of a lab's 30,000 writes.
    jail_abs = os.path.abspath(jail)
    target = os.path.abspath(path)
    if not _inside(target, jail_abs):
        raise StorageError(f"{path} is outside the data folder {jail}")
    parts = target[len(jail_abs) :].strip(os.sep).split(os.sep) if target != jail_abs else []
    current = jail_abs
    for n, part in enumerate(parts if whole else parts[:-1]):
        current = current + os.sep + part
        try:
            is_link = stat.S_ISLNK(os.lstat(current).st_mode)
        except OSError:
            return  # nothing there yet: nothing below it can be a link either
        if is_link:
            leads_to = os.path.realpath(current)
            if not _inside(leads_to, os.path.realpath(jail_abs)):
                raise StorageError(
                    f"{Path(jail, *parts[: n + 1])} is a symbolic link to {leads_to}, outside the data folder {jail}; "
                    "refusing to write through it (remove the link or make it a folder)"
                )


def atomic_write_bytes(path: Path, data: bytes, *, jail: Path | None = None, durable: bool = True) -> None:
    """Replace ``path`` with ``data`` all at once (temporary file, rename).

    ``durable`` also fsyncs the file before the rename and the folder after it,
    so the new content survives a power cut; derived files that can be rebuilt
    skip that (see :func:`sync_folders`).
    """
    # Plain descriptor calls, not atomic_writer's buffered file: a lab run writes
    # 30,000 small files this way and the file object costs more than the write.
    path = Path(path)
    confine(path, jail)
    tmp_name: str | None = None
    try:
        fd, tmp_name = _create_temp(path)
        try:
            os.fchmod(fd, 0o644)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            if durable:
                os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp_name, path)
        tmp_name = None
        if durable:
            _fsync_dir(path.parent)
    except OSError as exc:
        raise StorageError(_describe_os_error(exc, path)) from exc
    finally:
        if tmp_name is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp_name)


_temp_counter = itertools.count()


def _create_temp(path: Path) -> tuple[int, str]:
    """A new temporary file beside ``path`` (``.<name>.<pid>-<n>.tmp``), its folder made if need be.

    Named by process and counter rather than by ``mkstemp``'s random tries:
    cheaper, and ``O_EXCL`` still refuses a name that exists.
    """
    folder = os.fspath(path.parent)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0)
    made_folder = False
    for _ in range(100):
        name = f"{folder}{os.sep}.{path.name}.{os.getpid()}-{next(_temp_counter)}.tmp"
        try:
            return os.open(name, flags, 0o644), name
        except FileExistsError:
            continue  # left by a killed process that had our pid
        except FileNotFoundError:
            if made_folder:
                raise
            path.parent.mkdir(parents=True, exist_ok=True)
            made_folder = True
    raise FileExistsError(errno.EEXIST, "no free temporary name", folder)


@contextlib.contextmanager
def atomic_writer(path: Path, *, jail: Path | None = None, durable: bool = True) -> Iterator[IO[bytes]]:
    """A file to write ``path``'s new content into as a stream; it replaces ``path``
    all at once when the block ends, and never when the block raises."""
    path = Path(path)
    confine(path, jail)
    tmp_name: str | None = None
    try:
        fd, tmp_name = _create_temp(path)
        os.fchmod(fd, 0o644)
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        os.replace(tmp_name, path)
        tmp_name = None
        if durable:
            _fsync_dir(path.parent)
    except OSError as exc:
        raise StorageError(_describe_os_error(exc, path)) from exc
    finally:
        if tmp_name is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp_name)


def sync_folders(folders: Iterable[Path]) -> None:
    """One fsync per folder, after a batch of non-durable writes into it, for the renames."""
    for folder in sorted(set(folders)):
        _fsync_dir(folder)


def write_if_changed(path: Path, data: bytes, *, jail: Path | None = None, durable: bool = True) -> bool:
    """Write ``data`` unless ``path`` already holds exactly it; return whether it wrote."""
    path = Path(path)
    confine(path, jail)
    try:
        with open(path, "rb") as handle:
            if handle.read() == data:
                return False
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise StorageError(f"cannot read {path}: {exc.strerror or exc}") from exc
    atomic_write_bytes(path, data, durable=durable)
    return True


def write_all_if_changed(items: Sequence[tuple[Path, bytes]], *, durable: bool = False) -> list[Path]:
    """``write_if_changed`` for each ``(path, data)``, in order; the paths written.

    The caller has confined the paths to the data folder (``confine``) already.
    One after the other: a pool of writer threads was measured (docs/benchmarks.md)
    and was slower on an idle machine, the GIL handing over between threads
    costing more than the file system waits they overlap.
    """
    return [path for path, data in items if write_if_changed(path, data, durable=durable)]


def json_bytes(value: Any) -> bytes:
    """The one JSON form of every file we write: indented, UTF-8, trailing newline."""
    return (json.dumps(value, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def remove_temp_files(folder: Path, *, jail: Path | None = None) -> list[Path]:
    """Remove the temporary files a killed run left in ``folder`` (not below it).

    Only call this while holding the data folder's lock: then no other run can
    be halfway through writing one of them.
    """
    confine(folder, jail, whole=True)
    removed: list[Path] = []
    try:
        # Names first, Path objects only for what goes: a badge folder holds hundreds of files.
        with os.scandir(folder) as entries:
            found = [Path(entry.path) for entry in entries if TEMP_NAME_RE.match(entry.name) and entry.is_file()]
    except (FileNotFoundError, NotADirectoryError):
        return removed
    except OSError as exc:
        raise StorageError(f"cannot list {folder}: {exc.strerror or exc}") from exc
    for path in found:
        if remove_file(path, jail=jail):
            removed.append(path)
    return removed


def remove_file(path: Path, *, jail: Path | None = None, durable: bool = True) -> bool:
    confine(path, jail)
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise StorageError(f"cannot remove {path}: {exc.strerror or exc}") from exc
    if durable:
        _fsync_dir(path.parent)
    return True


@contextlib.contextmanager
def locked(data_dir: Path, *, timeout: float = 0) -> Iterator[None]:
    """Hold the data folder's lock; a second run waits ``timeout`` seconds, then fails."""
    data_dir = Path(data_dir)
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StorageError(_describe_os_error(exc, data_dir)) from exc
    lock = filelock.FileLock(str(data_dir / LOCK_NAME))
    try:
        lock.acquire(timeout=timeout)
    except filelock.Timeout as exc:
        raise StorageError(
            f"another scholar-stats run is writing {data_dir} (lock {data_dir / LOCK_NAME}); try again later"
        ) from exc
    except OSError as exc:
        raise StorageError(_describe_os_error(exc, data_dir / LOCK_NAME)) from exc
    try:
        yield
    finally:
        lock.release()


def snapshot_name(when: datetime) -> str:
    """The file name of a snapshot fetched at ``when``, in UTC whatever its zone."""
    if when.tzinfo is not None:
        when = when.astimezone(timezone.utc)
    return when.strftime("%Y%m%dT%H%M%SZ") + SNAPSHOT_SUFFIX


# The folder of an author's snapshots, and the parts of a snapshot's name.
SNAPSHOT_DIR = "snapshots"
_NAME_TIME_RE = re.compile(r"^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z(?:_\d+)?$")


def time_from_name(name: str) -> datetime | None:
    """The UTC time in a snapshot's file name (``20260102T030405Z.json``, ``..._1.json``); None for another name."""
    if not name.endswith(SNAPSHOT_SUFFIX):
        return None
    match = _NAME_TIME_RE.match(name[: -len(SNAPSHOT_SUFFIX)])
    if not match:
        return None
    try:
        # Cheaper than strptime, which matters for 182,500 names.
        year, month, day, hour, minute, second = map(int, match.groups())
        return datetime(year, month, day, hour, minute, second, tzinfo=timezone.utc)
    except ValueError:
        return None


def snapshot_name_order(name: str) -> tuple[str, int, str]:
    """Time order for file names: ``..._10.json`` after ``..._9.json``, which a
    plain name sort would not give; names that are not snapshot names last."""
    match = SNAPSHOT_NAME_RE.match(name)
    if match is None:
        return ("~", 0, name)
    return (match.group(1), int(match.group(2) or 0), name)


def snapshot_sort_key(path: Path) -> tuple[str, int] | None:
    """``(time, n)`` for a snapshot file name (see ``snapshot_name_order``), ``None`` for any other name."""
    if SNAPSHOT_NAME_RE.match(path.name) is None:
        return None
    time, n, _ = snapshot_name_order(path.name)
    return time, n


@dataclass(frozen=True)
class BadSnapshot:
    path: Path
    reason: str

@dataclass(frozen=True, slots=True)
class SnapshotRef:
    """A snapshot file and the time its name says.

    The file is kept as a string: a history holds hundreds of thousands of
    these, and building a ``Path`` for each costs more than reading its header.
    """

    file: str
    time: datetime

    @property
    def path(self) -> Path:
        return Path(self.file)

    @property
    def name(self) -> str:
        return os.path.basename(self.file)


def snapshot_time(path: Path) -> datetime | None:
    """The UTC time a snapshot's file name says (``time_from_name`` of a path)."""
    return time_from_name(Path(path).name)


def report_bad(bad: list[BadSnapshot] | None, path: Path, reason: str, *, quiet: bool = False) -> None:
    """Say that a snapshot was skipped (on stderr, through logging) and remember it in ``bad``."""
    if not quiet:
        log.warning("corrupt snapshot %s: %s; skipped", path, reason)
    if bad is not None:
        bad.append(BadSnapshot(path, reason))


def snapshot_refs(
    data_dir: Path, scholar_id: str, bad: list[BadSnapshot] | None = None, *, quiet: bool = False
) -> list[SnapshotRef]:
    """An author's snapshots, oldest first; files whose name is not a time are reported and skipped."""
    folder = os.path.join(data_dir, scholar_id, SNAPSHOT_DIR)
    try:
        names = sorted(
            (n for n in os.listdir(folder) if n.endswith(SNAPSHOT_SUFFIX) and not n.startswith(".")),
            # Time order: "_10" after "_9"; names that are not times sort last and are reported below.
            key=snapshot_name_order,
        )
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise StorageError(f"cannot list {folder}: {exc.strerror or exc}") from exc
    refs = []
    for name in names:
        when = time_from_name(name)
        if when is None:
            report_bad(bad, Path(folder, name), "the name is not a snapshot time (YYYYMMDDTHHMMSSZ.json)", quiet=quiet)
            continue
        refs.append(SnapshotRef(os.path.join(folder, name), when))
    return refs


def read_snapshot(path: Path) -> AuthorRecord:
    """A snapshot in full; ``StorageError`` naming the file when it cannot be read."""
    try:
        data = Path(path).read_bytes()
        key = (os.fspath(path), hashlib.blake2b(data, digest_size=20).digest())
        cached = _read_cache.get(key)
        if cached is not None:
            return cached
        record = record_from_dict(json.loads(data))
    except (OSError, ValueError) as exc:
        # json.JSONDecodeError and UnicodeDecodeError are ValueErrors.
        raise StorageError(f"corrupt snapshot {path}: {exc}") from exc
    _read_cache.put(key, record)
    return record


class AuthorStore:
    """One author's folder in the data folder: the snapshots of what the homepage
    shows, or with ``series`` those of one fallback source kept beside them."""

    def __init__(self, data_dir: Path, scholar_id: str, series: str | None = None) -> None:
        self.data_dir = Path(data_dir)
        self.scholar_id = scholar_id
        self.root = self.data_dir / scholar_id
        self.series = series
        base = self.root / SERIES_DIR / series if series else self.root
        self.snapshot_dir = base / SNAPSHOT_DIR
        self.bad_snapshots: list[BadSnapshot] = []

    def series_names(self) -> list[str]:
        """The fallback sources that have a series of their own beside the main one."""
        folder = self.root / SERIES_DIR
        if not folder.is_dir():
            return []
        return sorted(p.name for p in folder.iterdir() if (p / SNAPSHOT_DIR).is_dir())

    def snapshot_paths(self) -> list[Path]:
        """Snapshot files, oldest first.

        Only names of the snapshot form count: a temporary file or a copy such
        as ``latest.json`` is never taken for the newest snapshot.
        """
        if not self.snapshot_dir.is_dir():
            return []
        keyed = ((key, p) for p in self.snapshot_dir.iterdir() if (key := snapshot_sort_key(p)) is not None)
        return [p for _, p in sorted(keyed)]

    def stray_files(self) -> list[Path]:
        """``.json`` files in the snapshot folder whose names are not snapshot names."""
        if not self.snapshot_dir.is_dir():
            return []
        return sorted(
            p
            for p in self.snapshot_dir.iterdir()
            if p.suffix == SNAPSHOT_SUFFIX and not p.name.startswith(".") and snapshot_sort_key(p) is None
        )

    read_snapshot = staticmethod(read_snapshot)

    def latest(self) -> tuple[Path, AuthorRecord] | None:
        """The newest snapshot that reads; corrupt ones are reported and skipped, never removed.

        Every file skipped on the way is listed in ``bad_snapshots``.
        """
        self.bad_snapshots = []
        for path in self.stray_files():
            reason = f"{path} is not a snapshot name (YYYYMMDDTHHMMSSZ.json); ignored"
            log.warning("%s", reason)
            self.bad_snapshots.append(BadSnapshot(path, reason))
        for path in reversed(self.snapshot_paths()):
            try:
                return path, self.read_snapshot(path)
            except StorageError as exc:
                log.warning("%s; skipped", exc)
                self.bad_snapshots.append(BadSnapshot(path, str(exc)))
        return None

    def latest_where(self, wanted: Callable[[AuthorRecord], bool]) -> tuple[Path, AuthorRecord] | None:
        """The newest readable snapshot whose record is ``wanted`` (unreadable ones are skipped)."""
        for path in reversed(self.snapshot_paths()):
            try:
                record = self.read_snapshot(path)
            except StorageError:
                continue
            if wanted(record):
                return path, record
        return None

    def write_snapshot(self, record: AuthorRecord) -> Path:
        if record.fetched_at is None:
            raise ValueError("a snapshot needs the record's fetched_at")
        path = self.snapshot_dir / snapshot_name(record.fetched_at)
        if path.exists():
            # Two changes within one second: keep both, never overwrite a snapshot
            # ("_" sorts after ".", so names still sort by time).
            stem = path.stem
            n = 1
            while path.exists():
                path = self.snapshot_dir / f"{stem}_{n}{SNAPSHOT_SUFFIX}"
                n += 1
        atomic_write_bytes(path, json_bytes(record_to_dict(record)), jail=self.data_dir)
        return path


class _ReadCache:
    """Records of snapshots read during a run, by path and a digest of the bytes:
    a run reads an author's newest snapshot for the guard and again for the
    group's numbers.  Reading the bytes is cheap; decoding and checking them is
    what is saved.  The key is the content, so a file changed in between (by
    hand, within the file system's timestamp granularity) is read anew."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._records: dict[tuple[Any, ...], AuthorRecord] = {}

    def get(self, key: tuple[Any, ...]) -> AuthorRecord | None:
        record = self._records.pop(key, None)
        if record is not None:
            self._records[key] = record  # most recently used last
        return record

    def put(self, key: tuple[Any, ...], record: AuthorRecord) -> None:
        self._records[key] = record
        while len(self._records) > self.size:
            del self._records[next(iter(self._records))]

    def clear(self) -> None:
        self._records.clear()


# Enough for a lab's authors and their fallback series.
_read_cache = _ReadCache(256)


def forget_reads() -> None:
    """Start a run from the files alone: what an earlier run in this process read is dropped."""
    _read_cache.clear()
