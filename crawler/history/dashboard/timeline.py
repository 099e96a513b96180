"""One author's history as the dashboard shows it, read from the snapshots.

Totals, h-index and i10-index come from the header of every readable
snapshot (``crawler.history.snapshots``: the first 4 KiB of each file), so a
page costs what ``export --what metrics`` costs for that author.

Publications come from whole snapshots, which are 40 times dearer to read,
so only a few are read: about ``SPARK_POINTS`` spread over the history (the
points of each publication's sparkline), the newest one, the ones 30 and 365
days before the newest one (``as_of``), and every snapshot whose
publication count differs from the one before it, with that one before.
Wherever two snapshots read one after the other disagree on which
publications there are but have unread snapshots between them, the middle
one is read too (bisection), until the change is pinned to one snapshot.  So
"first seen" and "vanished" are the dates of the snapshots where that
happened, as a reader of every snapshot would find them, unless a
publication came and went again between two snapshots with the same count.

Of those snapshots only each publication's ID and citations are taken
(``citations_by_id``: one regular expression over the layout ``run``
writes, counted against the header already read and checked), three times
cheaper than parsing the JSON; titles and years come from the newest
snapshot that has the publication, read whole.
"""

from __future__ import annotations

import bisect
import itertools
import logging
import re
from collections.abc import KeysView
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from crawler.errors import StorageError
from crawler.history.snapshots import (
    HeaderReader,
    PublicationColumns,
    SnapshotHeader,
    read_publications_or_none,
)
from crawler.models import AuthorRecord
from crawler.net.redact import redact
from crawler.storage.readfile import MAX_SNAPSHOT_BYTES, json_value, read_bounded
from crawler.storage.stale import STATE_FILE, read_state
from crawler.storage.store import BadSnapshot, SnapshotRef, read_snapshot, snapshot_refs

log = logging.getLogger(__name__)

SPARK_POINTS = 40
WINDOWS = (30, 365)


@dataclass(frozen=True, slots=True)
class Stale:
    since: str | None
    last_attempt: str | None
    reason: str


@dataclass
class PublicationRow:
    author_pub_id: str
    title: str
    year: int | None
    citations: int | None
    """The newest count: from the newest snapshot, or the last one that had it when it vanished."""
    first_seen: str
    last_seen: str
    vanished: str | None
    """The date of the first snapshot without it, when the newest snapshot does not have it."""
    changes: dict[int, int | None] = field(default_factory=dict)
    """Citations gained over each of ``WINDOWS`` days; ``None`` when it was not there then."""
    spark: list[tuple[int, int | None]] = field(default_factory=list)
    """(index of the snapshot, citations) at each sparkline point where it was present."""


@dataclass
class AuthorHistory:
    """Everything an author's page shows, in the order of the snapshots."""

    scholar_id: str
    as_of: datetime
    headers: list[SnapshotHeader]
    times: list[float]
    """Each header's UTC time, in seconds since the epoch."""
    publications: list[PublicationRow]
    spark_indexes: list[int]
    stale: Stale | None
    bad: list[BadSnapshot]
    snapshots_read: int = 0
    newest: AuthorRecord | None = None
    """The newest snapshot in full: the profile (affiliation) and each paper's authors and venue."""

    @property
    def latest(self) -> SnapshotHeader | None:
        return self.headers[-1] if self.headers else None

    @property
    def name(self) -> str:
        return self.headers[-1].name if self.headers else self.scholar_id

    def index_at(self, when: datetime) -> int | None:
        """The newest snapshot taken at or before ``when``."""
        position = bisect.bisect_right(self.times, when.timestamp()) - 1
        return position if position >= 0 else None

    def metric(self, name: str, index: int) -> int | None:
        value: int | None = getattr(self.headers[index].metrics, name)
        return value

    def change(self, name: str, days: int) -> int | None:
        """How much ``name`` rose over the ``days`` before ``as_of``; ``None`` when the history is
        shorter or the source was another one then (numbers of two sources are not compared)."""
        if not self.headers:
            return None
        then = self.index_at(self.as_of - timedelta(days=days))
        if then is None or self.headers[then].source != self.headers[-1].source:
            return None
        old, new = self.metric(name, then), self.metric(name, len(self.headers) - 1)
        return None if old is None or new is None else new - old

    def source_switches(self) -> list[int]:
        """Indexes of the snapshots whose source differs from the one before."""
        return [
            i for i in range(1, len(self.headers)) if self.headers[i].source != self.headers[i - 1].source
        ]


