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

import re
from collections.abc import Mapping
from typing import Any

from crawler.errors import Blocked, NotFound, ParseError, SourceUnavailable, UsageError
from crawler.models import AuthorRecord, Metrics, Profile, Publication, utc_now
from crawler.net.http import Deadline, PoliteClient
from crawler.sources import AuthorRef, SourceSettings, jsonapi
from crawler.sources.jsonapi import as_dict, as_list, opt_int, opt_str

NAME = "semantic-scholar"
ID_KEY = "semantic-scholar"
API_KEY_ENV = "SEMANTIC_SCHOLAR_API_KEY"
RATE_ADVICE = (
    "Semantic Scholar's shared pool is busy: wait and retry, or set "
    f"{API_KEY_ENV} (https://www.semanticscholar.org/product/api#api-key-form)"
)
# A key is granted one request a second; the keyless pool is shared and
# answers 429 under load, so one second between requests suits both.
API = jsonapi.Api(NAME, "Semantic Scholar", "https://api.semanticscholar.org", API_KEY_ENV, 1.0, RATE_ADVICE)
_KEY_REFUSED = jsonapi.Refusal(
    SourceUnavailable, f"Semantic Scholar refused the API key (check {API_KEY_ENV})"
)
# Without a key, 401 and 403 are the shared pool turning requests away.
_POOL_REFUSED = jsonapi.Refusal(Blocked, "Semantic Scholar refused the request")
STATUSES_WITH_KEY = {
    401: _KEY_REFUSED,
    403: _KEY_REFUSED,
    404: jsonapi.Refusal(NotFound, "Semantic Scholar has no {what}"),
}
STATUSES_WITHOUT_KEY = {**STATUSES_WITH_KEY, 401: _POOL_REFUSED, 403: _POOL_REFUSED}
PAGE_SIZE = 100
MAX_PAGES = 200
AUTHOR_FIELDS = "name,affiliations,homepage,paperCount,citationCount,hIndex"
PAPER_FIELDS = "title,year,venue,citationCount,externalIds,authors"

_ID_RE = re.compile(r"^(?:https?://(?:www\.)?semanticscholar\.org/author/(?:[^/]+/)?)?(\d+)/?$")


def author_id(author: AuthorRef) -> str:
    found = jsonapi.configured_id(
        author, ID_KEY, _ID_RE, 'a Semantic Scholar author ID (digits, e.g. semantic-scholar = "1741101")'
    )
    if found is None:
        raise UsageError(
            f'Semantic Scholar does not know Google Scholar IDs: add semantic-scholar = "..." (the digits '
            f"at the end of the author's semanticscholar.org URL) to the entry of author {author.scholar_id}"
        )
    return found


class SemanticScholarSource:
    name = NAME

    def __init__(self, client: PoliteClient, base_url: str, *, api_key: str | None = None) -> None:
        statuses = STATUSES_WITH_KEY if api_key else STATUSES_WITHOUT_KEY
        self.api = jsonapi.JsonApi(API, client, base_url, statuses, secrets=(api_key,))
        self.client = client
        self.api_key = api_key

    def close(self) -> None:
        self.api.close()

    def get_json(
        self, path: str, params: Mapping[str, str | int], deadline: Deadline, what: str
    ) -> dict[str, Any]:
        headers = {"x-api-key": self.api_key} if self.api_key else None
        return self.api.get(path, params, deadline, what, headers=headers)[0]

    def fetch(self, author: AuthorRef) -> AuthorRecord:
        s2_id = author_id(author)
        deadline = self.client.deadline()
        data = self.get_json(
            f"/graph/v1/author/{s2_id}", {"fields": AUTHOR_FIELDS}, deadline, f"author {s2_id}"
        )
        papers = self.fetch_papers(s2_id, deadline)
        return record_from_json(author.scholar_id, data, papers).with_fetched_at(utc_now())

    def fetch_papers(self, s2_id: str, deadline: Deadline) -> list[Any]:
        what = f"papers of author {s2_id}"

        def page(offset: int) -> tuple[list[Any], int | None]:
            params: dict[str, str | int] = {"fields": PAPER_FIELDS, "limit": PAGE_SIZE, "offset": offset}
            answer = self.get_json(f"/graph/v1/author/{s2_id}/papers", params, deadline, what)
            data = as_list(answer.get("data"), "data")
            next_offset = opt_int(answer.get("next"), "next")
            if data and next_offset is not None and next_offset <= offset:
                raise ParseError(f"Semantic Scholar's next offset {next_offset} does not move past {offset}")
            return data, next_offset

        return jsonapi.collect(page, 0, label="Semantic Scholar", max_pages=MAX_PAGES, what=what)


def _publication(index: int, paper: Any) -> Publication | None:
    paper = as_dict(paper, f"data[{index}]")
    pub_id = opt_str(paper.get("paperId"))
    if pub_id is None:
        return None
    names = [
        name
        for name in (
            opt_str(as_dict(a, "authors[]").get("name")) for a in as_list(paper.get("authors"), "authors")
        )
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
    papers_read, _unnamed, repeated = jsonapi.publications(papers, _publication)
    notes = (
        "Semantic Scholar gives no i10-index and no 'since YEAR' column: they are not provided",
        "Semantic Scholar gives no citations per year",
        *repeated,
        "Semantic Scholar indexes fewer venues than Google Scholar: its counts are usually lower",
    )
    return AuthorRecord(profile, metrics, (), papers_read, source=NAME, notes=notes)


def open_source(settings: SourceSettings) -> SemanticScholarSource:
    return SemanticScholarSource(API.client(settings), API.base_url(settings), api_key=API.api_key(settings))
