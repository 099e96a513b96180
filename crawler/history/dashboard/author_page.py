"""One author's page of the dashboard: the numbers now, the charts (and their phone copies), the
stale notice in words, and every publication linked to Scholar."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from markupsafe import Markup, escape

from crawler.history.dashboard import charts
from crawler.history.dashboard.charts import PHONE_HEIGHT, PHONE_WIDTH, axis_end, deltas, script_json
from crawler.history.dashboard.timeline import WINDOWS, AuthorHistory
from crawler.models import format_time
from crawler.sources import source_label

SCHOLAR = "https://scholar.google.com/citations"


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


def _stale_start(history: AuthorHistory) -> float | None:
    """When the stale marker says the fetches began failing (``None``: not stale, or not said)."""
    stale = history.stale
    start = (stale.since or stale.last_attempt) if stale is not None else None
    try:
        return datetime.fromisoformat(start.replace("Z", "+00:00")).timestamp() if start else None
    except ValueError:
        return None


def time_axis_end(history: AuthorHistory) -> float:
    """Where the author's time axes end: the end of the newest snapshot's day, or of the day the
    fetches began failing when that is later (so that the stale band shows).  Both are in the
    author's files, so the page changes only when they do."""
    end = axis_end(history.as_of)
    began = _stale_start(history)
    if began is not None:
        end = max(end, (began // 86400 + 1) * 86400)
    return max(end, history.times[-1]) if history.times else end


def _stale_bands(history: AuthorHistory, end: float) -> list[charts.Band]:
    if history.stale is None or not history.headers:
        return []
    began = _stale_start(history)
    return [charts.Band(history.times[-1] if began is None else began, end, stale_words(history) or "stale")]


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
        "t": deltas([int(t) for t in history.times]),
        "v": {
            name: deltas([getattr(h.metrics, name) for h in headers])
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


def _both(draw: Any, *args: Any, **kwargs: Any) -> dict[str, str]:
    """The chart at the page's width and a copy drawn for a phone's."""
    return {
        "wide": draw(*args, **kwargs),
        "narrow": draw(*args, width=PHONE_WIDTH, height=PHONE_HEIGHT, **kwargs),
    }


def _over_time(history: AuthorHistory, *, t0: float, t1: float) -> tuple[dict[str, str], dict[str, str]]:
    """The two charts over time: citations (all time and since the year), h- and i10-index."""
    headers, times = history.headers, history.times
    latest = history.latest
    since_year = latest.metrics.since_year if latest else None
    markers, bands = _markers(history), _stale_bands(history, t1)

    def points(metric: str) -> list[tuple[float, int | None]]:
        return [(t, getattr(h.metrics, metric)) for t, h in zip(times, headers, strict=True)]

    common: dict[str, Any] = {"t0": t0, "t1": t1, "markers": markers, "bands": bands, "series_id": "series"}
    citations = _both(
        charts.line_chart,
        [
            charts.Line("Citations, all time", points("citations")),
            charts.Line(
                f"Citations since {since_year}" if since_year else "Citations since year",
                points("citations_since"),
            ),
        ],
        title=f"Citations of {history.name} over time",
        desc=_describe(history, "citations", "citations"),
        keys=("citations", "citations_since"),
        **common,
    )
    indexes = _both(
        charts.line_chart,
        [charts.Line("h-index", points("h_index")), charts.Line("i10-index", points("i10_index"))],
        title=f"h-index and i10-index of {history.name} over time",
        desc=_describe(history, "h_index", "h-index") + " " + _describe(history, "i10_index", "i10-index"),
        keys=("h_index", "i10_index"),
        **common,
    )
    return citations, indexes


def _publication_rows(history: AuthorHistory, t0: float) -> list[dict[str, Any]]:
    """Each publication with its Scholar link, what Scholar says of it, and its sparkline."""
    t1 = history.times[-1] if history.headers else t0
    details = {p.author_pub_id: p for p in history.newest.publications} if history.newest else {}
    lines = charts.Sparklines(t0, t1, times=history.times)
    return [
        {
            "row": row,
            "url": paper_url(history.scholar_id, row.author_pub_id),
            "details": details.get(row.author_pub_id),
            "spark": lines.draw(
                row.spark,
                label=f"citations of this publication over time: {_spark_words(history, row.spark)}",
            ),
        }
        for row in history.publications
    ]


def _trend(value: int | None) -> str:
    return "up" if value is not None and value > 0 else "down" if value is not None and value < 0 else ""


def _value(value: int | None) -> str:
    return "" if value is None else str(value)


# The texts of a row that are escaped, in this order (an absent one as "").
_ROW_TEXTS = 8


def _row_texts(item: dict[str, Any]) -> tuple[str, ...]:
    row, details = item["row"], item["details"]
    return (
        item["url"],
        row.title,
        (details.authors or "") if details else "",
        (details.venue or "") if details else "",
        row.vanished[:10] if row.vanished else "",
        row.author_pub_id,
        row.first_seen,
        row.first_seen[:10],
    )


def _escaped_texts(items: list[dict[str, Any]]) -> list[str]:
    """Every row's texts escaped, ``_ROW_TEXTS`` a row: by one call over all of them joined by
    NULs (escaping leaves a NUL as it is), or one a text when a text holds a NUL."""
    texts = [text for item in items for text in _row_texts(item)]
    escaped = str(escape("\0".join(texts))).split("\0")
    if len(escaped) != len(texts):
        escaped = [str(escape(text)) for text in texts]
    return escaped


def publication_rows(items: list[dict[str, Any]]) -> Markup:
    """The rows of the publication table, one ``<tr>`` a line each cell (300 rows a page: joined
    here rather than looped over in the template, for the same bytes in a tenth of the time)."""
    out: list[str] = []
    escaped = _escaped_texts(items)
    for n, item in enumerate(items):
        row = item["row"]
        url, title_text, authors, venue, vanished_day, pub_id, first_seen, first_day = escaped[
            n * _ROW_TEXTS : (n + 1) * _ROW_TEXTS
        ]
        title = f'<a href="{url}">{title_text}</a>'
        if authors:
            title += f'<span class="byline">{authors}</span>'
        if venue:
            title += f'<span class="venue">{venue}</span>'
        if row.vanished:
            title += f' <span class="tag">vanished {vanished_day}</span>'
        recent, year_long = row.changes[WINDOWS[0]], row.changes[WINDOWS[1]]
        vanished = ' class="vanished"' if row.vanished else ""
        out.append(
            f'<tr{vanished} data-pub-id="{pub_id}">\n'
            f"<td>{title}</td>\n"
            f'<td class="num opt" data-value="{_value(row.year)}">{_value(row.year)}</td>\n'
            f'<td class="num" data-value="{_value(row.citations)}">{charts.number(row.citations)}</td>\n'
            f'<td class="num change {_trend(recent)}" data-value="{_value(recent)}">'
            f"{charts.signed(recent)}</td>\n"
            f'<td class="num opt change {_trend(year_long)}" data-value="{_value(year_long)}">'
            f"{charts.signed(year_long)}</td>\n"
            f'<td class="opt">{item["spark"]}</td>\n'
            f'<td class="opt first-seen" data-value="{first_seen}">{first_day}</td>\n'
            "</tr>\n"
        )
    return Markup("".join(out))


def author_context(history: AuthorHistory, title: str) -> dict[str, Any]:
    """What ``author.html`` is rendered from."""
    latest = history.latest
    t0 = history.times[0] if history.headers else history.as_of.timestamp()
    t1 = max(time_axis_end(history), t0)
    citations, indexes = _over_time(history, t0=t0, t1=t1)
    publications = _publication_rows(history, t0)
    years = list(latest.cites_per_year) if latest else []
    histogram = _both(
        charts.bar_chart,
        years,
        title=f"Citations per year of {history.name}, as Scholar shows them",
        desc=", ".join(f"{y}: {charts.number(c)}" for y, c in years) or "no per-year numbers",
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
        "switches": [m.label for m in _markers(history)],
        "stale": history.stale,
        "stale_words": stale_words(history),
        "profile_url": profile_url(history.scholar_id),
        "affiliation": history.newest.profile.affiliation if history.newest else None,
        "publications": publications,
        "publication_rows": publication_rows(publications),
        "vanished": sum(1 for r in history.publications if r.vanished),
        "since_year": latest.metrics.since_year if latest else None,
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
    # The first and the last point with a count (nearly always the ends).
    low, high = 0, len(spark) - 1
    while low <= high and spark[low][1] is None:
        low += 1
    if low > high:
        return "no counts"
    while spark[high][1] is None:
        high -= 1
    (i0, v0), (i1, v1) = spark[low], spark[high]
    first = f"{charts.number(v0)} on {history.headers[i0].date_text[:10]}"
    if low == high:
        return first
    return f"{first}, {charts.number(v1)} on {history.headers[i1].date_text[:10]}"


def author_card(history: AuthorHistory) -> dict[str, Any]:
    latest = history.latest
    return {
        "scholar_id": history.scholar_id,
        "name": history.name,
        "date": latest.date_text if latest else None,
        "source": _label(latest.source) if latest else None,
        "fallback": bool(latest and latest.source != "scholar"),
        "complete": bool(latest.complete) if latest else True,
        "stale": history.stale is not None,
        "stale_words": stale_words(history),
        "profile_url": profile_url(history.scholar_id),
        "as_of": history.as_of.timestamp() if history.headers else None,
        "cards": _metric_cards(history),
        "spark": [(history.times[i], history.headers[i].metrics.citations) for i in history.spark_indexes],
        "series": [(t, h.metrics.citations) for t, h in zip(history.times, history.headers, strict=True)],
        "snapshots": len(history.headers),
    }
