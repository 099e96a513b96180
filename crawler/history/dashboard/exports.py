"""Each author's downloadable files on the dashboard: the metrics, the per-year counts and the
publications, as CSV and JSON."""

from __future__ import annotations

from typing import Any

from crawler.history.dashboard.timeline import AuthorHistory
from crawler.history.export import METRICS_COLUMNS, YEARS_COLUMNS, metrics_row
from crawler.history.tables import rows_to_columns, table_bytes

PUBLICATION_COLUMNS = (
    "author_pub_id",
    "title",
    "year",
    "citations",
    "change_30d",
    "change_365d",
    "first_seen",
    "last_seen",
    "vanished",
)


def author_exports(history: AuthorHistory) -> dict[str, bytes]:
    metrics = rows_to_columns([metrics_row(history.scholar_id, h) for h in history.headers], METRICS_COLUMNS)
    pubs: dict[str, list[Any]] = {name: [] for name in PUBLICATION_COLUMNS}
    for r in history.publications:
        for name, value in zip(
            PUBLICATION_COLUMNS,
            (
                r.author_pub_id,
                r.title,
                r.year,
                r.citations,
                r.changes.get(30),
                r.changes.get(365),
                r.first_seen,
                r.last_seen,
                r.vanished,
            ),
            strict=True,
        ):
            pubs[name].append(value)
    years: dict[str, list[Any]] = {name: [] for name in YEARS_COLUMNS}
    for year, count in history.latest.cites_per_year if history.latest else ():
        years["scholar_id"].append(history.scholar_id)
        years["year"].append(year)
        years["citations"].append(count)
    return {
        "metrics.csv": table_bytes(metrics, METRICS_COLUMNS, "csv"),
        "metrics.json": table_bytes(metrics, METRICS_COLUMNS, "json"),
        "publications.csv": table_bytes(pubs, PUBLICATION_COLUMNS, "csv"),
        "publications.json": table_bytes(pubs, PUBLICATION_COLUMNS, "json"),
        "years.csv": table_bytes(years, YEARS_COLUMNS, "csv"),
    }
