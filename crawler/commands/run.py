"""``run``: the scheduled job, for every configured author."""

from __future__ import annotations

import functools
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import click

from crawler.commands._options import (
    config_option,
    data_dir_option,
    handle_errors,
    root_flag,
    with_http_options,
)
from crawler.errors import ExitCode, exit_codes_help
from crawler.policy import POLICIES
from crawler.sources import SOURCES

if TYPE_CHECKING:
    # The pipeline is imported when the command runs: `run --help` needs none of it.
    from crawler.config import Config
    from crawler.net.progress import Event
    from crawler.outputs.run_summary import AuthorOutcome, RunSummary

# Failures shout, so they stand out in a log of many authors.  Keyed by the
# words of crawler.outputs.run_summary.Status, which compare equal to its members.
_MARK = {
    "updated": "updated",
    "unchanged": "unchanged",
    "failed": "FAILED",
    "refused": "REFUSED",
    "kept": "KEPT last good numbers",
    "estimated": "ESTIMATED",
}


def _report(outcome: AuthorOutcome, data_dir: Path) -> None:
    from crawler.net.redact import redacted_text
    from crawler.outputs.advice import first_day_advice, for_the_user, in_the_action
    from crawler.outputs.run_summary import Status
    from crawler.storage.stale import STATE_FILE

    detail = f"{outcome.citations} citations" if outcome.citations is not None else ""
    if outcome.source and outcome.source != "scholar":
        detail += f" (from {outcome.source})"
    if outcome.reason:
        detail = f"{detail}; {outcome.reason}" if detail else outcome.reason
    # Reasons and notes can carry what a server echoed back (an API key, a proxy's password).
    detail = for_the_user(redacted_text(detail))
    click.echo(
        f"{outcome.scholar_id}: {_MARK.get(outcome.status, outcome.status)}{': ' + detail if detail else ''}",
        err=True,
    )
    if outcome.stale_since and outcome.status in (Status.KEPT, Status.ESTIMATED):
        click.echo(
            f"  note: Google Scholar has failed since {outcome.stale_since} (on_block = {outcome.policy})",
            err=True,
        )
    for note in outcome.notes:
        click.echo(f"  note: {for_the_user(redacted_text(note))}", err=True)
    if outcome.status == Status.FAILED and outcome.exit_code == ExitCode.BLOCKED and outcome.shown is None:
        # A blocked first run: nothing was kept because nothing was ever fetched.
        where = (
            "" if in_the_action() else f" ({data_dir / outcome.scholar_id / STATE_FILE} says why until then)"
        )
        click.echo(
            f"  nothing has been fetched for {outcome.scholar_id} yet, so there are no numbers to show"
            f"{where}; {first_day_advice()}",
            err=True,
        )


# In a log, a line this often (seconds) while the work goes on; tests set it to 0.
PROGRESS_EVERY_ENV = "SCHOLAR_STATS_PROGRESS_SECONDS"
DEFAULT_PROGRESS_EVERY = 30.0


class _Where:
    """Where the run is, from crawler.net.progress's events."""

    def __init__(self) -> None:
        self.index = self.total = self.page = self.publications = 0
        self.scholar_id = ""
        self.waiting: float | None = None

    def update(self, event: Event) -> None:
        fields = event.fields
        if event.kind == "author":
            self.index, self.total = int(fields["index"]), int(fields["total"])
            self.scholar_id = str(fields["scholar_id"])
            self.page = self.publications = 0
            self.waiting = None
        elif event.kind == "page":
            self.page, self.publications = int(fields["page"]), int(fields["publications"])
            self.waiting = None
        elif event.kind == "wait":
            self.waiting = float(fields["seconds"])

    def text(self) -> str:
        said = f"author {self.index} of {self.total} ({self.scholar_id})"
        if self.page:
            said += f": page {self.page}, {self.publications} publications so far"
        if self.waiting is not None:
            said += f"; waiting {self.waiting:.1f}s between requests"
        return said

    def short(self) -> str:
        """The same for a bar, which already shows k/n."""
        said = self.scholar_id
        if self.page:
            said += f" page {self.page}, {self.publications} publications"
        if self.waiting is not None:
            said += f", waiting {self.waiting:.1f}s"
        return said


def _progress_every() -> float:
    try:
        return max(0.0, float(os.environ.get(PROGRESS_EVERY_ENV, DEFAULT_PROGRESS_EVERY)))
    except ValueError:
        return DEFAULT_PROGRESS_EVERY


def _run_with_log_lines(config: Config, accept_drop: bool, group: bool) -> RunSummary:
    """In a log (CI, a pipe): a line per author, and one now and then while an author takes long."""
    from crawler.net.progress import listening
    from crawler.run import run

    where, every = _Where(), _progress_every()
    started = last = time.monotonic()

    def listen(event: Event) -> None:
        nonlocal last
        where.update(event)
        now = time.monotonic()
        if event.kind != "author" and now - last >= every:
            last = now
            click.echo(f"  progress: {where.text()}; {now - started:.0f}s so far", err=True)

    with listening(listen):
        return run(
            config,
            accept_drop=accept_drop,
            progress=functools.partial(_report, data_dir=config.data_dir),
            group=group,
        )


