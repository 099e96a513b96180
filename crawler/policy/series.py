"""A fallback source's own series, kept beside Scholar's in ``<id>/series/<source>/``.

A fallback's record is guarded against its own series only (never against
Scholar's numbers), stored when it says something new, and read back when a
blocked day grows an estimate from it (``policy.on_block.bridge``): only a
record taken on a day Scholar answered too is a base to grow from.
"""

from __future__ import annotations

import logging
from datetime import datetime

from crawler.errors import StorageError
from crawler.models import AuthorRecord, utc_now
from crawler.policy.guard import GuardOptions, check, same_content
from crawler.storage.store import AuthorStore

log = logging.getLogger(__name__)

# In the notes of a fallback's record fetched on a day Scholar answered too: only
# such a record is a base an estimate may grow from (same day, both sources).
BESIDE_SCHOLAR = "fetched on a day Google Scholar answered too"


def keep_series(
    store: AuthorStore, record: AuthorRecord, *, guard: GuardOptions, accept_drop: bool = False
) -> bool:
    """Store a fallback's record in its own series of the author's ``store``, guarded against
    that series only; return whether a snapshot was written.  Raises ``GuardRefused``."""
    if record.fetched_at is None:
        record = record.with_fetched_at(utc_now())
    series = store.series_store(record.source)
    latest = series.latest()
    previous = latest[1] if latest else None
    check(previous, record, expected_id=store.scholar_id, options=guard, accept_drop=accept_drop)
    if previous is not None and same_content(previous, record):
        return False
    series.write_snapshot(record)
    return True


def base_for_estimate(store: AuthorStore, source: str, before: datetime) -> AuthorRecord | None:
    """The fallback's newest snapshot taken beside Scholar before the block began."""
    return next(
        (
            record
            for record in _newest_first(store.series_store(source))
            if BESIDE_SCHOLAR in record.notes
            and record.fetched_at is not None
            and record.fetched_at <= before
        ),
        None,
    )


def _newest_first(series: AuthorStore) -> list[AuthorRecord]:
    records = []
    for path in reversed(series.snapshot_paths()):
        try:
            records.append(series.read_snapshot(path))
        except StorageError as exc:
            log.warning("%s; skipped", exc)
    return records
