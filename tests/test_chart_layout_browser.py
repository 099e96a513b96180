"""The homepage chart where researchers put it: AcadHomepage's layout (its real ``_layouts`` and
``_includes`` from ``tests/fixtures/sites/acadhomepage``, with a stand-in stylesheet of its sidebar and
content column), at 1280 px and 375 px, light and dark, in headless Chromium.

The data is a branch ``publish`` wrote for three authors over 41 days up to yesterday; the page asks a
first URL that never answers, then the local copy of the branch.  Asserted: the charts' sizes, text a
person can read (≥ 11 px, nothing overlapping, the page's own colour), a zero baseline, the first date,
today and the current count on the chart, the stale days shaded, no console errors, no request off the
machine, no sideways scrolling, and that each file is fetched once, from the URL that answered.
"""

from __future__ import annotations

import functools
import re
import socket
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from chromium import local_page
from sites import make_site, render_page
from test_chart_browser import git

from crawler.branch.publish import publish
from crawler.models import AuthorRecord, Metrics, Profile, Publication
from crawler.outputs.badges import BadgeStyle
from crawler.outputs.embed import make_options, render_html
from crawler.outputs.write import write_outputs
from crawler.storage.store import AuthorStore

pytestmark = pytest.mark.browser

AUTHORS = ("LaYoUtAuThR1", "LaYoUtAuThR2", "LaYoUtAuThR3")
NAMES = ("Ada Example", "Grace Example", "Emmy Example")
DAYS = 41
STALE_DAYS = 4
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
# AcadHomepage's look, from its _sass/_variables.scss: 15 px Inter-or-system text in #334155 on
# white, the layout 1280 px at most ($x-large), the sidebar beside the content column from 925 px
# ($large) up and above it below; the sidebar's width (250 px) is approximate.  Dark mode the way
# its _dark-mode.scss does it: light text on dark.
STYLE = """<style>
body { margin: 0; font: 15px/1.5 Inter, -apple-system, "Segoe UI", Roboto, Arial, sans-serif;
  color: #334155; background: #fff; }
#main { max-width: 1280px; margin: 0 auto; padding: 0 1em; box-sizing: border-box; }
.sidebar { float: left; width: 250px; margin-top: 2em; }
.page { float: right; width: calc(100% - 290px); }
#main::after { content: ""; display: table; clear: both; }
@media (max-width: 925px) { .sidebar, .page { float: none; width: auto; } }
@media (prefers-color-scheme: dark) { body { color: #e2e8f0; background: #0f172a; } }
</style>"""
SIDEBAR = """<div class="sidebar"><div class="author__content"><h3>Ada Example</h3>
<div class="scholar_stats_chart" id="side" data-author="{a}"></div></div></div>
<article class="page"><div class="page__inner-wrap"><section class="page__content">"""
CHARTS = """
<div class="scholar_stats_chart" id="author" data-author="{a}"></div>
<div class="scholar_stats_chart" id="years" data-author="{a}" data-chart="years"></div>
<div class="scholar_stats_chart" id="paper" data-paper="{a}:p1"></div>
<div class="scholar_stats_chart" id="second" data-author="{b}"></div>
<div class="scholar_stats_chart" id="third" data-author="{c}"></div>
"""


def short(day: datetime) -> str:
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


@dataclass
class Branch:
    served: Path
    records: dict[str, list[AuthorRecord]]
    stale_since: datetime


