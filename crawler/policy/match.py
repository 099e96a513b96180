"""Cross-source paper matching: which work of another source is which Scholar publication.

OpenAlex keys a work ``W…``, Semantic Scholar by a hash, Google Scholar (and
SerpApi, which reads it) by ``USER:PUBID``.  A homepage asks for the Scholar
keys, so numbers from another source reach a page's per-paper counts only
through a match.  A match is made on evidence and never guessed::

    same key (SerpApi, scholarly)           confidence 1.0   by "id"
    same DOI (where both have one)          confidence 1.0   by "doi"
    same normalised title                   1.0              by "title"
    one title is the other minus a subtitle 0.9              by "subtitle"
    one title is the other cut short (…)    0.9              by "truncated"
    near-identical title (typos, spacing)   the similarity   by "similar"

then scaled by the years: equal ×1, one apart ×0.95 (preprint and journal
version), one missing ×0.95, further apart: no match (unless the DOI agrees).
Two DOIs that differ veto a match whatever the titles say.

A pair is kept when its confidence is at least ``MIN_CONFIDENCE`` *and* no
other candidate comes within ``MARGIN`` of it, on either side: a work that fits
two Scholar publications equally (a paper listed twice on the profile) is
ambiguous and left unmatched, listed with its candidates.  A candidate below
the threshold is listed as weak.  ``matches.toml`` in the author's folder
overrides any pair::

    [openalex]
    "AoKJ_g4AAAAJ:5ugPr518TE4C" = "W1072179852"   # this paper is that work
    "AoKJ_g4AAAAJ:ZeXyd9-uunAC" = false           # never match this paper

Matches are kept in ``<author>/matches/<source>.json`` with their confidence.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crawler.errors import ConfigError, UsageError
from crawler.models import AuthorRecord, Publication, format_time
from crawler.policy.titles import MIN_CONFIDENCE, TitleKey, score
from crawler.sources import SCHOLAR_NUMBERS
from crawler.storage.readfile import MAX_SETTINGS_BYTES, read_bounded
from crawler.storage.store import AuthorStore, json_bytes, write_if_changed

MARGIN = 0.05
MATCHES_DIR = "matches"
OVERRIDES_FILE = "matches.toml"
MATCHES_FORMAT = 1


@dataclass(frozen=True)
class Pair:
    scholar: str
    other: str
    confidence: float
    how: str


@dataclass(frozen=True)
class Unmatched:
    """A work of the other source left unmatched, why, and the candidates it had."""

    pub: Publication
    reason: str
    candidates: tuple[Pair, ...] = ()


@dataclass(frozen=True)
class MatchResult:
    source: str
    pairs: tuple[Pair, ...]
    unmatched_scholar: tuple[Publication, ...]
    unmatched_other: tuple[Unmatched, ...]
    overrides: tuple[str, ...] = ()
    """Notes about matches.toml entries (applied, or naming a paper no longer listed)."""
    scholar_count: int = 0
    other_count: int = 0

    def scholar_to_other(self) -> dict[str, str]:
        return {p.scholar: p.other for p in self.pairs}

    def other_to_scholar(self) -> dict[str, str]:
        return {p.other: p.scholar for p in self.pairs}

    @property
    def share_matched(self) -> float:
        """Matched works as a share of the other source's works."""
        return len(self.pairs) / self.other_count if self.other_count else 0.0


@dataclass(frozen=True)
class Overrides:
    """``matches.toml`` for one source: Scholar key -> the other's key, or ``None`` for never."""

    pairs: Mapping[str, str | None] = field(default_factory=dict)


@dataclass
class _Matching:
    """The state of one matching as it goes through its stages."""

    scholar_by_id: dict[str, Publication]
    other_by_id: dict[str, Publication]
    pairs: list[Pair] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    taken_s: set[str] = field(default_factory=set)
    taken_o: set[str] = field(default_factory=set)
    unmatched: dict[str, Unmatched] = field(default_factory=dict)

    def take(self, pair: Pair) -> None:
        self.taken_s.add(pair.scholar)
        self.taken_o.add(pair.other)
        self.pairs.append(pair)


