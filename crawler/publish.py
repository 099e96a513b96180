"""Publish the data folder to a git branch that keeps its history.

The data branch (default ``google-scholar-stats``) holds, in each commit, a
snapshot of the data folder's author folders (folders named by a Scholar ID
that hold this tool's files; the lock, temporary files and the local outputs
manifest left out), plus the root author's ``gs_data.json`` and
``gs_data_shieldsio.json`` copied to the branch root, where AcadHomepage-style
pages read them (``<repo>@google-scholar-stats/gs_data.json``), and the marker
file ``.scholar-stats`` that says the branch is a data branch.  Anything else
in the data folder (a site's own ``data/`` files) is left out and named.

Publishing never writes onto a branch that is not a data branch: an existing
branch whose tip has neither the marker nor only author folders and
``gs_data*.json`` files (what AcadHomepage's own crawler publishes) is refused
unless ``force_branch`` is given.  Branch and remote names are checked, and
every git command gets ``--`` before them, so no name can act as an option.

A publish never touches the user's working tree, index or current branch: the
tree is built with git plumbing in a temporary index (``hash-object``,
``update-index --index-info``, ``write-tree``), committed with ``commit-tree``
on top of the branch tip, and the branch moved with ``update-ref`` (checking
its old value, so a concurrent publish cannot be overwritten silently).  A
folder whose content equals the tip's tree makes no commit.

A push rejected because the remote branch moved is not forced: the remote tip
is fetched and the same tree is committed on top of it (the tree *is* the
folder, so replaying a change is committing the folder again), then pushed
again, a bounded number of times.

``restore`` does the opposite for a fresh machine (a CI runner): it fills the
data folder with the files of the branch it lacks, so that ``run`` sees the
previous snapshots and ``publish`` does not drop them.  A publish that would
remove snapshots the branch has is refused unless removals are allowed.
"""

from __future__ import annotations

import logging
import os
import random
import re
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from urllib.parse import quote, urlsplit

import httpx

from crawler.errors import PublishError, ScholarStatsError
from crawler.models import SCHOLAR_ID_RE
from crawler.outputs.group import group_files
from crawler.store import LOCK_NAME, OUTPUTS_MANIFEST, atomic_write_bytes, locked

log = logging.getLogger(__name__)

DEFAULT_BRANCH = "google-scholar-stats"
DEFAULT_REMOTE = "origin"
# The two files AcadHomepage's pages read from the branch root.
ROOT_FILES = ("gs_data.json", "gs_data_shieldsio.json")
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
# Transports git runs as commands (ext::, fd::) or that need a helper: never for a remote given as text.
_REMOTE_URL_RE = re.compile(r"^(?:(?:https?|ssh|git|file)://|[A-Za-z0-9._-]+@[A-Za-z0-9._-]+:(?!:))")
FALLBACK_NAME = "scholar-stats"
FALLBACK_EMAIL = "scholar-stats@users.noreply.github.com"
JSDELIVR_PURGE_URL = "https://purge.jsdelivr.net"
PURGE_URL_ENV = "SCHOLAR_STATS_JSDELIVR_PURGE_URL"
ZERO_SHA = "0" * 40
LOCK_TIMEOUT = 60.0
LOCAL_TIMEOUT = 120.0
NETWORK_TIMEOUT = 300.0
# How a rejected push that retrying can fix reads in `git push --porcelain`.
_RETRYABLE_REJECTIONS = ("fetch first", "non-fast-forward", "stale info")
# Environment that would point git somewhere else than the repository we chose.
_GIT_LOCATION_VARS = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_COMMON_DIR")


@dataclass(frozen=True)
class PublishResult:
    commit: str | None
    """The commit made, or None when there was nothing to publish."""
    pushed: bool
    """Whether the branch was pushed to the remote by this call."""
    files: tuple[str, ...]
    """Paths of the published tree, sorted."""
    branch: str
    parent: str | None = None
    """The commit the new one was made on (None for the first commit of the branch)."""
    root_author: str | None = None
    attempts: int = 0
    """Push attempts made (0 when nothing was pushed)."""
    purged: tuple[str, ...] = ()
    """URLs of the CDN cache that were purged."""
    tip: str | None = None
    """The branch tip after the call."""


