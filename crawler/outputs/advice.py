"""Which interface the user is in, so advice names what they can change there.

On the command line, advice names options (``--proxy URL``, ``--accept-drop``);
inside the GitHub Action, which sets ``SCHOLAR_STATS_INTERFACE=action`` on the
step that runs the tool, the same advice names the action's inputs
(``proxy:``, ``accept-drop: true``): a user of the action has no command line
to pass a flag on.  Messages are written once, in the command line's words,
and reworded here at the edge where they are shown.
"""

from __future__ import annotations

import os
import re

INTERFACE_ENV = "SCHOLAR_STATS_INTERFACE"
ACTION = "action"

# The command line's advice, and what the action calls the same thing; the longer forms first.
_FOR_THE_ACTION = (
    (re.compile(r"\(--proxy URL or HTTPS_PROXY\)"), "(the action's proxy: input, from a secret)"),
    (re.compile(r"--proxy(?: URL)?\b"), "the action's proxy: input"),
    (
        re.compile(r"use --accept-drop if this is real"),
        "if this is real, run the workflow once with the action's input accept-drop: true",
    ),
    (re.compile(r"--accept-drop\b"), "the action's input accept-drop: true"),
    (re.compile(r"--source\b"), "the action's source: input"),
    (re.compile(r"--on-block\b"), "the action's on-block: input"),
    (re.compile(r"--author\b"), "the action's scholar-id: input"),
)


def in_the_action() -> bool:
    """True when the GitHub Action runs the tool (its Fetch step sets the variable)."""
    return os.environ.get(INTERFACE_ENV, "").strip().lower() == ACTION


def for_the_action(text: str) -> str:
    """``text`` with the command line's options named as the action's inputs."""
    for pattern, replacement in _FOR_THE_ACTION:
        text = pattern.sub(replacement, text)
    return text


def for_the_user(text: str) -> str:
    """``text`` worded for the interface the user is in."""
    return for_the_action(text) if in_the_action() else text


# A blocked first run: nothing kept, nothing to show.  What to try, easiest first, in each interface.
_FIRST_DAY_CLI = (
    "try a proxy (--proxy URL or HTTPS_PROXY); another source for the days Google Scholar blocks "
    '(--source scholar --source openalex, with the author\'s openalex = "A..." in the config); '
    "another network, such as your own machine (scholar-stats schedule); your own browser "
    "(scholar-stats bookmarklet, then scholar-stats import-html PAGE --author ID); or, for an "
    "AcadHomepage site, the history on its old google-scholar-stats branch (scholar-stats import-git)"
)
_FIRST_DAY_ACTION = (
    "try the proxy: input (from a secret); source: scholar,openalex with openalex-id: (the author's "
    "OpenAlex ID or ORCID); a self-hosted runner (runs-on: self-hosted) on a network Google Scholar "
    "trusts; import-git: true on an AcadHomepage site whose google-scholar-stats branch holds its old "
    "numbers; or the bookmarklet (scholar-stats bookmarklet) in your own browser, then "
    "scholar-stats import-html and scholar-stats publish from your machine (docs/github-actions.md)"
)


def first_day_advice(action: bool | None = None) -> str:
    """What to try when Google Scholar blocks an author with no numbers yet; ``action`` defaults to
    where the tool runs.
    """
    return _FIRST_DAY_ACTION if (in_the_action() if action is None else action) else _FIRST_DAY_CLI
