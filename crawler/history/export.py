"""Citation history as a table: totals, publications, or the per-year histogram.

Three kinds of table (``what``), each with a fixed column order:

* ``metrics``: one row per author per snapshot: ``date, scholar_id, name,
  citations, citations_since, since_year, h_index, h_index_since, i10_index,
  i10_index_since, publications, source``;
* ``publications``: one row per publication per snapshot: ``date, scholar_id,
  author_pub_id, title, year, citations, change``, where ``change`` is the
  difference with the same publication in the author's previous exported
  snapshot (for the first one, the last snapshot before ``since``), empty when
  the publication was not there or a count is missing;
* ``years``: the histogram of the latest snapshot: ``scholar_id, year,
  citations``; with ``all_snapshots`` one per snapshot: ``date, scholar_id,
  year, citations``.

Rows are ordered by ``scholar_id``, then ``date``, then the publication's
place on the profile page (for ``publications``) or ``year`` (for ``years``).
``date`` is the snapshot's UTC time, ISO-8601 with a ``Z``.  With ``freq`` each
author's snapshots are grouped by UTC day, ISO week (Monday to Sunday) or
month, and the last readable one of each group is taken.

Everything is streamed: headers only for ``metrics`` and ``years`` (see
``crawler.history.snapshots``), and ``publications`` in chunks of 100
snapshots, encoded in worker processes and written in order, so memory stays
flat however long the history.  CSV follows RFC 4180: UTF-8, a header line,
``\\r\\n`` line ends, fields quoted only when they hold a comma, a quote or a
line break (quotes doubled).  Integers are written as integers, a missing one
as an empty field (JSON ``null``, a Parquet null).
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import logging
import os
import sys
import tempfile
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from multiprocessing.pool import AsyncResult, Pool
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from crawler.errors import StorageError, UsageError
from crawler.history.group import GROUP_COLUMNS, group_rows
from crawler.history.periods import FREQUENCIES, group_by_period, in_window
from crawler.history.snapshots import HeaderReader, first_readable, read_publications_or_none, resolve_authors
from crawler.models import TextEnum, format_time
from crawler.store import SNAPSHOT_DIR, BadSnapshot, SnapshotRef, atomic_writer, report_bad, snapshot_refs

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)



class What(TextEnum):
    """Which table ``export`` writes (``--what``); al-folio's file is written by ``crawler.outputs.alfolio``."""

    METRICS = "metrics"
    PUBLICATIONS = "publications"
    YEARS = "years"
    GROUP = "group"
    AL_FOLIO = "al-folio"


class Format(TextEnum):
    """How a table is encoded (``--format``)."""

    CSV = "csv"
    JSON = "json"
    PARQUET = "parquet"


WHATS = (What.METRICS.value, What.PUBLICATIONS.value, What.YEARS.value, What.GROUP.value)
FORMATS = tuple(f.value for f in Format)
METRICS_COLUMNS = (
    "date", "scholar_id", "name", "citations", "citations_since", "since_year", "h_index", "h_index_since",
    "i10_index", "i10_index_since", "publications", "source",
)
PUBLICATION_COLUMNS = ("date", "scholar_id", "author_pub_id", "title", "year", "citations", "change")
YEARS_COLUMNS = ("scholar_id", "year", "citations")
YEARS_ALL_COLUMNS = ("date", "scholar_id", "year", "citations")
INTEGER_COLUMNS = frozenset({
    "citations", "citations_since", "since_year", "h_index", "h_index_since", "i10_index", "i10_index_since",
    "publications", "year", "change",
    "members", "members_with_data", "shared_publications", "citations_sum", "publications_sum",
})
LINE_END = "\r\n"
CHUNK_SNAPSHOTS = 100
# Below this many snapshots a worker pool costs more than it saves.
PARALLEL_MIN_SNAPSHOTS = 1000
PARQUET_HINT = "pip install scholar-stats[parquet]"

Columns = dict[str, list[Any]]


