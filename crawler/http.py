"""Polite, bounded HTTP for every source.

One place builds the ``httpx.Client`` (explicit timeouts, browser headers,
proxy) and one class, ``PoliteClient``, wraps it with what every source needs:

* a minimum delay, with jitter, between two requests to the same host;
* retries with exponential backoff and jitter (tenacity) only for what retrying
  can fix: timeouts, connection errors, 5xx, and 429 (honouring ``Retry-After``);
* a total deadline for the whole fetch: every wait and every byte read is
  checked against it, so no server can make a fetch outlast it;
* redirects followed by hand, so a redirect to a sign-in wall or ``/sorry/``
  is seen (and never followed off to the internet);
* translation of httpx's exceptions and of HTTP statuses into ours.

Clock, sleep and randomness are passed in so tests can run without waiting.
"""

from __future__ import annotations

import email.utils
import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import httpx
import tenacity

from crawler.errors import Blocked, DeadlineExceeded, FetchError, NotFound

log = logging.getLogger(__name__)

DEFAULT_USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
DEFAULT_HEADERS = {
    "User-Agent": DEFAULT_USER_AGENT,
    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "Accept-Language": "en-US,en;q=0.9",
}
# Query parameters whose values never reach a log line or an error message.
SECRET_PARAMS = frozenset({"api_key", "apikey", "key", "mailto"})
MAX_BODY_BYTES = 20 * 1024 * 1024
MAX_REDIRECTS = 5
# A Retry-After longer than this is not waited for: the source is treated as blocked.
MAX_RETRY_AFTER = 120.0


@dataclass(frozen=True)
class HttpOptions:
    delay: float = 5.0
    """Minimum seconds between two requests to the same host."""
    jitter: float = 0.5
    """Random extra delay, as a fraction of ``delay`` (0.5 means up to +50 %)."""
    timeout: float = 20.0
    """Seconds allowed for one request (connect, each read)."""
    deadline: float = 300.0
    """Seconds allowed for the whole fetch of one author, retries and delays included."""
    retries: int = 3
    """Retries after the first attempt, for timeouts, connection errors, 5xx and 429."""
    proxy: str | None = None
    headers: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_HEADERS))


def build_client(options: HttpOptions, *, transport: httpx.BaseTransport | None = None) -> httpx.Client:
    """The one place an ``httpx.Client`` is made.

    Standard proxy variables (``HTTPS_PROXY``, ``ALL_PROXY``, ``NO_PROXY``) are
    honoured through ``trust_env``; ``options.proxy`` wins over them.
    """
    kwargs: dict[str, Any] = {
        "timeout": httpx.Timeout(options.timeout),
        "headers": dict(options.headers),
        "follow_redirects": False,
        "trust_env": True,
    }
    if transport is not None:
        kwargs["transport"] = transport
    elif options.proxy:
        kwargs["proxy"] = options.proxy
    return httpx.Client(**kwargs)


