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
import logging
import os
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crawler.errors import UsageError
from crawler.history.group import GROUP_COLUMNS, group_rows
from crawler.history.metrics_rows import METRICS_COLUMNS as METRICS_COLUMNS
from crawler.history.metrics_rows import YEARS_COLUMNS as YEARS_COLUMNS
from crawler.history.metrics_rows import fields_row as fields_row
from crawler.history.metrics_rows import metrics_row as metrics_row
from crawler.history.periods import FREQUENCIES, group_by_period, in_window
from crawler.history.snapshots import (
    HeaderReader,
    first_readable,
    read_publications_or_none,
    resolve_authors,
)
from crawler.history.tables import (
    Columns,
    TableWriter,
    empty_columns,
    encode,
    frame,
    output,
    require_pyarrow,
    rows_to_columns,
    with_dates,
)
from crawler.models import TextEnum, format_time
from crawler.storage.store import SNAPSHOT_DIR, BadSnapshot, SnapshotRef, report_bad, snapshot_refs

if TYPE_CHECKING:
    from multiprocessing.pool import AsyncResult

    import pandas as pd

log = logging.getLogger(__name__)


class What(TextEnum):
    """Which table ``export`` writes (``--what``); al-folio's file is written by
    ``crawler.outputs.alfolio``.
    """

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
PUBLICATION_COLUMNS = ("date", "scholar_id", "author_pub_id", "title", "year", "citations", "change")
YEARS_ALL_COLUMNS = ("date", "scholar_id", "year", "citations")
CHUNK_SNAPSHOTS = 100
# A publications export of at least this many snapshots is parsed by worker
# processes; below, starting them costs more than it saves.
PARALLEL_MIN_SNAPSHOTS = 1000


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
    workers: int = 1
    """Processes that read and encoded the rows."""


# -- rows -----------------------------------------------------------------------------


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
    # Each export reads only what its rows need: the metrics never the per-year histogram.
    reader = HeaderReader(job.scholar_id, count=count, years=not count, bad=bad, quiet=job.quiet)
    if options.what == "metrics" or options.all_snapshots:
        reader.prefetch([group[-1] for group in groups])
    if count:
        readable = (first_readable(group, reader.read_fields) for group in groups)
        rows = [fields_row(job.scholar_id, fields) for _ref, fields in filter(None, readable)]
        return rows_to_columns(rows, columns), bad
    if options.what == "years" and not options.all_snapshots:
        # The latest readable snapshot of the window, whatever its period.
        flat = [ref for group in groups for ref in group]
        picked = first_readable(flat, reader.read)
        chosen = [picked] if picked else []
    else:
        chosen = [p for p in (first_readable(g, reader.read) for g in groups) if p is not None]
    out = empty_columns(columns)
    for _ref, header in chosen:
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
    out = empty_columns(PUBLICATION_COLUMNS)
    for group in job.groups:
        picked = first_readable(group, lambda ref: read_publications_or_none(ref, bad=bad, quiet=job.quiet))
        if picked is None:
            continue
        ref, pubs = picked
        if pubs.scholar_id != job.scholar_id:
            report_bad(
                bad,
                ref.path,
                f"it holds the record of {pubs.scholar_id}, not {job.scholar_id}",
                quiet=job.quiet,
            )
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


def run_jobs(func: Callable[[Any], Any], jobs: Iterable[Any], workers: int) -> Iterator[Any]:
    """``func`` over ``jobs``, results in order; with workers, at most two jobs per worker ahead
    of the reader.
    """
    if workers <= 1:
        yield from map(func, jobs)
        return
    # Loaded here: only a large publications export starts workers.
    from multiprocessing.pool import Pool

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
    encode_as = "parquet" if fmt == "frame" else fmt

    if options.what == "group":
        rows = group_rows(
            data_dir, authors, since=options.since, until=options.until, freq=options.freq, bad=result.bad
        )
        result.rows += len(rows[GROUP_COLUMNS[0]])
        yield encode(rows, GROUP_COLUMNS, encode_as)
        return

    if options.what in ("metrics", "years"):
        # In this process, author by author: worker processes made these exports
        # no faster and cost more CPU time and memory (docs/benchmarks.md); the
        # waits on a cold disk overlap in read_heads' threads.
        jobs = [_HeaderJob(data_dir, a, options, False) for a in authors]
        merged = empty_columns(options.columns)
        for columns, bad in map(_header_rows, jobs):
            result.bad.extend(bad)
            for name in merged:
                merged[name].extend(columns[name])
        result.rows += len(merged[options.columns[0]])
        yield encode(merged, options.columns, encode_as)
        return

    # Parsing whole snapshots is CPU work: past PARALLEL_MIN_SNAPSHOTS worker
    # processes encode the chunks (1.35 times faster on 2 cores, docs/benchmarks.md).
    total = sum(count_files(data_dir, a) for a in authors)
    n_workers = (workers or default_workers("publications")) if total >= PARALLEL_MIN_SNAPSHOTS else 1
    result.workers = n_workers
    quiet = n_workers > 1

    def publication_jobs() -> Iterator[_PublicationJob]:
        for a in authors:
            groups, before = _author_groups(data_dir, a, options, result.bad)
            for start in range(0, len(groups), CHUNK_SNAPSHOTS):
                previous_groups = groups[max(0, start - 5) : start]
                baseline = [r for g in reversed(previous_groups) for r in reversed(g)] or before[:5]
                yield _PublicationJob(a, groups[start : start + CHUNK_SNAPSHOTS], baseline, encode_as, quiet)

    for encoded, rows, bad in run_jobs(_publication_rows, publication_jobs(), n_workers):
        if quiet:
            # Workers stay quiet (their lines would interleave): what they skipped is said here, in order.
            for item in bad:
                log.warning("corrupt snapshot %s: %s; skipped", item.path, item.reason)
        result.bad.extend(bad)
        result.rows += rows
        yield encoded


def count_files(data_dir: Path, scholar_id: str) -> int:
    try:
        return len(os.listdir(os.path.join(data_dir, scholar_id, SNAPSHOT_DIR)))
    except OSError:
        return 0


def export_frame(
    data_dir: Path, options: ExportOptions | None = None, *, workers: int | None = None
) -> pd.DataFrame:
    """The whole export as one DataFrame (``date`` as UTC timestamps); for a small history or a notebook."""
    import pandas as pd

    options = options or ExportOptions()
    chunks = list(iter_chunks(data_dir, options, fmt="frame", workers=workers))
    data = (
        pd.concat(chunks, ignore_index=True)
        if chunks
        else frame(options.columns, empty_columns(options.columns))
    )
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
        require_pyarrow()
    result = ExportResult()
    chunks = iter_chunks(data_dir, options, fmt=fmt, result=result, workers=workers)
    # Resolve the authors (and fail on a typo) before any output file is created.
    first = next(chunks, None)
    # Closing the generator early (an error while writing) also stops its worker processes.
    with contextlib.closing(chunks), output(out, fmt) as stream:
        writer = TableWriter(fmt, options.columns, stream)
        if first is not None:
            writer.write(first)
        for chunk in chunks:
            writer.write(chunk)
        writer.close()
    return result