def _apply_overrides(state: _Matching, overrides: Overrides, source: str) -> None:
    """Stage 1: the user's own pairs (``matches.toml``) settle what they name."""
    for s_id, o_id in overrides.pairs.items():
        if s_id not in state.scholar_by_id:
            state.notes.append(f"{OVERRIDES_FILE}: {s_id} is not on the Scholar profile; entry ignored")
            continue
        state.taken_s.add(s_id)
        if o_id is None:
            state.notes.append(f"{OVERRIDES_FILE}: {s_id} is never matched")
            continue
        if o_id not in state.other_by_id:
            state.notes.append(f"{OVERRIDES_FILE}: {source} has no work {o_id} (for {s_id}); entry ignored")
            continue
        if o_id in state.taken_o:
            state.notes.append(
                f"{OVERRIDES_FILE}: {o_id} is already matched to another paper (for {s_id}); entry ignored"
            )
            continue
        state.take(Pair(s_id, o_id, 1.0, "matches.toml"))
        state.notes.append(f"{OVERRIDES_FILE}: {s_id} = {o_id}")


def _candidates(
    state: _Matching, scholar: Sequence[Publication], other: Sequence[Publication], same_keys: bool
) -> dict[str, list[Pair]]:
    """Stage 2: equal keys (a source that reads Scholar itself), then every other work's scored
    candidates among the Scholar papers still free, best first."""
    if same_keys:
        # The other source reads Scholar itself: an equal key settles it, whatever
        # look-alike titles the profile also lists.
        for o in other:
            o_id = o.author_pub_id
            if o_id in state.scholar_by_id and o_id not in state.taken_s and o_id not in state.taken_o:
                state.take(Pair(o_id, o_id, 1.0, "id"))
    s_keys = [TitleKey.of(p) for p in scholar if p.author_pub_id not in state.taken_s]
    candidates: dict[str, list[Pair]] = {}
    for o in other:
        if o.author_pub_id in state.taken_o:
            continue
        o_key = TitleKey.of(o)
        found = []
        for s_key in s_keys:
            result = score(s_key, o_key, same_keys=same_keys)
            if result is not None:
                found.append(Pair(s_key.pub.author_pub_id, o.author_pub_id, *result))
        candidates[o.author_pub_id] = sorted(found, key=lambda p: (-p.confidence, p.scholar))
    return candidates


def _claims(state: _Matching, candidates: dict[str, list[Pair]]) -> dict[str, list[Pair]]:
    """Stage 3: each work claims its best Scholar paper, if it is strong and clear of the next."""
    claims: dict[str, list[Pair]] = {}
    for o_id, found in candidates.items():
        strong = [p for p in found if p.confidence >= MIN_CONFIDENCE]
        if not strong:
            reason = "weak: best candidate below the threshold" if found else "no candidate"
            state.unmatched[o_id] = Unmatched(state.other_by_id[o_id], reason, tuple(found[:3]))
        elif len(found) > 1 and found[0].confidence - found[1].confidence < MARGIN:
            state.unmatched[o_id] = Unmatched(
                state.other_by_id[o_id], "ambiguous: fits several Scholar publications", tuple(found[:3])
            )
        else:
            claims.setdefault(strong[0].scholar, []).append(strong[0])
    return claims


def _settle(state: _Matching, claims: dict[str, list[Pair]]) -> None:
    """Stage 4: a Scholar paper claimed by several works goes to the clearly best, or to none."""
    for s_id, claimants in claims.items():
        claimants.sort(key=lambda p: (-p.confidence, p.other))
        if len(claimants) > 1 and claimants[0].confidence - claimants[1].confidence < MARGIN:
            for pair in claimants:
                state.unmatched[pair.other] = Unmatched(
                    state.other_by_id[pair.other],
                    f"ambiguous: several works fit {s_id}",
                    tuple(claimants[:3]),
                )
            continue
        state.pairs.append(claimants[0])
        for pair in claimants[1:]:
            state.unmatched[pair.other] = Unmatched(
                state.other_by_id[pair.other], f"{claimants[0].other} fits {s_id} better", (pair,)
            )


