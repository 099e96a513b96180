"""``site``: write the static citation dashboard from the snapshots."""

from __future__ import annotations

import gc
from pathlib import Path

import click

from crawler.commands._options import apply, config_option, data_dir_option, handle_errors, settings_file
from crawler.storage.settings_file import DEFAULT_DATA_DIR


@click.command("site")
@apply([data_dir_option(), config_option(", for its data_dir and site_title")])
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write the site to [default: <data-dir>/site]; must be new, empty, or an earlier site.",
)
@click.option(
    "--title",
    metavar="TEXT",
    help="Title of the index page [default: the config's site_title, else Citations].",
)
@click.option(
    "--author",
    "authors",
    multiple=True,
    metavar="ID",
    help="Only this author (Scholar ID or profile URL; repeatable) [default: every author in the folder].",
)
@handle_errors
def site_command(
    data_dir: Path | None,
    config_path: Path | None,
    out: Path | None,
    title: str | None,
    authors: tuple[str, ...],
) -> None:
    """Write a static dashboard of the citation history: index.html and a page per author.

    Charts are drawn on the server (readable with JavaScript off), nothing is
    fetched from another host, and each author's CSV/JSON exports are written
    beside their page.  Prints the index file.  See
    https://github.com/scholar-stats/scholar-stats/blob/main/docs/dashboard.md
    """
    # The dashboard (and jinja2) load only for this command.
    from crawler.history.dashboard import SITE_FOLDER, build_site

    settings = settings_file(config_path)
    if data_dir is None:
        data_dir = settings.data_dir if settings is not None else DEFAULT_DATA_DIR
    if not title and settings is not None:
        title = settings.site_title
    folder = out or data_dir / SITE_FOLDER
    result = build_site(data_dir, folder, title=title, authors=authors)
    # The process ends once this is said: what it loaded and drew, frozen out of the garbage
    # collector's reach, is neither walked nor taken apart by the collection at the
    # interpreter's exit (about a tenth of a one-author build's CPU time).
    gc.freeze()
    click.echo(
        f"{len(result.authors)} author{'s' if len(result.authors) != 1 else ''}: "
        f"{len(result.written)} file{'s' if len(result.written) != 1 else ''} written"
        + (f", {len(result.removed)} removed" if result.removed else ""),
        err=True,
    )
    click.echo(str(folder / "index.html"))


COMMANDS = [site_command]
