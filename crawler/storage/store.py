"""The data folder: its layout, a lock, each author's snapshots, and atomic writes.

Layout (every path relative to the data folder)::

    <scholar_id>/snapshots/<YYYYMMDDTHHMMSSZ>.json   full record, written only on change
    <scholar_id>/gs_data.json                         AcadHomepage-compatible author object
    <scholar_id>/gs_data_shieldsio.json               shields.io endpoint badge, total citations
    <scholar_id>/gs_history.json                      change points of the citations, for the homepage chart
    <scholar_id>/badges/*.json, *.svg                 endpoint and SVG badges
    <scholar_id>/badges/pubs/<author_pub_id>.json     one badge per publication
    <scholar_id>/state.json                           present only while the data is stale
    <scholar_id>/.outputs.json                        what the outputs were built from (a local cache)
    <scholar_id>/sources/<source>/snapshots/*.json    a fallback source's own series (crawler.policy.on_block)
    <scholar_id>/matches/<source>.json                which of its works is which Scholar paper
                                                      (crawler.policy.match)
    group.json, badges/group-*                        a group's numbers (crawler.outputs.group_numbers)
    .outputs.json                                     what the group's files were built from (a local cache)

Every file is written all at once (a temporary file renamed over the old one),
only when its content changes, and never through a symbolic link out of the
data folder: the primitives are in ``crawler.storage.atomic`` and offered here with the
layout.  Snapshots, the source of truth, are also fsynced.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from crawler.errors import StorageError
from crawler.models import AuthorRecord, record_from_dict, record_to_dict
from crawler.storage.atomic import (
    TEMP_NAME_RE,
    atomic_write_bytes,
    atomic_writer,
    confine,
    describe_os_error,
    json_bytes,
    remove_file,
    remove_temp_files,
    sync_folders,
    write_all_if_changed,
    write_if_changed,
)
from crawler.storage.readfile import MAX_SNAPSHOT_BYTES, json_value, read_bounded

# The data folder's interface, the write primitives of crawler.storage.atomic included.
__all__ = [
    "LOCK_NAME",
    "OUTPUTS_MANIFEST",
    "SERIES_DIR",
    "SITE_FOLDER",
    "SITE_MARKER",
    "SNAPSHOT_DIR",
    "SNAPSHOT_NAME_RE",
    "SNAPSHOT_SUFFIX",
    "TEMP_NAME_RE",
    "AuthorStore",
    "BadSnapshot",
    "SnapshotRef",
    "atomic_write_bytes",
    "atomic_writer",
    "confine",
    "forget_reads",
    "json_bytes",
    "locked",
    "read_snapshot",
    "remember_read",
    "remove_file",
    "remove_temp_files",
    "report_bad",
    "snapshot_name",
    "snapshot_name_order",
    "snapshot_refs",
    "snapshot_sort_key",
    "snapshot_time",
    "sync_folders",
    "time_from_name",
    "write_all_if_changed",
    "write_if_changed",
]

log = logging.getLogger(__name__)

LOCK_NAME = ".scholar-stats.lock"
SERIES_DIR = "sources"
# What an author's outputs were built from (crawler.outputs.manifest): a local cache, never published.
OUTPUTS_MANIFEST = ".outputs.json"
ATTEMPT_FILE = ".attempt.json"
"""Local only, never published (crawler.storage.stale): when an author's last failed attempt was."""
# The dashboard `scholar-stats site` keeps in the data folder (``site = true``), published with
# the data; the marker file lists what the last build wrote and makes the folder recognisable.
# The branch a data folder is published to and homepages read from, unless told otherwise.
DEFAULT_BRANCH = "google-scholar-stats"
SITE_FOLDER = "site"
SITE_MARKER = ".scholar-stats-site"
SNAPSHOT_SUFFIX = ".json"
# <YYYYMMDDTHHMMSSZ>.json, or <...>_<n>.json for a second change within one second.
SNAPSHOT_NAME_RE = re.compile(r"^(\d{8}T\d{6}Z)(?:_(\d+))?\.json$")


@contextlib.contextmanager
def locked(data_dir: Path, *, timeout: float = 0) -> Iterator[None]:
    """Hold the data folder's lock; a second run waits ``timeout`` seconds, then fails."""
    data_dir = Path(data_dir)
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StorageError(describe_os_error(exc, data_dir)) from exc
    import filelock  # only a writer takes the lock; reading the store (and --help) does not need it

    lock = filelock.FileLock(str(data_dir / LOCK_NAME))
    try:
        lock.acquire(timeout=timeout)
    except filelock.Timeout as exc:
        raise StorageError(
            f"another scholar-stats run is writing {data_dir} (lock {data_dir / LOCK_NAME}); try again later"
        ) from exc
    except OSError as exc:
        raise StorageError(describe_os_error(exc, data_dir / LOCK_NAME)) from exc
    try:
        yield
    finally:
        lock.release()


