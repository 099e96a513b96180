"""The group's history: its totals, each paper counted once, at every point in time.

One row per moment a member's snapshot was taken (with ``freq``: per UTC
day, week or month, the state at the end of it): the group as it stood then,
each member by its newest snapshot at or before that moment.  The totals are
those of ``group.json`` (see ``crawler.outputs.group_numbers``): citations and
publications with each paper counted once, beside the plain sums.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from crawler.history.periods import in_window, period_key
from crawler.history.snapshots import read_record_or_none
from crawler.models import AuthorRecord, format_time
from crawler.storage.store import BadSnapshot, snapshot_refs

GROUP_COLUMNS = (
    "date",
    "members",
    "members_with_data",
    "citations",
    "publications",
    "shared_publications",
    "citations_sum",
    "publications_sum",
)


def group_rows(
    data_dir: Path,
    scholar_ids: Sequence[str],
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    freq: str | None = None,
    bad: list[BadSnapshot] | None = None,
) -> dict[str, list[Any]]:
    """The group's history as columns (``GROUP_COLUMNS``), oldest first."""
    # Loaded here: the group's totals bring the badge writer along, which the other exports,
    # importing this module for its columns, have no use for.
    from crawler.outputs.group_numbers import group_totals

    events = []
    for sid in scholar_ids:
        for ref in in_window(snapshot_refs(data_dir, sid, bad), None, until):
            events.append((ref.time, sid, ref))
    events.sort(key=lambda e: (e[0], e[1], e[2].name))
    current: dict[str, AuthorRecord] = {}
    rows: dict[str, list[Any]] = {name: [] for name in GROUP_COLUMNS}

    def emit(when: datetime) -> None:
        totals = group_totals(list(current.values()))
        values = (
            format_time(when),
            len(scholar_ids),
            len(current),
            totals.citations,
            totals.publications,
            totals.shared_publications,
            totals.citations_sum,
            totals.publications_sum,
        )
        for name, value in zip(GROUP_COLUMNS, values, strict=True):
            rows[name].append(value)

    for index, (when, sid, ref) in enumerate(events):
        record = read_record_or_none(ref, bad=bad)
        if record is not None:
            current[sid] = record
        if since is not None and when < since:
            continue
        key: tuple[int, ...] | datetime = period_key(when, freq) if freq else when
        following = events[index + 1][0] if index + 1 < len(events) else None
        next_key = (period_key(following, freq) if freq else following) if following is not None else None
        # A row once every snapshot of the moment (or the period) is in.
        if next_key != key:
            emit(when)
    return rows
