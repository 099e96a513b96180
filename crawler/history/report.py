"""What changed between two snapshots, in Markdown, for a person or a CI job's summary page.

For each author the report compares the latest readable snapshot with an
earlier one: by default the one before it; with ``last=N`` the Nth before it;
with ``since=DATE`` the last one taken before ``DATE``.  It shows totals,
h-index and i10-index with their change, the publications that gained the
most citations, publications that appeared or vanished, any change of source
in between (numbers from two sources are not one series), and whether the
author is stale (``<id>/state.json``: the last fetch failed, so the numbers
are older than the last run).

``append_step_summary`` is what ``run`` calls on GitHub Actions; it never
raises, because a summary page must not fail a run whose data is safe.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from crawler.errors import ExitCode, UsageError
from crawler.history.periods import parse_date
from crawler.history.snapshots import SNAPSHOTS, HeaderReader, read_record_or_none
from crawler.models import AuthorRecord, Publication, format_time, normalize_scholar_id
from crawler.net.redact import redacted_text
from crawler.outputs.advice import first_day_advice, for_the_user
from crawler.outputs.group_numbers import group_dict, read_members
from crawler.sources import source_label
from crawler.storage.stale import STATE_FILE, last_attempt, read_state
from crawler.storage.store import BadSnapshot, SnapshotRef, snapshot_refs

log = logging.getLogger(__name__)

STEP_SUMMARY_ENV = "GITHUB_STEP_SUMMARY"
TOP_GAINED = 10
MAX_LISTED = 20
_MD_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*_[]<>|#"})


def _md(text: str) -> str:
    """Text safe inside a Markdown table cell or list item."""
    return " ".join(text.split()).translate(_MD_SPECIAL)


def _code(text: str) -> str:
    """``text`` as inline code when it can be one (a folder name read from disk may hold a backtick)."""
    return f"`{text}`" if text and "`" not in text and text == " ".join(text.split()) else _md(text)


def _num(value: int | None) -> str:
    return "–" if value is None else str(value)


def _delta(old: int | None, new: int | None) -> str:
    if old is None or new is None:
        return "–"
    change = new - old
    return f"+{change}" if change > 0 else str(change)


@dataclass(frozen=True)
class Comparison:
    """The two snapshots a report compares, and why these."""

    new: tuple[SnapshotRef, AuthorRecord] | None
    old: tuple[SnapshotRef, AuthorRecord] | None
    note: str | None = None


def _readable(
    refs: Sequence[SnapshotRef], bad: list[BadSnapshot] | None
) -> tuple[SnapshotRef, AuthorRecord] | None:
    """The newest snapshot of ``refs`` that reads."""
    for ref in reversed(refs):
        record = read_record_or_none(ref, bad=bad)
        if record is not None:
            return ref, record
    return None


def _oldest_readable(
    refs: Sequence[SnapshotRef], bad: list[BadSnapshot] | None
) -> tuple[SnapshotRef, AuthorRecord] | None:
    for ref in refs:
        record = read_record_or_none(ref, bad=bad)
        if record is not None:
            return ref, record
    return None


def choose(
    refs: Sequence[SnapshotRef],
    *,
    since: datetime | None = None,
    last: int | None = None,
    bad: list[BadSnapshot] | None = None,
) -> Comparison:
    """Pick the snapshots to compare (see the module docstring)."""
    new = _readable(refs, bad)
    if new is None:
        return Comparison(None, None)
    index = refs.index(new[0])
    earlier = list(refs[:index])
    if not earlier:
        return Comparison(new, None, "only one snapshot so far")
    if since is not None:
        before = [r for r in earlier if r.time < since]
        if not before:
            old = _oldest_readable(earlier, bad)
            return Comparison(new, old, f"no snapshot before {format_time(since)}; compared with the oldest")
        return Comparison(new, _readable(before, bad))
    steps = last or 1
    if steps > len(earlier):
        old = _oldest_readable(earlier, bad)
        return Comparison(
            new,
            old,
            (
                f"only {len(earlier)} earlier snapshot{'s' if len(earlier) != 1 else ''}; "
                "compared with the oldest"
            ),
        )
    return Comparison(new, _readable(earlier[: len(earlier) - steps + 1], bad))


def _year(since_year: int | None) -> str:
    """The year of Scholar's "since" column; history imported from AcadHomepage's gs_data.json has
    the column's numbers but not its year.
    """
    return str(since_year) if since_year is not None else "(year not recorded)"


def _metric_rows(old: AuthorRecord | None, new: AuthorRecord) -> list[str]:
    """The totals table; a change is only given between numbers of the same source and the same
    'since' year.
    """
    rows = ["| | before | now | change |", "|---|---:|---:|---:|"]
    n, o = new.metrics, old.metrics if old else None
    same_source = old is None or old.source == new.source
    since_same = o is not None and o.since_year == n.since_year and same_source
    since_label = (
        f"since {_year(n.since_year)}"
        if since_same or o is None
        else f"since {_year(o.since_year)} → {_year(n.since_year)}"
    )

    def row(label: str, before: int | None, now: int | None, comparable: bool = True) -> None:
        change = _delta(before, now) if comparable else "n/a"
        rows.append(f"| {label} | {_num(before)} | {_num(now)} | {change} |")

    for key, label in (("citations", "citations"), ("h_index", "h-index"), ("i10_index", "i10-index")):
        row(label, getattr(o, key) if o else None, getattr(n, key), same_source)
        if getattr(n, f"{key}_since") is not None or (
            o is not None and getattr(o, f"{key}_since") is not None
        ):
            row(
                f"{label} {since_label}",
                getattr(o, f"{key}_since") if o else None,
                getattr(n, f"{key}_since"),
                since_same,
            )
    row("publications", len(old.publications) if old else None, len(new.publications), same_source)
    return rows


def _title(pub: Publication) -> str:
    return _md(pub.title) + (f" ({pub.year})" if pub.year is not None else "")


def _publication_changes(old: AuthorRecord, new: AuthorRecord) -> list[str]:
    lines: list[str] = []
    before = {p.author_pub_id: p for p in old.publications}
    now_ids = {p.author_pub_id for p in new.publications}
    gains = []
    for index, pub in enumerate(new.publications):
        prev = before.get(pub.author_pub_id)
        if prev is None or prev.citations is None or pub.citations is None:
            continue
        if pub.citations > prev.citations:
            gains.append((-(pub.citations - prev.citations), index, pub, prev))
    if gains:
        gains.sort(key=lambda g: (g[0], g[1]))
        lines += [
            "",
            "**Gained the most citations**",
            "",
            "| publication | before | now | gained |",
            "|---|---:|---:|---:|",
        ]
        for _, _, pub, prev in gains[:TOP_GAINED]:
            lines.append(
                f"| {_title(pub)} | {_num(prev.citations)} | {_num(pub.citations)} | "
                f"{_delta(prev.citations, pub.citations)} |"
            )
        if len(gains) > TOP_GAINED:
            lines.append(f"\n{len(gains) - TOP_GAINED} more publications gained citations.")
    added = [p for p in new.publications if p.author_pub_id not in before]
    gone = [p for p in old.publications if p.author_pub_id not in now_ids]
    for heading, pubs, verb in (
        ("New publications", added, "citations"),
        ("Vanished publications", gone, "citations when last seen"),
    ):
        if not pubs:
            continue
        lines += ["", f"**{heading} ({len(pubs)})**", ""]
        lines += [f"- {_title(p)}: {_num(p.citations)} {verb}" for p in pubs[:MAX_LISTED]]
        if len(pubs) > MAX_LISTED:
            lines.append(f"- … and {len(pubs) - MAX_LISTED} more")
    if not gains and not added and not gone:
        lines += ["", "No publication changed."]
    return lines


def _source_switches(data_dir: Path, scholar_id: str, refs: Sequence[SnapshotRef]) -> list[str]:
    """Every change of source among ``refs`` (headers only), in words."""
    switches = []
    previous: str | None = None
    reader = HeaderReader(scholar_id, count=False)
    for ref in refs:
        header = reader.read(ref)
        if header is None:
            continue
        if previous is not None and header.source != previous:
            switches.append(
                f"source changed from {_md(source_label(previous))} to {_md(source_label(header.source))} "
                f"on {_md(header.date_text)}: numbers are not compared across sources"
            )
        previous = header.source
    return switches


def stale_note(data_dir: Path, scholar_id: str, *, has_numbers: bool = True) -> str | None:
    """A sentence saying the last fetch failed and why, when ``<id>/state.json`` is there; with
    nothing stored yet (``has_numbers`` false), it says so and what to try.
    """
    try:
        state = read_state(data_dir, scholar_id)
    except ValueError:
        return f"**Stale**: `{STATE_FILE}` says the last fetch failed, but it cannot be read."
    if state is None:
        return None
    # Every field is the file's word, not ours: a hand-edited or hostile
    # state.json must not put Markdown or HTML into a step summary, and one
    # written by an older version may still hold a password in its reason.
    since = state.get("stale_since")
    when = redacted_text(last_attempt(data_dir, scholar_id, state) or since or "an unknown time")
    reason = redacted_text(state.get("reason") or state.get("error") or "no reason recorded")
    # The advice inside a reason names the flags of the command line, or the action's inputs.
    reason = _md(for_the_user(reason))
    if not has_numbers:
        blocked = state.get("exit_code") == ExitCode.BLOCKED
        text = f"**Nothing fetched yet**: the last fetch failed ({_md(when)}): {reason}."
        return text + (f" There are no numbers to show; {_md(first_day_advice())}." if blocked else "")
    text = f"**Stale**: the last fetch failed ({_md(when)}): {reason}."
    if since and str(since) != when:
        text += f" Stale since {_md(redacted_text(since))}."
    return text + " The numbers below are the last good ones."


def author_report(
    data_dir: Path,
    scholar_id: str,
    *,
    since: datetime | None = None,
    last: int | None = None,
    level: int = 2,
    bad: list[BadSnapshot] | None = None,
) -> str:
    """The Markdown section for one author."""
    refs = snapshot_refs(data_dir, scholar_id, bad)
    comparison = choose(refs, since=since, last=last, bad=bad)
    hashes = "#" * level
    stale = stale_note(data_dir, scholar_id, has_numbers=comparison.new is not None)
    if comparison.new is None:
        lines = [f"{hashes} {_code(scholar_id)}", "", "> " + stale if stale else "No snapshots yet."]
        return "\n".join(lines) + "\n"
    new_ref, new = comparison.new
    lines = [f"{hashes} {_md(new.profile.name)} ({_code(scholar_id)})", ""]
    if stale:
        lines += ["> " + stale, ""]
    old_ref, old = comparison.old if comparison.old else (None, None)
    when_new = format_time(new.fetched_at or new_ref.time)
    if old is None or old_ref is None:
        lines.append(f"One snapshot, {when_new} ({_md(source_label(new.source))}).")
    else:
        when_old = format_time(old.fetched_at or old_ref.time)
        lines.append(f"Changes from {when_old} to {when_new} ({_md(source_label(new.source))}).")
    if comparison.note and old is not None:
        lines.append(f"({_md(comparison.note)}.)")
    if old is not None and old_ref is not None:
        start = refs.index(old_ref)
        switches = _source_switches(data_dir, scholar_id, refs[start : refs.index(new_ref) + 1])
        if switches:
            lines += ["", *(f"- **Source**: {s}." for s in switches)]
    lines += ["", *_metric_rows(old, new)]
    if old is not None:
        lines += _publication_changes(old, new)
    if not new.complete:
        lines += ["", "The latest snapshot is incomplete: not every publication was read."]
    return "\n".join(lines) + "\n"


def _ids(authors: Sequence[str] | None, data_dir: Path) -> list[str]:
    if not authors:
        folder = Path(data_dir)
        if not folder.is_dir():
            return []
        return sorted(
            p.name for p in folder.iterdir() if not p.name.startswith(".") and (p / SNAPSHOTS).is_dir()
        )
    seen: list[str] = []
    for raw in authors:
        try:
            scholar_id = normalize_scholar_id(raw)
        except ValueError:
            scholar_id = raw
        if scholar_id not in seen:
            seen.append(scholar_id)
    return seen


def markdown_report(
    data_dir: Path,
    authors: Sequence[str] | None = None,
    since: str | datetime | date | None = None,
    last: int | None = None,
) -> str:
    """The report for ``authors`` (default: every author in ``data_dir``), in Markdown.

    ``since`` and ``last`` are exclusive (see the module docstring); an author
    without snapshots gets a line saying so, not an error.
    """
    when = parse_date(since, option="--since") if since is not None else None
    if when is not None and last is not None:
        raise UsageError("--since and --last cannot be used together")
    if last is not None and last < 1:
        raise UsageError(f"--last must be 1 or more, not {last}")
    ids = _ids(authors, Path(data_dir))
    sections = [author_report(Path(data_dir), a, since=when, last=last) for a in ids]
    body = "\n".join(sections) if sections else "No authors in the data folder.\n"
    line = group_line(Path(data_dir), ids)
    return "# Citation report\n\n" + (line + "\n\n" if line else "") + body


def group_line(data_dir: Path, scholar_ids: Sequence[str]) -> str | None:
    """One line of the group's numbers, each paper counted once (see crawler.outputs.group_numbers);
    None for one author.
    """
    if len(scholar_ids) < 2:
        return None
    totals = group_dict(read_members(data_dir, scholar_ids))["totals"]
    return (
        f"**Group** ({totals['members']} members, {totals['stale_members']} stale): "
        f"{totals['citations']} citations with each paper counted once "
        f"(plain sum {totals['citations_sum']}), "
        f"{totals['publications']} publications "
        f"({totals['shared_publications']} shared; plain sum {totals['publications_sum']})."
    )


def append_step_summary(data_dir: Path, scholar_ids: Sequence[str]) -> None:
    """Append the report for ``scholar_ids`` to the file named by ``$GITHUB_STEP_SUMMARY``; never raises."""
    target = os.environ.get(STEP_SUMMARY_ENV)
    if not target:
        return
    try:
        text = markdown_report(data_dir, list(scholar_ids))
        with open(target, "a", encoding="utf-8") as handle:
            handle.write(text + "\n")
    except Exception as exc:  # a summary page must never fail the run that produced good data
        log.warning("could not write the report to %s=%s: %s", STEP_SUMMARY_ENV, target, exc)
