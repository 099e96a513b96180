"""``gs_history.json``: change points only, equal to the snapshots, kept current by one append,
rebuilt when the snapshots say otherwise."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from crawler.models import AuthorRecord, Metrics, Profile, Publication
from crawler.outputs.badges import BadgeStyle
from crawler.outputs.gs_history import HISTORY_FILE, History, build_history, history_bytes, write_history
from crawler.outputs.write import write_outputs
from crawler.storage.store import AuthorStore

A = "aaaaaaaaaaaA"
START = datetime(2025, 3, 1, 6, 0, tzinfo=UTC)


def record(
    when: datetime, counts: dict[str, int | None], *, total: int | None = None, source: str = "scholar"
) -> AuthorRecord:
    return AuthorRecord(
        profile=Profile(A, "Ada"),
        metrics=Metrics(
            sum(c or 0 for c in counts.values()) if total is None else total, None, 2, None, 1, None, None
        ),
        publications=tuple(Publication(f"{A}:{k}", k.upper(), citations=v) for k, v in counts.items()),
        source=source,
        fetched_at=when,
    )


def decode(flat: list[int]) -> list[tuple[int, int]]:
    points, day, value = [], 0, 0
    for i in range(0, len(flat), 2):
        day, value = day + flat[i], value + flat[i + 1]
        points.append((day, value))
    return points


def value_on(points: list[tuple[int, int]], day: int) -> int | None:
    known = [v for d, v in points if d <= day]
    return known[-1] if known else None


def series(data: Path) -> list[AuthorRecord]:
    store = AuthorStore(data, A)
    return [store.read_snapshot(p) for p in store.snapshot_paths()]


def test_change_points_equal_the_snapshots(tmp_path: Path) -> None:
    data = tmp_path / "data"
    store = AuthorStore(data, A)
    counts: dict[str, int | None] = {"p1": 10, "p2": 0}
    for day in range(0, 60):
        when = START + timedelta(days=day, hours=day % 3)
        p1 = counts["p1"]
        if day % 4 == 0 and p1 is not None:
            counts["p1"] = p1 + 2
        if day == 20:
            counts["p3"] = 1
        if day == 40:
            del counts["p2"]
        if day == 50:
            counts["p1"] = None
        store.write_snapshot(record(when, dict(counts), source="openalex" if 30 <= day < 33 else "scholar"))
        if day == 10:
            # A second snapshot the same day: the later count is the day's.
            store.write_snapshot(record(when + timedelta(hours=5), {**counts, "p1": counts["p1"] + 1}))  # type: ignore[operator]
    assert write_history(AuthorStore(data, A))
    history = json.loads((data / A / HISTORY_FILE).read_bytes())
    assert history["start"] == "2025-03-01" and history["snapshots"] == 61
    totals = decode(history["citations"])
    # Change points only: never two equal values in a row.
    assert all(a[1] != b[1] for a, b in itertools.pairwise(totals))
    by_day: dict[int, AuthorRecord] = {}
    for r in series(data):
        assert r.fetched_at is not None
        by_day[(r.fetched_at.date() - START.date()).days] = r
    for day, r in by_day.items():
        assert value_on(totals, day) == r.metrics.citations
        for pub in r.publications:
            if pub.citations is not None:
                assert value_on(decode(history["papers"][pub.author_pub_id]), day) == pub.citations
    # A count the snapshot did not give leaves the line where it was.
    assert value_on(decode(history["papers"][f"{A}:p1"]), 59) == by_day[49].publications[0].citations
    assert history["sources"] == [[0, "scholar"], [30, "openalex"], [33, "scholar"]]


def test_one_append_equals_a_rebuild_and_a_rewrite_changes_nothing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    store = AuthorStore(data, A)
    counts = {"p1": 1}
    for day in range(30):
        counts["p1"] += day % 3
        store.write_snapshot(record(START + timedelta(days=day), dict(counts)))
        write_outputs(AuthorStore(data, series(data)[-1].scholar_id), series(data)[-1], BadgeStyle())
    appended = (data / A / HISTORY_FILE).read_bytes()
    rebuilt = build_history(store.snapshot_paths(), A)
    assert rebuilt is not None and history_bytes(rebuilt) == appended
    assert not write_history(AuthorStore(data, A))


def test_a_snapshot_imported_into_the_past_rebuilds(tmp_path: Path) -> None:
    data = tmp_path / "data"
    store = AuthorStore(data, A)
    for day in (0, 10, 20):
        store.write_snapshot(record(START + timedelta(days=day), {"p1": 10 + day}))
    write_history(AuthorStore(data, A))
    store.write_snapshot(record(START + timedelta(days=5), {"p1": 13}))
    assert write_history(AuthorStore(data, A))
    points = decode(json.loads((data / A / HISTORY_FILE).read_bytes())["citations"])
    assert points == [(0, 10), (5, 13), (10, 20), (20, 30)]


def test_an_unreadable_history_or_snapshot_is_rebuilt_around(tmp_path: Path) -> None:
    data = tmp_path / "data"
    store = AuthorStore(data, A)
    paths = [store.write_snapshot(record(START + timedelta(days=d), {"p1": d})) for d in range(5)]
    (data / A / HISTORY_FILE).write_text(
        '{"format": 1, "scholar_id": "aaaaaaaaaaaA", "start": "x"', encoding="utf-8"
    )
    paths[2].write_text("{", encoding="utf-8")
    assert write_history(AuthorStore(data, A))
    history = json.loads((data / A / HISTORY_FILE).read_bytes())
    assert decode(history["citations"]) == [(0, 0), (1, 1), (3, 3), (4, 4)]
    assert history["snapshots"] == 5
    # The unreadable snapshot counts as seen: the next one is appended, not rebuilt.
    store.write_snapshot(record(START + timedelta(days=6), {"p1": 9}))
    assert write_history(AuthorStore(data, A))
    assert decode(json.loads((data / A / HISTORY_FILE).read_bytes())["citations"])[-1] == (6, 9)


def test_history_of_another_author_is_not_extended(tmp_path: Path) -> None:
    data = tmp_path / "data"
    store = AuthorStore(data, A)
    store.write_snapshot(record(START, {"p1": 1}))
    other = History("bbbbbbbbbbbB", START.date())
    (data / A / HISTORY_FILE).write_bytes(history_bytes(other))
    assert write_history(AuthorStore(data, A))
    assert json.loads((data / A / HISTORY_FILE).read_bytes())["scholar_id"] == A


def test_a_same_day_revert_leaves_no_repeated_point(tmp_path: Path) -> None:
    # Day 1 rises and falls back within the day: the day's value is the day before's,
    # so day 1 is no change point at all, in the totals or in a paper's line.
    data = tmp_path / "data"
    store = AuthorStore(data, A)
    store.write_snapshot(record(START, {"p1": 425}))
    store.write_snapshot(record(START + timedelta(days=1), {"p1": 430}))
    store.write_snapshot(record(START + timedelta(days=1, hours=5), {"p1": 425}))
    store.write_snapshot(record(START + timedelta(days=2), {"p1": 431}))
    assert write_history(AuthorStore(data, A))
    history = json.loads((data / A / HISTORY_FILE).read_bytes())
    assert decode(history["citations"]) == [(0, 425), (2, 431)]
    assert decode(history["papers"][f"{A}:p1"]) == [(0, 425), (2, 431)]
    # Built at once or one snapshot at a time, the same.
    built = build_history(AuthorStore(data, A).snapshot_paths(), A)
    assert built is not None and history_bytes(built) == (data / A / HISTORY_FILE).read_bytes()
