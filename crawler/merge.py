"""Merging the data folders of a sharded run (``run --shard K/N``) back into one.

    merge(shard folders, into=data) ─► each author from exactly one shard;
                                       an author no shard brought keeps its
                                       last good data, marked stale

A shard folder is another machine's output: merge takes from it only the files
the data layout names (``layout_kind``), each read within its size bound
(``crawler.storage.readfile``) and checked (a snapshot of this very author, valid JSON
of the right format).  Anything else is skipped with a line, and nothing
skipped replaces or removes what the data folder holds.  Each file is written
anew, never linked to the shard's: the shard folder is not ours.  With ``move``,
what is taken is moved out of the shard folder instead, once checked (``Taking``).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from crawler.config import Config
from crawler.errors import ExitCode, ScholarStatsError, StorageError, UsageError
from crawler.models import SCHOLAR_ID_RE, AuthorRecord, utc_now
from crawler.net.redact import redacted_text
from crawler.outputs.badges import BadgeStyle
from crawler.outputs.formats import SNAPSHOT, FileKind, is_history, layout_kind, snapshot_record
from crawler.outputs.write import write_outputs
from crawler.policy.on_block import is_overdue
from crawler.storage.batch import Identity, Moved, Taking, identity_of
from crawler.storage.readfile import (
    MAX_SNAPSHOT_BYTES,
    open_regular_stat,
    read_bounded,
    read_fd,
    walk_inside,
)
from crawler.storage.stale import STATE_FILE, mark_stale, read_state, redacted_state, stale_since_of
from crawler.storage.store import (
    ATTEMPT_FILE,
    LOCK_NAME,
    SNAPSHOT_DIR,
    TEMP_NAME_RE,
    AuthorStore,
    confine,
    locked,
    remember_read,
    snapshot_sort_key,
    sync_folders,
)

log = logging.getLogger(__name__)

# What a shard's run writes beside its authors' folders: its lock, and the group's
# numbers of a run that was not sharded; merge builds the group's own.
_SHARD_OWN = frozenset({LOCK_NAME, "group.json", "badges", "site"})


class ShardMissing(ScholarStatsError):
    """No shard brought this author's folder (its shard failed or was not downloaded)."""

    exit_code = ExitCode.ERROR


@dataclass
class MergeSummary:
    merged: list[str] = field(default_factory=list)
    """Authors whose folder came from a shard."""
    stale: list[str] = field(default_factory=list)
    """Authors whose data is stale: their shard failed for them, or no shard brought them."""
    missing: list[str] = field(default_factory=list)
    """Expected authors no shard brought; their last good data is kept and marked stale."""
    kept: list[str] = field(default_factory=list)
    """Stale authors whose outputs here are not their shard's: shown again as kept (stale)."""
    into: Path = Path()
    written: list[Path] = field(default_factory=list)
    moved_files: int = 0
    """Files of the author folders moved in whole (``move``), not listed in ``written``."""
    removed: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    """One line for each file of a shard that was not merged: not in the data layout, or failing its check."""


def _author_folders(shard_dir: Path) -> list[str]:
    """The author folders of one shard folder; anything else in it is not ours to merge."""
    try:
        entries = sorted(shard_dir.iterdir())
    except FileNotFoundError as exc:
        raise UsageError(f"{shard_dir}: no such shard folder") from exc
    except NotADirectoryError as exc:
        raise UsageError(f"{shard_dir}: not a folder") from exc
    except OSError as exc:
        raise StorageError(f"cannot list {shard_dir}: {exc.strerror or exc}") from exc
    ids = []
    for entry in entries:
        if SCHOLAR_ID_RE.match(entry.name) and entry.is_dir() and not entry.is_symlink():
            ids.append(entry.name)
        elif entry.is_symlink() and SCHOLAR_ID_RE.match(entry.name):
            log.warning("%s is a symbolic link; ignored", entry)
    return ids


# -- what a shard may bring: the files ``run`` writes, each read bounded and checked --

_Walk = tuple[list[str], list[str]]  # the regular files below a folder, and what else is there


@dataclass
class _Brought:
    """What one shard brought of an author: its outputs, read and checked; the names of
    its snapshots (each read and checked when it is taken); the names that failed; each
    file taken as it was read (``read``: its identity, for a move); whether the folder
    holds anything else (a file skipped or refused)."""

    outputs: dict[str, bytes] = field(default_factory=dict)
    snapshots: list[str] = field(default_factory=list)
    refused: set[str] = field(default_factory=set)
    read: dict[str, Identity] = field(default_factory=dict)
    snapshot_data: dict[str, bytes] = field(default_factory=dict)
    others: bool = False


