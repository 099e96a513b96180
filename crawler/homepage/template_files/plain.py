"""A plain site's file: ``assets/js/scholar-stats.js``, the page script on its own, for the site's
pages to load (``init`` says how)."""

from __future__ import annotations

from crawler.homepage.repository import Site
from crawler.homepage.template_files.page_script import PlannedFile, snippet
from crawler.outputs.embed import make_options, render_js
from crawler.storage.store import DEFAULT_BRANCH

PLAIN_SCRIPT = "assets/js/scholar-stats.js"


def files(site: Site) -> list[PlannedFile]:
    options = make_options(repo=_repo_or_fail(site), branch=DEFAULT_BRANCH)
    return [(PLAIN_SCRIPT, render_js(options), "the page script, for your page to load")]


def _repo_or_fail(site: Site) -> str:
    snippet(site)
    assert site.repo is not None
    return site.repo
