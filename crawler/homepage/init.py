"""``scholar-stats init``: the files that set a homepage repository up, as a plan.

A plan lists every file init would write or remove, with its bytes before and
after; it is shown as a unified diff (``--dry-run``) or applied.  Files whose
content would not change are left out, so a second run finds nothing to do.
Before anything is written, git must say that none of the planned files holds
uncommitted edits: the user's work is never overwritten, and everything init
does can be reviewed with ``git diff`` and undone with ``git checkout``.

What each template gets (besides the workflow and ``scholar-stats.toml``)::

    acadhomepage   _includes/fetch_google_scholar_stats.html replaced by the snippet
                   (same include, same #total_cit / .show_paper_citations), the old
                   google_scholar_crawler workflow removed
    al-folio       _includes/scholar-stats.liquid, included from _layouts/default.liquid;
                   .github/workflows/update-citations.yml removed (the Action keeps
                   _data/citations.yml instead, input al-folio-citations)
    academicpages  the snippet in _includes/footer/custom.html, between markers
    plain          assets/js/scholar-stats.js, for the page to load
"""

from __future__ import annotations

import difflib
import json
import os
import re
import subprocess
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from crawler import __version__
from crawler.errors import UsageError
from crawler.homepage import lab
from crawler.homepage import repository as sites
from crawler.homepage.repository import Site
from crawler.models import normalize_scholar_id
from crawler.outputs.embed import make_options, render_html, render_js
from crawler.sources import SOURCES
from crawler.storage.readfile import MAX_HOMEPAGE_FILE_BYTES, read_bounded_or_none
from crawler.storage.store import DEFAULT_BRANCH, atomic_write_bytes

ACTION_REPO = "scholar-stats/scholar-stats"
WORKFLOW = ".github/workflows/scholar-stats.yml"
CONFIG = "scholar-stats.toml"
SECRET = "GOOGLE_SCHOLAR_ID"
IMPORT_GIT_LINE = "          import-git: true"
DOCS_URL = f"https://github.com/{ACTION_REPO}/blob/main/docs"
CHECKOUT = "actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1"

ALFOLIO_INCLUDE = "_includes/scholar-stats.liquid"
ALFOLIO_LAYOUT = "_layouts/default.liquid"
ACADHOMEPAGE_SCRIPTS = "_includes/scripts.html"
PLAIN_SCRIPT = "assets/js/scholar-stats.js"

BEGIN = "<!-- scholar-stats:begin (written by scholar-stats init; run it again to update) -->"
END = "<!-- scholar-stats:end -->"
_BLOCK_RE = re.compile(re.escape(BEGIN) + r".*?" + re.escape(END) + r"\n?", re.DOTALL)
# Sources that look the author up by another ID than the Scholar one.
_OTHER_ID = {"openalex": "openalex", "semantic-scholar": "semantic_scholar"}


@dataclass(frozen=True)
class FileChange:
    path: str
    """Relative to the site's folder, with '/'."""
    before: bytes | None
    after: bytes | None
    """None: the file is removed."""
    why: str


@dataclass(frozen=True)
class Plan:
    site: Site
    changes: tuple[FileChange, ...]
    todo: tuple[str, ...]
    warnings: tuple[str, ...] = ()


ACTION_REMOTE_ENV = "SCHOLAR_STATS_ACTION_REMOTE"
# The Action's ``uses:`` line, or the lab workflow's ``pip install "...@SHA" # vX.Y.Z``.
_PINNED_LINE_RE = re.compile(
    rf"{re.escape(ACTION_REPO)}@(?P<sha>[0-9a-f]{{40}})\"?\s+#\s*v(?P<version>[\w.+-]+)\s*$", re.MULTILINE
)