@dataclass(frozen=True)
class ExportOptions:
    what: str = "metrics"
    authors: tuple[str, ...] = ()
    """Scholar IDs or profile URLs; empty means every author in the data folder."""
    since: datetime | None = None
    until: datetime | None = None
    freq: str | None = None
    """``daily``, ``weekly`` or ``monthly``: the last snapshot of each UTC period."""
    all_snapshots: bool = False
    """For ``years``: the histogram of every snapshot, not only the latest."""

    def __post_init__(self) -> None:
        if self.what not in WHATS:
            raise UsageError(f"--what must be one of {', '.join(WHATS)}, not {self.what!r}")
        if self.freq is not None and self.freq not in FREQUENCIES:
            raise UsageError(f"--freq must be one of {', '.join(FREQUENCIES)}, not {self.freq!r}")
        if self.all_snapshots and self.what != "years":
            raise UsageError("--all applies to --what years only")
        if self.since is not None and self.until is not None and self.since > self.until:
            raise UsageError(f"--since {format_time(self.since)} is after --until {format_time(self.until)}")

    @property
    def columns(self) -> tuple[str, ...]:
        if self.what == "metrics":
            return METRICS_COLUMNS
        if self.what == "publications":
            return PUBLICATION_COLUMNS
        if self.what == "group":
            return GROUP_COLUMNS
        return YEARS_ALL_COLUMNS if self.all_snapshots else YEARS_COLUMNS


@dataclass
class ExportResult:
    rows: int = 0
    authors: int = 0
    bad: list[BadSnapshot] = field(default_factory=list)


# -- rows -----------------------------------------------------------------------------


def _empty(columns: Sequence[str]) -> Columns:
    return {name: [] for name in columns}


def frame(columns: Sequence[str], data: Columns) -> pd.DataFrame:
    """A DataFrame with nullable integers (never ``12.0``) and text kept as Python strings."""
    # pandas is imported where a DataFrame is made: CSV and JSON are written without it.
    import numpy as np
    import pandas as pd

    series: dict[str, Any] = {}
    for name in columns:
        values = data[name]
        if name in INTEGER_COLUMNS:
            mask = np.fromiter((v is None for v in values), dtype=bool, count=len(values))
            numbers = np.fromiter((0 if v is None else v for v in values), dtype=np.int64, count=len(values))
            series[name] = pd.arrays.IntegerArray(numbers, mask)
        else:
            series[name] = pd.Series(values, dtype=object)
    return pd.DataFrame(series, columns=list(columns))


def _author_groups(
    data_dir: Path, scholar_id: str, options: ExportOptions, bad: list[BadSnapshot], *, quiet: bool = False
) -> tuple[list[list[SnapshotRef]], list[SnapshotRef]]:
    """The snapshot groups in the window, and (newest first) the snapshots before it."""
    refs = snapshot_refs(data_dir, scholar_id, bad, quiet=quiet)
    window = in_window(refs, options.since, options.until)
    before = [r for r in refs if options.since is not None and r.time < options.since]
    return group_by_period(window, options.freq), before[::-1]


@dataclass(frozen=True)
class _HeaderJob:
    data_dir: Path
    scholar_id: str
    options: ExportOptions
    quiet: bool


def _header_rows(job: _HeaderJob) -> tuple[Columns, list[BadSnapshot]]:
    """Rows of ``metrics`` or ``years`` for one author, from snapshot headers only."""
    bad: list[BadSnapshot] = []
    options = job.options
    groups, _ = _author_groups(job.data_dir, job.scholar_id, options, bad, quiet=job.quiet)
    count = options.what == "metrics"
    columns = options.columns
    out = _empty(columns)
    reader = HeaderReader(job.scholar_id, count=count, bad=bad, quiet=job.quiet)
    if options.what == "metrics" or options.all_snapshots:
        reader.prefetch([group[-1] for group in groups])
    if options.what == "years" and not options.all_snapshots:
        # The latest readable snapshot of the window, whatever its period.
        flat = [ref for group in groups for ref in group]
        picked = first_readable(flat, reader.read)
        chosen = [picked] if picked else []
    else:
        chosen = [p for p in (first_readable(g, reader.read) for g in groups) if p is not None]
    for _ref, header in chosen:
        if count:
            m = header.metrics
            values: tuple[Any, ...] = (
                header.date_text, job.scholar_id, header.name, m.citations, m.citations_since, m.since_year,
                m.h_index, m.h_index_since, m.i10_index, m.i10_index_since, header.publication_count,
                header.source,
            )
            for name, value in zip(columns, values, strict=True):
                out[name].append(value)
            continue
        for year, citations in header.cites_per_year:
            if options.all_snapshots:
                out["date"].append(header.date_text)
            out["scholar_id"].append(job.scholar_id)
            out["year"].append(year)
            out["citations"].append(citations)
    return out, bad


