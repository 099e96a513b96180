"""After ``scholar-stats init``, each template's page shows the numbers in headless Chromium.

End to end and local: ``scholar-stats run`` fetches a profile from the local
Scholar (``tests/replay.py``), ``scholar-stats publish`` pushes it to the data
branch of a real bare repository, the site's page is assembled from the files
init wrote (its layout with every include expanded, as Jekyll would), and the
browser loads it.  The page asks jsDelivr for the data; the browser's requests
to jsDelivr and raw.githubusercontent.com are answered from the bare
repository's data branch (``git show``), so what the page shows is what was
published.  Nothing here talks to the internet.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from replay import ReplayServer
from sites import REPO, SCHOLAR_ID, action_remote, git, make_site, render_page
from test_embed_browser import Site

pytestmark = pytest.mark.browser

BRANCH = "google-scholar-stats"
PAPER_1, PAPER_2 = f"{SCHOLAR_ID}:OHD2zAxuxZaa", f"{SCHOLAR_ID}:foVuExX66Kzq"
CDN = f"https://cdn.jsdelivr.net/gh/{REPO}@{BRANCH}/"
RAW = f"https://raw.githubusercontent.com/{REPO}/{BRANCH}/"


def scholar_stats(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "GITHUB_STEP_SUMMARY"}
    env.update({"GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"})
    return subprocess.run(
        [sys.executable, "-m", "crawler", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
    )


@pytest.fixture(autouse=True)
def _local_action_remote(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # init looks the release's commit up with git ls-remote: here, never on github.com.
    monkeypatch.setenv("SCHOLAR_STATS_ACTION_REMOTE", str(action_remote(tmp_path)[0]))


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A data branch on a bare repository, published by scholar-stats from the local Scholar."""
    tmp = tmp_path_factory.mktemp("published")
    bare = tmp / "alice.github.io.git"
    git(tmp, "init", "--quiet", "--bare", str(bare))
    scratch = tmp / "scratch.git"
    git(tmp, "init", "--quiet", "--bare", str(scratch))
    git(scratch, "remote", "add", "origin", str(bare))
    with ReplayServer() as replay:
        profile = replay.add_profile(SCHOLAR_ID, 12, name="Ada Example")
        run = scholar_stats(
            "run",
            "--author",
            SCHOLAR_ID,
            "--data-dir",
            str(tmp / "data"),
            "--base-url",
            replay.url,
            "--delay",
            "0",
            cwd=tmp,
        )
    assert run.returncode == 0, run.stderr
    pub = scholar_stats(
        "publish", "--repo", str(scratch), "--branch", BRANCH, "--data-dir", str(tmp / "data"), cwd=tmp
    )
    assert pub.returncode == 0, pub.stderr
    gs_data = json.loads(git(bare, "show", f"{BRANCH}:gs_data.json"))
    yield {"bare": bare, "gs_data": gs_data, "profile": profile}


def show(browser: Any, published: dict[str, Any], html: str, tmp: Path) -> Any:
    home = Site(tmp).start()
    home.pages["/index.html"] = html.encode("utf-8")
    bare = published["bare"]
    asked: list[str] = []

    def from_branch(route: Any) -> None:
        url = route.request.url
        asked.append(url)
        path = url.split(CDN if url.startswith(CDN) else RAW, 1)[1]
        proc = subprocess.run(
            ["git", "-C", str(bare), "show", f"{BRANCH}:{path}"], capture_output=True, check=False
        )
        if proc.returncode != 0:
            route.fulfill(status=404, body="Not Found")
            return
        route.fulfill(
            status=200,
            body=proc.stdout,
            content_type="application/json",
            headers={"Access-Control-Allow-Origin": "*"},
        )

    context = browser.new_context()
    # Routes added later win: nothing but the local page and the two CDNs is reachable.
    context.route(
        "**/*", lambda route: route.continue_() if route.request.url.startswith(home.url) else route.abort()
    )
    context.route(f"{CDN}**", from_branch)
    context.route(f"{RAW}**", from_branch)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{home.url}/index.html")
    result = page.evaluate("window.scholarStats")  # a promise, awaited: the numbers are in
    texts = page.evaluate(
        """() => ({
            total: document.querySelector('#total_cit') && document.querySelector('#total_cit').textContent,
            papers: Array.from(document.querySelectorAll('.show_paper_citations'),
                               e => [e.getAttribute('data'), e.textContent]),
        })"""
    )
    context.close()
    home.close()
    assert errors == []
    assert result["url"] == f"{CDN}gs_data.json" and result["errors"] == [], result
    assert asked == [result["url"]]
    return texts


