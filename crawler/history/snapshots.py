"""Reading many snapshots fast: names, headers, a header cache, and full records.

A lab's history is large (50 authors x 3,650 daily snapshots x 300
publications is about 20 GB of JSON), and most questions about it, totals,
h-index, the per-year histogram, need only the small header of each snapshot.
``record_to_dict`` writes the header keys (``profile``, ``metrics``,
``cites_per_year``, ...) before the big ``publications`` list, and
``json_bytes`` indents by two, so the header is everything before the line
``  "publications": `` and is parsed on its own.  The one header value that
lives in the list is the publication count: each publication is one line
``      "author_pub_id": ...`` (a raw newline never occurs inside a JSON
string), so counting that line counts publications without parsing them, but
it still means reading the whole file.  Counts are therefore kept in a header
cache outside the data folder (``$SCHOLAR_STATS_CACHE_DIR``, else
``$XDG_CACHE_HOME/scholar-stats``, else ``~/.cache/scholar-stats``; ``off``
disables it), keyed by each file's name, size and modification time: snapshots
are never rewritten in place, so an entry can only be stale if the file changed,
and then it no longer matches.

A file that does not have exactly that layout (written by hand, by another
tool, or by a future format) is read in full with ``json.loads`` and
``record_from_dict``.  A snapshot that cannot be read is reported by name and
skipped, never removed.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, TypeVar

from crawler.errors import StorageError, UsageError
from crawler.models import (
    SNAPSHOT_FORMAT,
    AuthorRecord,
    Metrics,
    format_time,
    normalize_scholar_id,
    parse_time,
    record_from_dict,
)
from crawler.store import SNAPSHOT_SUFFIX, BadSnapshot, atomic_write_bytes

log = logging.getLogger(__name__)

T = TypeVar("T")

SNAPSHOTS = "snapshots"
FREQUENCIES = ("daily", "weekly", "monthly")
CACHE_ENV = "SCHOLAR_STATS_CACHE_DIR"
CACHE_VERSION = 1

_NAME_RE = re.compile(r"^(\d{8}T\d{6}Z)(?:_\d+)?$")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_HEAD_START = b'{\n  "format": 1,\n'
_PUBLICATIONS_KEY = b'\n  "publications": '
_PUBLICATION_LINE = b'\n      "author_pub_id": '
_HEAD_BYTES = 4096
_METRIC_KEYS = Metrics.__slots__


@dataclass(frozen=True, slots=True)
class SnapshotRef:
    """A snapshot file and the time its name says."""

    path: Path
    time: datetime


@dataclass(frozen=True, slots=True)
class SnapshotHeader:
    """Everything in a snapshot but its publications, plus how many there are."""

    scholar_id: str
    name: str
    source: str
    date: datetime
    """``fetched_at``, or the time in the file name when the snapshot has none."""
    complete: bool
    metrics: Metrics
    cites_per_year: tuple[tuple[int, int], ...]
    publication_count: int | None
    """``None`` when the reader was asked not to count."""

    @property
    def date_text(self) -> str:
        return format_time(self.date)


# -- names, authors, dates ---------------------------------------------------------


def snapshot_time(path: Path) -> datetime | None:
    """The UTC time in a snapshot's name (``20260102T030405Z.json``, ``..._1.json``)."""
    match = _NAME_RE.match(path.stem)
    if not match or path.suffix != SNAPSHOT_SUFFIX:
        return None
    try:
        return datetime.strptime(match.group(1), "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
    except ValueError:
        return None


def author_ids(data_dir: Path) -> list[str]:
    """Authors with a snapshot folder in ``data_dir``, sorted."""
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise UsageError(f"no data folder {data_dir}")
    return sorted(
        entry.name
        for entry in data_dir.iterdir()
        if not entry.name.startswith(".") and (entry / SNAPSHOTS).is_dir()
    )


def resolve_authors(data_dir: Path, authors: Sequence[str] = ()) -> list[str]:
    """The authors asked for (IDs or profile URLs), or every author in the folder; sorted.

    An author without a folder is a usage error: a typo should not look like
    an empty history.  An author whose folder has no snapshots is fine.
    """
    if not authors:
        return author_ids(data_dir)
    ids = []
    for raw in authors:
        try:
            scholar_id = normalize_scholar_id(raw)
        except ValueError as exc:
            raise UsageError(str(exc)) from exc
        if not (Path(data_dir) / scholar_id).is_dir():
            raise UsageError(f"no data for author {scholar_id} in {data_dir} (no folder {Path(data_dir) / scholar_id})")
        ids.append(scholar_id)
    return sorted(set(ids))


def parse_date(text: str | datetime | date, *, end_of_day: bool = False, option: str = "date") -> datetime:
    """``YYYY-MM-DD`` (midnight UTC, or its last instant with ``end_of_day``) or full ISO-8601.

    A time without a zone is UTC.  Anything else is a ``UsageError`` naming ``option``.
    """
    if isinstance(text, datetime):
        return text.replace(tzinfo=timezone.utc) if text.tzinfo is None else text.astimezone(timezone.utc)
    if isinstance(text, date):
        day = datetime(text.year, text.month, text.day, tzinfo=timezone.utc)
        return day + timedelta(days=1, microseconds=-1) if end_of_day else day
    value = text.strip()
    try:
        if _DATE_RE.match(value):
            day = datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=timezone.utc)
            return day + timedelta(days=1, microseconds=-1) if end_of_day else day
        return parse_time(value)
    except ValueError as exc:
        raise UsageError(
            f"{option} must be YYYY-MM-DD or an ISO-8601 time such as 2026-01-31T12:00:00Z, not {text!r}"
        ) from exc


