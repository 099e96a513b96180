"""Google Scholar through SerpApi's ``google_scholar_author`` engine.

SerpApi fetches the Scholar profile on its side and answers JSON, so a runner
that Scholar blocks still gets Scholar's own numbers.  It needs a paid (or
free-tier) API key: ``SERPAPI_KEY`` in the environment, or ``api_key`` in the
source settings.  Every page is one search of the account's monthly quota.

One profile costs ceil(N/100) searches: ``GET {base}/search.json?engine=
google_scholar_author&author_id=ID&hl=en&num=100&start=0``, then the offset
that ``serpapi_pagination.next`` names (``cstart=``, as SerpApi writes it, or
``start=``; the articles received so far when it names neither), while articles
keep coming.  The next URL itself is not followed: it points at serpapi.com and
carries no key, so only its offset is read.

What SerpApi's JSON maps to:

* ``author``: name, affiliations, email ("Verified email at x.org" -> x.org),
  interests[].title, website, thumbnail;
* ``cited_by.table``: rows ``citations``/``h_index``/``i10_index``, each with
  ``all`` and one ``since_YYYY`` key whose name changes every year: it is read
  by its pattern and gives ``since_year``;
* ``cited_by.graph``: ``[{year, citations}]`` -> citations per year;
* ``articles``: ``citation_id`` -> ``author_pub_id``, title, authors,
  ``publication`` -> venue, ``year``, ``cited_by.value`` and ``cited_by.cites_id``.

Errors: 401 (bad key) and 403 (account refused) -> ``SourceUnavailable``; 404
-> ``NotFound``; 429 (hourly limit or searches used up) -> retried after its
``Retry-After``, then ``Blocked``; a 200 whose ``error`` says Google returned
no results -> ``NotFound`` on the first page, the end of the list later; any
other ``error`` -> ``FetchError``; JSON that is not understood -> ``ParseError``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

from crawler.errors import FetchError, NotFound, ParseError, SourceUnavailable, UsageError
from crawler.models import (
    SCHOLAR_ID_RE,
    AuthorRecord,
    Metrics,
    Profile,
    Publication,
    check_scholar_pub_id,
    utc_now,
)
from crawler.net.http import Deadline, PoliteClient
from crawler.sources import AuthorRef, SourceSettings, jsonapi
from crawler.sources.jsonapi import as_dict, as_list, opt_int, opt_str

log = logging.getLogger(__name__)

NAME = "serpapi"
API_KEY_ENV = "SERPAPI_KEY"
RATE_ADVICE = (
    "SerpApi's hourly limit or the month's searches are used up: wait, or check the plan "
    "at https://serpapi.com/dashboard"
)
# SerpApi limits searches per hour and per month, not per second; half a
# second between the few pages of one profile is plenty.
API = jsonapi.Api(NAME, "SerpApi", "https://serpapi.com", API_KEY_ENV, delay=0.5, rate_advice=RATE_ADVICE)
STATUSES = {
    401: jsonapi.Refusal(SourceUnavailable, f"SerpApi refused the API key (check {API_KEY_ENV})"),
    403: jsonapi.Refusal(
        SourceUnavailable, "SerpApi refused the request for this account (deleted or without permission)"
    ),
    404: jsonapi.Refusal(NotFound, "SerpApi found no {what}"),
}
DEFAULT_DELAY = API.delay
PAGE_SIZE = 100
MAX_PAGES = 100
# SerpApi's own words when Scholar shows nothing for the query: for a profile
# that does not exist, or for a ``start`` past the last article.
NO_RESULTS = "hasn't returned any results"

_SINCE_RE = re.compile(r"^since_(\d{4})$")
_DOMAIN_RE = re.compile(r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,}")
_METRIC_ROWS = ("citations", "h_index", "i10_index")


class SerpApiSource:
    name = NAME

    def __init__(self, client: PoliteClient, base_url: str, api_key: str | None) -> None:
        self.api = jsonapi.JsonApi(API, client, base_url, STATUSES, secrets=(api_key,))
        self.client = client
        self.api_key = api_key

    def close(self) -> None:
        self.api.close()

    def fetch_page(self, scholar_id: str, start: int, deadline: Deadline) -> dict[str, Any] | None:
        """One page of the author's JSON; ``None`` when SerpApi says Google showed nothing."""
        params: dict[str, str | int] = {
            "engine": "google_scholar_author",
            "author_id": scholar_id,
            "hl": "en",
            "num": PAGE_SIZE,
            "start": start,
            "api_key": self.api_key or "",
        }
        what = f"Google Scholar profile with ID {scholar_id}"
        data, url = self.api.get("/search.json", params, deadline, what)
        error = data.get("error")
        if error is not None:
            if isinstance(error, str) and NO_RESULTS in error:
                return None
            raise FetchError(f"SerpApi answered with an error: {error}", url=url)
        return data

    def fetch(self, author: AuthorRef) -> AuthorRecord:
        if not self.api_key:
            raise SourceUnavailable(
                f"SerpApi needs an API key: set {API_KEY_ENV} (https://serpapi.com/manage-api-key)"
            )
        scholar_id = author.scholar_id
        if not SCHOLAR_ID_RE.match(scholar_id):
            raise UsageError(
                f"SerpApi needs a Google Scholar ID (12 characters, e.g. amIMrIEAAAAJ), not {scholar_id!r}"
            )
        deadline = self.client.deadline()
        pages: list[Mapping[str, Any]] = []

        def page(start: int) -> tuple[list[Any], int | None]:
            answer = self.fetch_page(scholar_id, start, deadline)
            if answer is None:
                if not pages:
                    raise NotFound(f"SerpApi found no Google Scholar profile with ID {scholar_id}")
                return [], None
            pages.append(answer)
            articles = as_list(answer.get("articles"), "articles")
            return articles, _next_start(answer, start, len(articles))

        articles = jsonapi.collect(
            page, 0, label="SerpApi", max_pages=MAX_PAGES, what=f"articles of {scholar_id}"
        )
        return record_from_json(scholar_id, pages[0], articles).with_fetched_at(utc_now())


