"""The dashboard in a real browser (headless Chromium): no console error, no request to another
host, the numbers of the snapshots on screen, sorting, filtering, tooltips, JavaScript off,
dark scheme, a phone's width.  The site is served by a local HTTP server and opened from disk."""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from test_site import AS_OF, HOSTILE, START, A, B, record, write_lab

from crawler.history.dashboard import build_site
from crawler.models import AuthorRecord
from crawler.storage.stale import mark_stale
from crawler.storage.store import AuthorStore, snapshot_refs

pytestmark = pytest.mark.browser

C = "cccccccccccC"


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = write_lab(
        tmp_path_factory.mktemp("lab") / "data",
        every=4,
        titles=("Engines of analysis", "Notes on the engine"),
        also=(("p4", "Zebra tables", 40),),
    )
    store = AuthorStore(data, C)
    for day in range(3):
        store.write_snapshot(record(C, START + timedelta(days=day), [("x", HOSTILE, 5 + day)], name=HOSTILE))
    mark_stale(data, C, RuntimeError(HOSTILE), when=START + timedelta(days=4))
    build_site(data, data / "site", title=HOSTILE, as_of=AS_OF)
    return data


def records(data: Path, scholar_id: str) -> list[AuthorRecord]:
    return [AuthorStore(data, scholar_id).read_snapshot(r.path) for r in snapshot_refs(data, scholar_id)]


@pytest.fixture(scope="module")
def server(lab: Path) -> Iterator[str]:
    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(lab / "site")))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()
        httpd.server_close()


@dataclass
class Tab:
    page: Any
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def foreign(self) -> list[str]:
        return [
            u
            for u in self.requests
            if urlsplit(u).scheme not in ("file", "data") and urlsplit(u).hostname != "127.0.0.1"
        ]

    def texts(self, selector: str) -> list[str]:
        return self.page.eval_on_selector_all(selector, "nodes => nodes.map(n => n.textContent.trim())")  # type: ignore[no-any-return]


@pytest.fixture
def open_page(browser: Any) -> Iterator[Any]:
    contexts = []

    def go(url: str, **options: Any) -> Tab:
        context = browser.new_context(**options)
        contexts.append(context)
        page = context.new_page()
        tab = Tab(page)

        def route(r: Any) -> None:
            tab.requests.append(r.request.url)
            parts = urlsplit(r.request.url)
            if parts.scheme in ("file", "data") or parts.hostname == "127.0.0.1":
                r.continue_()
            else:
                r.abort()

        context.route("**/*", route)
        page.on("console", lambda m: tab.errors.append(m.text) if m.type in ("error", "warning") else None)
        page.on("pageerror", lambda e: tab.errors.append(str(e)))
        page.goto(url, wait_until="load")
        return tab

    yield go
    for context in contexts:
        context.close()


def number(text: str) -> int | None:
    text = text.strip().replace(",", "").replace("−", "-").replace("+", "")
    return None if text in ("—", "") else int(text)


@pytest.mark.parametrize("where", ["http", "file"])
def test_every_page_loads_clean_and_local(open_page: Any, server: str, lab: Path, where: str) -> None:
    base = server if where == "http" else (lab / "site").as_uri() + "/"
    for path in ("index.html", f"{A}/index.html", f"{B}/index.html", f"{C}/index.html"):
        tab = open_page(base + path)
        assert tab.errors == [], (path, tab.errors)
        assert tab.foreign() == [], tab.foreign()
        assert any(u.endswith("assets/dashboard.js") for u in tab.requests)
        assert tab.page.evaluate("window.__pwned") is None


