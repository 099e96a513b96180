"""Reading many snapshots fast: headers, publication columns, full records.

A lab's history is large (50 authors x 3,650 daily snapshots x 300
publications is about 20 GB of JSON), and most questions about it, totals,
h-index, the per-year histogram, need only the small header of each snapshot.
``record_to_dict`` writes every header key, ``publication_count`` included,
before the big ``publications`` list, and ``json_bytes`` indents by two, so
the header is everything before the line ``  "publications": ``: the first
4 KiB of the file (``crawler.history.snapshot_heads``), parsed on its own.
Reading 182,500 headers is then four system calls (open, fstat, read, close)
and one small ``json.loads`` each.

Snapshots written before ``publication_count`` existed are read whole and
their publications counted by their first line (``      "author_pub_id": ``;
a raw newline never occurs inside a JSON string, so only the layout can make
that line).  A file that does not have this layout at all (written by hand or
by another tool) is read with ``json.loads`` and ``record_from_dict``.  A
snapshot that cannot be read is reported by name and skipped, never removed.
The header reader does not look past the header, so damage further down a
file is noticed only by a reader of the whole file (a publications export, a
report).
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from crawler.errors import StorageError, UsageError
from crawler.history.snapshot_heads import HEAD_BYTES, open_snapshot, read_heads
from crawler.models import (
    SNAPSHOT_FORMAT,
    AuthorRecord,
    Metrics,
    cites_per_year_from,
    format_time,
    normalize_scholar_id,
    opt_int,
    parse_time,
    record_from_dict,
    snapshot_head,
)
from crawler.storage.readfile import (
    MAX_SNAPSHOT_BYTES,
    json_value,
    read_bounded,
    read_fd,
)
from crawler.storage.store import SNAPSHOT_DIR, BadSnapshot, SnapshotRef, read_snapshot, report_bad

log = logging.getLogger(__name__)

T = TypeVar("T")

SNAPSHOTS = SNAPSHOT_DIR

_HEAD_START = b'{\n  "format": 1,\n'
_PUBLICATIONS_KEY = b'\n  "publications": '
_PUBLICATION_LINE = b'\n      "author_pub_id": '
_CANONICAL_TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
_METRIC_KEYS = Metrics.__slots__
_INT_OR_NONE = frozenset({int, type(None)})


@dataclass(frozen=True, slots=True)
class SnapshotHeader:
    """Everything in a snapshot but its publications, plus how many there are."""

    scholar_id: str
    name: str
    source: str
    date_text: str
    """``fetched_at`` (or the time in the file name when there is none) as ``2026-01-02T03:04:05Z``."""
    complete: bool
    metrics: Metrics
    cites_per_year: tuple[tuple[int, int], ...]
    publication_count: int | None
    """``None`` when the reader was asked not to count."""

    @property
    def date(self) -> datetime:
        return parse_time(self.date_text)


# -- authors ---------------------------------------------------------


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
            raise UsageError(
                f"no data for author {scholar_id} in {data_dir} (no folder {Path(data_dir) / scholar_id})"
            )
        ids.append(scholar_id)
    return sorted(set(ids))


# -- reading -------------------------------------------------------------------------


HeadFields = tuple[str, str, str, str, list[Any], int | None]
"""A header as plain values: ``scholar_id``, name, source, date text, the seven metrics in
``Metrics``' order, the publication count (``HeaderReader.read_fields``)."""


def _header_from_dict(
    data: Mapping[str, Any], fallback_time: datetime, count: int | None, *, years: bool = True
) -> SnapshotHeader:
    """The header fields of a snapshot dict, checked as ``record_from_dict`` checks them;
    without ``years`` the per-year histogram is neither read nor checked (left empty)."""
    scholar_id, name, source, when, values, histogram = _checked_head(data, fallback_time, years)
    return SnapshotHeader(
        scholar_id=scholar_id,
        name=name,
        source=source,
        date_text=when,
        complete=bool(data.get("complete", True)),
        metrics=Metrics(*values),
        cites_per_year=tuple(histogram),
        publication_count=count,
    )


