"""The dashboard's index page: the group's totals over time (each paper counted once) and a card
per author."""

from __future__ import annotations

import bisect
from datetime import UTC, datetime
from typing import Any

from crawler.history.dashboard import charts
from crawler.history.dashboard.charts import PHONE_HEIGHT, PHONE_WIDTH, axis_end, deltas, script_json
from crawler.history.dashboard.timeline import WINDOWS
from crawler.models import format_time


def group_totals(series: list[list[tuple[float, int | None]]]) -> list[tuple[float, int]]:
    """The sum of every author's newest known citations at each time any of them changed.

    An author counts from their first snapshot on; a snapshot without a total
    keeps the author's previous one.
    """
    events: list[tuple[float, int, int]] = []
    for author, points in enumerate(series):
        for t, value in points:
            if value is not None:
                events.append((t, author, value))
    events.sort()
    current: dict[int, int] = {}
    total = 0
    out: list[tuple[float, int]] = []
    for t, author, value in events:
        total += value - current.get(author, 0)
        current[author] = value
        if out and out[-1][0] == t:
            out[-1] = (t, total)
        else:
            out.append((t, total))
    return out


def daily(points: list[tuple[float, int]]) -> list[tuple[float, int]]:
    """The last point of each UTC day: 3,650 points for ten years, whatever the number of authors."""
    if not points:
        return []
    days = [int(t // 86400) for t, _ in points]
    return [
        point
        for point, day, following in zip(points, days, [*days[1:], None], strict=True)
        if day != following
    ]


def index_context(cards: list[dict[str, Any]], title: str, as_of: datetime) -> dict[str, Any]:
    times = [t for card in cards for t, _ in card["series"][:1]] + [
        t for card in cards for t, _ in card["series"][-1:]
    ]
    t0 = min(times) if times else as_of.timestamp()
    t1 = max(max(times) if times else t0, axis_end(as_of))
    for card in cards:
        card["spark_svg"] = charts.sparkline(
            card["spark"], t0, max(times) if times else t0, label=f"citations of {card['name']} over time"
        )
    group = None
    if len(cards) > 1:
        totals = daily(group_totals([card["series"] for card in cards]))
        group = {
            "chart": {
                name: charts.line_chart(
                    [charts.Line("Citations, all authors", totals)],
                    title="Citations of the group over time",
                    desc=(
                        f"The sum of the {len(cards)} authors' citations went from "
                        f"{charts.number(totals[0][1])} on {charts.day(totals[0][0])} "
                        f"to {charts.number(totals[-1][1])} on {charts.day(totals[-1][0])}."
                        if totals
                        else "No citations recorded."
                    ),
                    t0=t0,
                    t1=t1,
                    series_id="group",
                    keys=("total",),
                    width=width,
                    height=height,
                )
                for name, (width, height) in (
                    ("wide", (charts.WIDTH, charts.HEIGHT)),
                    ("narrow", (PHONE_WIDTH, PHONE_HEIGHT)),
                )
            },
            "block": script_json(
                {
                    "t": deltas([int(t) for t, _ in totals]),
                    "v": {"total": deltas([v for _, v in totals])},
                    "labels": {"total": "Citations, all authors"},
                    "sources": [],
                }
            ),
            "latest": totals[-1][1] if totals else None,
            "yearly": _yearly(totals),
        }
    return {"title": title, "cards": cards, "as_of": format_time(as_of), "group": group, "windows": WINDOWS}


def _yearly(totals: list[tuple[float, int]]) -> list[tuple[str, int]]:
    """The group's total at the end of each year (and now): the chart's text alternative."""
    if not totals:
        return []
    times = [t for t, _ in totals]
    rows = []
    first, last = (int(charts.day(t)[:4]) for t in (times[0], times[-1]))
    for year in range(first, last + 1):
        # The last point before the next year begins, if the year has one.
        end = bisect.bisect_left(times, datetime(year + 1, 1, 1, tzinfo=UTC).timestamp())
        if end and times[end - 1] >= datetime(year, 1, 1, tzinfo=UTC).timestamp():
            t, value = totals[end - 1]
            rows.append((charts.day(t), value))
    return rows
