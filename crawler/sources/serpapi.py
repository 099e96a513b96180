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
import os
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

from crawler.errors import Blocked, FetchError, NotFound, ParseError, SourceUnavailable, UsageError
from crawler.http import Deadline, PoliteClient, build_client
from crawler.models import (
    SCHOLAR_ID_RE,
    AuthorRecord,
    Metrics,
    Profile,
    Publication,
    repeated_note,
    unique_publications,
    utc_now,
)
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

NAME = "serpapi"
DEFAULT_BASE_URL = "https://serpapi.com"
BASE_URL_ENV = "SCHOLAR_STATS_SERPAPI_URL"
API_KEY_ENV = "SERPAPI_KEY"
# SerpApi limits searches per hour and per month, not per second; half a
# second between the few pages of one profile is plenty.
DEFAULT_DELAY = 0.5
PAGE_SIZE = 100
MAX_PAGES = 100
# SerpApi's own words when Scholar shows nothing for the query: for a profile
# that does not exist, or for a ``start`` past the last article.
NO_RESULTS = "hasn't returned any results"
RATE_ADVICE = (
    "SerpApi's hourly limit or the month's searches are used up: wait, or check the plan "
    "at https://serpapi.com/dashboard"
)

_SINCE_RE = re.compile(r"^since_(\d{4})$")
_DOMAIN_RE = re.compile(r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,}")
_METRIC_ROWS = ("citations", "h_index", "i10_index")


def base_url_from(settings: SourceSettings) -> str:
    return (settings.base_url or os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL).rstrip("/")


class SerpApiSource:
    name = NAME

    def __init__(self, client: PoliteClient, base_url: str, api_key: str | None) -> None:
        self.client = client
        self.base_url = base_url
        self.api_key = api_key

    def close(self) -> None:
        self.client.close()

    # -- requests -------------------------------------------------------------

    def fetch_page(self, scholar_id: str, start: int, deadline: Deadline) -> dict[str, Any] | None:
        """One page of the author's JSON; ``None`` when SerpApi says Google showed nothing."""
        url = f"{self.base_url}/search.json"
        params: dict[str, str | int] = {
            "engine": "google_scholar_author",
            "author_id": scholar_id,
            "hl": "en",
            "num": PAGE_SIZE,
            "start": start,
            "api_key": self.api_key or "",
        }
        try:
            response, body = self.client.get(url, params=params, deadline=deadline, blocked_statuses=())
        except Blocked as exc:
            raise rate_limited("SerpApi", exc, RATE_ADVICE) from exc
        except NotFound as exc:
            raise NotFound(
                f"SerpApi found no Google Scholar profile with ID {scholar_id}", url=redact(exc.url), status=exc.status
            ) from exc
        except FetchError as exc:
            if exc.status == 401:
                raise SourceUnavailable(
                    f"SerpApi refused the API key (check {API_KEY_ENV})", url=redact(exc.url), status=401
                ) from exc
            if exc.status == 403:
                raise SourceUnavailable(
                    "SerpApi refused the request for this account (deleted or without permission)",
                    url=redact(exc.url),
                    status=403,
                ) from exc
            raise redacted(exc) from exc
        final_url = str(response.request.url)
        data = read_json(body, url=final_url, what="SerpApi")
        error = data.get("error")
        if error is not None:
            if isinstance(error, str) and NO_RESULTS in error:
                return None
            raise FetchError(f"SerpApi answered with an error: {error}", url=redact(final_url))
        return data

    def fetch(self, author: AuthorRef) -> AuthorRecord:
        if not self.api_key:
            raise SourceUnavailable(
                f"SerpApi needs an API key: set {API_KEY_ENV} (https://serpapi.com/manage-api-key)"
            )
        scholar_id = author.scholar_id
        if not SCHOLAR_ID_RE.match(scholar_id):
            raise UsageError(f"SerpApi needs a Google Scholar ID (12 characters, e.g. amIMrIEAAAAJ), not {scholar_id!r}")
        deadline = self.client.deadline()
        first = self.fetch_page(scholar_id, 0, deadline)
        if first is None:
            raise NotFound(f"SerpApi found no Google Scholar profile with ID {scholar_id}")
        articles: list[Any] = list(as_list(first.get("articles"), "articles"))
        page, start, pages = first, 0, 1
        while True:
            received = len(as_list(page.get("articles"), "articles"))
            next_start = _next_start(page, start, received)
            if next_start is None:
                break
            if pages >= MAX_PAGES:
                raise ParseError(f"SerpApi kept offering pages after {MAX_PAGES} of them")
            following = self.fetch_page(scholar_id, next_start, deadline)
            pages += 1
            if following is None:
                break
            more = as_list(following.get("articles"), "articles")
            if not more:
                break
            articles.extend(more)
            page, start = following, next_start
            log.info("%s: %d articles so far from SerpApi", scholar_id, len(articles))
        return record_from_json(scholar_id, first, articles).with_fetched_at(utc_now())


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
        raise ParseError("SerpApi's next page link is not a URL", url=redact(next_url)) from None
    # isdigit() alone would let "²" through to int().
    offsets = [v[0] for v in (query.get("cstart"), query.get("start")) if v and v[0].isascii() and v[0].isdigit()]
    next_start = int(offsets[0]) if offsets else start + received
    if next_start <= start:
        raise ParseError(f"SerpApi's next page starts at {next_start}, not after {start}", url=redact(next_url))
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