def test_numbers_shown_are_the_snapshots(open_page: Any, server: str, lab: Path) -> None:
    tab = open_page(server + "index.html")
    for scholar_id in (A, B, C):
        newest = records(lab, scholar_id)[-1].metrics
        card = f'li[data-scholar-id="{scholar_id}"]'
        assert number(tab.texts(f'{card} [data-field="citations"]')[0]) == newest.citations
        assert number(tab.texts(f'{card} [data-field="h_index"]')[0]) == newest.h_index
        assert number(tab.texts(f'{card} [data-field="i10_index"]')[0]) == newest.i10_index
    total = sum(records(lab, a)[-1].metrics.citations or 0 for a in (A, B, C))
    assert number(tab.texts('[data-field="group-total"]')[0]) == total
    assert HOSTILE in tab.texts("h1")[0]

    author = open_page(server + f"{A}/index.html")
    newest_record = records(lab, A)[-1]
    shown = {
        row[0]: number(row[2])
        for row in author.page.eval_on_selector_all(
            "#pubs tbody tr", "rows => rows.map(r => Array.from(r.cells, c => c.textContent.trim()))"
        )
    }
    for pub in newest_record.publications:
        assert shown[pub.title] == pub.citations


def test_tooltip_shows_the_snapshot_under_the_pointer(open_page: Any, server: str, lab: Path) -> None:
    tab = open_page(server + f"{A}/index.html")
    chart = tab.page.locator("svg.chart >> visible=true").first
    box = chart.bounding_box()
    tab.page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5)
    tip = tab.page.locator(".tooltip")
    tip.wait_for(state="visible")
    text = tip.text_content()
    date = text.split(" · ")[0]
    matching = [r for r in records(lab, A) if r.fetched_at and r.fetched_at.strftime("%Y-%m-%d") == date]
    assert matching, text
    assert f"Citations {matching[-1].metrics.citations:,}" in text
    assert tab.errors == []


def test_sorting_and_filtering(open_page: Any, server: str) -> None:
    tab = open_page(server + f"{A}/index.html")

    def titles() -> list[str]:
        return [t.split(" vanished")[0] for t in tab.texts("#pubs tbody tr:not([hidden]) td:first-child")]

    tab.page.click("#pubs th:nth-child(1) button")
    assert titles() == sorted(titles(), key=str.lower)
    tab.page.click("#pubs th:nth-child(1) button")
    assert titles() == sorted(titles(), key=str.lower, reverse=True)

    # A number column sorts largest first, then the other way.
    def counts() -> list[int | None]:
        return [number(t) for t in tab.texts("#pubs tbody tr td:nth-child(3)")]

    tab.page.click("#pubs th:nth-child(3) button")
    assert counts() == sorted(counts(), key=lambda c: -1 if c is None else c, reverse=True)
    tab.page.click("#pubs th:nth-child(3) button")
    assert counts() == sorted(counts(), key=lambda c: -1 if c is None else c)
    tab.page.fill("#pub-filter", "engine")
    assert sorted(titles()) == ["Engines of analysis", "Notes on the engine"]
    assert "2 of 4 shown" in tab.texts("#pub-count")[0]
    tab.page.fill("#pub-filter", "")
    tab.page.uncheck("#pub-vanished")
    assert "Engines of analysis" not in titles() and len(titles()) == 3
    assert tab.errors == []

    index = open_page(server + "index.html")
    index.page.select_option("#card-sort", "name")
    names = index.texts("#cards h3")
    assert names == sorted(names, key=str.lower)
    index.page.select_option("#card-sort", "citations")
    shown = [number(t) for t in index.texts('#cards [data-field="citations"]')]
    assert shown == sorted(shown, reverse=True)  # type: ignore[type-var]


def test_readable_without_javascript_in_dark_and_on_a_phone(open_page: Any, server: str, lab: Path) -> None:
    tab = open_page(server + f"{A}/index.html", java_script_enabled=False)
    newest = records(lab, A)[-1].metrics
    assert number(tab.texts('table.metrics [data-field="citations"]')[0]) == newest.citations
    assert (
        tab.page.locator(".wide svg.chart").count() == 3
        and tab.page.locator(".narrow svg.chart").count() == 3
    )
    assert tab.page.locator("#pubs tbody tr").count() == 4

    dark = open_page(server + "index.html", color_scheme="dark")
    background = dark.page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(13, 17, 23)"

    phone = open_page(server + f"{A}/index.html", viewport={"width": 375, "height": 740}, is_mobile=True)
    assert phone.page.evaluate("document.documentElement.scrollWidth") <= 375
