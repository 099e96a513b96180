"""What every JSON API source (SerpApi, OpenAlex, Semantic Scholar) shares.

A JSON API source is a page of field mapping over this module:

* ``Api``: the API's name, public URL (and the environment variable that moves
  it), key variable, polite delay and advice for when its rate limit is hit;
* a status table, ``Mapping[int, Refusal]``: what each error status means for
  this API (which error, in which words), as data;
* ``JsonApi``: one GET that answers a JSON object or the error the table
  names; 429 after the client's retries becomes ``Blocked`` with the API's advice;
* ``collect``: one pager, whatever the API pages by (cursor, offset, start);
* ``publications``: one reading of a listing, each ``author_pub_id`` once;
* ``as_dict``, ``as_list``, ``opt_int``, ``opt_str``: reading a field that may
  be missing (``None``: not provided, never 0) or of the wrong type (``ParseError``).

Each API gets its own pacing: the 5-second default delay between requests is
Scholar's; an API that publishes its rate limits needs far less.  A delay
configured to anything other than that default is used as is.

API keys travel in query strings (SerpApi, OpenAlex): the HTTP client masks
every URL and message of the errors it raises, and this module masks the URLs
it puts into its own, so no source handles a key in an error.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from crawler.errors import Blocked, FetchError, ParseError, ScholarStatsError, UsageError
from crawler.models import Publication, parse_count, repeated_note, unique_publications
from crawler.net.http import (
    DEFAULT_HEADERS,
    Deadline,
    HttpOptions,
    PoliteClient,
    build_client,
    masked,
    redact,
    redacted_text,
)
from crawler.sources import AuthorRef, SourceSettings

log = logging.getLogger(__name__)
_P = TypeVar("_P")


def _version() -> str:
    # The package's own: the action runs it from its folder, with no installed metadata.
    from crawler import __version__

    return __version__


USER_AGENT = f"scholar-stats/{_version()} (citation numbers for a personal homepage)"
API_HEADERS = {"User-Agent": USER_AGENT, "Accept": "application/json"}
# The longest stretch of an API's own words kept in a message: some list every
# valid field, thousands of characters.
MAX_SAID = 300


@dataclass(frozen=True)
class Api:
    """One JSON API: who it is, where it lives, how politely to ask."""

    name: str
    """The source's name: "openalex"."""
    label: str
    """Its name in messages: "OpenAlex"."""
    default_base_url: str
    api_key_env: str
    delay: float
    """Seconds between two requests, unless configured otherwise."""
    rate_advice: str
    """What to do when its rate limit is hit."""

    @property
    def base_url_env(self) -> str:
        """The environment variable that moves it (mirrors, stand-ins): ``SCHOLAR_STATS_OPENALEX_URL``."""
        return f"SCHOLAR_STATS_{self.name.upper().replace('-', '_')}_URL"

    def base_url(self, settings: SourceSettings) -> str:
        return (settings.base_url or os.environ.get(self.base_url_env) or self.default_base_url).rstrip("/")

    def api_key(self, settings: SourceSettings) -> str | None:
        return settings.api_key or os.environ.get(self.api_key_env) or None

    def client(self, settings: SourceSettings) -> PoliteClient:
        options = api_options(settings.http, delay=self.delay)
        return PoliteClient(build_client(options, transport=settings.transport), options)


@dataclass(frozen=True)
class Refusal:
    """What one error status means for one API."""

    error: type[FetchError]
    """``NotFound``, ``SourceUnavailable``, ``Blocked`` (with the API's rate advice) or ``FetchError``."""
    message: str
    """The words, ``{what}`` standing for what was asked for."""
    said: bool = False
    """The API explains itself in the body: its ``error`` and ``message`` follow on the same line."""


def api_options(http: HttpOptions, *, delay: float) -> HttpOptions:
    """``http`` with this API's delay and JSON headers where ``http`` keeps Scholar's defaults."""
    changes: dict[str, Any] = {}
    if http.delay == HttpOptions().delay:
        changes["delay"] = delay
    if dict(http.headers) == DEFAULT_HEADERS:
        changes["headers"] = dict(API_HEADERS)
    return replace(http, **changes) if changes else http


class JsonApi:
    """GETs to one API through a ``PoliteClient``, each answering a JSON object or the table's error."""

    def __init__(
        self,
        api: Api,
        client: PoliteClient,
        base_url: str,
        statuses: Mapping[int, Refusal],
        *,
        secrets: Iterable[str | None] = (),
    ) -> None:
        self.api = api
        self.client = client
        self.base_url = base_url
        self.statuses = statuses
        # Values an API may echo back in its own words (a key it was sent).
        self.secrets = tuple(secret for secret in secrets if secret)

    def get(
        self,
        path: str,
        params: Mapping[str, str | int],
        deadline: Deadline,
        what: str,
        *,
        headers: Mapping[str, str] | None = None,
    ) -> tuple[dict[str, Any], str]:
        """The JSON object at ``{base_url}{path}`` and the URL that answered it, masked;
        ``what`` names the object in messages."""
        url = f"{self.base_url}{path}"
        answered = tuple(status for status, refusal in self.statuses.items() if refusal.said)
        try:
            response, body = self.client.get(
                url,
                params=params,
                headers=headers,
                deadline=deadline,
                blocked_statuses=(),
                answered_statuses=answered,
            )
        except Blocked as exc:
            raise self.rate_limited(exc) from exc
        except FetchError as exc:
            refusal = self.statuses.get(exc.status) if exc.status is not None else None
            if refusal is None:
                raise
            raise self.refused(refusal, what, url=exc.url, status=exc.status) from exc
        final_url = redacted_text(response.request.url)
        refusal = self.statuses.get(response.status_code)
        if refusal is not None:
            raise self.refused(refusal, what, url=final_url, status=response.status_code, body=body)
        return read_json(body, url=final_url, what=f"{self.api.label} {what}"), final_url

    def refused(
        self, refusal: Refusal, what: str, *, url: str | None, status: int | None, body: bytes | None = None
    ) -> FetchError:
        message = refusal.message.format(what=what)
        if refusal.said and body is not None:
            message = f"{message}: {self.said(body)}"
        if refusal.error is Blocked:
            blocked = Blocked(message, kind=f"http-{status}", url=url, status=status)
            blocked.advice = self.api.rate_advice
            return blocked
        return refusal.error(message, url=url, status=status)

    def rate_limited(self, exc: Blocked) -> Blocked:
        """A ``Blocked`` for a 429 that outlasted the retries, with advice that fits the API."""
        error = Blocked(
            f"{self.api.label} kept answering 429 Too Many Requests",
            kind="rate-limited",
            url=exc.url,
            status=exc.status,
            retry_after=exc.retry_after,
        )
        error.advice = self.api.rate_advice
        return error

    def said(self, body: bytes) -> str:
        """The API's own words in an error answer, ``{"error": ..., "message": ...}``, on one line."""
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
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return text if len(text) <= MAX_SAID else text[: MAX_SAID - 1] + "…"

    def close(self) -> None:
        self.client.close()


