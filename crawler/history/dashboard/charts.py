"""Charts drawn on the server as inline SVG: readable with JavaScript off, styled by the page.

Colours come from CSS classes (``line-0``, ``bar``, ``switch``, ``stale``) so
the light and dark schemes apply to the charts too.  Every text from the data
goes through ``escape``; numbers are formatted here.  A chart is an
``<svg role="img">`` with a ``<title>`` and a ``<desc>`` in words; the page
puts the numbers beside it in a table.

A line over 3,650 daily snapshots has more points than the chart has pixels:
the path keeps, for each pixel column, the value at its end (the series are
steps: a value holds until the next snapshot), so the line looks the same and
the file stays small.  The exact numbers are in the tables and the tooltips.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from markupsafe import Markup, escape

WIDTH = 720
HEIGHT = 240
LEFT = 56
RIGHT = 12
TOP = 12
BOTTOM = 28


@dataclass(frozen=True)
class Line:
    label: str
    points: Sequence[tuple[float, int | None]]
    """(UTC seconds since the epoch, value); ``None`` breaks the line."""


@dataclass(frozen=True)
class Marker:
    time: float
    label: str


@dataclass(frozen=True)
class Band:
    start: float
    end: float
    label: str


def _n(value: float) -> str:
    """A coordinate to the nearest unit: a pixel of the chart at its natural size (and ten
    thousand of them per page, so the cheapest form)."""
    return str(round(value))


def number(value: int | None) -> str:
    return "—" if value is None else f"{value:,}"


def signed(value: int | None) -> str:
    if value is None:
        return "—"
    return f"+{value:,}" if value > 0 else f"{value:,}".replace("-", "−")


def _day(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d")


def nice_ticks(low: float, high: float, count: int = 4) -> list[float]:
    """Round values from ``low`` up to the first one at or above ``high``, about ``count`` steps."""
    if high <= low:
        high = low + 1
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.floor(low / step)
    last = math.ceil(high / step - 1e-9)
    return [round(k * step, 10) for k in range(first, last + 1)]


def _time_ticks(t0: float, t1: float) -> list[tuple[float, str]]:
    start = datetime.fromtimestamp(t0, UTC)
    end = datetime.fromtimestamp(t1, UTC)
    years = end.year - start.year
    ticks = []
    if years >= 2:
        step = max(1, math.ceil(years / 8))
        for year in range(start.year + 1, end.year + 1, step):
            ticks.append((datetime(year, 1, 1, tzinfo=UTC).timestamp(), str(year)))
    else:
        month = start.month + 1
        year = start.year
        months = (end.year - start.year) * 12 + end.month - start.month
        step = max(1, math.ceil(months / 6))
        while True:
            if month > 12:
                month -= 12
                year += 1
            when = datetime(year, month, 1, tzinfo=UTC)
            if when.timestamp() > t1:
                break
            ticks.append((when.timestamp(), when.strftime("%b %Y")))
            month += step
    return ticks


class _Frame:
    def __init__(self, t0: float, t1: float, v0: float, v1: float, width: int, height: int) -> None:
        self.t0, self.t1 = t0, (t1 if t1 > t0 else t0 + 86400)
        self.v0, self.v1 = v0, (v1 if v1 > v0 else v0 + 1)
        self.width, self.height = width, height
        self.x0, self.x1 = LEFT, width - RIGHT
        self.y0, self.y1 = height - BOTTOM, TOP

    def x(self, t: float) -> float:
        return self.x0 + (t - self.t0) / (self.t1 - self.t0) * (self.x1 - self.x0)

    def y(self, v: float) -> float:
        return self.y0 + (v - self.v0) / (self.v1 - self.v0) * (self.y1 - self.y0)


def _step_path(
    points: Iterable[tuple[Any, int | None]],
    columns: dict[Any, tuple[int, str]],
    x: Callable[[Any], float],
    y: tuple[float, float, float, float],
    end_x: str,
) -> str:
    """An SVG path of a step line through ``points`` (``(key, value)``; ``None`` breaks the line),
    carried on to ``end_x``: one vertex pair per pixel column at most.  ``columns`` keeps each
    key's pixel column and x as written, for the next line over the same axis (``x(key)`` works
    one out); ``y`` is ``(y0, v0, span_v, span_y)``: a value's y is ``y0 + (v - v0) / span_v *
    span_y``.  One pass, no call a point: a ten-year author's page draws some 40,000 of them."""
    y0, v0, span_v, span_y = y
    rows: dict[int, str] = {}
    parts: list[str] = []
    last_col: int | None = None
    last_y: str | None = None
    pending: tuple[str, str] | None = None
    drawing = False
    for key, v in points:
        if v is None:
            if pending is not None and drawing:
                parts.append(f"H{pending[0]}")
            drawing, pending, last_col = False, None, None
            continue
        column = columns.get(key)
        if column is None:
            px = x(key)
            column = columns[key] = (int(px), str(round(px)))
        col, sx = column
        sy = rows.get(v)
        if sy is None:
            sy = rows[v] = str(round(y0 + (v - v0) / span_v * span_y))
        if not drawing:
            parts.append(f"M{sx} {sy}")
            drawing, last_col, last_y, pending = True, col, sy, None
        elif col == last_col:
            # Same pixel column: only the newest value of the column is drawn.
            pending = (sx, sy)
        else:
            if pending is not None and pending[1] != last_y:
                parts.append(f"H{pending[0]}V{pending[1]}")
                last_y = pending[1]
            if sy != last_y:
                parts.append(f"H{sx}V{sy}")
                last_y = sy
            last_col, pending = col, None
    if drawing:
        if pending is not None and pending[1] != last_y:
            parts.append(f"H{pending[0]}V{pending[1]}")
        parts.append(f"H{end_x}")
    return "".join(parts)


