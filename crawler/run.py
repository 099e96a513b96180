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

import json
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from crawler.config import Config
from crawler.errors import ExitCode, GuardRefused, ScholarStatsError, StorageError
from crawler.models import TextEnum, format_time, utc_now
from crawler.outputs.badges import BADGE_DIR, PUBS_DIR
from crawler.outputs.group import write_group
from crawler.outputs.write import accept_record
from crawler.sources import (
    SCHOLAR_PAGES,
    AuthorRef,
    SourcePool,
    SourceSettings,
    fetch_with_fallback,
    source_label,
)
from crawler.store import (
    SNAPSHOT_DIR,
    json_bytes,
    locked,
    remove_file,
    remove_temp_files,
    write_if_changed,
)

log = logging.getLogger(__name__)

STATE_FILE = "state.json"


class Status(TextEnum):
    """What became of one author in a run."""

    UPDATED = "updated"
    UNCHANGED = "unchanged"
    FAILED = "failed"
    REFUSED = "refused"


@dataclass
class AuthorOutcome:
    scholar_id: str
    status: Status
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


def mark_stale(data_dir: Path, scholar_id: str, error: Exception, *, when: datetime) -> None:
    """Say in ``<id>/state.json`` that the last fetch failed; nothing else is touched."""
    path = Path(data_dir) / scholar_id / STATE_FILE
    since = format_time(when)
    try:
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
    write_if_changed(path, json_bytes(state), jail=data_dir)


def clear_stale(data_dir: Path, scholar_id: str) -> bool:
    return remove_file(Path(data_dir) / scholar_id / STATE_FILE, jail=data_dir)


SettingsFor = Callable[[str], SourceSettings]


def _settings_for(config: Config) -> SettingsFor:
    def settings(name: str) -> SourceSettings:
        return SourceSettings(http=config.http, base_url=config.base_url if name in SCHOLAR_PAGES else None)

    return settings


def _fail(outcome: AuthorOutcome, config: Config, exc: Exception, *, status: Status, exit_code: int) -> AuthorOutcome:
    outcome.status = status
    outcome.exit_code = exit_code
    outcome.reason = str(exc)
    if not isinstance(exc, StorageError):
        # A storage failure would most likely fail to write the marker too; the
        # run's exit code and summary still say what happened.
        try:
            mark_stale(config.data_dir, outcome.scholar_id, exc, when=utc_now())
        except StorageError as marker_error:
            outcome.notes.append(f"could not mark the data stale: {marker_error}")
    return outcome


def run_author(
    config: Config,
    author: AuthorRef,
    pool: SourcePool,
    *,
    accept_drop: bool = False,
) -> AuthorOutcome:
    """Fetch, guard and store one author; every failure ends up in the outcome, none is raised."""
    outcome = AuthorOutcome(scholar_id=author.scholar_id, status=Status.FAILED)
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
        clear_stale(config.data_dir, author.scholar_id)
    except GuardRefused as exc:
        return _fail(outcome, config, exc, status=Status.REFUSED, exit_code=int(exc.exit_code))
    except ScholarStatsError as exc:
        return _fail(outcome, config, exc, status=Status.FAILED, exit_code=int(exc.exit_code))
    except Exception as exc:
        # A bug must not cost the other authors their run; its traceback is
        # logged because it is not an expected failure.
        log.exception("%s: unexpected error", author.scholar_id)
        return _fail(outcome, config, exc, status=Status.FAILED, exit_code=int(ExitCode.ERROR))
    outcome.notes.extend(accepted.notes)
    outcome.changed = accepted.changed
    outcome.status = Status.UPDATED if accepted.changed else Status.UNCHANGED
    outcome.citations = accepted.record.metrics.citations
    outcome.snapshot = str(accepted.snapshot) if accepted.snapshot else None
    if result.fell_back:
        outcome.exit_code = int(ExitCode.FALLBACK_USED)
        outcome.reason = f"primary source {chain[0]} failed; numbers from {source_label(record.source)}"
    if accepted.bad_snapshots:
        # The data was stored, but a file in the snapshot folder needs a person:
        # say so in the exit code until it is fixed or removed.
        outcome.exit_code = int(ExitCode.STORAGE)
        outcome.reason = "; ".join(bad.reason for bad in accepted.bad_snapshots) + " (fix or remove it)"
    log.info("%s: %s (%s citations, source %s)", author.scholar_id, outcome.status, outcome.citations, record.source)
    return outcome


def run(
    config: Config,
    *,
    accept_drop: bool = False,
    settings_for: SettingsFor | None = None,
    progress: Callable[[AuthorOutcome], None] | None = None,
    group: bool = True,
) -> RunSummary:
    """Fetch every configured author, one at a time, under the data folder's lock.

    ``progress`` is called with each author's outcome as it is known; without
    it, failures are logged instead.  With ``group`` and two authors or more,
    the group's numbers (``group.json``, group badges) are written at the end;
    a run of part of the group (a shard, a few ``--author``) leaves them alone.
    """
    summary = RunSummary(started=utc_now())
    with locked(config.data_dir), SourcePool(settings_for or _settings_for(config)) as pool:
        for author in config.authors:
            _clean_temp_files(config.data_dir, author.scholar_id)
            outcome = run_author(config, author, pool, accept_drop=accept_drop)
            summary.authors.append(outcome)
            if progress is not None:
                progress(outcome)
            elif outcome.exit_code not in (ExitCode.OK, ExitCode.FALLBACK_USED):
                log.error("%s: %s", outcome.scholar_id, outcome.reason)
        if group and len(config.authors) > 1:
            write_group(config.data_dir, [a.scholar_id for a in config.authors], config.badge)
    summary.finished = utc_now()
    _append_step_summary(config.data_dir, [a.scholar_id for a in config.authors])
    return summary


def _clean_temp_files(data_dir: Path, scholar_id: str) -> None:
    """Remove what a killed run left half-written in this author's folders.

    Readers already ignore these files; removing them keeps the folder (and a
    data branch built from it) tidy.  Safe because the lock is held.
    """
    root = Path(data_dir) / scholar_id
    for folder in (root, root / SNAPSHOT_DIR, root / BADGE_DIR, root / BADGE_DIR / PUBS_DIR):
        try:
            removed = remove_temp_files(folder, jail=data_dir)
        except StorageError as exc:
            # Once is enough: the folders below it would say the same (a link out of the jail).
            log.warning("%s; left as it is", exc)
            return
        for path in removed:
            log.info("removed %s, left by an interrupted run", path)


def _append_step_summary(data_dir: Path, scholar_ids: Sequence[str]) -> None:
    """On GitHub Actions, add the change report to the job's summary page."""
    if not os.environ.get("GITHUB_STEP_SUMMARY"):
        return
    try:
        from crawler.history.report import append_step_summary
    except ImportError:  # pragma: no cover - the history package ships with the tool
        return
    append_step_summary(data_dir, list(scholar_ids))
