"""The homepage snippet in a real browser (headless Chromium, Debian's ``chromium``).

The data is what ``scholar-stats run`` writes against the local Scholar
(``tests/replay.py``).  Two local HTTP servers play jsDelivr and
raw.githubusercontent.com, a third serves ``examples/index.html`` with its
snippet regenerated for their URLs, and each test reads the numbers the page
shows.  Nothing here talks to the internet.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from replay import GeneratedProfile, ReplayServer

from crawler.outputs.embed import make_options, render, render_html

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "index.html"
SCHOLAR_ID = "ExampleAAAAJ"
N_PUBLICATIONS = 12
EXAMPLE_SNIPPET = render_html(
    make_options(repo="your-github-name/your-github-name.github.io", author=SCHOLAR_ID)
)
TIMEOUT_MS = 1000
HANG_SECONDS = 8.0
HOSTILE = '<img src=x onerror="window.__pwned=1">'


# -- local servers -------------------------------------------------------------


@dataclass
class Site:
    """A static site on 127.0.0.1 that can be told to misbehave."""

    root: Path
    pages: dict[str, bytes] = field(default_factory=dict)
    mode: str = "ok"
    """ok | status500 | hang (no answer) | stall (headers, then half a body) | not_json | no_citedby"""
    requests: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    url: str = ""
    httpd: ThreadingHTTPServer | None = None

    def start(self) -> Site:
        site = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _send(self, status: int, body: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                # Both CDNs answer any origin, as a homepage on another host needs.
                self.send_header("Access-Control-Allow-Origin", "*")
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                site.requests.append(path)
                if path in site.pages:
                    kind = "text/javascript" if path.endswith(".js") else "text/html"
                    self._send(200, site.pages[path], f"{kind}; charset=utf-8")
                    return
                if path == "/favicon.ico":
                    self._send(404, b"", "text/plain")
                    return
                if site.mode == "hang":
                    site.stop.wait(HANG_SECONDS)
                    return
                if site.mode == "status500":
                    self._send(500, b"Internal Server Error", "text/plain")
                    return
                file = (site.root / path.lstrip("/")).resolve()
                if site.root.resolve() not in file.parents or not file.is_file():
                    self._send(404, b"Not Found", "text/plain")
                    return
                body = file.read_bytes()
                if site.mode == "not_json":
                    body = b"<!doctype html><title>Bandwidth limit exceeded</title>"
                elif site.mode == "no_citedby":
                    data = json.loads(body)
                    del data["citedby"]
                    body = json.dumps(data).encode()
                elif site.mode == "stall":
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.send_header("Access-Control-Allow-Origin", "*")
                    self.end_headers()
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    site.stop.wait(HANG_SECONDS)
                    return
                self._send(200, body, "application/json; charset=utf-8")

        httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        httpd.daemon_threads = True
        self.httpd = httpd
        self.url = f"http://127.0.0.1:{httpd.server_address[1]}"
        threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def close(self) -> None:
        self.stop.set()
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()

    def data_url(self) -> str:
        return f"{self.url}/{SCHOLAR_ID}/gs_data.json"


def refused_url() -> str:
    """A URL on a port nothing listens on: the connection is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/{SCHOLAR_ID}/gs_data.json"


# -- the data: what `scholar-stats run` writes --------------------------------


@dataclass(frozen=True)
class Data:
    folder: Path
    gs_data: dict[str, Any]
    profile: GeneratedProfile


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Data]:
    folder = tmp_path_factory.mktemp("data")
    with ReplayServer() as replay:
        profile = replay.add_profile(SCHOLAR_ID, N_PUBLICATIONS, name="Ada Example")
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "crawler",
                "run",
                "--author",
                SCHOLAR_ID,
                "--data-dir",
                str(folder),
                "--base-url",
                replay.url,
                "--delay",
                "0",
            ],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=folder,
            # Keep a CI job's summary page out of it.
            env={k: v for k, v in os.environ.items() if k != "GITHUB_STEP_SUMMARY"},
        )
    assert proc.returncode == 0, proc.stderr
    gs_data = json.loads((folder / SCHOLAR_ID / "gs_data.json").read_text(encoding="utf-8"))
    yield Data(folder, gs_data, profile)


