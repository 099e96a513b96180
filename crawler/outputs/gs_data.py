"""The AcadHomepage-compatible author object (``gs_data.json``, ``--format gs-data``).

Homepages read ``citedby`` and ``publications[ID].num_citations`` from this
shape, which is what the ``scholarly`` package produces for
``fill(author, sections=['basics', 'indices', 'counts', 'publications'])`` after
AcadHomepage turns the publication list into an object keyed by
``author_pub_id``.  It is a compatibility contract: the names below are
scholarly's and stay in this module.

Where scholarly writes ``0`` for a number the page did not show, we write
``null``: a number that was not provided is never invented.

``record_from_gs_data`` reads both kinds back (for ``import-git``):
AcadHomepage's (scholarly's author dict, publications keyed by
``author_pub_id`` or as a list, ``cites_per_year`` keys as strings or numbers)
and ours, of which it is the exact inverse, except that an empty venue and a
missing one are the same there.  ``check_gs_data`` is its check alone, for a reader
that throws the record away (``merge``): what it refuses, with the same message.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from itertools import repeat
from typing import Any

from crawler.models import (
    AuthorRecord,
    Metrics,
    Profile,
    Publication,
    cites_per_year_from,
    format_time,
    opt_int,
    opt_str,
    parse_time,
)
from crawler.policy.on_block import Estimate
from crawler.sources import SOURCES

SCHOLAR_WEB = "https://scholar.google.com"


def _citedby_url(cites_id: str) -> str:
    return f"{SCHOLAR_WEB}/scholar?oi=bibs&hl=en&cites={cites_id}"


def publication_dict(record: AuthorRecord) -> dict[str, Any]:
    pubs: dict[str, Any] = {}
    for pub in record.publications:
        entry: dict[str, Any] = {
            "bib": {
                "title": pub.title,
                "pub_year": str(pub.year) if pub.year is not None else None,
                "citation": pub.venue or "",
            },
            "num_citations": pub.citations,
            "author_pub_id": pub.author_pub_id,
        }
        if pub.authors is not None:
            entry["bib"]["author"] = pub.authors
        if pub.cites_id:
            entry["citedby_url"] = _citedby_url(pub.cites_id)
            entry["cites_id"] = pub.cites_id.split(",")
        pubs[pub.author_pub_id] = entry
    return pubs


def gs_data_dict(
    record: AuthorRecord,
    *,
    updated: datetime | None = None,
    stale_since: datetime | None = None,
    estimate: Estimate | None = None,
) -> dict[str, Any]:
    """The author object, keys in scholarly's order, ``publications`` in page order.

    ``stale_since``: the source has failed since then and these are the last
    good numbers.  ``estimate``: the numbers are an estimate on that basis
    (``"estimated": true``), never a count.
    """
    p, m = record.profile, record.metrics
    data: dict[str, Any] = {
        "container_type": "Author",
        "scholar_id": p.scholar_id,
        "source": record.source,
        "name": p.name,
        "url_picture": p.picture_url,
        "affiliation": p.affiliation,
        "interests": list(p.interests),
        "email_domain": f"@{p.email_domain}" if p.email_domain else None,
        "homepage": p.homepage,
        "citedby": m.citations,
        "citedby5y": m.citations_since,
        "hindex": m.h_index,
        "hindex5y": m.h_index_since,
        "i10index": m.i10_index,
        "i10index5y": m.i10_index_since,
        "since_year": m.since_year,
        "cites_per_year": {str(year): count for year, count in record.cites_per_year},
        "publications": publication_dict(record),
        "complete": record.complete,
    }
    if record.notes:
        data["notes"] = list(record.notes)
    if updated is not None:
        data["updated"] = format_time(updated)
    if stale_since is not None:
        data["stale_since"] = format_time(stale_since)
    if estimate is not None:
        data["estimated"] = True
        data["estimate"] = {
            "source": estimate.source,
            "since": format_time(estimate.since),
            "papers_matched": estimate.papers_matched,
            "papers": estimate.papers,
            "citations_growth": estimate.citations_growth,
        }
    return data


# -- reading it back: ours, and AcadHomepage's own (written by scholarly)


def _year(value: Any, where: str) -> int | None:
    """``bib.pub_year``: scholarly writes a string ("2021"), sometimes a number; "" or "NA" is none."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        text = value.strip()
        return int(text) if text.isdigit() else None
    raise ValueError(f"'{where}' must be a year, not {value!r}")


