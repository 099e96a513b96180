"""Polite, bounded HTTP for every source.

One place builds the ``httpx.Client`` (explicit timeouts, browser headers,
proxy) and one class, ``PoliteClient``, wraps it with what every source needs:

* a minimum delay, with jitter, between two requests to the same host;
* retries with exponential backoff and jitter (tenacity) only for what retrying
  can fix: timeouts, connection errors, 5xx, and 429 (honouring ``Retry-After``);
* a total deadline for the whole fetch, kept by the wall clock: every wait is
  checked against it, and each request runs on a worker thread that is cut
  off when it passes (``crawler.net.deadline``), so no server, resolver, proxy or
  TLS handshake can make a fetch outlast it;
* redirects followed by hand, so a redirect to a sign-in wall or ``/sorry/``
  is seen (and never followed off to the internet);
* bodies read raw and inflated layer by layer (``crawler.net.inflate``), counting
  every byte produced, so no ``Content-Encoding`` (stacked or not) can inflate a small
  body into gigabytes;
* translation of httpx's exceptions and of HTTP statuses into ours, with a
  network that is down told apart (``cannot reach HOST``) and not retried
  when the name does not resolve;
* ``redact`` (``crawler.net.redact``, offered here), the one function that masks
  credentials (URL userinfo, key-like query values, tokens) in any text before
  it reaches a log, a file or stderr; every error the client raises has its URL
  and message masked already, so callers never pass a key along by accident;
* proxy URLs checked before any request (``check_proxy``).

Clock, sleep and randomness are passed in so tests can run without waiting.
"""

from __future__ import annotations

import email.utils
import logging
import os
import random
import socket
import ssl
import time
import zlib
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
import tenacity
from socksio import ProtocolError as SocksProtocolError

from crawler.errors import Blocked, DeadlineExceeded, FetchError, NotFound, ScholarStatsError
from crawler.net import progress
from crawler.net.deadline import Cutter, Deadline, NoAnswer, Trace
from crawler.net.inflate import ACCEPT_ENCODING, MAX_BODY_BYTES, Inflater
from crawler.net.options import (
    DEFAULT_HEADERS,
    DEFAULT_USER_AGENT,
    MAX_REDIRECTS,
    MAX_RETRY_AFTER,
    OPTION_LIMITS,
    PROXY_SCHEMES,
    PROXY_VARIABLES,
    HttpOptions,
    check_environment_proxies,
    check_option,
    check_proxy,
)
from crawler.net.redact import redact, redacted_text

# The options and their checks live in crawler.net.options (no httpx there); offered here too.
__all__ = [
    "DEFAULT_HEADERS",
    "DEFAULT_USER_AGENT",
    "OPTION_LIMITS",
    "PROXY_SCHEMES",
    "PROXY_VARIABLES",
    "Deadline",
    "HttpOptions",
    "PoliteClient",
    "build_client",
    "check_environment_proxies",
    "check_option",
    "check_proxy",
    "redact",
    "redacted_text",
]

log = logging.getLogger(__name__)


class _TlsWhenNeeded(httpx.BaseTransport):
    """httpx's own transport, with the verified TLS context made at the first
    ``https://`` request rather than with the client.

    Loading the CA bundle is most of what building a client costs; a fetch from
    a plain-http server (a mirror, a replay server, a test) never needs it.
    Plain requests go through a pool whose context has no CA loaded and still
    requires a verified certificate, so nothing sent there could fall back to
    unverified TLS.
    """

    def __init__(self) -> None:
        self._plain: httpx.HTTPTransport | None = None
        self._tls: httpx.HTTPTransport | None = None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.scheme == "http":
            if self._plain is None:
                self._plain = httpx.HTTPTransport(verify=ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT))
            return self._plain.handle_request(request)
        if self._tls is None:
            self._tls = httpx.HTTPTransport()
        return self._tls.handle_request(request)

    def close(self) -> None:
        for transport in (self._plain, self._tls):
            if transport is not None:
                transport.close()


def build_client(options: HttpOptions, *, transport: httpx.BaseTransport | None = None) -> httpx.Client:
    """The one place an ``httpx.Client`` is made.

    Standard proxy variables (``HTTPS_PROXY``, ``ALL_PROXY``, ``NO_PROXY``) are
    honoured through ``trust_env``; ``options.proxy`` wins over them.
    """
    headers = httpx.Headers(options.headers)
    headers["Accept-Encoding"] = ACCEPT_ENCODING
    kwargs: dict[str, Any] = {
        "timeout": httpx.Timeout(options.timeout),
        "headers": headers,
        "follow_redirects": False,
        "trust_env": True,
    }
    if transport is not None:
        kwargs["transport"] = transport
    elif options.proxy:
        kwargs["proxy"] = options.proxy
    else:
        check_environment_proxies()
        # httpx mounts the environment's proxies only when it makes the transport itself.
        if not any(os.environ.get(name) for name in (*PROXY_VARIABLES, *map(str.lower, PROXY_VARIABLES))):
            kwargs["transport"] = _TlsWhenNeeded()
    return httpx.Client(**kwargs)


