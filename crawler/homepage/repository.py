"""What kind of homepage a folder is, and what its files already say.

The templates are told apart by the files each one ships (read from the
templates' own repositories):

* AcadHomepage: ``google_scholar_crawler/``, a workflow that runs it, or
  ``_includes/fetch_google_scholar_stats.html``;
* al-folio: Liquid layouts (``_layouts/*.liquid``) and a ``scholar_userid`` in
  ``_data/socials.yml`` (older versions: ``_config.yml``) or a ``_bibliography/``;
* academicpages: ``_includes/footer/custom.html``, its slot for custom scripts;
* anything else is a plain site.

YAML is read line by line for the one or two keys needed, so a site's
unusual YAML (anchors, tags, Liquid inside strings) can never make init fail.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from crawler.errors import UsageError
from crawler.models import normalize_scholar_id
from crawler.net.cdn import repo_slug
from crawler.storage.readfile import MAX_HOMEPAGE_FILE_BYTES, read_bounded_or_none

TEMPLATES = ("acadhomepage", "al-folio", "academicpages", "plain")

ACAD_INCLUDE = "_includes/fetch_google_scholar_stats.html"
ACAD_CRAWLER = "google_scholar_crawler"
ALFOLIO_SOCIALS = "_data/socials.yml"
ALFOLIO_CITATIONS_WORKFLOW = ".github/workflows/update-citations.yml"
ACADEMICPAGES_FOOTER = "_includes/footer/custom.html"
WORKFLOWS = ".github/workflows"

# The IDs the templates ship as examples (al-folio's Einstein, academicpages'
# sample author): a site that still has them has not named its own profile.
TEMPLATE_EXAMPLE_IDS = frozenset({"qc6CJjYAAAAJ", "PS_CX0AAAAAJ"})
# Likewise the `repository:` the templates ship, which forks often keep.
TEMPLATE_EXAMPLE_REPOS = frozenset(
    {
        "academicpages/academicpages.github.io",
        "rayeren/acad-homepage.github.io",
        "alshedivat/al-folio",
    }
)

SOURCE_SUFFIXES = (".md", ".markdown", ".html", ".htm", ".liquid")
SKIP_DIRS = {".git", "_site", "node_modules", "vendor", ".bundle", ".jekyll-cache", ".sass-cache", "public"}
# The elements the page script fills (crawler/assets/scholar-stats.js): without one, nothing shows.
NUMBER_ELEMENT_RE = re.compile(
    r"""\bid\s*=\s*["'](?:total_cit|h_index|i10_index|gs_updated)["']"""
    r"""|\bclass\s*=\s*["'][^"']*\bshow_paper_citations\b|\bdata-scholar-stats\s*=""",
    re.IGNORECASE,
)

# A script's own text (the snippet names the elements it fills) is not an element on the page.
_SCRIPT_RE = re.compile(r"<script\b.*?</script\s*>", re.IGNORECASE | re.DOTALL)


def has_number_element(text: str) -> bool:
    """Whether ``text`` (a page source) has an element the page script fills."""
    return NUMBER_ELEMENT_RE.search(_SCRIPT_RE.sub("", text)) is not None


_TOP_KEY = r"^{key}[ \t]*:[ \t]*(?P<value>[^\n]*)$"
_GITHUB_REMOTE_RE = re.compile(r"github\.com[:/]", re.IGNORECASE)


@dataclass(frozen=True)
class Site:
    root: Path
    template: str
    scholar_id: str | None
    scholar_id_from: str | None
    """The file the Scholar ID was read from (None when it was given or not found)."""
    repo: str | None
    """OWNER/NAME on GitHub, from the ``origin`` remote or ``_config.yml``'s ``repository``."""


def read_text(path: Path) -> str | None:
    """A file of the homepage repository, ``None`` where there is none; a link, a FIFO, a
    device or a file above ``MAX_HOMEPAGE_FILE_BYTES`` is a ``UsageError`` naming it."""
    if path.is_dir() and not path.is_symlink():
        return None
    data = read_bounded_or_none(path, limit=MAX_HOMEPAGE_FILE_BYTES, error=UsageError)
    return None if data is None else data.decode("utf-8", errors="replace")


def yaml_scalar(text: str, key: str) -> str | None:
    """The value of top-level ``key`` in YAML ``text``: unquoted, without its comment."""
    match = re.search(_TOP_KEY.format(key=re.escape(key)), text, re.MULTILINE)
    return _scalar(match.group("value")) if match else None


def _scalar(raw: str) -> str | None:
    value = raw.strip()
    if value[:1] in ("'", '"'):
        end = value.find(value[0], 1)
        value = value[1:end] if end > 0 else value[1:]
    else:
        value = re.split(r"\s+#", value, maxsplit=1)[0].strip()
    return value or None


