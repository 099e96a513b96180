"""The guard: a new record replaces the last good one only if it is complete and plausible.

Four kinds of check, in this order::

    whose and how complete   the profile asked for, every page came back     never overridable
    consistent in itself     h-index ≤ publications, h² ≤ citations, ...     never overridable
                             a complete list adds up to its totals
    possible at all          no more citations than any real profile has     never overridable
    plausible against the    a sharp drop, or a rise past max_rise_factor    --accept-drop
    last good record

The first three hold on the first run too: a page claiming a billion
citations must not become the baseline that every real page is then refused
against.

Scholar's numbers do go down a little (merged duplicates, re-indexed venues),
so small decreases pass; a sharp drop is far more often a partial or wrong page
than a real loss, and a sudden many-fold rise is far more often a forged or
garbled page than real fame.  Either is refused until a person says otherwise
(``--accept-drop``): a bad page must never become the baseline that the real
numbers are then measured against.  Drops and rises are only measured between
records of the same source: OpenAlex counting fewer citations than Scholar is
not a drop, it is a new series, and is reported as such.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from crawler.errors import GuardRefused
from crawler.models import AuthorRecord, record_to_dict
from crawler.sources import SCHOLAR_NUMBERS

# More citations than any real profile holds: the most cited profiles on Google
# Scholar hold about 1.5 million (2026), so a total or a paper above this is a
# forged or garbled page, whatever the last good record says (docs/run.md).
MAX_PLAUSIBLE_CITATIONS = 10_000_000

# A rise is implausible only when it is both many-fold and more than this:
# a young profile going from 3 to 40 citations is ordinary.
RISE_MARGIN_CITATIONS = 50
RISE_MARGIN_PUBLICATIONS = 10


@dataclass(frozen=True)
class GuardOptions:
    max_citation_drop: float = 0.05
    """Largest fall of total citations accepted, as a fraction (0.05 = 5 %)."""
    max_publication_drop: float = 0.10
    """Largest fall of the publication count accepted, as a fraction."""
    max_rise_factor: float = 3.0
    """Largest rise of total citations and of the publication count accepted,
    as a multiple of the last good value (3 = up to three times as many)."""

    def __post_init__(self) -> None:
        for name in ("max_citation_drop", "max_publication_drop"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
                raise ValueError(f"{name} must be a number between 0 and 1, not {value!r}")
        factor = self.max_rise_factor
        if (
            isinstance(factor, bool)
            or not isinstance(factor, (int, float))
            or not (math.isfinite(factor) and factor >= 1)
        ):
            raise ValueError(f"max_rise_factor must be a number of at least 1, not {factor!r}")


def _percent(fraction: float) -> str:
    # "5.5%", not a rounded "6%": the message must state the limit that applied.
    return f"{round(fraction * 100, 6):g}%"


def _fell_too_far(old: int, new: int, limit: float) -> bool:
    # Exact arithmetic, with the limit read as the decimal a person wrote: a fall
    # of exactly 5 % passes a 0.05 limit whatever float rounding would say.
    from fractions import Fraction  # with decimal, a few ms of every start that checks nothing

    return old > 0 and new < old and Fraction(old - new, old) > Fraction(repr(limit))


def _rose_too_far(old: int, new: int, factor: float, margin: int) -> bool:
    from fractions import Fraction

    return new - old > margin and Fraction(new) > Fraction(old) * Fraction(repr(factor))


def inconsistencies(record: AuthorRecord, *, partial: bool = False) -> list[str]:
    """What the record's numbers say that no real profile can: each rule holds
    for every profile by the definitions of the indices, whatever the source."""
    m = record.metrics
    problems: list[str] = []
    columns = (
        ("", m.citations, m.h_index, m.i10_index),
        (" since", m.citations_since, m.h_index_since, m.i10_index_since),
    )
    for label, citations, h, i10 in columns:
        # The h papers of the h-core have at least h citations each; every
        # i10 paper has at least 10; with h ≥ 10 the h-core is all i10 papers.
        if h is not None and citations is not None and h * h > citations:
            problems.append(f"h-index{label} {h} needs at least {h * h} citations, the page says {citations}")
        if i10 is not None and citations is not None and 10 * i10 > citations:
            problems.append(
                f"i10-index{label} {i10} needs at least {10 * i10} citations, the page says {citations}"
            )
        if h is not None and i10 is not None and h >= 10 and i10 < h:
            problems.append(f"i10-index{label} {i10} is below h-index{label} {h}")
    for name, all_time, since in (
        ("citations", m.citations, m.citations_since),
        ("h-index", m.h_index, m.h_index_since),
        ("i10-index", m.i10_index, m.i10_index_since),
    ):
        if all_time is not None and since is not None and since > all_time:
            problems.append(
                f"{name} since {m.since_year or 'the since year'} ({since}) is above the all-time {all_time}"
            )
    count = len(record.publications)
    if record.complete and count and not partial:
        # Only a record that lists its publications can be held to them (an
        # imported gs_data file may carry the totals alone).
        for name, value in (("h-index", m.h_index), ("i10-index", m.i10_index)):
            if value is not None and value > count:
                problems.append(f"{name} {value} is above the {count} publications listed")
        # Google Scholar's totals are sums over the papers it lists; OpenAlex and
        # Semantic Scholar count an author's citations apart from its works'.
        if record.source in SCHOLAR_NUMBERS:
            problems.extend(_against_papers(record))
    return problems


def _h_index(counts: list[int]) -> int:
    ordered = sorted(counts, reverse=True)
    return sum(1 for rank, count in enumerate(ordered, 1) if count >= rank)


def _against_papers(record: AuthorRecord) -> list[str]:
    """A complete list of Scholar's papers is where its totals come from: the total is
    the sum of the papers' counts, the h-index and i10-index are those of the papers.

    Only what cannot be is refused: totals above what the papers allow.  A total
    or an index below them (Scholar's stats box is refreshed apart from the
    papers, a paper's count can rise first) inflates nothing and passes.
    """
    m = record.metrics
    counts = [p.citations or 0 for p in record.publications]
    problems = []
    summed = sum(counts)
    if m.citations is not None and m.citations > summed:
        problems.append(
            f"total citations {m.citations} are more than the {summed} its {len(counts)} papers add up to"
        )
    h = _h_index(counts)
    if m.h_index is not None and m.h_index > h:
        problems.append(f"h-index {m.h_index} cannot come from its papers, whose h-index is {h}")
    i10 = sum(1 for c in counts if c >= 10)
    if m.i10_index is not None and m.i10_index > i10:
        problems.append(
            f"i10-index {m.i10_index} cannot come from its papers, {i10} of which have 10 or more"
        )
    return problems


def impossibilities(record: AuthorRecord) -> list[str]:
    """Numbers no real profile has (``MAX_PLAUSIBLE_CITATIONS``), in the totals or in a paper."""
    ceiling = MAX_PLAUSIBLE_CITATIONS
    problems = []
    m = record.metrics
    for name, value in (("total citations", m.citations), ("citations since", m.citations_since)):
        if value is not None and value > ceiling:
            problems.append(f"{name} {value} are more than any real profile has (at most {ceiling})")
    worst = max(
        (p for p in record.publications if p.citations is not None),
        key=lambda p: p.citations or 0,
        default=None,
    )
    if worst is not None and (worst.citations or 0) > ceiling:
        problems.append(
            f"paper {worst.author_pub_id} has {worst.citations} citations, "
            f"more than any real profile has (at most {ceiling})"
        )
    return problems


def check(
    previous: AuthorRecord | None,
    new: AuthorRecord,
    *,
    expected_id: str,
    options: GuardOptions,
    accept_drop: bool = False,
    partial: bool = False,
) -> list[str]:
    """Raise ``GuardRefused`` if ``new`` may not replace ``previous``; return notes worth reporting.

    ``partial`` is for a record known to list only some publications (a saved
    page imported on purpose): it may be incomplete, and its publication count
    is neither compared nor held against its h-index.
    """
    notes: list[str] = []
    if new.profile.scholar_id != expected_id:
        raise GuardRefused(
            f"the page is the profile of {new.profile.scholar_id or 'nobody'}, not {expected_id}"
        )
    if not new.complete and not partial:
        raise GuardRefused("incomplete fetch: not every publication page came back")
    problems = inconsistencies(new, partial=partial)
    if problems:
        raise GuardRefused(
            "the numbers contradict each other: " + "; ".join(problems) + "; kept the last good data"
        )
    impossible = impossibilities(new)
    if impossible:
        raise GuardRefused("impossible numbers: " + "; ".join(impossible) + "; kept the last good data")
    if new.metrics.citations is None and previous is not None and previous.metrics.citations is not None:
        raise GuardRefused("the new record has no citation count where the last one had")
    if previous is None:
        return notes
    if previous.source != new.source:
        notes.append(
            f"source changed from {previous.source} to {new.source}: a new series starts, "
            "numbers are not compared across sources"
        )
        return notes
    changes = _sharp_changes(previous, new, options, partial=partial)
    if changes and not accept_drop:
        raise GuardRefused(
            "; ".join(changes) + "; kept the last good data (use --accept-drop if this is real)"
        )
    notes.extend(f"accepted: {c}" for c in changes)
    return notes


def _sharp_changes(
    previous: AuthorRecord, new: AuthorRecord, options: GuardOptions, *, partial: bool
) -> list[str]:
    changes = []
    factor = f"{options.max_rise_factor:g}"
    old_c, new_c = previous.metrics.citations, new.metrics.citations
    if old_c is not None and new_c is not None:
        if _fell_too_far(old_c, new_c, options.max_citation_drop):
            changes.append(
                f"total citations fell from {old_c} to {new_c} "
                f"(more than {_percent(options.max_citation_drop)})"
            )
        if _rose_too_far(old_c, new_c, options.max_rise_factor, RISE_MARGIN_CITATIONS):
            changes.append(f"total citations rose from {old_c} to {new_c} (more than {factor} times as many)")
    old_p, new_p = len(previous.publications), len(new.publications)
    if partial or not previous.complete:
        # A saved page imported with only some publications counts none of them.
        return changes
    if _fell_too_far(old_p, new_p, options.max_publication_drop):
        changes.append(
            f"publications fell from {old_p} to {new_p} (more than {_percent(options.max_publication_drop)})"
        )
    if _rose_too_far(old_p, new_p, options.max_rise_factor, RISE_MARGIN_PUBLICATIONS):
        changes.append(f"publications rose from {old_p} to {new_p} (more than {factor} times as many)")
    return changes


def same_content(a: AuthorRecord, b: AuthorRecord) -> bool:
    """Whether two records say the same thing (when they were fetched aside)."""
    if (
        a.publications == b.publications
        and a.metrics == b.metrics
        and a.profile == b.profile
        and a.cites_per_year == b.cites_per_year
        and a.complete == b.complete
        and a.source == b.source
        and a.notes == b.notes
    ):
        # Every field of the snapshot form but the time is equal: no need to build it.
        return True
    left, right = record_to_dict(a), record_to_dict(b)
    left.pop("fetched_at")
    right.pop("fetched_at")
    return left == right
