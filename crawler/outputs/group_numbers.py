"""A group's numbers (a lab, a department): members and totals with each paper counted once.

Files written in the data folder (beside the author folders)::

    group.json                          members, totals, plain sums for comparison
    badges/group-citations.json|.svg    the group's citations, each paper counted once
    badges/group-publications.json|.svg the group's distinct publications

A paper written by three members is on three profiles; adding the members'
totals counts its citations three times.  Here each paper counts once: two
rows of different profiles are the same paper when they share a Scholar
cluster ID (``cites_id``, the ``cites=`` of the row's "Cited by" link: one
cluster may have several IDs after Scholar merged versions, and sharing any
one is enough); a row without one (an uncited paper has no link) is the same
paper as another with the same normalised title and year.  A paper's
citations are the largest count any member's profile shows for it (profiles
are fetched at different times, so a fresher one may be a little ahead).

The per-year histogram is a plain sum: a profile page gives citations per year
for the author, not per paper, so a shared paper's yearly citations cannot be
told apart there.  ``group.json`` says so (``cites_per_year_sum``).
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from crawler.models import AuthorRecord, Publication, format_time
from crawler.outputs.badges import BADGE_DIR, BadgeStyle, write_badge_pair
from crawler.outputs.manifest import inputs_fingerprint, outputs_current, record_outputs
from crawler.storage.stale import read_state
from crawler.storage.store import AuthorStore, json_bytes, write_if_changed

GROUP_FILE = "group.json"
GROUP_FORMAT = 1
_WORDS_RE = re.compile(r"[^\w]+")
# On ASCII, what ``_WORDS_RE`` leaves are letters, digits and ``_``: everything else a space.
_ASCII_NOT_WORD = str.maketrans(
    {c: " " for c in map(chr, range(128)) if c not in string.ascii_letters + string.digits + "_"}
)


@dataclass(frozen=True)
class Member:
    scholar_id: str
    record: AuthorRecord | None
    """The latest readable snapshot; None when there is none yet."""
    stale_since: str | None = None
    snapshot: str | None = None
    """What the record was read from: the snapshot's name and size."""


@dataclass(frozen=True)
class GroupTotals:
    citations: int
    """Each paper counted once."""
    publications: int
    """Distinct papers."""
    citations_sum: int
    publications_sum: int
    shared_publications: int
    """Papers on two or more members' profiles."""
    cites_per_year_sum: tuple[tuple[int, int], ...]


def normalised_title(title: str) -> str:
    """Case, accents, punctuation and spacing removed: what two profiles may write differently."""
    if title.isascii():
        # Nearly every title: no decomposition to make, ``casefold`` is ``lower``, and the
        # runs of other characters turned into one space are what ``split`` and ``join`` make.
        return " ".join(title.lower().translate(_ASCII_NOT_WORD).split())
    text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode("ascii")
    return _WORDS_RE.sub(" ", text.casefold()).strip()


class _Papers:
    """Union-find over the rows of every profile: one root per distinct paper."""

    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, key: str) -> str:
        self.parent.setdefault(key, key)
        while self.parent[key] != key:
            self.parent[key] = self.parent[self.parent[key]]
            key = self.parent[key]
        return key

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def _cluster_ids(pub: Publication) -> list[str]:
    cites = pub.cites_id
    if not cites:
        return []
    if "," not in cites:  # one cluster, as nearly every row has
        cites = cites.strip()
        return [cites] if cites else []
    return [c.strip() for c in cites.split(",") if c.strip()]


def _title_key(pub: Publication) -> str:
    return f"t:{normalised_title(pub.title)}|{pub.year if pub.year is not None else ''}"


def distinct_papers(records: Sequence[AuthorRecord]) -> dict[str, list[tuple[str, Publication]]]:
    """Every distinct paper: its rows, as (scholar_id, publication), by a key of the paper."""
    papers = _Papers()
    rows: list[tuple[str, Publication, str]] = []
    cited: list[tuple[Publication, str]] = []
    uncited_years: set[int | None] = set()
    for record in records:
        for pub in record.publications:
            ids = _cluster_ids(pub)
            if ids:
                key = f"c:{ids[0]}"
                for other in ids[1:]:
                    papers.union(key, f"c:{other}")
                cited.append((pub, key))
            else:
                key = ""
                uncited_years.add(pub.year)
            rows.append((record.scholar_id, pub, key))
    # An uncited row joins the first cited row of its title and year: the title of a cited row
    # of a year no uncited row has is never looked up, so it is not normalised.
    cited_titles: dict[str, str] = {}
    for pub, key in cited:
        if pub.year in uncited_years:
            cited_titles.setdefault(_title_key(pub), key)
    # Uncited rows last, so they can join a cited row of the same title and year.
    grouped: dict[str, list[tuple[str, Publication]]] = {}
    for sid, pub, key in rows:
        if not key:
            title_key = _title_key(pub)
            key = cited_titles.get(title_key, title_key)
        grouped.setdefault(papers.find(key), []).append((sid, pub))
    return grouped


def group_totals(records: Sequence[AuthorRecord]) -> GroupTotals:
    papers = distinct_papers(records)
    citations = 0
    for rows in papers.values():
        counts = [pub.citations for _, pub in rows if pub.citations is not None]
        citations += max(counts, default=0)
    per_year: dict[int, int] = {}
    for record in records:
        for year, count in record.cites_per_year:
            per_year[year] = per_year.get(year, 0) + count
    return GroupTotals(
        citations=citations,
        publications=len(papers),
        citations_sum=sum(r.metrics.citations or 0 for r in records),
        publications_sum=sum(len(r.publications) for r in records),
        shared_publications=sum(1 for rows in papers.values() if len({sid for sid, _ in rows}) > 1),
        cites_per_year_sum=tuple(sorted(per_year.items())),
    )


