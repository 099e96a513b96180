"""The rows of ``export --what metrics`` and ``--what years``: their columns and the one order of
a metrics row, shared by ``export`` and each author's files on the dashboard.

Kept apart from ``crawler.history.export`` (the worker pool, the group's totals, the table
writers) so that the dashboard loads only these.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from crawler.history.snapshots import HeadFields, SnapshotHeader

METRICS_COLUMNS = (
    "date",
    "scholar_id",
    "name",
    "citations",
    "citations_since",
    "since_year",
    "h_index",
    "h_index_since",
    "i10_index",
    "i10_index_since",
    "publications",
    "source",
)
YEARS_COLUMNS = ("scholar_id", "year", "citations")


def metrics_row(scholar_id: str, header: SnapshotHeader) -> tuple[Any, ...]:
    """One row of ``metrics`` (``METRICS_COLUMNS``): an author's totals at one snapshot, as
    ``export`` and each author's files on the dashboard write it."""
    m = header.metrics
    values = (m.citations, m.citations_since, m.h_index, m.h_index_since, m.i10_index, m.i10_index_since)
    return _metrics_row(
        scholar_id,
        header.date_text,
        header.name,
        (*values, m.since_year),
        header.publication_count,
        header.source,
    )


def fields_row(scholar_id: str, fields: HeadFields) -> tuple[Any, ...]:
    """``metrics_row`` of a header read as plain values (``HeaderReader.read_fields``)."""
    _sid, name, source, date_text, values, count = fields
    return _metrics_row(scholar_id, date_text, name, values, count, source)


def _metrics_row(
    scholar_id: str, date_text: str, name: str, metrics: Sequence[int | None], count: int | None, source: str
) -> tuple[Any, ...]:
    """The one order of ``METRICS_COLUMNS``; ``metrics`` are the seven in ``Metrics``' order."""
    citations, citations_since, h_index, h_index_since, i10_index, i10_index_since, since_year = metrics
    return (
        date_text,
        scholar_id,
        name,
        citations,
        citations_since,
        since_year,
        h_index,
        h_index_since,
        i10_index,
        i10_index_since,
        count,
        source,
    )
