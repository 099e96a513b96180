"""Semantic Scholar's Graph API, by Semantic Scholar author ID.

Semantic Scholar does not know Google Scholar IDs: the author's entry in the
configuration names theirs (``semantic-scholar = "1741101"``, the digits at the
end of the author page's URL); the Scholar ID still names the data folder.

Requests: ``GET {base}/graph/v1/author/{id}?fields=name,affiliations,homepage,
paperCount,citationCount,hIndex`` then ``GET {base}/graph/v1/author/{id}/papers?
fields=title,year,venue,citationCount,externalIds,authors&limit=100&offset=N``
following ``next`` until the answer has none.  An API key (env
``SEMANTIC_SCHOLAR_API_KEY``) goes in the ``x-api-key`` header when given;
without one, requests share a public pool that answers 429 when busy.

What it cannot provide, and the record says so in ``notes``: no i10-index, no
"since YEAR" column, no citations per year, no interests, e-mail domain or
picture.  Its counts are lower than Scholar's: it indexes fewer venues.

Errors: 404 -> ``NotFound``; 401/403 with a key -> ``SourceUnavailable`` (the
key is refused), 403 without one -> ``Blocked``; 429 -> retried after its
``Retry-After``, then ``Blocked``; JSON not understood -> ``ParseError``.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from typing import Any

from crawler.errors import Blocked, FetchError, NotFound, ParseError, SourceUnavailable, UsageError
from crawler.http import Deadline, PoliteClient, build_client
from crawler.models import AuthorRecord, Metrics, Profile, Publication, utc_now
from crawler.sources import AuthorRef, SourceSettings
from crawler.sources._api import (
    api_options,
    as_dict,
    as_list,
    opt_int,
    opt_str,
    rate_limited,
    read_json,
    redact,
    redacted,
)

log = logging.getLogger(__name__)

NAME = "semantic-scholar"
ID_KEY = "semantic-scholar"
DEFAULT_BASE_URL = "https://api.semanticscholar.org"
BASE_URL_ENV = "SCHOLAR_STATS_SEMANTIC_SCHOLAR_URL"
API_KEY_ENV = "SEMANTIC_SCHOLAR_API_KEY"
# A key is granted one request a second; the keyless pool is shared and
# answers 429 under load, so one second between requests suits both.
DEFAULT_DELAY = 1.0
PAGE_SIZE = 100
MAX_PAGES = 200
AUTHOR_FIELDS = "name,affiliations,homepage,paperCount,citationCount,hIndex"
PAPER_FIELDS = "title,year,venue,citationCount,externalIds,authors"
RATE_ADVICE = (
    "Semantic Scholar's shared pool is busy: wait and retry, or set "
    f"{API_KEY_ENV} (https://www.semanticscholar.org/product/api#api-key-form)"
)

_ID_RE = re.compile(r"^(?:https?://(?:www\.)?semanticscholar\.org/author/(?:[^/]+/)?)?(\d+)/?$")


def base_url_from(settings: SourceSettings) -> str:
    return (settings.base_url or os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL).rstrip("/")


def author_id(author: AuthorRef) -> str:
    value = author.ids.get(ID_KEY)
    if not value:
        raise UsageError(
            f'Semantic Scholar does not know Google Scholar IDs: add semantic-scholar = "..." (the digits '
            f"at the end of the author's semanticscholar.org URL) to the entry of author {author.scholar_id}"
        )
    match = _ID_RE.match(value.strip())
    if not match:
        raise UsageError(
            f"semantic-scholar = {value!r} for author {author.scholar_id} is not a Semantic Scholar "
            'author ID (digits, e.g. semantic-scholar = "1741101")'
        )
    return match.group(1)


class SemanticScholarSource:
    name = NAME

    def __init__(self, client: PoliteClient, base_url: str, *, api_key: str | None = None) -> None:
        self.client = client
        self.base_url = base_url
        self.api_key = api_key

    def close(self) -> None:
        self.client.close()

    def get_json(self, path: str, params: Mapping[str, str | int], deadline: Deadline, what: str) -> dict[str, Any]:
        url = f"{self.base_url}{path}"
        headers = {"x-api-key": self.api_key} if self.api_key else None
        try:
            response, body = self.client.get(
                url, params=params, headers=headers, deadline=deadline, blocked_statuses=()
            )
        except Blocked as exc:
            raise rate_limited("Semantic Scholar", exc, RATE_ADVICE) from exc
        except NotFound as exc:
            raise NotFound(f"Semantic Scholar has no {what}", url=redact(exc.url), status=exc.status) from exc
        except FetchError as exc:
            if exc.status in (401, 403) and self.api_key:
                raise SourceUnavailable(
                    f"Semantic Scholar refused the API key (check {API_KEY_ENV})", url=redact(exc.url), status=exc.status
                ) from exc
            if exc.status in (401, 403):
                error = Blocked("Semantic Scholar refused the request", kind=f"http-{exc.status}", url=redact(exc.url), status=exc.status)
                error.advice = RATE_ADVICE
                raise error from exc
            raise redacted(exc) from exc
        return read_json(body, url=str(response.request.url), what=f"Semantic Scholar {what}")

    def fetch(self, author: AuthorRef) -> AuthorRecord:
        s2_id = author_id(author)
        deadline = self.client.deadline()
        data = self.get_json(f"/graph/v1/author/{s2_id}", {"fields": AUTHOR_FIELDS}, deadline, f"author {s2_id}")
        papers = self.fetch_papers(s2_id, deadline)
        return record_from_json(author.scholar_id, data, papers).with_fetched_at(utc_now())

    def fetch_papers(self, s2_id: str, deadline: Deadline) -> list[Any]:
        papers: list[Any] = []
        offset = 0
        for _page in range(MAX_PAGES):
            params: dict[str, str | int] = {"fields": PAPER_FIELDS, "limit": PAGE_SIZE, "offset": offset}
            page = self.get_json(f"/graph/v1/author/{s2_id}/papers", params, deadline, f"papers of author {s2_id}")
            data = as_list(page.get("data"), "data")
            papers.extend(data)
            next_offset = opt_int(page.get("next"), "next")
            if next_offset is None or not data:
                return papers
            if next_offset <= offset:
                raise ParseError(f"Semantic Scholar's next offset {next_offset} does not move past {offset}")
            offset = next_offset
            log.info("%s: %d papers so far from Semantic Scholar", s2_id, len(papers))
        raise ParseError(f"Semantic Scholar kept offering pages after {MAX_PAGES} of them")


def _publication(index: int, paper: Any) -> Publication | None:
    paper = as_dict(paper, f"data[{index}]")
    pub_id = opt_str(paper.get("paperId"))
    if pub_id is None:
        return None
    names = [
        name
        for name in (opt_str(as_dict(a, "authors[]").get("name")) for a in as_list(paper.get("authors"), "authors"))
        if name
    ]
    return Publication(
        author_pub_id=pub_id,
        title=opt_str(paper.get("title")) or "",
        authors=", ".join(names) or None,
        venue=opt_str(paper.get("venue")),
        year=opt_int(paper.get("year"), f"data[{index}].year"),
        citations=opt_int(paper.get("citationCount"), f"data[{index}].citationCount"),
        cites_id=None,
        doi=opt_str(as_dict(paper.get("externalIds"), f"data[{index}].externalIds").get("DOI")),
    )


def record_from_json(scholar_id: str, data: Mapping[str, Any], papers: list[Any]) -> AuthorRecord:
    name = opt_str(data.get("name"))
    if name is None:
        raise ParseError("Semantic Scholar's author has no name; the response format changed")
    affiliations = [a for a in (opt_str(v) for v in as_list(data.get("affiliations"), "affiliations")) if a]
    profile = Profile(
        scholar_id=scholar_id,
        name=name,
        affiliation="; ".join(affiliations) or None,
        homepage=opt_str(data.get("homepage")),
    )
    metrics = Metrics(
        citations=opt_int(data.get("citationCount"), "citationCount"),
        h_index=opt_int(data.get("hIndex"), "hIndex"),
    )
    publications: list[Publication] = []
    seen: set[str] = set()
    for index, paper in enumerate(papers):
        pub = _publication(index, paper)
        if pub is not None and pub.author_pub_id not in seen:
            seen.add(pub.author_pub_id)
            publications.append(pub)
    notes = (
        "Semantic Scholar gives no i10-index and no 'since YEAR' column: they are not provided",
        "Semantic Scholar gives no citations per year",
        "Semantic Scholar indexes fewer venues than Google Scholar: its counts are usually lower",
    )
    return AuthorRecord(
        profile=profile,
        metrics=metrics,
        cites_per_year=(),
        publications=tuple(publications),
        complete=True,
        source=NAME,
        notes=notes,
    )


def open_source(settings: SourceSettings) -> SemanticScholarSource:
    options = api_options(settings.http, delay=DEFAULT_DELAY)
    client = PoliteClient(build_client(options, transport=settings.transport), options)
    return SemanticScholarSource(
        client, base_url_from(settings), api_key=settings.api_key or os.environ.get(API_KEY_ENV) or None
    )
