"""Typed, frozen records of an author as a source saw it.

``None`` always means "not provided by the source", never zero.  A record
knows whether it is complete (every publication page came back) and which
source produced it, so the guard can refuse a partial fetch and a badge can say
where its number came from.

The snapshot format is ``record_to_dict`` / ``record_from_dict``: a JSON object
with a fixed key order and ``"format": 1``.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

SNAPSHOT_FORMAT = 1


class TextEnum(enum.StrEnum):
    """One word of a fixed set (a status, a format): it compares, hashes, prints
    and goes into JSON as that word, so code and files that hold the plain
    string keep working; ``crawler.commands._options.ValueChoice`` offers it
    on the command line."""

    __hash__ = str.__hash__


SCHOLAR_ID_RE = re.compile(r"^[A-Za-z0-9_-]{12}$")
_ID_IN_URL_RE = re.compile(r"[?&]user=([A-Za-z0-9_-]{12})(?:[&#]|$)")


# Scholar's publication ID, ``USERID:PUBID`` (``citation_for_view``, SerpApi's ``citation_id``):
# the author's 12-character ID, a colon, and a short token of the same alphabet (12 on
# every page seen; a little room either way).  Anything else is not Scholar's.
SCHOLAR_PUB_ID_RE = re.compile(r"^[A-Za-z0-9_-]{12}:[A-Za-z0-9_-]{1,64}$")


def check_scholar_pub_id(value: str) -> str:
    """``value`` if it is shaped like Scholar's ``USERID:PUBID``; else ``ValueError`` saying so."""
    if not SCHOLAR_PUB_ID_RE.match(value):
        raise ValueError(
            f"publication ID {value[:80]!r} is not Scholar's (USERID:PUBID, letters, digits, '-' and '_')"
        )
    return value


def normalize_scholar_id(value: str) -> str:
    """Return the 12-character Scholar ID in ``value`` (an ID or a profile URL).

    Raises ``ValueError`` with a one-line reason when there is none.
    """
    text = value.strip()
    if SCHOLAR_ID_RE.match(text):
        return text
    match = _ID_IN_URL_RE.search(text)
    if match:
        return match.group(1)
    raise ValueError(
        f"not a Google Scholar ID: {value!r} (an ID is 12 letters, digits, '-' or '_', "
        "e.g. amIMrIEAAAAJ, or a profile URL with user=...)"
    )


@dataclass(frozen=True, slots=True)
class Profile:
    scholar_id: str
    name: str
    affiliation: str | None = None
    interests: tuple[str, ...] = ()
    email_domain: str | None = None
    homepage: str | None = None
    picture_url: str | None = None


@dataclass(frozen=True, slots=True)
class Metrics:
    """The stats table: each metric over all years and since ``since_year``."""

    citations: int | None = None
    citations_since: int | None = None
    h_index: int | None = None
    h_index_since: int | None = None
    i10_index: int | None = None
    i10_index_since: int | None = None
    since_year: int | None = None


@dataclass(frozen=True, slots=True)
class Publication:
    author_pub_id: str
    title: str
    authors: str | None = None
    venue: str | None = None
    year: int | None = None
    citations: int | None = None
    cites_id: str | None = None
    doi: str | None = None


# A count as Scholar and the APIs print it: bare digits, or groups of three
# joined by one locale's separator ("1,234", "1.234", "1 234", "1'234").  No
# sign, exponent, decimals or trailing words: "-5" is not 5 and "1e9" is not 1.
_COUNT_RE = re.compile(r"[0-9]+|[0-9]{1,3}(?:(?P<sep>[,.' ])[0-9]{3})(?:(?P=sep)[0-9]{3})*")


_NOT_DIGIT_RE = re.compile(r"[^0-9]")


def parse_count(text: str) -> int:
    """The count ``text`` writes (any Unicode space read as a separator); ``ValueError`` if it is none."""
    if text.isascii() and text.isdigit():
        # Most cells are bare digits ("12"): no regex needed.
        return int(text)
    cleaned = " ".join(text.split())
    if not _COUNT_RE.fullmatch(cleaned):
        raise ValueError(f"{text[:40]!r} is not a count")
    return int(_NOT_DIGIT_RE.sub("", cleaned))


def repeated_note(repeated: tuple[str, ...]) -> tuple[str, ...]:
    """The record's note about publication IDs a source listed more than once."""
    if not repeated:
        return ()
    shown = ", ".join(repeated[:3]) + (", ..." if len(repeated) > 3 else "")
    return (f"{len(repeated)} publication IDs were listed twice ({shown}); each is counted once",)


