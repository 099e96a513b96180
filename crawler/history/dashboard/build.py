"""Write the static dashboard: ``index.html``, one page per author, their exports, and the assets.

Layout of the output folder::

    index.html                   every author as a card; the group's totals over time
    <scholar_id>/index.html      the author's page
    <scholar_id>/metrics.csv     the rows of ``export --what metrics --author <scholar_id>`` (and .json)
    <scholar_id>/publications.csv  the page's publication table (and .json)
    <scholar_id>/years.csv       the per-year histogram of the newest snapshot
    assets/dashboard.css, assets/dashboard.js
    .scholar-stats-site          the files this folder got from the last build

In the data folder (``<data>/site``, the default) it is published with the
data: ``publish`` takes a ``site`` folder that holds the marker.

Nothing is fetched when a page is viewed: the pages link only to each
other, the exports and ``assets/``, and say so to the browser in a
Content-Security-Policy.  Files whose content would not change are not
written; files of an earlier build that this one did not make (an author
who left) are removed, and nothing else.  A folder that is not empty and was
not made by this command is refused, so ``--out .`` cannot overwrite a
homepage.

Each author is read and written by a worker process (as ``export`` does);
the main process only gathers the cards and draws the index.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

from crawler.errors import StorageError, UsageError
from crawler.history.dashboard import charts
from crawler.history.dashboard.timeline import WINDOWS, AuthorHistory, load_author
from crawler.history.export import METRICS_COLUMNS, YEARS_COLUMNS, count_files, default_workers, run_jobs
from crawler.history.snapshots import resolve_authors
from crawler.history.tables import table_bytes
from crawler.models import SCHOLAR_ID_RE, format_time, utc_now
from crawler.sources import source_label
from crawler.storage.readfile import MAX_SETTINGS_BYTES, json_value, read_bounded
from crawler.storage.store import SITE_MARKER, BadSnapshot, remove_file, sync_folders, write_if_changed

log = logging.getLogger(__name__)

MARKER = SITE_MARKER
ASSETS = ("dashboard.css", "dashboard.js")
DEFAULT_TITLE = "Citations"
# A phone's copy of each chart: drawn at about a phone's width, so that its text is 11 px as shown.
PHONE_WIDTH = 340
PHONE_HEIGHT = 220
SCHOLAR = "https://scholar.google.com/citations"
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
# Above this many snapshots in all, authors are read by worker processes.
PARALLEL_MIN_SNAPSHOTS = 2000
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "base-uri 'none'; form-action 'none'"
)


@dataclass
class SiteResult:
    out: Path
    authors: list[str] = field(default_factory=list)
    written: list[str] = field(default_factory=list)
    """Files (relative to ``out``) whose content changed."""
    removed: list[str] = field(default_factory=list)
    bad: list[BadSnapshot] = field(default_factory=list)
    largest_page: int = 0
    """Bytes of the largest author page."""


@dataclass(frozen=True)
class _AuthorJob:
    data_dir: Path
    out: Path
    scholar_id: str
    as_of: datetime
    title: str
    quiet: bool


# -- templates -------------------------------------------------------------------------

_ENV: Any = None


def _env() -> Any:
    global _ENV
    if _ENV is None:
        import jinja2

        _ENV = jinja2.Environment(
            loader=jinja2.PackageLoader("crawler.history.dashboard", "templates"),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        _ENV.filters["number"] = charts.number
        _ENV.filters["signed"] = charts.signed
        _ENV.filters["day"] = lambda text: (text or "")[:10]
        _ENV.filters["trend"] = lambda value: (
            "up" if value is not None and value > 0 else "down" if value is not None and value < 0 else ""
        )
    return _ENV


def _compile_templates() -> None:
    """Compile every template now, in the process the workers are forked from,
    so that they inherit the compiled templates instead of each compiling them."""
    env = _env()
    for name in env.list_templates(extensions=["html"]):
        env.get_template(name)


def _render(template: str, **context: Any) -> bytes:
    page: str = _env().get_template(template).render(csp=CSP, **context)
    return page.encode("utf-8")


def script_json(value: Any) -> str:
    """JSON safe inside ``<script type="application/json">``: no ``<``, ``>`` or ``&`` to end it early."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _deltas(values: list[Any]) -> list[Any]:
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


