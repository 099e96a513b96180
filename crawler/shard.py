"""Shards: one configuration split over N runners, and their data folders merged back.

A lab or a department follows hundreds of profiles; one runner fetching them
politely takes hours and is blocked long before the end.  ``run --shard K/N``
fetches only shard K's authors; each shard runs on its own machine (a GitHub
Actions matrix job) and ``merge`` puts their data folders back together::

    config ─► assign(ids, N) ─► shard 1 … shard N  (run --shard K/N, each its own folder)
                                      │
              merge(shard folders, into=data) ◄─┘  each author from exactly one shard;
                                                   an author no shard brought keeps its
                                                   last good data, marked stale

Assignment.  Every author ranks the N shards by a hash of its Scholar ID and the
shard number (rendezvous hashing); authors, taken in the order of a hash of
their ID, each go to the first shard of their ranking that still has room, a
shard holding floor(authors / N) or one more.  So the assignment does not depend on
the order of the authors in the file, shard sizes differ by at most one, and an
author added to or removed from the list moves a few others (about 3 of 500,
6 at most in our measurements: docs/labs.md, bench/shard_assignment.py).  Pure
rendezvous would never move anyone but leaves shards of 500 authors 23 apart
on average, up to 36: the longest shard taking up to twice as long as the
shortest.  Nothing depends on an author staying in one shard: each shard
restores its authors' history before it runs.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from crawler.config import Config
from crawler.errors import ExitCode, ScholarStatsError, StorageError, UsageError
from crawler.models import SCHOLAR_ID_RE, record_from_dict, utc_now
from crawler.on_block import is_overdue
from crawler.outputs.write import write_outputs
from crawler.redact import redacted_text
from crawler.sources import AuthorRef
from crawler.stale import STATE_FILE, mark_stale, stale_since_of
from crawler.store import (
    TEMP_NAME_RE,
    AuthorStore,
    confine,
    link_if_changed,
    locked,
    remove_file,
    snapshot_sort_key,
    sync_folders,
    write_if_changed,
)

log = logging.getLogger(__name__)

_SHARD_RE = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")
MAX_SHARDS = 256
"""GitHub Actions runs at most 256 jobs from one matrix."""
SNAPSHOT_DIR = "snapshots"


# -- which shard fetches whom --------------------------------------------------


@dataclass(frozen=True)
class Shard:
    index: int
    """1-based."""
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def parse_shard(text: str) -> Shard:
    """``"K/N"`` with 1 ≤ K ≤ N ≤ 256; ``UsageError`` otherwise."""
    match = _SHARD_RE.match(text or "")
    if match is None:
        raise UsageError(f"--shard takes K/N, e.g. 2/10 (shard 2 of 10), not {text!r}")
    index, count = int(match.group(1)), int(match.group(2))
    if not 1 <= count <= MAX_SHARDS:
        raise UsageError(f"--shard {text}: the number of shards must be between 1 and {MAX_SHARDS}")
    if not 1 <= index <= count:
        raise UsageError(f"--shard {text}: shards are numbered 1 to {count}")
    return Shard(index, count)


def _hash(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")


def assign(scholar_ids: Iterable[str], count: int) -> dict[str, int]:
    """The 1-based shard of each ID (see the module docstring)."""
    ids = sorted(set(scholar_ids), key=lambda sid: (_hash(sid), sid))
    # Every shard holds ``base`` authors, and ``extra`` of them one more.
    base, extra = divmod(len(ids), count)
    load = [0] * (count + 1)
    bigger = 0
    shards: dict[str, int] = {}
    for sid in ids:
        ranking = sorted(range(1, count + 1), key=lambda k: (_hash(f"{sid}/{k}"), k), reverse=True)
        shard = next(k for k in ranking if load[k] < base or (load[k] == base and bigger < extra))
        if load[shard] == base:
            bigger += 1
        load[shard] += 1
        shards[sid] = shard
    return shards


def select(authors: Sequence[AuthorRef], shard: Shard) -> tuple[AuthorRef, ...]:
    """The authors of ``shard``, in their configured order."""
    shards = assign((a.scholar_id for a in authors), shard.count)
    return tuple(a for a in authors if shards[a.scholar_id] == shard.index)


def for_shard(config: Config, shard: Shard) -> Config:
    """``config`` narrowed to one shard: its authors, and its entry of the ``proxy`` and ``delay`` lists."""
    http = config.http
    if config.proxies:
        http = dataclasses.replace(http, proxy=config.proxies[(shard.index - 1) % len(config.proxies)])
    if config.delays:
        http = dataclasses.replace(http, delay=config.delays[(shard.index - 1) % len(config.delays)])
    return dataclasses.replace(config, authors=select(config.authors, shard), http=http)


# -- merging shard folders -----------------------------------------------------


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
    removed: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


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


def _files(folder: Path) -> dict[str, bytes]:
    """Every regular file below ``folder`` by its relative path; links and temporary files are left out."""
    return {
        rel: read_inside(folder, rel, checked=True)
        for rel in walk_inside(folder)
        if not TEMP_NAME_RE.match(rel.rpartition("/")[2])
    }


def _latest_snapshot(
    scholar_id: str, files: dict[str, bytes], where: Path
) -> tuple[tuple[str, int], str] | None:
    """The sort key and name of the newest snapshot among ``files`` that reads as this author's."""
    snapshots = []
    for rel in files:
        parts = rel.split("/")
        if len(parts) == 2 and parts[0] == SNAPSHOT_DIR:
            key = snapshot_sort_key(Path(parts[1]))
            if key is not None:
                snapshots.append((key, rel))
    for key, rel in sorted(snapshots, reverse=True):
        try:
            record = record_from_dict(json.loads(files[rel]))
        except ValueError as exc:
            log.warning("%s: unreadable snapshot (%s); skipped", where / rel, exc)
            continue
        if record.scholar_id != scholar_id:
            log.warning(
                "%s: a snapshot of %s in the folder of %s; skipped",
                where / rel,
                record.scholar_id,
                scholar_id,
            )
            continue
        return key, rel
    return None


