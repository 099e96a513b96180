"""The guard: a new record replaces the last good one only if it is complete and plausible.

Scholar's numbers do go down a little (merged duplicates, re-indexed venues),
so small decreases pass; a sharp drop is far more often a partial or wrong page
than a real loss, so it is refused until a person says otherwise
(``--accept-drop``).  Drops are only measured between records of the same
source: OpenAlex counting fewer citations than Scholar is not a drop, it is a
new series, and is reported as such.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from crawler.errors import GuardRefused
from crawler.models import AuthorRecord, record_to_dict


@dataclass(frozen=True)
class GuardOptions:
    max_citation_drop: float = 0.05
    """Largest fall of total citations accepted, as a fraction (0.05 = 5 %)."""
    max_publication_drop: float = 0.10
    """Largest fall of the publication count accepted, as a fraction."""

    def __post_init__(self) -> None:
        for name in ("max_citation_drop", "max_publication_drop"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
                raise ValueError(f"{name} must be a number between 0 and 1, not {value!r}")


def _percent(fraction: float) -> str:
    # "5.5%", not a rounded "6%": the message must state the limit that applied.
    return f"{round(fraction * 100, 6):g}%"


def _fell_too_far(old: int, new: int, limit: float) -> bool:
    # Exact arithmetic, with the limit read as the decimal a person wrote: a fall
    # of exactly 5 % passes a 0.05 limit whatever float rounding would say.
    return old > 0 and new < old and Fraction(old - new, old) > Fraction(repr(limit))


def check(
    previous: AuthorRecord | None,
    new: AuthorRecord,
    *,
    expected_id: str,
    options: GuardOptions,
    accept_drop: bool = False,
) -> list[str]:
    """Raise ``GuardRefused`` if ``new`` may not replace ``previous``; return notes worth reporting."""
    notes: list[str] = []
    if new.profile.scholar_id != expected_id:
        raise GuardRefused(
            f"the page is the profile of {new.profile.scholar_id or 'nobody'}, not {expected_id}"
        )
    if not new.complete:
        raise GuardRefused("incomplete fetch: not every publication page came back")
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
    old_c, new_c = previous.metrics.citations, new.metrics.citations
    drops = []
    if old_c is not None and new_c is not None and _fell_too_far(old_c, new_c, options.max_citation_drop):
        drops.append(
            f"total citations fell from {old_c} to {new_c} "
            f"(more than {_percent(options.max_citation_drop)})"
        )
    old_p, new_p = len(previous.publications), len(new.publications)
    if _fell_too_far(old_p, new_p, options.max_publication_drop):
        drops.append(
            f"publications fell from {old_p} to {new_p} (more than {_percent(options.max_publication_drop)})"
        )
    if drops and not accept_drop:
        raise GuardRefused("; ".join(drops) + "; kept the last good data (use --accept-drop if this is real)")
    notes.extend(f"accepted: {d}" for d in drops)
    return notes


def same_content(a: AuthorRecord, b: AuthorRecord) -> bool:
    """Whether two records say the same thing (when they were fetched aside)."""
    left, right = record_to_dict(a), record_to_dict(b)
    left.pop("fetched_at")
    right.pop("fetched_at")
    return left == right