def unique_publications(pubs: Iterable[Publication]) -> tuple[tuple[Publication, ...], tuple[str, ...]]:
    """``pubs`` with each ``author_pub_id`` once (its first row), and the IDs that repeated."""
    seen: set[str] = set()
    kept: list[Publication] = []
    repeated: list[str] = []
    for pub in pubs:
        if pub.author_pub_id in seen:
            repeated.append(pub.author_pub_id)
            continue
        seen.add(pub.author_pub_id)
        kept.append(pub)
    return tuple(kept), tuple(dict.fromkeys(repeated))


@dataclass(frozen=True, slots=True)
class AuthorRecord:
    profile: Profile
    metrics: Metrics
    cites_per_year: tuple[tuple[int, int], ...] = ()
    publications: tuple[Publication, ...] = ()
    complete: bool = True
    source: str = "scholar"
    fetched_at: datetime | None = None
    # What the source could not provide, in words (e.g. "counts_by_year covers
    # only the last 10 years"); shown in outputs so a number is never mistaken.
    notes: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        # One publication per ID, whatever the source sent: badges count
        # ``publications``, gs_data keys them by ID, and the two must agree.
        unique, repeated = unique_publications(self.publications)
        if repeated or not isinstance(self.publications, tuple):
            object.__setattr__(self, "publications", unique)

    @property
    def scholar_id(self) -> str:
        return self.profile.scholar_id

    @property
    def cites_per_year_map(self) -> dict[int, int]:
        return dict(self.cites_per_year)

    def with_fetched_at(self, when: datetime) -> AuthorRecord:
        return replace(self, fetched_at=when)


def utc_now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def format_time(when: datetime) -> str:
    """UTC ISO-8601 with a ``Z``: ``2026-11-23T19:35:50Z``."""
    return when.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds") + "Z"


def parse_time(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def record_to_dict(record: AuthorRecord) -> dict[str, Any]:
    """The snapshot form of a record: fixed key order, JSON-ready."""
    p, m = record.profile, record.metrics
    return {
        "format": SNAPSHOT_FORMAT,
        "scholar_id": p.scholar_id,
        "source": record.source,
        "fetched_at": format_time(record.fetched_at) if record.fetched_at else None,
        "complete": record.complete,
        "notes": list(record.notes),
        "profile": {
            "name": p.name,
            "affiliation": p.affiliation,
            "interests": list(p.interests),
            "email_domain": p.email_domain,
            "homepage": p.homepage,
            "picture_url": p.picture_url,
        },
        "metrics": {
            "citations": m.citations,
            "citations_since": m.citations_since,
            "h_index": m.h_index,
            "h_index_since": m.h_index_since,
            "i10_index": m.i10_index,
            "i10_index_since": m.i10_index_since,
            "since_year": m.since_year,
        },
        "cites_per_year": {str(year): count for year, count in record.cites_per_year},
        # Ahead of the list, so a reader of totals can stop before it (crawler.history.snapshots).
        "publication_count": len(record.publications),
        "publications": [
            {
                "author_pub_id": pub.author_pub_id,
                "title": pub.title,
                "authors": pub.authors,
                "venue": pub.venue,
                "year": pub.year,
                "citations": pub.citations,
                "cites_id": pub.cites_id,
                # Only sources that know DOIs give one; Scholar's snapshots stay as they were.
                **({"doi": pub.doi} if pub.doi else {}),
            }
            for pub in record.publications
        ],
    }


def opt_int(value: Any, where: str) -> int | None:
    """``value`` as a count (an integer, 0 or more), or None; ``ValueError`` names ``where`` otherwise.

    Every integer a record holds is a count or a year: a negative one is a
    hand-edited or forged file, never something a source said.
    """
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"'{where}' must be an integer of 0 or more, or null, not {value!r}")
    return value