def snapshot_name(when: datetime) -> str:
    """The file name of a snapshot fetched at ``when``, in UTC whatever its zone."""
    if when.tzinfo is not None:
        when = when.astimezone(UTC)
    return when.strftime("%Y%m%dT%H%M%SZ") + SNAPSHOT_SUFFIX


# The folder of an author's snapshots, and the parts of a snapshot's name.
SNAPSHOT_DIR = "snapshots"
# ``20260102T030405Z.json``: a snapshot of a second no other snapshot of the author shares.
_PLAIN_NAME_LENGTH = len("20260102T030405Z") + len(SNAPSHOT_SUFFIX)
_NAME_TIME_RE = re.compile(r"^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z(?:_\d+)?$")


def time_from_name(name: str) -> datetime | None:
    """The UTC time in a snapshot's file name (``20260102T030405Z.json``, ``..._1.json``);
    None for another name.
    """
    if not name.endswith(SNAPSHOT_SUFFIX):
        return None
    stem = name[: -len(SNAPSHOT_SUFFIX)]
    match = _NAME_TIME_RE.match(stem)
    if not match:
        return None
    try:
        if stem.isascii() and stem[9:11] < "24":
            # ISO's basic form (``20260102T030405Z``, UTC), read in C: far cheaper than
            # strptime or a datetime built from the groups, which matters for 182,500
            # names.  Hour 24 is left to the general way, which refuses it on every Python.
            return datetime.fromisoformat(stem[:16])
        year, month, day, hour, minute, second = map(int, match.groups())
        return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
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
        names = [n for n in os.listdir(folder) if n.endswith(SNAPSHOT_SUFFIX) and not n.startswith(".")]
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise StorageError(f"cannot list {folder}: {exc.strerror or exc}") from exc
    names.sort()
    if not set(map(len, names)) <= {_PLAIN_NAME_LENGTH}:
        # Time order: "_10" after "_9"; names that are not times sort last and are reported
        # below.  When every name is one time and nothing else, the plain sort is that order.
        names.sort(key=snapshot_name_order)
    refs = []
    prefix = folder + os.sep
    for name in names:
        when = time_from_name(name)
        if when is None:
            report_bad(
                bad,
                Path(folder, name),
                "the name is not a snapshot time (YYYYMMDDTHHMMSSZ.json)",
                quiet=quiet,
            )
            continue
        refs.append(SnapshotRef(prefix + name, when))
    return refs


def read_snapshot(path: Path) -> AuthorRecord:
    """A snapshot in full; ``StorageError`` naming the file when it cannot be read."""
    try:
        data = read_bounded(path, limit=MAX_SNAPSHOT_BYTES)
        key = _read_key(path, data)
        cached = _read_cache.get(key)
        if cached is not None:
            return cached
        record = record_from_dict(json_value(data))
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

    def series_store(self, name: str) -> AuthorStore:
        """The same author's series of the fallback source ``name``."""
        return AuthorStore(self.data_dir, self.scholar_id, series=name)

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

    def latest_from(self, sources: Collection[str], *, complete: bool = False) -> AuthorRecord | None:
        """The newest readable snapshot one of ``sources`` gave (``sources.SCHOLAR_NUMBERS``: the
        newest Scholar snapshot); with ``complete``, the newest that lists every paper."""
        found = self.latest_where(
            lambda record: record.source in sources and (record.complete or not complete)
        )
        return found[1] if found else None

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


def _read_key(path: Path, data: bytes) -> tuple[str, bytes]:
    return os.fspath(path), hashlib.blake2b(data, digest_size=20).digest()


def remember_read(path: Path, data: bytes, record: AuthorRecord, *, keep: int = 0) -> None:
    """``data``, once it is at ``path``, reads as ``record`` (decoded and checked before it was put
    there: a merge's snapshot from a shard), so that ``read_snapshot`` does not decode it again.
    Keyed by the bytes like any read; ``keep``: hold at least that many records (every author of a
    merge, read again for the group's numbers)."""
    _read_cache.size = max(_read_cache.size, keep)
    _read_cache.put(_read_key(path, data), record)


def forget_reads() -> None:
    """Start a run from the files alone: what an earlier run in this process read is dropped."""
    _read_cache.clear()
