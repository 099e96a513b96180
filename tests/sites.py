"""Homepage repositories for tests: the template-shaped sites in ``tests/fixtures/sites/`` as real git repos.

Each fixture holds the files of one template (AcadHomepage, al-folio,
academicpages) in the shape its own repository has them, trimmed to what
``init`` and ``doctor`` read or change.  ``make_site`` copies one into a fresh
git repository with one commit and a GitHub ``origin`` remote (never
contacted), as a user's clone would be.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures" / "sites"
TEMPLATE_DIRS = ("acadhomepage", "al-folio", "academicpages")
REMOTE = "https://github.com/alice/alice.github.io.git"
REPO = "alice/alice.github.io"
SCHOLAR_ID = "ExampleAAAAJ"
GIT_ENV = {
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "Alice",
    "GIT_AUTHOR_EMAIL": "alice@example.org",
    "GIT_COMMITTER_NAME": "Alice",
    "GIT_COMMITTER_EMAIL": "alice@example.org",
}


def git(cwd: Path, *args: str, check: bool = True) -> str:
    env = {**os.environ, **GIT_ENV}
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, env=env, check=False)
    if check and proc.returncode != 0:
        raise AssertionError(f"git {' '.join(args)}: {proc.stderr}")
    return proc.stdout


def seeded_remote(tmp: Path, bare: Path) -> Path:
    """A bare repository at ``bare`` whose main branch holds one commit (``index.md``):
    a homepage's GitHub remote."""
    bare.parent.mkdir(parents=True, exist_ok=True)
    git(tmp, "init", "--quiet", "--bare", "-b", "main", str(bare))
    seed = tmp / "seed"
    git(tmp, "clone", "--quiet", str(bare), str(seed))
    (seed / "index.md").write_text("# Alice\n")
    git(seed, "add", "index.md")
    git(seed, "commit", "--quiet", "-m", "homepage")
    git(seed, "push", "--quiet", "origin", "HEAD:main")
    return bare


def make_site(tmp: Path, template: str, *, remote: str | None = REMOTE) -> Path:
    site = tmp / f"site-{template}"
    shutil.copytree(FIXTURES / template, site)
    (site / "README.md").unlink()
    git(site, "init", "--quiet", "-b", "main")
    git(site, "add", "-A")
    git(site, "commit", "--quiet", "-m", "site")
    if remote:
        git(site, "remote", "add", "origin", remote)
    return site


def status(site: Path) -> list[str]:
    """``git status --porcelain`` lines, untracked files one by one."""
    return sorted(git(site, "status", "--porcelain", "--untracked-files=all").splitlines())


def tree_bytes(site: Path) -> dict[str, bytes]:
    """Every file of the site but .git, by relative path."""
    return {
        p.relative_to(site).as_posix(): p.read_bytes()
        for p in sorted(site.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(site).parts[:1]
    }


_INCLUDE_RE = re.compile(r"\{%-?\s*include\s+([\w./-]+)[^%]*-?%\}")
_LIQUID_RE = re.compile(r"\{%.*?%\}|\{\{.*?\}\}", re.DOTALL)
_FRONT_MATTER_RE = re.compile(r"\A---\n.*?\n---\n", re.DOTALL)


def render_page(site: Path, layout: str, page: str, depth: int = 0) -> str:
    """The HTML Jekyll would build for ``page`` in ``layout``, as far as scripts and markup go.

    Includes are expanded from ``_includes/`` (recursively), the page body goes
    where ``{{ content }}`` is, and every other Liquid tag renders as nothing.
    Markdown is left as it is: the elements the snippet fills are inline HTML.
    """
    body = _FRONT_MATTER_RE.sub("", (site / page).read_text(encoding="utf-8"))
    html = _FRONT_MATTER_RE.sub("", (site / layout).read_text(encoding="utf-8"))
    html = html.replace("{{ content }}", "\0CONTENT\0")
    html = expand_includes(site, html)
    html = _LIQUID_RE.sub("", html)
    return html.replace("\0CONTENT\0", body)


def expand_includes(site: Path, text: str, depth: int = 0) -> str:
    assert depth < 10, "include loop"

    def include(match: re.Match[str]) -> str:
        path = site / "_includes" / match.group(1)
        if not path.is_file():
            return ""
        return expand_includes(site, path.read_text(encoding="utf-8"), depth + 1)

    return _INCLUDE_RE.sub(include, text)


def action_remote(tmp: Path) -> tuple[Path, str]:
    """A bare repository standing in for the Action's own on GitHub, with this release's annotated tag.

    Returns its path and the tagged commit, which init must pin.
    """
    from crawler import __version__

    work = tmp / "action-work"
    work.mkdir()
    git(work, "init", "--quiet", "-b", "main")
    (work / "action.yml").write_text("name: scholar-stats\n")
    git(work, "add", "-A")
    git(work, "commit", "--quiet", "-m", "release")
    git(work, "tag", "-a", f"v{__version__}", "-m", f"v{__version__}")
    bare = tmp / "action.git"
    git(tmp, "clone", "--quiet", "--bare", str(work), str(bare))
    return bare, git(work, "rev-parse", "HEAD").strip()