@dataclass(frozen=True)
class _PublicationJob:
    scholar_id: str
    groups: list[list[SnapshotRef]]
    baseline: list[SnapshotRef]
    """Snapshots before the first group, newest first: the first readable one is compared with."""
    fmt: str
    quiet: bool


def _publication_rows(job: _PublicationJob) -> tuple[Any, int, list[BadSnapshot]]:
    """One chunk of ``publications`` rows, encoded for ``job.fmt``."""
    bad: list[BadSnapshot] = []
    previous: dict[str, int | None] | None = None
    for ref in job.baseline:
        # Snapshots outside the chunk are reported by the chunk (or export) they belong to.
        base = read_publications_or_none(ref, quiet=True)
        if base is not None and base.scholar_id == job.scholar_id:
            previous = dict(zip(base.author_pub_ids, base.citations, strict=True))
            break
    out = _empty(PUBLICATION_COLUMNS)
    for group in job.groups:
        picked = first_readable(group, lambda ref: read_publications_or_none(ref, bad=bad, quiet=job.quiet))
        if picked is None:
            continue
        ref, pubs = picked
        if pubs.scholar_id != job.scholar_id:
            report_bad(bad, ref.path, f"it holds the record of {pubs.scholar_id}, not {job.scholar_id}", quiet=job.quiet)
            continue
        n = len(pubs.author_pub_ids)
        out["date"].extend([format_time(pubs.date)] * n)
        out["scholar_id"].extend([job.scholar_id] * n)
        out["author_pub_id"].extend(pubs.author_pub_ids)
        out["title"].extend(pubs.titles)
        out["year"].extend(pubs.years)
        out["citations"].extend(pubs.citations)
        if previous is None:
            out["change"].extend([None] * n)
        else:
            before = previous
            out["change"].extend(
                None if c is None or (b := before.get(i)) is None else c - b
                for i, c in zip(pubs.author_pub_ids, pubs.citations, strict=True)
            )
        previous = dict(zip(pubs.author_pub_ids, pubs.citations, strict=True))
    return encode(out, PUBLICATION_COLUMNS, job.fmt), len(out["date"]), bad


# -- encoding and writing -------------------------------------------------------------


def encode(data: Columns, columns: Sequence[str], fmt: str) -> Any:
    """A chunk ready for the writer: CSV or JSON-records bytes, or a DataFrame (``parquet``, ``frame``).

    CSV is written by the standard ``csv`` module, which pandas' own ``to_csv``
    drives too, with the same dialect; called directly on the column lists it is
    about three times faster than ``to_csv`` on nullable integer columns.
    ``None`` becomes an empty field.
    """
    if fmt == "csv":
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator=LINE_END, quoting=csv.QUOTE_MINIMAL).writerows(
            zip(*(data[name] for name in columns), strict=True)
        )
        return buffer.getvalue().encode("utf-8")
    if fmt == "json":
        return ",\n".join(
            json.dumps(dict(zip(columns, row, strict=True)), ensure_ascii=False)
            for row in zip(*(data[name] for name in columns), strict=True)
        ).encode("utf-8")
    return frame(columns, data)


def _require_pyarrow() -> Any:
    try:
        import pyarrow  # noqa: F401
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise UsageError(f"--format parquet needs pyarrow: {PARQUET_HINT}") from exc
    return pq


def _arrow_schema(columns: Sequence[str]) -> Any:
    """The Parquet schema, with pandas' metadata so that ``read_parquet`` gives back ``Int64`` columns."""
    import pyarrow as pa

    fields = []
    for name in columns:
        if name == "date":
            fields.append(pa.field(name, pa.timestamp("s", tz="UTC")))
        elif name in INTEGER_COLUMNS:
            fields.append(pa.field(name, pa.int64()))
        else:
            fields.append(pa.field(name, pa.string()))
    template = with_dates(frame(columns, _empty(columns)))
    return pa.Table.from_pandas(template, schema=pa.schema(fields), preserve_index=False).schema