def variant(data: Data, tmp_path: Path, **changes: Any) -> Path:
    """A copy of the data folder whose gs_data.json has ``changes`` applied (None deletes a key)."""
    folder = tmp_path / "variant"
    shutil.copytree(data.folder / SCHOLAR_ID, folder / SCHOLAR_ID)
    gs_data = json.loads(json.dumps(data.gs_data))
    for key, value in changes.items():
        if key == "publications":
            for pub_id, num in value.items():
                gs_data["publications"][pub_id]["num_citations"] = num
        elif value is None:
            gs_data.pop(key, None)
        else:
            gs_data[key] = value
    (folder / SCHOLAR_ID / "gs_data.json").write_text(
        json.dumps(gs_data, ensure_ascii=False), encoding="utf-8"
    )
    return folder


# -- the browser -------------------------------------------------------------


@dataclass
class Sites:
    jsdelivr: Site
    raw: Site
    home: Site


@pytest.fixture
def sites(data: Data) -> Iterator[Sites]:
    started = Sites(Site(data.folder).start(), Site(data.folder).start(), Site(data.folder).start())
    try:
        yield started
    finally:
        for site in (started.jsdelivr, started.raw, started.home):
            site.close()


@dataclass
class Visit:
    result: dict[str, Any]
    page: Any
    page_errors: list[str]
    console_errors: list[str]
    body_at_load: str
    console_warnings: list[str] = field(default_factory=list)

    def text(self, selector: str) -> str | None:
        text: str | None = self.page.evaluate(
            "s => { const e = document.querySelector(s); return e === null ? null : e.textContent; }",
            selector,
        )
        return text

    def title(self, selector: str) -> str | None:
        title: str | None = self.page.evaluate(
            "s => document.querySelector(s).getAttribute('title')", selector
        )
        return title

    def script_errors(self) -> list[str]:
        """Console errors that are not the browser's own report of a failed request."""
        return [e for e in self.console_errors if not e.startswith("Failed to load resource")]


@pytest.fixture
def visit(browser: Any, sites: Sites) -> Iterator[Any]:
    contexts: list[Any] = []

    def go(
        urls: list[str],
        *,
        page: str | None = None,
        head: bool = False,
        external: bool = False,
        collapse: bool = False,
    ) -> Visit:
        html = page if page is not None else EXAMPLE.read_text(encoding="utf-8")
        assert EXAMPLE_SNIPPET in html
        options = make_options(urls=urls, timeout_ms=TIMEOUT_MS)
        snippet = render_html(options)
        if external:
            # --format js, loaded from the site itself under a policy that forbids inline scripts.
            sites.home.pages["/scholar-stats.js"] = render(options, fmt="js").encode("utf-8")
            policy = f"script-src 'self'; connect-src {' '.join(urls)}"
            html = html.replace(
                "<head>", f'<head>\n<meta http-equiv="Content-Security-Policy" content="{policy}">'
            )
            snippet = '<script src="/scholar-stats.js" defer></script>\n'
        if collapse:
            # What jekyll-compress-html and similar minifiers do: every line joined into one.
            snippet = re.sub(r"\s*\n\s*", " ", snippet)
            assert "\n" not in snippet
        if head:
            html = html.replace(EXAMPLE_SNIPPET, "").replace("</head>", snippet + "</head>")
        else:
            html = html.replace(EXAMPLE_SNIPPET, snippet)
        sites.home.pages["/index.html"] = html.encode("utf-8")
        context = browser.new_context()
        contexts.append(context)
        tab = context.new_page()
        page_errors: list[str] = []
        console_errors: list[str] = []
        console_warnings: list[str] = []
        tab.on("pageerror", lambda exc: page_errors.append(str(exc)))
        tab.on("console", lambda msg: console_errors.append(msg.text) if msg.type == "error" else None)
        tab.on("console", lambda msg: console_warnings.append(msg.text) if msg.type == "warning" else None)
        # The body as parsed, before the data can arrive: what "unchanged" is measured against.
        tab.add_init_script(
            "document.addEventListener('DOMContentLoaded', () => { "
            "window.__bodyAtLoad = document.body.innerHTML; });"
        )
        tab.goto(f"{sites.home.url}/index.html")
        result = tab.evaluate("window.scholarStats")
        body_at_load = tab.evaluate("window.__bodyAtLoad")
        return Visit(result, tab, page_errors, console_errors, body_at_load, console_warnings)

    yield go
    for context in contexts:
        context.close()


