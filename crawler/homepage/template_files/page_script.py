"""The page script as a template's page includes it: the HTML snippet that reads the numbers
published on the site's own GitHub repository, which must therefore be known (not missing, not
the template's example)."""

from __future__ import annotations

from typing import TypeAlias

from crawler.errors import UsageError
from crawler.homepage import repository as sites
from crawler.homepage.repository import Site
from crawler.outputs.embed import make_options, render_html
from crawler.storage.store import DEFAULT_BRANCH

# (path relative to the site, its new text or None to remove it, why): one file init plans.
PlannedFile: TypeAlias = tuple[str, str | None, str]


def snippet(site: Site) -> str:
    if site.repo is None:
        example = sites.example_repo(site.root)
        if example is not None:
            raise UsageError(
                f"_config.yml's repository: {example} is the template's own example, not your site, and "
                f"{site.root} has no GitHub remote: add one (git remote add origin "
                "https://github.com/OWNER/NAME) or set `repository: OWNER/NAME` in _config.yml to your site's"
            )
        raise UsageError(
            f"cannot tell which GitHub repository {site.root} is: add a GitHub remote "
            "(git remote add origin https://github.com/OWNER/NAME) or `repository: OWNER/NAME` to _config.yml"
        )
    return render_html(make_options(repo=site.repo, branch=DEFAULT_BRANCH))
