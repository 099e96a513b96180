"""Draw docs/on-block-{keep,bridge,replace}.png: the badges and the page after a blocked day.

    python docs/on_block_pictures.py

Each picture comes from a real two-day run per policy, as in tests/test_on_block.py:
the local Scholar of tests/replay.py answers on day one and shows its CAPTCHA on
day two; a local OpenAlex answers both days, counting six citations more on the
second.  The badge SVGs are the files `run` wrote; the page is a homepage with
the snippet, filled in headless Chromium (/usr/bin/chromium), its tooltip
written out under it.  Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
import tempfile
import threading
from datetime import timedelta
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "sources")]

from replay import Captcha, ReplayServer  # noqa: E402
from standin import StandIn  # noqa: E402
from test_on_block import GROWTH, OPENALEX_ID, SID, openalex_answer  # noqa: E402

from crawler.models import format_time, utc_now  # noqa: E402
from crawler.outputs.embed import make_options, render_html  # noqa: E402

CAPTIONS = {
    "keep": "the last numbers, marked stale (here after a week: grey badges)",
    "bridge": "Scholar's last numbers plus OpenAlex's growth since, as an estimate",
    "replace": "OpenAlex's own numbers, labelled, under the Scholar keys",
}


class Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def run(folder: Path, replay: ReplayServer, openalex: StandIn, policy: str) -> None:
    config = folder / "scholar-stats.toml"
    config.write_text(
        f'data_dir = "data"\ndelay = 0\nretries = 0\non_block = "{policy}"\n\n[[authors]]\nid = "{SID}"\n'
        f'label = "Ada Example"\nsources = ["scholar", "openalex"]\nopenalex = "{OPENALEX_ID}"\n',
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if k != "GITHUB_STEP_SUMMARY"}
    env["SCHOLAR_STATS_OPENALEX_URL"] = openalex.url
    subprocess.run(
        [sys.executable, "-m", "crawler", "-q", "run", "--config", str(config), "--base-url", replay.url],
        env=env,
        timeout=180,
        check=False,
    )


def two_days(folder: Path, policy: str) -> list[str]:
    with ReplayServer() as replay:
        openalex = StandIn().start()
        try:
            profile = replay.add_profile(SID, 12, citations=425, name="Ada Example")
            openalex_answer(openalex, profile, {})
            run(folder, replay, openalex, policy)
            replay.set_scenario(SID, Captcha())
            openalex_answer(openalex, profile, GROWTH)
            run(folder, replay, openalex, policy)
            if policy == "keep":
                state_path = folder / "data" / SID / "state.json"
                state = json.loads(state_path.read_text(encoding="utf-8"))
                state["stale_since"] = format_time(utc_now() - timedelta(days=8))
                state_path.write_text(json.dumps(state), encoding="utf-8")
                run(folder, replay, openalex, policy)
        finally:
            openalex.close()
    return [p.author_pub_id for p in profile.publications[:2]]


def page(folder: Path, url: str, policy: str, papers: list[str]) -> str:
    author = f"data/{SID}"
    snippet = render_html(make_options(urls=[f"{url}/{author}/gs_data.json"], timeout_ms=5000))
    pub_badge = f"{author}/badges/pubs/{papers[0]}.svg"
    return f"""<!doctype html><meta charset="utf-8"><title>{policy}</title>
<style>
  body {{ font-family: sans-serif; margin: 0; }}
  #shot {{ width: 640px; padding: 14px 18px; border: 1px solid #ddd; background: #fff; }}
  h3 {{ margin: 0 0 8px; font-size: 15px; }}
  .badges img {{ margin-right: 6px; vertical-align: middle; }}
  .page {{ margin-top: 10px; padding: 8px 10px; background: #f7f7f9; font-size: 14px; line-height: 1.6; }}
  .tip {{ margin-top: 6px; font-size: 12px; color: #555; }}
</style>
<div id="shot">
  <h3>on_block = "{policy}": {CAPTIONS[policy]}</h3>
  <div class="badges">
    <img src="{author}/badges/citations.svg"><img src="{author}/badges/h-index.svg"><img src="{pub_badge}">
  </div>
  <div class="page">
    Cited <strong><span id="total_cit">…</span></strong> times (Google Scholar) ·
    h-index <span id="h_index">…</span><br>
    Bayesian sensing for software repositories. <strong><span class="show_paper_citations" \
data="{papers[0]}"></span></strong><br>
    Thermal modelling for graph data. <strong><span class="show_paper_citations" \
data="{papers[1]}"></span></strong>
    <div class="tip">tooltip: <span id="tip"></span></div>
  </div>
</div>
{snippet}
<script>window.scholarStats.then(function () {{
  document.getElementById('tip').textContent = \
document.getElementById('total_cit').getAttribute('title') || '(none)';
  document.body.setAttribute('data-done', '1');
}});</script>"""


def main() -> None:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=["--headless", "--no-sandbox"]
        )
        for policy in ("keep", "bridge", "replace"):
            folder = Path(tmp) / policy
            folder.mkdir()
            papers = two_days(folder, policy)
            httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(folder)))
            threading.Thread(target=httpd.serve_forever, daemon=True).start()
            try:
                url = f"http://127.0.0.1:{httpd.server_address[1]}"
                (folder / "index.html").write_text(page(folder, url, policy, papers), encoding="utf-8")
                tab = browser.new_page(viewport={"width": 700, "height": 300}, device_scale_factor=2)
                tab.goto(f"{url}/index.html")
                tab.wait_for_selector("body[data-done]")
                out = ROOT / "docs" / f"on-block-{policy}.png"
                tab.locator("#shot").screenshot(path=str(out))
                tab.close()
                print(out.relative_to(ROOT))
            finally:
                httpd.shutdown()
                httpd.server_close()
        browser.close()


if __name__ == "__main__":
    main()
