"""The dashboard on a phone and in public, in headless Chromium at 1280 px and 375 px, light and dark:
five authors over 41 days, one kept through a block.  Asserted: chart text at least 11 px as rendered,
the publication table's title, citations and 30-day change on screen without sideways scrolling (the
other columns a tap away), no sideways scrolling of the page, a stale notice in words for visitors
(the fetch error stays with the maintainer), the affiliation and links to Scholar, papers with their
authors and venue, link contrast, dates that do not wrap, the tooltip's year, no console error (no
``favicon.ico``), no request off the machine, and the snapshots' numbers."""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from chromium import local_page

from crawler.history.dashboard import build_site
from crawler.models import AuthorRecord, Metrics, Profile, Publication
from crawler.storage.stale import mark_stale
from crawler.storage.store import AuthorStore

pytestmark = pytest.mark.browser

START = datetime(2026, 10, 26, 6, 0, tzinfo=UTC)
DAYS = 41
AS_OF = START + timedelta(days=DAYS)
IDS = ("PhOnEaUtHr01", "PhOnEaUtHr02", "PhOnEaUtHr03", "PhOnEaUtHr04", "PhOnEaUtHr05")
STALE = IDS[1]
REASON = "blocked at https://scholar.google.com/citations?user=X; try --proxy URL or HTTPS_PROXY"
LONG_TITLE = "A rather long title about wetting transitions on laser-textured copper surfaces at scale"


def newest(data: Path, scholar_id: str) -> AuthorRecord:
    found = AuthorStore(data, scholar_id).latest()
    assert found is not None
    return found[1]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    data = tmp_path_factory.mktemp("phone") / "data"
    for n, scholar_id in enumerate(IDS):
        store = AuthorStore(data, scholar_id)
        last_day = DAYS - 4 if scholar_id == STALE else DAYS
        for day in range(last_day):
            counts = [40 + 3 * n + day // 2, 12 + day // 5, 3]
            store.write_snapshot(
                AuthorRecord(
                    profile=Profile(
                        scholar_id, f"Author {n} Example", affiliation=f"University {n}, Example"
                    ),
                    metrics=Metrics(sum(counts), sum(counts) - 5, 3, 2, 2, 1, 2021),
                    cites_per_year=((2024, 10), (2025, 20 + n), (2026, 14)),
                    publications=tuple(
                        Publication(
                            f"{scholar_id}:p{k}",
                            LONG_TITLE if k == 0 else f"Paper {k}",
                            authors="A Example, B Example",
                            venue="Journal of Examples 12 (3)",
                            year=2020 + k,
                            citations=c,
                        )
                        for k, c in enumerate(counts)
                    ),
                    fetched_at=START + timedelta(days=day),
                )
            )
    mark_stale(data, STALE, RuntimeError(REASON), when=START + timedelta(days=DAYS - 3))
    build_site(data, data / "site", title="Example lab", as_of=AS_OF)

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(data / "site")))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield {"data": data, "url": f"http://127.0.0.1:{httpd.server_address[1]}/"}
    finally:
        httpd.shutdown()
        httpd.server_close()


def visit(browser: Any, url: str, width: int, scheme: str) -> tuple[Any, Any, list[str], list[str]]:
    context = browser.new_context(
        viewport={"width": width, "height": 800},
        color_scheme=scheme,
        is_mobile=width < 500,
        has_touch=width < 500,
    )
    page, requests, errors = local_page(context)
    page.goto(url, wait_until="load")
    return context, page, errors, requests