def match_publications(
    scholar: Sequence[Publication],
    other: Sequence[Publication],
    *,
    source: str,
    same_keys: bool = False,
    overrides: Overrides | None = None,
) -> MatchResult:
    """Match every work of ``other`` to at most one Scholar publication, and the reverse:
    the user's overrides, then equal keys, then scored candidates, each Scholar paper to
    the clearly best of the works that claim it."""
    state = _Matching({p.author_pub_id: p for p in scholar}, {p.author_pub_id: p for p in other})
    _apply_overrides(state, overrides or Overrides(), source)
    _settle(state, _claims(state, _candidates(state, scholar, other, same_keys)))
    matched_s = {p.scholar for p in state.pairs}
    order = {p.author_pub_id: i for i, p in enumerate(other)}
    return MatchResult(
        source=source,
        pairs=tuple(sorted(state.pairs, key=lambda p: order.get(p.other, 0))),
        unmatched_scholar=tuple(p for p in scholar if p.author_pub_id not in matched_s),
        unmatched_other=tuple(
            sorted(state.unmatched.values(), key=lambda u: order.get(u.pub.author_pub_id, 0))
        ),
        overrides=tuple(state.notes),
        scholar_count=len(scholar),
        other_count=len(other),
    )


def match_records(
    scholar: AuthorRecord, other: AuthorRecord, *, overrides: Overrides | None = None
) -> MatchResult:
    return match_publications(
        scholar.publications,
        other.publications,
        source=other.source,
        same_keys=other.source in SCHOLAR_NUMBERS,
        overrides=overrides,
    )


def read_overrides(author_dir: Path, source: str) -> Overrides:
    """The ``[source]`` table of ``<author>/matches.toml``; an absent file overrides nothing."""
    path = Path(author_dir) / OVERRIDES_FILE
    try:
        text = read_bounded(path, limit=MAX_SETTINGS_BYTES, error=ConfigError).decode("utf-8")
    except (FileNotFoundError, NotADirectoryError):
        return Overrides()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    table = data.get(source, {})
    if not isinstance(table, Mapping):
        raise ConfigError(f'{path}: [{source}] must be a table of "SCHOLAR_KEY" = "WORK_ID" or false')
    pairs: dict[str, str | None] = {}
    for key, value in table.items():
        if value is False:
            pairs[key] = None
        elif isinstance(value, str) and value.strip():
            pairs[key] = value.strip()
        else:
            raise ConfigError(
                f"{path}: {source}.{key}: must be the {source} work's ID (a string) or false, not {value!r}"
            )
    # One work is one paper: a work named for two would have its growth counted twice.
    named: dict[str, str] = {}
    for key, work in pairs.items():
        if work is not None and work in named:
            raise ConfigError(
                f"{path}: [{source}] maps both {named[work]} and {key} to {work}; "
                "a work can be matched to one Scholar paper only"
            )
        if work is not None:
            named[work] = key
    return Overrides(pairs)


def _pair_dict(pair: Pair) -> dict[str, Any]:
    return {"scholar": pair.scholar, "other": pair.other, "confidence": pair.confidence, "by": pair.how}


def result_to_dict(result: MatchResult, scholar: AuthorRecord, other: AuthorRecord) -> dict[str, Any]:
    """The form kept in ``<author>/matches/<source>.json``: fixed key order, JSON-ready."""
    return {
        "format": MATCHES_FORMAT,
        "source": result.source,
        "scholar_fetched_at": format_time(scholar.fetched_at) if scholar.fetched_at else None,
        "source_fetched_at": format_time(other.fetched_at) if other.fetched_at else None,
        "scholar_publications": result.scholar_count,
        "source_works": result.other_count,
        "matched": [_pair_dict(p) for p in result.pairs],
        "unmatched_source": [
            {
                "id": u.pub.author_pub_id,
                "title": u.pub.title,
                "year": u.pub.year,
                "reason": u.reason,
                "candidates": [_pair_dict(c) for c in u.candidates],
            }
            for u in result.unmatched_other
        ],
        "unmatched_scholar": [p.author_pub_id for p in result.unmatched_scholar],
        "overrides": list(result.overrides),
    }


