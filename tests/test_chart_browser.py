"""The homepage chart in headless Chromium, drawn from a data branch published by ``publish`` and
served by a local HTTP server: the numbers it says are the snapshots', nothing is injected, and
an element whose history cannot be read is left as it was."""

from __future__ import annotations

import functools
import itertools
import json
import subprocess
import threading
from datetime import UTC, datetime, timedelta
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from chromium import local_page

from crawler.branch.publish import publish
from crawler.models import AuthorRecord, Metrics, Profile, Publication
from crawler.outputs.badges import BadgeStyle
from crawler.outputs.embed import make_options, render_html
from crawler.outputs.gs_history import HISTORY_FILE
from crawler.outputs.write import write_outputs
from crawler.storage.store import AuthorStore

pytestmark = pytest.mark.browser

A = "cHaRtAuThOr1"
START = datetime(2024, 6, 1, 7, 0, tzinfo=UTC)
HOSTILE = '<img src=x onerror="window.__pwned=1">'
FALLBACK = '<em id="fallback">a picture of my citations</em>'


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True).stdout


def make_branch(tmp: Path, name: str) -> tuple[Path, list[AuthorRecord]]:
    """Daily runs over 40 days (one snapshot each time the numbers moved), published, then the
    branch's tree checked out into a folder to serve."""
    data = tmp / "data"
    store = AuthorStore(data, A)
    records: list[AuthorRecord] = []
    counts = {"p1": 5, "p2": 40}
    for day in range(40):
        if day % 3 == 0:
            counts["p1"] += day // 3
        if day % 7 == 0:
            counts["p2"] += 1
        record = AuthorRecord(
            profile=Profile(A, name),
            metrics=Metrics(sum(counts.values()), None, 2, None, 1, None, None),
            publications=tuple(Publication(f"{A}:{k}", k, citations=v) for k, v in counts.items()),
            fetched_at=START + timedelta(days=day),
        )
        if (
            records
            and records[-1].metrics == record.metrics
            and records[-1].publications == record.publications
        ):
            continue
        store.write_snapshot(record)
        write_outputs(AuthorStore(data, record.scholar_id), record, BadgeStyle())
        records.append(record)
    repo = tmp / "repo"
    git(tmp, "init", "--quiet", str(repo))
    publish(data, repo=repo, push=False)
    served = tmp / "served"
    served.mkdir()
    archive = subprocess.run(
        ["git", "archive", "google-scholar-stats"], cwd=repo, capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(served)], input=archive, check=True)
    return served, records


def serve(folder: Path) -> tuple[ThreadingHTTPServer, str]:
    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(folder)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, f"http://127.0.0.1:{httpd.server_address[1]}"


PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>home</title>\
<link rel="icon" href="data:,"><style>.scholar_stats_chart {{ width: 300px; }}</style></head><body>
<span id="total_cit">?</span>
<div class="scholar_stats_chart" id="author" data-author="{a}">{fallback}</div>
<div class="scholar_stats_chart" id="paper" data-paper="{a}:p2"></div>
<div class="scholar_stats_chart" id="unknown-paper" data-paper="{a}:nope">{fallback}</div>
<div class="scholar_stats_chart" id="bad-id" data-author="x&quot;><script>">{fallback}</div>
<div class="scholar_stats_chart" id="sized" data-author="{a}" data-height="90" data-max-width="640"
  style="width: 600px"></div>
