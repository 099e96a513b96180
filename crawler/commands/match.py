"""``match``: which work of a fallback source is which Scholar publication."""

from __future__ import annotations

import json
from pathlib import Path

import click

from crawler.cli import handle_errors
from crawler.config import DEFAULT_DATA_DIR
from crawler.errors import UsageError
from crawler.match import describe, match_in_folder, result_to_dict
from crawler.models import normalize_scholar_id
from crawler.sources import SOURCES


@click.command("match")
@click.option("--author", "author", required=True, metavar="ID", help="The author (Scholar ID or profile URL).")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=DEFAULT_DATA_DIR, help="Data folder [default: data].")
@click.option("--source", type=click.Choice([s for s in SOURCES if s != "scholar"]), help="Only this fallback source [default: every one kept beside Scholar].")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True, help="text for a person, json as kept in matches/<source>.json.")
@handle_errors
def match_command(author: str, data_dir: Path, source: str | None, fmt: str) -> None:
    """Show which fallback works match which Scholar publications, and what is unmatched on both sides.

    Compares the newest Scholar snapshot with the newest snapshot of each
    fallback source; <author>/matches.toml overrides any pair.
    """
    try:
        scholar_id = normalize_scholar_id(author)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    results = match_in_folder(data_dir, scholar_id, source)
    if fmt == "json":
        data = {r.source: result_to_dict(r, s, o) for r, s, o in results}
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    for index, (result, scholar, _other) in enumerate(results):
        if index:
            click.echo("")
        for line in describe(result, scholar.publications):
            click.echo(line)


COMMANDS = [match_command]
