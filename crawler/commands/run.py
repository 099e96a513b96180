"""``run``: the scheduled job, for every configured author."""

from __future__ import annotations

import json
import sys
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
from crawler.on_block import POLICIES
from crawler.sources import SOURCES

if TYPE_CHECKING:
    # The pipeline is imported when the command runs: `run --help` needs none of it.
    from crawler.config import Config
    from crawler.run import AuthorOutcome, RunSummary

# Failures shout, so they stand out in a log of many authors.  Keyed by the
# words of crawler.run.Status, which compare equal to its members.
_MARK = {
    "updated": "updated",
    "unchanged": "unchanged",
    "failed": "FAILED",
    "refused": "REFUSED",
    "kept": "KEPT last good numbers",
    "estimated": "ESTIMATED",
}


def _report(outcome: AuthorOutcome) -> None:
    from crawler.redact import redacted_text

    detail = f"{outcome.citations} citations" if outcome.citations is not None else ""
    if outcome.source and outcome.source != "scholar":
        detail += f" (from {outcome.source})"
    if outcome.reason:
        detail = f"{detail}; {outcome.reason}" if detail else outcome.reason
    # Reasons and notes can carry what a server echoed back (an API key, a proxy's password).
    detail = redacted_text(detail)
    click.echo(
        f"{outcome.scholar_id}: {_MARK.get(outcome.status, outcome.status)}{': ' + detail if detail else ''}",
        err=True,
    )
    if outcome.stale_since:
        click.echo(
            f"  note: Google Scholar has failed since {outcome.stale_since} (on_block = {outcome.policy})",
            err=True,
        )
    for note in outcome.notes:
        click.echo(f"  note: {redacted_text(note)}", err=True)


def _run_with_progress_bar(config: Config, accept_drop: bool, group: bool) -> RunSummary:
    """A bar over the authors, only on a terminal (rich honours NO_COLOR)."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from crawler.run import run

    console = Console(stderr=True)
    columns = (TextColumn("fetching"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("authors", total=len(config.authors))

        def report(outcome: AuthorOutcome) -> None:
            # While the bar is live, rich prints what goes to stderr above it.
            _report(outcome)
            bar.advance(task)

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
    from crawler.run import RunSummary, run
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
    if sys.stderr.isatty() and not quiet and len(config.authors) > 1:
        summary = _run_with_progress_bar(config, accept_drop, group)
    else:
        summary = run(config, accept_drop=accept_drop, progress=None if quiet else _report, group=group)
    _write_summary(summary, summary_path)
    sys.exit(summary.exit_code)


def _write_summary(summary: RunSummary, summary_path: Path | None) -> None:
    if summary_path is None:
        return
    from crawler.store import atomic_write_bytes

    data = (json.dumps(summary.to_dict(), indent=2, ensure_ascii=False) + "\n").encode()
    if str(summary_path) == "-":
        sys.stdout.buffer.write(data)
    else:
        atomic_write_bytes(summary_path, data)