def _is_snapshot(rel: str) -> bool:
    return rel.startswith(SNAPSHOT_DIR + "/")


def _merge_author(scholar_id: str, source: Path, into: Path, summary: MergeSummary) -> None:
    theirs = _files(source / scholar_id)
    target = into / scholar_id
    ours = _files(target) if target.is_dir() else {}
    their_latest = _latest_snapshot(scholar_id, theirs, source / scholar_id)
    our_latest = _latest_snapshot(scholar_id, ours, target)
    if their_latest is None:
        # The shard ran but has no history of this author (its restore or its
        # fetch failed): the data we hold stays; only the shard's stale marker,
        # which says why, is taken.
        if STATE_FILE in theirs:
            _write(target / STATE_FILE, _redacted_state(theirs[STATE_FILE]), summary)
            summary.stale.append(scholar_id)
            summary.kept.append(scholar_id)
        else:
            _mark_missing(into, scholar_id, summary, f"shard folder {source} holds no snapshot of it")
        return
    summary.merged.append(scholar_id)
    # History is only ever added to: a snapshot the shard does not have (its
    # restore missed it) stays, and one with the same name is never replaced.
    for rel, data in sorted(theirs.items()):
        if _is_snapshot(rel) and snapshot_sort_key(Path(rel)) is not None:
            if rel in ours and ours[rel] != data:
                summary.notes.append(f"{scholar_id}: {rel} differs in {source}; the copy in {into} is kept")
                continue
            _write(target / rel, data, summary, durable=True, source=source / scholar_id / rel)
    if our_latest is not None and our_latest[0] > their_latest[0]:
        summary.notes.append(
            f"{scholar_id}: {into} holds a newer snapshot than {source}; its outputs are kept"
        )
        return
    # Everything else (outputs, badges, the stale marker) is the shard's: the
    # author's folder becomes what its shard made of it.
    for rel, data in sorted(theirs.items()):
        if not _is_snapshot(rel):
            if rel == STATE_FILE:
                _write(target / rel, _redacted_state(data), summary)
            else:
                _write(target / rel, data, summary, source=source / scholar_id / rel)
    for rel in sorted(ours):
        if rel not in theirs and not _is_snapshot(rel) and remove_file(target / rel, jail=into):
            summary.removed.append(target / rel)
    if STATE_FILE in theirs:
        summary.stale.append(scholar_id)