def citations(data: Data, *ids: str) -> int:
    return sum(data.gs_data["publications"][i]["num_citations"] for i in ids)


P1, P2, P3A, P3B, P4 = (
    f"{SCHOLAR_ID}:OHD2zAxuxZaa",
    f"{SCHOLAR_ID}:foVuExX66Kzq",
    f"{SCHOLAR_ID}:DWRXrHFgm0vo",
    f"{SCHOLAR_ID}:RqjEp9UDrG4w",
    f"{SCHOLAR_ID}:xiKK1bwQVruh",
)


# -- tests ---------------------------------------------------------------------


def test_example_ids_are_in_the_data(data: Data) -> None:
    for pub_id in (P1, P2, P3A, P3B, P4):
        assert pub_id in data.gs_data["publications"], f"examples/index.html names {pub_id}, not in the data"
    assert data.gs_data["citedby"] == data.profile.citations


def test_example_page_shows_the_numbers_from_the_data(data: Data, sites: Sites, visit: Any) -> None:
    v = visit([sites.jsdelivr.data_url(), sites.raw.data_url()])
    g, p = data.gs_data, data.profile
    assert v.result["url"] == sites.jsdelivr.data_url()
    assert v.text("#total_cit") == str(p.citations) == str(g["citedby"])
    assert v.text("#h_index") == str(p.h_index)
    assert v.text("#i10_index") == str(p.i10_index)
    assert v.text("#gs_updated") == g["updated"][:10]
    assert v.text('[data-scholar-stats="citations_since"]') == str(p.citations_since)
    assert v.text('[data-scholar-stats="h_index_since"]') == str(p.h_index_since)
    assert v.text('[data-scholar-stats="since_year"]') == str(p.since_year)
    assert v.text('[data-scholar-stats="publications"]') == str(N_PUBLICATIONS)
    by_id = {pub.author_pub_id: pub.citations for pub in p.publications}
    assert (
        v.text("#paper-1 .show_paper_citations")
        == f"| Citations: {by_id[P1]}"
        == f"| Citations: {citations(data, P1)}"
    )
    assert v.text("#paper-2 .show_paper_citations") == f"| Citations: {by_id[P2]}"
    # "A, B": the two counts add up.
    assert v.text("#paper-3 .show_paper_citations") == f"| Citations: {by_id[P3A] + by_id[P3B]}"
    assert by_id[P3A] > 0 and by_id[P3B] > 0
    assert v.text("#paper-4 .show_paper_citations") == f"(cited {by_id[P4]} times)"
    # An ID Scholar does not know: the element keeps what it held.
    assert v.text("#paper-5 .show_paper_citations") == "| Citations: new"
    # Google Scholar's own numbers carry no "where from" tooltip.
    assert v.title("#total_cit") is None
    assert v.page_errors == []
    assert v.console_errors == []
    assert v.result["filled"] == 12
    assert sites.raw.requests == []


def test_missing_elements_do_not_stop_the_others(data: Data, sites: Sites, visit: Any) -> None:
    page = EXAMPLE.read_text(encoding="utf-8")
    for element in ('<span id="total_cit">450+</span>', '<span id="h_index">–</span>'):
        assert element in page
        page = page.replace(element, "")
    # A list where one ID is unknown: the known ones are counted.
    page = page.replace(f'data="{P2}"', f'data="{SCHOLAR_ID}:gone0000000,{P2},"')
    v = visit([sites.jsdelivr.data_url(), sites.raw.data_url()], page=page)
    assert v.text("#total_cit") is None
    assert v.text("#h_index") is None
    assert v.text("#i10_index") == str(data.profile.i10_index)
    assert v.text("#paper-1 .show_paper_citations") == f"| Citations: {citations(data, P1)}"
    assert v.text("#paper-2 .show_paper_citations") == f"| Citations: {citations(data, P2)}"
    assert v.text("#paper-5 .show_paper_citations") == "| Citations: new"
    assert v.page_errors == []
    assert v.console_errors == []