def action_ref(existing: str | None = None) -> tuple[str, str | None]:
    """The Action pinned to this release by commit (``OWNER/NAME@SHA # vX.Y.Z``), and a warning.

    The commit is asked of GitHub (``git ls-remote``) once; a workflow that
    already pins this release keeps its SHA, so a second run needs no network.
    Offline, the release tag is used, and the warning says so.
    """
    tag = f"v{__version__}"
    if existing:
        match = _PINNED_LINE_RE.search(existing)
        if match and match.group("version") == __version__:
            return f"{ACTION_REPO}@{match.group('sha')} # {tag}", None
    remote = os.environ.get(ACTION_REMOTE_ENV) or f"https://github.com/{ACTION_REPO}.git"
    try:
        proc = subprocess.run(
            ["git", "ls-remote", "--tags", remote, f"refs/tags/{tag}", f"refs/tags/{tag}^{{}}"],
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
            env={**os.environ, "GIT_TERMINAL_PROMPT": "0"},
        )
        listed = proc.stdout.splitlines()
    except (OSError, subprocess.TimeoutExpired):
        listed = []
    refs = {}
    for line in listed:
        object_id, _, ref = line.partition("\t")
        refs[ref.strip()] = object_id.strip()
    # An annotated tag's own object is not a commit: prefer the peeled ^{} line.
    commit = refs.get(f"refs/tags/{tag}^{{}}") or refs.get(f"refs/tags/{tag}")
    if commit and re.fullmatch(r"[0-9a-f]{40}", commit):
        return f"{ACTION_REPO}@{commit} # {tag}", None
    return f"{ACTION_REPO}@{tag}", (
        f"could not look up the commit of {ACTION_REPO} {tag}; the workflow uses the tag "
        "(run init again when online to pin the commit)"
    )


def parse_chain(chain: str | None) -> tuple[str, ...]:
    if chain is None:
        return ("scholar",)
    names = tuple(part.strip() for part in chain.split(",") if part.strip())
    unknown = [name for name in names if name not in SOURCES]
    if not names or unknown:
        raise UsageError(f"--source must be a comma-separated chain of {', '.join(SOURCES)}, not {chain!r}")
    if len(set(names)) != len(names):
        raise UsageError(f"--source names a source twice: {chain!r}")
    return names


