"""The job: for every configured author, fetch, guard, snapshot, and write the outputs.

``run(config)`` is the one function the ``run`` command, the scheduler and the
GitHub Action all call.  Per author::

    fetch (source chain) ─► guard ─► snapshot (only on change) ─► outputs ─► state

A failure of one author never stops the others and never touches that
author's last good snapshot or outputs: the author is marked stale
(``<id>/state.json``) and the run's exit code says what went wrong.  A run
that finds nothing new changes no file in the data folder.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from crawler.config import Config
from crawler.errors import ExitCode, GuardRefused, NotFound, ScholarStatsError, StorageError
from crawler.guard import GuardOptions, check, same_content
from crawler.models import AuthorRecord, format_time, utc_now
from crawler.outputs.badges import BadgeStyle, write_badges
from crawler.outputs.gs_data import gs_data_dict
from crawler.sources import AuthorRef, SourcePool, SourceSettings, fetch_with_fallback, source_label
from crawler.store import AuthorStore, json_bytes, locked, remove_file, write_if_changed

log = logging.getLogger(__name__)

STATE_FILE = "state.json"


@dataclass(frozen=True)
class Accepted:
    changed: bool
    snapshot: Path | None
    record: AuthorRecord
    notes: tuple[str, ...] = ()
    written: tuple[Path, ...] = ()


@dataclass
class AuthorOutcome:
    scholar_id: str
    status: str
    """updated | unchanged | failed | refused"""
    exit_code: int = 0
    changed: bool = False
    citations: int | None = None
    source: str | None = None
    reason: str | None = None
    notes: list[str] = field(default_factory=list)
    snapshot: str | None = None


@dataclass
class RunSummary:
    started: datetime
    finished: datetime | None = None
    authors: list[AuthorOutcome] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """0 when all went well; else the code of the first author that failed;
        7 when every author got data but some only from a fallback source."""
        for outcome in self.authors:
            if outcome.exit_code not in (ExitCode.OK, ExitCode.FALLBACK_USED):
                return outcome.exit_code
        if any(o.exit_code == ExitCode.FALLBACK_USED for o in self.authors):
            return int(ExitCode.FALLBACK_USED)
        return int(ExitCode.OK)

    @property
    def changed(self) -> bool:
        return any(o.changed for o in self.authors)

    def to_dict(self) -> dict[str, Any]:
        return {
            "started": format_time(self.started),
            "finished": format_time(self.finished) if self.finished else None,
            "exit_code": self.exit_code,
            "changed": self.changed,
            "authors": [asdict(o) for o in self.authors],
        }


def write_outputs(data_dir: Path, record: AuthorRecord, badge: BadgeStyle) -> list[Path]:
    """gs_data.json and every badge of ``record``; only files whose content changes are written.

    ``updated`` is when the data last changed: the time of the record's snapshot.
    """
    author_dir = Path(data_dir) / record.scholar_id
    written = []
    if write_if_changed(author_dir / "gs_data.json", json_bytes(gs_data_dict(record, updated=record.fetched_at))):
        written.append(author_dir / "gs_data.json")
    written.extend(write_badges(author_dir, record, badge))
    return written


def accept_record(
    data_dir: Path,
    record: AuthorRecord,
    *,
    guard: GuardOptions,
    badge: BadgeStyle,
    accept_drop: bool = False,
    expected_id: str | None = None,
) -> Accepted:
    """Guard ``record`` against the latest good snapshot; store it if it says something new.

    Raises ``GuardRefused`` (nothing written) or ``StorageError``.
    """
    if record.fetched_at is None:
        record = record.with_fetched_at(utc_now())
    store = AuthorStore(data_dir, record.scholar_id)
    latest = store.latest()
    previous = latest[1] if latest else None
    notes = check(
        previous, record, expected_id=expected_id or record.scholar_id, options=guard, accept_drop=accept_drop
    )
    if previous is not None and same_content(previous, record):
        # Nothing new: outputs are rebuilt from the stored snapshot, so they come
        # out byte-identical and nothing is written (unless one went missing).
        written = write_outputs(data_dir, previous, badge)
        return Accepted(False, None, previous, tuple(notes), tuple(written))
    snapshot = store.write_snapshot(record)
    written = write_outputs(data_dir, record, badge)
    return Accepted(True, snapshot, record, tuple(notes), (snapshot, *written))


def mark_stale(data_dir: Path, scholar_id: str, error: Exception, *, when: datetime) -> None:
    """Say in ``<id>/state.json`` that the last fetch failed; nothing else is touched."""
    path = Path(data_dir) / scholar_id / STATE_FILE
    since = format_time(when)
    try:
        import json

        old = json.loads(path.read_bytes())
        if isinstance(old, dict) and isinstance(old.get("stale_since"), str):
            since = old["stale_since"]
    except (OSError, ValueError):
        pass
    state = {
        "stale": True,
        "stale_since": since,
        "last_attempt": format_time(when),
        "error": type(error).__name__,
        "reason": str(error),
        "exit_code": int(getattr(error, "exit_code", ExitCode.ERROR)),
    }
    write_if_changed(path, json_bytes(state))


def clear_stale(data_dir: Path, scholar_id: str) -> bool:
    return remove_file(Path(data_dir) / scholar_id / STATE_FILE)


SettingsFor = Callable[[str], SourceSettings]


def _settings_for(config: Config) -> SettingsFor:
    def settings(name: str) -> SourceSettings:
        return SourceSettings(http=config.http, base_url=config.base_url if name == "scholar" else None)

    return settings


def run_author(
    config: Config,
    author: AuthorRef,
    pool: SourcePool,
    *,
    accept_drop: bool = False,
) -> AuthorOutcome:
    outcome = AuthorOutcome(scholar_id=author.scholar_id, status="failed")
    chain = config.chain_for(author)
    try:
        result = fetch_with_fallback(author, chain, pool.settings_for, pool=pool)
        record = result.record
        outcome.source = record.source
        for name, exc in result.failures:
            outcome.notes.append(f"{source_label(name)} failed: {exc}")
        accepted = accept_record(
            config.data_dir, record, guard=config.guard, badge=config.badge, accept_drop=accept_drop,
            expected_id=author.scholar_id,
        )
    except (GuardRefused, NotFound, ScholarStatsError) as exc:
        if isinstance(exc, StorageError):
            outcome.status = "failed"
        else:
            outcome.status = "refused" if isinstance(exc, GuardRefused) else "failed"
            mark_stale(config.data_dir, author.scholar_id, exc, when=utc_now())
        outcome.exit_code = int(exc.exit_code)
        outcome.reason = str(exc)
        log.error("%s: %s", author.scholar_id, exc)
        return outcome
    clear_stale(config.data_dir, author.scholar_id)
    outcome.notes.extend(accepted.notes)
    outcome.changed = accepted.changed
    outcome.status = "updated" if accepted.changed else "unchanged"
    outcome.citations = accepted.record.metrics.citations
    outcome.snapshot = str(accepted.snapshot) if accepted.snapshot else None
    if result.fell_back:
        outcome.exit_code = int(ExitCode.FALLBACK_USED)
        outcome.reason = f"primary source {chain[0]} failed; numbers from {source_label(record.source)}"
    log.info("%s: %s (%s citations, source %s)", author.scholar_id, outcome.status, outcome.citations, record.source)
    return outcome


def run(
    config: Config,
    *,
    accept_drop: bool = False,
    settings_for: SettingsFor | None = None,
    progress: Callable[[AuthorOutcome], None] | None = None,
) -> RunSummary:
    """Fetch every configured author, one at a time, under the data folder's lock."""
    summary = RunSummary(started=utc_now())
    with locked(config.data_dir), SourcePool(settings_for or _settings_for(config)) as pool:
        for author in config.authors:
            outcome = run_author(config, author, pool, accept_drop=accept_drop)
            summary.authors.append(outcome)
            if progress is not None:
                progress(outcome)
    summary.finished = utc_now()
    _append_step_summary(config.data_dir, [a.scholar_id for a in config.authors])
    return summary


def _append_step_summary(data_dir: Path, scholar_ids: Sequence[str]) -> None:
    """On GitHub Actions, add the change report to the job's summary page."""
    if not os.environ.get("GITHUB_STEP_SUMMARY"):
        return
    try:
        from crawler.history.report import append_step_summary
    except ImportError:  # pragma: no cover - the history package ships with the tool
        return
    append_step_summary(data_dir, list(scholar_ids))