def read_stale(data_dir: Path, scholar_id: str) -> Stale | None:
    """``<id>/state.json``, present while the last fetch failed; an unreadable one still says stale."""
    try:
        state = read_state(data_dir, scholar_id)
    except ValueError:
        return Stale(None, None, f"{STATE_FILE} says the last fetch failed but cannot be read")
    if state is None:
        return None

    def text(key: str) -> str | None:
        # The dashboard is public: a reason written by an older version may hold a password.
        value = state.get(key)
        return redact(value) if isinstance(value, str) else None

    return Stale(
        text("stale_since"), text("last_attempt"), text("reason") or text("error") or "no reason recorded"
    )


# A snapshot as ``json_bytes(record_to_dict(...))`` writes it: each publication's ID, then four
# lines (title, authors, venue, year), then its citations.  An ID with an escape in it does not
# match, and the snapshot is then read the general way.
_HEAD_START = b'{\n  "format": 1,\n'
_TAIL = b"\n    }\n  ]\n}\n"
# The four lines are spelt out: a repeated group costs the matcher more than four `.*` (a tenth
# of the time of the search).
_ID_CITATIONS = re.compile(
    rb'\n      "author_pub_id": "([^"\\\n]*)",\n.*\n.*\n.*\n.*\n      "citations": (null|\d+),\n'
)


def citations_by_id(data: bytes, count: int | None) -> dict[str, int | None] | None:
    """Each publication's citations in a snapshot's bytes, read without parsing the whole JSON;
    ``None`` unless the file has our layout and exactly ``count`` publications (the count its
    header gives, checked when the header was read) were found, so nothing is guessed."""
    if count is None or not data.startswith(_HEAD_START) or not (data.endswith(_TAIL) or count == 0):
        return None
    found = _ID_CITATIONS.findall(data)
    if len(found) != count:
        return None
    if not found:
        return {}
    ids, citations = zip(*found, strict=True)
    try:
        # One parse for all the numbers; the IDs hold no quote, backslash or line break.
        values = json_value(b"[" + b",".join(citations) + b"]")
        keys = b"\n".join(ids).decode("utf-8").split("\n")
    except ValueError:
        return None
    return dict(zip(keys, values, strict=True))


class _PublicationReader:
    """Snapshots of one author, each read at most once, as ``{id: citations}``: by
    ``citations_by_id`` where the layout allows, else whole and checked (``columns``), which
    gives the titles and years too."""

    def __init__(
        self, scholar_id: str, refs: list[SnapshotRef], headers: list[SnapshotHeader], bad: list[BadSnapshot]
    ) -> None:
        self.scholar_id = scholar_id
        self.refs = refs
        self.headers = headers
        self.bad = bad
        self.read: dict[int, dict[str, int | None] | None] = {}
        self.titles: dict[str, tuple[int, str, int | None]] = {}
        """Each publication's title and year as of the newest snapshot read that has it, for the
        snapshots read whole (``columns``)."""

    def use_record(self, index: int, record: AuthorRecord) -> None:
        """The snapshot at ``index``, already read whole."""
        self.read[index] = {p.author_pub_id: p.citations for p in record.publications}
        for p in record.publications:
            self._title(index, p.author_pub_id, p.title, p.year)

    def _title(self, index: int, pub_id: str, title: str, year: int | None) -> None:
        known = self.titles.get(pub_id)
        if known is None or known[0] < index:
            self.titles[pub_id] = (index, title, year)

    def columns(self, index: int) -> dict[str, int | None] | None:
        """The snapshot at ``index`` read whole, checked as ``record_from_dict`` checks it."""
        pubs: PublicationColumns | None = read_publications_or_none(self.refs[index], bad=self.bad)
        counts: dict[str, int | None] | None = None
        if pubs is not None and pubs.scholar_id == self.scholar_id:
            counts = dict(zip(pubs.author_pub_ids, pubs.citations, strict=True))
            for pub_id, title, year in zip(pubs.author_pub_ids, pubs.titles, pubs.years, strict=True):
                self._title(index, pub_id, title, year)
        self.read[index] = counts
        return counts

    def get(self, index: int) -> dict[str, int | None] | None:
        if index in self.read:
            return self.read[index]
        try:
            data = read_bounded(self.refs[index].file, limit=MAX_SNAPSHOT_BYTES)
        except (OSError, StorageError):
            return self.columns(index)  # which says why it cannot be read
        # Its header was read and checked (the author, the count): only the list is left.
        counts = citations_by_id(data, self.headers[index].publication_count)
        if counts is None:
            return self.columns(index)
        self.read[index] = counts
        return counts

    def pin_changes(self, low: int, high: int) -> None:
        """Read snapshots between ``low`` and ``high`` until every change of the set of
        publications between two read snapshots is between neighbours."""
        todo = [(low, high)]
        while todo:
            a, b = todo.pop()
            if b - a < 2:
                continue
            first, second = self.get(a), self.get(b)
            if first is None or second is None or first.keys() == second.keys():
                continue
            middle = (a + b) // 2
            # An unreadable middle gives way to the next readable one.
            while middle < b and self.get(middle) is None:
                middle += 1
            if middle >= b:
                continue
            todo.extend([(a, middle), (middle, b)])