def opt_str(value: Any, where: str) -> str | None:
    """``value`` as a string, or None; ``ValueError`` names ``where`` otherwise."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"'{where}' must be a string or null, not {value!r}")
    return value


def cites_per_year_from(value: Any) -> list[tuple[int, int]]:
    """``{"2020": 12, ...}`` as (year, count) pairs in year order; ``ValueError`` names a bad entry.

    A year's count must be a number: a year that is listed without one is not
    provided, and reading it as 0 would draw a bar that never was.
    """
    if value is None:
        return []
    if not isinstance(value, Mapping):
        raise ValueError("'cites_per_year' must be an object")
    years = []
    for year, count in value.items():
        if not str(year).isdigit():
            raise ValueError(f"'cites_per_year' has a key that is not a year: {year!r}")
        number = opt_int(count, f"cites_per_year.{year}")
        if number is None:
            raise ValueError(f"'cites_per_year.{year}' must be an integer, not null")
        years.append((int(year), number))
    return sorted(years)


def _publication_quick(pub: object) -> Publication | None:
    """The publication when every field has its right type; None sends it through
    the checks that name what is wrong.  A snapshot holds hundreds of them, and
    naming each field ahead of an error that almost never comes costs more than
    reading it."""
    if type(pub) is not dict:
        return None
    get = pub.get
    pub_id, title, authors, venue = get("author_pub_id"), get("title"), get("authors"), get("venue")
    year, citations, cites_id, doi = get("year"), get("citations"), get("cites_id"), get("doi")
    if not (type(pub_id) is str and type(title) is str):
        return None
    for text in (authors, venue, cites_id, doi):
        if text is not None and type(text) is not str:
            return None
    for number in (year, citations):
        if number is not None and (type(number) is not int or number < 0):
            return None
    return Publication(pub_id, title, authors, venue, year, citations, cites_id, doi)


def snapshot_head(data: Mapping[str, Any]) -> tuple[str, str, Mapping[str, Any], Mapping[str, Any]]:
    """What every reader of a snapshot checks first: ``scholar_id``, ``profile.name``,
    the ``profile`` and ``metrics`` objects; ``ValueError`` names the first field that is wrong."""
    # ``type(...) is dict`` first: what json.loads gives, checked without the ABC's machinery.
    if type(data) is not dict and not isinstance(data, Mapping):
        raise ValueError("a snapshot must be a JSON object")
    if data.get("format") != SNAPSHOT_FORMAT:
        raise ValueError(f"unknown snapshot format {data.get('format')!r}")
    prof = data.get("profile")
    met = data.get("metrics")
    if not (type(prof) is dict or isinstance(prof, Mapping)) or not (
        type(met) is dict or isinstance(met, Mapping)
    ):
        raise ValueError("a snapshot needs 'profile' and 'metrics' objects")
    scholar_id = data.get("scholar_id")
    if not isinstance(scholar_id, str) or not scholar_id:
        raise ValueError("'scholar_id' must be a non-empty string")
    name = prof.get("name")
    if not isinstance(name, str):
        raise ValueError("'profile.name' must be a string")
    return scholar_id, name, prof, met


def record_from_dict(data: Mapping[str, Any]) -> AuthorRecord:
    """Read a snapshot back; ``ValueError`` names the first field that is wrong."""
    scholar_id, name, prof, met = snapshot_head(data)
    interests = prof.get("interests") or []
    if not isinstance(interests, list) or not all(isinstance(i, str) for i in interests):
        raise ValueError("'profile.interests' must be a list of strings")
    profile = Profile(
        scholar_id=scholar_id,
        name=name,
        affiliation=opt_str(prof.get("affiliation"), "profile.affiliation"),
        interests=tuple(interests),
        email_domain=opt_str(prof.get("email_domain"), "profile.email_domain"),
        homepage=opt_str(prof.get("homepage"), "profile.homepage"),
        picture_url=opt_str(prof.get("picture_url"), "profile.picture_url"),
    )
    metrics = Metrics(**{key: opt_int(met.get(key), f"metrics.{key}") for key in Metrics.__slots__})
    cites_per_year = cites_per_year_from(data.get("cites_per_year"))
    pubs = data.get("publications") or []
    if not isinstance(pubs, list):
        raise ValueError("'publications' must be a list")
    publications = []
    for index, pub in enumerate(pubs):
        quick = _publication_quick(pub)
        if quick is not None:
            publications.append(quick)
            continue
        where = f"publications[{index}]"
        if not isinstance(pub, Mapping):
            raise ValueError(f"{where} must be an object")
        pub_id = pub.get("author_pub_id")
        title = pub.get("title")
        if not isinstance(pub_id, str) or not isinstance(title, str):
            raise ValueError(f"{where} needs string 'author_pub_id' and 'title'")
        publications.append(
            Publication(
                author_pub_id=pub_id,
                title=title,
                authors=opt_str(pub.get("authors"), f"{where}.authors"),
                venue=opt_str(pub.get("venue"), f"{where}.venue"),
                year=opt_int(pub.get("year"), f"{where}.year"),
                citations=opt_int(pub.get("citations"), f"{where}.citations"),
                cites_id=opt_str(pub.get("cites_id"), f"{where}.cites_id"),
                doi=opt_str(pub.get("doi"), f"{where}.doi"),
            )
        )
    fetched = data.get("fetched_at")
    notes = data.get("notes") or []
    return AuthorRecord(
        profile=profile,
        metrics=metrics,
        cites_per_year=tuple(sorted(cites_per_year)),
        publications=tuple(publications),
        complete=bool(data.get("complete", True)),
        source=str(data.get("source") or "scholar"),
        fetched_at=parse_time(fetched) if isinstance(fetched, str) else None,
        notes=tuple(str(n) for n in notes),
    )
