"""``publish``: commit the data folder onto the data branch (history kept) and push it."""

from __future__ import annotations

from pathlib import Path

import click

from crawler.branch import DEFAULT_REMOTE
from crawler.branch.publish import publish
from crawler.branch.restore import restore
from crawler.commands._options import config_option, data_dir_option, handle_errors
from crawler.config import Config, read_settings
from crawler.errors import UsageError
from crawler.models import normalize_scholar_id
from crawler.net.redact import mask_url, remember_url
from crawler.storage.store import DEFAULT_BRANCH


def resolve_publish_settings(
    config_path: Path | None, data_dir: Path | None, root_author: str | None
) -> tuple[Path, str | None, Config]:
    """The data folder, the root author and the configuration: the options (or their
    environment variables), else the configuration file, else the defaults."""
    if root_author is not None:
        try:
            root_author = normalize_scholar_id(root_author)
        except ValueError as exc:
            raise UsageError(f"--root-author: {exc}") from exc
    config = read_settings(config_path)
    if root_author is None:
        root_author = config.root_author or (config.authors[0].scholar_id if config.authors else None)
    return (data_dir if data_dir is not None else config.data_dir), root_author, config


@click.command("publish")
@data_dir_option("Data folder to publish")
@click.option(
    "--branch",
    default=DEFAULT_BRANCH,
    show_default=True,
    help="The data branch; it keeps one commit per change.",
)
@click.option(
    "--remote", default=DEFAULT_REMOTE, show_default=True, help="Remote name (or URL) to push the branch to."
)
@click.option(
    "--push/--no-push",
    default=True,
    show_default=True,
    help="Push the branch after committing; --no-push only commits locally.",
)
@click.option(
    "--root-author",
    envvar="SCHOLAR_STATS_ROOT_AUTHOR",
    metavar="ID",
    help=(
        "Whose gs_data.json and gs_data_shieldsio.json also go to the branch root; "
        "env SCHOLAR_STATS_ROOT_AUTHOR (default: the config's root_author or first author, "
        "else the first author folder in sorted order)."
    ),
)
@config_option(", for its data_dir and root author")
@click.option(
    "--repo",
    type=click.Path(file_okay=False, path_type=Path),
    help=(
        "The git repository to publish from (default: the one containing the current directory); "
        "your checkout, index and branch are not touched."
    ),
)
@click.option("--message", help="Commit message (default: names the authors whose data changed).")
@click.option(
    "--purge-cdn",
    is_flag=True,
    help=(
        "After pushing, ask jsDelivr to drop its cached root files "
        "(env SCHOLAR_STATS_JSDELIVR_PURGE_URL overrides the purge address); a failure is only a warning."
    ),
)
@click.option(
    "--retries",
    type=click.IntRange(min=0, max=20),
    default=3,
    show_default=True,
    help="Times to fetch, commit on top and push again when the remote branch moved meanwhile.",
)
@click.option(
    "--allow-removals",
    is_flag=True,
    help=(
        "Publish even if the data folder lacks snapshots the branch has (they stay in the branch's history)."
    ),
)
@click.option(
    "--force-branch",
    is_flag=True,
    help=(
        "Write onto (or --restore from) an existing branch even though it does not look like a data branch "
        "(no .scholar-stats marker, files other than author folders and gs_data*.json); "
        "its files are replaced by the data."
    ),
)
@click.option(
    "--site",
    "site",
    is_flag=True,
    help=(
        "Rebuild the dashboard into <data-dir>/site first, so it is published with the data "
        "(also when the config says site = true)."
    ),
)
@click.option(
    "--site-title",
    metavar="TEXT",
    help="The dashboard's title with --site [default: the config's site_title, else Citations].",
)
@click.option(
    "--restore",
    "restore_only",
    is_flag=True,
    help=(
        "Instead of publishing, write the branch's files the data folder lacks into it "
        "(a fresh CI checkout does this before `run`)."
    ),
)
@click.pass_context
@handle_errors
def publish_command(
    ctx: click.Context,
    data_dir: Path | None,
    branch: str,
    remote: str,
    push: bool,
    root_author: str | None,
    config_path: Path | None,
    repo: Path | None,
    message: str | None,
    purge_cdn: bool,
    retries: int,
    allow_removals: bool,
    force_branch: bool,
    site: bool,
    site_title: str | None,
    restore_only: bool,
) -> None:
    """Commit the data folder onto the data branch, on top of its last commit, and push it.

    The branch's tree is the data folder's author folders (lock and temporary
    files left out; other files are named on stderr and left out) plus the
    root author's two AcadHomepage files and the .scholar-stats marker at its
    root.  A branch that is not a data branch is never written to without
    --force-branch.  Nothing is
    committed when nothing changed.  Prints the new commit's id on stdout.
    """
    quiet = bool(ctx.obj and ctx.obj.get("quiet"))
    remember_url(remote)
    folder, author, config = resolve_publish_settings(config_path, data_dir, root_author)
    if restore_only:
        written = restore(folder, repo=repo, branch=branch, remote=remote, force_branch=force_branch)
        if not quiet:
            click.echo(f"restored {len(written)} file(s) from {branch} into {folder}", err=True)
        return
    if site or config.site:
        from crawler.history.dashboard import update_site

        built = update_site(folder, title=site_title or config.site_title)
        if not quiet:
            click.echo(f"dashboard: {len(built.written)} file(s) written in {built.out}", err=True)
    result = publish(
        folder,
        repo=repo,
        branch=branch,
        remote=remote,
        push=push,
        root_author=author,
        message=message,
        purge_cdn=purge_cdn,
        retries=retries,
        allow_removals=allow_removals,
        force_branch=force_branch,
    )
    if result.commit is None and not result.pushed:
        if not quiet:
            click.echo("nothing to publish", err=True)
        return
    if result.commit is not None:
        click.echo(result.commit)
    if not quiet:
        where = f"pushed to {mask_url(remote)}" if result.pushed else "not pushed"
        click.echo(f"published {len(result.files)} file(s) on {branch}, {where}", err=True)