def _spark_indexes(times: list[float], points: int) -> list[int]:
    """About ``points`` snapshots evenly spread in time, the first and the newest included."""
    if not times:
        return []
    start, end = times[0], times[-1]
    if len(times) <= points or end <= start:
        return list(range(len(times)))
    chosen = {len(times) - 1}
    for k in range(points):
        target = start + (end - start) * k / (points - 1)
        chosen.add(max(0, bisect.bisect_right(times, target) - 1))
    return sorted(chosen)


def load_author(
    data_dir: Path, scholar_id: str, *, as_of: datetime, spark_points: int = SPARK_POINTS, quiet: bool = False
) -> AuthorHistory:
    """Read what the dashboard shows of one author (see the module's docstring for what is read).

    Snapshots taken after ``as_of`` are left out; the history's ``as_of`` is the
    time of the newest snapshot kept (``as_of`` itself when there is none).
    """
    bad: list[BadSnapshot] = []
    refs = snapshot_refs(data_dir, scholar_id, bad, quiet=quiet)
    refs = [r for r in refs if r.time <= as_of] if refs and refs[-1].time > as_of else refs
    # The per-year histogram is shown of the newest snapshot only: the others' are not read.
    reader = HeaderReader(scholar_id, count=True, years=False, bad=bad, quiet=quiet)
    reader.prefetch(refs)
    kept_refs: list[SnapshotRef] = []
    headers: list[SnapshotHeader] = []
    for ref in refs:
        header = reader.read(ref)
        if header is not None:
            kept_refs.append(ref)
            headers.append(header)
    if headers:
        newest = HeaderReader(scholar_id, count=True, bad=bad, quiet=quiet).read(kept_refs[-1])
        # Read a moment ago, it can hardly fail now; if it does, the page shows no histogram.
        if newest is not None:
            headers[-1] = newest
    # The name's time orders the files (and so the search by time); fetched_at is what is shown.
    times = [r.time.timestamp() for r in kept_refs]
    history = AuthorHistory(
        scholar_id=scholar_id,
        # The page counts back from the newest snapshot, so that it changes only when the data does.
        as_of=kept_refs[-1].time if kept_refs else as_of,
        headers=headers,
        times=times,
        publications=[],
        spark_indexes=_spark_indexes(times, spark_points),
        stale=read_stale(data_dir, scholar_id),
        bad=bad,
    )
    if headers:
        try:
            history.newest = read_snapshot(Path(kept_refs[-1].file))
        except StorageError as exc:
            # Its header was read; without the rest the page lacks only the links' details.
            log.warning("%s", exc)
        _load_publications(history, kept_refs)
    return history


