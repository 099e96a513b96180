"""``schedule``: run the job at crontab times on a machine of one's own, until SIGTERM or Ctrl-C."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from crawler.branch import DEFAULT_REMOTE
from crawler.commands._options import config_option, data_dir_option, handle_errors
from crawler.config import Config, load_config
from crawler.schedule import DEFAULT_CRON, PublishOptions, cron_trigger, make_job, serve
from crawler.storage.store import DEFAULT_BRANCH


def _show_scheduler_logs(quiet: bool, verbose: int) -> None:
    """A long-running service says what it does: its own lines show unless -q."""
    ours = logging.getLogger("crawler")
    if not quiet:
        logging.getLogger("crawler.schedule").setLevel(logging.INFO)
    # APScheduler's warnings (a missed run, a run skipped because one is still going)
    # go through the same handler and format as ours.
    aps = logging.getLogger("apscheduler")
    aps.handlers[:] = list(ours.handlers)
    aps.propagate = False
    aps.setLevel(logging.DEBUG if verbose >= 2 else logging.ERROR if quiet else logging.WARNING)


@click.command("schedule")
@click.option(
    "--cron",
    default=DEFAULT_CRON,
    show_default=True,
    help=(
        "When to run, as a crontab line (5 fields, 0 or 7 = Sunday, or @daily/@hourly/...); "
        "pick an odd minute."
    ),
)
@config_option("; re-read before every run")
@click.option(
    "--author",
    "authors",
    multiple=True,
    metavar="ID",
    help="A Google Scholar ID or profile URL to follow (repeatable), instead of the config's list.",
)
@data_dir_option()
@click.option(
    "--base-url",
    envvar="SCHOLAR_STATS_BASE_URL",
    help="Google Scholar's address (a mirror or a replay server); env SCHOLAR_STATS_BASE_URL.",
)
@click.option(
    "--proxy", envvar="SCHOLAR_STATS_PROXY", help="Proxy URL for the fetches; env SCHOLAR_STATS_PROXY."
)
@click.option(
    "--publish",
    "do_publish",
    is_flag=True,
    help="After a successful run, publish the data folder to the data branch (as `scholar-stats publish`).",
)
@click.option("--branch", default=DEFAULT_BRANCH, show_default=True, help="With --publish: the data branch.")
@click.option(
    "--remote", default=DEFAULT_REMOTE, show_default=True, help="With --publish: the remote to push to."
)
@click.option(
    "--repo",
    type=click.Path(file_okay=False, path_type=Path),
    help="With --publish: the git repository (default: the one containing the current directory).",
)
@click.option(
    "--purge-cdn",
    is_flag=True,
    help="With --publish: purge jsDelivr's cache of the root files after pushing.",
)
@click.option("--run-now", is_flag=True, help="Also run once right away, then follow the schedule.")
@click.option(
    "--jitter",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Start each run up to this many seconds late, at random.",
)
@click.option(
    "--timezone", help="Time zone of the schedule, e.g. Europe/Paris or UTC (default: the machine's)."
)
@click.pass_context
@handle_errors
def schedule_command(
    ctx: click.Context,
    cron: str,
    config_path: Path | None,
    authors: tuple[str, ...],
    data_dir: Path | None,
    base_url: str | None,
    proxy: str | None,
    do_publish: bool,
    branch: str,
    remote: str,
    repo: Path | None,
    purge_cdn: bool,
    run_now: bool,
    jitter: int,
    timezone: str | None,
) -> None:
    """Run the job (and publish, with --publish) at the times of a crontab line, until stopped.

    Runs missed while the machine slept are made up once when it wakes (up to
    6 hours late).  SIGTERM or Ctrl-C stops it after the running job
    finishes, with exit code 0.
    """
    obj = ctx.obj or {}
    _show_scheduler_logs(bool(obj.get("quiet")), int(obj.get("verbose", 0)))
    cron_trigger(cron, timezone=timezone, jitter=jitter or None)  # a bad line fails now, not at run time

    def load() -> Config:
        return load_config(
            config_path, authors=authors, data_dir=data_dir, base_url=base_url, http={"proxy": proxy}
        )

    load()  # a bad configuration fails now, too
    options = (
        PublishOptions(branch=branch, remote=remote, repo=repo, purge_cdn=purge_cdn) if do_publish else None
    )
    sys.exit(
        serve(
            make_job(load, publish_options=options),
            cron=cron,
            timezone=timezone,
            jitter=jitter or None,
            run_now=run_now,
        )
    )