@dataclass(frozen=True)
class _Entry:
    path: bytes
    """Path in the tree, as git stores it (bytes, '/'-separated)."""
    source: Path


@dataclass
class _Tree:
    sha: str
    paths: tuple[bytes, ...]
    root_author: str | None = None
    root_files: tuple[str, ...] = field(default_factory=tuple)


class Git:
    """The git repository publishing works on, driven through its plumbing."""

    def __init__(self, git_dir: Path) -> None:
        self.git_dir = git_dir

    @classmethod
    def open(cls, path: Path | None = None) -> Git:
        """The repository containing ``path`` (default: the current directory)."""
        where = Path(path) if path is not None else Path.cwd()
        if not where.exists():
            raise PublishError(f"not a git repository: {where} does not exist")
        try:
            proc = subprocess.run(
                ["git", "-C", str(where), "rev-parse", "--absolute-git-dir"],
                capture_output=True,
                env=_git_env(),
                timeout=LOCAL_TIMEOUT,
                check=False,
            )
        except FileNotFoundError as exc:
            raise PublishError("git is not installed (needed to publish)") from exc
        if proc.returncode != 0:
            raise PublishError(f"not a git repository: {where.resolve()} (run inside your repository or pass --repo)")
        return cls(Path(os.fsdecode(proc.stdout.strip())))

    def run(
        self,
        *args: str,
        input: bytes | None = None,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        check: bool = True,
        timeout: float = LOCAL_TIMEOUT,
    ) -> subprocess.CompletedProcess[bytes]:
        command = ["git", f"--git-dir={self.git_dir}", *args]
        try:
            proc = subprocess.run(
                command,
                input=input,
                capture_output=True,
                env=_git_env(env),
                cwd=cwd,
                timeout=timeout,
                check=False,
                # Ctrl-C in a terminal signals the whole process group; a running
                # publish is finished by the scheduler, not cut by git dying under it.
                start_new_session=True,
            )
        except subprocess.TimeoutExpired as exc:
            raise PublishError(f"git {args[0]} took more than {timeout:.0f} s") from exc
        except OSError as exc:
            raise PublishError(f"cannot run git: {exc.strerror or exc}") from exc
        if check and proc.returncode != 0:
            raise PublishError(f"git {args[0]} failed: {_last_line(proc.stderr)}")
        return proc

    def out(self, *args: str, **kwargs: object) -> str:
        return os.fsdecode(self.run(*args, **kwargs).stdout).strip()  # type: ignore[arg-type]

    def rev_parse(self, name: str) -> str | None:
        proc = self.run("rev-parse", "--verify", "--quiet", f"{name}^{{commit}}", check=False)
        if proc.returncode != 0:
            return None
        return proc.stdout.decode().strip() or None

    def tree_of(self, commit: str) -> str:
        return self.out("rev-parse", f"{commit}^{{tree}}")

    def config(self, key: str) -> str | None:
        proc = self.run("config", "--get", key, check=False)
        if proc.returncode != 0:
            return None
        return os.fsdecode(proc.stdout).strip() or None

    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        return self.run("merge-base", "--is-ancestor", ancestor, descendant, check=False).returncode == 0

    def update_ref(self, ref: str, new: str, old: str | None) -> None:
        proc = self.run("update-ref", "-m", "scholar-stats publish", ref, new, old or ZERO_SHA, check=False)
        if proc.returncode != 0:
            raise PublishError(f"{ref} moved while publishing ({_last_line(proc.stderr)}); try again")

    def remotes(self) -> list[str]:
        return self.out("remote").split()

    def remote_url(self, remote: str) -> str:
        if remote in self.remotes():
            return self.out("remote", "get-url", "--", remote)
        return remote

    def tracking_ref(self, remote: str, branch: str) -> str:
        """Where the remote branch's tip is remembered locally."""
        if remote in self.remotes():
            return f"refs/remotes/{remote}/{branch}"
        # A URL given as the remote: keep its tip out of the user's namespaces.
        slug = re.sub(r"[^A-Za-z0-9._-]+", "-", remote).strip("-.") or "remote"
        return f"refs/scholar-stats/{slug}/{branch}"

    def remote_tip(self, remote: str, branch: str) -> str | None:
        """The remote branch's tip, fetched into the tracking ref; None if the branch is not there."""
        proc = self.run(
            "ls-remote", "--exit-code", "--", remote, f"refs/heads/{branch}", check=False, timeout=NETWORK_TIMEOUT
        )
        if proc.returncode == 2:
            return None
        if proc.returncode != 0:
            raise PublishError(f"cannot reach remote {remote}: {_last_line(proc.stderr)}")
        sha = proc.stdout.decode().split()[0]
        tracking = self.tracking_ref(remote, branch)
        self.run(
            "fetch",
            "--no-tags",
            "--no-write-fetch-head",
            "--quiet",
            "--",
            remote,
            f"+refs/heads/{branch}:{tracking}",
            timeout=NETWORK_TIMEOUT,
        )
        fetched = self.rev_parse(tracking)
        # The branch may have moved between ls-remote and fetch; the fetched tip is the newer one.
        return fetched or sha

    def checked_out_here(self, branch: str) -> bool:
        ref = f"refs/heads/{branch}"
        proc = self.run("worktree", "list", "--porcelain", check=False)
        if proc.returncode == 0:
            for line in proc.stdout.decode(errors="replace").splitlines():
                if line == f"branch {ref}":
                    return True
        head = self.run("symbolic-ref", "--quiet", "HEAD", check=False)
        return head.returncode == 0 and head.stdout.decode().strip() == ref