def test_snippet_in_head_waits_for_the_page(data: Data, sites: Sites, visit: Any) -> None:
    v = visit([sites.jsdelivr.data_url()], head=True)
    assert v.text("#total_cit") == str(data.profile.citations)
    assert v.text("#paper-3 .show_paper_citations") == f"| Citations: {citations(data, P3A, P3B)}"
    assert v.page_errors == [] and v.console_errors == []


@pytest.mark.parametrize(
    ("failure", "reason"),
    [
        ("refused", "Failed to fetch"),
        ("status500", "HTTP 500"),
        ("hang", f"timed out after {TIMEOUT_MS} ms"),
        # Headers and half the body, then silence: the timer must cover the body too.
        ("stall", f"timed out after {TIMEOUT_MS} ms"),
        # A CDN error page served with 200.
        ("not_json", "not JSON"),
        ("no_citedby", "no citedby count"),
        ("missing", "HTTP 404"),
    ],
)
def test_falls_back_to_the_second_url(
    failure: str, reason: str, data: Data, sites: Sites, visit: Any
) -> None:
    first = sites.jsdelivr.data_url()
    if failure == "refused":
        first = refused_url()
    elif failure == "missing":
        first = f"{sites.jsdelivr.url}/nobody/gs_data.json"
    else:
        sites.jsdelivr.mode = failure
    v = visit([first, sites.raw.data_url()])
    assert v.result["url"] == sites.raw.data_url()
    assert v.result["errors"] == [f"{first}: {reason}"]
    assert v.text("#total_cit") == str(data.profile.citations)
    assert v.text("#paper-1 .show_paper_citations") == f"| Citations: {citations(data, P1)}"
    assert v.page_errors == []
    assert v.script_errors() == []
    assert sites.raw.requests == [f"/{SCHOLAR_ID}/gs_data.json"]


def test_raw_github_first_falls_back_to_jsdelivr(data: Data, sites: Sites, visit: Any) -> None:
    sites.raw.mode = "status500"
    v = visit([sites.raw.data_url(), sites.jsdelivr.data_url()])
    assert v.result["url"] == sites.jsdelivr.data_url()
    assert v.text("#total_cit") == str(data.profile.citations)


@pytest.mark.parametrize("second", ["refused", "hang"])
def test_both_urls_down_leave_the_page_unchanged(second: str, sites: Sites, visit: Any) -> None:
    sites.jsdelivr.mode = "status500"
    sites.raw.mode = "hang"
    v = visit([sites.jsdelivr.data_url(), refused_url() if second == "refused" else sites.raw.data_url()])
    assert v.result["url"] is None
    assert len(v.result["errors"]) == 2
    assert v.page.evaluate("document.body.innerHTML") == v.body_at_load
    assert v.text("#total_cit") == "450+"
    assert v.page_errors == []
    assert v.script_errors() == []


def test_hostile_data_is_shown_as_text(data: Data, sites: Sites, visit: Any, tmp_path: Path) -> None:
    sites.jsdelivr.root = variant(
        data, tmp_path, source=HOSTILE, updated=HOSTILE, hindex=HOSTILE, publications={P1: HOSTILE}
    )
    v = visit([sites.jsdelivr.data_url()])
    assert v.page.evaluate("document.querySelectorAll('img').length") == 0
    assert v.page.evaluate("window.__pwned") is None
    # Strings are written as text; a "number" that is not one is not written at all.
    assert v.text("#gs_updated") == HOSTILE
    assert v.text("#h_index") == "–"
    assert v.text("#paper-1 .show_paper_citations") == ""
    assert v.text("#total_cit") == str(data.profile.citations)
    title = v.title("#total_cit")
    assert title == f"Counted by {HOSTILE}, not by Google Scholar (updated {HOSTILE})"
    assert v.page_errors == [] and v.console_errors == []