def _cites_per_year(cited_by: Mapping[str, Any]) -> tuple[tuple[int, int], ...]:
    years: dict[int, int] = {}
    for index, point in enumerate(as_list(cited_by.get("graph"), "cited_by.graph")):
        point = as_dict(point, f"cited_by.graph[{index}]")
        year = opt_int(point.get("year"), f"cited_by.graph[{index}].year")
        count = opt_int(point.get("citations"), f"cited_by.graph[{index}].citations")
        # A year without a count is left out rather than counted as zero.
        if year is not None and count is not None:
            years[year] = count
    return tuple(sorted(years.items()))


def _publication(index: int, article: Any) -> Publication | None:
    article = as_dict(article, f"articles[{index}]")
    pub_id = opt_str(article.get("citation_id"))
    if pub_id is None:
        return None
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
        for title in (opt_str(as_dict(i, "author.interests[]").get("title")) for i in as_list(author.get("interests"), "author.interests"))
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
    listed = [_publication(index, article) for index, article in enumerate(articles)]
    skipped = sum(1 for pub in listed if pub is None)
    publications, repeated = unique_publications(pub for pub in listed if pub is not None)
    notes: list[str] = list(repeated_note(repeated))
    if skipped:
        log.warning("%s: %d SerpApi articles without a citation_id were left out", scholar_id, skipped)
        notes.append(f"{skipped} articles without an ID in SerpApi's answer were left out")
    uncounted = sum(1 for pub in publications if pub.citations is None)
    if uncounted:
        notes.append(f"{uncounted} articles have no citation count in SerpApi's answer (not provided, not 0)")
    metrics = _metrics(cited_by)
    if metrics.since_year is None and metrics.citations is not None:
        notes.append("SerpApi gave no 'since YEAR' column")
    return AuthorRecord(
        profile=profile,
        metrics=metrics,
        cites_per_year=_cites_per_year(cited_by),
        publications=publications,
        complete=True,
        source=NAME,
        notes=tuple(notes),
    )


def open_source(settings: SourceSettings) -> SerpApiSource:
    options = api_options(settings.http, delay=DEFAULT_DELAY)
    client = PoliteClient(build_client(options, transport=settings.transport), options)
    api_key = settings.api_key or os.environ.get(API_KEY_ENV) or None
    return SerpApiSource(client, base_url_from(settings), api_key)
