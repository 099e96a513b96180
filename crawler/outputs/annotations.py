"""GitHub Actions annotations for a run: what the action's Fetch step prints after ``scholar-stats run``.

A blocked or failed author becomes one ``::warning`` or ``::error`` line with
its one-line reason, so the job's page says what happened without opening the
log.  Which one is the action's policy: Google Scholar blocking the runner is a
warning until the block is ``fail-after-stale-days`` old (the last good numbers
are published, marked stale), an error after; any other failure is an error.

Every message goes through ``redact`` (a proxy's password or an API key a
server echoed back never reaches the job page) and GitHub's workflow-command
escaping (``%``, CR and LF in the message; also ``:`` and ``,`` in a title), so
a reason cannot end the annotation early or start a command of its own.
The advice the command line gives (``--proxy URL``) is worded for the action
(its ``proxy:`` input).

    python -m crawler.outputs.annotations --summary FILE --stderr FILE --exit-code N --fail-after DAYS

prints the annotations and, for a blocked run (exit code 3), appends
``blocked-too-long``, ``stale-days``, ``stale-since``, ``scholar-as-of`` and
``fail-annotation`` (the ``::error`` line the Fail step prints) to
``$GITHUB_OUTPUT``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crawler.errors import ExitCode
from crawler.net.redact import redacted_text
from crawler.outputs.advice import first_day_advice, for_the_action

_MAX_MESSAGE = 1000
_ERROR_LINE = re.compile(r"^error: (.+)$")


def escape_data(text: str) -> str:
    """A workflow command's message: ``%``, CR and LF escaped (GitHub's toolkit does the same)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A workflow command's property (``title=``): also ``:`` and ``,``, which end it."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(level: str, title: str, message: str) -> str:
    """One ``::warning``/``::error``/``::notice`` line, redacted, reworded and escaped."""
    if level not in ("error", "warning", "notice"):
        raise ValueError(f"not an annotation level: {level!r}")
    text = for_the_action(redacted_text(message))
    if len(text) > _MAX_MESSAGE:
        text = text[: _MAX_MESSAGE - 1] + "…"
    return f"::{level} title={escape_property(redacted_text(title))}::{escape_data(text)}"


@dataclass
class Verdict:
    """What the Fetch step prints, and (for a blocked run) its outputs."""

    lines: list[str] = field(default_factory=list)
    outputs: dict[str, str] = field(default_factory=dict)


def last_error_line(stderr: str) -> str | None:
    """The ``error: ...`` line a command ends with on a failure that left no summary."""
    found = [m.group(1) for m in map(_ERROR_LINE.match, stderr.splitlines()) if m]
    return found[-1] if found else None


def verdict(
    authors: Sequence[Mapping[str, Any]], exit_code: int, fail_after: float, stderr: str = ""
) -> Verdict:
    """The annotations and outputs for a run that ended with ``exit_code``."""
    result = Verdict()
    if exit_code in (ExitCode.OK, ExitCode.FALLBACK_USED):
        result.outputs = {
            "blocked-too-long": "false",
            "stale-days": "",
            "stale-since": "",
            "scholar-as-of": "",
            "fail-annotation": "",
        }
        return result
    failed = [a for a in authors if a.get("exit_code") not in (None, ExitCode.OK, ExitCode.FALLBACK_USED)]
    nothing_yet: list[str] = []
    if exit_code == ExitCode.BLOCKED:
        blocked = [a for a in failed if a.get("exit_code") == ExitCode.BLOCKED]
        kept = [a for a in blocked if a.get("status") in ("kept", "estimated")]
        # Blocked before anything was ever fetched: no numbers kept, nothing published.
        nothing_yet = [str(a.get("scholar_id") or "an author") for a in blocked if a not in kept]
        days = max((float(a.get("stale_days") or 0) for a in kept), default=0.0)
        since = min((str(a.get("stale_since") or "") for a in kept), default="") or "this run"
        as_of = min((str(a.get("scholar_as_of") or "") for a in kept), default="")[:10] or "none"
        # Nothing kept (a first run, or a broken summary): there is nothing to wait for.
        too_long = not blocked or bool(nothing_yet) or days >= fail_after
        result.outputs = {
            "blocked-too-long": "true" if too_long else "false",
            "stale-days": f"{days:g}",
            "stale-since": _one_line(since),
            "scholar-as-of": _one_line(as_of),
            "fail-annotation": _fail_annotation(nothing_yet, blocked, days, since, as_of, fail_after)
            if too_long
            else "",
        }
        if not too_long:
            shown = ", ".join(sorted({str(a.get("shown") or "nothing") for a in blocked})) or "nothing"
            result.lines.append(
                annotation(
                    "warning",
                    "Google Scholar blocked this runner",
                    f"Blocked since {since} ({days:g} of {fail_after:g} days allowed); the homepage keeps "
                    f"Google Scholar's numbers of {as_of} ({shown}).",
                )
            )
        level_of_blocked = "error" if too_long else "warning"
    else:
        level_of_blocked = "error"
    for author in failed:
        level = level_of_blocked if author.get("exit_code") == ExitCode.BLOCKED else "error"
        reason = str(author.get("reason") or f"failed with exit code {author.get('exit_code')}")
        title = f"scholar-stats: {author.get('scholar_id') or 'an author'}"
        if str(author.get("scholar_id") or "an author") in nothing_yet:
            title += ": nothing fetched yet"
        result.lines.append(annotation(level, title, reason))
    if not failed:
        reason = (
            last_error_line(stderr)
            or f"scholar-stats run failed with exit code {exit_code}; see this step's log"
        )
        result.lines.append(annotation("error", "scholar-stats run failed", reason))
    return result


