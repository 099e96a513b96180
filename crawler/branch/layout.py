"""What a data branch holds, and whether a branch is one.

A data branch's commit holds the data folder's author folders (folders named
by a Scholar ID that hold this tool's files, without the lock, temporary files
or the local outputs manifest), the dashboard's ``site`` folder when it holds
its marker, the group's files, the root author's ``gs_data.json``,
``gs_data_shieldsio.json`` and ``gs_history.json`` copied to the root, and the
marker file ``.scholar-stats``.  ``build_tree`` writes that tree into a
repository with git plumbing (a temporary index, never the user's);
``check_data_branch`` refuses a branch that is not a data branch;
``check_removals`` refuses a tree that would drop snapshots the branch has.
``crawler.branch.publish`` commits and pushes the tree; ``crawler.branch.restore`` fills a
data folder from the branch.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from crawler.branch.git import Git
from crawler.errors import PublishError
from crawler.models import SCHOLAR_ID_RE
from crawler.outputs.badges import BADGE_DIR
from crawler.outputs.group_numbers import GROUP_FILE, group_files
from crawler.outputs.group_numbers import is_group_badge as _is_group_badge
from crawler.storage.store import ATTEMPT_FILE, LOCK_NAME, OUTPUTS_MANIFEST, SITE_FOLDER, SITE_MARKER

log = logging.getLogger(__name__)

# The two files AcadHomepage's pages read from the branch root, and the history the homepage chart draws.
ROOT_FILES = ("gs_data.json", "gs_data_shieldsio.json", "gs_history.json")
# In every commit of a data branch, at its root: what makes a branch ours to write.
MARKER = ".scholar-stats"
MARKER_TEXT = (
    b"This branch holds citation data published by scholar-stats (`scholar-stats publish`).\n"
    b"Each commit is the data folder at one time; do not commit other files here.\n"
)
# Root files of a branch AcadHomepage's crawler made (gs_data.json, gs_data_shieldsio.json
# and variants of other crawlers): such a branch may be taken over.
_ACADHOMEPAGE_FILE_RE = re.compile(r"^gs_data[A-Za-z0-9_.-]*\.json$")
# The files of this tool that make a folder named like a Scholar ID an author folder.
_AUTHOR_FOLDER_SIGNS = ("gs_data.json", "snapshots", "state.json")


@dataclass
class Tree:
    sha: str
    paths: tuple[bytes, ...]
    root_author: str | None = None
    root_files: tuple[str, ...] = field(default_factory=tuple)


def _is_data_branch_tree(git: Git, commit: str) -> tuple[bool, str | None]:
    """Whether ``commit``'s tree is a data branch's; else a name in it that says it is not.

    Every top-level entry must be one a data layout explains (this tool's or
    AcadHomepage's): the marker, author folders, the dashboard's folder, the root
    files and the group's files.  The marker alone proves nothing: a branch that
    holds it beside a README, ``src/`` or a Pages ``CNAME`` is someone's work."""
    listing = git.run("ls-tree", "-z", "--full-tree", commit).stdout
    for record in listing.split(b"\0"):
        if not record:
            continue
        info, _, raw_name = record.partition(b"\t")
        name = os.fsdecode(raw_name)
        kind = info.split()[1] if len(info.split()) > 1 else b""
        if kind == b"blob":
            fits = name in (MARKER, GROUP_FILE, *ROOT_FILES) or _ACADHOMEPAGE_FILE_RE.match(name) is not None
        elif kind == b"tree" and name == BADGE_DIR:
            strange = _foreign_group_badge(git, commit)
            if strange is not None:
                return False, strange
            fits = True
        else:
            fits = kind == b"tree" and (SCHOLAR_ID_RE.match(name) is not None or name == SITE_FOLDER)
        if not fits:
            return False, name
    return True, None


def _foreign_group_badge(git: Git, commit: str) -> str | None:
    """The first entry of the branch's ``badges/`` that is not a group badge, if any."""
    listing = git.run("ls-tree", "-z", "--full-tree", f"{commit}:{BADGE_DIR}").stdout
    for record in listing.split(b"\0"):
        if not record:
            continue
        info, _, raw_name = record.partition(b"\t")
        name = os.fsdecode(raw_name)
        if info.split()[1:2] != [b"blob"] or not _is_group_badge(name):
            return f"{BADGE_DIR}/{name}"
    return None


def check_data_branch(git: Git, branch: str, commit: str, *, force: bool) -> None:
    """Refuse to write onto (or restore from) ``branch`` at ``commit`` unless it is a data branch."""
    if force:
        return
    ok, strange = _is_data_branch_tree(git, commit)
    if not ok:
        raise PublishError(
            f"the branch {branch} is not a data branch (it has {strange!r}, which no data layout explains); "
            "choose another --branch, or pass --force-branch to replace its files with the data"
        )


def _is_skipped(name: str) -> bool:
    # ATTEMPT_FILE moves on every blocked day: published, it would make each one a commit.
    return name in (LOCK_NAME, OUTPUTS_MANIFEST, ATTEMPT_FILE, ".git") or (
        name.startswith(".") and name.endswith(".tmp")
    )


def _is_author_folder(path: Path) -> bool:
    return (
        SCHOLAR_ID_RE.match(path.name) is not None
        and not path.is_symlink()
        and path.is_dir()
        and any((path / sign).exists() for sign in _AUTHOR_FOLDER_SIGNS)
    )


def _is_site_folder(path: Path) -> bool:
    """The dashboard `scholar-stats site` keeps in the data folder (``site = true``)."""
    return (
        path.name == SITE_FOLDER
        and not path.is_symlink()
        and path.is_dir()
        and (path / SITE_MARKER).is_file()
    )


def _is_published_folder(path: Path) -> bool:
    return _is_author_folder(path) or _is_site_folder(path)


def left_out(data_dir: Path) -> list[str]:
    """What at the data folder's root is not published (not this tool's), sorted: the
    names the warning gives, so it never names a file that is published after all."""
    try:
        entries = sorted(Path(data_dir).iterdir())
    except OSError:
        return []
    published = {name for name in group_files(Path(data_dir)) if not (Path(data_dir) / name).is_symlink()}
    names: list[str] = []
    for p in entries:
        if _is_skipped(p.name) or _is_published_folder(p) or p.name in published:
            continue
        if p.name == BADGE_DIR and p.is_dir() and not p.is_symlink():
            # The group's badges are published; only the rest of the folder is left out.
            names += sorted(
                f"{BADGE_DIR}/{q.name}" for q in p.iterdir() if f"{BADGE_DIR}/{q.name}" not in published
            )
            continue
        names.append(p.name + ("/" if p.is_dir() and not p.is_symlink() else ""))
    return names


def data_files(data_dir: Path) -> list[tuple[str, Path]]:
    """The files of the data folder that are published, as (tree path, file), sorted by path.

    Only author folders are published: folders named by a Scholar ID that hold
    this tool's files; the dashboard's ``site`` folder when it holds its marker; and the group's
    ``group.json`` and ``badges/group-*``.  Inside them the lock, temporary files of interrupted
    writes, the outputs manifest, symbolic links and a ``.git`` folder are
    left out.
    """
    found: list[tuple[str, Path]] = []
    authors = (
        [p for p in sorted(Path(data_dir).iterdir()) if _is_published_folder(p)]
        if Path(data_dir).is_dir()
        else []
    )
    for author in authors:
        for folder, dirs, files in os.walk(author):
            dirs[:] = sorted(
                d for d in dirs if not _is_skipped(d) and not os.path.islink(os.path.join(folder, d))
            )
            for name in files:
                if _is_skipped(name):
                    continue
                path = Path(folder) / name
                if path.is_symlink() or not path.is_file():
                    continue
                found.append((path.relative_to(data_dir).as_posix(), path))
    # Beside them, the group's numbers (crawler.outputs.group_numbers), at the root of the branch.
    for name in group_files(Path(data_dir)):
        path = Path(data_dir) / name
        if not path.is_symlink() and path.is_file():
            found.append((name, path))
    return sorted(found)


def author_folders(data_dir: Path) -> list[str]:
    """Scholar IDs of the author folders that hold a ``gs_data.json``, sorted."""
    if not data_dir.is_dir():
        return []
    return sorted(
        p.name
        for p in data_dir.iterdir()
        if p.is_dir() and SCHOLAR_ID_RE.match(p.name) and (p / ROOT_FILES[0]).is_file()
    )


def choose_root_author(data_dir: Path, root_author: str | None) -> str | None:
    """The author whose files go to the branch root: the one asked for, else the first folder
    in sorted order.
    """
    if root_author is not None:
        if not (data_dir / root_author / ROOT_FILES[0]).is_file():
            raise PublishError(
                f"root author {root_author} has no {ROOT_FILES[0]} in {data_dir / root_author}"
            )
        return root_author
    folders = author_folders(data_dir)
    if len(folders) > 1:
        log.info(
            "several authors in %s; %s's files go to the branch root (choose with --root-author)",
            data_dir,
            folders[0],
        )
    return folders[0] if folders else None


def build_tree(git: Git, data_dir: Path, root_author: str | None) -> Tree:
    """Write the tree of the data folder (plus the root files) into the repository; return its id."""
    files = data_files(data_dir)
    if not files:
        raise PublishError(f"nothing to publish: the data folder {data_dir} has no author folders")
    skipped = left_out(data_dir)
    if skipped:
        shown = ", ".join(skipped[:10]) + (f" and {len(skipped) - 10} more" if len(skipped) > 10 else "")
        log.warning("left out of the data branch (not scholar-stats files): %s", shown)
    author = choose_root_author(data_dir, root_author)
    try:
        shas = git.hash_files([path for _, path in files])
    except OSError as exc:
        raise PublishError(f"cannot read the data folder {data_dir}: {exc.strerror or exc}") from exc
    entries: dict[bytes, str] = {os.fsencode(name): sha for (name, _), sha in zip(files, shas, strict=True)}
    root_files: list[str] = []
    if author is not None:
        by_name = dict(zip((name for name, _ in files), shas, strict=True))
        for name in ROOT_FILES:
            sha = by_name.get(f"{author}/{name}")
            if sha is not None:
                entries[name.encode()] = sha
                root_files.append(name)
    entries[MARKER.encode()] = git.out("hash-object", "-w", "--no-filters", "--stdin", input=MARKER_TEXT)
    index_info = b"".join(
        b"100644 " + sha.encode() + b"\t" + path + b"\0" for path, sha in sorted(entries.items())
    )
    with tempfile.TemporaryDirectory(prefix="scholar-stats-index-") as tmp:
        env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
        git.run("update-index", "--add", "-z", "--index-info", input=index_info, env=env)
        tree = git.out("write-tree", env=env)
    return Tree(tree, tuple(sorted(entries)), author, tuple(root_files))


def tree_paths(git: Git, treeish: str) -> set[bytes]:
    out = git.run("ls-tree", "-r", "-z", "--name-only", "--full-tree", treeish).stdout
    return {p for p in out.split(b"\0") if p}


def _is_snapshot(path: bytes) -> bool:
    parts = path.split(b"/")
    return len(parts) == 3 and parts[1] == b"snapshots" and parts[2].endswith(b".json")


def check_removals(git: Git, base: str, tree: Tree, allow_removals: bool) -> None:
    if allow_removals:
        return
    lost = sorted(p for p in tree_paths(git, base) - set(tree.paths) if _is_snapshot(p))
    if lost:
        example = os.fsdecode(lost[0])
        raise PublishError(
            f"the data folder lacks {len(lost)} snapshot(s) the branch has (e.g. {example}); "
            "run `scholar-stats publish --restore` first, or pass --allow-removals"
        )