def _read_publications(history: AuthorHistory, refs: list[SnapshotRef]) -> _PublicationReader:
    """The snapshots the page needs, read (see the module's docstring for which)."""
    headers = history.headers
    last = len(headers) - 1
    pubs = _PublicationReader(history.scholar_id, refs, headers, history.bad)
    if history.newest is not None:
        pubs.use_record(last, history.newest)
    wanted = set(history.spark_indexes) | {0, last}
    for days in WINDOWS:
        index = history.index_at(history.as_of - timedelta(days=days))
        if index is not None:
            wanted.add(index)
    for i in range(1, len(headers)):
        if headers[i].publication_count != headers[i - 1].publication_count:
            wanted.update((i - 1, i))
    for index in sorted(wanted):
        pubs.get(index)
    readable = [i for i in sorted(pubs.read) if pubs.read[i] is not None]
    for a, b in itertools.pairwise(readable):
        pubs.pin_changes(a, b)
    history.snapshots_read = len(pubs.read)
    return pubs


def _seen(
    pubs: _PublicationReader,
) -> tuple[list[int], dict[str, int], dict[str, int], dict[str, int]]:
    """The snapshots read, and where each publication was first seen, last seen and gone."""
    order = [i for i in sorted(pubs.read) if pubs.read[i] is not None]
    first_seen: dict[str, int] = {}
    last_seen: dict[str, int] = {}
    gone_at: dict[str, int] = {}
    # Runs of snapshots with the same publications are looked at by their ends only.
    previous: KeysView[str] | None = None
    previous_index = -1
    for index in order:
        keys = (pubs.read[index] or {}).keys()
        if previous is not None and keys == previous:
            previous_index = index
            continue
        if previous is not None:
            last_seen.update(dict.fromkeys(previous, previous_index))
            for pub_id in previous - keys:
                gone_at[pub_id] = index
        for pub_id in keys:
            first_seen.setdefault(pub_id, index)
        previous, previous_index = keys, index
    if previous is not None:
        last_seen.update(dict.fromkeys(previous, previous_index))
    return order, first_seen, last_seen, gone_at


def _load_publications(history: AuthorHistory, refs: list[SnapshotRef]) -> None:
    headers = history.headers
    pubs = _read_publications(history, refs)
    window_index = {days: history.index_at(history.as_of - timedelta(days=days)) for days in WINDOWS}
    # Titles and years as of the last snapshot that has each publication: that one is read whole
    # where only its citations were (the newest was read whole already).  One that cannot be read
    # whole counts as unreadable, as it would for a reader of every snapshot.
    while True:
        order, first_seen, last_seen, gone_at = _seen(pubs)
        untitled = {i for pub_id, i in last_seen.items() if pubs.titles.get(pub_id, (-1,))[0] != i}
        if not untitled:
            break
        for index in sorted(untitled):
            pubs.columns(index)
    if not order:
        return
    newest_index = order[-1]
    newest = pubs.read[newest_index] or {}
    spark_read = [i for i in history.spark_indexes if pubs.read.get(i) is not None]
    if newest_index not in spark_read:
        spark_read.append(newest_index)
    spark_counts = [(i, pubs.read[i] or {}) for i in spark_read]
    window_counts = {days: pubs.read.get(i) if i is not None else None for days, i in window_index.items()}
    rows = []
    for pub_id in first_seen:
        _, title, year = pubs.titles[pub_id]
        present = pub_id in newest
        citations = newest.get(pub_id) if present else (pubs.read[last_seen[pub_id]] or {}).get(pub_id)
        changes: dict[int, int | None] = {}
        for days, then in window_counts.items():
            old = then.get(pub_id) if then is not None else None
            changes[days] = None if not present or old is None or citations is None else citations - old
        rows.append(
            PublicationRow(
                author_pub_id=pub_id,
                title=title,
                year=year,
                citations=citations,
                first_seen=headers[first_seen[pub_id]].date_text,
                last_seen=headers[last_seen[pub_id]].date_text,
                vanished=None if present else headers[gone_at[pub_id]].date_text,
                changes=changes,
                spark=[(i, counts[pub_id]) for i, counts in spark_counts if pub_id in counts],
            )
        )
    # Scholar's own order: most cited first; vanished ones after the present ones.
    rows.sort(
        key=lambda r: (r.vanished is not None, -(r.citations or 0), r.title.casefold(), r.author_pub_id)
    )
    history.publications = rows