def line_chart(
    lines: Sequence[Line],
    *,
    title: str,
    desc: str,
    t0: float,
    t1: float,
    markers: Sequence[Marker] = (),
    bands: Sequence[Band] = (),
    series_id: str | None = None,
    keys: Sequence[str] = (),
    width: int = WIDTH,
    height: int = HEIGHT,
) -> Markup:
    """A step chart of ``lines`` over [t0, t1], with source switches and stale periods marked.

    ``series_id`` and ``keys`` tell the page's script which data block and
    which of its series to show in a tooltip.
    """
    values = [v for line in lines for _, v in line.points if v is not None]
    low = 0.0
    high = float(max(values)) if values else 1.0
    ticks = nice_ticks(low, high)
    frame = _Frame(t0, t1, low, max(ticks[-1], high), width, height)
    out = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}"'
        f' data-t0="{_n(frame.t0)}" data-t1="{_n(frame.t1)}" data-x0="{frame.x0}" data-x1="{frame.x1}"'
        + (f' data-series="{escape(series_id)}" data-keys="{escape(",".join(keys))}"' if series_id else "")
        + ">",
        f"<title>{escape(title)}</title><desc>{escape(desc)}</desc>",
    ]
    for band in bands:
        bx0, bx1 = max(frame.x(band.start), frame.x0), min(frame.x(band.end), frame.x1)
        if bx1 > bx0:
            out.append(
                f'<rect class="stale" x="{_n(bx0)}" y="{frame.y1}" width="{_n(max(bx1 - bx0, 2))}" '
                f'height="{frame.y0 - frame.y1}"><title>{escape(band.label)}</title></rect>'
            )
    for value in ticks:
        y = _n(frame.y(value))
        out.append(f'<line class="grid" x1="{frame.x0}" x2="{frame.x1}" y1="{y}" y2="{y}"/>')
        out.append(
            f'<text class="tick" x="{frame.x0 - 6}" y="{y}" text-anchor="end" '
            f'dy="4">{number(int(value))}</text>'
        )
    for when, label in _time_ticks(frame.t0, frame.t1):
        x = _n(frame.x(when))
        out.append(f'<line class="axis" x1="{x}" x2="{x}" y1="{frame.y0}" y2="{frame.y0 + 4}"/>')
        # A label at either end would stick out of the chart: it is aligned to that end instead.
        px = frame.x(when)
        anchor = "end" if px > width - 30 else "start" if px < 30 else "middle"
        out.append(
            f'<text class="tick" x="{x}" y="{frame.y0 + 17}" text-anchor="{anchor}">{escape(label)}</text>'
        )
    out.append(f'<line class="axis" x1="{frame.x0}" x2="{frame.x1}" y1="{frame.y0}" y2="{frame.y0}"/>')
    for marker in markers:
        x = _n(frame.x(marker.time))
        out.append(
            f'<line class="switch" x1="{x}" x2="{x}" y1="{frame.y1}" y2="{frame.y0}">'
            f"<title>{escape(marker.label)}</title></line>"
        )
    end_x = _n(frame.x(t1))
    columns: dict[float, tuple[int, str]] = {}
    scale = (frame.y0, frame.v0, frame.v1 - frame.v0, frame.y1 - frame.y0)
    for index, line in enumerate(lines):
        path = _step_path(line.points, columns, frame.x, scale, end_x)
        if path:
            out.append(
                f'<path class="line line-{index}" d="{path}"><title>{escape(line.label)}</title></path>'
            )
    out.append("</svg>")
    return Markup("".join(out))