def _git_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _GIT_LOCATION_VARS}
    # Never wait for a password nobody is there to type (cron, CI).
    env["GIT_TERMINAL_PROMPT"] = "0"
    if extra:
        env.update(extra)
    return env


def _last_line(stderr: bytes) -> str:
    lines = [line.strip() for line in stderr.decode(errors="replace").splitlines() if line.strip()]
    return lines[-1] if lines else "no message"


def check_branch_name(git: Git, branch: str) -> None:
    """Refuse a branch name git rejects, or one that names something else than a branch.

    ``refs/heads/main`` would make a branch called ``refs/heads/main`` and
    ``origin/main`` one that shadows the remote's; ``HEAD`` and ``@{-1}``
    mean other commits to git.  All of them are refused, as is an option.
    """
    first = branch.split("/", 1)[0]
    why = None
    if not branch or branch.startswith("-"):
        why = "it must not be empty or start with '-'"
    elif branch in ("HEAD", "@") or "@{" in branch:
        why = "it names a commit, not a branch"
    elif first in ("refs", "heads", "remotes", "tags"):
        why = f"give the plain branch name, without {first}/"
    elif "/" in branch and first in git.remotes():
        why = f"{first}/ is a remote; give the plain branch name and --remote {first}"
    elif git.run("check-ref-format", f"refs/heads/{branch}", check=False).returncode != 0:
        why = "git does not accept it as a branch name"
    if why is not None:
        raise PublishError(f"not a valid branch name: {branch!r} ({why})")


def check_remote(git: Git, remote: str) -> None:
    """A remote is the name of one of the repository's remotes, a URL, or a local path."""
    if remote in git.remotes():
        return
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in remote) or remote.startswith("-") or not remote:
        raise PublishError(f"not a valid remote: {remote!r}")
    if _REMOTE_URL_RE.match(remote) or remote.startswith(("/", "./", "../")) or os.path.isdir(remote):
        return
    if "::" in remote:
        raise PublishError(f"not a valid remote: {remote!r} (only https, ssh, git and file URLs or a path)")
    raise PublishError(f"no remote named {remote!r} (add one, pass --remote, or --no-push)")


