"""``export``, ``plot``, ``report``, ``import-git`` and ``import-html``: the citation history."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from crawler.commands._options import (
    ValueChoice,
    apply,
    config_option,
    data_dir_option,
    handle_errors,
    scholar_id_argument,
    settings_file,
)
from crawler.errors import GuardRefused, StorageError, UsageError
from crawler.history import DEFAULT_PATH
from crawler.history.export import ExportOptions, Format, What, write_export
from crawler.history.periods import FREQUENCIES, parse_date
from crawler.history.snapshots import resolve_authors
from crawler.storage.readfile import MAX_HOMEPAGE_FILE_BYTES, read_bounded_or_none
from crawler.storage.settings_file import DEFAULT_DATA_DIR
from crawler.storage.store import DEFAULT_BRANCH

if TYPE_CHECKING:
    # The backfill (git, every output writer) is loaded by import-git and import-html when they run.
    from crawler.history.backfill import ImportOutcome
    from crawler.outputs.badges import BadgeStyle
    from crawler.policy.guard import GuardOptions

# Where the history is read from: each of export, plot and report.
_WHERE = [data_dir_option(), config_option(", for its data_dir")]


@click.command("export")
@apply(_WHERE)
@click.option(
    "--author",
    "authors",
    multiple=True,
    metavar="ID",
    help="Only this author (Scholar ID or profile URL; repeatable) [default: every author in the folder].",
)
@click.option(
    "--what",
    type=ValueChoice(What),
    default=What.METRICS.value,
    show_default=True,
    help=(
        "metrics: totals per snapshot; publications: one row per publication per snapshot; "
        "years: the per-year histogram; group: the group's totals over time, each paper counted once "
        "(https://github.com/scholar-stats/scholar-stats/blob/main/docs/labs.md); "
        "al-folio: al-folio's _data/citations.yml from the newest Scholar snapshot."
    ),
)
@click.option(
    "--all",
    "all_snapshots",
    is_flag=True,
    help="With --what years: the histogram of every snapshot, with its date, not only the latest.",
)
@click.option(
    "--since",
    metavar="DATE",
    help="Only snapshots at or after DATE (YYYY-MM-DD or ISO-8601; UTC when no zone).",
)
@click.option(
    "--until",
    metavar="DATE",
    help="Only snapshots at or before DATE (a YYYY-MM-DD date includes that whole day).",
)
@click.option(
    "--freq",
    type=click.Choice(FREQUENCIES),
    help="Keep the last snapshot of each UTC day, ISO week or month.",
)
@click.option(
    "--out", metavar="FILE", default="-", show_default=True, help="Where to write; - is standard output."
)
@click.option(
    "--format",
    "fmt",
    type=ValueChoice(Format),
    default=Format.CSV.value,
    show_default=True,
    help="csv (RFC 4180, UTF-8), json (an array of objects) or parquet (needs pyarrow).",
)
@click.pass_context
@handle_errors
def export_command(
    ctx: click.Context,
    data_dir: Path | None,
    config_path: Path | None,
    authors: tuple[str, ...],
    what: What,
    all_snapshots: bool,
    since: str | None,
    until: str | None,
    freq: str | None,
    out: str,
    fmt: Format,
) -> None:
    """Write the citation history as a table: CSV, JSON or Parquet.

    Columns and row order are fixed (see
    https://github.com/scholar-stats/scholar-stats/blob/main/docs/history.md).  An empty result is
    a header-only file.  Corrupt snapshots are named on stderr and skipped.

    --what al-folio writes al-folio's _data/citations.yml instead (see
    https://github.com/scholar-stats/scholar-stats/blob/main/docs/al-folio.md): the newest Scholar
    numbers, rewritten only when a count or title changed.
    """
    if what == What.AL_FOLIO:
        table_only = {
            "all_snapshots": "--all",
            "since": "--since",
            "until": "--until",
            "freq": "--freq",
            "fmt": "--format",
        }
        given = [
            flag
            for name, flag in table_only.items()
            if ctx.get_parameter_source(name) is click.core.ParameterSource.COMMANDLINE
        ]
        if given:
            raise UsageError(f"{', '.join(given)} cannot be used with --what al-folio")
        export_al_folio(_data_dir(config_path, data_dir), authors, None if out == "-" else Path(out))
        return
    options = ExportOptions(
        what=what,
        authors=authors,
        since=parse_date(since, option="--since") if since else None,
        until=parse_date(until, end_of_day=True, option="--until") if until else None,
        freq=freq,
        all_snapshots=all_snapshots,
    )
    write_export(_data_dir(config_path, data_dir), options, None if out == "-" else Path(out), fmt=fmt)


def export_al_folio(data_dir: Path, authors: tuple[str, ...], out: Path | None) -> None:
    from crawler.outputs.alfolio import build
    from crawler.storage.store import atomic_write_bytes

    ids = resolve_authors(data_dir, authors)
    if not ids:
        raise UsageError(f"no author in {data_dir}: run `scholar-stats run` first")
    where = str(out) if out else "-"
    existing = None
    if out is not None:
        try:
            raw = read_bounded_or_none(out, limit=MAX_HOMEPAGE_FILE_BYTES, follow=True)
            existing = None if raw is None else raw.decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise StorageError(f"cannot read {out}: {exc}") from exc
    result = build(data_dir, ids, existing, where=where)
    if out is None:
        click.echo(result.text, nl=False)
    elif result.changed:
        if out.parent != Path() and not out.parent.is_dir():
            raise StorageError(f"the folder {out.parent} does not exist (is this the site's root?)")
        atomic_write_bytes(out, result.text.encode("utf-8"))
    click.echo(
        f"{where}: {result.papers} paper{'s' if result.papers != 1 else ''}; {result.summary}", err=True
    )


@click.command("plot")
@apply(_WHERE)
@click.option(
    "--author",
    metavar="ID",
    help="Whose history (Scholar ID or profile URL); needed when the folder has several authors.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="PNG or SVG file to write, by its extension [default: <ID>-citations.png].",
)
@handle_errors
def plot_command(
    data_dir: Path | None, config_path: Path | None, author: str | None, out: Path | None
) -> None:
    """Draw total citations over time and the latest per-year histogram.

    The top panel has one point per snapshot (a new line when the source
    changes); the bottom one is Scholar's citations per year from the latest
    snapshot.  Prints the file written.
    """
    # matplotlib loads only for this command.
    from crawler.history.plot import pick_author, write_plot

    folder = _data_dir(config_path, data_dir)
    scholar_id = pick_author(folder, author)
    path = write_plot(folder, scholar_id, out or Path(f"{scholar_id}-citations.png"))
    click.echo(str(path))


@click.command("report")
@apply(_WHERE)
@click.option(
    "--author",
    "authors",
    multiple=True,
    metavar="ID",
    help="Only this author (repeatable) [default: every author in the folder].",
)
@click.option(
    "--since", metavar="DATE", help="Compare the latest snapshot with the last one taken before DATE."
)
@click.option(
    "--last",
    type=click.IntRange(min=1),
    metavar="N",
    help="Compare the latest snapshot with the Nth one before it [default: 1, the previous one].",
)
@handle_errors
def report_command(
    data_dir: Path | None,
    config_path: Path | None,
    authors: tuple[str, ...],
    since: str | None,
    last: int | None,
) -> None:
    """Print a Markdown summary of what changed between two snapshots.

    Totals, h-index and i10-index with their change, the publications that
    gained the most citations, new and vanished publications, source changes,
    and a warning when the last fetch failed.
    """
    if since and last:
        raise UsageError("--since and --last cannot be used together")
    from crawler.history.report import markdown_report

    folder = _data_dir(config_path, data_dir)
    ids = resolve_authors(folder, authors)
    click.echo(markdown_report(folder, ids, since=since, last=last), nl=False)


def _data_dir(config_path: Path | None, data_dir: Path | None) -> Path:
    """The data folder: the option (or its environment variable), else the configuration's.

    The configuration, with every setting's check and the badge and guard options it holds,
    is loaded only when no folder was given (an export's start-up, docs/benchmarks.md).
    """
    if data_dir is not None:
        return data_dir
    settings = settings_file(config_path)
    return settings.data_dir if settings is not None else DEFAULT_DATA_DIR


def _settings(config_path: Path | None, data_dir: Path | None) -> tuple[Path, GuardOptions, BadgeStyle]:
    """Data folder, guard limits and badge style: the options, else the configuration file's,
    else the defaults.
    """
    from crawler.config import read_settings

    config = read_settings(config_path)
    return (data_dir if data_dir is not None else config.data_dir), config.guard, config.badge


def _summarise(outcome: ImportOutcome, total: int) -> None:
    parts = [f"imported {len(outcome.imported)}", f"already there {len(outcome.skipped)}"]
    if outcome.refused:
        parts.append(f"refused {len(outcome.refused)}")
    if outcome.invalid:
        parts.append(f"not usable {len(outcome.invalid)}")
    click.echo(f"{total} version{'s' if total != 1 else ''}: " + ", ".join(parts), err=True)
    for note in outcome.notes:
        click.echo(f"  note: {note}", err=True)
    if outcome.outputs_rebuilt:
        click.echo("the newest snapshot was imported: gs_data.json and badges rebuilt from it", err=True)
    if outcome.refused:
        more = f" (and {len(outcome.refused) - 1} more)" if len(outcome.refused) > 1 else ""
        raise GuardRefused(f"refused by the guard: {outcome.refused[0]}{more}")


_IMPORT_OPTIONS = [
    click.option(
        "--author",
        required=True,
        metavar="ID",
        help="The author whose history this is (Scholar ID or profile URL).",
    ),
    data_dir_option(),
    config_option(", for its data_dir, [guard] limits and [badge] style"),
    click.option(
        "--accept-drop",
        is_flag=True,
        help=(
            "Accept a sharp drop, or a rise past the rise factor, in citations or publications "
            "against the snapshot before."
        ),
    ),
]


_import_options = apply(_IMPORT_OPTIONS)


@click.command("import-git")
@click.option(
    "--repo",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="A clone of the repository whose history holds gs_data.json (e.g. your AcadHomepage site).",
)
@click.option(
    "--branch",
    default=DEFAULT_BRANCH,
    show_default=True,
    help="Branch to read (origin/BRANCH is used when there is no local one).",
)
@click.option(
    "--path", "file_path", default=DEFAULT_PATH, show_default=True, help="The file's path in the repository."
)
@_import_options
@handle_errors
def import_git_command(
    repo: Path,
    branch: str,
    file_path: str,
    author: str,
    data_dir: Path | None,
    config_path: Path | None,
    accept_drop: bool,
) -> None:
    """Turn every committed version of a gs_data.json into a snapshot.

    Each version is dated by its commit time (UTC) and goes through the same
    guard and atomic writes as `run`; versions already in the data folder are
    skipped, so a second import adds nothing.
    """
    from crawler.history.backfill import import_git

    scholar_id = scholar_id_argument(author)
    folder, guard, badge = _settings(config_path, data_dir)
    outcome = import_git(
        folder,
        repo,
        scholar_id=scholar_id,
        branch=branch,
        path=file_path,
        guard=guard,
        badge=badge,
        accept_drop=accept_drop,
    )
    total = len(outcome.imported) + len(outcome.skipped) + len(outcome.refused) + len(outcome.invalid)
    _summarise(outcome, total)


@click.command("import-html")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--date",
    metavar="DATE",
    help=(
        "When the page was saved (YYYY-MM-DD or ISO-8601) [default: the page's own date (a Wayback "
        "Machine capture's, SingleFile's), else the file's modification time]; one FILE only."
    ),
)
@click.option(
    "--allow-partial",
    is_flag=True,
    help="Import a page whose 'Show more' is still enabled, marked incomplete.",
)
@_import_options
@handle_errors
def import_html_command(
    files: tuple[Path, ...],
    date: str | None,
    allow_partial: bool,
    author: str,
    data_dir: Path | None,
    config_path: Path | None,
    accept_drop: bool,
) -> None:
    """Add a snapshot from each Google Scholar profile page saved in a browser.

    Pages of every layout Scholar has served since 2011 are read, and Wayback
    Machine captures (dated by the capture).  The page must be the profile of
    --author, and complete (every publication shown) unless --allow-partial.
    Same guard and atomic writes as `run`.
    """
    from crawler.history.backfill import import_html

    scholar_id = scholar_id_argument(author)
    folder, guard, badge = _settings(config_path, data_dir)
    outcome = import_html(
        folder,
        list(files),
        scholar_id=scholar_id,
        date=date,
        guard=guard,
        badge=badge,
        accept_drop=accept_drop,
        allow_partial=allow_partial,
    )
    _summarise(outcome, len(files))
