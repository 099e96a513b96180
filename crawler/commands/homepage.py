"""``init`` and ``doctor``: set a homepage repository up, and say why its numbers do not show."""

from __future__ import annotations

from pathlib import Path

import click

from crawler.commands._options import handle_errors
from crawler.homepage import init as setup
from crawler.homepage.site import TEMPLATES

DOCS = "https://github.com/scholar-stats/scholar-stats/blob/main/docs/github-actions.md"


@click.command()
@click.option("--repo", "root", type=click.Path(path_type=Path), default=".", show_default=True, help="The homepage repository's folder.")
@click.option("--scholar-id", metavar="ID", help="The author's Google Scholar ID or profile URL (default: what the site names, e.g. al-folio's scholar_userid; else the GOOGLE_SCHOLAR_ID secret).")
@click.option("--template", type=click.Choice(["auto", *TEMPLATES]), default="auto", show_default=True, help="The site's template; auto tells it from the site's files.")
@click.option("--source", "chain", metavar="CHAIN", help="Source chain for scholar-stats.toml, comma-separated, e.g. scholar,openalex (default: scholar).")
@click.option("--dry-run", is_flag=True, help="Print a unified diff of every change and change nothing.")
@handle_errors
def init(root: Path, scholar_id: str | None, template: str, chain: str | None, dry_run: bool) -> None:
    """Set a homepage repository up: the daily workflow, its settings and the page script.

    Writes .github/workflows/scholar-stats.yml, scholar-stats.toml and the snippet
    where the template loads its scripts; removes the citation workflow it replaces.
    Never commits, and refuses (exit 2) to touch a file with uncommitted edits.
    Then prints the few steps only you can do. See
    https://github.com/scholar-stats/scholar-stats/blob/main/docs/homepage.md
    """
    plan = setup.plan_init(root, template=template, scholar_id=scholar_id, chain=chain)
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

