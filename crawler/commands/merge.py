"""``merge``: the data folders of a sharded run, put back together."""

from __future__ import annotations

from pathlib import Path

import click

from crawler.commands._options import config_option, handle_errors
from crawler.config import find_config, read_settings
from crawler.merge import author_folders, merge
from crawler.outputs.badges import BadgeStyle
from crawler.outputs.group_numbers import write_group


@click.command("merge")
@click.argument("shard_dirs", nargs=-1, required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--into",
    "into",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="The data folder to merge into (restored from the data branch first).",
)
@config_option(", whose authors are expected: one that no shard brought keeps its data, marked stale")
@click.option(
    "--move",
    is_flag=True,
    help="Move what is taken out of the shard folders (downloaded artifacts, used once) rather than "
    "copy it: one rename per file, or per author folder taken whole; copied when on another file system.",
)
@handle_errors
def merge_command(shard_dirs: tuple[Path, ...], into: Path, config_path: Path | None, move: bool) -> None:
    """Merge the data folders of `run --shard K/N` jobs into one data folder.

    Each author's folder comes from exactly one shard (an author in two is exit
    2, naming it, before anything is written).  An expected author that no shard
    brought keeps its last good data, marked stale.  Only the files `run` writes
    are taken from a shard, each within its size bound and checked (this
    author's, valid, of the right format); any other file is skipped with a
    line.  Nothing else in the data folder is touched, and merging again
    changes nothing.  With --move, each file taken leaves its shard folder.
    """
    config = read_settings(config_path) if find_config(config_path) is not None else None
    expected = [a.scholar_id for a in config.authors] if config is not None else []
    summary = merge(shard_dirs, into, expected=expected, config=config, move=move)
    members = expected or author_folders(into)
    if len(members) > 1:
        write_group(into, members, config.badge if config is not None else BadgeStyle())
    for line in summary.skipped:
        click.echo(f"skipped: {line}", err=True)
    for note in summary.notes:
        click.echo(f"note: {note}", err=True)
    for sid in summary.missing:
        click.echo(f"{sid}: STALE: no shard brought its data; the last good data is kept", err=True)
    for sid in sorted(set(summary.stale) - set(summary.missing)):
        click.echo(f"{sid}: STALE: its shard could not fetch it; the last good data is kept", err=True)
    click.echo(
        f"merged {len(summary.merged)} authors from {len(shard_dirs)} shard folders into {into}; "
        f"{len(set(summary.stale))} stale, {len(summary.written) + summary.moved_files} files written, "
        f"{len(summary.removed)} removed",
        err=True,
    )