def citations_of(published: dict[str, Any], pub_id: str) -> int:
    return int(published["gs_data"]["publications"][pub_id]["num_citations"])


def test_acadhomepage_after_init(tmp_path: Path, browser: Any, published: dict[str, Any]) -> None:
    site = make_site(tmp_path, "acadhomepage")
    assert scholar_stats("init", "--repo", str(site), cwd=tmp_path).returncode == 0
    html = render_page(site, "_layouts/default.html", "_pages/about.md")
    assert "$(document).ready" not in html  # AcadHomepage's jQuery script is gone
    shown = show(browser, published, html, tmp_path)
    assert shown["total"] == str(published["gs_data"]["citedby"]) == str(published["profile"].citations)
    assert shown["papers"] == [
        [PAPER_1, f"| Citations: {citations_of(published, PAPER_1)}"],
        [PAPER_2, f"| Citations: {citations_of(published, PAPER_2)}"],
    ]


def test_al_folio_after_init(tmp_path: Path, browser: Any, published: dict[str, Any]) -> None:
    site = make_site(tmp_path, "al-folio")
    assert scholar_stats("init", "--repo", str(site), cwd=tmp_path).returncode == 0
    # al-folio's about page has no element for the total: the one docs/homepage.md says to add.
    docs = (Path(__file__).parent.parent / "docs" / "homepage.md").read_text(encoding="utf-8")
    element = '<span id="total_cit"></span> citations'
    assert f"`_pages/about.md`:\n`{element}`" in docs
    with (site / "_pages" / "about.md").open("a", encoding="utf-8") as about:
        about.write(f"\nCited: {element}.\n")
    html = render_page(site, "_layouts/default.liquid", "_pages/about.md")
    shown = show(browser, published, html, tmp_path)
    assert shown["total"] == str(published["gs_data"]["citedby"])


def test_academicpages_after_init(tmp_path: Path, browser: Any, published: dict[str, Any]) -> None:
    site = make_site(tmp_path, "academicpages")
    proc = scholar_stats("init", "--repo", str(site), cwd=tmp_path)
    assert proc.returncode == 0
    # The theme has no element for the numbers: add those init's next steps name, where they say.
    total_line = re.search(r'Cited by <span id="total_cit"></span> times on Google Scholar\.', proc.stdout)
    paper_line = re.search(
        r'<span class="show_paper_citations" data="SCHOLAR_ID:PAPER_ID"></span>', proc.stdout
    )
    assert total_line and paper_line, proc.stdout
    with (site / "_pages" / "about.md").open("a", encoding="utf-8") as about_md:
        about_md.write("\n" + total_line.group(0) + "\n")
    with (site / "_publications" / "2021-example-learning.md").open("a", encoding="utf-8") as paper_md:
        paper_md.write("\nCited " + paper_line.group(0).replace("SCHOLAR_ID:PAPER_ID", PAPER_1) + ".\n")
    about = render_page(site, "_layouts/default.html", "_pages/about.md")
    assert show(browser, published, about, tmp_path)["total"] == str(published["gs_data"]["citedby"])
    paper = render_page(site, "_layouts/default.html", "_publications/2021-example-learning.md")
    shown = show(browser, published, paper, tmp_path)
    assert shown["papers"] == [[PAPER_1, f"| Citations: {citations_of(published, PAPER_1)}"]]
