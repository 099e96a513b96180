"""What a homepage shows on a day Google Scholar blocks the runner (``on_block``).

::

    keep     the last good numbers, every per-paper count included, marked with
             ``stale_since``; after ``stale_after_days`` the badges turn a neutral
             colour.  A fallback source is still fetched and kept as its own
             series (``<author>/sources/<name>/snapshots``), not shown.
    bridge   the last Scholar numbers plus the growth the fallback measured since
             that day, per author and per matched paper, labelled as an estimate
             (``≈ 431``, ``"estimated": true`` and its basis).  Needs the
             fallback's snapshot of a day Scholar answered: on such days the
             fallback is fetched too.
    replace  the fallback's own numbers, labelled, under the Scholar keys of the
             papers it matched.

Nothing here is stored as Scholar's: an estimate is an output only, so when
Scholar answers again the guard compares Scholar with Scholar.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from crawler.models import AuthorRecord, Metrics, Publication, TextEnum, utc_now
from crawler.policy import POLICIES as POLICIES  # the words of Policy below, in its order
from crawler.sources import source_label

if TYPE_CHECKING:
    # Only named in signatures; loading the matcher (difflib, unicodedata) is the caller's affair.
    from crawler.policy.match import MatchResult


class Policy(TextEnum):
    """``on_block``: what a homepage shows on a day Google Scholar blocks the runner."""

    KEEP = "keep"
    BRIDGE = "bridge"
    REPLACE = "replace"


DEFAULT_POLICY = Policy.KEEP.value
DEFAULT_STALE_AFTER_DAYS = 7.0


def check_policy(value: object) -> str:
    """``value`` if it names a policy; else ``ValueError`` naming them."""
    if value not in POLICIES:
        raise ValueError(f"must be one of {', '.join(POLICIES)}, not {value!r}")
    return str(value)


def check_stale_after_days(value: object) -> float:
    """``value`` if it is a fit ``stale_after_days``; else ``ValueError`` saying what fits."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 3650:
        raise ValueError(f"must be a number of days from 0 to 3650, not {value!r}")
    return float(value)


class Show(TextEnum):
    """What the outputs of a blocked day hold (``AuthorOutcome.shown``)."""

    FALLBACK = "fallback"
    """The fallback source's own numbers, stored as the author's record."""
    ESTIMATE = "estimate"
    """Scholar's last numbers plus the growth the fallback counted since (``bridge``)."""
    KEPT = "kept"
    """The last good numbers, marked stale."""
    NOTHING = "nothing"
    """Nothing was ever fetched and no fallback answered: the author fails."""


@dataclass(frozen=True)
class BlockedDay:
    """The decision for one author's blocked day, and a note when it is not what the policy asked."""

    show: Show
    note: str | None = None

    def without_base(self, fallback: str) -> BlockedDay:
        """An estimate needs the fallback's snapshot of a day Scholar answered; without one the
        last numbers are kept, and the note says why."""
        if self.show is not Show.ESTIMATE:
            return self
        return BlockedDay(
            Show.KEPT,
            f"no {source_label(fallback)} snapshot from a day Google Scholar answered: "
            "nothing to measure growth from, so the last numbers are kept",
        )


def decide(policy: str, *, kept: bool, fallback: str | None, matched: bool) -> BlockedDay:
    """What a blocked day shows, from what is there (pure: the driver applies it).

    ``kept``: a good record is stored; ``fallback``: the fallback source that answered today,
    if any; ``matched``: its works are matched to the last Scholar record's papers.  The
    fallback's own numbers are shown under ``replace``, and under any policy while nothing is
    kept (better than nothing, labelled); with nothing kept and no fallback there is nothing to
    show.  ``bridge`` estimates where papers are matched (the driver then looks for the base,
    ``without_base`` when there is none); otherwise the last numbers are kept.
    """
    chosen = Policy(policy)
    if fallback is not None and (chosen is Policy.REPLACE or not kept):
        note = (
            None
            if chosen is Policy.REPLACE
            else f"no numbers to keep yet: showing {source_label(fallback)}'s own"
        )
        return BlockedDay(Show.FALLBACK, note)
    if not kept:
        return BlockedDay(Show.NOTHING)
    if chosen is Policy.BRIDGE and fallback is not None and matched:
        return BlockedDay(Show.ESTIMATE)
    return BlockedDay(Show.KEPT)


