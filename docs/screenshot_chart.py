"""Make the homepage chart pictures of docs/homepage.md.

    python docs/screenshot_chart.py  # writes docs/chart-citations.png, chart-years.png, chart-paper.png,
                                     # chart-phone-dark.png

Publishes the three authors of ``tests/test_chart_layout_browser.py`` (41 days up to yesterday, the
first author kept through a block for the last four) to a local data branch, serves it on 127.0.0.1,
loads a page with the snippet and one chart of each kind in a 720 px content column, and photographs
each chart with headless Chromium (``/usr/bin/chromium``, through playwright); then the same page at
375 px in dark mode.  The numbers are made up.
"""

from __future__ import annotations

import functools
import sys
import tempfile
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from test_chart_layout_browser import AUTHORS, build_branch  # noqa: E402

from crawler.outputs.embed import make_options, render_html  # noqa: E402

PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,">
<style>
body {{ margin: 0; font: 16px/1.5 -apple-system, "Segoe UI", Roboto, Arial, sans-serif;
  color: #494e52; background: #fff; }}
main {{ max-width: 720px; padding: 1em; }}
figure {{ margin: 0 0 1.5em; padding: 0.5em; }}
figcaption {{ font-size: 0.85em; }}
@media (prefers-color-scheme: dark) {{ body {{ color: #e0e0e0; background: #1e1e1e; }} }}
</style></head><body><main>
<figure id="f-citations"><div class="scholar_stats_chart" data-author="{a}"></div>
<figcaption>data-author: citations over time (the last days shaded: kept through a block)
</figcaption></figure>
<figure id="f-years"><div class="scholar_stats_chart" data-author="{a}" data-chart="years"></div>
<figcaption>data-chart="years": citations per year</figcaption></figure>
<figure id="f-paper"><div class="scholar_stats_chart" data-paper="{b}:p1"></div>
<figcaption>data-paper: one paper</figcaption></figure>
</main>
{snippet}
</body></html>"""


def main() -> int:
    from playwright.sync_api import sync_playwright

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

    with tempfile.TemporaryDirectory() as tmp:
        branch = build_branch(Path(tmp))
        httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(branch.served)))
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{httpd.server_address[1]}"
        snippet = render_html(make_options(urls=[f"{base}/gs_data.json"]))
        html = PAGE.format(a=AUTHORS[0], b=AUTHORS[1], snippet=snippet)
        (branch.served / "charts.html").write_text(html, encoding="utf-8")
        written = []
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path="/usr/bin/chromium", args=["--headless", "--no-sandbox", "--disable-gpu"]
                )
                page = browser.new_page(viewport={"width": 760, "height": 800}, device_scale_factor=1)
                page.goto(f"{base}/charts.html")
                page.evaluate("window.scholarStats")
                for kind in ("citations", "years", "paper"):
                    path = HERE / f"chart-{kind}.png"
                    page.locator(f"#f-{kind}").screenshot(path=str(path))
                    written.append(path)
                phone = browser.new_page(
                    viewport={"width": 375, "height": 700}, device_scale_factor=1, color_scheme="dark"
                )
                phone.goto(f"{base}/charts.html")
                phone.evaluate("window.scholarStats")
                path = HERE / "chart-phone-dark.png"
                phone.screenshot(path=str(path), full_page=True)
                written.append(path)
                browser.close()
        finally:
            httpd.shutdown()
            httpd.server_close()
    for path in written:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
