"""``match``: which work of a fallback source is which Scholar publication."""

from __future__ import annotations

import json
from pathlib import Path

import click

from crawler.commands._options import (
    apply,
    config_option,
    data_dir_option,
    handle_errors,
    scholar_id_argument,
)
from crawler.config import resolve_data_dir
from crawler.policy.match import describe, match_in_folder, result_to_dict
from crawler.sources import SOURCES


@click.command("match")
@click.option(
    "--author", "author", required=True, metavar="ID", help="The author (Scholar ID or profile URL)."
)
@apply([data_dir_option(), config_option(", for its data_dir")])
@click.option(
    "--source",
    type=click.Choice([s for s in SOURCES if s != "scholar"]),
    help="Only this fallback source [default: every one kept beside Scholar].",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text for a person, json as kept in matches/<source>.json.",
)
@handle_errors
def match_command(
    author: str, data_dir: Path | None, config_path: Path | None, source: str | None, fmt: str
) -> None:
    """Show which fallback works match which Scholar publications, and what is unmatched on both sides.

    Compares the newest Scholar snapshot with the newest snapshot of each
    fallback source; <author>/matches.toml overrides any pair.
    """
    scholar_id = scholar_id_argument(author)
    results = match_in_folder(resolve_data_dir(config_path, data_dir), scholar_id, source)
    if fmt == "json":
        data = {r.source: result_to_dict(r, s, o) for r, s, o in results}
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    for index, (result, scholar, _other) in enumerate(results):
        if index:
            click.echo("")
        for line in describe(result, scholar.publications):
            click.echo(line)