def _read(folder: Path, rel: str, limit: int) -> tuple[bytes, Identity]:
    """The bytes of ``folder/rel`` within ``limit``, and the identity of the file they were read
    from; ``ValueError`` saying why not."""
    path = f"{folder}/{rel}"
    try:
        fd, info = open_regular_stat(path, limit=limit)
    except (FileNotFoundError, NotADirectoryError) as exc:
        raise ValueError("it is gone") from exc
    except StorageError as exc:
        raise ValueError(str(exc)) from exc
    try:
        data = read_fd(fd, info.st_size, limit=limit, path=path, error=StorageError)
    except (OSError, StorageError) as exc:
        raise ValueError(str(exc)) from exc
    finally:
        os.close(fd)
    return data, identity_of(info)


def _read_checked(folder: Path, rel: str, kind: FileKind, scholar_id: str) -> tuple[bytes, Identity]:
    """The bytes of ``folder/rel`` if they pass ``kind``'s bound and check, and the identity
    of the file they were read from; ``ValueError`` saying why not."""
    data, identity = _read(folder, rel, kind.limit)
    try:
        kind.check(data, scholar_id)
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{folder / rel}: {exc}") from exc
    return data, identity


def _read_snapshot(folder: Path, rel: str, scholar_id: str) -> tuple[bytes, Identity, AuthorRecord]:
    """``_read_checked`` of a snapshot, with the record it reads as (decoded once)."""
    data, identity = _read(folder, rel, SNAPSHOT.limit)
    try:
        record = snapshot_record(data, scholar_id)
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{folder / rel}: {exc}") from exc
    return data, identity, record


def _left_behind(rel: str) -> bool:
    """A write cut short (a temporary file or folder) or the shard's own note: never taken."""
    return rel == ATTEMPT_FILE or any(TEMP_NAME_RE.match(part) for part in rel.split("/"))


def _walk(folder: Path) -> _Walk:
    """The files below a shard's author folder, and what is there but not a regular file."""
    ignored: list[str] = []
    return walk_inside(folder, ignored), ignored


def _brought(scholar_id: str, folder: Path, summary: MergeSummary, walk: _Walk) -> _Brought:
    """Every file of a shard's author folder (``walk``) that the layout names and that passes
    its check; each other file is skipped with a line."""
    brought = _Brought()
    names, ignored = walk
    brought.refused.update(ignored)
    for rel in names:
        if _left_behind(rel):
            # A write cut short, and the shard's own note of its last attempt (never
            # published; the folder merged into keeps its own): nothing to take.
            continue
        kind = layout_kind(rel)
        if kind is None:
            summary.skipped.append(f"{folder / rel}: not a file scholar-stats writes; not merged")
            brought.others = True
            continue
        if kind.history:
            brought.snapshots.append(rel)
            continue
        try:
            data, brought.read[rel] = _read_checked(folder, rel, kind, scholar_id)
        except ValueError as exc:
            summary.skipped.append(f"{exc}; not merged")
            brought.refused.add(rel)
            continue
        brought.outputs[rel] = data
    return brought


def _newest_snapshot(
    scholar_id: str,
    folder: Path,
    names: list[str],
    bad: Callable[[str, ValueError], None],
    brought: _Brought | None = None,
    to: tuple[Path, int] | None = None,
) -> tuple[tuple[str, int], AuthorRecord] | None:
    """The sort key and record of the newest snapshot among ``names`` that reads as
    this author's; each newer one that does not is passed to ``bad``.  What was read of
    the one found is kept in ``brought``, so that it is not read again when taken, and
    its record remembered for the folder ``to`` names (``remember_read``: the group's
    numbers read it there again)."""
    keyed = []
    for rel in names:
        parts = rel.split("/")
        if len(parts) == 2 and parts[0] == SNAPSHOT_DIR:
            key = snapshot_sort_key(Path(parts[1]))
            if key is not None:
                keyed.append((key, rel))
    for key, rel in sorted(keyed, reverse=True):
        try:
            data, identity, record = _read_snapshot(folder, rel, scholar_id)
        except ValueError as exc:
            bad(rel, exc)
            continue
        if brought is not None:
            brought.snapshot_data[rel], brought.read[rel] = data, identity
        if to is not None:
            remember_read(to[0] / rel, data, record, keep=to[1])
        return key, record
    return None


def _same_bytes(theirs: Path, ours: Path) -> bool:
    try:
        return read_bounded(theirs, limit=MAX_SNAPSHOT_BYTES) == read_bounded(ours, limit=MAX_SNAPSHOT_BYTES)
    except (OSError, StorageError):
        return False


@dataclass
class _Take(Taking):
    walks: dict[str, _Walk] = field(default_factory=dict)
    expected: int = 0


def _merge_author(
    scholar_id: str, source: Path, into: Path, summary: MergeSummary, config: Config | None, take: _Take
) -> None:
    folder = source / scholar_id
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
    if not _moved_whole(brought, folder, target, take, summary):
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
        take.put(folder / rel, target / rel, data, brought.read[rel], True)


