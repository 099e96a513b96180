"""The job: for every configured author, fetch, guard, snapshot, and write the outputs.

``run(config)`` is the one function the ``run`` command, the scheduler and the
GitHub Action all call.  Per author::

    fetch (source chain) ─► guard ─► snapshot (only on change) ─► outputs ─► state

A failure of one author never stops the others and never touches that
author's last good snapshot: the author is marked stale (``<id>/state.json``)
and the run's exit code says what went wrong.  A run that finds nothing new
changes no file in the data folder.

The chain is split in two: the sources of Google Scholar's own numbers
(scholar, scholarly, serpapi) are tried first; when none answers it is a
blocked day, and the author's ``on_block`` policy says what the outputs show
(``crawler.policy.on_block``): the last good numbers marked stale (``keep``), an
estimate grown by a fallback source (``bridge``), or the fallback's own
numbers (``replace``).  A fallback source's records are kept as their own
series beside Scholar's, and matched to Scholar's papers (``crawler.policy.match``).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from crawler.config import Config
from crawler.errors import ExitCode, GuardRefused, NotFound, ScholarStatsError, StorageError
from crawler.models import AuthorRecord, format_time, utc_now
from crawler.net.progress import report as report_progress
from crawler.net.redact import redacted_text
from crawler.outputs.background import BackgroundWriter
from crawler.outputs.badges import BadgeStyle
from crawler.outputs.group_numbers import write_group
from crawler.outputs.run_summary import AuthorOutcome, RunSummary, Status
from crawler.outputs.write import accept_record, clean_temp_files, write_outputs
from crawler.policy.match import (
    MatchResult,
    latest_scholar,
    match_records,
    read_overrides,
    save_matches,
)
from crawler.policy.on_block import Show, bridge, decide, is_overdue, stale_days, with_scholar_keys
from crawler.policy.series import BESIDE_SCHOLAR, base_for_estimate, keep_series
from crawler.sources import (
    FALLBACK_ON,
    SCHOLAR_NUMBERS,
    SCHOLAR_PAGES,
    AuthorRef,
    ChainResult,
    SourcePool,
    SourceSettings,
    fetch_with_fallback,
    source_label,
)
from crawler.storage.stale import clear_stale, mark_stale, stale_since_of
from crawler.storage.store import AuthorStore, BadSnapshot, forget_reads, locked

log = logging.getLogger(__name__)


def split_chain(chain: Sequence[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(sources of Scholar's own numbers, fallback sources); a chain with no
    Scholar source is all primary, with no policy to apply."""
    primary = tuple(s for s in chain if s in SCHOLAR_NUMBERS)
    if not primary:
        return tuple(chain), ()
    return primary, tuple(s for s in chain if s not in SCHOLAR_NUMBERS)


SettingsFor = Callable[[str], SourceSettings]


def _settings_for(config: Config) -> SettingsFor:
    def settings(name: str) -> SourceSettings:
        return SourceSettings(http=config.http, base_url=config.base_url if name in SCHOLAR_PAGES else None)

    return settings


def _fail(config: Config, author: AuthorRef, outcome: AuthorOutcome, exc: Exception) -> AuthorOutcome:
    """The outcome of an author whose fetch or storing raised ``exc``; its data marked stale."""
    if isinstance(exc, ScholarStatsError):
        outcome.status = Status.REFUSED if isinstance(exc, GuardRefused) else Status.FAILED
        outcome.exit_code = int(exc.exit_code)
    else:
        # A bug must not cost the other authors their run; its traceback is
        # logged because it is not an expected failure.
        log.error("%s: unexpected error", author.scholar_id, exc_info=exc)
        outcome.status, outcome.exit_code = Status.FAILED, int(ExitCode.ERROR)
    # The text may carry what a server or git echoed (a URL with a password or a key).
    outcome.reason = redacted_text(exc)
    if not isinstance(exc, StorageError):
        # A storage failure would most likely fail to write the marker too; the
        # run's exit code and summary still say what happened.
        try:
            mark_stale(config.data_dir, outcome.scholar_id, exc, when=utc_now())
        except StorageError as marker_error:
            outcome.notes.append(redacted_text(f"could not mark the data stale: {marker_error}"))
    return outcome


def run_author(
    config: Config,
    author: AuthorRef,
    pool: SourcePool,
    *,
    accept_drop: bool = False,
) -> AuthorOutcome:
    """Fetch, guard and store one author; every failure ends up in the outcome, none is raised."""
    return start_author(config, author, pool, accept_drop=accept_drop)()