def build_branch(tmp: Path) -> Branch:
    """41 daily runs of three authors ending yesterday; the root author's last four days were kept
    through a block (``stale_since``)."""
    today = datetime.now(UTC).replace(hour=6, minute=0, second=0, microsecond=0)
    start = today - timedelta(days=DAYS)
    stale_since = today - timedelta(days=STALE_DAYS)
    data = tmp / "data"
    records: dict[str, list[AuthorRecord]] = {}
    for n, author in enumerate(AUTHORS):
        store = AuthorStore(data, author)
        counts = {"p1": 50 + 10 * n, "p2": 6}
        records[author] = []
        for day in range(DAYS):
            when = start + timedelta(days=day)
            blocked = n == 0 and when >= stale_since
            if not blocked and day % (3 + n) == 0:
                counts["p1"] += 1 + n
            if not blocked and day % 10 == 0:
                counts["p2"] += 1
            total = sum(counts.values())
            record = AuthorRecord(
                profile=Profile(author, NAMES[n]),
                metrics=Metrics(total, total - 10, 2, 2, 1, 1, 2021),
                cites_per_year=((2021, 3), (2022, 0), (2024, 25), (2025, 30 + n), (today.year, 4))
                if today.year > 2025
                else ((2021, 3), (2022, 0), (2024, 25), (2025, 30 + n)),
                publications=tuple(Publication(f"{author}:{k}", k, citations=v) for k, v in counts.items()),
                fetched_at=when,
            )
            if blocked:
                # Kept through a block: no new snapshot, the outputs say since when.
                write_outputs(
                    AuthorStore(data, records[author][-1].scholar_id),
                    records[author][-1],
                    BadgeStyle(),
                    stale_since=stale_since,
                )
                continue
            store.write_snapshot(record)
            write_outputs(AuthorStore(data, record.scholar_id), record, BadgeStyle())
            records[author].append(record)
    repo = tmp / "repo"
    git(tmp, "init", "--quiet", str(repo))
    publish(data, repo=repo, push=False, root_author=AUTHORS[0])
    served = tmp / "served"
    served.mkdir()
    archive = subprocess.run(
        ["git", "archive", "google-scholar-stats"], cwd=repo, capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(served)], input=archive, check=True)
    return Branch(served, records, stale_since)


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("layout")
    branch = build_branch(tmp)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(branch.served)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    # A first URL that accepts the connection and never answers.
    stall = socket.socket()
    stall.bind(("127.0.0.1", 0))
    stall.listen(16)
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    stalled = f"http://127.0.0.1:{stall.getsockname()[1]}/gs_data.json"
    home = make_site(tmp, "acadhomepage")
    snippet = render_html(make_options(urls=[stalled, f"{base}/gs_data.json"], timeout_ms=1500))
    (home / "_includes" / "fetch_google_scholar_stats.html").write_text(snippet, encoding="utf-8")
    about = home / "_pages" / "about.md"
    text = about.read_text(encoding="utf-8")
    text = text.replace("ExampleAAAAJ:OHD2zAxuxZaa", f"{AUTHORS[0]}:p1")
    text = text.replace("ExampleAAAAJ:foVuExX66Kzq", f"{AUTHORS[0]}:p2")
    about.write_text(
        text + CHARTS.format(a=AUTHORS[0], b=AUTHORS[1], c=AUTHORS[2]),
        encoding="utf-8",
    )
    html = render_page(home, "_layouts/default.html", "_pages/about.md")
    # Kramdown's links, as Jekyll renders them (render_page leaves Markdown as it is).
    html = re.sub(r"\[([^\]]*)\]\(([^)]*)\)", r'<a href="\2">\1</a>', html)
    html = html.replace("</head>", f'<link rel="icon" href="data:,">{STYLE}</head>', 1)
    html = html.replace('<div class="page__content" markdown="1">', SIDEBAR.format(a=AUTHORS[0]), 1)
    html = html.replace("</div>\n    </div>\n\n", "</section></div></article></div>\n\n", 1)
    (branch.served / "index.html").write_text(html, encoding="utf-8")
    # The theme's own script, empty here.
    (branch.served / "assets" / "js").mkdir(parents=True)
    (branch.served / "assets" / "js" / "main.min.js").write_text("", encoding="utf-8")
    try:
        yield {"branch": branch, "url": f"{base}/index.html", "base": base, "stalled": stalled}
    finally:
        httpd.shutdown()
        httpd.server_close()
        stall.close()


MEASURE = """() => {
  const out = {};
  for (const element of document.querySelectorAll('.scholar_stats_chart')) {
    const svg = element.querySelector('svg');
    if (!svg) { out[element.id] = null; continue; }
    const box = svg.getBoundingClientRect();
    const scale = box.width / svg.viewBox.baseVal.width;
    const texts = Array.from(svg.querySelectorAll('text'), t => {
      const r = t.getBoundingClientRect();
      return {text: t.textContent, cls: t.getAttribute('class'),
              px: parseFloat(getComputedStyle(t).fontSize) * scale, color: getComputedStyle(t).fill,
              box: [r.left, r.top, r.right, r.bottom]};
    });
    const zero = svg.querySelector('.scholar_stats_chart_zero');
    const grid = svg.querySelectorAll('.scholar_stats_chart_grid');
    const line = svg.querySelector('.scholar_stats_chart_line');
    const stale = svg.querySelector('.scholar_stats_chart_stale');
    const lineBox = line ? line.getBBox() : null;
    out[element.id] = {
      width: box.width, height: box.height, element: element.clientWidth, scale,
      left: box.left, right: box.right, texts, label: svg.getAttribute('aria-label'),
      drawn: element.getAttribute('data-scholar-stats-drawn'), page: getComputedStyle(element).color,
      zeroY: zero ? zero.y1.baseVal.value : null,
      topY: grid.length ? grid[grid.length - 1].y1.baseVal.value : null,
      line: line ? line.getAttribute('d') : null,
      lineRight: lineBox ? lineBox.x + lineBox.width : null,
      plotRight: zero ? zero.x2.baseVal.value : null,
      stale: stale ? [stale.x.baseVal.value, stale.width.baseVal.value] : null,
      carried: !!svg.querySelector('.scholar_stats_chart_carried'),
      bars: svg.querySelectorAll('.scholar_stats_chart_bar').length,
      focusable: svg.getAttribute('tabindex'),
    };
  }
  return out;
}"""