def _checked_head(
    data: Mapping[str, Any], fallback_time: datetime, years: bool
) -> tuple[str, str, str, str, list[Any], list[tuple[int, int]]]:
    """``_header_from_dict``'s checks and values, no object built."""
    scholar_id, name, _profile, metrics = snapshot_head(data)
    values = list(map(metrics.get, _METRIC_KEYS))
    # The types of all seven at once (a bool is not an int here); the slow way names the wrong one.
    if not _INT_OR_NONE.issuperset(map(type, values)):
        for key, value in zip(_METRIC_KEYS, values, strict=True):
            opt_int(value, f"metrics.{key}")
    cpy = (data.get("cites_per_year") or {}) if years else {}
    if not cpy:
        histogram: list[tuple[int, int]] = []
    elif (
        isinstance(cpy, dict) and all(k.isdigit() for k in cpy) and all(type(v) is int for v in cpy.values())
    ):
        histogram = sorted(zip(map(int, cpy), cpy.values(), strict=True))
    else:
        histogram = cites_per_year_from(cpy)
    fetched = data.get("fetched_at")
    if type(fetched) is str and _CANONICAL_TIME_RE.match(fetched):
        when = fetched
    else:
        when = format_time(parse_time(fetched) if isinstance(fetched, str) else fallback_time)
    return scholar_id, name, str(data.get("source") or "scholar"), when, values, histogram


def _read_rest(fd: int, start: bytes, file: str) -> bytes:
    size = max(0, os.fstat(fd).st_size - len(start))
    return start + read_fd(fd, size, limit=MAX_SNAPSHOT_BYTES - len(start), path=file, error=StorageError)


def _parse_head(head: bytes) -> tuple[dict[str, Any], int] | None:
    """The header dict and where ``"publications"`` starts; ``None`` if the layout is not ours."""
    if not head.startswith(_HEAD_START):
        return None
    cut = head.find(_PUBLICATIONS_KEY)
    if cut < 0:
        return None
    try:
        # Decoded as json.loads would decode these bytes (they start with our ASCII
        # header, so UTF-8), without its look for another encoding in every file.
        data = json_value((head[:cut].rstrip(b",") + b"\n}").decode("utf-8", "surrogatepass"))
    except ValueError:
        return None
    return (data, cut) if isinstance(data, dict) else None


def _written_count(data: Mapping[str, Any]) -> int | None:
    value = data.get("publication_count")
    return value if type(value) is int and value >= 0 else None


def _counted(whole: bytes, cut: int) -> int | None:
    """Publications counted by their first line, for snapshots written before the count was."""
    count = whole.count(_PUBLICATION_LINE, cut)
    if count == 0 and not whole.startswith(_PUBLICATIONS_KEY + b"[]", cut):
        return None
    return count


def read_header(
    ref: SnapshotRef, *, count: bool = True, head: bytes | None = None, years: bool = True
) -> SnapshotHeader:
    """One snapshot's header (and publication count), reading as little as its layout allows.

    ``head``, when given, is the file's first 4 KiB already read (``read_heads``).
    Raises ``StorageError`` naming the file when it cannot be read.
    """

    def from_written_count(data: Mapping[str, Any]) -> SnapshotHeader | None:
        """The header when the file carries its publication count (or none is wanted)."""
        written = _written_count(data)
        if written is not None or not count:
            return _header_from_dict(data, ref.time, written if count else None, years=years)
        return None

    try:
        # A head without the key, or not of our layout, is read again below the careful way.
        parsed = _parse_head(head) if head is not None else None
        header = from_written_count(parsed[0]) if parsed is not None else None
        if header is not None:
            return header
        fd = open_snapshot(ref.file)
        try:
            head = os.read(fd, HEAD_BYTES)
            whole = None
            if _PUBLICATIONS_KEY not in head:
                head = whole = _read_rest(fd, head, ref.file)
            parsed = _parse_head(head)
            if parsed is not None:
                data, cut = parsed
                header = from_written_count(data)
                if header is not None:
                    return header
                whole = whole or _read_rest(fd, head, ref.file)
                counted = _counted(whole, cut)
                if counted is not None:
                    return _header_from_dict(data, ref.time, counted, years=years)
            # Not our layout: read it the slow, general way.
            whole = whole or _read_rest(fd, head, ref.file)
        finally:
            os.close(fd)
        record = record_from_dict(json_value(whole))
    except (OSError, ValueError) as exc:
        raise StorageError(f"corrupt snapshot {ref.path}: {exc}") from exc
    return SnapshotHeader(
        scholar_id=record.scholar_id,
        name=record.profile.name,
        source=record.source,
        date_text=format_time(record.fetched_at or ref.time),
        complete=record.complete,
        metrics=record.metrics,
        cites_per_year=record.cites_per_year,
        publication_count=len(record.publications) if count else None,
    )


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
        data = json_value(read_bounded(ref.file, limit=MAX_SNAPSHOT_BYTES))
        if not isinstance(data, dict) or data.get("format") != SNAPSHOT_FORMAT:
            raise ValueError('not a snapshot (no "format": 1 object)')
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


