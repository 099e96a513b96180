"""After the guard: store a record that says something new, then write its outputs.

``accept_record`` is the step ``run`` takes for each fetched record: guard it
against the latest good snapshot, write a snapshot only when the content
changed, and (re)build ``gs_data.json`` and the badges from what is stored.
``write_outputs`` is the last part alone, for a snapshot imported from the
past (``import-git``, ``import-html``) that turns out to be the newest.
``clean_temp_files`` removes what a killed run left half-written.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from crawler.errors import StorageError
from crawler.models import AuthorRecord, format_time, utc_now
from crawler.outputs.badges import BADGE_DIR, PUBS_DIR, BadgeStyle, write_badges
from crawler.outputs.gs_data import gs_data_dict
from crawler.outputs.gs_history import HISTORY_FILE, write_history
from crawler.outputs.manifest import fingerprint, outputs_current, record_outputs
from crawler.policy.guard import GuardOptions, check, same_content
from crawler.policy.match import MATCHES_DIR
from crawler.policy.on_block import Estimate
from crawler.storage.store import (
    SERIES_DIR,
    SNAPSHOT_DIR,
    AuthorStore,
    BadSnapshot,
    json_bytes,
    remove_temp_files,
    sync_folders,
    write_if_changed,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Accepted:
    changed: bool
    snapshot: Path | None
    record: AuthorRecord
    notes: tuple[str, ...] = ()
    written: tuple[Path, ...] = ()
    bad_snapshots: tuple[BadSnapshot, ...] = ()
    """Files in the snapshot folder that were reported and skipped (left as they are)."""


def write_outputs(
    store: AuthorStore,
    record: AuthorRecord,
    badge: BadgeStyle,
    *,
    skip_current: bool = False,
    stale_since: datetime | None = None,
    estimate: Estimate | None = None,
    neutral: bool = False,
) -> list[Path]:
    """gs_data.json, gs_history.json and every badge of ``record``; only files whose content
    changes are written.

    ``updated`` is when the data last changed: the time of the record's snapshot.
    With ``skip_current``, outputs the manifest says were built from this very
    record are left unread (see ``crawler.outputs.manifest``).  ``stale_since``,
    ``estimate`` and ``neutral`` say how a blocked day's numbers are to be read
    (``crawler.policy.on_block``).
    """
    data_dir, author_dir = store.data_dir, store.root
    if record.scholar_id != store.scholar_id:
        raise ValueError(f"the record of {record.scholar_id} is not {store.scholar_id}'s")
    view = repr((format_time(stale_since) if stale_since else None, estimate, neutral))
    print_ = fingerprint(record, badge, view)
    if skip_current and outputs_current(author_dir, print_):
        return []
    written = []
    gs_data = json_bytes(
        gs_data_dict(record, updated=record.fetched_at, stale_since=stale_since, estimate=estimate)
    )
    # Plain strings for the names: an author's outputs are hundreds of files.
    produced: dict[str, int] = {os.path.join(author_dir, "gs_data.json"): len(gs_data)}
    if write_if_changed(author_dir / "gs_data.json", gs_data, jail=data_dir, durable=False):
        written.append(author_dir / "gs_data.json")
    written.extend(
        write_badges(
            author_dir,
            record,
            badge,
            jail=data_dir,
            produced=produced,
            approximate=estimate is not None,
            neutral=neutral,
        )
    )
    if write_history(store):
        written.append(author_dir / HISTORY_FILE)
    if (author_dir / HISTORY_FILE).is_file():
        produced[os.path.join(author_dir, HISTORY_FILE)] = (author_dir / HISTORY_FILE).stat().st_size
    # Derived files get no fsync each: one per folder makes their renames last.
    sync_folders({path.rpartition(os.sep)[0] for path in produced})
    record_outputs(author_dir, print_, produced, jail=data_dir)
    return written


def accept_record(
    store: AuthorStore,
    record: AuthorRecord,
    *,
    guard: GuardOptions,
    badge: BadgeStyle,
    accept_drop: bool = False,
) -> Accepted:
    """Guard ``record`` against the latest good snapshot in ``store`` (the folder of the author
    asked for); store it if it says something new.

    Raises ``GuardRefused`` (nothing written) or ``StorageError``.
    """
    if record.fetched_at is None:
        record = record.with_fetched_at(utc_now())
    # The folder of the author asked for (the store's), not of whoever the page names:
    # a wrong page must be compared with (and refused against) the right history.
    expected = store.scholar_id
    latest = store.latest()
    previous = latest[1] if latest else None
    bad = tuple(store.bad_snapshots)
    notes = check(previous, record, expected_id=expected, options=guard, accept_drop=accept_drop)
    if previous is not None and same_content(previous, record):
        # Nothing new: outputs are rebuilt from the stored snapshot, so they come
        # out byte-identical and nothing is written (unless one went missing);
        # when the manifest vouches for them they are not even read.
        written = write_outputs(store, previous, badge, skip_current=True)
        return Accepted(False, None, previous, tuple(notes), tuple(written), bad)
    snapshot = store.write_snapshot(record)
    written = write_outputs(store, record, badge)
    return Accepted(True, snapshot, record, tuple(notes), (snapshot, *written), bad)


def clean_temp_files(store: AuthorStore) -> None:
    """Remove what a killed run left half-written in this author's folders.

    Readers already ignore these files; removing them keeps the folder (and a
    data branch built from it) tidy.  Safe because the lock is held.
    """
    root, data_dir = store.root, store.data_dir
    series = store.series_names()
    folders = [root, root / SNAPSHOT_DIR, root / BADGE_DIR, root / BADGE_DIR / PUBS_DIR, root / MATCHES_DIR]
    folders.extend(root / SERIES_DIR / name / SNAPSHOT_DIR for name in series)
    for folder in folders:
        try:
            removed = remove_temp_files(folder, jail=data_dir)
        except StorageError as exc:
            # Once is enough: the folders below it would say the same (a link out of the jail).
            log.warning("%s; left as it is", exc)
            return
        for path in removed:
            log.info("removed %s, left by an interrupted run", path)