def yaml_nested(text: str, parent: str, key: str) -> str | None:
    """The value of ``parent: key:`` (one level of indentation) in YAML ``text``."""
    inside = False
    for line in text.splitlines():
        if re.match(rf"^{re.escape(parent)}[ \t]*:[ \t]*(#.*)?$", line):
            inside = True
            continue
        if inside and line.strip() and not line[:1].isspace() and not line.lstrip().startswith("#"):
            inside = False
        if inside:
            match = re.match(rf"^[ \t]+{re.escape(key)}[ \t]*:[ \t]*(?P<value>.*)$", line)
            if match:
                return _scalar(match.group("value"))
    return None


def _own_id(value: str | None) -> str | None:
    if not value:
        return None
    try:
        scholar_id = normalize_scholar_id(value)
    except ValueError:
        return None
    return None if scholar_id in TEMPLATE_EXAMPLE_IDS else scholar_id


def old_crawler_workflows(root: Path) -> list[str]:
    """AcadHomepage's crawler workflows: any workflow that runs ``google_scholar_crawler``."""
    found = []
    folder = root / WORKFLOWS
    if folder.is_dir():
        for path in sorted(folder.iterdir()):
            if path.suffix in (".yml", ".yaml") and path.is_file() and not path.is_symlink():
                text = read_text(path) or ""
                if ACAD_CRAWLER in text and "scholar-stats" not in path.name:
                    found.append(f"{WORKFLOWS}/{path.name}")
    return found


def detect_template(root: Path) -> str:
    if (root / ACAD_CRAWLER).is_dir() or (root / ACAD_INCLUDE).is_file() or old_crawler_workflows(root):
        return "acadhomepage"
    layouts = root / "_layouts"
    if layouts.is_dir() and any(layouts.glob("*.liquid")):
        config = read_text(root / "_config.yml") or ""
        socials = read_text(root / ALFOLIO_SOCIALS) or ""
        if "scholar_userid" in socials or "scholar_userid" in config or (root / "_bibliography").is_dir():
            return "al-folio"
    if (root / ACADEMICPAGES_FOOTER).is_file():
        return "academicpages"
    return "plain"


def find_scholar_id(root: Path, template: str) -> tuple[str | None, str | None]:
    """The author's Scholar ID as the site names it, and the file it was read from."""
    config = read_text(root / "_config.yml") or ""
    if template == "al-folio":
        for name, text in (
            (ALFOLIO_SOCIALS, read_text(root / ALFOLIO_SOCIALS) or ""),
            ("_config.yml", config),
        ):
            found = _own_id(yaml_scalar(text, "scholar_userid"))
            if found:
                return found, name
        return None, None
    found = _own_id(yaml_nested(config, "author", "googlescholar"))
    return (found, "_config.yml") if found else (None, None)


def find_repo(root: Path) -> str | None:
    """OWNER/NAME of the site on GitHub: the ``origin`` remote first, then ``_config.yml``."""
    proc = subprocess.run(
        ["git", "-C", str(root), "remote", "get-url", "origin"], capture_output=True, text=True, check=False
    )
    url = proc.stdout.strip()
    if proc.returncode == 0 and _GITHUB_REMOTE_RE.search(url):
        slug = repo_slug(url)
        if slug:
            return slug
    configured = yaml_scalar(read_text(root / "_config.yml") or "", "repository")
    if (
        configured
        and re.match(r"^[\w.-]+/[\w.-]+$", configured)
        and configured.lower() not in TEMPLATE_EXAMPLE_REPOS
    ):
        return configured
    return None


def inspect(root: Path, template: str = "auto") -> Site:
    kind = detect_template(root) if template == "auto" else template
    scholar_id, source = find_scholar_id(root, kind)
    return Site(root=root, template=kind, scholar_id=scholar_id, scholar_id_from=source, repo=find_repo(root))


def source_files(root: Path) -> Iterator[Path]:
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            entries = sorted(folder.iterdir())
        except OSError:
            continue
        for entry in entries:
            if entry.is_symlink():
                continue
            if entry.is_dir():
                if entry.name not in SKIP_DIRS:
                    stack.append(entry)
            elif entry.suffix.lower() in SOURCE_SUFFIXES or (
                entry.suffix == ".js" and "scholar-stats" in entry.name
            ):
                yield entry


def shows_a_number(root: Path) -> bool:
    """Whether any page source of the site has an element the page script fills."""
    for path in source_files(root):
        text = read_text(path)
        if text is not None and has_number_element(text):
            return True
    return False


def example_repo(root: Path) -> str | None:
    """The template's own ``repository:`` when ``_config.yml`` still names it (a fork kept it)."""
    configured = yaml_scalar(read_text(root / "_config.yml") or "", "repository")
    return configured if configured and configured.lower() in TEMPLATE_EXAMPLE_REPOS else None