def _next_start(page: Mapping[str, Any], start: int, received: int) -> int | None:
    """The offset of the page after ``page``, read from ``serpapi_pagination.next``.

    SerpApi's next links carry the offset as ``cstart=`` (Scholar's own name:
    ``...author_id=ID&cstart=20&engine=google_scholar_author&hl=en``); ``start=``
    (the request parameter's name) is read too.  A link with neither goes on
    after the ``received`` articles of this page.
    """
    pagination = as_dict(page.get("serpapi_pagination"), "serpapi_pagination")
    next_url = opt_str(pagination.get("next"))
    if next_url is None:
        return None
    try:
        query = parse_qs(urlsplit(next_url).query)
    except ValueError:
        raise ParseError("SerpApi's next page link is not a URL", url=next_url) from None
    # isdigit() alone would let "²" through to int().
    offsets = [
        v[0] for v in (query.get("cstart"), query.get("start")) if v and v[0].isascii() and v[0].isdigit()
    ]
    next_start = int(offsets[0]) if offsets else start + received
    if next_start <= start:
        raise ParseError(f"SerpApi's next page starts at {next_start}, not after {start}", url=next_url)
    return next_start


def _metrics(cited_by: Mapping[str, Any]) -> Metrics:
    found: dict[str, tuple[int | None, int | None]] = {}
    since_years: set[int] = set()
    for index, row in enumerate(as_list(cited_by.get("table"), "cited_by.table")):
        for key, columns in as_dict(row, f"cited_by.table[{index}]").items():
            if key not in _METRIC_ROWS:
                continue
            columns = as_dict(columns, f"cited_by.table.{key}")
            since_value = None
            for column, value in columns.items():
                match = _SINCE_RE.match(column)
                if match:
                    since_years.add(int(match.group(1)))
                    since_value = opt_int(value, f"cited_by.table.{key}.{column}")
            found[key] = (opt_int(columns.get("all"), f"cited_by.table.{key}.all"), since_value)
    if len(since_years) > 1:
        raise ParseError(f"SerpApi's stats table names several 'since' years: {sorted(since_years)}")
    citations, h_index, i10_index = (found.get(key, (None, None)) for key in _METRIC_ROWS)
    return Metrics(
        citations=citations[0],
        citations_since=citations[1],
        h_index=h_index[0],
        h_index_since=h_index[1],
        i10_index=i10_index[0],
        i10_index_since=i10_index[1],
        since_year=since_years.pop() if since_years else None,
    )