def _is_data_branch_tree(git: Git, commit: str) -> tuple[bool, str | None]:
    """Whether ``commit``'s tree is a data branch's; else a top-level name that says it is not."""
    listing = git.run("ls-tree", "-z", "--full-tree", commit).stdout
    strange: str | None = None
    for record in listing.split(b"\0"):
        if not record:
            continue
        info, _, raw_name = record.partition(b"\t")
        name = os.fsdecode(raw_name)
        kind = info.split()[1] if len(info.split()) > 1 else b""
        if name == MARKER and kind == b"blob":
            return True, None
        fits = (kind == b"tree" and SCHOLAR_ID_RE.match(name)) or (kind == b"blob" and _ACADHOMEPAGE_FILE_RE.match(name))
        if not fits and strange is None:
            strange = name
    return strange is None, strange


def check_data_branch(git: Git, branch: str, commit: str, *, force: bool) -> None:
    """Refuse to write onto (or restore from) ``branch`` at ``commit`` unless it is a data branch."""
    if force:
        return
    ok, strange = _is_data_branch_tree(git, commit)
    if not ok:
        raise PublishError(
            f"the branch {branch} is not a data branch (it has {strange!r}, and no {MARKER} file); "
            "choose another --branch, or pass --force-branch to replace its files with the data"
        )


# --- the tree: the data folder's files, plus the root author's two files at the root


def _is_skipped(name: str) -> bool:
    return name in (LOCK_NAME, OUTPUTS_MANIFEST, ".git") or (name.startswith(".") and name.endswith(".tmp"))


def _is_author_folder(path: Path) -> bool:
    return (
        SCHOLAR_ID_RE.match(path.name) is not None
        and not path.is_symlink()
        and path.is_dir()
        and any((path / sign).exists() for sign in _AUTHOR_FOLDER_SIGNS)
    )


def left_out(data_dir: Path) -> list[str]:
    """Names at the data folder's root that are not this tool's and are not published, sorted."""
    try:
        entries = sorted(Path(data_dir).iterdir())
    except OSError:
        return []
    return [
        p.name + ("/" if p.is_dir() and not p.is_symlink() else "")
        for p in entries
        if not _is_skipped(p.name) and not _is_author_folder(p)
    ]


def data_files(data_dir: Path) -> list[tuple[str, Path]]:
    """The files of the data folder that are published, as (tree path, file), sorted by path.

    Only author folders are published: folders named by a Scholar ID that hold
    this tool's files; and the group's ``group.json`` and ``badges/group-*``.  Inside them the lock, temporary files of interrupted
    writes, the outputs manifest, symbolic links and a ``.git`` folder are
    left out.
    """
    found: list[tuple[str, Path]] = []
    authors = [p for p in sorted(Path(data_dir).iterdir()) if _is_author_folder(p)] if Path(data_dir).is_dir() else []
    for author in authors:
        for folder, dirs, files in os.walk(author):
            dirs[:] = sorted(d for d in dirs if not _is_skipped(d) and not os.path.islink(os.path.join(folder, d)))
            for name in files:
                if _is_skipped(name):
                    continue
                path = Path(folder) / name
                if path.is_symlink() or not path.is_file():
                    continue
                found.append((path.relative_to(data_dir).as_posix(), path))
    # Beside them, the group's numbers (crawler.outputs.group), at the root of the branch.
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
        p.name for p in data_dir.iterdir() if p.is_dir() and SCHOLAR_ID_RE.match(p.name) and (p / ROOT_FILES[0]).is_file()
    )


def choose_root_author(data_dir: Path, root_author: str | None) -> str | None:
    """The author whose files go to the branch root: the one asked for, else the first folder in sorted order."""
    if root_author is not None:
        if not (data_dir / root_author / ROOT_FILES[0]).is_file():
            raise PublishError(f"root author {root_author} has no {ROOT_FILES[0]} in {data_dir / root_author}")
        return root_author
    folders = author_folders(data_dir)
    if len(folders) > 1:
        log.info("several authors in %s; %s's files go to the branch root (choose with --root-author)", data_dir, folders[0])
    return folders[0] if folders else None


