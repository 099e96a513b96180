"""What the JSON API sources (SerpApi, OpenAlex, Semantic Scholar) share.

Each API gets its own pacing: the 5-second default delay between requests is
Scholar's; an API that publishes its rate limits needs far less.  A delay
configured to anything other than that default is used as is.

API keys travel in query strings (SerpApi, OpenAlex), so every URL an error
carries is redacted before it can reach a log or a terminal.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import replace
from importlib import metadata
from typing import Any

from crawler.errors import Blocked, ParseError, ScholarStatsError
from crawler.http import DEFAULT_HEADERS, HttpOptions
from crawler.http import redact as redact  # the sources import it from here


def _version() -> str:
    try:
        return metadata.version("scholar-stats")
    except metadata.PackageNotFoundError:
        return "0"


USER_AGENT = f"scholar-stats/{_version()} (citation numbers for a personal homepage)"
API_HEADERS = {"User-Agent": USER_AGENT, "Accept": "application/json"}


def api_options(http: HttpOptions, *, delay: float) -> HttpOptions:
    """``http`` with this API's delay and JSON headers where ``http`` keeps Scholar's defaults."""
    changes: dict[str, Any] = {}
    if http.delay == HttpOptions().delay:
        changes["delay"] = delay
    if dict(http.headers) == DEFAULT_HEADERS:
        changes["headers"] = dict(API_HEADERS)
    return replace(http, **changes) if changes else http


def redacted(exc: ScholarStatsError) -> ScholarStatsError:
    exc.url = redact(exc.url)
    return exc


def rate_limited(source: str, exc: Blocked, advice: str) -> Blocked:
    """A ``Blocked`` for an API's 429 that outlasted the retries, with advice that fits an API."""
    error = Blocked(
        f"{source} kept answering 429 Too Many Requests",
        kind="rate-limited",
        url=redact(exc.url),
        status=exc.status,
        retry_after=exc.retry_after,
    )
    error.advice = advice
    return error


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


_NUMBER_RE = re.compile(r"^\d[\d,]*$")


def opt_int(value: Any, where: str, *, url: str | None = None) -> int | None:
    """An integer field: ``None`` stays ``None`` (not provided), never becomes 0."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ParseError(f"{where} should be a number, not {value!r}", url=redact(url))
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        if _NUMBER_RE.match(text):
            return int(text.replace(",", ""))
    raise ParseError(f"{where} should be a number, not {value!r}", url=redact(url))


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