<div class="scholar_stats_chart" id="bad-kind" data-author="{a}" data-chart="pie">{fallback}</div>
<div class="scholar_stats_chart" id="paper-years" data-paper="{a}:p2" data-chart="years">{fallback}</div>
{snippet}
</body></html>"""


def visit(browser: Any, folder: Path, base: str) -> tuple[Any, list[str], list[str], Any]:
    snippet = render_html(make_options(urls=[f"{base}/gs_data.json"], timeout_ms=3000))
    (folder / "index.html").write_text(PAGE.format(a=A, fallback=FALLBACK, snippet=snippet), encoding="utf-8")
    context = browser.new_context()
    page, requests, errors = local_page(context, warnings=False)
    page.goto(f"{base}/index.html")
    result = page.evaluate("window.scholarStats")
    return page, errors, requests, result | {"context": context}


def inner(page: Any, selector: str) -> str:
    return page.eval_on_selector(selector, "e => e.innerHTML")  # type: ignore[no-any-return]


def test_chart_draws_the_snapshots_from_the_published_branch(browser: Any, tmp_path: Path) -> None:
    served, records = make_branch(tmp_path, "Ada Lovelace")
    assert (served / HISTORY_FILE).is_file() and (served / A / HISTORY_FILE).is_file()
    httpd, base = serve(served)
    try:
        page, errors, requests, result = visit(browser, served, base)
        assert errors == []
        assert all(urlsplit(u).hostname == "127.0.0.1" for u in requests)
        assert result["charts"] == 3
        # data-height and data-max-width: 90 px tall and the element's 600 px (not the default 480 at most).
        assert page.eval_on_selector(
            "#sized svg", "e => [e.getAttribute('width'), e.getAttribute('height')]"
        ) == [
            "600",
            "90",
        ]
        first, last = records[0], records[-1]
        label = page.get_attribute("#author svg", "aria-label")
        assert label == (
            f"Citations of Ada Lovelace: {first.metrics.citations} citations on {first.fetched_at:%Y-%m-%d}, "
            f"{last.metrics.citations} on {last.fetched_at:%Y-%m-%d}"
        )
        assert page.eval_on_selector("#author svg title", "e => e.textContent") == label
        assert page.get_attribute("#author", "data-scholar-stats-drawn") == str(last.metrics.citations)
        p2 = [next(p.citations for p in r.publications if p.author_pub_id == f"{A}:p2") for r in records]
        assert page.get_attribute("#paper", "data-scholar-stats-drawn") == str(p2[-1])
        assert f": {p2[0]} citations on" in (page.get_attribute("#paper svg", "aria-label") or "")
        # The path has one step per change point of the paper, not one per snapshot.
        steps = (page.get_attribute("#paper svg path.scholar_stats_chart_line", "d") or "").count("V")
        assert steps == sum(1 for a, b in itertools.pairwise(p2) if a != b)
        # Unknown paper and a malformed ID: left exactly as they were.
        assert inner(page, "#unknown-paper") == FALLBACK
        assert inner(page, "#bad-id") == FALLBACK
        # A chart kind that does not exist, or bars of one paper: left as they were.
        assert inner(page, "#bad-kind") == FALLBACK and inner(page, "#paper-years") == FALLBACK
        # The chart follows its element's width: drawn again when that changes.
        assert page.get_attribute("#author svg", "width") == "300"
        page.eval_on_selector("#author", "e => { e.style.width = '220px'; }")
        page.wait_for_function("document.querySelector('#author svg').getAttribute('width') === '220'")
        assert page.get_attribute("#author", "data-scholar-stats-drawn") == str(last.metrics.citations)
        assert inner(page, "#total_cit") == str(last.metrics.citations)
        result["context"].close()
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_page_unchanged_when_the_history_cannot_be_read(browser: Any, tmp_path: Path) -> None:
    served, records = make_branch(tmp_path, HOSTILE)
    httpd, base = serve(served)
    try:
        # A hostile name is text in the label, never markup.
        page, errors, _, result = visit(browser, served, base)
        assert errors == [] and page.evaluate("window.__pwned") is None
        assert HOSTILE in (page.get_attribute("#author svg", "aria-label") or "")
        assert page.eval_on_selector_all("#author img", "n => n.length") == 0
        result["context"].close()
        for broken in (
            "",
            "{",
            json.dumps(
                {"format": 1, "scholar_id": A, "start": "2024-06-01", "citations": "<b>", "papers": []}
            ),
            json.dumps(
                {"format": 1, "scholar_id": "someoneElse1", "start": "2024-06-01", "citations": [0, 1]}
            ),
        ):
            for path in (served / HISTORY_FILE, served / A / HISTORY_FILE):
                path.write_text(broken, encoding="utf-8")
            page, errors, _, result = visit(browser, served, base)
            assert errors == []
            assert result["charts"] == 0
            assert inner(page, "#author") == FALLBACK and inner(page, "#paper") == ""
            assert inner(page, "#total_cit") == str(records[-1].metrics.citations)
            result["context"].close()
        for path in (served / HISTORY_FILE, served / A / HISTORY_FILE):
            path.unlink()
        page, errors, _, result = visit(browser, served, base)
        assert result["charts"] == 0 and inner(page, "#author") == FALLBACK
        assert all("Failed to load resource" in e for e in errors)
        result["context"].close()
    finally:
        httpd.shutdown()
        httpd.server_close()
