"""The opposite of publishing, for a fresh machine (a CI runner): fill the data folder from the data branch.

``restore`` writes the files of the branch the data folder lacks, so that
``run`` sees the previous snapshots and ``publish`` does not drop them.  It
never overwrites a file, reads only a data branch, and only author folders.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

from crawler.branch import DEFAULT_REMOTE, LOCK_TIMEOUT
from crawler.branch.git import Git, check_branch_name, check_remote
from crawler.branch.layout import check_data_branch
from crawler.models import SCHOLAR_ID_RE
from crawler.outputs.formats import layout_kind
from crawler.storage.readfile import MAX_OUTPUT_BYTES
from crawler.storage.store import DEFAULT_BRANCH, SITE_FOLDER, atomic_write_bytes, locked

log = logging.getLogger(__name__)

# How much of the branch's files is held in memory at once while they are written out.
CHUNK_BYTES = 64 * 1024 * 1024


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
            elif (
                local != remote_tip
                and git.is_ancestor(local, remote_tip)
                and not git.checked_out_here(branch)
            ):
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
        # Author folders, and the dashboard's site folder (`site = true`).
        if not SCHOLAR_ID_RE.match(os.fsdecode(parts[0])) and parts[0] != SITE_FOLDER.encode():
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
        for chunk in _chunks(git, wanted, data_dir):
            bodies = git.read_blobs([blob for blob, _ in chunk])
            for (_, target), body in zip(chunk, bodies, strict=True):
                if target.exists():
                    continue
                atomic_write_bytes(target, body, jail=data_dir)
                written.append(target)
    log.info("restored %d file(s) from %s into %s", len(written), branch, data_dir)
    return written


def _limit(rel: tuple[str, ...]) -> int:
    """The largest file ``rel`` (author or site folder first) may be, as the data layout bounds it."""
    if rel[0] == SITE_FOLDER:
        return MAX_OUTPUT_BYTES
    kind = layout_kind("/".join(rel[1:]))
    return kind.limit if kind is not None else MAX_OUTPUT_BYTES


def _chunks(git: Git, wanted: list[tuple[str, Path]], data_dir: Path) -> Iterator[list[tuple[str, Path]]]:
    """``wanted`` in groups of at most ``CHUNK_BYTES`` of blobs (one larger blob alone): years of
    snapshots are read a piece at a time, never all at once.  A blob larger than its kind of file
    may be is not restored, and said so: such a file is not one this tool wrote."""
    sizes = git.blob_sizes([blob for blob, _ in wanted])
    chunk: list[tuple[str, Path]] = []
    total = 0
    for (blob, target), size in zip(wanted, sizes, strict=True):
        rel = target.relative_to(data_dir).parts
        if size > _limit(rel):
            log.warning(
                "not restored: %s is %d bytes, more than such a file may be (%d)",
                "/".join(rel),
                size,
                _limit(rel),
            )
            continue
        if chunk and total + size > CHUNK_BYTES:
            yield chunk
            chunk, total = [], 0
        chunk.append((blob, target))
        total += size
    if chunk:
        yield chunk
