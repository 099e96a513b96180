"""``fetch`` and ``parse``: one profile, printed as our record or as AcadHomepage's author object."""

from __future__ import annotations

import dataclasses
import gc
import sys
from pathlib import Path

import click

from crawler.commands._options import (
    ValueChoice,
    config_option,
    handle_errors,
    scholar_id_argument,
    with_http_options,
)
from crawler.config import load_config
from crawler.errors import GuardRefused, UsageError
from crawler.models import AuthorRecord, TextEnum, record_to_dict
from crawler.net.redact import redacted_text
from crawler.sources import SCHOLAR_PAGES, SOURCES, SourceSettings, fetch_with_fallback
from crawler.sources.scholar_page import page_to_record, parse_profile
from crawler.storage.atomic import indented_json
from crawler.storage.readfile import MAX_PAGE_BYTES, read_bounded, read_stream_bounded


class RecordFormat(TextEnum):
    """``json``: our record; ``gs-data``: AcadHomepage's author object."""

    JSON = "json"
    GS_DATA = "gs-data"


FORMATS = tuple(f.value for f in RecordFormat)


def render(record: AuthorRecord, fmt: RecordFormat) -> str:
    if fmt == RecordFormat.GS_DATA:
        from crawler.outputs.gs_data import gs_data_dict  # here: only this format needs it

        return indented_json(gs_data_dict(record))
    return indented_json(record_to_dict(record))


@click.command()
@click.argument("scholar_id")
@with_http_options
@click.option(
    "--source",
    "sources",
    multiple=True,
    type=click.Choice(list(SOURCES)),
    help=(
        "Where to fetch from (repeat for a fallback chain) "
        "[default: the config's chain for this author, else scholar]."
    ),
)
@click.option(
    "--id",
    "ids",
    multiple=True,
    metavar="KIND=ID",
    help="The author's ID at another source, e.g. openalex=A5023888391 or orcid=0000-0002-1825-0097.",
)
@click.option(
    "--format",
    "fmt",
    type=ValueChoice(RecordFormat),
    default=RecordFormat.JSON.value,
    show_default=True,
    help="json: our record; gs-data: AcadHomepage's author object.",
)
@config_option(", for the author's entry and the fetch settings")
@handle_errors
def fetch(
    scholar_id: str,
    base_url: str | None,
    delay: float | None,
    timeout: float | None,
    deadline: float | None,
    retries: int | None,
    proxy: str | None,
    sources: tuple[str, ...],
    ids: tuple[str, ...],
    fmt: RecordFormat,
    config_path: Path | None,
) -> None:
    """Fetch one profile completely and print it.

    SCHOLAR_ID is the 12-character ID from the profile URL (the URL itself works too).
    """
    given = {"delay": delay, "timeout": timeout, "deadline": deadline, "retries": retries, "proxy": proxy}
    extra_ids = parse_ids(ids)
    # The configuration's entry for this author (IDs at other sources, source
    # chain) applies as it does for `run`; options win over it.
    config = load_config(
        config_path, authors=[scholar_id_argument(scholar_id)], base_url=base_url, sources=sources, http=given
    )
    known = config.authors[0]
    author = dataclasses.replace(known, ids={**known.ids, **extra_ids})
    # Everything loaded so far (httpx, click, the configuration) lives as long as the process,
    # which ends once the record is printed: out of the garbage collector's reach, the
    # collections that parsing a thousand publications sets off, and the one at the
    # interpreter's exit, no longer walk it (a tenth of a fetch's CPU time).
    gc.freeze()
    result = fetch_with_fallback(
        author,
        config.chain_for(author),
        lambda name: SourceSettings(
            http=config.http, base_url=config.base_url if name in SCHOLAR_PAGES else None
        ),
    )
    for name, exc in result.failures:
        click.echo(redacted_text(f"warning: source {name} failed: {exc}"), err=True)
    served = result.record.profile.scholar_id
    if served != author.scholar_id:
        raise GuardRefused(
            f"asked for {author.scholar_id}, the source served the profile of {served or 'nobody'}"
        )
    click.echo(render(result.record, fmt))


def parse_ids(pairs: tuple[str, ...]) -> dict[str, str]:
    ids: dict[str, str] = {}
    for pair in pairs:
        kind, sep, value = pair.partition("=")
        if not sep or not kind or not value:
            raise UsageError(f"--id takes KIND=ID, not {pair!r}")
        ids[kind.strip()] = value.strip()
    return ids


@click.command()
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=ValueChoice(RecordFormat),
    default=RecordFormat.JSON.value,
    show_default=True,
    help="json: our record; gs-data: AcadHomepage's author object.",
)
@handle_errors
def parse(file: Path, fmt: RecordFormat) -> None:
    """Parse a profile page saved from a browser and print it.

    Only the publications on that page are included; the record says whether
    the page held them all ("complete").  Use - to read standard input.
    """
    try:
        body = (
            read_stream_bounded(
                sys.stdin.buffer, limit=MAX_PAGE_BYTES, name="standard input", error=UsageError
            )
            if str(file) == "-"
            else read_bounded(file, limit=MAX_PAGE_BYTES, follow=True, error=UsageError)
        )
    except OSError as exc:
        raise UsageError(f"cannot read {file}: {exc.strerror or exc}") from exc
    page = parse_profile(body, url=None)
    click.echo(render(page_to_record(page), fmt))
    if page.has_more:
        # The exit code stays 0 (the page was read), but a user about to publish
        # these numbers must know the list stops where the page does.
        shown = f" ({page.range_text})" if page.range_text else ""
        click.echo(
            f"warning: the publication list is incomplete: the page shows {len(page.publications)} "
            f'publications{shown} and its "Show more" button is still enabled; '
            'the record says "complete": false',
            err=True,
        )
