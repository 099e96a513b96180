"""OpenAlex: an open bibliographic database, by OpenAlex author ID or ORCID.

OpenAlex does not know Google Scholar IDs: the author's entry in the
configuration names them (``openalex = "A5023888391"`` or
``orcid = "0000-0001-6187-6610"``); the Scholar ID still names the data folder.

Requests: ``GET {base}/authors/{A...|orcid:0000-...}`` (free of charge), then
the works with cursor paging, ``GET {base}/works?filter=author.id:A...&
per_page=100&cursor=*``, following ``meta.next_cursor`` until it is null and the
results are empty (per_page is 100 at most).  ``api_key`` (env
``OPENALEX_API_KEY``) and ``mailto`` (env ``OPENALEX_MAILTO``) are sent when
given; without a key OpenAlex allows only a small daily budget of list requests.

What OpenAlex's JSON maps to: ``cited_by_count`` -> citations,
``summary_stats.h_index`` / ``i10_index``, ``counts_by_year[].cited_by_count``
-> citations per year, ``last_known_institutions[].display_name`` ->
affiliation; each work's ``id`` (``W...``) -> ``author_pub_id``,
``display_name``, ``publication_year``, ``cited_by_count``, the authors'
names, and ``primary_location.source.display_name`` (the host venue).

What it cannot provide, and the record says so in ``notes``: no "since YEAR"
column (the ``*_since`` metrics stay ``None``); ``counts_by_year`` lists recent
years only (documented as the last ten, often more in real answers): every year
it lists is kept, earlier ones are absent, not zero, and a note names the range; no interests,
e-mail domain, homepage or picture.  Its counts are lower than Scholar's: it
indexes fewer venues (no theses, slides or most preprint servers' duplicates).

Errors: 404 -> ``NotFound``; 400 -> ``FetchError`` with OpenAlex's own
``error`` and ``message`` on one line; 401 -> ``SourceUnavailable`` (the key is refused,
or a key is required); 403 (OpenAlex's answer to too many requests) and 429
after its ``Retry-After`` -> ``Blocked``; JSON not understood -> ``ParseError``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

from crawler.errors import Blocked, FetchError, NotFound, ParseError, SourceUnavailable, UsageError
from crawler.models import AuthorRecord, Metrics, Profile, Publication, utc_now
from crawler.net.http import Deadline, PoliteClient
from crawler.sources import AuthorRef, SourceSettings, jsonapi
from crawler.sources.jsonapi import as_dict, as_list, opt_int, opt_str

NAME = "openalex"
API_KEY_ENV = "OPENALEX_API_KEY"
MAILTO_ENV = "OPENALEX_MAILTO"
KEY_ADVICE = f"set {API_KEY_ENV} (a free key from https://openalex.org/settings/api)"
RATE_ADVICE = (
    f"OpenAlex's daily budget or its per-second limit is used up: wait until tomorrow, or {KEY_ADVICE}"
)
# OpenAlex allows 100 requests a second; a tenth of a second between pages is polite.
API = jsonapi.Api(
    NAME, "OpenAlex", "https://api.openalex.org", API_KEY_ENV, delay=0.1, rate_advice=RATE_ADVICE
)
_STATUSES = {
    400: jsonapi.Refusal(FetchError, "OpenAlex refused the request for the {what}", said=True),
    # OpenAlex documents 403 as "rate limit exceeded".
    403: jsonapi.Refusal(Blocked, "OpenAlex refused the request"),
    404: jsonapi.Refusal(NotFound, "OpenAlex has no {what}"),
}
STATUSES_WITH_KEY = {
    **_STATUSES,
    401: jsonapi.Refusal(SourceUnavailable, f"OpenAlex refused the API key: {KEY_ADVICE}"),
}
STATUSES_WITHOUT_KEY = {
    **_STATUSES,
    401: jsonapi.Refusal(SourceUnavailable, f"OpenAlex asks for an API key: {KEY_ADVICE}"),
}
PER_PAGE = 100
MAX_PAGES = 500
# Root fields of a work that the record uses: a full work (abstract, references)
# is many times larger.
WORK_FIELDS = "id,doi,display_name,publication_year,cited_by_count,primary_location,authorships"

_OPENALEX_ID_RE = re.compile(r"^(?:https?://openalex\.org/)?(A\d+)$", re.IGNORECASE)
_WORK_ID_RE = re.compile(r"(W\d+)$", re.IGNORECASE)
_ORCID_RE = re.compile(r"^(?:https?://orcid\.org/)?(\d{4}-\d{4}-\d{4}-\d{3}[\dX])$", re.IGNORECASE)


def author_key(author: AuthorRef) -> str:
    """The path segment OpenAlex knows this author by: ``A123`` or ``orcid:0000-...``."""
    openalex = jsonapi.configured_id(
        author,
        "openalex",
        _OPENALEX_ID_RE,
        'an OpenAlex author ID (an "A" and digits, e.g. openalex = "A5023888391")',
    )
    if openalex:
        return openalex.upper()
    orcid = jsonapi.configured_id(author, "orcid", _ORCID_RE, 'an ORCID (e.g. orcid = "0000-0001-6187-6610")')
    if orcid:
        return f"orcid:{orcid.upper()}"
    raise UsageError(
        f'OpenAlex does not know Google Scholar IDs: add openalex = "A..." or orcid = "0000-..." '
        f"to the entry of author {author.scholar_id} in the configuration"
    )


class OpenAlexSource:
    name = NAME

    def __init__(
        self, client: PoliteClient, base_url: str, *, api_key: str | None = None, mailto: str | None = None
    ) -> None:
        statuses = STATUSES_WITH_KEY if api_key else STATUSES_WITHOUT_KEY
        self.api = jsonapi.JsonApi(API, client, base_url, statuses, secrets=(api_key,))
        self.client = client
        self.api_key = api_key
        self.mailto = mailto

    def close(self) -> None:
        self.api.close()

    def _params(self, **params: str | int) -> dict[str, str | int]:
        if self.api_key:
            params["api_key"] = self.api_key
        if self.mailto:
            params["mailto"] = self.mailto
        return params

    def fetch(self, author: AuthorRef) -> AuthorRecord:
        key = author_key(author)
        deadline = self.client.deadline()
        data, _url = self.api.get(f"/authors/{key}", self._params(), deadline, f"author {key}")
        openalex_id = _short_id(data.get("id"), _OPENALEX_ID_RE)
        if openalex_id is None:
            raise ParseError(f"OpenAlex's author {key} has no OpenAlex ID; the response format changed")
        works = self.fetch_works(openalex_id, deadline)
        return record_from_json(author.scholar_id, data, works).with_fetched_at(utc_now())

    def fetch_works(self, openalex_id: str, deadline: Deadline) -> list[Any]:
        what = f"works list for author {openalex_id}"

        def page(cursor: str) -> tuple[list[Any], str | None]:
            params = self._params(
                filter=f"author.id:{openalex_id}",
                per_page=PER_PAGE,
                cursor=cursor,
                select=WORK_FIELDS,
                sort="cited_by_count:desc",
            )
            answer, _url = self.api.get("/works", params, deadline, what)
            results = as_list(answer.get("results"), "results")
            next_cursor = opt_str(as_dict(answer.get("meta"), "meta").get("next_cursor"))
            if results and next_cursor == cursor:
                raise ParseError("OpenAlex returned the same cursor twice; paging would loop")
            return results, next_cursor

        return jsonapi.collect(page, "*", label="OpenAlex", max_pages=MAX_PAGES, what=what)


def _short_id(value: Any, pattern: re.Pattern[str]) -> str | None:
    text = opt_str(value)
    if text is None:
        return None
    match = pattern.search(text.rsplit("/", 1)[-1])
    return match.group(1).upper() if match else None


def _affiliation(data: Mapping[str, Any]) -> str | None:
    institutions = as_list(data.get("last_known_institutions"), "last_known_institutions")
    if not institutions and data.get("last_known_institution"):
        # The field's older, single-valued form.
        institutions = [data.get("last_known_institution")]
    names: list[str] = []
    for index, institution in enumerate(institutions):
        name = opt_str(as_dict(institution, f"last_known_institutions[{index}]").get("display_name"))
        if name and name not in names:
            names.append(name)
    return "; ".join(names) or None


def _doi(value: Any) -> str | None:
    """``https://doi.org/10.1/x`` as OpenAlex gives it -> ``10.1/x``."""
    text = opt_str(value)
    if text is None:
        return None
    return text.split("doi.org/", 1)[-1] or None


