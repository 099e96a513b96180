"""The bookmarklet in headless Chromium, on a saved Scholar profile page served from 127.0.0.1
whose "Show more" button works like Scholar's: each click appends rows, the last one disables it."""

from __future__ import annotations

import json
import re
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from chromium import launched

from crawler.sources.bookmarklet import bookmarklet, source
from crawler.sources.scholar_page import parse_profile

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent
PAGE = ROOT / "fixtures" / "scholar" / "cherukuri_en_20rows_showmore.html"
SID = "amIMrIEAAAAJ"
TOTAL = 47

# Scholar's own script asks its server for the next rows; this stand-in makes them up
# from the first row, a batch per click after a short wait, and disables the button
# on the last batch, as Scholar's does (``b.disabled = !more``).
SHOW_MORE = """<script>
(function () {
  var total = TOTAL, batch = 20, delay = 150, clicks = 0;
  document.getElementById('gsc_bpf_more').addEventListener('click', function () {
    var button = this, body = document.getElementById('gsc_a_b');
    clicks += 1;
    window.showMoreClicks = clicks;
    button.disabled = true;  // Scholar disables it while the request is out
    setTimeout(function () {
      var template = body.rows[0];
      for (var i = 0; i < batch && body.rows.length < total; i++) {
        var row = template.cloneNode(true), n = body.rows.length + 1;
        var link = row.querySelector('a.gsc_a_at');
        link.setAttribute('href', link.getAttribute('href').replace(/:[^:&]+$/, ':more' + \
('000000' + n).slice(-7)));
        link.textContent = 'A later paper number ' + n;
        row.querySelector('a.gsc_a_ac').textContent = String(n % 5);
        body.appendChild(row);
      }
      document.getElementById('gsc_a_nn').textContent = 'Articles 1\\u2013' + body.rows.length;
      button.disabled = body.rows.length >= total;
    }, delay);
  });
})();
</script>""".replace("TOTAL", str(TOTAL))


def profile_page() -> bytes:
    html = PAGE.read_text(encoding="utf-8")
    # Scholar's own scripts would call Scholar; the stand-in does their job here.
    html = re.sub(r"<script\b.*?</script>", "", html, flags=re.DOTALL)
    return html.replace("</body>", SHOW_MORE + "</body>").encode("utf-8")


@pytest.fixture
def site() -> Iterator[str]:
    pages = {"/citations": profile_page(), "/other": b"<!doctype html><title>Not Scholar</title><p>hello</p>"}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            body = pages.get(self.path.split("?", 1)[0])
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def tab(site: str) -> Iterator[Any]:
    with launched() as browser:
        context = browser.new_context(accept_downloads=True)
        # The saved page links Scholar's images and fonts: nothing leaves 127.0.0.1.
        context.route(
            "**/*",
            lambda route: route.continue_() if route.request.url.startswith(site) else route.abort(),
        )
        page = context.new_page()
        page.dialogs = []
        page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
        try:
            yield page
        finally:
            context.close()


def click_bookmark(page: Any) -> None:
    """What clicking the bookmark does: run the javascript: URL's code in the page."""
    link = bookmarklet()
    assert link.startswith("javascript:") and "\n" not in link
    page.add_script_tag(content=unquote(link[len("javascript:") :]))


def test_bookmarklet_shows_more_until_complete_and_saves_the_page(
    tab: Any, site: str, tmp_path: Path
) -> None:
    tab.goto(f"{site}/citations?user={SID}&hl=en")
    with tab.expect_download(timeout=60_000) as info:
        click_bookmark(tab)
    download = info.value
    assert download.suggested_filename.startswith(f"scholar-{SID}-") and download.suggested_filename.endswith(
        ".html"
    )
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    assert tab.evaluate("window.showMoreClicks") == 2  # 20 -> 40 -> 47, then disabled
    assert tab.dialogs == []

    page = parse_profile(saved.read_bytes())
    assert len(page.publications) == TOTAL and not page.has_more
    assert page.profile.scholar_id == SID
    assert len({p.author_pub_id for p in page.publications}) == TOTAL

    # import-html takes it as it is.
    data = tmp_path / "data"
    result = subprocess.run(
        ["scholar-stats", "import-html", str(saved), "--author", SID, "--data-dir", str(data)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    (snapshot,) = (data / SID / "snapshots").glob("*.json")
    assert json.loads(snapshot.read_text(encoding="utf-8"))["publication_count"] == TOTAL


def test_bookmarklet_elsewhere_says_so_and_saves_nothing(tab: Any, site: str) -> None:
    tab.goto(f"{site}/other")
    downloads: list[Any] = []
    tab.on("download", lambda download: downloads.append(download))
    click_bookmark(tab)
    tab.wait_for_timeout(500)
    assert downloads == []
    assert len(tab.dialogs) == 1 and "not a Google Scholar profile page" in tab.dialogs[0]


def test_bookmarklet_command_prints_the_link_and_its_source() -> None:
    link = subprocess.run(["scholar-stats", "bookmarklet"], capture_output=True, text=True, timeout=60)
    assert link.returncode == 0 and link.stdout.startswith("javascript:") and link.stdout.count("\n") == 1
    assert " " not in link.stdout.strip()  # a bookmark's address holds no raw space
    readable = subprocess.run(
        ["scholar-stats", "bookmarklet", "--source"], capture_output=True, text=True, timeout=60
    )
    assert readable.stdout == source() + "\n"
    assert "gsc_bpf_more" in readable.stdout
