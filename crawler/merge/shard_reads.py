"""What a shard's author folder brings: the files ``run`` writes, each read within its size
bound (``crawler.storage.readfile``) and checked (a snapshot of this very author, valid JSON of
the right format); the identity of each file read, for a move."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from crawler.errors import StorageError
from crawler.merge.summary import MergeSummary
from crawler.models import AuthorRecord
from crawler.outputs.formats import SNAPSHOT, FileKind, layout_kind, snapshot_record
from crawler.storage.readfile import (
    MAX_SNAPSHOT_BYTES,
    open_regular_stat,
    read_bounded,
    read_fd,
    read_files_at,
    walk_inside,
)
from crawler.storage.store import ATTEMPT_FILE, SNAPSHOT_DIR, TEMP_NAME_RE, remember_read, snapshot_sort_key

log = logging.getLogger(__name__)

# -- what a shard may bring: the files ``run`` writes, each read bounded and checked --

_Walk = tuple[list[str], list[str]]  # the regular files below a folder, and what else is there


@dataclass
class _Brought:
    """What one shard brought of an author: its outputs, read and checked; the names of
    its snapshots (each read and checked when it is taken); the names that failed; each
    file taken as it was read (``read``: its ``fstat``, for a move); the files a write cut
    short left (``left``); whether the folder holds anything else (a file skipped or refused)."""

    outputs: dict[str, bytes] = field(default_factory=dict)
    snapshots: list[str] = field(default_factory=list)
    refused: set[str] = field(default_factory=set)
    read: dict[str, os.stat_result] = field(default_factory=dict)
    left: list[str] = field(default_factory=list)
    snapshot_data: dict[str, bytes] = field(default_factory=dict)
    others: bool = False


def _read(folder: Path, rel: str, limit: int) -> tuple[bytes, os.stat_result]:
    """The bytes of ``folder/rel`` within ``limit``, and the ``fstat`` of the file they were read
    from (which file it is, its links, its permissions); ``ValueError`` saying why not."""
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
    return data, info


def _read_checked(folder: Path, rel: str, kind: FileKind, scholar_id: str) -> tuple[bytes, os.stat_result]:
    """The bytes of ``folder/rel`` if they pass ``kind``'s bound and check, and the ``fstat``
    of the file they were read from; ``ValueError`` saying why not."""
    data, identity = _read(folder, rel, kind.limit)
    _check(data, folder, rel, kind, scholar_id)
    return data, identity


def _check(data: bytes, folder: Path, rel: str, kind: FileKind, scholar_id: str) -> None:
    try:
        kind.check(data, scholar_id)
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{folder / rel}: {exc}") from exc


def _read_snapshot(folder: Path, rel: str, scholar_id: str) -> tuple[bytes, os.stat_result, AuthorRecord]:
    """``_read_checked`` of a snapshot, with the record it reads as (decoded once)."""
    data, identity = _read(folder, rel, SNAPSHOT.limit)
    try:
        record = snapshot_record(data, scholar_id)
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{folder / rel}: {exc}") from exc
    return data, identity, record


def _left_behind(rel: str) -> bool:
    """A write cut short (a temporary file or folder) or the shard's own note: never taken."""
    # Every temporary name ends in ``.tmp``: the names of the rest, nearly all, are not split.
    return rel == ATTEMPT_FILE or (".tmp" in rel and any(TEMP_NAME_RE.match(part) for part in rel.split("/")))


def _walk(folder: Path, shown: Path | None = None) -> _Walk:
    """The files below a shard's author folder, and what is there but not a regular file (named
    below ``shown`` in its line when the folder is read elsewhere: ``staging``)."""
    ignored: list[str] = []
    return walk_inside(folder, ignored, shown=shown), ignored


def _brought(scholar_id: str, folder: Path, summary: MergeSummary, walk: _Walk) -> _Brought:
    """Every file of a shard's author folder (``walk``) that the layout names and that passes
    its check; each other file is skipped with a line."""
    brought = _Brought()
    names, ignored = walk
    brought.refused.update(ignored)
    outputs: list[tuple[str, FileKind]] = []
    for rel in names:
        # ``_left_behind`` asked only of the few names it may take: not of each publication's badge.
        if (rel == ATTEMPT_FILE or ".tmp" in rel) and _left_behind(rel):
            # A write cut short, and the shard's own note of its last attempt (never
            # published; the folder merged into keeps its own): nothing to take.
            brought.left.append(rel)
            continue
        kind = layout_kind(rel)
        if kind is None:
            summary.skipped.append(f"{folder / rel}: not a file scholar-stats writes; not merged")
            brought.others = True
        elif kind.history:
            brought.snapshots.append(rel)
        else:
            outputs.append((rel, kind))
    found = read_files_at(folder, [rel for rel, _ in outputs], [kind.limit for _, kind in outputs])
    taken, identities = brought.outputs, brought.read
    for (rel, kind), read in zip(outputs, found, strict=True):
        if read is None:  # not a regular file of its bound: read the careful way, which says why
            try:
                data, info = _read_checked(folder, rel, kind, scholar_id)
            except ValueError as exc:
                _refuse(brought, summary, rel, str(exc))
                continue
        else:
            data, info = read
            try:
                kind.check(data, scholar_id)  # ``_check``'s call, without a call more for each file
            except (ValueError, KeyError, TypeError) as exc:
                _refuse(brought, summary, rel, f"{folder / rel}: {exc}")
                continue
        taken[rel], identities[rel] = data, info
    return brought


def _refuse(brought: _Brought, summary: MergeSummary, rel: str, why: str) -> None:
    summary.skipped.append(f"{why}; not merged")
    brought.refused.add(rel)


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