def test_other_sources_are_named_in_a_tooltip(data: Data, sites: Sites, visit: Any, tmp_path: Path) -> None:
    sites.jsdelivr.root = variant(data, tmp_path, source="openalex")
    v = visit([sites.jsdelivr.data_url()])
    expected = f"Counted by openalex, not by Google Scholar (updated {data.gs_data['updated']})"
    assert v.title("#total_cit") == expected
    assert v.title("#paper-1 .show_paper_citations") == expected
    assert v.title("#paper-5 .show_paper_citations") is None


def test_acadhomepage_data_is_google_scholars(data: Data, sites: Sites, visit: Any, tmp_path: Path) -> None:
    """AcadHomepage's own crawler dumps scholarly's author dict: ``"source": "AUTHOR_PROFILE_PAGE"``,
    ``"filled"`` and ``"updated": str(datetime.now())``."""
    sites.jsdelivr.root = variant(
        data,
        tmp_path,
        source="AUTHOR_PROFILE_PAGE",
        updated="2024-05-01 12:34:56.123456",
        filled=["basics", "indices", "counts", "publications"],
    )
    v = visit([sites.jsdelivr.data_url()])
    assert v.text("#total_cit") == str(data.profile.citations)
    assert v.title("#total_cit") is None
    assert v.title("#paper-1 .show_paper_citations") is None
    assert v.text("#gs_updated") == "2024-05-01"


def test_data_without_source_or_updated(data: Data, sites: Sites, visit: Any, tmp_path: Path) -> None:
    # Older or hand-made gs_data.json files may have neither key.
    sites.jsdelivr.root = variant(data, tmp_path, source=None, updated=None)
    v = visit([sites.jsdelivr.data_url()])
    assert v.text("#total_cit") == str(data.profile.citations)
    assert v.text("#gs_updated") == "daily"
    assert v.title("#total_cit") is None


def test_script_file_under_a_strict_content_security_policy(data: Data, sites: Sites, visit: Any) -> None:
    v = visit([sites.jsdelivr.data_url()], external=True)
    assert sites.home.requests.count("/scholar-stats.js") == 1
    assert v.result["url"] == sites.jsdelivr.data_url()
    assert v.text("#total_cit") == str(data.profile.citations)
    assert v.text("#paper-4 .show_paper_citations") == f"(cited {citations(data, P4)} times)"
    assert v.page_errors == [] and v.console_errors == []


@pytest.mark.parametrize("external", [False, True])
def test_snippet_survives_a_minifier_that_joins_lines(
    data: Data, sites: Sites, visit: Any, external: bool
) -> None:
    v = visit([sites.jsdelivr.data_url()], collapse=True, external=external)
    assert v.page_errors == [] and v.console_errors == []
    assert v.text("#total_cit") == str(data.profile.citations)
    assert v.text("#paper-3 .show_paper_citations") == f"| Citations: {citations(data, P3A, P3B)}"
    assert v.result["filled"] == 12


def test_unknown_paper_ids_make_one_warning_in_all(data: Data, sites: Sites, visit: Any) -> None:
    page = EXAMPLE.read_text(encoding="utf-8")
    page = page.replace(f'data="{P2}"', f'data="{SCHOLAR_ID}:gone0000000,{P2}"')
    page = page.replace(f'data="{P4}"', f'data="{SCHOLAR_ID}:gone0000000, {SCHOLAR_ID}:gone1111111"')
    v = visit([sites.jsdelivr.data_url()], page=page)
    unknown = [w for w in v.console_warnings if "unknown paper" in w]
    assert unknown == [
        f"scholar-stats: unknown paper IDs {SCHOLAR_ID}:gone0000000, {SCHOLAR_ID}:gone1111111, "
        f"{SCHOLAR_ID}:NotOnScholar"
    ]
    assert v.text("#paper-2 .show_paper_citations") == f"| Citations: {citations(data, P2)}"