def _hash_files(git: Git, paths: list[Path]) -> list[str]:
    """Store the files as blobs, byte for byte (no end-of-line or filter conversion)."""
    if not paths:
        return []
    plain = [p for p in paths if "\n" not in str(p)]
    shas: dict[Path, str] = {}
    if plain:
        listing = "".join(f"{os.fspath(p.resolve())}\n" for p in plain).encode("utf-8", "surrogateescape")
        out = git.run("hash-object", "-w", "--no-filters", "--stdin-paths", input=listing).stdout.decode().split()
        if len(out) != len(plain):
            raise PublishError("git hash-object did not hash every file")
        shas.update(zip(plain, out, strict=True))
    for path in paths:
        if path not in shas:
            shas[path] = git.out("hash-object", "-w", "--no-filters", "--stdin", input=path.read_bytes())
    return [shas[p] for p in paths]


def build_tree(git: Git, data_dir: Path, root_author: str | None) -> _Tree:
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
        shas = _hash_files(git, [path for _, path in files])
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
    index_info = b"".join(b"100644 " + sha.encode() + b"\t" + path + b"\0" for path, sha in sorted(entries.items()))
    with tempfile.TemporaryDirectory(prefix="scholar-stats-index-") as tmp:
        env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
        git.run("update-index", "--add", "-z", "--index-info", input=index_info, env=env)
        tree = git.out("write-tree", env=env)
    return _Tree(tree, tuple(sorted(entries)), author, tuple(root_files))


def _tree_paths(git: Git, treeish: str) -> set[bytes]:
    out = git.run("ls-tree", "-r", "-z", "--name-only", "--full-tree", treeish).stdout
    return {p for p in out.split(b"\0") if p}


def _is_snapshot(path: bytes) -> bool:
    parts = path.split(b"/")
    return len(parts) == 3 and parts[1] == b"snapshots" and parts[2].endswith(b".json")


def _check_removals(git: Git, base: str, tree: _Tree, allow_removals: bool) -> None:
    if allow_removals:
        return
    lost = sorted(p for p in _tree_paths(git, base) - set(tree.paths) if _is_snapshot(p))
    if lost:
        example = os.fsdecode(lost[0])
        raise PublishError(
            f"the data folder lacks {len(lost)} snapshot(s) the branch has (e.g. {example}); "
            "run `scholar-stats publish --restore` first, or pass --allow-removals"
        )


def _changed_authors(git: Git, base: str | None, tree: str) -> list[str]:
    if base is None:
        paths = _tree_paths(git, tree)
    else:
        out = git.run("diff-tree", "-r", "-z", "--name-only", "--no-renames", base, tree).stdout
        paths = {p for p in out.split(b"\0") if p}
    return sorted({os.fsdecode(p.split(b"/")[0]) for p in paths if b"/" in p})


def _default_message(git: Git, base: str | None, tree: str) -> str:
    authors = _changed_authors(git, base, tree)
    shown = ", ".join(authors[:10]) + (f" and {len(authors) - 10} more" if len(authors) > 10 else "")
    if base is None:
        return f"Start the data branch: {shown}" if shown else "Start the data branch"
    return f"Update data: {shown}" if shown else "Update data"


def _identity_env(git: Git) -> dict[str, str]:
    """Fallback author and committer for machines with no git identity (GitHub's runners)."""
    env: dict[str, str] = {}
    name = git.config("user.name")
    email = git.config("user.email")
    for role in ("AUTHOR", "COMMITTER"):
        if not os.environ.get(f"GIT_{role}_NAME") and not name:
            env[f"GIT_{role}_NAME"] = FALLBACK_NAME
        if not os.environ.get(f"GIT_{role}_EMAIL") and not email:
            env[f"GIT_{role}_EMAIL"] = FALLBACK_EMAIL
    return env


def _commit(git: Git, tree: str, parent: str | None, message: str) -> str:
    args = ["commit-tree", "--no-gpg-sign", tree, "-m", message]
    if parent is not None:
        args += ["-p", parent]
    return git.out(*args, env=_identity_env(git))


# --- pushing


@dataclass(frozen=True)
class _PushOutcome:
    ok: bool
    retryable: bool
    message: str