class Sparklines:
    """Tiny lines over one span [t0, t1] (the same for every row, so rows compare), drawn many
    at a time: each point is ``(index into times, value)``, and each time's column is worked out
    once for all the lines."""

    def __init__(
        self, t0: float, t1: float, *, times: Sequence[float], width: int = 120, height: int = 28
    ) -> None:
        self.t0, self.span_t, self.times = t0, (t1 - t0) or 1.0, times
        self.width, self.height = width, height
        self.columns: dict[int, tuple[int, str]] = {}
        self.end = _n(self._x(t1))

    def _x(self, t: float) -> float:
        return 1 + (t - self.t0) / self.span_t * (self.width - 2)

    def _x_of(self, index: int) -> float:
        return self._x(self.times[index])

    def draw(self, points: Sequence[tuple[int, int | None]], *, label: str) -> Markup:
        width, height = self.width, self.height
        values = [v for _, v in points if v is not None]
        if not values:
            return Markup(
                f'<svg class="spark" viewBox="0 0 {width} {height}" role="img" '
                f'aria-label="{escape(label)}"></svg>'
            )
        # No text inside: the line may stretch to whatever box the page gives it.
        return Markup(
            f'<svg class="spark" viewBox="0 0 {width} {height}" preserveAspectRatio="none" role="img" '
            f'aria-label="{escape(label)}">'
            f'<path class="line line-0" d="{self._path(points, min(values), max(values))}"/></svg>'
        )

    def _path(self, points: Sequence[tuple[int, int | None]], low: int, high: int) -> str:
        # The y of a value is bottom - (v - low) / span * inner, written as _step_path's sum.
        scale = (self.height - 2, low, (high - low) or 1, -(self.height - 4))
        return _step_path(points, self.columns, self._x_of, scale, self.end)


def sparkline(
    points: Sequence[tuple[float, int | None]],
    t0: float,
    t1: float,
    *,
    label: str,
    width: int = 120,
    height: int = 28,
) -> Markup:
    """A tiny line of ``points`` over [t0, t1] (the same span for every row, so rows compare)."""
    times = [t for t, _ in points]
    lines = Sparklines(t0, t1, times=times, width=width, height=height)
    return lines.draw([(i, v) for i, (_, v) in enumerate(points)], label=label)


def bar_chart(
    bars: Sequence[tuple[int, int]], *, title: str, desc: str, width: int = WIDTH, height: int = 200
) -> Markup:
    """Scholar's citations-per-year histogram: one bar per year, its value in its tooltip."""
    out = [
        f'<svg class="chart bars" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title><desc>{escape(desc)}</desc>",
    ]
    if bars:
        years = list(range(bars[0][0], bars[-1][0] + 1))
        by_year = dict(bars)
        high = max(by_year.values()) or 1
        ticks = nice_ticks(0, high)
        top = max(ticks[-1], high)
        x0, x1, y0, y1 = LEFT, width - RIGHT, height - BOTTOM, TOP
        slot = (x1 - x0) / len(years)
        for value in ticks:
            y = _n(y0 - value / top * (y0 - y1))
            out.append(f'<line class="grid" x1="{x0}" x2="{x1}" y1="{y}" y2="{y}"/>')
            out.append(
                f'<text class="tick" x="{x0 - 6}" y="{y}" text-anchor="end" '
                f'dy="4">{number(int(value))}</text>'
            )
        label_every = max(1, math.ceil(len(years) / 12))
        for i, year in enumerate(years):
            value = by_year.get(year, 0)
            h = value / top * (y0 - y1)
            x = x0 + i * slot + slot * 0.15
            out.append(
                f'<rect class="bar" x="{_n(x)}" y="{_n(y0 - h)}" width="{_n(slot * 0.7)}" height="{_n(h)}">'
                f"<title>{year}: {number(value)}</title></rect>"
            )
            if i % label_every == 0 or i == len(years) - 1:
                out.append(
                    f'<text class="tick" x="{_n(x + slot * 0.35)}" y="{y0 + 17}" '
                    f'text-anchor="middle">{year}</text>'
                )
        out.append(f'<line class="axis" x1="{x0}" x2="{x1}" y1="{y0}" y2="{y0}"/>')
    out.append("</svg>")
    return Markup("".join(out))


def day(seconds: float) -> str:
    return _day(seconds)


# A phone's copy of each chart: drawn at about a phone's width, so that its text is 11 px as shown.
PHONE_WIDTH = 340


PHONE_HEIGHT = 220


def script_json(value: Any) -> str:
    """JSON safe inside ``<script type="application/json">``: no ``<``, ``>`` or ``&`` to end it early."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def deltas(values: list[Any]) -> list[Any]:
    """Each number as its difference from the previous number (``None`` kept): small JSON."""
    out: list[Any] = []
    base: float = 0
    for value in values:
        if value is None:
            out.append(None)
            continue
        out.append(value - base)
        base = value
    return out


def axis_end(as_of: datetime) -> float:
    """Where the time axes end: the end of ``as_of``'s UTC day.  Not ``as_of`` itself,
    so that two builds on one day with the same data give the same bytes."""
    return (as_of.timestamp() // 86400 + 1) * 86400
