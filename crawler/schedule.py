"""Run the job on a schedule on a machine of one's own (APScheduler 3.x).

For those whose GitHub runner Google blocks: the same ``run`` (and, if asked,
``publish``) on a home server, a laptop or a container, at a crontab time.

* The schedule is a 5-field crontab line read with crontab's meaning.
  APScheduler 3.x's ``CronTrigger.from_crontab`` numbers weekdays from Monday
  (0 = Monday) and ANDs day-of-month with day-of-week; crontab counts from
  Sunday (0 and 7 = Sunday) and runs when *either* day field matches if both
  are restricted.  ``cron_trigger`` translates the weekday field to names and
  builds an ``OrTrigger`` for the two-day-fields case, so a line copied from a
  crontab fires when cron would fire it.
* A machine that was asleep at the scheduled time runs the job when it wakes
  (``misfire_grace_time`` of 6 hours), once (``coalesce``), never twice at a
  time (``max_instances=1``).
* SIGTERM and SIGINT stop the scheduler after the running job finishes, and
  the process exits 0: a job is never cut in the middle of writing files.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path
from threading import TIMEOUT_MAX
from types import FrameType
from typing import Any

from apscheduler.events import EVENT_SCHEDULER_STARTED, SchedulerEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.base import STATE_STOPPED
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.util import astimezone

from crawler.branch import DEFAULT_REMOTE
from crawler.branch.publish import publish
from crawler.branch.restore import restore
from crawler.config import Config
from crawler.errors import ExitCode, ScholarStatsError, UsageError
from crawler.outputs.run_summary import AuthorOutcome
from crawler.run import run
from crawler.storage.store import DEFAULT_BRANCH

log = logging.getLogger(__name__)

DEFAULT_CRON = "17 8 * * *"
MISFIRE_GRACE_TIME = 6 * 3600
JOB_ID = "scholar-stats"
# How soon the scheduler notices SIGTERM/SIGINT while it waits.
STOP_POLL_SECONDS = 0.25

DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}


# --- crontab lines


def _weekday(token: str, field: str) -> int:
    text = token.strip().lower()
    if text.isdigit():
        value = int(text)
        if value > 7:
            raise UsageError(f"day of week {token!r} in {field!r} is out of range (0-7, 0 and 7 are Sunday)")
        return value
    if text[:3] in DAY_NAMES and len(text) == 3:
        return DAY_NAMES.index(text)
    raise UsageError(f"not a day of week: {token!r} in {field!r} (use 0-7 or sun-sat)")


def cron_weekdays(field: str) -> set[int]:
    """The days a crontab day-of-week field selects, 0 = Sunday ... 6 = Saturday."""
    days: set[int] = set()
    for item in field.split(","):
        base, slash, step_text = item.partition("/")
        step = 1
        if slash:
            if not step_text.isdigit() or int(step_text) == 0:
                raise UsageError(f"bad step {step_text!r} in day-of-week field {field!r}")
            step = int(step_text)
        if base == "*":
            low, high = 0, 6
        elif "-" in base:
            first, _, last = base.partition("-")
            low, high = _weekday(first, field), _weekday(last, field)
            if high < low:
                raise UsageError(f"range {base!r} in day-of-week field {field!r} runs backwards")
        elif base:
            low = _weekday(base, field)
            # As in cron, "N/step" means "from N to the end, every step days".
            high = 7 if slash else low
        else:
            raise UsageError(f"empty item in day-of-week field {field!r}")
        days.update(value % 7 for value in range(low, high + 1, step))
    return days


def cron_day_of_week(field: str) -> str:
    """A crontab day-of-week field written for APScheduler 3.x, whose 0 is Monday: as day names."""
    days = cron_weekdays(field)
    if len(days) == 7:
        return "*"
    # Monday first, as APScheduler orders them.
    return ",".join(DAY_NAMES[d] for d in sorted(days, key=lambda d: (d - 1) % 7))


def cron_trigger(
    expression: str, *, timezone: str | tzinfo | None = None, jitter: int | None = None
) -> BaseTrigger:
    """The trigger that fires when crontab would run ``expression`` (5 fields or a macro such as @daily)."""
    text = expression.strip()
    if text.startswith("@"):
        if text.lower() not in MACROS:
            raise UsageError(f"unknown schedule {text!r} (known: {', '.join(MACROS)})")
        text = MACROS[text.lower()]
    fields = text.split()
    if len(fields) != 5:
        raise UsageError(
            f"a schedule needs 5 fields (minute hour day-of-month month day-of-week), not {len(fields)}: "
            f"{expression!r}"
        )
    minute, hour, day, month, weekday = fields
    zone = _zone(timezone)
    common: dict[str, Any] = {"minute": minute, "hour": hour, "month": month, "timezone": zone}
    try:
        if not day.startswith("*") and not weekday.startswith("*"):
            # crontab: when both day fields are restricted, either one matching is enough.
            return OrTrigger(
                [
                    CronTrigger(day=day, **common),
                    CronTrigger(day_of_week=cron_day_of_week(weekday), **common),
                ],
                jitter=jitter,
            )
        return CronTrigger(day=day, day_of_week=cron_day_of_week(weekday), jitter=jitter, **common)
    except ValueError as exc:
        raise UsageError(f"bad schedule {expression!r}: {exc}") from exc


def _zone(timezone: str | tzinfo | None) -> tzinfo | None:
    if timezone is None or isinstance(timezone, tzinfo):
        return timezone
    try:
        zone: tzinfo = astimezone(timezone)
    except (LookupError, ValueError) as exc:
        raise UsageError(f"unknown time zone {timezone!r} (use a name such as Europe/Paris or UTC)") from exc
    return zone


# --- the scheduler


class _Scheduler(BlockingScheduler):
    """A BlockingScheduler that says when the job runs next, and leaves its loop on request.

    A signal handler only sets ``stop_signal``: raising from a handler can be
    swallowed by the ``except BaseException`` blocks of APScheduler (or by
    logging), and taking a lock in one can deadlock, so the loop polls the flag
    instead, often enough for a prompt exit.
    """

    _announced: datetime | None = None
    stop_signal: str | None = None

    def _main_loop(self) -> None:
        wait_seconds: float = TIMEOUT_MAX
        while self.state != STATE_STOPPED:
            deadline = time.monotonic() + wait_seconds
            while self.stop_signal is None:
                left = deadline - time.monotonic()
                if left <= 0 or self._event.wait(min(left, STOP_POLL_SECONDS)):
                    break
            if self.stop_signal is not None:
                return
            self._event.clear()
            next_wait = self._process_jobs()
            wait_seconds = TIMEOUT_MAX if next_wait is None else next_wait

    def _process_jobs(self) -> float | None:
        wait: float | None = super()._process_jobs()
        job = self.get_job(JOB_ID)
        when = job.next_run_time if job is not None else None
        if when is not None and when != self._announced:
            self._announced = when
            log.info("next run at %s", when.isoformat(timespec="seconds"))
        return wait


def _guarded(job: Callable[[], object]) -> Callable[[], None]:
    """The job as the scheduler runs it: one line per failure, never a traceback for ours."""

    def run_once() -> None:
        log.info("job started")
        try:
            job()
        except ScholarStatsError as exc:
            log.error("job failed: %s", exc)
            return
        except Exception:
            log.exception("job failed unexpectedly")
            return
        log.info("job finished")

    return run_once


def serve(
    job: Callable[[], object],
    *,
    cron: str = DEFAULT_CRON,
    timezone: str | tzinfo | None = None,
    jitter: int | None = None,
    run_now: bool = False,
    misfire_grace_time: int = MISFIRE_GRACE_TIME,
) -> int:
    """Run ``job`` at every time ``cron`` names until SIGTERM or SIGINT; return the exit code (0)."""
    trigger = cron_trigger(cron, timezone=timezone, jitter=jitter)
    zone = _zone(timezone)
    scheduler = _Scheduler(
        executors={"default": ThreadPoolExecutor(1)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": misfire_grace_time},
        **({"timezone": zone} if zone is not None else {}),
    )
    extra: dict[str, Any] = {}
    if run_now:
        extra["next_run_time"] = datetime.now(zone or scheduler.timezone)
    scheduler.add_job(_guarded(job), trigger, id=JOB_ID, name="scholar-stats run", **extra)

    def started(_: SchedulerEvent) -> None:
        log.info("scheduler started (%s%s)", cron, f", up to {jitter} s later" if jitter else "")

    scheduler.add_listener(started, EVENT_SCHEDULER_STARTED)

    def request_stop(signum: int, _: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if scheduler.stop_signal is None:
            scheduler.stop_signal = name
        else:
            log.info("%s received again; still waiting for the running job to finish", name)

    previous = {}
    try:
        # Python delivers signals to the main thread only.
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGTERM, signal.SIGINT):
                previous[signum] = signal.signal(signum, request_stop)
        scheduler.start()  # returns once a stop is requested
        if scheduler.stop_signal is not None:
            log.info("%s received; stopping after the running job finishes", scheduler.stop_signal)
        if scheduler.running:
            scheduler.shutdown(wait=True)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    log.info("scheduler stopped")
    return 0


# --- the job of the schedule command


@dataclass(frozen=True)
class PublishOptions:
    branch: str = DEFAULT_BRANCH
    remote: str = DEFAULT_REMOTE
    repo: Path | None = None
    purge_cdn: bool = False


def _progress(outcome: AuthorOutcome) -> None:
    detail = f"{outcome.citations} citations" if outcome.citations is not None else ""
    if outcome.reason:
        detail = f"{detail}; {outcome.reason}" if detail else outcome.reason
    log.info("%s: %s%s", outcome.scholar_id, outcome.status, f": {detail}" if detail else "")


def make_job(
    load: Callable[[], Config], *, publish_options: PublishOptions | None = None
) -> Callable[[], int]:
    """The scheduled job: ``run`` with the configuration ``load`` returns, then ``publish`` if asked
    and only if the run succeeded (with publishing, the data folder is first restored from
    the branch).  ``load`` is called at every run, so an edited file is picked up."""

    def job() -> int:
        config = load()
        if publish_options is not None:
            # Another machine (a GitHub job, say) may have published since: take its
            # snapshots first, so the guard compares with them and publish keeps them.
            try:
                restore(
                    config.data_dir,
                    repo=publish_options.repo,
                    branch=publish_options.branch,
                    remote=publish_options.remote,
                )
            except ScholarStatsError as exc:
                log.warning("could not restore from %s: %s", publish_options.branch, exc)
        summary = run(config, progress=_progress)
        code = summary.exit_code
        log.info("run finished: exit code %d, %s", code, "data changed" if summary.changed else "no change")
        if publish_options is None:
            return code
        if code not in (ExitCode.OK, ExitCode.FALLBACK_USED):
            log.warning("not publishing: the run failed (exit code %d)", code)
            return code
        root = config.root_author or (config.authors[0].scholar_id if config.authors else None)
        result = publish(
            config.data_dir,
            repo=publish_options.repo,
            branch=publish_options.branch,
            remote=publish_options.remote,
            root_author=root,
            purge_cdn=publish_options.purge_cdn,
        )
        if result.commit is None and not result.pushed:
            log.info("nothing to publish")
        else:
            log.info("published %s to %s", (result.commit or result.tip or "")[:12], publish_options.branch)
        return code

    return job
