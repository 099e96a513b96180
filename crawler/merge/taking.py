"""One author's merge: what is taken of what its shard brought, copied or moved into the data
folder (``_Take``), and an author no shard brought, kept and marked stale."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from crawler.config import Config
from crawler.merge.shard_reads import (
    _Brought,
    _brought,
    _newest_snapshot,
    _read_checked,
    _same_bytes,
    _Walk,
)
from crawler.merge.summary import MergeSummary, ShardMissing
from crawler.models import utc_now
from crawler.net.redact import redacted_text
from crawler.outputs.badges import BadgeStyle
from crawler.outputs.formats import SNAPSHOT, is_history, layout_kind
from crawler.outputs.write import write_outputs
from crawler.storage.batch import Identity, Taking, identity_of
from crawler.storage.readfile import walk_inside
from crawler.storage.stale import STATE_FILE, mark_stale, read_state, redacted_state, stale_since_of
from crawler.storage.store import AuthorStore, confine

log = logging.getLogger(__name__)


@dataclass
class _Take(Taking):
    walks: dict[str, _Walk] = field(default_factory=dict)
    expected: int = 0
    staged: dict[str, Path] = field(default_factory=dict)
    """Where each author folder taken out of its shard first is read (``staging``)."""


def _movable(info: os.stat_result) -> Identity | None:
    """The identity a move of the file read as ``info`` checks, or ``None`` when it has another name
    (a hard link): a write through that name would change the data behind the checks, so it is copied."""
    return identity_of(info) if info.st_nlink == 1 else None


def _private(take: _Take, folder: Path) -> bool:
    """Whether ``folder`` is an author's folder read where ``staging`` moved it, out of its shard."""
    return take.staged.get(folder.name) == folder


def _merge_author(
    scholar_id: str, source: Path, into: Path, summary: MergeSummary, config: Config | None, take: _Take
) -> None:
    folder = take.staged.get(scholar_id) or source / scholar_id
    brought = _brought(scholar_id, folder, summary, take.walks[scholar_id])
    target = into / scholar_id
    ours = walk_inside(target) if target.is_dir() else []

    def refuse(rel: str, exc: ValueError) -> None:
        summary.skipped.append(f"{exc}; not merged")
        brought.refused.add(rel)

    def ours_bad(rel: str, exc: ValueError) -> None:
        log.warning("%s; skipped", exc)

    their_latest = _newest_snapshot(
        scholar_id, folder, brought.snapshots, refuse, brought, (target, len(take.walks) + take.expected)
    )
    our_latest = _newest_snapshot(scholar_id, target, ours, ours_bad)
    if their_latest is None:
        # The shard ran but has no history of this author (its restore or its
        # fetch failed): the data we hold stays; only the shard's stale marker,
        # which says why, is taken.
        if STATE_FILE in brought.outputs:
            _take_outputs(brought, folder, target, {STATE_FILE}, take, summary)
            summary.stale.append(scholar_id)
            summary.kept.append(scholar_id)
        else:
            _mark_missing(into, scholar_id, summary, f"shard folder {source} holds no snapshot of it")
        return
    summary.merged.append(scholar_id)
    newer_here = our_latest is not None and our_latest[0] > their_latest[0]
    if not _moved_whole(brought, folder, target, take, summary, source / scholar_id):
        _take_snapshots(brought, folder, target, set(ours), take, summary, refuse)
        if not newer_here:
            _take_outputs(brought, folder, target, set(brought.outputs), take, summary)
    if newer_here:
        summary.notes.append(
            f"{scholar_id}: {into} holds a newer snapshot than {source}; its outputs are kept"
        )
        return
    # Everything else (outputs, badges, the stale marker) is the shard's: the
    # author's folder becomes what its shard made of it.
    take.doomed.extend(
        target / rel
        for rel in ours
        if rel not in brought.outputs
        and rel not in brought.refused
        and layout_kind(rel) is not None
        and not is_history(rel)
    )
    if STATE_FILE in brought.outputs:
        summary.stale.append(scholar_id)
    if "gs_data.json" not in brought.outputs or any(not is_history(rel) for rel in brought.refused):
        # An output that failed its check (or is missing) is not taken, and the rest
        # may not match what stayed: every output is built again from the newest snapshot.
        summary.notes.append(
            f"{scholar_id}: outputs in {source} failed their checks; rebuilt from its newest snapshot"
        )
        style, since = config.badge if config is not None else BadgeStyle(), stale_since_of(into, scholar_id)
        take.commit()  # what is staged goes first: the outputs built again replace it
        summary.written.extend(
            write_outputs(AuthorStore(into, scholar_id), their_latest[1], style, stale_since=since)
        )


