"""The homepage chart's timing in headless Chromium: a first data URL that stalls, three authors.

    python bench/bench_chart.py                    # 5 page loads each, 150 ms per request
    python bench/bench_chart.py --latency 300 --repeat 9
    python bench/bench_chart.py --before REV       # also the script of git revision REV

1. Publishes three authors' 41 days (the data of ``tests/test_chart_layout_browser.py``) to a local
   data branch and serves it from 127.0.0.1, every answer delayed by ``--latency`` ms (a network's
   round trip); a second port accepts connections and never answers (a CDN that stalls).
2. Loads a page with ``#total_cit`` and the three authors' charts, the snippet configured with the
   stalling URL first (``--timeout-ms``, default 2000) and the served branch second.
3. Records, from the page, when the number was filled and when the last chart was drawn
   (``performance.now()``, a MutationObserver installed before the page's own scripts), and the
   duration of each chart file's request (Resource Timing).
4. Prints a Markdown table of the medians; exits 1 unless the charts are drawn no later than the
   numbers plus one request (the slowest chart file's request, plus 50 ms to draw).
"""

from __future__ import annotations

import argparse
import functools
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from test_chart_layout_browser import AUTHORS, build_branch  # noqa: E402

from crawler.outputs.embed import js_literal, make_options, render_html  # noqa: E402

DRAW_MS = 50
WATCH = """
window.__t = {numbers: null, charts: null};
new MutationObserver(() => {
  const total = document.getElementById('total_cit');
  if (window.__t.numbers === null && total && total.textContent !== '?') {
    window.__t.numbers = performance.now();
  }
  const charts = document.querySelectorAll('.scholar_stats_chart');
  if (window.__t.charts === null && charts.length && Array.from(charts).every(c => c.querySelector('svg'))) {
    window.__t.charts = performance.now();
  }
}).observe(document, {subtree: true, childList: true, characterData: true});
"""
PAGE = """<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,"></head><body>
<p>Cited <span id="total_cit">?</span> times.</p>
{charts}
{snippet}
</body></html>"""


def serve(folder: Path, latency: float) -> ThreadingHTTPServer:
    class Slow(SimpleHTTPRequestHandler):
        def do_GET(self) -> None:
            time.sleep(latency)
            super().do_GET()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Slow, directory=str(folder)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


def snippet(urls: list[str], timeout_ms: int, revision: str | None) -> str:
    html = render_html(make_options(urls=urls, timeout_ms=timeout_ms))
    if revision is None:
        return html
    old = subprocess.run(
        ["git", "show", f"{revision}:crawler/assets/scholar-stats.js"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    config = js_literal({"urls": urls, "timeoutMs": timeout_ms})
    script = re.sub(r"/\*scholar-stats:config\*/.*?/\*end\*/", lambda _m: config, old, flags=re.DOTALL)
    return f"<script>\n{script}</script>\n"


def load(browser: Any, url: str) -> dict[str, float]:
    context = browser.new_context()
    context.add_init_script(WATCH)
    page = context.new_page()
    page.goto(url)
    page.evaluate("window.scholarStats")
    page.wait_for_function("window.__t.charts !== null", timeout=60_000)
    times = page.evaluate("window.__t")
    requests = page.evaluate(
        "performance.getEntriesByType('resource').filter(e => e.name.endsWith('gs_history.json'))"
        ".map(e => e.duration)"
    )
    context.close()
    return {"numbers": times["numbers"], "charts": times["charts"], "request": max(requests)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=int, default=150, help="ms added to every answer (default 150)")
    parser.add_argument("--timeout-ms", type=int, default=2000, help="the snippet's --timeout-ms (2000)")
    parser.add_argument("--repeat", type=int, default=5, help="page loads per script (default 5)")
    parser.add_argument("--before", metavar="REV", help="also measure the script of this git revision")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        branch = build_branch(Path(tmp))
        httpd = serve(branch.served, args.latency / 1000)
        stall = socket.socket()
        stall.bind(("127.0.0.1", 0))
        stall.listen(16)
        base = f"http://127.0.0.1:{httpd.server_address[1]}"
        urls = [f"http://127.0.0.1:{stall.getsockname()[1]}/gs_data.json", f"{base}/gs_data.json"]
        charts = "\n".join(f'<div class="scholar_stats_chart" data-author="{a}"></div>' for a in AUTHORS)
        scripts = [("this version", None)] + (
            [(f"before ({args.before})", args.before)] if args.before else []
        )
        rows = []
        ok = True
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path="/usr/bin/chromium", args=["--headless", "--no-sandbox", "--disable-gpu"]
                )
                for label, revision in scripts:
                    name = f"page-{len(rows)}.html"
                    page = PAGE.format(charts=charts, snippet=snippet(urls, args.timeout_ms, revision))
                    (branch.served / name).write_text(page, encoding="utf-8")
                    runs = [load(browser, f"{base}/{name}") for _ in range(args.repeat)]
                    numbers = statistics.median(r["numbers"] for r in runs)
                    drawn = statistics.median(r["charts"] for r in runs)
                    request = statistics.median(r["request"] for r in runs)
                    met = all(r["charts"] <= r["numbers"] + r["request"] + DRAW_MS for r in runs)
                    if revision is None:
                        ok = met
                    rows.append(
                        f"| {label} | {len(runs)} | {numbers:,.0f} | {drawn:,.0f} | {drawn - numbers:,.0f} "
                        f"| {request:,.0f} | {'yes' if met else 'no'} |"
                    )
                browser.close()
        finally:
            httpd.shutdown()
            httpd.server_close()
            stall.close()
    print(
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"load average at the end {os.getloadavg()[0]:.1f}"
    )
    print(
        f"Page: {len(AUTHORS)} author charts and #total_cit; first URL stalls, --timeout-ms "
        f"{args.timeout_ms}; every answer of the second delayed {args.latency} ms"
    )
    print()
    print(
        "| script | loads | numbers (ms) | charts (ms) | charts - numbers (ms) | one request (ms) "
        "| target met |"
    )
    print("|---|---|---|---|---|---|---|")
    for row in rows:
        print(row)
    print()
    print(f"Target: charts no later than numbers + one chart-file request + {DRAW_MS} ms, on every load.")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