def configured_id(author: AuthorRef, key: str, pattern: re.Pattern[str], kind: str) -> str | None:
    """The ID the author's entry gives under ``key`` (``pattern``'s first group); ``None`` if none.

    ``kind`` says what fits, for the ``UsageError`` about a value that does not:
    ``'an ORCID (e.g. orcid = "0000-0001-6187-6610")'``.
    """
    value = author.ids.get(key)
    if not value:
        return None
    match = pattern.match(value.strip())
    if not match:
        raise UsageError(f"{key} = {value!r} for author {author.scholar_id} is not {kind}")
    return match.group(1)


def collect(
    page: Callable[[_P], tuple[list[Any], _P | None]], first: _P, *, label: str, max_pages: int, what: str
) -> list[Any]:
    """Every item of a paged listing.

    ``page(position)`` fetches one page and returns its items and the position
    of the next page (``None`` at the end); it refuses a next position that
    does not move on.  An empty page ends the listing too; more than
    ``max_pages`` pages is taken for a loop.
    """
    items: list[Any] = []
    position = first
    for _page in range(max_pages):
        try:
            found, following = page(position)
        except ScholarStatsError as exc:
            # A page's error may quote a link the API wrote, key and all.
            masked(exc)
            raise
        items.extend(found)
        if not found or following is None:
            return items
        position = following
        log.info("%d %s so far from %s", len(items), what, label)
    raise ParseError(f"{label} kept offering pages after {max_pages} of them")


def publications(
    items: list[Any], read: Callable[[int, Any], Publication | None]
) -> tuple[tuple[Publication, ...], int, tuple[str, ...]]:
    """A listing read as publications, each ``author_pub_id`` once (its first row).

    ``read(index, item)`` maps one item, or gives ``None`` for one without an
    ID.  Returns the publications, how many items had no ID, and the record's
    note about IDs the API listed more than once.
    """
    listed = [read(index, item) for index, item in enumerate(items)]
    unique, repeated = unique_publications(pub for pub in listed if pub is not None)
    return unique, sum(1 for pub in listed if pub is None), repeated_note(repeated)


def read_json(body: bytes, *, url: str | None, what: str) -> dict[str, Any]:
    """The JSON object in ``body``, or ``ParseError`` saying what came instead."""
    if not body.strip():
        raise ParseError(f"{what}: empty response body", url=redact(url))
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ParseError(f"{what}: the response is not JSON ({exc})", url=redact(url)) from exc
    if not isinstance(data, dict):
        raise ParseError(f"{what}: expected a JSON object, got {type(data).__name__}", url=redact(url))
    return data


def opt_int(value: Any, where: str, *, url: str | None = None) -> int | None:
    """A count, year or offset: ``None`` stays ``None`` (not provided), never becomes 0.

    Never negative; a string is read only when it is all a count ("1,234").
    """
    if value is None:
        return None
    if isinstance(value, str):
        if not value.strip():
            return None
        try:
            return parse_count(value)
        except ValueError:
            pass
    elif isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    elif isinstance(value, float) and value.is_integer() and value >= 0:
        return int(value)
    raise ParseError(f"{where} should be a count (a whole number, 0 or more), not {value!r}", url=redact(url))


def opt_str(value: Any) -> str | None:
    """A text field, stripped; empty or missing is ``None``."""
    if isinstance(value, str):
        text = value.strip()
        return text or None
    return None


def as_list(value: Any, where: str, *, url: str | None = None) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ParseError(f"{where} should be a list, not {type(value).__name__}", url=redact(url))
    return value


def as_dict(value: Any, where: str, *, url: str | None = None) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ParseError(f"{where} should be an object, not {type(value).__name__}", url=redact(url))
    return value


def cites_per_year(
    entries: list[Any], where: str, year_key: str, count_key: str
) -> tuple[tuple[int, int], ...]:
    """Citations per year from ``[{year_key: ..., count_key: ...}]``; a year without a count
    is left out, not 0.
    """
    years: dict[int, int] = {}
    for index, entry in enumerate(entries):
        entry = as_dict(entry, f"{where}[{index}]")
        year = opt_int(entry.get(year_key), f"{where}[{index}].{year_key}")
        count = opt_int(entry.get(count_key), f"{where}[{index}].{count_key}")
        if year is not None and count is not None:
            years[year] = count
    return tuple(sorted(years.items()))
