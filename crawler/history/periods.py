"""Dates and periods of a history: the ``--since``/``--until`` window, daily/weekly/monthly groups."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

from crawler.errors import UsageError
from crawler.models import parse_time
from crawler.storage.store import SnapshotRef

FREQUENCIES = ("daily", "weekly", "monthly")

_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_date(text: str | datetime | date, *, end_of_day: bool = False, option: str = "date") -> datetime:
    """``YYYY-MM-DD`` (midnight UTC, or its last instant with ``end_of_day``) or full ISO-8601.

    A time without a zone is UTC.  Anything else is a ``UsageError`` naming ``option``.
    """
    if isinstance(text, datetime):
        return text.replace(tzinfo=UTC) if text.tzinfo is None else text.astimezone(UTC)
    if isinstance(text, date):
        day = datetime(text.year, text.month, text.day, tzinfo=UTC)
        return day + timedelta(days=1, microseconds=-1) if end_of_day else day
    value = text.strip()
    try:
        if _DATE_RE.match(value):
            day = datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)
            return day + timedelta(days=1, microseconds=-1) if end_of_day else day
        return parse_time(value)
    except ValueError as exc:
        raise UsageError(
            f"{option} must be YYYY-MM-DD or an ISO-8601 time such as 2026-01-31T12:00:00Z, not {text!r}"
        ) from exc


def period_key(when: datetime, freq: str) -> tuple[int, ...]:
    when = when.astimezone(UTC)
    if freq == "daily":
        return (when.year, when.month, when.day)
    if freq == "weekly":
        iso = when.isocalendar()
        return (iso[0], iso[1])
    if freq == "monthly":
        return (when.year, when.month)
    raise UsageError(f"frequency must be one of {', '.join(FREQUENCIES)}, not {freq!r}")


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