def start_author(
    config: Config,
    author: AuthorRef,
    pool: SourcePool,
    *,
    accept_drop: bool = False,
) -> Callable[[], AuthorOutcome]:
    """Fetch one author on this thread; what is left (guard, snapshot, outputs) is returned, to be
    called here or on the run's writer thread, and gives the author's outcome.

    A blocked day, and a day whose fallback is measured beside Scholar (its
    requests follow the stored record), are done here whole.
    """
    outcome = AuthorOutcome(
        scholar_id=author.scholar_id, status=Status.FAILED, policy=config.policy_for(author)
    )
    primary, fallbacks = split_chain(config.chain_for(author))
    # The author's folder, opened once: every stage below reads and writes through it.
    store = AuthorStore(config.data_dir, author.scholar_id)
    try:
        try:
            result = fetch_with_fallback(author, primary, pool.settings_for, pool=pool)
        except NotFound:
            raise  # a profile that does not exist is not a blocked day
        except FALLBACK_ON as exc:
            clean_temp_files(store)
            done = _blocked_day(config, store, author, pool, outcome, exc, fallbacks, accept_drop=accept_drop)
            return lambda: done
    except Exception as exc:
        failed = _fail(config, author, outcome, exc)
        result = None

    def finish() -> AuthorOutcome:
        # What a killed run left half-written goes before this run writes (a few folder
        # listings: on the writer thread, not between two requests).
        clean_temp_files(store)
        if result is None:
            return failed
        return _store_author(config, store, author, pool, outcome, result, accept_drop=accept_drop)

    if fallbacks and outcome.policy == "bridge":
        done = finish()
        return lambda: done
    return finish


def _store_author(
    config: Config,
    store: AuthorStore,
    author: AuthorRef,
    pool: SourcePool,
    outcome: AuthorOutcome,
    result: ChainResult,
    *,
    accept_drop: bool,
) -> AuthorOutcome:
    """Guard and store a fetched record, write its outputs; the author's outcome."""
    chain = config.chain_for(author)
    fallbacks = split_chain(chain)[1]
    record = result.record
    outcome.source = record.source
    for name, failure in result.failures:
        outcome.notes.append(redacted_text(f"{source_label(name)} failed: {failure}"))
    try:
        accepted = accept_record(
            store, record, guard=config.guard, badge=config.badge, accept_drop=accept_drop
        )
        clear_stale(config.data_dir, author.scholar_id)
        if fallbacks and outcome.policy == "bridge" and accepted.record.source in SCHOLAR_NUMBERS:
            # Measure the fallback on the same day as Scholar, so that a later
            # blocked day has a base to grow an estimate from.
            _fetch_beside(
                config, store, author, pool, fallbacks, accepted.record, outcome, accept_drop=accept_drop
            )
    except Exception as exc:
        return _fail(config, author, outcome, exc)
    outcome.notes.extend(accepted.notes)
    outcome.changed = accepted.changed
    outcome.status = Status.UPDATED if accepted.changed else Status.UNCHANGED
    outcome.citations = accepted.record.metrics.citations
    outcome.snapshot = str(accepted.snapshot) if accepted.snapshot else None
    outcome.shown = "scholar" if record.source in SCHOLAR_NUMBERS else "fallback"
    if record.fetched_at is not None and record.source in SCHOLAR_NUMBERS:
        outcome.scholar_as_of = format_time(accepted.record.fetched_at or record.fetched_at)
    if result.fell_back:
        outcome.exit_code = int(ExitCode.FALLBACK_USED)
        outcome.reason = f"primary source {chain[0]} failed; numbers from {source_label(record.source)}"
    _flag_bad_snapshots(outcome, accepted.bad_snapshots)
    log.info(
        "%s: %s (%s citations, source %s)",
        author.scholar_id,
        outcome.status,
        outcome.citations,
        record.source,
    )
    return outcome


def _flag_bad_snapshots(outcome: AuthorOutcome, bad: Sequence[BadSnapshot]) -> None:
    if bad:
        # The data was stored, but a file in the snapshot folder needs a person:
        # say so in the exit code until it is fixed or removed.
        outcome.exit_code = int(ExitCode.STORAGE)
        outcome.reason = "; ".join(b.reason for b in bad) + " (fix or remove it)"


def _fetch_fallback(
    config: Config,
    store: AuthorStore,
    author: AuthorRef,
    pool: SourcePool,
    fallbacks: Sequence[str],
    outcome: AuthorOutcome,
    *,
    beside_scholar: bool,
    accept_drop: bool,
) -> AuthorRecord | None:
    """The first fallback that answers, kept in its series; None (and a note) when none does."""
    try:
        result = fetch_with_fallback(author, fallbacks, pool.settings_for, pool=pool)
    except ScholarStatsError as exc:
        outcome.notes.append(
            redacted_text(f"fallback {', '.join(map(source_label, fallbacks))} failed too: {exc}")
        )
        return None
    record = result.record
    if record.fetched_at is None:
        record = record.with_fetched_at(utc_now())
    if beside_scholar:
        record = replace(record, notes=(*record.notes, BESIDE_SCHOLAR))
    try:
        keep_series(store, record, guard=config.guard, accept_drop=accept_drop)
    except GuardRefused as exc:
        outcome.notes.append(redacted_text(f"{source_label(record.source)}'s numbers were refused: {exc}"))
        return None
    return record