def period_key(when: datetime, freq: str) -> tuple[int, ...]:
    when = when.astimezone(timezone.utc)
    if freq == "daily":
        return (when.year, when.month, when.day)
    if freq == "weekly":
        iso = when.isocalendar()
        return (iso[0], iso[1])
    if freq == "monthly":
        return (when.year, when.month)
    raise UsageError(f"frequency must be one of {', '.join(FREQUENCIES)}, not {freq!r}")


def snapshot_refs(data_dir: Path, scholar_id: str, bad: list[BadSnapshot] | None = None) -> list[SnapshotRef]:
    """An author's snapshots, oldest first; files whose name is not a time are reported and skipped."""
    folder = Path(data_dir) / scholar_id / SNAPSHOTS
    try:
        names = [name for name in os.listdir(folder) if name.endswith(SNAPSHOT_SUFFIX) and not name.startswith(".")]
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise StorageError(f"cannot list {folder}: {exc.strerror or exc}") from exc
    refs = []
    for name in sorted(names):
        path = folder / name
        when = snapshot_time(path)
        if when is None:
            report_bad(bad, path, "the name is not a snapshot time (YYYYMMDDTHHMMSSZ.json)")
            continue
        refs.append(SnapshotRef(path, when))
    return refs


def in_window(
    refs: Sequence[SnapshotRef], since: datetime | None = None, until: datetime | None = None
) -> list[SnapshotRef]:
    return [r for r in refs if (since is None or r.time >= since) and (until is None or r.time <= until)]


def group_by_period(refs: Sequence[SnapshotRef], freq: str | None) -> list[list[SnapshotRef]]:
    """Snapshots grouped by UTC period, oldest first; without ``freq`` each snapshot is its own group.

    A reader takes the newest readable snapshot of each group, so a corrupt
    last snapshot of a month gives way to the one before it.
    """
    if freq is None:
        return [[ref] for ref in refs]
    groups: dict[tuple[int, ...], list[SnapshotRef]] = {}
    for ref in refs:
        groups.setdefault(period_key(ref.time, freq), []).append(ref)
    return list(groups.values())


def report_bad(bad: list[BadSnapshot] | None, path: Path, reason: str, *, quiet: bool = False) -> None:
    """Say that a snapshot was skipped (on stderr, through logging) and remember it in ``bad``."""
    if not quiet:
        log.warning("corrupt snapshot %s: %s; skipped", path, reason)
    if bad is not None:
        bad.append(BadSnapshot(path, reason))


# -- reading -------------------------------------------------------------------------