def with_dates(data: pd.DataFrame) -> pd.DataFrame:
    """``date`` as UTC timestamps instead of ISO text."""
    import pandas as pd

    if "date" not in data.columns:
        return data
    data = data.copy()
    data["date"] = pd.to_datetime(data["date"], format="%Y-%m-%dT%H:%M:%SZ", utc=True).astype("datetime64[s, UTC]")
    return data


class _TableWriter:
    """Writes encoded chunks in order to a binary stream, header and footer included."""

    def __init__(self, fmt: str, columns: Sequence[str], stream: IO[bytes]) -> None:
        self.fmt = fmt
        self.columns = tuple(columns)
        self.stream = stream
        self.first = True
        self.parquet: Any = None
        if fmt == "csv":
            stream.write((",".join(self.columns) + LINE_END).encode("utf-8"))
        elif fmt == "parquet":
            pq = _require_pyarrow()
            self.schema = _arrow_schema(self.columns)
            self.parquet = pq.ParquetWriter(stream, self.schema)

    def write(self, chunk: Any) -> None:
        if self.fmt == "parquet":
            import pyarrow as pa

            if len(chunk):
                table = pa.Table.from_pandas(with_dates(chunk), schema=self.schema, preserve_index=False)
                self.parquet.write_table(table)
            return
        if not chunk:
            return
        if self.fmt == "json":
            self.stream.write(b"[\n" if self.first else b",\n")
        self.stream.write(chunk)
        self.first = False

    def close(self) -> None:
        if self.fmt == "json":
            self.stream.write(b"[]\n" if self.first else b"\n]\n")
        elif self.fmt == "parquet":
            self.parquet.close()


def table_bytes(data: Columns, columns: Sequence[str], fmt: str) -> bytes:
    """A whole CSV or JSON table in memory, exactly as ``write_export`` would write it."""
    stream = io.BytesIO()
    writer = _TableWriter(fmt, columns, stream)
    writer.write(encode(data, columns, fmt))
    writer.close()
    return stream.getvalue()


@contextlib.contextmanager
def _output(out: Path | None, fmt: str) -> Iterator[IO[bytes]]:
    """A binary stream for ``out``: stdout for ``None`` or ``-``, else a temporary file renamed into place.

    A special file (``/dev/null``, a pipe) is written directly.  Parquet to
    stdout goes through a temporary file, because its writer needs to seek.
    """
    if out is None or str(out) == "-":
        if fmt != "parquet":
            yield sys.stdout.buffer
            sys.stdout.buffer.flush()
            return
        with tempfile.TemporaryFile() as spool:
            yield spool
            spool.seek(0)
            while block := spool.read(1 << 20):
                sys.stdout.buffer.write(block)
        sys.stdout.buffer.flush()
        return
    out = Path(out)
    if out.exists() and not out.is_file():
        try:
            with out.open("wb") as handle:
                yield handle
        except OSError as exc:
            raise StorageError(f"cannot write {out}: {exc.strerror or exc}") from exc
        return
    with atomic_writer(out) as handle:
        yield handle


def run_jobs(func: Callable[[Any], Any], jobs: Iterable[Any], workers: int) -> Iterator[Any]:
    """``func`` over ``jobs``, results in order; with workers, at most two jobs per worker ahead of the reader."""
    if workers <= 1:
        yield from map(func, jobs)
        return
    with Pool(workers) as pool:
        pending: deque[AsyncResult[Any]] = deque()
        for job in jobs:
            pending.append(pool.apply_async(func, (job,)))
            if len(pending) >= 2 * workers:
                yield pending.popleft().get()
        while pending:
            yield pending.popleft().get()


def default_workers(what: str = "metrics") -> int:
    """Worker processes: one per CPU for ``publications`` (parsing bound); for
    headers two per CPU, because from a cold disk they mostly wait; at most four."""
    cpus = os.cpu_count() or 1
    return max(1, min(cpus if what == "publications" else 2 * cpus, 4))


