"""``bookmarklet``: print a bookmarklet that saves a complete Scholar profile page."""

from __future__ import annotations

import click

from crawler.commands._options import handle_errors


@click.command("bookmarklet")
@click.option(
    "--source",
    "show_source",
    is_flag=True,
    help="Print the readable JavaScript instead of the javascript: link.",
)
@handle_errors
def bookmarklet_command(show_source: bool) -> None:
    """Print a bookmarklet that saves your complete Scholar profile page for import-html.

    Add it as a bookmark, open your Google Scholar profile, click the bookmark:
    it clicks "Show more" until the list is complete, then downloads the page,
    which `scholar-stats import-html FILE --author ID` turns into a snapshot.
    """
    from crawler.sources.bookmarklet import bookmarklet, source

    click.echo(source() if show_source else bookmarklet())