def _opt_int(value: Any, where: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{where} must be an integer or null, not {value!r}")
    return value


def _header_from_dict(data: Mapping[str, Any], fallback_time: datetime, count: int | None) -> SnapshotHeader:
    """The header fields of a snapshot dict, checked as ``record_from_dict`` checks them."""
    if not isinstance(data, Mapping):
        raise ValueError("a snapshot must be a JSON object")
    if data.get("format") != SNAPSHOT_FORMAT:
        raise ValueError(f"unknown snapshot format {data.get('format')!r}")
    profile, metrics = data.get("profile"), data.get("metrics")
    if not isinstance(profile, Mapping) or not isinstance(metrics, Mapping):
        raise ValueError("a snapshot needs 'profile' and 'metrics' objects")
    scholar_id, name = data.get("scholar_id"), profile.get("name")
    if not isinstance(scholar_id, str) or not scholar_id:
        raise ValueError("'scholar_id' must be a non-empty string")
    if not isinstance(name, str):
        raise ValueError("'profile.name' must be a string")
    cpy = data.get("cites_per_year") or {}
    if not isinstance(cpy, Mapping):
        raise ValueError("'cites_per_year' must be an object")
    years = []
    for year, value in cpy.items():
        if not str(year).isdigit():
            raise ValueError(f"'cites_per_year' has a key that is not a year: {year!r}")
        years.append((int(year), _opt_int(value, f"cites_per_year.{year}") or 0))
    fetched = data.get("fetched_at")
    return SnapshotHeader(
        scholar_id=scholar_id,
        name=name,
        source=str(data.get("source") or "scholar"),
        date=parse_time(fetched) if isinstance(fetched, str) else fallback_time,
        complete=bool(data.get("complete", True)),
        metrics=Metrics(**{key: _opt_int(metrics.get(key), f"metrics.{key}") for key in _METRIC_KEYS}),
        cites_per_year=tuple(sorted(years)),
        publication_count=count,
    )


def _read_all(fd: int, size: int, start: bytes) -> bytes:
    chunks = [start]
    have = len(start)
    while have < size:
        chunk = os.read(fd, max(size - have, 1 << 16))
        if not chunk:
            break
        chunks.append(chunk)
        have += len(chunk)
    return b"".join(chunks)


def _fast_header(head: bytes, ref: SnapshotRef, rest: bytes | None, tail: bytes) -> SnapshotHeader | None:
    """The header from the bytes before ``"publications"``; ``None`` if the layout is not ours."""
    if not head.startswith(_HEAD_START):
        return None
    cut = head.find(_PUBLICATIONS_KEY)
    if cut < 0 or not tail.endswith(b"]\n}\n"):
        return None
    try:
        data = json.loads(head[:cut].rstrip(b",") + b"\n}")
    except ValueError:
        return None
    count = None
    if rest is not None:
        count = rest.count(_PUBLICATION_LINE, cut)
        if count == 0 and not rest[cut:].startswith(_PUBLICATIONS_KEY + b"[]"):
            return None
    return _header_from_dict(data, ref.time, count)


def read_header(ref: SnapshotRef, *, count: bool = True) -> SnapshotHeader:
    """One snapshot's header (and publication count), reading as little as its layout allows.

    Raises ``StorageError`` naming the file when it cannot be read.
    """
    try:
        fd = os.open(ref.path, os.O_RDONLY)
        try:
            size = os.fstat(fd).st_size
            head = os.read(fd, _HEAD_BYTES)
            if count or _PUBLICATIONS_KEY not in head:
                whole = _read_all(fd, size, head)
                header = _fast_header(whole, ref, whole if count else None, whole[-8:])
            else:
                whole = b""
                header = _fast_header(head, ref, None, os.pread(fd, 8, max(size - 8, 0)))
            if header is not None:
                return header
            # Not our exact layout: read it the slow, general way.
            if not whole:
                whole = _read_all(fd, size, head)
        finally:
            os.close(fd)
        record = record_from_dict(json.loads(whole))
    except (OSError, ValueError) as exc:
        raise StorageError(f"corrupt snapshot {ref.path}: {exc}") from exc
    return SnapshotHeader(
        scholar_id=record.scholar_id,
        name=record.profile.name,
        source=record.source,
        date=record.fetched_at or ref.time,
        complete=record.complete,
        metrics=record.metrics,
        cites_per_year=record.cites_per_year,
        publication_count=len(record.publications),
    )


def read_record(ref: SnapshotRef | Path) -> AuthorRecord:
    """A snapshot in full; ``StorageError`` naming the file when it cannot be read."""
    path = ref.path if isinstance(ref, SnapshotRef) else Path(ref)
    try:
        return record_from_dict(json.loads(path.read_bytes()))
    except (OSError, ValueError) as exc:
        raise StorageError(f"corrupt snapshot {path}: {exc}") from exc


@dataclass(frozen=True, slots=True)
class PublicationColumns:
    """A snapshot's publications as columns, in page order: all a publications export needs."""

    scholar_id: str
    date: datetime
    author_pub_ids: list[str]
    titles: list[str]
    years: list[int | None]
    citations: list[int | None]


def _all_str(values: list[Any]) -> bool:
    return all(type(v) is str for v in values)


def _all_opt_int(values: list[Any]) -> bool:
    return all(v is None or type(v) is int for v in values)


def read_publications(ref: SnapshotRef) -> PublicationColumns:
    """The publication columns of a snapshot, checked as ``record_from_dict`` checks them.

    Builds no ``Publication`` objects: for a 300-publication snapshot that
    halves the time, and a publications export reads every snapshot.
    """
    try:
        data = json.loads(ref.path.read_bytes())
        if not isinstance(data, dict) or data.get("format") != SNAPSHOT_FORMAT:
            raise ValueError("not a snapshot (no \"format\": 1 object)")
        scholar_id = data.get("scholar_id")
        pubs = data.get("publications") or []
        if not isinstance(scholar_id, str) or not scholar_id or not isinstance(pubs, list):
            raise ValueError("a snapshot needs a 'scholar_id' string and a 'publications' list")
        try:
            ids = [p["author_pub_id"] for p in pubs]
            titles = [p["title"] for p in pubs]
            years = [p.get("year") for p in pubs]
            citations = [p.get("citations") for p in pubs]
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError("every publication needs 'author_pub_id' and 'title'") from exc
        if not (_all_str(ids) and _all_str(titles) and _all_opt_int(years) and _all_opt_int(citations)):
            raise ValueError("a publication has a field of the wrong type")
        if any(type(v) is bool for v in years + citations):
            raise ValueError("a publication has a true/false where a number belongs")
        fetched = data.get("fetched_at")
        when = parse_time(fetched) if isinstance(fetched, str) else ref.time
    except (OSError, ValueError) as exc:
        raise StorageError(f"corrupt snapshot {ref.path}: {exc}") from exc
    return PublicationColumns(scholar_id, when, ids, titles, years, citations)


def read_publications_or_none(
    ref: SnapshotRef, *, bad: list[BadSnapshot] | None = None, quiet: bool = False
) -> PublicationColumns | None:
    try:
        return read_publications(ref)
    except StorageError as exc:
        report_bad(bad, ref.path, str(exc.__cause__ or exc), quiet=quiet)
        return None


# -- the header cache ----------------------------------------------------------------


def cache_dir() -> Path | None:
    """Where header caches live, or ``None`` when caching is off."""
    configured = os.environ.get(CACHE_ENV)
    if configured is not None:
        return None if configured.strip().lower() in ("", "off", "0", "no") else Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "scholar-stats"


def _header_to_list(header: SnapshotHeader) -> list[Any]:
    m = header.metrics
    return [
        header.scholar_id, header.name, header.source, header.date_text, header.complete,
        [getattr(m, key) for key in _METRIC_KEYS],
        [list(pair) for pair in header.cites_per_year],
        header.publication_count,
    ]


def _header_from_list(row: list[Any]) -> SnapshotHeader:
    scholar_id, name, source, when, complete, metrics, years, count = row
    return SnapshotHeader(
        scholar_id=scholar_id, name=name, source=source, date=parse_time(when), complete=complete,
        metrics=Metrics(*metrics), cites_per_year=tuple((int(y), int(c)) for y, c in years),
        publication_count=count,
    )


class HeaderCache:
    """Headers of one author's snapshots, remembered between runs (see the module docstring)."""

    def __init__(self, snapshot_dir: Path, root: Path | None) -> None:
        self.snapshot_dir = Path(snapshot_dir)
        self.entries: dict[str, list[Any]] = {}
        self.dirty = False
        self.path: Path | None = None
        if root is None:
            return
        key = hashlib.sha256(os.fsencode(os.path.abspath(self.snapshot_dir))).hexdigest()[:24]
        self.path = root / f"headers-{key}.json"
        try:
            data = json.loads(self.path.read_bytes())
            if data.get("version") == CACHE_VERSION and data.get("snapshot_dir") == os.path.abspath(self.snapshot_dir):
                self.entries = data["entries"]
        except (OSError, ValueError, KeyError, AttributeError, TypeError):
            self.entries = {}

    def get(self, ref: SnapshotRef, stat: os.stat_result) -> SnapshotHeader | None:
        entry = self.entries.get(ref.path.name)
        if entry is None or entry[0] != stat.st_size or entry[1] != stat.st_mtime_ns:
            return None
        try:
            return _header_from_list(entry[2])
        except (ValueError, TypeError, IndexError):
            return None

    def put(self, ref: SnapshotRef, stat: os.stat_result, header: SnapshotHeader) -> None:
        if header.publication_count is None or self.path is None:
            return
        self.entries[ref.path.name] = [stat.st_size, stat.st_mtime_ns, _header_to_list(header)]
        self.dirty = True

    def save(self) -> None:
        """Write the cache if it learnt something; a cache that cannot be written is only a slower next run."""
        if not self.dirty or self.path is None:
            return
        payload = {"version": CACHE_VERSION, "snapshot_dir": os.path.abspath(self.snapshot_dir), "entries": self.entries}
        with contextlib.suppress(StorageError):
            atomic_write_bytes(self.path, json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode())
            self.dirty = False
            return
        log.debug("could not write the header cache %s", self.path)


class HeaderReader:
    """Reads one author's snapshot headers through that author's cache; ``close()`` saves it.

    ``read`` returns ``None`` for a snapshot that cannot be read (reported and
    remembered in ``bad``) or that holds another author's record.
    """

    def __init__(
        self,
        data_dir: Path,
        scholar_id: str,
        *,
        count: bool = True,
        use_cache: bool = True,
        bad: list[BadSnapshot] | None = None,
        quiet: bool = False,
    ) -> None:
        self.scholar_id = scholar_id
        self.count = count
        self.bad = bad
        self.quiet = quiet
        root = cache_dir() if use_cache else None
        self.cache = HeaderCache(Path(data_dir) / scholar_id / SNAPSHOTS, root) if root is not None else None

    def read(self, ref: SnapshotRef) -> SnapshotHeader | None:
        try:
            stat = os.stat(ref.path)
        except OSError as exc:
            report_bad(self.bad, ref.path, exc.strerror or str(exc), quiet=self.quiet)
            return None
        header = self.cache.get(ref, stat) if self.cache is not None else None
        if header is None:
            try:
                header = read_header(ref, count=self.count)
            except StorageError as exc:
                report_bad(self.bad, ref.path, str(exc.__cause__ or exc), quiet=self.quiet)
                return None
            if self.cache is not None:
                self.cache.put(ref, stat, header)
        if header.scholar_id != self.scholar_id:
            report_bad(self.bad, ref.path, f"it holds the record of {header.scholar_id}, not {self.scholar_id}", quiet=self.quiet)
            return None
        return header

    def close(self) -> None:
        if self.cache is not None:
            self.cache.save()

    def __enter__(self) -> HeaderReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_record_or_none(
    ref: SnapshotRef, *, bad: list[BadSnapshot] | None = None, quiet: bool = False
) -> AuthorRecord | None:
    """A snapshot in full, or ``None`` (reported, remembered in ``bad``) when it cannot be read."""
    try:
        return read_record(ref)
    except StorageError as exc:
        report_bad(bad, ref.path, str(exc.__cause__ or exc), quiet=quiet)
        return None


def first_readable(group: Sequence[SnapshotRef], read: Callable[[SnapshotRef], T | None]) -> tuple[SnapshotRef, T] | None:
    """The newest snapshot of ``group`` that ``read`` can read, with what it read."""
    for ref in reversed(group):
        value = read(ref)
        if value is not None:
            return ref, value
    return None
