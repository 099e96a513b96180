"""``gs_history.json``: the compact citation history the homepage chart draws.

Written by ``run`` next to ``gs_data.json`` (and put at the branch root by
``publish`` for the root author).  It holds change points only: a point where
a number differs from the one before it, not one per snapshot or per day.
Days count from ``start`` (a UTC date), and each series is a flat list of
differences, so ten years of daily snapshots of 300 papers stay small::

    {
      "format": 1,
      "scholar_id": "amIMrIEAAAAJ",
      "name": "Ada Lovelace",
      "start": "2016-01-01",
      "updated": "2026-11-23T19:35:50Z",
      "snapshots": 3650,
      "last": "20261123T193550Z.json",
      "citations": [0, 512, 1, 3, 2, 7],
      "sources": [[0, "scholar"], [812, "openalex"], [830, "scholar"]],
      "papers": {"amIMrIEAAAAJ:u5HHmVD_uO8C": [0, 40, 3, 1], ...}
    }

``citations`` is ``[day, count, day, count, ...]`` where every day and count
after the first pair is the difference from the pair before (so
``[0, 512, 1, 3]`` is 512 on ``start`` and 515 a day later); ``papers`` the
same per ``author_pub_id``.  A count that a snapshot did not provide is left
out (the line carries on from the last known one); a paper no longer on the
profile keeps its points and gets no more.  The day of a snapshot is its UTC
date; two snapshots of one day give the later count.

Keeping it current costs one snapshot: when the history's ``last`` snapshot
is the one before the newest, the newest is appended.  Otherwise (no file,
an unreadable one, a snapshot imported into the past) it is rebuilt from
every snapshot.  Like the other derived outputs it is renamed into place
without an fsync of its own (``run`` syncs the folder once).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from crawler.errors import StorageError
from crawler.models import SNAPSHOT_FORMAT, AuthorRecord, format_time, opt_int, parse_time
from crawler.storage.readfile import MAX_OUTPUT_BYTES, MAX_SNAPSHOT_BYTES, json_value, read_bounded
from crawler.storage.store import AuthorStore, write_if_changed

log = logging.getLogger(__name__)

HISTORY_FILE = "gs_history.json"
FORMAT = 1


def _day(when: datetime) -> date:
    return when.astimezone(UTC).date()


class _Series:
    """One line of change points, as absolute (day, value) pairs until encoded."""

    def __init__(self, flat: list[int] | None = None) -> None:
        self.points: list[tuple[int, int]] = []
        if flat:
            day = value = 0
            for i in range(0, len(flat) - 1, 2):
                day += flat[i]
                value += flat[i + 1]
                self.points.append((day, value))

    def add(self, day: int, value: int | None) -> None:
        if value is None:
            return
        if self.points and self.points[-1][0] == day:
            self.points[-1] = (day, value)
            if len(self.points) > 1 and self.points[-2][1] == value:
                self.points.pop()
            return
        if self.points and self.points[-1][1] == value:
            return
        self.points.append((day, value))

    def flat(self) -> list[int]:
        out: list[int] = []
        day = value = 0
        for d, v in self.points:
            out += [d - day, v - value]
            day, value = d, v
        return out


class History:
    """The file's content, being built or extended one record at a time."""

    def __init__(self, scholar_id: str, start: date) -> None:
        self.scholar_id = scholar_id
        self.name = ""
        self.start = start
        self.updated: str | None = None
        self.snapshots = 0
        self.last: str | None = None
        self.citations = _Series()
        self.sources: list[tuple[int, str]] = []
        self.papers: dict[str, _Series] = {}

    def add(self, record: AuthorRecord, snapshot_name: str) -> None:
        if record.fetched_at is None:
            raise ValueError(f"{snapshot_name}: a snapshot without fetched_at")
        self.add_point(
            snapshot_name,
            record.fetched_at,
            record.profile.name,
            record.metrics.citations,
            record.source,
            ((pub.author_pub_id, pub.citations) for pub in record.publications),
        )

    def add_point(
        self,
        snapshot_name: str,
        when: datetime,
        name: str,
        citations: int | None,
        source: str,
        papers: Iterable[tuple[str, int | None]],
    ) -> None:
        day = max(0, (_day(when) - self.start).days)
        self.name = name
        self.updated = format_time(when)
        self.snapshots += 1
        self.last = snapshot_name
        self.citations.add(day, citations)
        if not self.sources or self.sources[-1][1] != source:
            if self.sources and self.sources[-1][0] == day:
                self.sources.pop()
            self.sources.append((day, source))
        for pub_id, count in papers:
            self.papers.setdefault(pub_id, _Series()).add(day, count)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "scholar_id": self.scholar_id,
            "name": self.name,
            "start": self.start.isoformat(),
            "updated": self.updated,
            "snapshots": self.snapshots,
            "last": self.last,
            "citations": self.citations.flat(),
            "sources": [[d, s] for d, s in self.sources],
            "papers": {pub_id: series.flat() for pub_id, series in self.papers.items()},
        }

    @classmethod
    def from_dict(cls, data: Any, scholar_id: str) -> History:
        """A history read back; ``ValueError`` when it is not one of ``scholar_id`` in our format."""
        if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("scholar_id") != scholar_id:
            raise ValueError("not a gs_history.json of this author")
        history = cls(scholar_id, date.fromisoformat(str(data["start"])))
        history.name = str(data.get("name") or "")
        history.updated = data.get("updated")
        history.snapshots = int(data["snapshots"])
        history.last = data.get("last")
        history.citations = _Series(_ints(data.get("citations")))
        history.sources = [(int(d), str(s)) for d, s in data.get("sources") or []]
        papers = data.get("papers") or {}
        if not isinstance(papers, dict):
            raise ValueError("'papers' must be an object")
        history.papers = {str(k): _Series(_ints(v)) for k, v in papers.items()}
        return history