# -- one author --------------------------------------------------------------------------


def axis_end(as_of: datetime) -> float:
    """Where the time axes end: the end of ``as_of``'s UTC day.  Not ``as_of`` itself,
    so that two builds on one day with the same data give the same bytes."""
    return (as_of.timestamp() // 86400 + 1) * 86400


def _label(source: str) -> str:
    return source_label(source) or source


def _metric_cards(history: AuthorHistory) -> list[dict[str, Any]]:
    latest = history.latest
    if latest is None:
        return []
    m = latest.metrics
    rows = []
    for label, name, since_name in (
        ("Citations", "citations", "citations_since"),
        ("h-index", "h_index", "h_index_since"),
        ("i10-index", "i10_index", "i10_index_since"),
    ):
        rows.append(
            {
                "label": label,
                "key": name,
                "value": getattr(m, name),
                "since": getattr(m, since_name),
                "changes": {days: history.change(name, days) for days in WINDOWS},
            }
        )
    return rows


def _stale_bands(history: AuthorHistory) -> list[charts.Band]:
    stale = history.stale
    if stale is None or not history.headers:
        return []
    start = stale.since or stale.last_attempt
    try:
        began = (
            datetime.fromisoformat(start.replace("Z", "+00:00")).timestamp() if start else history.times[-1]
        )
    except ValueError:
        began = history.times[-1]
    return [charts.Band(began, axis_end(history.as_of), stale_words(history) or "stale")]


def short_day(text: str | None, as_of: datetime) -> str:
    """``2026-12-05T06:00:00Z`` as "5 Dec" (with the year when it is not ``as_of``'s)."""
    try:
        when = datetime.fromisoformat((text or "").replace("Z", "+00:00"))
    except ValueError:
        return (text or "")[:10]
    words = f"{when.day} {when:%b}"
    return words if when.year == as_of.year else f"{words} {when.year}"


def stale_words(history: AuthorHistory) -> str | None:
    """The stale notice for visitors, in words; the fetch error itself is for the maintainer
    (``report``, the step summary), never on the public page."""
    stale = history.stale
    if stale is None:
        return None
    since = stale.since or stale.last_attempt
    sentence = "Google Scholar has not answered"
    sentence += f" since {short_day(since, history.as_of)}" if since else " lately"
    latest = history.latest
    if latest is not None:
        return f"{sentence}; these are the numbers of {short_day(latest.date_text, history.as_of)}."
    return f"{sentence}; no numbers were kept yet."


def profile_url(scholar_id: str) -> str:
    return f"{SCHOLAR}?user={scholar_id}"


def paper_url(scholar_id: str, author_pub_id: str) -> str:
    """The paper's page on Scholar (its citations and versions), as the profile links it."""
    return f"{SCHOLAR}?view_op=view_citation&user={scholar_id}&citation_for_view={author_pub_id}"


def _markers(history: AuthorHistory) -> list[charts.Marker]:
    markers = []
    for i in history.source_switches():
        before, after = history.headers[i - 1], history.headers[i]
        markers.append(
            charts.Marker(
                history.times[i],
                (
                    f"{after.date_text[:10]}: source changed "
                    f"from {_label(before.source)} to {_label(after.source)}"
                ),
            )
        )
    return markers


def _monthly_rows(history: AuthorHistory) -> list[dict[str, Any]]:
    """The newest snapshot of each month: the charts' text alternative."""
    rows: dict[str, dict[str, Any]] = {}
    for header in history.headers:
        m = header.metrics
        rows[header.date_text[:7]] = {
            "date": header.date_text,
            "citations": m.citations,
            "citations_since": m.citations_since,
            "since_year": m.since_year,
            "h_index": m.h_index,
            "i10_index": m.i10_index,
            "source": _label(header.source),
        }
    return list(rows.values())


def _series_block(history: AuthorHistory) -> str:
    """The data block behind the tooltips: every snapshot, times and numbers as differences."""
    headers = history.headers
    data: dict[str, Any] = {
        "t": _deltas([int(t) for t in history.times]),
        "v": {
            name: _deltas([getattr(h.metrics, name) for h in headers])
            for name in ("citations", "citations_since", "h_index", "i10_index", "since_year")
        },
        "labels": {
            "citations": "Citations",
            "citations_since": "Since",
            "h_index": "h-index",
            "i10_index": "i10-index",
        },
        "sources": [
            [i, _label(h.source)]
            for i, h in enumerate(headers)
            if i == 0 or h.source != headers[i - 1].source
        ],
    }
    return script_json(data)


def _author_context(history: AuthorHistory, title: str) -> dict[str, Any]:
    headers = history.headers
    latest = history.latest
    t0 = history.times[0] if headers else history.as_of.timestamp()
    t1 = max(axis_end(history.as_of), history.times[-1] if headers else t0)
    markers, bands = _markers(history), _stale_bands(history)
    since_year = latest.metrics.since_year if latest else None

    def both(draw: Any, *args: Any, **kwargs: Any) -> dict[str, str]:
        """The chart at the page's width and a copy drawn for a phone's."""
        return {
            "wide": draw(*args, **kwargs),
            "narrow": draw(*args, width=PHONE_WIDTH, height=PHONE_HEIGHT, **kwargs),
        }

    citations = both(
        charts.line_chart,
        [
            charts.Line(
                "Citations, all time",
                [(t, h.metrics.citations) for t, h in zip(history.times, headers, strict=True)],
            ),
            charts.Line(
                f"Citations since {since_year}" if since_year else "Citations since year",
                [(t, h.metrics.citations_since) for t, h in zip(history.times, headers, strict=True)],
            ),
        ],
        title=f"Citations of {history.name} over time",
        desc=_describe(history, "citations", "citations"),
        t0=t0,
        t1=t1,
        markers=markers,
        bands=bands,
        series_id="series",
        keys=("citations", "citations_since"),
    )
    indexes = both(
        charts.line_chart,
        [
            charts.Line(
                "h-index", [(t, h.metrics.h_index) for t, h in zip(history.times, headers, strict=True)]
            ),
            charts.Line(
                "i10-index", [(t, h.metrics.i10_index) for t, h in zip(history.times, headers, strict=True)]
            ),
        ],
        title=f"h-index and i10-index of {history.name} over time",
        desc=_describe(history, "h_index", "h-index") + " " + _describe(history, "i10_index", "i10-index"),
        t0=t0,
        t1=t1,
        markers=markers,
        bands=bands,
        series_id="series",
        keys=("h_index", "i10_index"),
    )
    years = list(latest.cites_per_year) if latest else []
    histogram = both(
        charts.bar_chart,
        years,
        title=f"Citations per year of {history.name}, as Scholar shows them",
        desc=", ".join(f"{y}: {charts.number(c)}" for y, c in years) or "no per-year numbers",
    )
    spark_t0, spark_t1 = t0, (history.times[-1] if headers else t0)
    publications = []
    details = {p.author_pub_id: p for p in history.newest.publications} if history.newest else {}
    for row in history.publications:
        spark_points = [(history.times[i], v) for i, v in row.spark]
        publications.append(
            {
                "row": row,
                "url": paper_url(history.scholar_id, row.author_pub_id),
                "details": details.get(row.author_pub_id),
                "spark": charts.sparkline(
                    spark_points,
                    spark_t0,
                    spark_t1,
                    label=f"citations of this publication over time: {_spark_words(history, row.spark)}",
                ),
            }
        )
    return {
        "title": title,
        "history": history,
        "name": history.name,
        "latest": latest,
        "source": _label(latest.source) if latest else None,
        "fallback": bool(latest and latest.source != "scholar"),
        "as_of": format_time(history.as_of),
        "cards": _metric_cards(history),
        "windows": WINDOWS,
        "citations_chart": citations,
        "indexes_chart": indexes,
        "years_chart": histogram,
        "years": years,
        "monthly": _monthly_rows(history),
        "series": _series_block(history),
        "switches": [m.label for m in markers],
        "stale": history.stale,
        "stale_words": stale_words(history),
        "profile_url": profile_url(history.scholar_id),
        "affiliation": history.newest.profile.affiliation if history.newest else None,
        "publications": publications,
        "vanished": sum(1 for r in history.publications if r.vanished),
        "since_year": since_year,
    }


def _describe(history: AuthorHistory, name: str, label: str) -> str:
    values = [
        (h.date_text[:10], getattr(h.metrics, name))
        for h in history.headers
        if getattr(h.metrics, name) is not None
    ]
    if not values:
        return f"No {label} recorded."
    (d0, v0), (d1, v1) = values[0], values[-1]
    if d0 == d1:
        return f"{label.capitalize()}: {charts.number(v1)} on {d1}."
    return f"{label.capitalize()} went from {charts.number(v0)} on {d0} to {charts.number(v1)} on {d1}."


def _spark_words(history: AuthorHistory, spark: list[tuple[int, int | None]]) -> str:
    known = [(history.headers[i].date_text[:10], v) for i, v in spark if v is not None]
    if not known:
        return "no counts"
    if len(known) == 1:
        return f"{charts.number(known[0][1])} on {known[0][0]}"
    return f"{charts.number(known[0][1])} on {known[0][0]}, {charts.number(known[-1][1])} on {known[-1][0]}"


def _exports(history: AuthorHistory) -> dict[str, bytes]:
    headers = history.headers
    metrics: dict[str, list[Any]] = {name: [] for name in METRICS_COLUMNS}
    for h in headers:
        m = h.metrics
        for name, value in zip(
            METRICS_COLUMNS,
            (
                h.date_text,
                history.scholar_id,
                h.name,
                m.citations,
                m.citations_since,
                m.since_year,
                m.h_index,
                m.h_index_since,
                m.i10_index,
                m.i10_index_since,
                h.publication_count,
                h.source,
            ),
            strict=True,
        ):
            metrics[name].append(value)
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


def _card(history: AuthorHistory) -> dict[str, Any]:
    latest = history.latest
    return {
        "scholar_id": history.scholar_id,
        "name": history.name,
        "date": latest.date_text if latest else None,
        "source": _label(latest.source) if latest else None,
        "fallback": bool(latest and latest.source != "scholar"),
        "complete": bool(latest.complete) if latest else True,
        "stale": history.stale,
        "stale_words": stale_words(history),
        "profile_url": profile_url(history.scholar_id),
        "cards": _metric_cards(history),
        "spark": [(history.times[i], history.headers[i].metrics.citations) for i in history.spark_indexes],
        "series": [(t, h.metrics.citations) for t, h in zip(history.times, history.headers, strict=True)],
        "snapshots": len(history.headers),
    }


def _write(out: Path, relative: str, data: bytes, written: list[str]) -> None:
    # Derived files: renamed into place without an fsync each, one per folder after (sync_folders).
    # The output folder is the jail: a link inside it leading out is never written through.
    if write_if_changed(out / relative, data, jail=out, durable=False):
        written.append(relative)


def _author_job(job: _AuthorJob) -> tuple[dict[str, Any], list[str], list[str], list[BadSnapshot], int]:
    history = load_author(job.data_dir, job.scholar_id, as_of=job.as_of, quiet=job.quiet)
    page = _render("author.html", root="../", **_author_context(history, job.title))
    written: list[str] = []
    files = [f"{job.scholar_id}/index.html"]
    _write(job.out, files[0], page, written)
    for name, data in _exports(history).items():
        files.append(f"{job.scholar_id}/{name}")
        _write(job.out, files[-1], data, written)
    sync_folders([job.out / job.scholar_id])
    return _card(history), files, written, history.bad, len(page)


# -- the index and the folder -----------------------------------------------------------


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
    out: list[tuple[float, int]] = []
    for t, value in points:
        if out and int(out[-1][0] // 86400) == int(t // 86400):
            out[-1] = (t, value)
        else:
            out.append((t, value))
    return out


def _index_context(cards: list[dict[str, Any]], title: str, as_of: datetime) -> dict[str, Any]:
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
                    "t": _deltas([int(t) for t, _ in totals]),
                    "v": {"total": _deltas([v for _, v in totals])},
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
    rows: dict[str, tuple[str, int]] = {}
    for t, value in totals:
        rows[charts.day(t)[:4]] = (charts.day(t), value)
    return list(rows.values())


def _check_out(out: Path) -> list[str]:
    """The files of the previous build; refuses a folder that holds anything else."""
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} is a file, not a folder")
    marker = out / MARKER
    if not out.exists():
        return []
    try:
        previous = json_value(read_bounded(marker, limit=MAX_SETTINGS_BYTES, error=UsageError))
    except FileNotFoundError:
        if any(out.iterdir()):
            raise UsageError(
                f"--out {out} is not empty and was not made by `scholar-stats site` (no {MARKER}); "
                "choose a new or empty folder"
            ) from None
        return []
    except (OSError, ValueError) as exc:
        raise StorageError(f"cannot read {marker}: {exc}") from exc
    files = previous.get("files") if isinstance(previous, dict) else None
    return [f for f in files if isinstance(f, str)] if isinstance(files, list) else []


def _remove_old(out: Path, old: list[str], keep: set[str]) -> list[str]:
    removed = []
    root = os.path.abspath(out)
    for relative in old:
        if relative in keep:
            continue
        path = out / relative
        # Only files inside the folder: the marker is data, not a list to trust.
        if not os.path.abspath(path).startswith(root + os.sep):
            continue
        # remove_file refuses a way through a link leading out of the folder (the jail).
        if remove_file(path, jail=out, durable=False):
            removed.append(relative)
            with contextlib.suppress(OSError):
                if path.parent != out and not path.parent.is_symlink():
                    path.parent.rmdir()
    return removed


def build_site(
    data_dir: Path,
    out: Path,
    *,
    title: str | None = None,
    authors: tuple[str, ...] | list[str] = (),
    as_of: datetime | None = None,
    workers: int | None = None,
) -> SiteResult:
    """Write the dashboard of ``authors`` (default: every author in ``data_dir``) to ``out``.

    ``as_of`` is the time the changes over 30 and 365 days are counted back
    from (default: now).  Raises ``UsageError`` for an unknown author or an
    ``out`` that is not ours, ``StorageError`` when a file cannot be written.
    """
    data_dir, out = Path(data_dir), Path(out)
    as_of = (as_of or utc_now()).astimezone(UTC)
    title = title or DEFAULT_TITLE
    ids = resolve_authors(data_dir, authors)
    odd = [a for a in ids if not SCHOLAR_ID_RE.match(a)]
    for folder in odd:
        log.warning("%s: not a Scholar ID (12 letters, digits, - or _); no page made", folder)
    ids = [a for a in ids if SCHOLAR_ID_RE.match(a)]
    old = _check_out(out)
    result = SiteResult(out=out, authors=ids)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StorageError(f"cannot make {out}: {exc.strerror or exc}") from exc
    total = sum(count_files(data_dir, a) for a in ids)
    n_workers = (workers or default_workers("metrics")) if total >= PARALLEL_MIN_SNAPSHOTS else 1
    quiet = n_workers > 1
    jobs = [_AuthorJob(data_dir, out, a, as_of, title, quiet) for a in ids]
    _compile_templates()
    cards: list[dict[str, Any]] = []
    files: list[str] = []
    for card, author_files, written, bad, size in run_jobs(_author_job, jobs, n_workers):
        if quiet:
            for item in bad:
                log.warning("corrupt snapshot %s: %s; skipped", item.path, item.reason)
        result.bad.extend(bad)
        cards.append(card)
        files.extend(author_files)
        result.written.extend(written)
        result.largest_page = max(result.largest_page, size)
    cards.sort(
        key=lambda c: (
            -(c["cards"][0]["value"] or 0) if c["cards"] else 0,
            c["name"].casefold(),
            c["scholar_id"],
        )
    )
    _write(
        out,
        "index.html",
        _render("index.html", root="", **_index_context(cards, title, as_of)),
        result.written,
    )
    files.append("index.html")
    for name in ASSETS:
        data = resources.files("crawler.history.dashboard").joinpath("assets", name).read_bytes()
        _write(out, f"assets/{name}", data, result.written)
        files.append(f"assets/{name}")
    result.removed = _remove_old(out, old, set(files))
    marker = (json.dumps({"files": sorted(files)}, indent=2) + "\n").encode("utf-8")
    _write(out, MARKER, marker, result.written)
    sync_folders([out, out / "assets"])
    return result