def pairs_from_dict(data: Mapping[str, Any]) -> dict[str, str]:
    """Scholar key -> other key, from a stored matches file; ``ValueError`` when it is not one."""
    if not isinstance(data, Mapping) or data.get("format") != MATCHES_FORMAT:
        raise ValueError("not a matches file of a known format")
    out: dict[str, str] = {}
    for entry in data.get("matched") or []:
        if (
            not isinstance(entry, Mapping)
            or not isinstance(entry.get("scholar"), str)
            or not isinstance(entry.get("other"), str)
        ):
            raise ValueError("a matched entry needs string 'scholar' and 'other'")
        out[entry["scholar"]] = entry["other"]
    return out


def describe(result: MatchResult, scholar: Iterable[Publication]) -> list[str]:
    """Lines for a person: the pairs, then what is unmatched on either side."""
    s_title = {p.author_pub_id: p for p in scholar}
    lines = [
        f"{result.source}: {len(result.pairs)} of {result.other_count} works matched "
        f"({result.share_matched:.0%}); {len(result.unmatched_scholar)} of {result.scholar_count} "
        "Scholar publications unmatched"
    ]
    lines.extend(f"  {note}" for note in result.overrides)
    lines.append("matched (Scholar key = work, confidence, evidence):")
    for p in result.pairs:
        s = s_title.get(p.scholar)
        lines.append(f"  {p.scholar} = {p.other}  {p.confidence:.2f} {p.how}  {s.title if s else ''}")
    lines.append(f"unmatched {result.source} works:")
    for u in result.unmatched_other:
        lines.append(f"  {u.pub.author_pub_id} ({u.pub.year or 'no year'}) {u.pub.title}: {u.reason}")
        for c in u.candidates:
            s = s_title.get(c.scholar)
            lines.append(f"      candidate {c.scholar} {c.confidence:.2f} {c.how}  {s.title if s else ''}")
    lines.append("unmatched Scholar publications:")
    for pub in result.unmatched_scholar:
        lines.append(f"  {pub.author_pub_id} ({pub.year or 'no year'}) {pub.title}")
    return lines


def latest_scholar(store: AuthorStore) -> AuthorRecord | None:
    """The newest snapshot in ``store`` that holds Google Scholar's own numbers."""
    return store.latest_from(SCHOLAR_NUMBERS)


def match_in_folder(
    data_dir: Path, scholar_id: str, source: str | None = None
) -> list[tuple[MatchResult, AuthorRecord, AuthorRecord]]:
    """Match the newest Scholar snapshot with the newest snapshot of each fallback
    series (or only ``source``'s), ``matches.toml`` applied."""
    store = AuthorStore(data_dir, scholar_id)
    scholar = latest_scholar(store)
    if scholar is None:
        raise UsageError(
            f"no Google Scholar snapshot of {scholar_id} in {data_dir}: nothing to match against"
        )
    names = store.series_names()
    if source is not None:
        if source not in names:
            raise UsageError(
                f"no {source} snapshots of {scholar_id} in {data_dir} "
                f"(sources kept beside Scholar: {', '.join(names) or 'none'})"
            )
        names = [source]
    if not names:
        raise UsageError(
            f"no fallback source's snapshots for {scholar_id} in {data_dir}: a run with a fallback source "
            'in the chain (sources = ["scholar", "openalex"]) keeps them'
        )
    results = []
    for name in names:
        latest = store.series_store(name).latest()
        if latest is None:
            continue
        other = latest[1]
        overrides = read_overrides(store.root, other.source)
        results.append((match_records(scholar, other, overrides=overrides), scholar, other))
    return results


def save_matches(
    store: AuthorStore, result: MatchResult, scholar: AuthorRecord, other: AuthorRecord
) -> Path | None:
    """Keep ``result`` in ``<author>/matches/<source>.json``; return the path when it changed."""
    path = store.root / MATCHES_DIR / f"{result.source}.json"
    data = json_bytes(result_to_dict(result, scholar, other))
    return path if write_if_changed(path, data, jail=store.data_dir, durable=False) else None