def _publication(index: int, article: Any) -> Publication | None:
    article = as_dict(article, f"articles[{index}]")
    pub_id = opt_str(article.get("citation_id"))
    if pub_id is None:
        return None
    try:
        check_scholar_pub_id(pub_id)
    except ValueError as exc:
        raise ParseError(f"articles[{index}].citation_id: {exc}") from None
    cited_by = as_dict(article.get("cited_by"), f"articles[{index}].cited_by")
    year = opt_int(article.get("year"), f"articles[{index}].year")
    return Publication(
        author_pub_id=pub_id,
        title=opt_str(article.get("title")) or "",
        authors=opt_str(article.get("authors")),
        venue=opt_str(article.get("publication")),
        year=year,
        citations=opt_int(cited_by.get("value"), f"articles[{index}].cited_by.value"),
        cites_id=opt_str(cited_by.get("cites_id")),
    )


def record_from_json(scholar_id: str, first: Mapping[str, Any], articles: list[Any]) -> AuthorRecord:
    """The record from SerpApi's first page and the articles of every page."""
    author = as_dict(first.get("author"), "author")
    name = opt_str(author.get("name"))
    if name is None:
        raise ParseError("SerpApi's answer has no author name; the response format changed")
    email = opt_str(author.get("email"))
    domains = _DOMAIN_RE.findall(email) if email else []
    interests = tuple(
        title
        for title in (
            opt_str(as_dict(i, "author.interests[]").get("title"))
            for i in as_list(author.get("interests"), "author.interests")
        )
        if title
    )
    profile = Profile(
        scholar_id=scholar_id,
        name=name,
        affiliation=opt_str(author.get("affiliations")),
        interests=interests,
        email_domain=domains[-1] if domains else None,
        homepage=opt_str(author.get("website")),
        picture_url=opt_str(author.get("thumbnail")),
    )
    cited_by = as_dict(first.get("cited_by"), "cited_by")
    articles_read, skipped, repeated = jsonapi.publications(articles, _publication)
    notes: list[str] = list(repeated)
    if skipped:
        log.warning("%s: %d SerpApi articles without a citation_id were left out", scholar_id, skipped)
        notes.append(f"{skipped} articles without an ID in SerpApi's answer were left out")
    uncounted = sum(1 for pub in articles_read if pub.citations is None)
    if uncounted:
        notes.append(f"{uncounted} articles have no citation count in SerpApi's answer (not provided, not 0)")
    metrics = _metrics(cited_by)
    if metrics.since_year is None and metrics.citations is not None:
        notes.append("SerpApi gave no 'since YEAR' column")
    per_year = jsonapi.cites_per_year(
        as_list(cited_by.get("graph"), "cited_by.graph"), "cited_by.graph", "year", "citations"
    )
    return AuthorRecord(profile, metrics, per_year, articles_read, source=NAME, notes=tuple(notes))


def open_source(settings: SourceSettings) -> SerpApiSource:
    return SerpApiSource(API.client(settings), API.base_url(settings), API.api_key(settings))