def iter_chunks(
    data_dir: Path,
    options: ExportOptions,
    *,
    fmt: str = "frame",
    result: ExportResult | None = None,
    workers: int | None = None,
) -> Generator[Any, None, None]:
    """The export in order, as chunks encoded for ``fmt`` (``frame``: DataFrames with ISO-text dates)."""
    result = result if result is not None else ExportResult()
    data_dir = Path(data_dir)
    authors = resolve_authors(data_dir, options.authors)
    result.authors = len(authors)
    total = sum(count_files(data_dir, a) for a in authors)
    n_workers = (workers or default_workers(options.what)) if total >= PARALLEL_MIN_SNAPSHOTS else 1
    quiet = n_workers > 1
    encode_as = "parquet" if fmt == "frame" else fmt

    def collect(bad: list[BadSnapshot]) -> None:
        if quiet:
            for item in bad:
                log.warning("corrupt snapshot %s: %s; skipped", item.path, item.reason)
        result.bad.extend(bad)

    if options.what == "group":
        rows = group_rows(
            data_dir, authors, since=options.since, until=options.until, freq=options.freq, bad=result.bad
        )
        result.rows += len(rows[GROUP_COLUMNS[0]])
        yield encode(rows, GROUP_COLUMNS, encode_as)
        return

    if options.what in ("metrics", "years"):
        # One job per author, which lists and reads its own snapshots: the main
        # process never holds more than the rows.
        jobs = [_HeaderJob(data_dir, a, options, quiet) for a in authors]
        merged = _empty(options.columns)
        for columns, bad in run_jobs(_header_rows, jobs, n_workers):
            collect(bad)
            for name in merged:
                merged[name].extend(columns[name])
        result.rows += len(merged[options.columns[0]])
        yield encode(merged, options.columns, encode_as)
        return

    def publication_jobs() -> Iterator[_PublicationJob]:
        for a in authors:
            groups, before = _author_groups(data_dir, a, options, result.bad)
            for start in range(0, len(groups), CHUNK_SNAPSHOTS):
                previous_groups = groups[max(0, start - 5):start]
                baseline = [r for g in reversed(previous_groups) for r in reversed(g)] or before[:5]
                yield _PublicationJob(a, groups[start:start + CHUNK_SNAPSHOTS], baseline, encode_as, quiet)

    for encoded, rows, bad in run_jobs(_publication_rows, publication_jobs(), n_workers):
        collect(bad)
        result.rows += rows
        yield encoded


def count_files(data_dir: Path, scholar_id: str) -> int:
    try:
        return len(os.listdir(os.path.join(data_dir, scholar_id, SNAPSHOT_DIR)))
    except OSError:
        return 0


def export_frame(data_dir: Path, options: ExportOptions | None = None, *, workers: int | None = None) -> pd.DataFrame:
    """The whole export as one DataFrame (``date`` as UTC timestamps); for a small history or a notebook."""
    import pandas as pd

    options = options or ExportOptions()
    chunks = list(iter_chunks(data_dir, options, fmt="frame", workers=workers))
    data = pd.concat(chunks, ignore_index=True) if chunks else frame(options.columns, _empty(options.columns))
    return with_dates(data)


def write_export(
    data_dir: Path,
    options: ExportOptions,
    out: Path | None = None,
    *,
    fmt: str = "csv",
    workers: int | None = None,
) -> ExportResult:
    """Write the export to ``out`` (``None`` or ``-``: stdout) in ``fmt``; return what was written."""
    if fmt not in FORMATS:
        raise UsageError(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    if fmt == "parquet":
        _require_pyarrow()
    result = ExportResult()
    chunks = iter_chunks(data_dir, options, fmt=fmt, result=result, workers=workers)
    # Resolve the authors (and fail on a typo) before any output file is created.
    first = next(chunks, None)
    # Closing the generator early (an error while writing) also stops its worker processes.
    with contextlib.closing(chunks), _output(out, fmt) as stream:
        writer = _TableWriter(fmt, options.columns, stream)
        if first is not None:
            writer.write(first)
        for chunk in chunks:
            writer.write(chunk)
        writer.close()
    return result