def _push(git: Git, remote: str, commit: str, branch: str) -> _PushOutcome:
    proc = git.run(
        "push",
        "--porcelain",
        "--no-verify",
        "--",
        remote,
        f"{commit}:refs/heads/{branch}",
        check=False,
        timeout=NETWORK_TIMEOUT,
    )
    if proc.returncode == 0:
        return _PushOutcome(True, False, "")
    for line in proc.stdout.decode(errors="replace").splitlines():
        fields = line.split("\t")
        if len(fields) >= 3 and fields[0] == "!":
            summary = fields[2]
            retryable = summary.startswith("[rejected]") and any(r in summary for r in _RETRYABLE_REJECTIONS)
            return _PushOutcome(False, retryable, summary)
    return _PushOutcome(False, False, _last_line(proc.stderr))


def _backoff(attempt: int) -> float:
    return min(8.0, 0.5 * 2.0**attempt) * (1 + random.random() / 2)


# --- the CDN


def repo_slug(url: str) -> str | None:
    """OWNER/REPO from a remote URL (the last two parts of its path, ``.git`` dropped)."""
    text = url.strip()
    scp = re.match(r"^[\w.-]+@[\w.-]+:(?!//)(.+)$", text)
    path = scp.group(1) if scp else urlsplit(text).path if "://" in text else text
    parts = [p for p in PurePosixPath(path.replace("\\", "/")).parts if p not in ("/", "")]
    if len(parts) < 2:
        return None
    owner, name = parts[-2], parts[-1]
    if name.endswith(".git"):
        name = name[: -len(".git")]
    if not owner or not name:
        return None
    return f"{owner}/{name}"


def purge_jsdelivr(
    slug: str,
    branch: str,
    files: Iterable[str],
    *,
    base_url: str | None = None,
    client: httpx.Client | None = None,
) -> tuple[str, ...]:
    """Ask jsDelivr to drop its cached copies; return the URLs purged.  Failures are warnings only."""
    base = (base_url or os.environ.get(PURGE_URL_ENV) or JSDELIVR_PURGE_URL).rstrip("/")
    purged: list[str] = []
    own = client is None
    http = client or httpx.Client(timeout=httpx.Timeout(10.0), follow_redirects=True)
    try:
        for name in files:
            url = f"{base}/gh/{slug}@{quote(branch, safe='')}/{quote(name)}"
            try:
                response = http.get(url)
            except httpx.HTTPError as exc:
                log.warning("CDN purge failed for %s: %s", url, exc)
                continue
            if response.is_success:
                purged.append(url)
            else:
                log.warning("CDN purge failed for %s: HTTP %s", url, response.status_code)
    finally:
        if own:
            http.close()
    return tuple(purged)


# --- the two entry points


def publish(
    data_dir: Path,
    *,
    repo: Path | None = None,
    branch: str = DEFAULT_BRANCH,
    remote: str = DEFAULT_REMOTE,
    push: bool = True,
    root_author: str | None = None,
    message: str | None = None,
    purge_cdn: bool = False,
    retries: int = 3,
    allow_removals: bool = False,
    force_branch: bool = False,
    sleep: Callable[[float], None] = time.sleep,
    purge_base_url: str | None = None,
) -> PublishResult:
    """Commit the data folder onto ``branch`` on top of its tip and push it; see the module docstring."""
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise PublishError(f"the data folder {data_dir} does not exist")
    git = Git.open(repo)
    check_branch_name(git, branch)
    if git.checked_out_here(branch):
        raise PublishError(f"the branch {branch} is checked out in {git.git_dir}; switch to another branch first")
    if push or remote in git.remotes():
        check_remote(git, remote)
    ref = f"refs/heads/{branch}"

    with locked(data_dir, timeout=LOCK_TIMEOUT):
        tree = build_tree(git, data_dir, root_author)
    files = tuple(os.fsdecode(p) for p in tree.paths)

    local = git.rev_parse(ref)
    base = local
    if local is not None:
        check_data_branch(git, branch, local, force=force_branch)
    else:
        remote_tip = _optional_remote_tip(git, remote, branch, required=push)
        if remote_tip is not None:
            check_data_branch(git, f"{branch} of {remote}", remote_tip, force=force_branch)
            git.update_ref(ref, remote_tip, None)
            base = remote_tip

    result = PublishResult(None, False, files, branch, base, tree.root_author, 0, (), base)
    if base is not None and git.tree_of(base) == tree.sha:
        if push and git.rev_parse(git.tracking_ref(remote, branch)) != base:
            # An earlier publish committed but could not push; push that commit now.
            log.info("pushing %s, committed earlier but not pushed", base[:12])
            return _push_with_replay(git, result, tree, base, remote, message, retries, allow_removals, sleep,
                                     purge_cdn, purge_base_url, made=None, force_branch=force_branch)
        log.info("nothing to publish: %s already holds the data folder's content", branch)
        return result

    if base is not None:
        _check_removals(git, base, tree, allow_removals)
    commit = _commit(git, tree.sha, base, message or _default_message(git, base, tree.sha))
    git.update_ref(ref, commit, base)
    log.info("committed %s on %s (parent %s)", commit[:12], branch, base[:12] if base else "none")
    result = PublishResult(commit, False, files, branch, base, tree.root_author, 0, (), commit)
    if not push:
        return result
    return _push_with_replay(git, result, tree, commit, remote, message, retries, allow_removals, sleep,
                             purge_cdn, purge_base_url, made=commit, force_branch=force_branch)


