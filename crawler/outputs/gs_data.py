"""The AcadHomepage-compatible author object (``gs_data.json``, ``--format gs-data``).

Homepages read ``citedby`` and ``publications[ID].num_citations`` from this
shape, which is what the ``scholarly`` package produces for
``fill(author, sections=['basics', 'indices', 'counts', 'publications'])`` after
AcadHomepage turns the publication list into an object keyed by
``author_pub_id``.  It is a compatibility contract: the names below are
scholarly's and stay in this module.

Where scholarly writes ``0`` for a number the page did not show, we write
``null``: a number that was not provided is never invented.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from crawler.models import AuthorRecord, format_time
from crawler.on_block import Estimate

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
