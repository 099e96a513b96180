"""A picture of one author's history: total citations over time, and the per-year bars.

The two panels answer different questions and are kept apart on purpose:
the line is how the total grew, snapshot by snapshot; the bars are Scholar's
own histogram from the latest snapshot, citations *received in* each year.
A change of source (Scholar to OpenAlex, say) starts a new line, because
totals from two sources are not one series.

Drawn with matplotlib's object API on the Agg canvas (no display, no global
pyplot state), so it runs headless and in threads.
"""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path

from matplotlib import rc_context
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from crawler.errors import UsageError
from crawler.history.snapshots import HeaderReader, SnapshotHeader, author_ids, resolve_authors
from crawler.sources import source_label
from crawler.storage.store import BadSnapshot, atomic_write_bytes, snapshot_refs

PLOT_FORMATS = {".png": "png", ".svg": "svg"}
LINE_COLOR = "#1f77b4"
BAR_COLOR = "#7f9fbf"


def pick_author(data_dir: Path, author: str | None) -> str:
    """``author`` (checked), or the only author in the data folder."""
    if author:
        return resolve_authors(data_dir, [author])[0]
    authors = author_ids(data_dir)
    if len(authors) == 1:
        return authors[0]
    if not authors:
        raise UsageError(f"no author in {data_dir}: nothing to plot")
    raise UsageError(f"{len(authors)} authors in {data_dir}; pass --author (one of {', '.join(authors)})")


def author_history(
    data_dir: Path, scholar_id: str, bad: list[BadSnapshot] | None = None
) -> list[SnapshotHeader]:
    """Headers of every readable snapshot of the author, oldest first."""
    reader = HeaderReader(scholar_id, count=False, bad=bad)
    refs = snapshot_refs(data_dir, scholar_id, bad)
    reader.prefetch(refs)
    return [h for h in map(reader.read, refs) if h is not None]


def _series(history: list[SnapshotHeader]) -> list[tuple[str, list[datetime], list[int]]]:
    """Runs of consecutive snapshots from one source: (source, dates, total citations)."""
    runs: list[tuple[str, list[datetime], list[int]]] = []
    for header in history:
        if header.metrics.citations is None:
            continue
        if not runs or runs[-1][0] != header.source:
            runs.append((header.source, [], []))
        runs[-1][1].append(header.date)
        runs[-1][2].append(header.metrics.citations)
    return runs


def history_figure(data_dir: Path, scholar_id: str, bad: list[BadSnapshot] | None = None) -> Figure:
    """The figure for ``scholar_id``: axes[0] the totals (one line per source run), axes[1] the bars."""
    history = author_history(data_dir, scholar_id, bad)
    if not history:
        raise UsageError(f"no snapshots of {scholar_id} in {data_dir}: nothing to plot")
    latest = history[-1]
    figure = Figure(figsize=(9, 7.5), layout="constrained")
    FigureCanvasAgg(figure)
    totals, bars = figure.subplots(2, 1, height_ratios=(3, 2))
    label = source_label(latest.source)
    figure.suptitle(f"{latest.name} ({scholar_id}): citations, source {label}", fontsize=13)

    runs = _series(history)
    sources = {source for source, _, _ in runs}
    for source, dates, counts in runs:
        totals.plot(
            dates,
            counts,
            marker="o" if len(dates) < 60 else None,
            markersize=3,
            linewidth=1.6,
            color=LINE_COLOR if len(sources) == 1 else None,
            label=source_label(source),
        )
    if len(sources) > 1:
        totals.legend(title="source", loc="upper left")
    locator = AutoDateLocator()
    totals.xaxis.set_major_locator(locator)
    totals.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    totals.yaxis.set_major_locator(MaxNLocator(integer=True))
    totals.set_title(
        f"Total citations over time ({len(history)} snapshot{'s' if len(history) != 1 else ''}, "
        f"last {latest.date_text})",
        fontsize=10,
    )
    totals.set_xlabel("snapshot date (UTC)")
    totals.set_ylabel("total citations")
    totals.grid(True, alpha=0.3)
    if not runs:
        totals.text(
            0.5,
            0.5,
            "no citation totals in the snapshots",
            ha="center",
            va="center",
            transform=totals.transAxes,
        )

    years = [year for year, _ in latest.cites_per_year]
    counts = [count for _, count in latest.cites_per_year]
    container = bars.bar(years, counts, color=BAR_COLOR, width=0.8)
    if 0 < len(years) <= 30:
        bars.bar_label(container, fontsize=7, padding=2)
    bars.set_title(
        f"Citations received per year (histogram of the snapshot of {latest.date_text})", fontsize=10
    )
    bars.set_xlabel("year")
    bars.set_ylabel("citations in that year")
    bars.xaxis.set_major_locator(MaxNLocator(integer=True))
    bars.yaxis.set_major_locator(MaxNLocator(integer=True))
    bars.grid(True, axis="y", alpha=0.3)
    bars.margins(y=0.12)
    if not years:
        bars.text(
            0.5,
            0.5,
            "no per-year histogram in the latest snapshot",
            ha="center",
            va="center",
            transform=bars.transAxes,
        )
    return figure


def plot_format(out: Path) -> str:
    fmt = PLOT_FORMATS.get(Path(out).suffix.lower())
    if fmt is None:
        raise UsageError(f"--out must end in .png or .svg, not {out}")
    return fmt


def render(figure: Figure, fmt: str) -> bytes:
    """The figure's bytes; the same history gives the same file (no dates or random IDs inside)."""
    buffer = io.BytesIO()
    metadata = {"Date": None} if fmt == "svg" else {}
    # A fixed salt keeps SVG element IDs the same from run to run.
    with rc_context({"svg.hashsalt": "scholar-stats"}):
        figure.savefig(buffer, format=fmt, dpi=120, metadata=metadata)
    return buffer.getvalue()


def write_plot(data_dir: Path, scholar_id: str, out: Path, bad: list[BadSnapshot] | None = None) -> Path:
    """Draw ``scholar_id``'s history into ``out`` (``.png`` or ``.svg``), atomically."""
    fmt = plot_format(out)
    atomic_write_bytes(Path(out), render(history_figure(data_dir, scholar_id, bad), fmt))
    return Path(out)