def _publication(entry: Any, key: str | None, where: str) -> Publication:
    if not isinstance(entry, Mapping):
        raise ValueError(f"'{where}' must be an object")
    bib = entry.get("bib") or {}
    if not isinstance(bib, Mapping):
        raise ValueError(f"'{where}.bib' must be an object")
    title = bib.get("title")
    if not isinstance(title, str):
        raise ValueError(f"'{where}.bib.title' must be a string")
    pub_id = entry.get("author_pub_id", key)
    if not isinstance(pub_id, str) or not pub_id:
        raise ValueError(f"'{where}' has no 'author_pub_id'")
    cites = entry.get("cites_id")
    if isinstance(cites, list):
        if not all(isinstance(c, str) for c in cites):
            raise ValueError(f"'{where}.cites_id' must be a list of strings")
        cites_id = ",".join(cites) or None
    else:
        cites_id = opt_str(cites, f"{where}.cites_id") or None
    return Publication(
        author_pub_id=pub_id,
        title=title,
        authors=opt_str(bib.get("author"), f"{where}.bib.author"),
        venue=opt_str(bib.get("citation"), f"{where}.bib.citation") or None,
        year=_year(bib.get("pub_year"), f"{where}.bib.pub_year"),
        citations=opt_int(entry.get("num_citations"), f"{where}.num_citations"),
        cites_id=cites_id,
    )


def record_from_gs_data(data: Any, scholar_id: str) -> AuthorRecord:
    """An ``AuthorRecord`` from a ``gs_data.json`` object; ``ValueError`` says what is wrong.

    ``scholar_id`` is used when the file does not name one.  The source is the
    file's own when it is one of ours, else ``scholar`` (AcadHomepage's
    ``source`` is scholarly's ``AUTHOR_PROFILE_PAGE``).  ``fetched_at`` is our
    file's ``updated``; AcadHomepage's ``updated`` is a local time without a
    zone, so it is not used (importers date records themselves).
    """
    if not isinstance(data, Mapping):
        raise ValueError("not a JSON object")
    if "citedby" not in data and "publications" not in data:
        raise ValueError("not an author object (no 'citedby' and no 'publications')")
    name = data.get("name")
    if not isinstance(name, str):
        raise ValueError("'name' must be a string")
    own = data.get("source") in SOURCES
    file_id = data.get("scholar_id")
    interests = data.get("interests") or []
    if not isinstance(interests, list) or not all(isinstance(i, str) for i in interests):
        raise ValueError("'interests' must be a list of strings")
    email = opt_str(data.get("email_domain"), "email_domain")
    profile = Profile(
        scholar_id=file_id if isinstance(file_id, str) and file_id else scholar_id,
        name=name,
        affiliation=opt_str(data.get("affiliation"), "affiliation"),
        interests=tuple(interests),
        email_domain=email[1:] if email and email.startswith("@") else email,
        homepage=opt_str(data.get("homepage"), "homepage"),
        picture_url=opt_str(data.get("url_picture"), "url_picture"),
    )
    metrics = Metrics(
        citations=opt_int(data.get("citedby"), "citedby"),
        citations_since=opt_int(data.get("citedby5y"), "citedby5y"),
        h_index=opt_int(data.get("hindex"), "hindex"),
        h_index_since=opt_int(data.get("hindex5y"), "hindex5y"),
        i10_index=opt_int(data.get("i10index"), "i10index"),
        i10_index_since=opt_int(data.get("i10index5y"), "i10index5y"),
        since_year=opt_int(data.get("since_year"), "since_year"),
    )
    years = cites_per_year_from(data.get("cites_per_year"))
    raw_pubs = data.get("publications") or []
    if isinstance(raw_pubs, Mapping):
        pubs = [_publication(v, k, f"publications.{k}") for k, v in raw_pubs.items()]
    elif isinstance(raw_pubs, list):
        pubs = [_publication(v, None, f"publications[{i}]") for i, v in enumerate(raw_pubs)]
    else:
        raise ValueError("'publications' must be an object or a list")
    notes = data.get("notes") or []
    if not isinstance(notes, list):
        raise ValueError("'notes' must be a list")
    updated = data.get("updated")
    fetched_at = None
    if own and isinstance(updated, str):
        try:
            fetched_at = parse_time(updated)
        except (ValueError, OverflowError):  # not a time, or none a datetime holds in UTC
            fetched_at = None
    return AuthorRecord(
        profile=profile,
        metrics=metrics,
        cites_per_year=tuple(sorted(years)),
        publications=tuple(pubs),
        complete=bool(data.get("complete", True)),
        source=str(data["source"]) if own else "scholar",
        fetched_at=fetched_at,
        notes=tuple(str(n) for n in notes),
    )