def masked(exc: ScholarStatsError) -> ScholarStatsError:
    """``exc`` itself, its URL and message masked (``redact``)."""
    exc.url = redact(exc.url)
    exc.message = redacted_text(exc.message)
    exc.args = (exc.message,)
    return exc


def _network_failure(exc: httpx.TransportError, url: str, proxy: str | None) -> tuple[FetchError, bool]:
    """What a failed connection means, in words a user can act on, and whether a retry may help.

    A name that does not resolve (offline, or a typo) will not resolve a second
    later: that is said at once instead of after the whole retry budget.
    """
    host = urlsplit(url).hostname or url
    cause: BaseException | None = exc
    while cause is not None and not isinstance(cause, OSError):
        cause = cause.__cause__ or cause.__context__
    by = f" (the proxy {redact(proxy)})" if proxy else ""
    retry = True
    if isinstance(cause, socket.gaierror):
        why, retry = f"name lookup failed{by}", False
    elif isinstance(cause, ConnectionRefusedError):
        why = f"connection refused{by}"
    elif isinstance(cause, OSError) and cause.strerror:
        why = f"{cause.strerror.lower()}{by}"
    else:
        why = redacted_text(exc) or type(exc).__name__
    return FetchError(f"cannot reach {host}: check the network or proxy ({why})", url=url), retry


class _Retryable(Exception):
    """Raised inside the retry loop for a failure that retrying may fix."""

    def __init__(self, error: FetchError, retry_after: float | None = None) -> None:
        super().__init__(str(error))
        self.error = error
        self.retry_after = retry_after


