"""``fetch`` and ``parse``: one profile, printed as our record or as AcadHomepage's author object."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from crawler.cli import handle_errors
from crawler.errors import GuardRefused, UsageError
from crawler.http import HttpOptions
from crawler.models import AuthorRecord, normalize_scholar_id, record_to_dict
from crawler.outputs.gs_data import gs_data_dict
from crawler.parser import page_to_record, parse_profile
from crawler.sources import SCHOLAR_PAGES, SOURCES, AuthorRef, SourceSettings, fetch_with_fallback

FORMATS = ("json", "gs-data")


def render(record: AuthorRecord, fmt: str) -> str:
    data = gs_data_dict(record) if fmt == "gs-data" else record_to_dict(record)
    return json.dumps(data, indent=2, ensure_ascii=False)


def scholar_id_argument(value: str) -> str:
    try:
        return normalize_scholar_id(value)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc


def http_options() -> list[Callable[[Any], Any]]:
    """The options every command that talks to a source shares."""
    return [
        click.option("--base-url", envvar="SCHOLAR_STATS_BASE_URL", help="Google Scholar's address (a mirror or a replay server); env SCHOLAR_STATS_BASE_URL."),
        click.option("--delay", type=click.FloatRange(min=0), help="Minimum seconds between two requests to the same host, plus random jitter [default: 5]."),
        click.option("--timeout", type=click.FloatRange(min=0.1), help="Seconds allowed for one request [default: 20]."),
        click.option("--deadline", type=click.FloatRange(min=0.1), help="Seconds allowed for the whole fetch of one author, retries included [default: 300]."),
        click.option("--retries", type=click.IntRange(min=0, max=10), help="Retries for timeouts, connection errors, 5xx and 429 [default: 3]."),
        click.option("--proxy", envvar="SCHOLAR_STATS_PROXY", help="Proxy URL (http://, https://, socks5://); HTTPS_PROXY etc. are honoured too."),
    ]


def with_http_options(func: Any) -> Any:
    for option in reversed(http_options()):
        func = option(func)
    return func


@click.command()
@click.argument("scholar_id")
@with_http_options
@click.option("--source", "sources", multiple=True, type=click.Choice(list(SOURCES)), help="Where to fetch from (repeat for a fallback chain); default scholar.")
@click.option("--id", "ids", multiple=True, metavar="KIND=ID", help="The author's ID at another source, e.g. openalex=A5023888391 or orcid=0000-0002-1825-0097.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="json", show_default=True, help="json: our record; gs-data: AcadHomepage's author object.")
@handle_errors
def fetch(scholar_id: str, base_url: str | None, delay: float | None, timeout: float | None, deadline: float | None, retries: int | None, proxy: str | None, sources: tuple[str, ...], ids: tuple[str, ...], fmt: str) -> None:
    """Fetch one profile completely and print it.

    SCHOLAR_ID is the 12-character ID from the profile URL (the URL itself works too).
    """
    author = AuthorRef(scholar_id_argument(scholar_id), ids=parse_ids(ids))
    given = {"delay": delay, "timeout": timeout, "deadline": deadline, "retries": retries, "proxy": proxy}
    options = HttpOptions(**{k: v for k, v in given.items() if v is not None})  # type: ignore[arg-type]
    result = fetch_with_fallback(
        author, sources or ("scholar",), lambda name: SourceSettings(http=options, base_url=base_url if name in SCHOLAR_PAGES else None)
    )
    for name, exc in result.failures:
        click.echo(f"warning: source {name} failed: {exc}", err=True)
    served = result.record.profile.scholar_id
    if served != author.scholar_id:
        raise GuardRefused(f"asked for {author.scholar_id}, the source served the profile of {served or 'nobody'}")
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
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="json", show_default=True, help="json: our record; gs-data: AcadHomepage's author object.")
@handle_errors
def parse(file: Path, fmt: str) -> None:
    """Parse a profile page saved from a browser and print it.

    Only the publications on that page are included; the record says whether
    the page held them all ("complete").  Use - to read standard input.
    """
    try:
        body = sys.stdin.buffer.read() if str(file) == "-" else file.read_bytes()
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
            f"publications{shown} and its \"Show more\" button is still enabled; the record says \"complete\": false",
            err=True,
        )


COMMANDS = [fetch, parse]