def _optional_remote_tip(git: Git, remote: str, branch: str, *, required: bool) -> str | None:
    if remote not in git.remotes() and not required:
        return None
    try:
        return git.remote_tip(remote, branch)
    except PublishError as exc:
        if required:
            raise
        log.warning("%s; starting from the local state", exc)
        return None


def _push_with_replay(
    git: Git,
    result: PublishResult,
    tree: _Tree,
    commit: str,
    remote: str,
    message: str | None,
    retries: int,
    allow_removals: bool,
    sleep: Callable[[float], None],
    purge: bool,
    purge_base_url: str | None,
    *,
    made: str | None,
    force_branch: bool = False,
) -> PublishResult:
    ref = f"refs/heads/{result.branch}"
    parent = result.parent
    attempt = 0
    while True:
        attempt += 1
        outcome = _push(git, remote, commit, result.branch)
        if outcome.ok:
            git.update_ref(git.tracking_ref(remote, result.branch), commit, git.rev_parse(git.tracking_ref(remote, result.branch)))
            log.info("pushed %s to %s %s", commit[:12], remote, result.branch)
            break
        if not outcome.retryable:
            raise PublishError(f"git push to {remote} refused {result.branch}: {outcome.message}")
        if attempt > retries:
            raise PublishError(
                f"git push to {remote} still rejected after {retries} retries ({outcome.message}); try again later"
            )
        log.warning("push rejected (%s); fetching %s and committing on top of it", outcome.message, result.branch)
        sleep(_backoff(attempt - 1))
        remote_tip = git.remote_tip(remote, result.branch)
        if remote_tip is None:
            # The branch was deleted on the remote meanwhile: push ours as it is.
            continue
        if git.tree_of(remote_tip) == tree.sha:
            git.update_ref(ref, remote_tip, commit)
            log.info("nothing to publish: %s on %s already holds the data folder's content", result.branch, remote)
            return PublishResult(None, False, result.files, result.branch, remote_tip, tree.root_author, attempt, (), remote_tip)
        check_data_branch(git, f"{result.branch} of {remote}", remote_tip, force=force_branch)
        _check_removals(git, remote_tip, tree, allow_removals)
        replayed = _commit(git, tree.sha, remote_tip, message or _default_message(git, remote_tip, tree.sha))
        git.update_ref(ref, replayed, commit)
        commit, parent, made = replayed, remote_tip, replayed

    purged: tuple[str, ...] = ()
    if purge:
        purged = _purge_after_push(git, remote, result.branch, tree, purge_base_url)
    return PublishResult(made, True, result.files, result.branch, parent, tree.root_author, attempt, purged, commit)