def _redacted_state(data: bytes) -> bytes:
    """A shard's stale marker with credentials masked: a shard run by an older
    version may have written a password into its reason, and the merged folder is published."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return data
    return redacted_text(text).encode("utf-8")


def _write(
    path: Path, data: bytes, summary: MergeSummary, *, durable: bool = False, source: Path | None = None
) -> None:
    """Snapshots are fsynced one by one, as ``run`` does; outputs (rebuilt from
    them) only through one fsync of each folder at the end of the merge.

    Every folder on the way was confined before the first write (``merge``),
    under the lock, so no link can have appeared since: not checking again for
    each of a lab's 26,000 files halves the merge.  A file taken as it is from
    ``source`` (a shard's file) is hard-linked into place, not written again,
    where the file system allows.
    """
    if source is not None:
        changed = link_if_changed(path, source, data, durable=durable)
    else:
        changed = write_if_changed(path, data, jail=None, durable=durable)
    if changed:
        summary.written.append(path)


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
        old = json.loads(path.read_bytes())
    except (OSError, ValueError):
        old = None
    if (
        isinstance(old, dict)
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
        latest = AuthorStore(into, sid).latest()
        if latest is None:
            continue
        since = stale_since_of(into, sid) or now
        neutral = sid in authors and is_overdue(since, now, config.stale_after_for(authors[sid]))
        summary.written.extend(
            write_outputs(
                into, latest[1], config.badge, skip_current=True, stale_since=since, neutral=neutral
            )
        )


def merge(
    shard_dirs: Sequence[Path], into: Path, *, expected: Sequence[str] = (), config: Config | None = None
) -> MergeSummary:
    """Merge the author folders of ``shard_dirs`` into the data folder ``into``.

    Each author's folder must come from exactly one shard (``UsageError`` naming
    the author otherwise, before anything is written).  Each ``expected`` author
    that no shard brought keeps its data in ``into`` and is marked stale; with
    ``config``, its outputs say so too (``stale_since``, the badge style of the
    configuration).  Nothing else in ``into`` is touched; merging twice changes nothing.
    """
    into = Path(into)
    owners: dict[str, Path] = {}
    for shard_dir in shard_dirs:
        shard_dir = Path(shard_dir)
        for sid in _author_folders(shard_dir):
            if sid in owners:
                raise UsageError(f"{sid} is in two shard folders: {owners[sid]} and {shard_dir}")
            owners[sid] = shard_dir
    if into.exists() and any(Path(d).resolve() == into.resolve() for d in shard_dirs):
        raise UsageError(f"{into} is both a shard folder and the folder to merge into")
    summary = MergeSummary(into=into)
    with locked(into):
        # A link planted in the data folder stops the merge before its first
        # write.  ``confine`` checks the folders on the way, not the last name
        # (a rename replaces a link, never writes through it): once per folder.
        folders = {PurePosixPath(sid)} | {PurePosixPath(sid) for sid in expected}
        for sid, source in owners.items():
            folders.update(PurePosixPath(sid, rel).parent for rel in walk_inside(source / sid))
        for folder in sorted(folders):
            confine(into / folder / STATE_FILE, into)
        for sid, source in sorted(owners.items()):
            _merge_author(sid, source, into, summary)
        for sid in expected:
            if sid not in owners:
                _mark_missing(into, sid, summary, "its shard failed or was not downloaded")
        if config is not None:
            _show_kept(into, config, summary)
        sync_folders(path.parent for path in (*summary.written, *summary.removed))
    return summary


def expected_authors(config: Config | None) -> list[str]:
    return [a.scholar_id for a in config.authors] if config is not None else []


def author_folders(data_dir: Path) -> list[str]:
    """The Scholar IDs of the author folders in ``data_dir`` that hold a snapshot, sorted."""
    if not Path(data_dir).is_dir():
        return []
    return [sid for sid in _author_folders(Path(data_dir)) if (Path(data_dir) / sid / SNAPSHOT_DIR).is_dir()]


# -- reading a folder that came from elsewhere, never outside it --------------


def walk_inside(folder: Path) -> list[str]:
    """Relative paths (``/``-separated) of the regular files below ``folder``, sorted.

    Symbolic links are reported and left out, never followed.
    """
    found: list[str] = []
    pending = [(os.fspath(folder), "")]
    try:
        while pending:
            path, prefix = pending.pop()
            with os.scandir(path) as entries:
                for entry in entries:
                    rel = prefix + entry.name
                    if entry.is_symlink():
                        log.warning("%s is a symbolic link; ignored", entry.path)
                    elif entry.is_dir(follow_symlinks=False):
                        pending.append((entry.path, rel + "/"))
                    elif entry.is_file(follow_symlinks=False):
                        found.append(rel)
    except OSError as exc:
        raise StorageError(f"cannot list {folder}: {exc.strerror or exc}") from exc
    return sorted(found)


def read_inside(folder: Path, rel: str, *, checked: bool = False) -> bytes:
    """The bytes of ``folder/rel``, refusing a symbolic link out of ``folder`` on the way, or as the file.

    ``checked``: ``rel`` comes from :func:`walk_inside`, which never goes
    through a link, so only the file itself is refused if it became one.
    """
    path = os.path.join(folder, rel)
    if not checked:
        confine(Path(path), folder)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        with os.fdopen(fd, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise StorageError(f"cannot read {path}: {exc.strerror or exc}") from exc