def _run_with_progress_bar(config: Config, accept_drop: bool, group: bool) -> RunSummary:
    """A bar on a terminal: author k of n, the page being read, the wait between requests (rich
    honours NO_COLOR)."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from crawler.net.progress import listening
    from crawler.run import run

    console = Console(stderr=True)
    columns = (
        TextColumn("fetching"),
        BarColumn(bar_width=20),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.description}"),
    )
    where = _Where()
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("", total=len(config.authors))

        def listen(event: Event) -> None:
            where.update(event)
            bar.update(task, description=where.short())

        def report(outcome: AuthorOutcome) -> None:
            # While the bar is live, rich prints what goes to stderr above it.
            _report(outcome, config.data_dir)
            bar.advance(task)

        with listening(listen):
            return run(config, accept_drop=accept_drop, progress=report, group=group)


@click.command(
    "run", epilog=f"Exit codes: {exit_codes_help(tuple(c for c in ExitCode if c != ExitCode.PUBLISH))}."
)
@config_option()
@click.option(
    "--author",
    "authors",
    multiple=True,
    metavar="ID",
    help=(
        "A Google Scholar ID or profile URL to follow (repeatable), instead of the config's list; "
        "works without a config file."
    ),
)
@data_dir_option()
@with_http_options
@click.option(
    "--source",
    "sources",
    multiple=True,
    type=click.Choice(list(SOURCES)),
    help="Source chain for every author (repeat for fallbacks), overriding the config.",
)
@click.option(
    "--on-block",
    envvar="SCHOLAR_STATS_ON_BLOCK",
    type=click.Choice(POLICIES),
    help=(
        "What a day Google Scholar blocks shows, for every author: keep (last good numbers, marked stale), "
        "bridge (an estimate grown by the fallback source) or replace (the fallback's own numbers); "
        "env SCHOLAR_STATS_ON_BLOCK [default: the config's on_block, else keep]."
    ),
)
@click.option(
    "--stale-after-days",
    envvar="SCHOLAR_STATS_STALE_AFTER_DAYS",
    type=click.FloatRange(0, 3650),
    help=(
        "Days of a block after which kept numbers get neutral badges; "
        "env SCHOLAR_STATS_STALE_AFTER_DAYS [default: the config's stale_after_days, else 7]."
    ),
)
@click.option(
    "--accept-drop",
    is_flag=True,
    help="Accept a sharp drop, or a rise past the rise factor, in citations or publications for this run.",
)
@click.option(
    "--max-rise-factor",
    type=float,
    metavar="FACTOR",
    help=(
        "Refuse citations or publications rising to more than FACTOR times the last good value (>= 1) "
        "[default: 3, or the config's]."
    ),
)
@click.option(
    "--shard",
    "shard_text",
    metavar="K/N",
    help="Fetch only shard K of N (1-based): a stable, balanced share of the authors, for one job of a matrix (https://github.com/scholar-stats/scholar-stats/blob/main/docs/labs.md).",
)
@click.option(
    "--summary",
    "summary_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write a machine-readable JSON summary of the run here (use - for stdout).",
)
@handle_errors
def run_command(
    config_path: Path | None,
    authors: tuple[str, ...],
    data_dir: Path | None,
    base_url: str | None,
    delay: float | None,
    timeout: float | None,
    deadline: float | None,
    retries: int | None,
    proxy: str | None,
    sources: tuple[str, ...],
    on_block: str | None,
    stale_after_days: float | None,
    accept_drop: bool,
    max_rise_factor: float | None,
    shard_text: str | None,
    summary_path: Path | None,
) -> None:
    """Fetch every author, guard the numbers, store snapshots and write the outputs.

    A failed or implausible fetch never replaces good data: the author is
    marked stale and the exit code says why.
    """
    from crawler.config import load_config
    from crawler.models import utc_now
    from crawler.outputs.run_summary import RunSummary
    from crawler.run import run
    from crawler.shard import for_shard, parse_shard

    config = load_config(
        config_path,
        authors=authors,
        data_dir=data_dir,
        base_url=base_url,
        sources=sources,
        http={"delay": delay, "timeout": timeout, "deadline": deadline, "retries": retries, "proxy": proxy},
        on_block=on_block,
        stale_after_days=stale_after_days,
        guard={"max_rise_factor": max_rise_factor},
    )
    quiet = bool(root_flag("quiet"))
    # The group's numbers belong to the whole list; a shard or a few authors are part of it.
    group = shard_text is None and not authors
    if shard_text is not None:
        shard = parse_shard(shard_text)
        everyone = len(config.authors)
        config = for_shard(config, shard)
        if not config.authors:
            # More shards than authors: this job has nothing to do, which is not a failure.
            if not quiet:
                click.echo(
                    f"shard {shard} has no authors ({everyone} over {shard.count} shards); nothing to do",
                    err=True,
                )
            _write_summary(RunSummary(started=utc_now(), finished=utc_now()), summary_path)
            sys.exit(0)
    if quiet:
        summary = run(config, accept_drop=accept_drop, progress=None, group=group)
    elif sys.stderr.isatty():
        summary = _run_with_progress_bar(config, accept_drop, group)
    else:
        summary = _run_with_log_lines(config, accept_drop, group)
    _write_summary(summary, summary_path)
    sys.exit(summary.exit_code)


def _write_summary(summary: RunSummary, summary_path: Path | None) -> None:
    if summary_path is None:
        return
    import json

    from crawler.storage.store import atomic_write_bytes

    data = (json.dumps(summary.to_dict(), indent=2, ensure_ascii=False) + "\n").encode()
    if str(summary_path) == "-":
        sys.stdout.buffer.write(data)
    else:
        atomic_write_bytes(summary_path, data)