# -- the check alone: what ``record_from_gs_data`` accepts, proved without building the record


def check_gs_data(data: Any, scholar_id: str) -> None:
    """Raise what ``record_from_gs_data(data, scholar_id)`` raises, or nothing when it reads.

    A file as our writer makes it (every field of its type, nothing to convert) is walked
    once without a ``Publication`` made for each row; anything else, the first sign of a
    field out of the common shape, takes ``record_from_gs_data`` itself, which says what
    is wrong.  So the walk only ever accepts, and only what the reader accepts too."""
    if not _gs_data_as_written(data):
        record_from_gs_data(data, scholar_id)


def _opt_count(value: Any) -> bool:
    return value is None or (type(value) is int and value >= 0)


def _gs_data_as_written(data: Any) -> bool:
    """Whether ``record_from_gs_data`` certainly accepts ``data`` (``False``: ask it)."""
    if type(data) is not dict or ("citedby" not in data and "publications" not in data):
        return False
    get = data.get
    if type(get("name")) is not str:
        return False
    interests = get("interests") or []
    if type(interests) is not list or not all(type(i) is str for i in interests):
        return False
    for key in ("email_domain", "affiliation", "homepage", "url_picture"):
        if get(key) is not None and type(get(key)) is not str:
            return False
    if not all(_opt_count(get(key)) for key in _METRIC_KEYS):
        return False
    try:
        cites_per_year_from(get("cites_per_year"))
    except Exception:  # whatever it is, the reader's to raise
        return False
    pubs = get("publications") or []
    if type(pubs) is dict:
        if not _publications_as_written(pubs.items()):
            return False
    elif type(pubs) is not list or not _publications_as_written(zip(repeat(None), pubs)):
        return False
    source = get("source")
    if type(get("notes") or []) is not list or (source is not None and type(source) is not str):
        return False
    updated = get("updated")
    if source in SOURCES and isinstance(updated, str):
        # As the reader does, to the letter: what it lets through, and what it does not.
        try:
            parse_time(updated)
        except (ValueError, OverflowError):
            pass
        except Exception:  # the reader's to raise
            return False
    return True


_METRIC_KEYS = ("citedby", "citedby5y", "hindex", "hindex5y", "i10index", "i10index5y", "since_year")


def _publications_as_written(rows: Iterable[tuple[str | None, Any]]) -> bool:
    """Whether ``_publication`` certainly reads each of ``rows`` (its key, its entry): one loop,
    no call for each of the hundreds of rows a profile has."""
    for key, entry in rows:
        if type(entry) is not dict:
            return False
        get = entry.get
        bib = get("bib")
        if type(bib) is not dict or type(bib.get("title")) is not str:
            return False
        pub_id = get("author_pub_id", key)
        if type(pub_id) is not str or not pub_id:
            return False
        cites = get("cites_id")
        if type(cites) is list:
            for cluster in cites:
                if type(cluster) is not str:
                    return False
        elif cites is not None and type(cites) is not str:
            return False
        author, citation, year = bib.get("author"), bib.get("citation"), bib.get("pub_year")
        if author is not None and type(author) is not str:
            return False
        if citation is not None and type(citation) is not str:
            return False
        # A year as a number, or ASCII text short enough for ``int`` (digits another script
        # writes, which ``int`` may refuse, are the reader's to say).
        if (
            year is not None
            and type(year) is not int
            and not (type(year) is str and year.isascii() and len(year) <= 20)
        ):
            return False
        count = get("num_citations")
        if count is not None and (type(count) is not int or count < 0):
            return False
    return True