def _read_or_report(
    read: Callable[[SnapshotRef], T], ref: SnapshotRef, bad: list[BadSnapshot] | None, quiet: bool
) -> T | None:
    """What ``read`` gives, or ``None`` when the snapshot cannot be read (reported, kept in ``bad``)."""
    try:
        return read(ref)
    except StorageError as exc:
        report_bad(bad, ref.path, str(exc.__cause__ or exc), quiet=quiet)
        return None


def read_publications_or_none(
    ref: SnapshotRef, *, bad: list[BadSnapshot] | None = None, quiet: bool = False
) -> PublicationColumns | None:
    return _read_or_report(read_publications, ref, bad, quiet)


class HeaderReader:
    """Reads one author's snapshot headers.

    ``read`` returns ``None`` for a snapshot that cannot be read (reported and
    remembered in ``bad``) or that holds another author's record.  ``prefetch``
    reads the first bytes of many files at once (see ``read_heads``) for the
    ``read`` calls that follow.
    """

    def __init__(
        self,
        scholar_id: str,
        *,
        count: bool = True,
        years: bool = True,
        bad: list[BadSnapshot] | None = None,
        quiet: bool = False,
    ) -> None:
        self.scholar_id = scholar_id
        self.count = count
        self.years = years
        self.bad = bad
        self.quiet = quiet
        self.heads: dict[str, bytes] = {}

    def prefetch(self, refs: Sequence[SnapshotRef]) -> None:
        for ref, head in zip(refs, read_heads(refs), strict=True):
            if isinstance(head, bytes):
                self.heads[ref.file] = head

    def read(self, ref: SnapshotRef) -> SnapshotHeader | None:
        try:
            header = read_header(ref, count=self.count, head=self.heads.pop(ref.file, None), years=self.years)
        except StorageError as exc:
            report_bad(self.bad, ref.path, str(exc.__cause__ or exc), quiet=self.quiet)
            return None
        return None if self._foreign(ref, header.scholar_id) else header

    def read_fields(self, ref: SnapshotRef) -> HeadFields | None:
        """``read``, as plain values: a prefetched head of our layout with its count written is
        checked as ``read`` checks it without building the header's objects (two frozen
        dataclasses per snapshot, for a metrics export); any other snapshot is read by ``read``."""
        head = self.heads.get(ref.file)
        parsed = _parse_head(head) if head is not None and not self.years else None
        count = _written_count(parsed[0]) if parsed is not None else None
        if parsed is None or count is None or not self.count:
            header = self.read(ref)
            if header is None:
                return None
            values = [getattr(header.metrics, key) for key in _METRIC_KEYS]
            return (
                header.scholar_id,
                header.name,
                header.source,
                header.date_text,
                values,
                header.publication_count,
            )
        del self.heads[ref.file]
        try:
            scholar_id, name, source, when, values, _ = _checked_head(parsed[0], ref.time, False)
        except ValueError as exc:
            report_bad(self.bad, ref.path, str(exc), quiet=self.quiet)
            return None
        return None if self._foreign(ref, scholar_id) else (scholar_id, name, source, when, values, count)

    def _foreign(self, ref: SnapshotRef, scholar_id: str) -> bool:
        """Whether the snapshot holds another author's record (then reported)."""
        if scholar_id == self.scholar_id:
            return False
        report_bad(
            self.bad,
            ref.path,
            f"it holds the record of {scholar_id}, not {self.scholar_id}",
            quiet=self.quiet,
        )
        return True


def read_record_or_none(
    ref: SnapshotRef, *, bad: list[BadSnapshot] | None = None, quiet: bool = False
) -> AuthorRecord | None:
    """A snapshot in full, or ``None`` (reported, remembered in ``bad``) when it cannot be read."""
    return _read_or_report(lambda ref: read_snapshot(ref.path), ref, bad, quiet)


def first_readable(
    group: Sequence[SnapshotRef], read: Callable[[SnapshotRef], T | None]
) -> tuple[SnapshotRef, T] | None:
    """The newest snapshot of ``group`` that ``read`` can read, with what it read."""
    for ref in reversed(group):
        value = read(ref)
        if value is not None:
            return ref, value
    return None