def _purge_after_push(git: Git, remote: str, branch: str, tree: _Tree, base_url: str | None) -> tuple[str, ...]:
    try:
        slug = repo_slug(git.remote_url(remote))
    except ScholarStatsError as exc:
        log.warning("CDN purge skipped: %s", exc)
        return ()
    if slug is None:
        log.warning("CDN purge skipped: cannot tell OWNER/REPO from the remote %s", remote)
        return ()
    if not tree.root_files:
        log.warning("CDN purge skipped: no root files were published")
        return ()
    return purge_jsdelivr(slug, branch, tree.root_files, base_url=base_url)


def restore(
    data_dir: Path,
    *,
    repo: Path | None = None,
    branch: str = DEFAULT_BRANCH,
    remote: str = DEFAULT_REMOTE,
    fetch: bool = True,
    force_branch: bool = False,
) -> list[Path]:
    """Write the branch's files the data folder lacks into it; return the files written.

    The branch is read from the remote when it has one (the published state),
    else from the local branch.  Files the folder already has are never
    overwritten, and the root copies of the root author's files are skipped.
    Only a data branch is read (unless ``force_branch``): restoring from a
    site's branch would fill the data folder with the site.
    """
    data_dir = Path(data_dir)
    git = Git.open(repo)
    check_branch_name(git, branch)
    ref = f"refs/heads/{branch}"
    local = git.rev_parse(ref)
    tip = local
    if fetch and (remote in git.remotes() or "/" in remote or ":" in remote):
        check_remote(git, remote)
        remote_tip = git.remote_tip(remote, branch)
        if remote_tip is not None:
            check_data_branch(git, f"{branch} of {remote}", remote_tip, force=force_branch)
            tip = remote_tip
            if local is None:
                git.update_ref(ref, remote_tip, None)
            elif local != remote_tip and git.is_ancestor(local, remote_tip) and not git.checked_out_here(branch):
                git.update_ref(ref, remote_tip, local)
    if tip is None:
        log.warning("nothing to restore: the branch %s does not exist yet", branch)
        return []
    check_data_branch(git, branch, tip, force=force_branch)

    listing = git.run("ls-tree", "-r", "-z", "--full-tree", tip).stdout
    wanted: list[tuple[str, Path]] = []
    for record in listing.split(b"\0"):
        if not record:
            continue
        info, _, raw_path = record.partition(b"\t")
        mode, kind, sha = info.split()
        if kind != b"blob" or mode == b"120000":
            continue
        parts = raw_path.split(b"/")
        if len(parts) == 1:
            # The root copies of the root author's files, the marker, or a file of
            # another crawler: none belongs in the data folder.
            continue
        if not SCHOLAR_ID_RE.match(os.fsdecode(parts[0])):
            continue
        if any(p in (b"", b".", b"..", b".git") for p in parts):
            log.warning("skipped a path that cannot be restored safely: %r", raw_path)
            continue
        target = data_dir.joinpath(*(os.fsdecode(p) for p in parts))
        if not target.exists():
            wanted.append((sha.decode(), target))

    written: list[Path] = []
    if not wanted:
        return written
    with locked(data_dir, timeout=LOCK_TIMEOUT):
        bodies = _read_blobs(git, [blob for blob, _ in wanted])
        for (_, target), body in zip(wanted, bodies, strict=True):
            if target.exists():
                continue
            atomic_write_bytes(target, body, jail=data_dir)
            written.append(target)
    log.info("restored %d file(s) from %s into %s", len(written), branch, data_dir)
    return written


def _read_blobs(git: Git, shas: list[str]) -> list[bytes]:
    out = git.run("cat-file", "--batch", input="".join(f"{s}\n" for s in shas).encode()).stdout
    bodies: list[bytes] = []
    pos = 0
    for _ in shas:
        header_end = out.index(b"\n", pos)
        header = out[pos:header_end].split()
        if len(header) != 3:
            raise PublishError(f"git cat-file: unexpected answer {out[pos:header_end]!r}")
        size = int(header[2])
        start = header_end + 1
        bodies.append(out[start : start + size])
        pos = start + size + 1
    return bodies
