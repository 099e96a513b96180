"""``scholar-stats init``: the files that set a homepage repository up, as a plan.

A plan lists every file init would write or remove, with its bytes before and
after; it is shown as a unified diff (``--dry-run``) or applied.  Files whose
content would not change are left out, so a second run finds nothing to do.
Before anything is written, git must say that none of the planned files holds
uncommitted edits: the user's work is never overwritten, and everything init
does can be reviewed with ``git diff`` and undone with ``git checkout``.

What is planned: the workflow and ``scholar-stats.toml`` (``author_workflow``),
or the lab's (``lab``), and what the template needs (``template_files``, one
module per template); this module drives them: it finds out what the site is
(``repository``), plans, writes, and says what is left to do.
"""

from __future__ import annotations

import difflib
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from crawler.errors import UsageError
from crawler.homepage import lab
from crawler.homepage import repository as sites
from crawler.homepage.author_workflow import (
    CONFIG,
    DOCS_URL,
    IMPORT_GIT_LINE,
    OTHER_ID,
    SECRET,
    WORKFLOW,
    action_ref,
    config_text,
    schedule_for,
    workflow_text,
)
from crawler.homepage.repository import Site
from crawler.homepage.template_files import template_files
from crawler.homepage.template_files.page_script import PlannedFile
from crawler.homepage.template_files.plain import PLAIN_SCRIPT
from crawler.models import normalize_scholar_id
from crawler.sources import SOURCES
from crawler.storage.readfile import MAX_HOMEPAGE_FILE_BYTES, read_bounded_or_none
from crawler.storage.store import DEFAULT_BRANCH, atomic_write_bytes


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
    needs_entry = [name for name in sources if name in OTHER_ID]
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
            *template_files(site),
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


def lab_files(root: Path, site: Site, shards: int, action: str, sources: Sequence[str]) -> list[PlannedFile]:
    """The lab workflow; the settings only when there are none yet (they list the members);
    the one author's workflow removed, which would push the same data branch."""
    files: list[PlannedFile] = [
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
        if name in OTHER_ID:
            todo.append(f'Put the author\'s {name} ID in {CONFIG} ({OTHER_ID[name]} = "...")')
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