def _take_snapshots(
    brought: _Brought,
    folder: Path,
    target: Path,
    ours: set[str],
    take: _Take,
    summary: MergeSummary,
    refuse: Callable[[str, ValueError], None],
) -> None:
    """History is only ever added to: a snapshot the shard does not have (its restore
    missed it) stays, and one with the same name is never replaced."""
    for rel in brought.snapshots:
        if rel in brought.refused:
            continue
        if rel in ours:
            # Ours stays whatever the shard's says: only compared (bytes, no parsing:
            # a lab's shards bring back every snapshot they restored).
            if not _same_bytes(folder / rel, target / rel):
                summary.notes.append(
                    f"{folder.name}: {rel} differs in {folder.parent}; the copy in {target.parent} is kept"
                )
            continue
        data = brought.snapshot_data.pop(rel, None)
        if data is None:
            try:
                data, brought.read[rel] = _read_checked(folder, rel, SNAPSHOT, folder.name)
            except ValueError as exc:
                refuse(rel, exc)
                continue
        take.put(folder / rel, target / rel, data, _movable(brought.read[rel]), True, _private(take, folder))


def _take_outputs(
    brought: _Brought, folder: Path, target: Path, names: set[str], take: _Take, summary: MergeSummary
) -> None:
    for rel, data in sorted(brought.outputs.items()):
        if rel in names:
            put = redacted_state(data) if rel == STATE_FILE else data
            read = _movable(brought.read[rel]) if put == data else None
            take.put(folder / rel, target / rel, put, read, False, _private(take, folder))


def _moved_whole(
    brought: _Brought, folder: Path, target: Path, take: _Take, summary: MergeSummary, origin: Path
) -> bool:
    """With ``move``, an author the data folder does not hold yet, whose folder (taken out of its shard
    ``origin`` before it was read: ``staging``) holds only files that passed their checks, each of one
    name, is moved in as one folder (its snapshots fsynced first): one rename for its hundreds of
    files, none of them looked at again.  What ``_left_behind`` names goes with it and is removed."""
    state = brought.outputs.get(STATE_FILE)
    if (
        not _private(take, folder)
        or brought.others
        or brought.refused
        or os.path.lexists(target)
        or (state is not None and redacted_state(state) != state)
    ):
        return False
    for rel in brought.snapshots:
        if rel not in brought.read:
            try:
                _, brought.read[rel] = _read_checked(folder, rel, SNAPSHOT, folder.name)
            except ValueError as exc:
                summary.skipped.append(f"{exc}; not merged")
                brought.refused.add(rel)
                return False
    if any(info.st_nlink != 1 for info in brought.read.values()):
        return False  # a file with another name is copied (``_movable``): the folder goes file by file
    modes = [rel for rel, info in brought.read.items() if stat.S_IMODE(info.st_mode) != 0o644]
    take.batch.adopt_folder(
        folder, target, origin, durable=brought.snapshots, dropped=brought.left, modes=modes
    )
    summary.moved_files += len(brought.read)
    take.folders.update(
        f"{target}/{rel}" if rel else f"{target}" for rel in {r.rpartition("/")[0] for r in brought.read}
    )
    return True


def _mark_missing(into: Path, scholar_id: str, summary: MergeSummary, why: str) -> None:
    """Keep the last good data and say it is stale; the marker is rewritten only
    when it does not already say so, so merging again changes nothing."""
    summary.missing.append(scholar_id)
    summary.stale.append(scholar_id)
    summary.kept.append(scholar_id)
    error = ShardMissing(f"no shard brought this author's data ({why}); the last good data is kept")
    path = into / scholar_id / STATE_FILE
    confine(path, into)
    try:
        old = read_state(into, scholar_id)
    except ValueError:
        old = None
    if (
        old is not None
        and old.get("stale")
        and old.get("error") == type(error).__name__
        and old.get("reason") == redacted_text(error)
    ):
        return
    mark_stale(into, scholar_id, error, when=utc_now())
    summary.written.append(path)