def schedule_for(key: str) -> tuple[int, int]:
    """A daily (hour, minute) spread by ``key``: an odd minute, away from GitHub's busy top of the hour."""
    spread = zlib.crc32(key.encode("utf-8"))
    return (spread // 30) % 24, 1 + 2 * (spread % 30)


def workflow_text(site: Site, *, al_folio: bool, action: str, import_git: bool = False) -> str:
    hour, minute = schedule_for(site.repo or site.root.name)
    lines = [
        "# Written by `scholar-stats init`: every day, fetch the Google Scholar numbers,",
        "# guard them, keep them and publish them to the google-scholar-stats branch",
        "# (history kept; a blocked or implausible day publishes nothing).",
        f"# Inputs and what to do when a run fails: {DOCS_URL}/github-actions.md",
        "name: Google Scholar stats",
        "",
        "on:",
        "  schedule:",
        "    # Once a day at an odd minute: GitHub delays or drops runs at the top of the hour.",
        f'    - cron: "{minute} {hour} * * *"',
        "  workflow_dispatch:",
        "    inputs:",
        "      accept-drop:",
        "        # Tick it for the one run that takes numbers the guard refused; the schedule never does.",
        "        description: Accept a drop the guard refused (papers merged or removed on Scholar)",
        "        type: boolean",
        "        default: false",
        "",
        "permissions: {}",
        "",
        "concurrency:",
        "  group: scholar-stats",
        "  # A publish in progress is never cut; the next run waits its turn.",
        "  cancel-in-progress: false",
        "",
        "jobs:",
        "  update:",
        "    name: Fetch and publish",
        "    runs-on: ubuntu-latest",
        "    timeout-minutes: 20",
        "    permissions:",
        "      contents: write # to push the data branch" + (" and _data/citations.yml" if al_folio else ""),
        "    steps:",
        f"      - name: Check out (for {CONFIG})",
        f"        uses: {CHECKOUT}",
        "        with:",
        "          persist-credentials: false",
        "",
        "      - name: Fetch, guard and publish the numbers",
        f"        uses: {action}",
        "        with:",
        f"          scholar-id: ${{{{ secrets.{SECRET} }}}}",
        f"          config: {CONFIG}",
        "          accept-drop: ${{ inputs.accept-drop || false }}",
    ]
    if al_folio:
        lines.append("          al-folio-citations: true")
    if import_git:
        lines += [
            "          # The first run turns the old data branch's gs_data.json history into snapshots.",
            IMPORT_GIT_LINE,
        ]
    return "\n".join(lines) + "\n"


def config_text(site: Site, chain: Sequence[str]) -> str:
    lines = [
        "# scholar-stats settings for this site, read by .github/workflows/scholar-stats.yml.",
        f"# Every key: {DOCS_URL}/run.md#configuration-file",
        f"sources = [{', '.join(json.dumps(name) for name in chain)}]",
    ]
    if site.scholar_id:
        lines += ["", "[[authors]]", f'id = "{site.scholar_id}"']
        for name in chain:
            if name in _OTHER_ID:
                lines.append(
                    f'# {_OTHER_ID[name]} = "..."   # the author\'s {name} ID, needed by that source'
                )
    else:
        lines += ["", f"# The author's Scholar ID comes from the {SECRET} secret."]
    return "\n".join(lines) + "\n"


def _snippet(site: Site) -> str:
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


def _insert_block(text: str, block: str, *, before: str | None) -> str:
    wrapped = f"{BEGIN}\n{block}{END}\n"
    if _BLOCK_RE.search(text):
        return _BLOCK_RE.sub(lambda _m: wrapped, text, count=1)
    if before and before in text:
        index = text.index(before)
        return text[:index] + wrapped + text[index:]
    return text + ("" if not text or text.endswith("\n") else "\n") + wrapped


def _template_files(site: Site) -> list[tuple[str, str | None, str]]:
    """(path, new text or None to remove, why) for what the template itself needs."""
    root = site.root
    files: list[tuple[str, str | None, str]] = []
    if site.template == "acadhomepage":
        files.append(
            (sites.ACAD_INCLUDE, _snippet(site), "the page script, reading the published gs_data.json")
        )
        scripts = sites.read_text(root / ACADHOMEPAGE_SCRIPTS)
        if scripts is not None and "fetch_google_scholar_stats.html" not in scripts:
            files.append(
                (
                    ACADHOMEPAGE_SCRIPTS,
                    scripts
                    + ("" if scripts.endswith("\n") else "\n")
                    + "{% include fetch_google_scholar_stats.html %}\n",
                    "load the page script",
                )
            )
        for path in sites.old_crawler_workflows(root):
            files.append((path, None, "AcadHomepage's crawler workflow, replaced by scholar-stats.yml"))
    elif site.template == "al-folio":
        files.append((ALFOLIO_INCLUDE, _snippet(site), "the page script (fills #total_cit and friends)"))
        layout = sites.read_text(root / ALFOLIO_LAYOUT)
        include = "{% include scholar-stats.liquid %}"
        if layout is not None and include not in layout:
            marker = "</body>"
            if marker in layout:
                index = layout.rindex(marker)
                updated = layout[:index] + f"  {include}\n  " + layout[index:]
            else:
                updated = layout + ("" if layout.endswith("\n") else "\n") + include + "\n"
            files.append((ALFOLIO_LAYOUT, updated, "load the page script"))
        if (root / sites.ALFOLIO_CITATIONS_WORKFLOW).exists():
            files.append(
                (
                    sites.ALFOLIO_CITATIONS_WORKFLOW,
                    None,
                    "al-folio's own citation updater would overwrite _data/citations.yml",
                )
            )
    elif site.template == "academicpages":
        footer = sites.read_text(root / sites.ACADEMICPAGES_FOOTER) or ""
        updated = _insert_block(footer, _snippet(site), before="<!-- end custom footer snippets -->")
        files.append((sites.ACADEMICPAGES_FOOTER, updated, "the page script, in the slot for custom scripts"))
    else:
        options = make_options(repo=_repo_or_fail(site), branch=DEFAULT_BRANCH)
        files.append((PLAIN_SCRIPT, render_js(options), "the page script, for your page to load"))
    return files


def _repo_or_fail(site: Site) -> str:
    _snippet(site)
    assert site.repo is not None
    return site.repo


def _check_path(root: Path, relative: str) -> Path:
    """``root/relative`` if no part of the way there is a symlink (which could lead out of the site)."""
    path = root
    for part in relative.split("/"):
        path = path / part
        if path.is_symlink():
            raise UsageError(
                f"{relative}: {path.relative_to(root)} is a symbolic link; init does not follow it"
            )
    return path


def _read_bytes(path: Path) -> bytes | None:
    if path.is_dir() and not path.is_symlink():
        raise UsageError(f"{path} is a folder where init would write a file")
    return read_bounded_or_none(path, limit=MAX_HOMEPAGE_FILE_BYTES, error=UsageError)


def _check_utf8(relative: str, data: bytes) -> None:
    """Refuse to edit a file that is not UTF-8: its edit was made on a decoded copy, and
    writing it back would replace bytes it does not understand (``\\xff\\xfe`` → U+FFFD)."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(
            f"{relative} is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
            "init edits only UTF-8 files and left it as it is: save it as UTF-8 and run init again"
        ) from None


def plan_init(
    root: Path,
    *,
    template: str = "auto",
    scholar_id: str | None = None,
    chain: str | None = None,
    import_git: bool = False,
    lab_shards: int | None = None,
) -> Plan:
    """``lab_shards``: the lab's matrix workflow with that many shards (``init --lab``) instead of
    the one author's workflow and page script."""
    if template not in ("auto", *sites.TEMPLATES):
        raise UsageError(f"--template must be one of auto, {', '.join(sites.TEMPLATES)}, not {template!r}")
    if not root.is_dir():
        raise UsageError(f"--repo: {root} is not a folder")
    sources = parse_chain(chain)
    site = sites.inspect(root, template)
    if scholar_id is not None:
        try:
            given = normalize_scholar_id(scholar_id)
        except ValueError as exc:
            raise UsageError(f"--scholar-id: {exc}") from exc
        site = Site(site.root, site.template, given, None, site.repo)
    needs_entry = [name for name in sources if name in _OTHER_ID]
    if needs_entry and site.scholar_id is None:
        raise UsageError(f"the {needs_entry[0]} source needs the author in {CONFIG}: pass --scholar-id ID")
    al_folio = site.template == "al-folio"
    if lab_shards is not None:
        action, warning = action_ref(sites.read_text(_check_path(root, lab.LAB_WORKFLOW)))
        planned = lab_files(root, site, lab.check_shards(lab_shards), action, sources)
    else:
        existing = sites.read_text(_check_path(root, WORKFLOW))
        action, warning = action_ref(existing)
        # Once asked for, the import stays: a later `init` without the flag changes nothing.
        import_git = import_git or (existing is not None and IMPORT_GIT_LINE in existing.splitlines())
        planned = [
            (
                WORKFLOW,
                workflow_text(site, al_folio=al_folio, action=action, import_git=import_git),
                "fetch and publish every day",
            ),
            (CONFIG, config_text(site, sources), "the settings the workflow reads"),
            *_template_files(site),
        ]
    changes = []
    for relative, text, why in planned:
        path = _check_path(root, relative)
        before = _read_bytes(path)
        after = None if text is None else text.encode("utf-8")
        if before is not None and after is not None and before != after:
            _check_utf8(relative, before)
        if before != after:
            changes.append(FileChange(relative, before, after, why))
    todo = (
        _lab_todo(changes) if lab_shards is not None else _todo(site, changes, sources, import_git=import_git)
    )
    return Plan(site, tuple(changes), tuple(todo), (warning,) if warning else ())


def _lab_todo(changes: Sequence[FileChange]) -> list[str]:
    todo = [f"List every member in {CONFIG}, one [[authors]] entry each (about 25 to 50 authors per shard)"]
    if changes:
        paths = " ".join(c.path for c in changes)
        todo.append(
            f"Review and commit the changes: git add -A -- {paths} "
            "&& git commit -m 'Lab citation numbers by scholar-stats' && git push"
        )
    todo.append(
        "On GitHub: enable Actions if this repository is a fork (Actions tab), then run the workflow once "
        "(Actions > Google Scholar stats (lab) > Run workflow)"
    )
    return todo


def lab_files(
    root: Path, site: Site, shards: int, action: str, sources: Sequence[str]
) -> list[tuple[str, str | None, str]]:
    """The lab workflow; the settings only when there are none yet (they list the members);
    the one author's workflow removed, which would push the same data branch."""
    files: list[tuple[str, str | None, str]] = [
        (
            lab.LAB_WORKFLOW,
            lab.lab_workflow_text(shards, action, DOCS_URL, schedule_for(site.repo or site.root.name)),
            f"fetch the lab in {shards} shards and publish once, every day",
        ),
    ]
    if _read_bytes(_check_path(root, CONFIG)) is None:
        files.append(
            (
                CONFIG,
                lab.lab_config_text(site.scholar_id, sources, DOCS_URL),
                "the lab's members, for the workflow to read",
            )
        )
    if (root / WORKFLOW).exists():
        files.append((WORKFLOW, None, "replaced by the lab workflow: both would push the data branch"))
    return files


def _old_data_branch(root: Path) -> bool:
    """Whether the clone knows a ``google-scholar-stats`` branch (AcadHomepage's crawler pushed one)."""
    proc = subprocess.run(
        [
            "git",
            "-C",
            str(root),
            "for-each-ref",
            "--format=%(refname)",
            f"refs/heads/{DEFAULT_BRANCH}",
            f"refs/remotes/*/{DEFAULT_BRANCH}",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    return proc.returncode == 0 and bool(proc.stdout.strip())


def _todo(
    site: Site, changes: Sequence[FileChange], sources: Sequence[str], *, import_git: bool = False
) -> list[str]:
    todo = []
    if not import_git and _old_data_branch(site.root):
        todo.append(
            f"This repository already has a {DEFAULT_BRANCH} branch (AcadHomepage's crawler keeps its "
            "numbers there): run `scholar-stats init --import-git` before committing, so the first run "
            "turns its history into snapshots and the guard starts from the numbers your page shows"
        )
    if site.template == "acadhomepage" and (site.root / sites.ACAD_CRAWLER).is_dir():
        todo.append(
            f"AcadHomepage's {sites.ACAD_CRAWLER}/ folder is no longer run (its workflow is removed): "
            f"delete it with git rm -r {sites.ACAD_CRAWLER}"
        )
    if site.template in ("academicpages", "plain") and not sites.shows_a_number(site.root):
        todo.append(
            "Show the numbers: the page script fills elements your pages do not have yet. Put "
            '<span id="total_cit"></span> where the total should appear (for example in _pages/about.md: '
            'Cited by <span id="total_cit"></span> times on Google Scholar.) and '
            '<span class="show_paper_citations" data="SCHOLAR_ID:PAPER_ID"></span> beside a paper '
            f"({DOCS_URL}/homepage.md)"
        )
    if changes:
        paths = " ".join(c.path for c in changes)
        todo.append(
            f"Review and commit the changes: git add -A -- {paths} "
            "&& git commit -m 'Citation numbers by scholar-stats' && git push"
        )
    if site.scholar_id is None:
        already = (
            "; an AcadHomepage site set up by its README already has it"
            if site.template == "acadhomepage"
            else ""
        )
        todo.append(
            f"Add the repository secret {SECRET} (Settings > Secrets and variables > Actions), "
            f"your 12-character Scholar ID{already}"
        )
    for name in sources:
        if name in _OTHER_ID:
            todo.append(f'Put the author\'s {name} ID in {CONFIG} ({_OTHER_ID[name]} = "...")')
    todo.append(
        "On GitHub: enable Actions if this repository is a fork (Actions tab), then run the workflow once "
        "(Actions > Google Scholar stats > Run workflow)"
    )
    if site.template == "plain":
        todo.append(f'Load the script in your page: <script src="/{PLAIN_SCRIPT}" defer></script>')
    return todo


def render_diff(plan: Plan) -> str:
    out = []
    for change in plan.changes:
        before = (change.before or b"").decode("utf-8", errors="replace").splitlines(keepends=True)
        after = (change.after or b"").decode("utf-8", errors="replace").splitlines(keepends=True)
        old = "/dev/null" if change.before is None else f"a/{change.path}"
        new = "/dev/null" if change.after is None else f"b/{change.path}"
        for line in difflib.unified_diff(before, after, old, new):
            out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)


def uncommitted(root: Path, paths: Sequence[str]) -> list[str]:
    """Those of ``paths`` that git says hold edits not committed (untracked ones included)."""
    if not paths:
        return []
    proc = subprocess.run(
        ["git", "-C", str(root), "status", "--porcelain=v1", "-z", "--untracked-files=all", "--", *paths],
        capture_output=True,
        check=False,
    )
    if proc.returncode != 0:
        reason = proc.stderr.decode("utf-8", errors="replace").strip().splitlines()
        raise UsageError(
            f"{root} is not a git repository ({reason[-1] if reason else 'git status failed'}); "
            "init only changes files git can show and undo"
        )
    dirty = set()
    prefix = subprocess.run(
        ["git", "-C", str(root), "rev-parse", "--show-prefix"], capture_output=True, text=True, check=False
    ).stdout.strip()
    entries = proc.stdout.split(b"\0")
    skip = False
    for entry in entries:
        if skip:
            skip = False
            continue
        if len(entry) < 4:
            continue
        status, name = entry[:2], entry[3:].decode("utf-8", errors="replace")
        if status[:1] in (b"R", b"C"):
            skip = True  # the next entry is the rename's source
        dirty.add(name[len(prefix) :] if prefix and name.startswith(prefix) else name)
    return [p for p in paths if p in dirty]


def apply(plan: Plan) -> None:
    root = plan.site.root
    dirty = uncommitted(root, [c.path for c in plan.changes])
    if dirty:
        raise UsageError(
            f"{', '.join(dirty)}: uncommitted edits; commit or stash them first (init never overwrites them)"
        )
    for change in plan.changes:
        path = _check_path(root, change.path)
        if change.after is not None:
            atomic_write_bytes(path, change.after)
    for change in plan.changes:
        if change.after is None:
            _check_path(root, change.path).unlink(missing_ok=True)