# Of the charts shown (each is drawn twice, for a wide screen and a phone; one is hidden).
SMALLEST_CHART_TEXT = """() => Math.min(...Array.from(document.querySelectorAll('svg.chart text'))
  .filter(t => t.ownerSVGElement.getBoundingClientRect().width > 0).map(t => {
  const svg = t.ownerSVGElement;
  const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
  return parseFloat(getComputedStyle(t).fontSize) * scale;
}))"""
CONTRAST = """(selector) => {
  const rgb = s => s.match(/[0-9.]+/g).slice(0, 3).map(Number);
  const lum = c => {
    const [r, g, b] = c.map(v => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  return Array.from(document.querySelectorAll(selector), e => {
    let back = e;
    const clear = /rgba\\(0, 0, 0, 0\\)|transparent/;
    while (back && getComputedStyle(back).backgroundColor.match(clear)) back = back.parentElement;
    const a = lum(rgb(getComputedStyle(e).color)), b = lum(rgb(getComputedStyle(back).backgroundColor));
    return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
  });
}"""
LINES = """(selector) => Array.from(document.querySelectorAll(selector), e => {
  const r = document.createRange(); r.selectNodeContents(e);
  return new Set(Array.from(r.getClientRects(), q => Math.round(q.top))).size;
})"""


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", [1280, 375])
def test_dashboard_at_width(browser: Any, site: dict[str, Any], width: int, scheme: str) -> None:
    data = site["data"]
    # The index: cards with readable links, the stale notice in words.
    context, page, errors, requests = visit(browser, site["url"] + "index.html", width, scheme)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert min(page.evaluate(CONTRAST, "#cards h3 a")) >= 4.5
    assert page.evaluate(SMALLEST_CHART_TEXT) >= 11
    for scholar_id in IDS:
        shown = page.eval_on_selector(
            f'li[data-scholar-id="{scholar_id}"] [data-field="citations"]', "e => e.textContent"
        )
        assert int(shown.replace(",", "")) == newest(data, scholar_id).metrics.citations
    notice = page.eval_on_selector(f'li[data-scholar-id="{STALE}"] .warn', "e => e.textContent")
    last_good = newest(data, STALE).fetched_at
    assert last_good is not None
    since = START + timedelta(days=DAYS - 3)
    assert notice.strip() == (
        f"Google Scholar has not answered since {since.day} {since:%b}; "
        f"these are the numbers of {last_good.day} {last_good:%b}."
    )
    html = page.content()
    assert "proxy" not in html and "scholar.google.com/citations?user=X" not in html
    context.close()
    assert errors == [] and not any(u.endswith("favicon.ico") for u in requests)
    assert all(urlsplit(u).hostname == "127.0.0.1" for u in requests)

    # An author's page.
    scholar_id = IDS[0]
    record = newest(data, scholar_id)
    context, page, errors, requests = visit(browser, site["url"] + f"{scholar_id}/index.html", width, scheme)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert page.evaluate(SMALLEST_CHART_TEXT) >= 11
    # The charts shown take the column's width, drawn about 1:1 on a phone.
    shown = page.eval_on_selector_all(
        "svg.chart",
        "s => s.map(e => [e.getBoundingClientRect().width, e.viewBox.baseVal.width]).filter(([w]) => w > 0)",
    )
    assert len(shown) == 3
    for rendered, drawn in shown:
        assert 300 <= rendered <= width - 32
        if width < 500:
            assert rendered / drawn == pytest.approx(1, abs=0.05)
    # The tables shown open fit their width: no hidden sideways scroller (the monthly numbers,
    # folded away in a <details>, may scroll once opened).
    wide = page.eval_on_selector_all(
        ".scroll:has(table.metrics), .scroll:has(table.pubs)",
        "s => s.filter(e => e.scrollWidth > e.clientWidth).map(e => e.firstElementChild.className)",
    )
    assert wide == []
    assert page.eval_on_selector("header .affiliation", "e => e.textContent") == record.profile.affiliation
    assert (
        page.get_attribute("header a.profile", "href")
        == f"https://scholar.google.com/citations?user={scholar_id}"
    )
    rows = page.eval_on_selector_all(
        "#pubs tbody tr",
        """rows => rows.map(r => ({
            href: r.querySelector('td a') && r.querySelector('td a').getAttribute('href'),
            text: r.cells[0].textContent,
            visible: Array.from(r.cells, c => getComputedStyle(c).display !== 'none'
                                           && c.getBoundingClientRect().right <= window.innerWidth),
        }))""",
    )
    assert len(rows) == len(record.publications)
    for pub, row in zip(sorted(record.publications, key=lambda p: -(p.citations or 0)), rows, strict=True):
        assert row["href"] == (
            f"https://scholar.google.com/citations?view_op=view_citation&user={scholar_id}"
            f"&citation_for_view={pub.author_pub_id}"
        )
        assert pub.title in row["text"] and "A Example, B Example" in row["text"]
        assert "Journal of Examples 12 (3)" in row["text"]
        # Title, citations, change over 30 days: on screen at every width.
        assert row["visible"][0] and row["visible"][2] and row["visible"][3], row
        if width < 500:
            assert not row["visible"][1] and not row["visible"][4], row
    if width < 500:
        # The other columns are one tap away.
        page.check("#pub-all")
        assert (
            page.eval_on_selector("#pubs tbody tr td:nth-child(7)", "e => getComputedStyle(e).display")
            != "none"
        )
    # "First seen" dates on one line each.
    assert page.evaluate(LINES, "#pubs td.first-seen") == [1] * len(rows)
    if width >= 500:
        # The tooltip (a pointer's) names the year the "since" numbers count from.
        box = page.locator("svg.chart >> visible=true").first.bounding_box()
        page.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + box["height"] * 0.5)
        tip = page.locator(".tooltip")
        tip.wait_for(state="visible")
        assert "Since 2021 " in (tip.text_content() or "") and "Since year" not in (tip.text_content() or "")
    context.close()
    assert errors == [] and not any(u.endswith("favicon.ico") for u in requests)
    assert all(urlsplit(u).hostname == "127.0.0.1" for u in requests)