def _publication(index: int, work: Any) -> Publication | None:
    work = as_dict(work, f"works[{index}]")
    pub_id = _short_id(work.get("id"), _WORK_ID_RE)
    if pub_id is None:
        return None
    names = []
    for authorship in as_list(work.get("authorships"), f"works[{index}].authorships"):
        name = opt_str(
            as_dict(as_dict(authorship, "authorship").get("author"), "authorship.author").get("display_name")
        )
        if name:
            names.append(name)
    location = as_dict(work.get("primary_location"), f"works[{index}].primary_location")
    venue = opt_str(as_dict(location.get("source"), "primary_location.source").get("display_name"))
    if venue is None:
        # ``host_venue`` was the field's name before ``primary_location``.
        venue = opt_str(as_dict(work.get("host_venue"), "host_venue").get("display_name"))
    return Publication(
        author_pub_id=pub_id,
        title=opt_str(work.get("display_name")) or opt_str(work.get("title")) or "",
        authors=", ".join(names) or None,
        venue=venue,
        year=opt_int(work.get("publication_year"), f"works[{index}].publication_year"),
        citations=opt_int(work.get("cited_by_count"), f"works[{index}].cited_by_count"),
        cites_id=None,
        doi=_doi(work.get("doi")),
    )


def record_from_json(scholar_id: str, data: Mapping[str, Any], works: list[Any]) -> AuthorRecord:
    name = opt_str(data.get("display_name"))
    if name is None:
        raise ParseError("OpenAlex's author has no display_name; the response format changed")
    stats = as_dict(data.get("summary_stats"), "summary_stats")
    metrics = Metrics(
        citations=opt_int(data.get("cited_by_count"), "cited_by_count"),
        h_index=opt_int(stats.get("h_index"), "summary_stats.h_index"),
        i10_index=opt_int(stats.get("i10_index"), "summary_stats.i10_index"),
    )
    per_year = jsonapi.cites_per_year(
        as_list(data.get("counts_by_year"), "counts_by_year"), "counts_by_year", "year", "cited_by_count"
    )
    works_read, _unnamed, repeated = jsonapi.publications(works, _publication)
    notes = ["OpenAlex has no 'since YEAR' column: the since-year metrics are not provided", *repeated]
    if per_year:
        notes.append(
            f"OpenAlex's counts_by_year covers only recent years ({per_year[0][0]}-{per_year[-1][0]}); "
            "earlier years are not provided, not zero"
        )
    else:
        notes.append("OpenAlex gave no citations per year")
    notes.append("OpenAlex indexes fewer venues than Google Scholar: its counts are usually lower")
    profile = Profile(scholar_id=scholar_id, name=name, affiliation=_affiliation(data))
    return AuthorRecord(profile, metrics, per_year, works_read, source=NAME, notes=tuple(notes))


def open_source(settings: SourceSettings) -> OpenAlexSource:
    return OpenAlexSource(
        API.client(settings),
        API.base_url(settings),
        api_key=API.api_key(settings),
        mailto=os.environ.get(MAILTO_ENV) or None,
    )
