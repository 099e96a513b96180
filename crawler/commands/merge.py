"""``merge``: the data folders of a sharded run, put back together."""

from __future__ import annotations

from pathlib import Path

import click

from crawler.cli import handle_errors
from crawler.config import DEFAULT_CONFIG, read_config_file
from crawler.shard import expected_authors, merge


@click.command("merge")
@click.argument("shard_dirs", nargs=-1, required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--into", "into", required=True, type=click.Path(file_okay=False, path_type=Path), help="The data folder to merge into (restored from the data branch first).")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path), help="Configuration file whose authors are expected (default: scholar-stats.toml when present); an expected author no shard brought keeps its data, marked stale.")
@handle_errors
def merge_command(shard_dirs: tuple[Path, ...], into: Path, config_path: Path | None) -> None:
    """Merge the data folders of `run --shard K/N` jobs into one data folder.

    Each author's folder comes from exactly one shard (an author in two is exit
    2, naming it, before anything is written).  An expected author that no shard
    brought keeps its last good data, marked stale.  Nothing else in the data
    folder is touched, and merging again changes nothing.
    """
    if config_path is None and Path(DEFAULT_CONFIG).is_file():
        config_path = Path(DEFAULT_CONFIG)
    config = read_config_file(config_path) if config_path is not None else None
    summary = merge(shard_dirs, into, expected=expected_authors(config))
    for note in summary.notes:
        click.echo(f"note: {note}", err=True)
    for sid in summary.missing:
        click.echo(f"{sid}: STALE: no shard brought its data; the last good data is kept", err=True)
    for sid in sorted(set(summary.stale) - set(summary.missing)):
        click.echo(f"{sid}: STALE: its shard could not fetch it; the last good data is kept", err=True)
    click.echo(
        f"merged {len(summary.merged)} authors from {len(shard_dirs)} shard folders into {into}; "
        f"{len(set(summary.stale))} stale, {len(summary.written)} files written, {len(summary.removed)} removed",
        err=True,
    )


COMMANDS = [merge_command]