def _ints(value: Any) -> list[int]:
    if not isinstance(value, list) or not all(type(v) is int for v in value):
        raise ValueError("a series must be a list of whole numbers")
    return value


def build_history(snapshots: Iterable[Path], scholar_id: str) -> History | None:
    """The history of the snapshot files (oldest first); unreadable ones are named and left out.

    Each file is parsed once and only the fields the history needs are
    checked and kept (no ``AuthorRecord``): ten years of daily snapshots are
    read in seconds, once, when there is no history to extend.
    """
    history: History | None = None
    for path in snapshots:
        try:
            point = _read_point(path, scholar_id)
        except (OSError, ValueError, KeyError, TypeError, AttributeError, StorageError) as exc:
            log.warning("corrupt snapshot %s: %s; left out of %s", path, exc, HISTORY_FILE)
            continue
        if point is None:
            continue
        when, name, citations, source, papers = point
        if history is None:
            history = History(scholar_id, _day(when))
        history.add_point(path.name, when, name, citations, source, papers)
    return history


def _read_point(
    path: Path, scholar_id: str
) -> tuple[datetime, str, int | None, str, list[tuple[str, int | None]]] | None:
    data = json_value(read_bounded(path, limit=MAX_SNAPSHOT_BYTES))
    if not isinstance(data, dict) or data.get("format") != SNAPSHOT_FORMAT:
        raise ValueError("not a snapshot")
    if data.get("scholar_id") != scholar_id:
        raise ValueError(f"it holds the record of {data.get('scholar_id')!r}, not {scholar_id}")
    fetched = data.get("fetched_at")
    if not isinstance(fetched, str):
        return None
    papers = [
        (str(pub["author_pub_id"]), opt_int(pub.get("citations"), "citations"))
        for pub in data.get("publications") or []
    ]
    return (
        parse_time(fetched),
        str(data["profile"]["name"]),
        opt_int(data["metrics"].get("citations"), "metrics.citations"),
        str(data.get("source") or "scholar"),
        papers,
    )


def history_bytes(history: History) -> bytes:
    """The file's bytes: one line, no spaces (it is read by browsers, not people)."""
    return (json.dumps(history.to_dict(), ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")


def write_history(store: AuthorStore) -> bool:
    """Bring ``<id>/gs_history.json`` up to date with the author's snapshots; return whether it changed."""
    scholar_id = store.scholar_id
    paths = store.snapshot_paths()
    target = store.root / HISTORY_FILE
    if not paths:
        return False
    history: History | None = None
    try:
        history = History.from_dict(json_value(read_bounded(target, limit=MAX_OUTPUT_BYTES)), scholar_id)
    except FileNotFoundError:
        history = None
    except (OSError, ValueError, KeyError, TypeError, StorageError) as exc:
        log.info("%s cannot be extended (%s); rebuilt from the snapshots", target, exc)
        history = None
    names = [p.name for p in paths]
    if history is not None and history.last == names[-1] and history.snapshots == len(names):
        return False
    if (
        history is not None
        and len(names) >= 2
        and history.last == names[-2]
        and history.snapshots == len(names) - 1
        and history.updated is not None
    ):
        newest = store.read_snapshot(paths[-1])
        if newest.fetched_at is not None and newest.fetched_at >= parse_time(history.updated):
            history.add(newest, names[-1])
            return write_if_changed(target, history_bytes(history), jail=store.data_dir, durable=False)
    rebuilt = build_history(paths, scholar_id)
    if rebuilt is None:
        return False
    # Unreadable snapshots count as seen: the next run extends instead of rebuilding.
    rebuilt.snapshots, rebuilt.last = len(names), names[-1]
    return write_if_changed(target, history_bytes(rebuilt), jail=store.data_dir, durable=False)