def _match(
    store: AuthorStore, scholar: AuthorRecord, other: AuthorRecord, outcome: AuthorOutcome
) -> MatchResult | None:
    try:
        overrides = read_overrides(store.root, other.source)
    except ScholarStatsError as exc:
        outcome.notes.append(f"matches.toml ignored: {exc}")
        overrides = None
    result = match_records(scholar, other, overrides=overrides)
    save_matches(store, result, scholar, other)
    return result


def _fetch_beside(
    config: Config,
    store: AuthorStore,
    author: AuthorRef,
    pool: SourcePool,
    fallbacks: Sequence[str],
    scholar: AuthorRecord,
    outcome: AuthorOutcome,
    *,
    accept_drop: bool,
) -> None:
    other = _fetch_fallback(
        config, store, author, pool, fallbacks, outcome, beside_scholar=True, accept_drop=accept_drop
    )
    if other is not None:
        _match(store, scholar, other, outcome)


def _blocked_day(
    config: Config,
    store: AuthorStore,
    author: AuthorRef,
    pool: SourcePool,
    outcome: AuthorOutcome,
    exc: Exception,
    fallbacks: Sequence[str],
    *,
    accept_drop: bool,
) -> AuthorOutcome:
    """No source of Scholar's own numbers answered: gather what there is, let the
    policy decide what is shown (``policy.on_block.decide``), and show it."""
    data_dir, sid = config.data_dir, author.scholar_id
    now = utc_now()
    mark_stale(data_dir, sid, exc, when=now)
    stale_since = stale_since_of(data_dir, sid) or now
    outcome.stale_since = format_time(stale_since)
    outcome.stale_days = stale_days(stale_since, now)
    other = None
    if fallbacks:
        other = _fetch_fallback(
            config, store, author, pool, fallbacks, outcome, beside_scholar=False, accept_drop=accept_drop
        )
    latest = store.latest()
    scholar = latest_scholar(store)
    if scholar is not None and scholar.fetched_at is not None:
        outcome.scholar_as_of = format_time(scholar.fetched_at)
    matches = _match(store, scholar, other, outcome) if other is not None and scholar is not None else None
    decision = decide(
        outcome.policy,
        kept=latest is not None,
        fallback=other.source if other is not None else None,
        matched=matches is not None,
    )
    base = None
    if decision.show is Show.ESTIMATE and other is not None:
        base = base_for_estimate(store, other.source, before=stale_since)
        if base is None:
            decision = decision.without_base(other.source)
    if decision.show is Show.NOTHING:
        raise exc
    # Said where the numbers shown come from another source; where they do not, the reason says it.
    if decision.show is not Show.KEPT:
        outcome.notes.append(redacted_text(f"{source_label('scholar')} failed: {exc}"))
    if decision.note:
        outcome.notes.append(decision.note)
    if decision.show is Show.FALLBACK and other is not None:
        return _show_fallback(config, store, author, outcome, other, matches, accept_drop=accept_drop)
    if decision.show is Show.ESTIMATE:
        # decide() estimates only with matched papers, and without_base() saw to the base.
        assert other is not None and scholar is not None and matches is not None and base is not None
        return _show_estimate(store, outcome, scholar, base, other, matches, stale_since, now, config.badge)
    assert latest is not None
    return _show_kept(config, store, author, outcome, latest[1], exc, stale_since, now)


def _show_fallback(
    config: Config,
    store: AuthorStore,
    author: AuthorRef,
    outcome: AuthorOutcome,
    other: AuthorRecord,
    matches: MatchResult | None,
    *,
    accept_drop: bool,
) -> AuthorOutcome:
    """The fallback's own numbers, under the keys of the Scholar papers they matched, stored."""
    shown = with_scholar_keys(other, matches) if matches is not None else other
    accepted = accept_record(store, shown, guard=config.guard, badge=config.badge, accept_drop=accept_drop)
    outcome.notes.extend(accepted.notes)
    outcome.changed = accepted.changed
    outcome.status = Status.UPDATED if accepted.changed else Status.UNCHANGED
    outcome.snapshot = str(accepted.snapshot) if accepted.snapshot else None
    outcome.citations = accepted.record.metrics.citations
    outcome.source = other.source
    outcome.shown = Show.FALLBACK.value
    outcome.exit_code = int(ExitCode.FALLBACK_USED)
    outcome.reason = (
        f"primary source {config.chain_for(author)[0]} failed; numbers from {source_label(other.source)}"
    )
    _flag_bad_snapshots(outcome, accepted.bad_snapshots)
    return outcome


