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

A push rejected because the remote branch moved (another machine published
first) is not forced: the remote tip is fetched and our change is replayed on
top of it (what our commit added or changed wins; what the other machine added
meanwhile, its snapshots or another author, stays), then pushed again, a
bounded number of times.  The files the other machine added are then written
into the data folder too, so the next publish from here keeps them.

``crawler.branch.restore`` does the opposite for a fresh machine (a CI runner): it fills the
data folder with the files of the branch it lacks, so that ``run`` sees the
previous snapshots and ``publish`` does not drop them.  A publish that would
remove snapshots the branch has is refused unless removals are allowed.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from crawler.branch import DEFAULT_REMOTE, LOCK_TIMEOUT
from crawler.branch.git import NETWORK_TIMEOUT, Git, check_branch_name, check_remote, git_reason
from crawler.branch.layout import (
    Tree,
    author_folders,
    build_tree,
    check_data_branch,
    check_removals,
    data_files,
    tree_paths,
)
from crawler.errors import PublishError, ScholarStatsError
from crawler.net.cdn import purge_jsdelivr, repo_slug
from crawler.net.redact import redacted_text
from crawler.storage.stale import STATE_FILE
from crawler.storage.store import DEFAULT_BRANCH, locked

log = logging.getLogger(__name__)

FALLBACK_NAME = "scholar-stats"
FALLBACK_EMAIL = "scholar-stats@users.noreply.github.com"
# How a rejected push that retrying can fix reads in `git push --porcelain`.
_RETRYABLE_REJECTIONS = ("fetch first", "non-fast-forward", "stale info")
# Two pushes inside the server at once: the later one finds the branch moved under it.
_RETRYABLE_SERVER_REJECTIONS = ("cannot lock ref", "failed to update ref", "incorrect old value")


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


def _changed_authors(git: Git, base: str | None, tree: str) -> list[str]:
    if base is None:
        paths = tree_paths(git, tree)
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
    # A commit is public and forever: whatever wrote the message (--message, a
    # summary of remote text), credentials never reach it.
    args = ["commit-tree", "--no-gpg-sign", tree, "-m", redacted_text(message)]
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
            retryable = (
                summary.startswith("[rejected]") and any(r in summary for r in _RETRYABLE_REJECTIONS)
            ) or (
                summary.startswith("[remote rejected]")
                and any(r in summary for r in _RETRYABLE_SERVER_REJECTIONS)
            )
            return _PushOutcome(False, retryable, summary)
    return _PushOutcome(False, False, git_reason(proc.stderr))


def _backoff(attempt: int) -> float:
    return min(8.0, 0.5 * 2.0**attempt) * (1 + random.random() / 2)


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
        raise PublishError(
            f"the branch {branch} is checked out in {git.git_dir}; switch to another branch first"
        )
    if push or remote in git.remotes():
        check_remote(git, remote)
    plan = _PushPlan(remote, message, retries, allow_removals, sleep, purge_cdn, purge_base_url, force_branch)
    ref = f"refs/heads/{branch}"

    with locked(data_dir, timeout=LOCK_TIMEOUT):
        if not author_folders(data_dir) and data_files(data_dir):
            # Only stale markers (a blocked first run): a branch of them would give a homepage
            # nothing to show, and would hide an AcadHomepage branch's numbers from the page.
            log.warning(
                "nothing to publish yet: no author in %s has numbers (each one's %s says why)",
                data_dir,
                STATE_FILE,
            )
            return PublishResult(commit=None, pushed=False, files=(), branch=branch)
        tree = build_tree(git, data_dir, root_author)
    files = tuple(os.fsdecode(p) for p in tree.paths)

    base = _base(git, branch, remote, push=push, force_branch=force_branch)
    result = PublishResult(
        commit=None,
        pushed=False,
        files=files,
        branch=branch,
        parent=base,
        root_author=tree.root_author,
        tip=base,
    )
    if base is not None and git.tree_of(base) == tree.sha:
        if push and git.rev_parse(git.tracking_ref(remote, branch)) != base:
            # An earlier publish committed but could not push; push that commit now.
            log.info("pushing %s, committed earlier but not pushed", base[:12])
            return _push_and_fill(data_dir, git, result, tree, base, plan, made=None)
        log.info("nothing to publish: %s already holds the data folder's content", branch)
        return result

    if base is not None:
        check_removals(git, base, tree, allow_removals)
    commit = _commit(git, tree.sha, base, message or _default_message(git, base, tree.sha))
    git.update_ref(ref, commit, base)
    log.info("committed %s on %s (parent %s)", commit[:12], branch, base[:12] if base else "none")
    result = dataclasses.replace(result, commit=commit, tip=commit)
    if not push:
        return result
    return _push_and_fill(data_dir, git, result, tree, commit, plan, made=commit)


@dataclass(frozen=True)
class _PushPlan:
    """How a commit is pushed: where, how often a rejected push is replayed and retried,
    and what follows (the CDN purge)."""

    remote: str
    message: str | None
    retries: int
    allow_removals: bool
    sleep: Callable[[float], None]
    purge: bool
    purge_base_url: str | None
    force_branch: bool


