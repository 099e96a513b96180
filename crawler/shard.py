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

A shard folder is another machine's output: merge takes from it only the files
the data layout names (``layout_kind``), each read within its size bound
(``crawler.readfile``) and checked (a snapshot of this very author, valid JSON
of the right format).  Anything else is skipped with a line, and nothing
skipped replaces or removes what the data folder holds.

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
import tomllib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from crawler.config import Config
from crawler.errors import ExitCode, ScholarStatsError, StorageError, UsageError
from crawler.match import MATCHES_DIR, OVERRIDES_FILE, pairs_from_dict
from crawler.models import SCHOLAR_ID_RE, AuthorRecord, parse_time, record_from_dict, utc_now
from crawler.on_block import is_overdue
from crawler.outputs.badges import BADGE_DIR, PUBS_DIR, SHIELDS_FILE, BadgeStyle
from crawler.outputs.gs_data import record_from_gs_data
from crawler.outputs.gs_history import HISTORY_FILE, History
from crawler.outputs.write import write_outputs
from crawler.readfile import (
    MAX_BADGE_BYTES,
    MAX_OUTPUT_BYTES,
    MAX_SETTINGS_BYTES,
    MAX_SNAPSHOT_BYTES,
    MAX_STATE_BYTES,
    json_value,
    read_bounded,
)
from crawler.redact import redacted_text
from crawler.sources import AuthorRef
from crawler.stale import STATE_FILE, mark_stale, stale_since_of
from crawler.store import (
    LOCK_NAME,
    OUTPUTS_MANIFEST,
    SERIES_DIR,
    SNAPSHOT_NAME_RE,
    TEMP_NAME_RE,
    AuthorStore,
    confine,
    json_bytes,
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
# What a shard's run writes beside its authors' folders: its lock, and the group's
# numbers of a run that was not sharded; merge builds the group's own.
_SHARD_OWN = frozenset({LOCK_NAME, "group.json", "badges", "site"})


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


def _json(data: bytes) -> Any:
    return json_value(data)


def _check_snapshot(data: bytes, scholar_id: str) -> None:
    record = record_from_dict(_json(data))
    if record.scholar_id != scholar_id:
        raise ValueError(f"a snapshot of {record.scholar_id}, not of {scholar_id}")


def _check_gs_data(data: bytes, scholar_id: str) -> None:
    value = _json(data)
    if not isinstance(value, dict) or value.get("scholar_id") != scholar_id:
        raise ValueError(f"not the gs_data.json of {scholar_id}")
    record_from_gs_data(value, scholar_id)


def _check_history(data: bytes, scholar_id: str) -> None:
    History.from_dict(_json(data), scholar_id)


def _check_endpoint(data: bytes, scholar_id: str) -> None:
    value = _json(data)
    if (
        not isinstance(value, dict)
        or value.get("schemaVersion") != 1
        or not isinstance(value.get("label"), str)
        or not isinstance(value.get("message"), str)
    ):
        raise ValueError("not a shields.io endpoint badge")


def _check_svg(data: bytes, scholar_id: str) -> None:
    text = data.decode("utf-8")
    if (
        not text.startswith('<svg xmlns="http://www.w3.org/2000/svg"')
        or not text.rstrip().endswith("</svg>")
        or "<script" in text.lower()
        or "<foreignobject" in text.lower()
    ):
        raise ValueError("not an SVG badge of ours")


def _check_state(data: bytes, scholar_id: str) -> None:
    value = _json(data)
    if (
        not isinstance(value, dict)
        or value.get("stale") is not True
        or not isinstance(value.get("stale_since"), str)
    ):
        raise ValueError("not a stale marker")
    parse_time(value["stale_since"])


def _check_manifest(data: bytes, scholar_id: str) -> None:
    value = _json(data)
    if (
        not isinstance(value, dict)
        or not isinstance(value.get("fingerprint"), str)
        or not isinstance(value.get("files"), dict)
    ):
        raise ValueError("not an outputs manifest")


def _check_matches(data: bytes, scholar_id: str) -> None:
    pairs_from_dict(_json(data))


def _check_overrides(data: bytes, scholar_id: str) -> None:
    tomllib.loads(data.decode("utf-8"))


@dataclass(frozen=True)
class _Kind:
    """A kind of file in an author's folder: its bound and its check (``ValueError`` when it fails)."""

    limit: int
    check: Callable[[bytes, str], None]
    history: bool = False
    """A snapshot: only ever added, never replaced or removed."""


_SNAPSHOT = _Kind(MAX_SNAPSHOT_BYTES, _check_snapshot, history=True)
_TOP_FILES = {
    "gs_data.json": _Kind(MAX_OUTPUT_BYTES, _check_gs_data),
    SHIELDS_FILE: _Kind(MAX_BADGE_BYTES, _check_endpoint),
    HISTORY_FILE: _Kind(MAX_OUTPUT_BYTES, _check_history),
    STATE_FILE: _Kind(MAX_STATE_BYTES, _check_state),
    OUTPUTS_MANIFEST: _Kind(MAX_OUTPUT_BYTES, _check_manifest),
    OVERRIDES_FILE: _Kind(MAX_SETTINGS_BYTES, _check_overrides),
}
_BADGE_JSON = _Kind(MAX_BADGE_BYTES, _check_endpoint)
_BADGE_SVG = _Kind(MAX_BADGE_BYTES, _check_svg)
_MATCHES = _Kind(MAX_OUTPUT_BYTES, _check_matches)
# A badge's file name is a badge name or an author_pub_id (crawler.outputs.badges);
# a source's folder name is a source's name.
_FILE_STEM_RE = re.compile(r"^[A-Za-z0-9_:-][A-Za-z0-9_.:-]{0,199}$")
_SOURCE_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def layout_kind(rel: str) -> _Kind | None:
    """What the file ``rel`` of an author's folder is in the data layout (``crawler.store``);
    ``None`` for a file ``run`` never writes there."""
    parts = rel.split("/")
    name = parts[-1]
    if len(parts) == 1:
        return _TOP_FILES.get(name)
    if parts[:-1] == [SNAPSHOT_DIR] or (
        len(parts) == 4
        and parts[0] == SERIES_DIR
        and _SOURCE_NAME_RE.match(parts[1])
        and parts[2] == SNAPSHOT_DIR
    ):
        return _SNAPSHOT if SNAPSHOT_NAME_RE.match(name) else None
    if len(parts) == 2 and parts[0] == MATCHES_DIR:
        return _MATCHES if name.endswith(".json") and _SOURCE_NAME_RE.match(name[:-5]) else None
    if parts[:-1] in ([BADGE_DIR], [BADGE_DIR, PUBS_DIR]):
        stem, _, suffix = name.rpartition(".")
        if _FILE_STEM_RE.match(stem):
            return {"json": _BADGE_JSON, "svg": _BADGE_SVG}.get(suffix)
    return None


@dataclass
class _Brought:
    """What one shard brought of an author: its outputs, read and checked; the names of
    its snapshots (each read and checked when it is copied); the names that failed."""

    outputs: dict[str, bytes] = field(default_factory=dict)
    snapshots: list[str] = field(default_factory=list)
    refused: set[str] = field(default_factory=set)


def _read_checked(folder: Path, rel: str, kind: _Kind, scholar_id: str) -> bytes:
    """The bytes of ``folder/rel`` if they pass ``kind``'s bound and check; ``ValueError`` saying why not."""
    try:
        data = read_bounded(os.path.join(folder, rel), limit=kind.limit)
    except FileNotFoundError as exc:
        raise ValueError("it is gone") from exc
    except StorageError as exc:
        raise ValueError(str(exc)) from exc
    try:
        kind.check(data, scholar_id)
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{folder / rel}: {exc}") from exc
    return data


def _brought(scholar_id: str, folder: Path, summary: MergeSummary) -> _Brought:
    """Every file of a shard's author folder that the layout names and that passes its check;
    each other file is skipped with a line."""
    brought = _Brought()
    ignored: list[str] = []
    names = walk_inside(folder, ignored)
    brought.refused.update(ignored)
    for rel in names:
        if TEMP_NAME_RE.match(rel.rpartition("/")[2]):
            continue
        kind = layout_kind(rel)
        if kind is None:
            summary.skipped.append(f"{folder / rel}: not a file scholar-stats writes; not merged")
            continue
        try:
            data = _read_checked(folder, rel, kind, scholar_id)
        except ValueError as exc:
            summary.skipped.append(f"{exc}; not merged")
            brought.refused.add(rel)
            continue
        if kind.history:
            brought.snapshots.append(rel)
            continue
        try:
            data = _read_checked(folder, rel, kind, scholar_id)
        except ValueError as exc:
            summary.skipped.append(f"{exc}; not merged")
            brought.refused.add(rel)
            continue
        brought.outputs[rel] = data
    return brought


def _newest_snapshot(
    scholar_id: str, folder: Path, names: list[str], bad: Callable[[str, ValueError], None]
) -> tuple[tuple[str, int], AuthorRecord] | None:
    """The sort key and record of the newest snapshot among ``names`` that reads as
    this author's; each newer one that does not is passed to ``bad``."""
    keyed = []
    for rel in names:
        parts = rel.split("/")
        if len(parts) == 2 and parts[0] == SNAPSHOT_DIR:
            key = snapshot_sort_key(Path(parts[1]))
            if key is not None:
                keyed.append((key, rel))
    for key, rel in sorted(keyed, reverse=True):
        try:
            data = _read_checked(folder, rel, _SNAPSHOT, scholar_id)
        except ValueError as exc:
            bad(rel, exc)
            continue
        return key, record_from_dict(json_value(data))
    return None


def _same_bytes(theirs: Path, ours: Path) -> bool:
    try:
        return read_bounded(theirs, limit=MAX_SNAPSHOT_BYTES) == read_bounded(ours, limit=MAX_SNAPSHOT_BYTES)
    except (OSError, StorageError):
        return False


def _is_history(rel: str) -> bool:
    kind = layout_kind(rel)
    return kind is not None and kind.history


def _merge_author(
    scholar_id: str, source: Path, into: Path, summary: MergeSummary, config: Config | None
) -> None:
    brought = _brought(scholar_id, source / scholar_id, summary)
    target = into / scholar_id
    ours = walk_inside(target) if target.is_dir() else []

    def refuse(rel: str, exc: ValueError) -> None:
        summary.skipped.append(f"{exc}; not merged")
        brought.refused.add(rel)

    def ours_bad(rel: str, exc: ValueError) -> None:
        log.warning("%s; skipped", exc)

    their_latest = _newest_snapshot(scholar_id, source / scholar_id, brought.snapshots, refuse)
    our_latest = _newest_snapshot(scholar_id, target, ours, ours_bad)
    if their_latest is None:
        # The shard ran but has no history of this author (its restore or its
        # fetch failed): the data we hold stays; only the shard's stale marker,
        # which says why, is taken.
        if STATE_FILE in brought.outputs:
            _write(target / STATE_FILE, _redacted_state(brought.outputs[STATE_FILE]), summary)
            summary.stale.append(scholar_id)
            summary.kept.append(scholar_id)
        else:
            _mark_missing(into, scholar_id, summary, f"shard folder {source} holds no snapshot of it")
        return
    summary.merged.append(scholar_id)
    # History is only ever added to: a snapshot the shard does not have (its
    # restore missed it) stays, and one with the same name is never replaced.
    ours_set = set(ours)
    for rel in brought.snapshots:
        if rel in brought.refused:
            continue
        if rel in ours_set:
            # Ours stays whatever the shard's says: only compared (bytes, no parsing:
            # a lab's shards bring back every snapshot they restored).
            if not _same_bytes(source / scholar_id / rel, target / rel):
                summary.notes.append(f"{scholar_id}: {rel} differs in {source}; the copy in {into} is kept")
            continue
        try:
            data = _read_checked(source / scholar_id, rel, _SNAPSHOT, scholar_id)
        except ValueError as exc:
            refuse(rel, exc)
            continue
        _write(target / rel, data, summary, durable=True)
    if our_latest is not None and our_latest[0] > their_latest[0]:
        summary.notes.append(
            f"{scholar_id}: {into} holds a newer snapshot than {source}; its outputs are kept"
        )
        return
    # Everything else (outputs, badges, the stale marker) is the shard's: the
    # author's folder becomes what its shard made of it.
    for rel, data in sorted(brought.outputs.items()):
        _write(target / rel, _redacted_state(data) if rel == STATE_FILE else data, summary)
    for rel in ours:
        if (
            rel not in brought.outputs
            and rel not in brought.refused
            and layout_kind(rel) is not None
            and not _is_history(rel)
            and remove_file(target / rel, jail=into)
        ):
            summary.removed.append(target / rel)
    if STATE_FILE in brought.outputs:
        summary.stale.append(scholar_id)
    if "gs_data.json" not in brought.outputs or any(not _is_history(rel) for rel in brought.refused):
        # An output that failed its check (or is missing) is not taken, and the rest
        # may not match what stayed: every output is built again from the newest snapshot.
        summary.notes.append(
            f"{scholar_id}: outputs in {source} failed their checks; rebuilt from its newest snapshot"
        )
        style = config.badge if config is not None else BadgeStyle()
        summary.written.extend(
            write_outputs(into, their_latest[1], style, stale_since=stale_since_of(into, scholar_id))
        )


def _redacted_state(data: bytes) -> bytes:
    """A shard's stale marker with credentials masked: a shard run by an older
    version may have written a password into its reason, and the merged folder is published.
    Only its strings are masked, so a secret that is also a JSON word (``true``, a
    number) cannot break the file."""
    try:
        state = json.loads(data)
    except ValueError:
        try:
            return redacted_text(data.decode("utf-8")).encode("utf-8")
        except UnicodeDecodeError:
            return data
    return json_bytes(_redacted_strings(state))


def _redacted_strings(value: Any) -> Any:
    if isinstance(value, str):
        return redacted_text(value)
    if isinstance(value, list):
        return [_redacted_strings(item) for item in value]
    if isinstance(value, dict):
        return {key: _redacted_strings(item) for key, item in value.items()}
    return value


def _write(path: Path, data: bytes, summary: MergeSummary, *, durable: bool = False) -> None:
    """Snapshots are fsynced one by one, as ``run`` does; outputs (rebuilt from
    them) only through one fsync of each folder at the end of the merge.

    Every folder on the way was confined before the first write (``merge``),
    under the lock, so no link can have appeared since: not checking again for
    each of a lab's 26,000 files halves the merge.  A shard's file is
    written again, never linked: the shard folder is not ours, and a file it
    still names could be changed in place after the merge.
    """
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
        old = json_value(read_bounded(path, limit=MAX_STATE_BYTES))
    except (OSError, ValueError, StorageError):
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
        folders = {PurePosixPath(sid)} | {PurePosixPath(sid) for sid in expected}
        for sid, source in owners.items():
            folders.update(PurePosixPath(sid, rel).parent for rel in walk_inside(source / sid))
        for folder in sorted(folders):
            confine(into / folder / STATE_FILE, into)
        for sid, source in sorted(owners.items()):
            _merge_author(sid, source, into, summary, config)
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


def walk_inside(folder: Path, ignored: list[str] | None = None) -> list[str]:
    """Relative paths (``/``-separated) of the regular files below ``folder``, sorted.

    Symbolic links are reported and left out, never followed; so are FIFOs,
    devices and sockets, which are never opened; ``ignored`` collects their paths.
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
                        if ignored is not None:
                            ignored.append(rel)
                    elif entry.is_dir(follow_symlinks=False):
                        pending.append((entry.path, rel + "/"))
                    elif entry.is_file(follow_symlinks=False):
                        found.append(rel)
                    else:
                        log.warning("%s is not a regular file; ignored", entry.path)
                        if ignored is not None:
                            ignored.append(rel)
    except OSError as exc:
        raise StorageError(f"cannot list {folder}: {exc.strerror or exc}") from exc
    return sorted(found)
