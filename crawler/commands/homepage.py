"""``init`` and ``doctor``: set a homepage repository up, and say why its numbers do not show."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from crawler.commands._options import handle_errors
from crawler.errors import UsageError
from crawler.homepage import init as setup
from crawler.homepage.doctor import diagnose
from crawler.homepage.repository import TEMPLATES
from crawler.outputs.embed import check_branch


@click.command()
@click.option(
    "--repo",
    "root",
    type=click.Path(path_type=Path),
    default=".",
    show_default=True,
    help="The homepage repository's folder.",
)
@click.option(
    "--scholar-id",
    metavar="ID",
    help=(
        "The author's Google Scholar ID or profile URL (default: what the site names, "
        "e.g. al-folio's scholar_userid; else the GOOGLE_SCHOLAR_ID secret)."
    ),
)
@click.option(
    "--template",
    type=click.Choice(["auto", *TEMPLATES]),
    default="auto",
    show_default=True,
    help="The site's template; auto tells it from the site's files.",
)
@click.option(
    "--source",
    "chain",
    metavar="CHAIN",
    help="Source chain for scholar-stats.toml, comma-separated, e.g. scholar,openalex (default: scholar).",
)
@click.option(
    "--import-git",
    "import_git",
    is_flag=True,
    help=(
        "Have the workflow's first run import the history of the old data branch's gs_data.json "
        "(AcadHomepage's google-scholar-stats branch) as snapshots, before it fetches "
        "(the action's import-git input)."
    ),
)
@click.option(
    "--lab",
    is_flag=True,
    help=(
        "A lab or a department: write the matrix workflow that fetches scholar-stats.toml's authors in "
        "shards and publishes once, instead of one author's workflow and page script."
    ),
)
@click.option(
    "--shards",
    type=int,
    metavar="N",
    help="With --lab: the number of shard jobs (1-256; default 10, about one per 25-50 authors).",
)
@click.option("--dry-run", is_flag=True, help="Print a unified diff of every change and change nothing.")
@handle_errors
def init(
    root: Path,
    scholar_id: str | None,
    template: str,
    chain: str | None,
    import_git: bool,
    lab: bool,
    shards: int | None,
    dry_run: bool,
) -> None:
    """Set a homepage repository up: the daily workflow, its settings and the page script.

    Writes .github/workflows/scholar-stats.yml, scholar-stats.toml and the snippet
    where the template loads its scripts; removes the citation workflow it replaces.
    Never commits, and refuses (exit 2) to touch a file with uncommitted edits.
    Then prints the few steps only you can do. See
    https://github.com/scholar-stats/scholar-stats/blob/main/docs/github-actions.md#set-a-site-up-in-one-command-scholar-stats-init

    With --lab: .github/workflows/scholar-stats-lab.yml (N shard jobs, one merge
    and publish), scholar-stats.toml if there is none, and one author's workflow
    removed. See https://github.com/scholar-stats/scholar-stats/blob/main/docs/labs.md
    """
    if shards is not None and not lab:
        raise UsageError("--shards is for --lab (the lab's matrix workflow)")
    if import_git and lab:
        raise UsageError("--import-git is for one author's workflow, not --lab")
    plan = setup.plan_init(
        root,
        template=template,
        scholar_id=scholar_id,
        chain=chain,
        import_git=import_git,
        lab_shards=(10 if shards is None else shards) if lab else None,
    )
    for warning in plan.warnings:
        click.echo(f"warning: {warning}", err=True)
    if dry_run:
        click.echo(setup.render_diff(plan), nl=False)
        return
    setup.apply(plan)
    if not plan.changes:
        click.echo(f"{plan.site.root}: already set up ({plan.site.template}); nothing changed.", err=True)
    for number, step in enumerate(plan.todo, 1):
        click.echo(f"{number}. {step}")


@click.command()
@click.option(
    "--repo",
    "root",
    type=click.Path(path_type=Path),
    default=".",
    show_default=True,
    help="The homepage repository's folder.",
)
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path),
    envvar="SCHOLAR_STATS_DATA_DIR",
    help="Check this data folder instead of the data branch (env SCHOLAR_STATS_DATA_DIR).",
)
@click.option(
    "--branch",
    help=(
        "The data branch to check (default: the workflow's, else google-scholar-stats); local, "
        "else remote-tracking."
    ),
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text: one line per finding; json: findings and facts for scripts.",
)
@handle_errors
def doctor(root: Path, data_dir: Path | None, branch: str | None, fmt: str) -> None:
    """Say why a homepage's numbers do not show: one line per finding, with what to do.

    Checks the workflow, the data branch (or --data-dir), the paper IDs in the
    site's pages and BibTeX, and the page script. Exit 0 when all is well,
    1 with findings. See
    https://github.com/scholar-stats/scholar-stats/blob/main/docs/github-actions.md#why-are-my-numbers-not-showing-scholar-stats-doctor
    """
    if data_dir is not None and branch is not None:
        raise UsageError("give --data-dir or --branch, not both")
    if not root.is_dir():
        raise UsageError(f"--repo: {root} is not a folder")
    if data_dir is not None and not data_dir.is_dir():
        raise UsageError(f"--data-dir: {data_dir} is not a folder")
    if branch is not None:
        check_branch(branch)
    report = diagnose(root, data_dir=data_dir, branch=branch)
    if fmt == "json":
        click.echo(report.to_json(), nl=False)
    else:
        for line in report.lines():
            click.echo(line)
        if not report.findings:
            click.echo(f"{root}: all well ({report.facts.get('template')}).", err=True)
    sys.exit(1 if report.findings else 0)