class Deadline:
    """Seconds left for one fetch; every wait and read asks it first."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.seconds = seconds
        self._end = clock() + seconds

    def remaining(self) -> float:
        return self._end - self._clock()

    def check(self, what: str, url: str | None = None) -> float:
        left = self.remaining()
        if left <= 0:
            raise DeadlineExceeded(f"deadline of {self.seconds:g}s exceeded while {what}", url=url)
        return left


def redact(url: str | None) -> str | None:
    """``url`` with the values of key-like query parameters replaced by ``***``."""
    if not url:
        return url
    parts = urlsplit(url)
    if not parts.query:
        return url
    pairs = [(k, "***" if k.lower() in SECRET_PARAMS else v) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
    return urlunsplit(parts._replace(query=urlencode(pairs, safe="*:,")))


class _Retryable(Exception):
    """Raised inside the retry loop for a failure that retrying may fix."""

    def __init__(self, error: FetchError, retry_after: float | None = None) -> None:
        super().__init__(str(error))
        self.error = error
        self.retry_after = retry_after


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - (now or datetime.now(timezone.utc))).total_seconds())


RedirectPolicy = Callable[[str, str], None]
"""Called with (from_url, location) before a redirect is followed; raises to refuse it."""


class PoliteClient:
    """An ``httpx.Client`` with per-host pacing, bounded retries and a deadline."""

    def __init__(
        self,
        client: httpx.Client,
        options: HttpOptions,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.client = client
        self.options = options
        self.clock = clock
        self._sleep = sleep
        self._rng = rng
        self._last_request: dict[str, float] = {}
        self.requests_sent = 0
        self.request_log: list[str] = []

    def deadline(self, seconds: float | None = None) -> Deadline:
        return Deadline(self.options.deadline if seconds is None else seconds, self.clock)

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> PoliteClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- waiting ----------------------------------------------------------

    def _wait(self, seconds: float, deadline: Deadline, why: str, url: str) -> None:
        if seconds <= 0:
            return
        if seconds >= deadline.remaining():
            raise DeadlineExceeded(
                f"deadline of {deadline.seconds:g}s would pass while {why} ({seconds:.1f}s)", url=url
            )
        self._sleep(seconds)

    def _pace(self, url: str, deadline: Deadline) -> None:
        host = urlsplit(url).netloc
        last = self._last_request.get(host)
        if last is not None and self.options.delay > 0:
            gap = self.options.delay * (1 + self.options.jitter * self._rng())
            self._wait(last + gap - self.clock(), deadline, "waiting politely between requests", url)

    # -- one attempt ------------------------------------------------------

    def _send(self, method: str, url: str, params: Mapping[str, Any] | None, headers: Mapping[str, str] | None, deadline: Deadline) -> tuple[httpx.Response, bytes]:
        left = deadline.check("sending a request", url)
        timeout = httpx.Timeout(min(self.options.timeout, left))
        self._pace(url, deadline)
        host = urlsplit(url).netloc
        self.requests_sent += 1
        try:
            with self.client.stream(method, url, params=params, headers=headers, timeout=timeout) as response:
                self.request_log.append(str(response.request.url))
                log.debug("GET %s -> %s", redact(str(response.request.url)), response.status_code)
                chunks: list[bytes] = []
                size = 0
                for chunk in response.iter_bytes():
                    chunks.append(chunk)
                    size += len(chunk)
                    if size > MAX_BODY_BYTES:
                        raise FetchError(f"response larger than {MAX_BODY_BYTES} bytes", url=url)
                    deadline.check("reading a response", url)
                return response, b"".join(chunks)
        except httpx.TimeoutException as exc:
            raise _Retryable(FetchError(f"timed out after {timeout.read:g}s", url=url)) from exc
        except (httpx.TransportError, httpx.DecodingError) as exc:
            raise _Retryable(FetchError(f"connection failed: {exc}", url=url)) from exc
        finally:
            self._last_request[host] = self.clock()

    # -- the public call --------------------------------------------------

    def get(
        self,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        deadline: Deadline,
        redirect_policy: RedirectPolicy | None = None,
        not_found_statuses: tuple[int, ...] = (404,),
        blocked_statuses: tuple[int, ...] = (403,),
        answered_statuses: tuple[int, ...] = (),
    ) -> tuple[httpx.Response, bytes]:
        """GET ``url`` and return the final response and its body.

        Raises ``Blocked`` (403, 429 after retries, or what ``redirect_policy``
        refuses), ``NotFound`` (404), ``DeadlineExceeded``, or ``FetchError``.
        An error status in ``answered_statuses`` is returned with its body
        instead, for a caller that reads the server's own words about it.
        """
        for _hop in range(MAX_REDIRECTS + 1):
            response, body = self._get_with_retries(url, params, headers, deadline, blocked_statuses)
            if response.is_redirect:
                location = response.headers.get("location", "")
                target = urljoin(str(response.request.url), location)
                if redirect_policy is not None:
                    redirect_policy(str(response.request.url), target)
                url, params = target, None
                continue
            status = response.status_code
            final_url = str(response.request.url)
            if status in not_found_statuses:
                raise NotFound("not found", url=final_url, status=status)
            if status in blocked_statuses:
                raise Blocked("access refused", kind=f"http-{status}", url=final_url, status=status)
            if status >= 400 and status not in answered_statuses:
                raise FetchError("unexpected response", url=final_url, status=status)
            return response, body
        raise FetchError(f"more than {MAX_REDIRECTS} redirects", url=url)

    def _get_with_retries(
        self,
        url: str,
        params: Mapping[str, Any] | None,
        headers: Mapping[str, str] | None,
        deadline: Deadline,
        blocked_statuses: tuple[int, ...],
    ) -> tuple[httpx.Response, bytes]:
        def attempt() -> tuple[httpx.Response, bytes]:
            response, body = self._send("GET", url, params, headers, deadline)
            status = response.status_code
            if status == 429 and 429 not in blocked_statuses:
                retry_after = parse_retry_after(response.headers.get("retry-after"))
                error = Blocked(
                    "rate-limited", kind="rate-limited", url=str(response.request.url), status=429,
                    retry_after=retry_after,
                )
                if retry_after is not None and retry_after > min(MAX_RETRY_AFTER, deadline.remaining()):
                    raise error
                raise _Retryable(error, retry_after)
            if status >= 500:
                raise _Retryable(FetchError("server error", url=str(response.request.url), status=status))
            return response, body

        def wait(state: tenacity.RetryCallState) -> float:
            outcome = state.outcome
            exc = outcome.exception() if outcome is not None else None
            if isinstance(exc, _Retryable) and exc.retry_after is not None:
                return exc.retry_after
            backoff = tenacity.wait_exponential_jitter(initial=1, max=30, jitter=1)
            return float(backoff(state))

        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self.options.retries + 1),
            wait=wait,
            retry=tenacity.retry_if_exception_type(_Retryable),
            sleep=lambda seconds: self._wait(seconds, deadline, "backing off before a retry", url),
            reraise=True,
        )
        try:
            return retrying(attempt)
        except _Retryable as exc:
            raise exc.error from exc
