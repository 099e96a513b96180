"""``embed``: print the script a homepage includes to show its citation counts."""

from __future__ import annotations

import click

from crawler.commands._options import ValueChoice, handle_errors
from crawler.outputs.embed import DEFAULT_TIMEOUT_MS, Format, make_options, render
from crawler.storage.store import DEFAULT_BRANCH


@click.command()
@click.option(
    "--repo",
    metavar="OWNER/NAME",
    help="GitHub repository whose data branch holds gs_data.json (required unless --url is given).",
)
@click.option("--branch", default=DEFAULT_BRANCH, show_default=True, help="The data branch.")
@click.option(
    "--author",
    metavar="SCHOLAR_ID",
    help=(
        "Read <SCHOLAR_ID>/gs_data.json instead of gs_data.json at the branch's root "
        "(for a branch holding several authors)."
    ),
)
@click.option(
    "--url",
    "urls",
    multiple=True,
    metavar="URL",
    help=(
        "A data URL to try, in order (repeatable); replaces the jsDelivr / raw.githubusercontent.com pair. "
        "A path such as /data/gs_data.json means the homepage's own site."
    ),
)
@click.option(
    "--timeout-ms",
    type=int,
    default=DEFAULT_TIMEOUT_MS,
    show_default=True,
    help="Milliseconds allowed for each data URL before the next one is tried.",
)
@click.option(
    "--format",
    "fmt",
    type=ValueChoice(Format),
    default=Format.HTML.value,
    show_default=True,
    help=(
        "html: a <script> element with the script inlined; js: the bare script, "
        "to save as a .js file and load with <script src=... defer>."
    ),
)
@handle_errors
def embed(
    repo: str | None, branch: str, author: str | None, urls: tuple[str, ...], timeout_ms: int, fmt: Format
) -> None:
    """Print the snippet a homepage includes to show its citation counts.

    It fills #total_cit and every .show_paper_citations[data=ID] as AcadHomepage's
    script does, plus #h_index, #i10_index, #gs_updated and [data-scholar-stats=KEY]
    elements. It reads gs_data.json from jsDelivr and falls back to
    raw.githubusercontent.com when jsDelivr fails or is slow. See
    https://github.com/scholar-stats/scholar-stats/blob/main/docs/homepage.md
    """
    options = make_options(repo=repo, branch=branch, author=author, urls=urls, timeout_ms=timeout_ms)
    click.echo(render(options, fmt=fmt), nl=False)
