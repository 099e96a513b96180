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
each author's folder first leaves its shard for a private folder of the data folder
(``staging``), where it is read and checked, and what is taken is moved from there
(``Taking``); what is not goes back to the shard.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path

from crawler.config import Config
from crawler.errors import StorageError, UsageError
from crawler.merge.shard_reads import _walk
from crawler.merge.staging import Staging, recover
from crawler.merge.summary import MergeSummary, ShardMissing
from crawler.merge.taking import _mark_missing, _merge_author, _Take
from crawler.models import SCHOLAR_ID_RE, utc_now
from crawler.outputs.write import write_outputs
from crawler.policy.on_block import is_overdue
from crawler.storage.stale import STATE_FILE, stale_since_of
from crawler.storage.store import LOCK_NAME, SNAPSHOT_DIR, AuthorStore, confine, locked, sync_folders

__all__ = ["MergeSummary", "ShardMissing", "author_folders", "merge"]

log = logging.getLogger(__name__)

# What a shard's run writes beside its authors' folders: its lock, and the group's
# numbers of a run that was not sharded; merge builds the group's own.
_SHARD_OWN = frozenset({LOCK_NAME, "group.json", "badges", "site"})


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


def _prepare(
    owners: dict[str, Path],
    into: Path,
    expected: Sequence[str],
    summary: MergeSummary,
    staging: Staging | None,
) -> _Take:
    """Each author's folder taken out of its shard first when moving (``staging``), walked, and every
    folder of the data folder it will reach confined."""
    staged = {}
    if staging is not None:
        for sid, source in sorted(owners.items()):
            if (here := staging.stage(source, sid)) is not None:
                staged[sid] = here
    # A link planted in the data folder stops the merge before its first
    # write.  ``confine`` checks the folders on the way, not the last name
    # (a rename replaces a link, never writes through it): once per folder.
    walks = {
        sid: _walk(staged[sid], source / sid) if sid in staged else _walk(source / sid)
        for sid, source in owners.items()
    }
    folders = {*owners, *expected}
    for sid, (names, _) in walks.items():
        # Each folder named once, not once for each of its hundreds of files.
        folders.update(f"{sid}/{rel}" if rel else sid for rel in {rel.rpartition("/")[0] for rel in names})
    for folder in sorted(folders):
        confine(into / folder / STATE_FILE, into)
    return _Take(
        into,
        summary.written,
        summary.removed,
        move=staging is not None,
        walks=walks,
        expected=len(expected),
        staged=staged,
    )


def _named_in_shard(summary: MergeSummary, marks: tuple[int, int], staged: Path, source: Path) -> None:
    """The lines about a folder read where ``staging`` put it name it where the user knows it, and
    where what is refused goes back to: in its shard folder."""
    old, new = os.fspath(staged.parent), os.fspath(source)
    for lines, start in ((summary.skipped, marks[0]), (summary.notes, marks[1])):
        lines[start:] = [line.replace(old, new) for line in lines[start:]]


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
    summary = MergeSummary(into=into, notes=recover(into))
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
        staging = Staging(into)
        try:
            take = _prepare(owners, into, expected, summary, staging if move else None)
            try:
                for sid, source in sorted(owners.items()):
                    marks = len(summary.skipped), len(summary.notes)
                    _merge_author(sid, source, into, summary, config, take)
                    if sid in take.staged:
                        _named_in_shard(summary, marks, take.staged[sid], source)
                take.commit()
            finally:
                take.batch.discard()
        finally:
            staging.put_back()
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
