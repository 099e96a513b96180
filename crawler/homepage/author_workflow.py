"""What ``init`` writes to run scholar-stats every day: the one author's workflow, the settings
file it reads (``scholar-stats.toml``), and the Action pinned by commit, which the lab's
workflow (``lab``) pins the same way.

The workflow runs once a day at an hour and an odd minute drawn from the repository's name
(``schedule_for``), away from GitHub's busy top of the hour.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import zlib
from collections.abc import Sequence

from crawler import __version__
from crawler.homepage.repository import Site

ACTION_REPO = "scholar-stats/scholar-stats"
WORKFLOW = ".github/workflows/scholar-stats.yml"
CONFIG = "scholar-stats.toml"
SECRET = "GOOGLE_SCHOLAR_ID"
IMPORT_GIT_LINE = "          import-git: true"
DOCS_URL = f"https://github.com/{ACTION_REPO}/blob/main/docs"
CHECKOUT = "actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1"
# Sources that look the author up by another ID than the Scholar one.
OTHER_ID = {"openalex": "openalex", "semantic-scholar": "semantic_scholar"}

ACTION_REMOTE_ENV = "SCHOLAR_STATS_ACTION_REMOTE"
# The Action's ``uses:`` line, or the lab workflow's ``pip install "...@SHA" # vX.Y.Z``.
_PINNED_LINE_RE = re.compile(
    rf"{re.escape(ACTION_REPO)}@(?P<sha>[0-9a-f]{{40}})\"?\s+#\s*v(?P<version>[\w.+-]+)\s*$", re.MULTILINE
)


def action_ref(existing: str | None = None) -> tuple[str, str | None]:
    """The Action pinned to this release by commit (``OWNER/NAME@SHA # vX.Y.Z``), and a warning.

    The commit is asked of GitHub (``git ls-remote``) once; a workflow that
    already pins this release keeps its SHA, so a second run needs no network.
    Offline, the release tag is used, and the warning says so.
    """
    tag = f"v{__version__}"
    if existing:
        match = _PINNED_LINE_RE.search(existing)
        if match and match.group("version") == __version__:
            return f"{ACTION_REPO}@{match.group('sha')} # {tag}", None
    remote = os.environ.get(ACTION_REMOTE_ENV) or f"https://github.com/{ACTION_REPO}.git"
    try:
        proc = subprocess.run(
            ["git", "ls-remote", "--tags", remote, f"refs/tags/{tag}", f"refs/tags/{tag}^{{}}"],
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
            env={**os.environ, "GIT_TERMINAL_PROMPT": "0"},
        )
        listed = proc.stdout.splitlines()
    except (OSError, subprocess.TimeoutExpired):
        listed = []
    refs = {}
    for line in listed:
        object_id, _, ref = line.partition("\t")
        refs[ref.strip()] = object_id.strip()
    # An annotated tag's own object is not a commit: prefer the peeled ^{} line.
    commit = refs.get(f"refs/tags/{tag}^{{}}") or refs.get(f"refs/tags/{tag}")
    if commit and re.fullmatch(r"[0-9a-f]{40}", commit):
        return f"{ACTION_REPO}@{commit} # {tag}", None
    return f"{ACTION_REPO}@{tag}", (
        f"could not look up the commit of {ACTION_REPO} {tag}; the workflow uses the tag "
        "(run init again when online to pin the commit)"
    )


def schedule_for(key: str) -> tuple[int, int]:
    """A daily (hour, minute) spread by ``key``: an odd minute, away from GitHub's busy top of the hour."""
    spread = zlib.crc32(key.encode("utf-8"))
    return (spread // 30) % 24, 1 + 2 * (spread % 30)


def workflow_text(site: Site, *, al_folio: bool, action: str, import_git: bool = False) -> str:
    hour, minute = schedule_for(site.repo or site.root.name)
    lines = [
        "# Written by `scholar-stats init`: every day, fetch the Google Scholar numbers,",
        "# guard them, keep them and publish them to the google-scholar-stats branch",
        "# (history kept; a blocked or implausible day publishes nothing).",
        f"# Inputs and what to do when a run fails: {DOCS_URL}/github-actions.md",
        "name: Google Scholar stats",
        "",
        "on:",
        "  schedule:",
        "    # Once a day at an odd minute: GitHub delays or drops runs at the top of the hour.",
        f'    - cron: "{minute} {hour} * * *"',
        "  workflow_dispatch:",
        "    inputs:",
        "      accept-drop:",
        "        # Tick it for the one run that takes numbers the guard refused; the schedule never does.",
        "        description: Accept a drop the guard refused (papers merged or removed on Scholar)",
        "        type: boolean",
        "        default: false",
        "",
        "permissions: {}",
        "",
        "concurrency:",
        "  group: scholar-stats",
        "  # A publish in progress is never cut; the next run waits its turn.",
        "  cancel-in-progress: false",
        "",
        "jobs:",
        "  update:",
        "    name: Fetch and publish",
        "    runs-on: ubuntu-latest",
        "    timeout-minutes: 20",
        "    permissions:",
        "      contents: write # to push the data branch" + (" and _data/citations.yml" if al_folio else ""),
        "    steps:",
        f"      - name: Check out (for {CONFIG})",
        f"        uses: {CHECKOUT}",
        "        with:",
        "          persist-credentials: false",
        "",
        "      - name: Fetch, guard and publish the numbers",
        f"        uses: {action}",
        "        with:",
        f"          scholar-id: ${{{{ secrets.{SECRET} }}}}",
        f"          config: {CONFIG}",
        "          accept-drop: ${{ inputs.accept-drop || false }}",
    ]
    if al_folio:
        lines.append("          al-folio-citations: true")
    if import_git:
        lines += [
            "          # The first run turns the old data branch's gs_data.json history into snapshots.",
            IMPORT_GIT_LINE,
        ]
    return "\n".join(lines) + "\n"


def config_text(site: Site, chain: Sequence[str]) -> str:
    lines = [
        "# scholar-stats settings for this site, read by .github/workflows/scholar-stats.yml.",
        f"# Every key: {DOCS_URL}/run.md#configuration-file",
        f"sources = [{', '.join(json.dumps(name) for name in chain)}]",
    ]
    if site.scholar_id:
        lines += ["", "[[authors]]", f'id = "{site.scholar_id}"']
        for name in chain:
            if name in OTHER_ID:
                lines.append(f'# {OTHER_ID[name]} = "..."   # the author\'s {name} ID, needed by that source')
    else:
        lines += ["", f"# The author's Scholar ID comes from the {SECRET} secret."]
    return "\n".join(lines) + "\n"