def _fail_annotation(
    nothing_yet: Sequence[str],
    blocked: Sequence[Mapping[str, Any]],
    days: float,
    since: str,
    as_of: str,
    fail_after: float,
) -> str:
    """The ``::error`` the action's Fail step prints when a block fails the job."""
    if not blocked:
        return annotation(
            "error",
            "Google Scholar blocked this runner",
            "The run exited with code 3 (blocked), but its summary could not be read, so whether any "
            "numbers were kept is not known; this job fails. See the log of the Fetch step.",
        )
    if nothing_yet:
        who = ", ".join(nothing_yet)
        return annotation(
            "error",
            "Google Scholar blocked this runner before any numbers were fetched",
            f"Nothing has been fetched yet for {who}: there are no numbers to keep, nothing was published "
            f"for them, and this job fails until a run gets numbers. To get past the block, "
            f"{first_day_advice(action=True)}.",
        )
    return annotation(
        "error",
        f"Google Scholar has blocked this runner for {days:g} days",
        f"Blocked since {since} (fail-after-stale-days is {fail_after:g}); the homepage shows Google "
        f"Scholar's numbers of {as_of}, and this job fails until a run gets new ones. Try: a fallback "
        "source (source: scholar,openalex with openalex-id: and on-block: bridge), a proxy (the proxy: "
        "input), a self-hosted runner at home, or scholar-stats bookmarklet then import-html. "
        "See docs/github-actions.md.",
    )


def _one_line(text: str) -> str:
    # A value of $GITHUB_OUTPUT's key=value form ends at the line's end.
    return text.replace("\r", " ").replace("\n", " ")


def _read_authors(path: Path) -> list[Mapping[str, Any]]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    authors = doc.get("authors") if isinstance(doc, dict) else None
    return [a for a in authors if isinstance(a, dict)] if isinstance(authors, list) else []


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m crawler.outputs.annotations", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--summary", type=Path, required=True)
    parser.add_argument("--stderr", type=Path)
    parser.add_argument("--exit-code", type=int, required=True)
    parser.add_argument("--fail-after", type=float, required=True)
    args = parser.parse_args(argv)
    stderr = ""
    if args.stderr is not None:
        with contextlib.suppress(OSError):
            stderr = args.stderr.read_text(encoding="utf-8", errors="replace")
    result = verdict(_read_authors(args.summary), args.exit_code, args.fail_after, stderr)
    for line in result.lines:
        print(line)
    target = os.environ.get("GITHUB_OUTPUT")
    if target and result.outputs:
        with open(target, "a", encoding="utf-8") as out:
            out.writelines(f"{key}={value}\n" for key, value in result.outputs.items())
    return 0


if __name__ == "__main__":
    sys.exit(main())