def _take_outputs(
    brought: _Brought, folder: Path, target: Path, names: set[str], take: _Take, summary: MergeSummary
) -> None:
    for rel, data in sorted(brought.outputs.items()):
        if rel in names:
            put = redacted_state(data) if rel == STATE_FILE else data
            take.put(folder / rel, target / rel, put, brought.read[rel] if put == data else None, False)


def _moved_whole(brought: _Brought, folder: Path, target: Path, take: _Take, summary: MergeSummary) -> bool:
    """With ``move``, an author the data folder does not hold yet, whose shard folder holds only
    files that passed their checks, is moved in as one folder (its snapshots fsynced first): one
    rename for its hundreds of files.  What ``_left_behind`` names goes with it and is removed."""
    state = brought.outputs.get(STATE_FILE)
    if (
        not take.move
        or take.other_file_system
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
    expected = {rel: brought.read[rel] for rel in (*brought.snapshots, *brought.outputs)}

    moved = take.batch.move_folder(folder, target, expected, durable=brought.snapshots, drop=_left_behind)
    if moved is not Moved.MOVED:
        take.other_file_system = moved is Moved.OTHER_FILE_SYSTEM
        return False
    summary.moved_files += len(expected)
    take.folders.update(f"{target}/{rel}".rpartition("/")[0] for rel in expected)
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


def _show_kept(into: Path, config: Config, summary: MergeSummary) -> None:
    """The outputs of the authors whose shard failed say so, as a blocked run's do:
    the last good numbers with ``stale_since`` (neutral badges once overdue)."""
    now = utc_now()
    authors = {a.scholar_id: a for a in config.authors}
    for sid in summary.kept:
        store = AuthorStore(into, sid)
        latest = store.latest()
        if latest is None:
            continue
        since = stale_since_of(into, sid) or now
        neutral = sid in authors and is_overdue(since, now, config.stale_after_for(authors[sid]))
        summary.written.extend(
            write_outputs(
                store, latest[1], config.badge, skip_current=True, stale_since=since, neutral=neutral
            )
        )


def merge(
    shard_dirs: Sequence[Path],
    into: Path,
    *,
    expected: Sequence[str] = (),
    config: Config | None = None,
    move: bool = False,
) -> MergeSummary:
    """Merge the author folders of ``shard_dirs`` into the data folder ``into``.

    Each author's folder must come from exactly one shard (``UsageError`` naming
    the author otherwise, before anything is written).  Each ``expected`` author
    that no shard brought keeps its data in ``into`` and is marked stale; with
    ``config``, its outputs say so too (``stale_since``, the badge style of the
    configuration).  Nothing else in ``into`` is touched; merging twice changes nothing.
    With ``move``, what is taken from a shard is moved out of it rather than copied (``_Take``).
    """
    into = Path(into)
    owners: dict[str, Path] = {}
    summary = MergeSummary(into=into)
    for shard_dir in shard_dirs:
        shard_dir = Path(shard_dir)
        ids = _author_folders(shard_dir)
        summary.skipped.extend(
            f"{shard_dir / name}: not an author's folder; not merged"
            for name in sorted(os.listdir(shard_dir))
            if name not in ids and name not in _SHARD_OWN and not SCHOLAR_ID_RE.match(name)
        )
        for sid in ids:
            if sid in owners:
                raise UsageError(f"{sid} is in two shard folders: {owners[sid]} and {shard_dir}")
            owners[sid] = shard_dir
    if into.exists() and any(Path(d).resolve() == into.resolve() for d in shard_dirs):
        raise UsageError(f"{into} is both a shard folder and the folder to merge into")
    with locked(into):
        # A link planted in the data folder stops the merge before its first
        # write.  ``confine`` checks the folders on the way, not the last name
        # (a rename replaces a link, never writes through it): once per folder.
        walks = {sid: _walk(source / sid) for sid, source in owners.items()}
        folders = {*owners, *expected}
        for sid, (names, _) in walks.items():
            folders.update(f"{sid}/{rel}".rpartition("/")[0] for rel in names)
        for folder in sorted(folders):
            confine(into / folder / STATE_FILE, into)
        take = _Take(into, summary.written, summary.removed, move=move, walks=walks, expected=len(expected))
        try:
            for sid, source in sorted(owners.items()):
                _merge_author(sid, source, into, summary, config, take)
            take.commit()
        finally:
            take.batch.discard()
        for sid in expected:
            if sid not in owners:
                _mark_missing(into, sid, summary, "its shard failed or was not downloaded")
        if config is not None:
            _show_kept(into, config, summary)
        sync_folders([*take.folders, *(os.path.dirname(p) for p in (*summary.written, *summary.removed))])
    return summary


def author_folders(data_dir: Path) -> list[str]:
    """The Scholar IDs of the author folders in ``data_dir`` that hold a snapshot, sorted."""
    if not Path(data_dir).is_dir():
        return []
    return [sid for sid in _author_folders(Path(data_dir)) if (Path(data_dir) / sid / SNAPSHOT_DIR).is_dir()]