@dataclass(frozen=True)
class Estimate:
    """The basis of an estimate, as ``gs_data.json`` states it."""

    source: str
    since: datetime
    """When the fallback's base snapshot was taken (a day Scholar answered)."""
    papers_matched: int
    papers: int
    citations_growth: int


def is_overdue(stale_since: datetime | None, now: datetime, days: float) -> bool:
    return stale_since is not None and now - stale_since >= timedelta(days=days)


def stale_days(stale_since: datetime | None, now: datetime) -> float | None:
    if stale_since is None:
        return None
    return round((now - stale_since).total_seconds() / 86400, 2)


def _h_index(counts: Iterable[int]) -> int:
    ordered = sorted(counts, reverse=True)
    return sum(1 for rank, count in enumerate(ordered, 1) if count >= rank)


def _grown(value: int | None, growth: int) -> int | None:
    return None if value is None else value + growth


def bridge(
    scholar: AuthorRecord, base: AuthorRecord, today: AuthorRecord, matches: MatchResult
) -> tuple[AuthorRecord, Estimate]:
    """Scholar's last numbers plus what ``today`` counts more than ``base``.

    Growth is never negative: a fallback that counts fewer today (a merged
    duplicate, a re-indexed venue) leaves Scholar's number as it was rather than
    take it below what Scholar said.  A paper without a match, or whose work
    the base did not list, keeps Scholar's count.

    The papers' growth is bounded by the author's: what the fallback's author
    total grew since the base.  Taken paper by paper in Scholar's order, each
    gets at most what is left of it, so the papers together never grow by more
    than the total does (a work counted 10^18 times grows nothing past it).
    The h-index and i10-index are those of the bridged papers, never below Scholar's.
    """
    growth = max(0, (today.metrics.citations or 0) - (base.metrics.citations or 0))
    base_counts = {p.author_pub_id: p.citations for p in base.publications}
    today_counts = {p.author_pub_id: p.citations for p in today.publications}
    other_of = matches.scholar_to_other()
    publications: list[Publication] = []
    matched = 0
    left = growth
    for pub in scholar.publications:
        work = other_of.get(pub.author_pub_id)
        then, now = base_counts.get(work or ""), today_counts.get(work or "")
        if work is not None and then is not None and now is not None:
            matched += 1
            grew = min(left, max(0, now - then))
            left -= grew
            publications.append(replace(pub, citations=(pub.citations or 0) + grew))
        else:
            publications.append(pub)
    m = scholar.metrics
    counts = [p.citations for p in publications if p.citations is not None]
    metrics = Metrics(
        citations=_grown(m.citations, growth),
        citations_since=_grown(m.citations_since, growth),
        h_index=None if m.h_index is None else max(m.h_index, _h_index(counts)),
        h_index_since=m.h_index_since,
        i10_index=None if m.i10_index is None else max(m.i10_index, sum(1 for c in counts if c >= 10)),
        i10_index_since=m.i10_index_since,
        since_year=m.since_year,
    )
    per_year = dict(scholar.cites_per_year)
    base_years, today_years = dict(base.cites_per_year), dict(today.cites_per_year)
    left = growth
    for year, count in sorted(today_years.items(), reverse=True):
        if year in per_year and year in base_years:
            grew = min(left, max(0, count - base_years[year]))
            left -= grew
            per_year[year] += grew
    estimate = Estimate(
        source=today.source,
        since=base.fetched_at or today.fetched_at or utc_now(),
        papers_matched=matched,
        papers=len(scholar.publications),
        citations_growth=growth,
    )
    note = (
        f"estimate: Google Scholar's numbers plus the growth {today.source} counted since "
        f"{estimate.since:%Y-%m-%d} ({matched} of {len(scholar.publications)} papers matched)"
    )
    record = replace(
        scholar,
        metrics=metrics,
        publications=tuple(publications),
        cites_per_year=tuple(sorted(per_year.items())),
        notes=(*scholar.notes, note),
    )
    return record, estimate


def with_scholar_keys(other: AuthorRecord, matches: MatchResult) -> AuthorRecord:
    """``other`` with each matched work under the key of its Scholar paper, so a
    homepage's per-paper counts keep working; unmatched works keep their own keys."""
    scholar_of = matches.other_to_scholar()
    publications = tuple(
        replace(p, author_pub_id=scholar_of.get(p.author_pub_id, p.author_pub_id)) for p in other.publications
    )
    return replace(other, publications=publications)
