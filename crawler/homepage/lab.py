"""``init --lab``: the matrix workflow of a lab or a department, from the one in ``examples/``.

The workflow is the file users may also copy by hand
(``examples/scholar-stats-lab.yml``, shipped as ``crawler/assets/``); init
fills in what the copy leaves to the user: the number of shards (``SHARDS`` and
the matrix, which must agree) and scholar-stats pinned to this release's
commit instead of ``OWNER/scholar-stats@v1``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from importlib import resources

from crawler.errors import UsageError
from crawler.shard import MAX_SHARDS

LAB_WORKFLOW = ".github/workflows/scholar-stats-lab.yml"
EXAMPLE_INSTALL = "OWNER/scholar-stats@v1"
_HEADER_END = "name: Google Scholar stats (lab)\n"
_CRON_RE = re.compile(
    r'^(    # Daily at )\d\d:\d\d( UTC: .*\n.*\n    - cron: )"41 5 \* \* \*"$', re.MULTILINE
)
_SHARDS_RE = re.compile(r'^(  SHARDS: )"\d+"$', re.MULTILINE)
_MATRIX_RE = re.compile(r"^(        shard: )\[[\d, ]+\]$", re.MULTILINE)
_INSTALL_RE = re.compile(
    r"^(        # )OWNER/scholar-stats at a commit you trust, as with any action\.\n"
    r'(        run: python -m pip install --disable-pip-version-check "scholar-stats @ git\+https://github\.com/)'
    + re.escape(EXAMPLE_INSTALL)
    + r'"$',
    re.MULTILINE,
)


def example_text() -> str:
    return resources.files("crawler").joinpath("assets", "scholar-stats-lab.yml").read_text(encoding="utf-8")


def check_shards(shards: int) -> int:
    if not 1 <= shards <= MAX_SHARDS:
        raise UsageError(
            f"--shards must be between 1 and {MAX_SHARDS} (the most jobs a GitHub matrix runs), not {shards}"
        )
    return shards


def lab_workflow_text(shards: int, action: str, docs_url: str, at: tuple[int, int] = (5, 41)) -> str:
    """The example workflow with ``shards`` shards, scholar-stats installed at ``action``
    (``OWNER/NAME@SHA # vX.Y.Z``, or ``OWNER/NAME@vX.Y.Z`` when the commit is unknown),
    run daily at ``at`` (hour, minute) UTC."""
    text = example_text()
    ref, _, version = action.partition(" # ")
    header = (
        f"# Written by `scholar-stats init --lab --shards {shards}`: every day, N shard jobs fetch the\n"
        "# authors of scholar-stats.toml (each its share, on its own runner), one job merges them\n"
        "# and publishes once to the google-scholar-stats branch.  Run init again to change N.\n"
        f"# How it works and what to do when a shard fails: {docs_url}/labs.md\n"
    )
    how = (
        f"scholar-stats {version}, pinned by its commit like an action."
        if version
        else f"scholar-stats {ref.partition('@')[2]} by its tag: run init again online to pin its commit."
    )
    hour, minute = at
    shard_list = ", ".join(str(k) for k in range(1, shards + 1))
    replacements: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
        (_CRON_RE, lambda m: f'{m[1]}{hour:02d}:{minute:02d}{m[2]}"{minute} {hour} * * *"'),
        (_SHARDS_RE, lambda m: f'{m[1]}"{shards}"'),
        (_MATRIX_RE, lambda m: f"{m[1]}[{shard_list}]"),
        (_INSTALL_RE, lambda m: f'{m[1]}{how}\n{m[2]}{ref}"' + (f" # {version}" if version else "")),
    ]
    body = text[text.index(_HEADER_END) :]
    for pattern, replacement in replacements:
        body, count = pattern.subn(replacement, body)
        if count == 0:  # pragma: no cover - the shipped example and this module change together
            raise AssertionError(f"the lab workflow template no longer has {pattern.pattern!r}")
    return header + body


def lab_config_text(scholar_id: str | None, chain: Sequence[str], docs_url: str) -> str:
    lines = [
        "# scholar-stats settings for the lab, read by .github/workflows/scholar-stats-lab.yml.",
        f"# Every key: {docs_url}/run.md#configuration-file; shards, one proxy per shard: {docs_url}/labs.md",
        f"sources = [{', '.join(json.dumps(name) for name in chain)}]",
        "",
        "# One [[authors]] entry per member, by Google Scholar ID:",
    ]
    if scholar_id:
        lines += ["[[authors]]", f'id = "{scholar_id}"']
    else:
        lines += ["# [[authors]]", '# id = "XXXXXXXXXXXX"']
    return "\n".join(lines) + "\n"