def stale_since(data_dir: Path, scholar_id: str) -> str | None:
    """When the author's data went stale, or None when it is fresh."""
    try:
        state = read_state(data_dir, scholar_id)
    except ValueError:
        return None
    if state is not None and state.get("stale"):
        since = state.get("stale_since")
        return since if isinstance(since, str) else "unknown"
    return None


def read_members(data_dir: Path, scholar_ids: Sequence[str]) -> list[Member]:
    members = []
    for sid in scholar_ids:
        latest = AuthorStore(data_dir, sid).latest()
        snapshot = None
        if latest is not None:
            # Snapshots are never rewritten: a name and a size say which one was read.
            snapshot = f"{latest[0].name} {latest[0].stat().st_size}"
        members.append(Member(sid, latest[1] if latest else None, stale_since(data_dir, sid), snapshot))
    return members


def group_dict(members: Sequence[Member]) -> dict[str, Any]:
    """``group.json``: fixed key order; a member without data is listed with nulls, never zeros."""
    records = [m.record for m in members if m.record is not None]
    totals = group_totals(records)
    times = [r.fetched_at for r in records if r.fetched_at is not None]
    updated: datetime | None = max(times) if times else None
    return {
        "format": GROUP_FORMAT,
        "updated": format_time(updated) if updated else None,
        "members": [_member_dict(m) for m in members],
        "totals": {
            "members": len(members),
            "members_with_data": len(records),
            "stale_members": sum(1 for m in members if m.stale_since is not None),
            "citations": totals.citations,
            "publications": totals.publications,
            "shared_publications": totals.shared_publications,
            "citations_sum": totals.citations_sum,
            "publications_sum": totals.publications_sum,
            "cites_per_year_sum": {str(year): count for year, count in totals.cites_per_year_sum},
        },
        "counting": (
            "citations and publications count each paper once: rows of several members' profiles with a "
            "shared Scholar cluster ID (cites_id), or without one and with the same normalised title "
            "and year, are one paper, with the largest citation count shown for it; "
            "*_sum are plain sums over members "
            "(cites_per_year_sum too: profile pages give no per-paper histogram)"
        ),
    }


def _member_dict(member: Member) -> dict[str, Any]:
    record = member.record
    m = record.metrics if record else None
    return {
        "scholar_id": member.scholar_id,
        "name": record.profile.name if record else None,
        "citations": m.citations if m else None,
        "h_index": m.h_index if m else None,
        "i10_index": m.i10_index if m else None,
        "publications": len(record.publications) if record else None,
        "source": record.source if record else None,
        "updated": format_time(record.fetched_at) if record and record.fetched_at else None,
        "stale": member.stale_since is not None or record is None,
        "stale_since": member.stale_since,
    }


def group_files(data_dir: Path) -> list[str]:
    """The group's files present in ``data_dir``, as ``/``-separated paths relative to it."""
    names = [GROUP_FILE] if (data_dir / GROUP_FILE).is_file() else []
    badges = data_dir / BADGE_DIR
    if badges.is_dir() and not badges.is_symlink():
        names += sorted(f"{BADGE_DIR}/{p.name}" for p in badges.iterdir() if is_group_badge(p.name))
    return names


def is_group_badge(name: str) -> bool:
    """Whether a file of ``badges/`` at the data folder's root is one of the group's badges."""
    return name.startswith("group-") and Path(name).suffix in (".json", ".svg")


def write_group(data_dir: Path, scholar_ids: Sequence[str], style: BadgeStyle) -> list[Path]:
    """``group.json`` and the two group badges, for ``scholar_ids``; return the files written.

    Only files whose content changes are written, so a run with nothing new
    leaves them as they are.
    """
    data_dir = Path(data_dir)
    members = read_members(data_dir, scholar_ids)
    # Counting each paper once reads every member's publications: when no member's snapshot
    # or staleness changed since the files were built, and they are all still there, it is skipped.
    inputs = repr([(m.scholar_id, m.snapshot, m.stale_since) for m in members])
    print_ = inputs_fingerprint(style, inputs)
    if outputs_current(data_dir, print_):
        return []
    data = group_dict(members)
    written = []
    group_json = json_bytes(data)
    if write_if_changed(data_dir / GROUP_FILE, group_json, jail=data_dir):
        written.append(data_dir / GROUP_FILE)
    totals = data["totals"]
    have = totals["members_with_data"] > 0
    labels = style.labels
    produced = {data_dir / GROUP_FILE: len(group_json)}
    for name, label, value in (
        ("group-citations", labels.citations, totals["citations"]),
        ("group-publications", labels.publications, totals["publications"]),
    ):
        written += write_badge_pair(
            data_dir / BADGE_DIR / name, f"group {label}", value if have else None, style, jail=data_dir
        )
        for path in (data_dir / BADGE_DIR / f"{name}.json", data_dir / BADGE_DIR / f"{name}.svg"):
            if path.is_file():
                produced[path] = path.stat().st_size
    record_outputs(data_dir, print_, produced, jail=data_dir)
    return written