def _push_and_fill(
    data_dir: Path,
    git: Git,
    result: PublishResult,
    tree: Tree,
    commit: str,
    plan: _PushPlan,
    *,
    made: str | None,
) -> PublishResult:
    """Push ``commit`` (replayed onto the remote's tip as often as it moved), then, after a
    replay, write what the other machine published into the data folder: without it the next
    publish from this folder would lack those snapshots and be refused (or, allowed, drop them)."""
    result = _push_with_replay(git, result, tree, commit, plan, made=made)
    if result.attempts >= 2:
        from crawler.branch.restore import restore  # restore reads the branch the way publish writes it

        restore(data_dir, repo=git.git_dir, branch=result.branch, fetch=False, force_branch=plan.force_branch)
    return result


def _base(git: Git, branch: str, remote: str, *, push: bool, force_branch: bool) -> str | None:
    """The commit to build on: the local branch, else the remote's (fetched into the local
    branch), each checked to be a data branch; ``None`` for a branch's first commit."""
    ref = f"refs/heads/{branch}"
    local = git.rev_parse(ref)
    if local is not None:
        check_data_branch(git, branch, local, force=force_branch)
        return local
    remote_tip = _optional_remote_tip(git, remote, branch, required=push)
    if remote_tip is not None:
        check_data_branch(git, f"{branch} of {remote}", remote_tip, force=force_branch)
        git.update_ref(ref, remote_tip, None)
    return remote_tip


def _optional_remote_tip(git: Git, remote: str, branch: str, *, required: bool) -> str | None:
    if remote not in git.remotes() and not required:
        return None
    try:
        return git.remote_tip(remote, branch)
    except PublishError as exc:
        if required:
            raise
        # Unreachable now, but fetched before: its last known tip holds the history to build on.
        # A new root commit would drop that history at the next push.
        known = git.rev_parse(git.tracking_ref(remote, branch))
        if known is not None:
            log.warning(
                "%s; building on %s as last fetched (%s)", exc, git.tracking_ref(remote, branch), known[:12]
            )
            return known
        log.warning("%s; starting from the local state", exc)
        return None


def _push_with_replay(
    git: Git, result: PublishResult, tree: Tree, commit: str, plan: _PushPlan, *, made: str | None
) -> PublishResult:
    remote, retries = plan.remote, plan.retries
    ref = f"refs/heads/{result.branch}"
    parent = result.parent
    attempt = 0
    while True:
        attempt += 1
        outcome = _push(git, remote, commit, result.branch)
        if outcome.ok:
            git.update_ref(
                git.tracking_ref(remote, result.branch),
                commit,
                git.rev_parse(git.tracking_ref(remote, result.branch)),
            )
            log.info("pushed %s to %s %s", commit[:12], remote, result.branch)
            break
        if not outcome.retryable:
            raise PublishError(f"git push to {remote} refused {result.branch}: {outcome.message}")
        if attempt > retries:
            raise PublishError(
                f"git push to {remote} still rejected after {retries} retries ({outcome.message}); "
                "try again later"
            )
        log.warning(
            "push rejected (%s); fetching %s and committing on top of it", outcome.message, result.branch
        )
        plan.sleep(_backoff(attempt - 1))
        remote_tip = git.remote_tip(remote, result.branch)
        if remote_tip is None:
            # The branch was deleted on the remote meanwhile: push ours as it is.
            continue
        check_data_branch(git, f"{result.branch} of {remote}", remote_tip, force=plan.force_branch)
        # Our change (from the commit ours was built on to our tree) goes on top of theirs:
        # what the other machine published meanwhile (its snapshots, another author) stays.
        merged = git.replay_tree(git.rev_parse(f"{commit}^"), git.tree_of(commit), remote_tip)
        if git.tree_of(remote_tip) == merged:
            git.update_ref(ref, remote_tip, commit)
            log.info(
                "nothing to publish: %s on %s already holds the data folder's content", result.branch, remote
            )
            return dataclasses.replace(
                result, commit=None, parent=remote_tip, attempts=attempt, tip=remote_tip
            )
        check_removals(
            git,
            remote_tip,
            dataclasses.replace(tree, sha=merged, paths=tuple(sorted(tree_paths(git, merged)))),
            plan.allow_removals,
        )
        replayed = _commit(git, merged, remote_tip, plan.message or _default_message(git, remote_tip, merged))
        git.update_ref(ref, replayed, commit)
        commit, parent, made = replayed, remote_tip, replayed

    purged: tuple[str, ...] = ()
    if plan.purge:
        purged = _purge_after_push(git, remote, result.branch, tree, plan.purge_base_url)
    return dataclasses.replace(
        result, commit=made, pushed=True, parent=parent, attempts=attempt, purged=purged, tip=commit
    )


def _purge_after_push(
    git: Git, remote: str, branch: str, tree: Tree, base_url: str | None
) -> tuple[str, ...]:
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
