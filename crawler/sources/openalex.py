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

import json
import logging
import os
import re
from collections.abc import Mapping
from typing import Any

from crawler.errors import Blocked, FetchError, NotFound, ParseError, SourceUnavailable, UsageError
from crawler.http import Deadline, PoliteClient, build_client
from crawler.models import (
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

NAME = "openalex"
DEFAULT_BASE_URL = "https://api.openalex.org"
BASE_URL_ENV = "SCHOLAR_STATS_OPENALEX_URL"
API_KEY_ENV = "OPENALEX_API_KEY"
MAILTO_ENV = "OPENALEX_MAILTO"
# OpenAlex allows 100 requests a second; a tenth of a second between pages is polite.
DEFAULT_DELAY = 0.1
PER_PAGE = 100
MAX_SAID = 300
MAX_PAGES = 500
# Root fields of a work that the record uses: a full work (abstract, references)
# is many times larger.
WORK_FIELDS = "id,doi,display_name,publication_year,cited_by_count,primary_location,authorships"
RATE_ADVICE = (
    "OpenAlex's daily budget or its per-second limit is used up: wait until tomorrow, "
    f"or set {API_KEY_ENV} (a free key from https://openalex.org/settings/api)"
)

_OPENALEX_ID_RE = re.compile(r"^(?:https?://openalex\.org/)?(A\d+)$", re.IGNORECASE)
_WORK_ID_RE = re.compile(r"(W\d+)$", re.IGNORECASE)
_ORCID_RE = re.compile(r"^(?:https?://orcid\.org/)?(\d{4}-\d{4}-\d{4}-\d{3}[\dX])$", re.IGNORECASE)


def base_url_from(settings: SourceSettings) -> str:
    return (settings.base_url or os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL).rstrip("/")


def author_key(author: AuthorRef) -> str:
    """The path segment OpenAlex knows this author by: ``A123`` or ``orcid:0000-...``."""
    openalex = author.ids.get("openalex")
    orcid = author.ids.get("orcid")
    if openalex:
        match = _OPENALEX_ID_RE.match(openalex.strip())
        if not match:
            raise UsageError(
                f"openalex = {openalex!r} for author {author.scholar_id} is not an OpenAlex author ID "
                '(an "A" and digits, e.g. openalex = "A5023888391")'
            )
        return match.group(1).upper()
    if orcid:
        match = _ORCID_RE.match(orcid.strip())
        if not match:
            raise UsageError(
                f"orcid = {orcid!r} for author {author.scholar_id} is not an ORCID "
                '(e.g. orcid = "0000-0001-6187-6610")'
            )
        return f"orcid:{match.group(1).upper()}"
    raise UsageError(
        f"OpenAlex does not know Google Scholar IDs: add openalex = \"A...\" or orcid = \"0000-...\" "
        f"to the entry of author {author.scholar_id} in the configuration"
    )


class OpenAlexSource:
    name = NAME

    def __init__(
        self, client: PoliteClient, base_url: str, *, api_key: str | None = None, mailto: str | None = None
    ) -> None:
        self.client = client
        self.base_url = base_url
        self.api_key = api_key
        self.mailto = mailto

    def close(self) -> None:
        self.client.close()

    def _params(self, **params: str | int) -> dict[str, str | int]:
        if self.api_key:
            params["api_key"] = self.api_key
        if self.mailto:
            params["mailto"] = self.mailto
        return params

    def get_json(self, path: str, params: Mapping[str, str | int], deadline: Deadline, what: str) -> dict[str, Any]:
        url = f"{self.base_url}{path}"
        try:
            response, body = self.client.get(
                url, params=params, deadline=deadline, blocked_statuses=(), answered_statuses=(400,)
            )
        except Blocked as exc:
            raise rate_limited("OpenAlex", exc, RATE_ADVICE) from exc
        except NotFound as exc:
            raise NotFound(f"OpenAlex has no {what}", url=redact(exc.url), status=exc.status) from exc
        except FetchError as exc:
            if exc.status == 401:
                reason = "refused the API key" if self.api_key else "asks for an API key"
                raise SourceUnavailable(
                    f"OpenAlex {reason}: set {API_KEY_ENV} (a free key from https://openalex.org/settings/api)",
                    url=redact(exc.url),
                    status=401,
                ) from exc
            if exc.status == 403:
                # OpenAlex documents 403 as "rate limit exceeded".
                error = Blocked("OpenAlex refused the request", kind="http-403", url=redact(exc.url), status=403)
                error.advice = RATE_ADVICE
                raise error from exc
            raise redacted(exc) from exc
        if response.status_code == 400:
            raise FetchError(
                f"OpenAlex refused the request for the {what}: {self._said(body)}",
                url=redact(str(response.request.url)),
                status=400,
            )
        return read_json(body, url=str(response.request.url), what=f"OpenAlex {what}")

    def _said(self, body: bytes) -> str:
        """OpenAlex's own words in an error answer, ``{"error": ..., "message": ...}``, on one line."""
        try:
            data = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError):
            data = None
        if isinstance(data, dict):
            parts = [str(data[key]) for key in ("error", "message") if data.get(key)]
            text = ": ".join(dict.fromkeys(p.strip().rstrip(".") for p in parts))
        else:
            text = body.decode("utf-8", errors="replace")
        text = " ".join(text.split()) or "no reason given"
        if self.api_key:
            text = text.replace(self.api_key, "***")
        # Its list of valid fields runs to thousands of characters.
        return text if len(text) <= MAX_SAID else text[: MAX_SAID - 1] + "…"

    def fetch(self, author: AuthorRef) -> AuthorRecord:
        key = author_key(author)
        deadline = self.client.deadline()
        data = self.get_json(f"/authors/{key}", self._params(), deadline, f"author {key}")
        openalex_id = _short_id(data.get("id"), _OPENALEX_ID_RE)
        if openalex_id is None:
            raise ParseError(f"OpenAlex's author {key} has no OpenAlex ID; the response format changed")
        works = self.fetch_works(openalex_id, deadline)
        return record_from_json(author.scholar_id, data, works).with_fetched_at(utc_now())

    def fetch_works(self, openalex_id: str, deadline: Deadline) -> list[Any]:
        works: list[Any] = []
        cursor = "*"
        for _page in range(MAX_PAGES):
            params = self._params(
                filter=f"author.id:{openalex_id}",
                per_page=PER_PAGE,
                cursor=cursor,
                select=WORK_FIELDS,
                sort="cited_by_count:desc",
            )
            page = self.get_json("/works", params, deadline, f"works list for author {openalex_id}")
            results = as_list(page.get("results"), "results")
            works.extend(results)
            next_cursor = opt_str(as_dict(page.get("meta"), "meta").get("next_cursor"))
            if not results or next_cursor is None:
                return works
            if next_cursor == cursor:
                raise ParseError("OpenAlex returned the same cursor twice; paging would loop")
            cursor = next_cursor
            log.info("%s: %d works so far from OpenAlex", openalex_id, len(works))
        raise ParseError(f"OpenAlex kept offering pages after {MAX_PAGES} of them")


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
        name = opt_str(as_dict(as_dict(authorship, "authorship").get("author"), "authorship.author").get("display_name"))
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
    per_year: dict[int, int] = {}
    for index, entry in enumerate(as_list(data.get("counts_by_year"), "counts_by_year")):
        entry = as_dict(entry, f"counts_by_year[{index}]")
        year = opt_int(entry.get("year"), f"counts_by_year[{index}].year")
        count = opt_int(entry.get("cited_by_count"), f"counts_by_year[{index}].cited_by_count")
        if year is not None and count is not None:
            per_year[year] = count
    listed = (_publication(index, work) for index, work in enumerate(works))
    publications, repeated = unique_publications(pub for pub in listed if pub is not None)
    notes = ["OpenAlex has no 'since YEAR' column: the since-year metrics are not provided", *repeated_note(repeated)]
    if per_year:
        notes.append(
            f"OpenAlex's counts_by_year covers only recent years ({min(per_year)}-{max(per_year)}); "
            "earlier years are not provided, not zero"
        )
    else:
        notes.append("OpenAlex gave no citations per year")
    notes.append("OpenAlex indexes fewer venues than Google Scholar: its counts are usually lower")
    profile = Profile(scholar_id=scholar_id, name=name, affiliation=_affiliation(data))
    return AuthorRecord(
        profile=profile,
        metrics=metrics,
        cites_per_year=tuple(sorted(per_year.items())),
        publications=publications,
        complete=True,
        source=NAME,
        notes=tuple(notes),
    )


def open_source(settings: SourceSettings) -> OpenAlexSource:
    options = api_options(settings.http, delay=DEFAULT_DELAY)
    client = PoliteClient(build_client(options, transport=settings.transport), options)
    return OpenAlexSource(
        client,
        base_url_from(settings),
        api_key=settings.api_key or os.environ.get(API_KEY_ENV) or None,
        mailto=os.environ.get(MAILTO_ENV) or None,
    )