def _read_body(response: httpx.Response, url: str, deadline: Deadline) -> bytes:
    """The body, inflated layer by layer; ``FetchError`` past ``MAX_BODY_BYTES`` of what came
    over the wire, ``DeadlineExceeded`` past the deadline, however slowly it drips."""
    if response.is_stream_consumed:
        # A response made in memory (a transport of ours, or a test's): nothing to inflate.
        if len(response.content) > MAX_BODY_BYTES:
            raise FetchError(f"response larger than {MAX_BODY_BYTES} bytes", url=url)
        return response.content
    inflater = Inflater(response.headers.get("content-encoding", ""), url=url)
    chunks: list[bytes] = []
    raw = 0
    try:
        for chunk in response.iter_raw():
            raw += len(chunk)
            if raw > MAX_BODY_BYTES:
                raise FetchError(f"response larger than {MAX_BODY_BYTES} bytes", url=url)
            chunks.extend(inflater.feed(chunk))
            deadline.check("reading a response", url)
        chunks.extend(inflater.flush())
    except zlib.error as exc:
        corrupt = f"the response's {inflater.names()} encoding is corrupt ({exc})"
        raise _Retryable(FetchError(corrupt, url=url)) from exc
    return b"".join(chunks)


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
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


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
        self.request_log: list[str] = []
        self._cutter = Cutter()

    def deadline(self, seconds: float | None = None) -> Deadline:
        return Deadline(self.options.deadline if seconds is None else seconds, self.clock)

    def close(self) -> None:
        self._cutter.close()
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
        progress.report("wait", seconds=seconds, why=why)
        self._sleep(seconds)

    def _pace(self, url: str, deadline: Deadline) -> None:
        host = urlsplit(url).netloc
        last = self._last_request.get(host)
        if last is not None and self.options.delay > 0:
            gap = self.options.delay * (1 + self.options.jitter * self._rng())
            self._wait(last + gap - self.clock(), deadline, "waiting politely between requests", url)

    # -- one attempt ------------------------------------------------------

    def _send(
        self,
        method: str,
        url: str,
        params: Mapping[str, Any] | None,
        headers: Mapping[str, str] | None,
        deadline: Deadline,
    ) -> tuple[httpx.Response, bytes]:
        """One request, paced, within the deadline and ``--timeout``: the response and its body."""
        deadline.check("sending a request", url)
        self._pace(url, deadline)
        left = deadline.check("sending a request", url)
        timeout = httpx.Timeout(min(self.options.timeout, left))
        host = urlsplit(url).netloc

        def exchange(trace: Trace) -> tuple[httpx.Response, bytes]:
            return self._exchange(method, url, params, headers, timeout, deadline, trace)

        try:
            # --timeout bounds the wait for the answer as a whole, not only each read:
            # a server or proxy that drips its headers or handshake cannot stretch it.
            return self._cutter.run(exchange, deadline, url, answer_within=timeout.read)
        except NoAnswer as exc:
            raise _Retryable(
                FetchError(f"timed out after {exc.seconds:g}s waiting for the answer's headers", url=url)
            ) from None
        finally:
            self._last_request[host] = self.clock()

    def _exchange(
        self,
        method: str,
        url: str,
        params: Mapping[str, Any] | None,
        headers: Mapping[str, str] | None,
        timeout: httpx.Timeout,
        deadline: Deadline,
        trace: Trace,
    ) -> tuple[httpx.Response, bytes]:
        """The request and its response read whole, on the cutter's worker thread."""
        try:
            with self.client.stream(
                method, url, params=params, headers=headers, timeout=timeout, extensions={"trace": trace}
            ) as response:
                self.request_log.append(str(response.request.url))
                log.debug("GET %s -> %s", redact(str(response.request.url)), response.status_code)
                return response, _read_body(response, url, deadline)
        except (httpx.TransportError, SocksProtocolError) as exc:
            raise self._failure(exc, url, timeout) from exc

    def _failure(self, exc: Exception, url: str, timeout: httpx.Timeout) -> FetchError | _Retryable:
        """What a failed exchange means: a ``FetchError``, or a ``_Retryable`` one when trying
        again may help."""
        if isinstance(exc, httpx.TimeoutException):
            return _Retryable(FetchError(f"timed out after {timeout.read:g}s", url=url))
        if isinstance(exc, SocksProtocolError):
            # httpcore lets socksio's own error through: a proxy that is not SOCKS5.
            return FetchError(
                f"the proxy did not answer as a SOCKS5 proxy ({exc}); check the proxy URL", url=url
            )
        if isinstance(exc, httpx.ProxyError):
            # A proxy that refuses the credentials or the target will refuse again.
            proxy = f"the proxy {redact(self.options.proxy)}" if self.options.proxy else "the proxy"
            return FetchError(f"{proxy} refused: {redacted_text(exc)}; check the proxy URL", url=url)
        if isinstance(exc, httpx.UnsupportedProtocol):
            return FetchError(f"cannot fetch {url}: {redacted_text(exc)}", url=url)
        if isinstance(exc, httpx.ConnectError):
            error, retry = _network_failure(exc, url, self.options.proxy)
            return _Retryable(error) if retry else error
        if isinstance(exc, httpx.RemoteProtocolError) and "location header" in str(exc).lower():
            # httpx reads a redirect's Location itself and refuses one that is no URL
            # ("http://[", a port that is no number): the same answer would come again.
            return FetchError(f"the server redirected to a malformed URL ({redacted_text(exc)})", url=url)
        return _Retryable(FetchError(f"connection failed: {redacted_text(exc)}", url=url))

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
        Every error's URL and message come out masked (``redact``).
        """
        try:
            for _hop in range(MAX_REDIRECTS + 1):
                response, body = self._get_with_retries(url, params, headers, deadline, blocked_statuses)
                if response.is_redirect:
                    location = response.headers.get("location", "")
                    try:
                        target = urljoin(str(response.request.url), location)
                        httpx.URL(target)
                    except (ValueError, httpx.InvalidURL):
                        # A Location such as "http://[" or a port that is no number: nowhere to go.
                        raise FetchError(
                            f"the server redirected to a malformed URL ({redacted_text(location)[:80]!r})",
                            url=str(response.request.url),
                            status=response.status_code,
                        ) from None
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
        except ScholarStatsError as exc:
            masked(exc)
            raise

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
                    "rate-limited",
                    kind="rate-limited",
                    url=str(response.request.url),
                    status=429,
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

        def before_sleep(state: tenacity.RetryCallState) -> None:
            outcome = state.outcome
            exc = outcome.exception() if outcome is not None else None
            seconds = state.next_action.sleep if state.next_action is not None else 0.0
            log.info(
                "attempt %d of %d failed: %s; retrying in %.1fs",
                state.attempt_number,
                self.options.retries + 1,
                redacted_text(exc),
                seconds,
            )

        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self.options.retries + 1),
            wait=wait,
            retry=tenacity.retry_if_exception_type(_Retryable),
            before_sleep=before_sleep,
            sleep=lambda seconds: self._wait(seconds, deadline, "backing off before a retry", url),
            reraise=True,
        )
        try:
            return retrying(attempt)
        except _Retryable as exc:
            raise exc.error from exc