def _show_estimate(
    store: AuthorStore,
    outcome: AuthorOutcome,
    scholar: AuthorRecord,
    base: AuthorRecord,
    other: AuthorRecord,
    matches: MatchResult,
    stale_since: datetime,
    now: datetime,
    badge: BadgeStyle,
) -> AuthorOutcome:
    """Scholar's last numbers grown by what the fallback counted since a day Scholar answered."""
    estimated, estimate = bridge(scholar, base, other, matches)
    write_outputs(store, estimated, badge, stale_since=stale_since, estimate=estimate)
    outcome.status = Status.ESTIMATED
    outcome.shown = Show.ESTIMATE.value
    outcome.source = other.source
    outcome.citations = estimated.metrics.citations
    outcome.exit_code = int(ExitCode.FALLBACK_USED)
    outcome.reason = (
        f"{source_label('scholar')} failed; showing an estimate: its numbers of "
        f"{format_time(scholar.fetched_at or now)[:10]} plus the growth {source_label(other.source)} "
        f"counted since ({estimate.papers_matched} of {estimate.papers} papers matched)"
    )
    return outcome


def _show_kept(
    config: Config,
    store: AuthorStore,
    author: AuthorRef,
    outcome: AuthorOutcome,
    record: AuthorRecord,
    exc: Exception,
    stale_since: datetime,
    now: datetime,
) -> AuthorOutcome:
    """The last good numbers, marked stale (neutral badges once stale for long)."""
    neutral = is_overdue(stale_since, now, config.stale_after_for(author))
    write_outputs(store, record, config.badge, stale_since=stale_since, neutral=neutral)
    outcome.status = Status.KEPT
    outcome.shown = Show.KEPT.value
    outcome.source = record.source
    outcome.citations = record.metrics.citations
    outcome.exit_code = int(getattr(exc, "exit_code", ExitCode.ERROR))
    outcome.reason = redacted_text(exc)
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
    with (
        locked(config.data_dir),
        SourcePool(settings_for or _settings_for(config)) as pool,
        BackgroundWriter[AuthorOutcome]() as writer,
    ):
        forget_reads()
        for index, author in enumerate(config.authors, 1):
            if writer.holds(author.scholar_id):
                # An author named twice: its folder is written by one hand at a time.
                _report(summary, writer.finish(), progress)
            report_progress("author", index=index, total=len(config.authors), scholar_id=author.scholar_id)
            finish = start_author(config, author, pool, accept_drop=accept_drop)
            _report(summary, writer.submit(author.scholar_id, finish), progress)
        # Every author's files are written before the group's numbers are counted from them.
        _report(summary, writer.finish(), progress)
        if group and len(config.authors) > 1:
            write_group(config.data_dir, [a.scholar_id for a in config.authors], config.badge)
        if config.site:
            _update_site(config, summary)
    summary.finished = utc_now()
    _append_step_summary(config.data_dir, [a.scholar_id for a in config.authors])
    return summary


def _report(
    summary: RunSummary, outcomes: Iterable[AuthorOutcome], progress: Callable[[AuthorOutcome], None] | None
) -> None:
    for outcome in outcomes:
        summary.authors.append(outcome)
        if progress is not None:
            progress(outcome)
        elif outcome.exit_code not in (ExitCode.OK, ExitCode.FALLBACK_USED):
            log.error("%s: %s", outcome.scholar_id, outcome.reason)


def _update_site(config: Config, summary: RunSummary) -> None:
    """Rebuild the dashboard from the snapshots now stored.

    A site that cannot be written is reported, never a reason to lose the
    run: the data is stored and the exit code stays what the fetches made it.
    """
    from crawler.history.dashboard import update_site

    try:
        summary.site = str(update_site(config.data_dir, title=config.site_title).out / "index.html")
    except ScholarStatsError as exc:
        summary.site_error = redacted_text(exc)
        log.error("the dashboard was not updated: %s", exc)


def _append_step_summary(data_dir: Path, scholar_ids: Sequence[str]) -> None:
    """On GitHub Actions, add the change report to the job's summary page."""
    if not os.environ.get("GITHUB_STEP_SUMMARY"):
        return
    try:
        from crawler.history.report import append_step_summary
    except ImportError:  # pragma: no cover - the history package ships with the tool
        return
    append_step_summary(data_dir, list(scholar_ids))