def overlaps(a: list[float], b: list[float]) -> bool:
    return a[0] < b[2] - 0.5 and b[0] < a[2] - 0.5 and a[1] < b[3] - 0.5 and b[1] < a[3] - 0.5


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", [1280, 375])
def test_chart_on_acadhomepage(browser: Any, site: dict[str, Any], width: int, scheme: str) -> None:
    branch: Branch = site["branch"]
    context = browser.new_context(viewport={"width": width, "height": 900}, color_scheme=scheme)
    page, requests, errors = local_page(context)
    page.goto(site["url"])
    result = page.evaluate("window.scholarStats")
    charts = page.evaluate(MEASURE)
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    context.close()

    assert errors == [] and overflow <= 0
    assert all(urlsplit(u).hostname == "127.0.0.1" for u in requests)
    # The data URL that answered, once each; every chart's file beside it, once each.
    assert result["url"] == f"{site['base']}/gs_data.json" and result["charts"] == 6
    assert sorted(requests) == sorted(
        [
            site["url"],
            f"{site['base']}/assets/js/main.min.js",
            site["stalled"],
            result["url"],
            f"{site['base']}/gs_history.json",
            f"{site['base']}/{AUTHORS[1]}/gs_history.json",
            f"{site['base']}/{AUTHORS[2]}/gs_history.json",
        ]
    )
    today = datetime.now(UTC)
    for name, chart in charts.items():
        assert chart is not None, name
        # Small: at most 480 px wide and 120 px tall, never wider than its element, drawn 1:1.
        assert chart["height"] == 120 and chart["width"] <= min(480, chart["element"]), name
        assert chart["scale"] == pytest.approx(1), name
        assert chart["focusable"] == "0"
        texts = chart["texts"]
        assert all(t["px"] >= 11 for t in texts), (name, texts)
        assert all(t["color"] == chart["page"] for t in texts), name
        for i, a in enumerate(texts):
            for b in texts[i + 1 :]:
                assert not overlaps(a["box"], b["box"]), (name, a, b)
        assert all(chart["left"] >= 0 and chart["right"] <= width for _ in [0])
        shown = [t["text"] for t in texts]
        assert "0" in shown  # the scale starts at zero, and says so
        if name == "years":
            years = dict(branch.records[AUTHORS[0]][-1].cites_per_year)
            assert chart["bars"] == max(years) - min(years) + 1  # 2023: no citations, an empty slot
            assert chart["drawn"] == str(years[max(years)])
            assert str(max(years)) in shown and str(years[max(years)]) in shown
            assert chart["label"].startswith(f"Citations per year of {NAMES[0]}: 2021: 3, 2022: 0, 2023: 0")
            continue
        author = {"side": 0, "author": 0, "paper": 0, "second": 1, "third": 2}[name]
        records = branch.records[AUTHORS[author]]
        if name == "paper":
            values = [next(p.citations for p in r.publications if p.title == "p1") for r in records]
        else:
            values = [r.metrics.citations for r in records]
        assert chart["drawn"] == str(values[-1])
        first_day = records[0].fetched_at
        assert first_day is not None
        assert [t["text"] for t in texts if t["cls"] == "scholar_stats_chart_from"] == [short(first_day)]
        assert [t["text"] for t in texts if t["cls"] == "scholar_stats_chart_to"] == [short(today)]
        assert [t["text"] for t in texts if t["cls"] == "scholar_stats_chart_value"] == [f"{values[-1]:,}"]
        # Zero at the bottom: the first count sits at its share of the scale's height.
        top = max(int(t["text"].replace(",", "")) for t in texts if t["cls"] == "scholar_stats_chart_tick")
        first_y = float(chart["line"].split()[1].split("H")[0])
        share = (chart["zeroY"] - first_y) / (chart["zeroY"] - chart["topY"])
        assert share == pytest.approx((values[0] or 0) / top, abs=0.01)
        if author == 0:
            # Kept through a block: the days since are shaded, the line dashed across them.
            assert chart["stale"] is not None and chart["carried"], name
            assert f"Google Scholar not reached since {branch.stale_since:%Y-%m-%d}" in chart["label"]
            assert chart["stale"][0] + chart["stale"][1] == pytest.approx(chart["plotRight"], abs=0.6)
            note = f"not updated since {short(branch.stale_since)}"
            if branch.stale_since.year == today.year:
                note = note[:-5]  # the year is the one under the chart
            # Said on the chart: in the shaded days, between the dates, or above the plot (a sidebar).
            notes = [t["text"] for t in texts if t["cls"] == "scholar_stats_chart_note"]
            assert notes == [note]
        else:
            # Carried to today.
            assert chart["stale"] is None and not chart["carried"]
            assert chart["lineRight"] == pytest.approx(chart["plotRight"], abs=0.6)
