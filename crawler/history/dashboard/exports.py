"""Each author's downloadable files on the dashboard: the metrics, the per-year counts and the
publications, as CSV and JSON."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from itertools import chain, repeat
from types import NoneType
from typing import Any

from crawler.history.dashboard.timeline import AuthorHistory
from crawler.history.metrics_rows import METRICS_COLUMNS, YEARS_COLUMNS, metrics_row
from crawler.history.tables import Columns, rows_to_columns, table_bytes

# What json.dumps(..., ensure_ascii=False) escapes in a string.
_JSON_ESCAPED = re.compile(r'[\x00-\x1f\\"]')

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


def _json_column(values: list[Any]) -> list[str]:
    """Each value as ``json.dumps(value, ensure_ascii=False)`` writes it, a column at a time: integers
    and strings that need no escape (nearly all) without a call each."""
    kinds = set(map(type, values))
    if kinds <= {int, NoneType}:
        return ["null" if v is None else str(v) for v in values] if NoneType in kinds else [*map(str, values)]
    if kinds <= {str, NoneType}:
        texts = [v for v in values if v is not None] if NoneType in kinds else values
        if not _JSON_ESCAPED.search("".join(texts)):
            if NoneType in kinds:
                return ["null" if v is None else f'"{v}"' for v in values]
            # No value holds a NUL (it would need an escape): it can separate them.
            return ('"' + '"\x00"'.join(values) + '"').split("\x00")
    return [json.dumps(v, ensure_ascii=False) for v in values]


def json_table(data: Columns, columns: Sequence[str]) -> bytes:
    """``table_bytes(data, columns, "json")``, the same bytes, a few times faster: the export of
    every snapshot's totals has a row a snapshot."""
    encoded = [_json_column(list(data[name])) for name in columns]
    if not encoded or not encoded[0] or len({len(values) for values in encoded}) > 1:
        return table_bytes(data, columns, "json")  # which refuses columns of different lengths
    # Every row's pieces in order, the keys between the values: one join makes the whole table.
    keys = [json.dumps(name, ensure_ascii=False) + ": " for name in columns]
    pieces: list[Any] = []
    for k, (key, values) in enumerate(zip(keys, encoded, strict=True)):
        pieces += [repeat(("{" if k == 0 else ", ") + key), values]
    pieces.append(repeat("},\n"))
    # The keys repeat without end; the columns, all of one length, end the rows.
    rows = "".join(chain.from_iterable(zip(*pieces, strict=False)))
    return ("[\n" + rows[:-2] + "\n]\n").encode("utf-8")


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
        "metrics.json": json_table(metrics, METRICS_COLUMNS),
        "publications.csv": table_bytes(pubs, PUBLICATION_COLUMNS, "csv"),
        "publications.json": json_table(pubs, PUBLICATION_COLUMNS),
        "years.csv": table_bytes(years, YEARS_COLUMNS, "csv"),
    }
