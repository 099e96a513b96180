"""The polite client: pacing, retries only where they help, Retry-After, deadline, redirects."""

from __future__ import annotations

import socket
from collections.abc import Callable

import httpx
import pytest
from socksio import ProtocolError as SocksProtocolError

from crawler.errors import Blocked, DeadlineExceeded, FetchError, NotFound
from crawler.net.http import HttpOptions, PoliteClient, build_client, parse_retry_after
from crawler.sources.scholar import refuse_block_redirects

URL = "https://scholar.example/citations"


class FakeClock:
    """Time that moves only when the client sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def client_for(
    handler: Callable[[httpx.Request], httpx.Response], clock: FakeClock, **options: float
) -> PoliteClient:
    opts = HttpOptions(**{"delay": 0.0, "deadline": 300.0, "retries": 3, **options})  # type: ignore[arg-type]
    http = build_client(opts, transport=httpx.MockTransport(handler))
    return PoliteClient(http, opts, clock=clock, sleep=clock.sleep, rng=lambda: 0.5)


def answers(
    *responses: httpx.Response,
) -> tuple[Callable[[httpx.Request], httpx.Response], list[httpx.Request]]:
    seen: list[httpx.Request] = []
    queue = list(responses)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return queue.pop(0) if len(queue) > 1 else queue[0]

    return handler, seen


def test_server_error_then_success_is_retried() -> None:
    clock = FakeClock()
    handler, seen = answers(httpx.Response(503), httpx.Response(502), httpx.Response(200, text="ok"))
    with client_for(handler, clock) as client:
        _, body = client.get(URL, deadline=client.deadline())
    assert body == b"ok"
    assert len(seen) == 3
    assert len(clock.sleeps) == 2 and all(s > 0 for s in clock.sleeps)  # backoff between attempts


def test_retry_after_is_honoured() -> None:
    clock = FakeClock()
    handler, seen = answers(httpx.Response(429, headers={"Retry-After": "7"}), httpx.Response(200, text="ok"))
    with client_for(handler, clock) as client:
        client.get(URL, deadline=client.deadline())
    assert len(seen) == 2
    assert clock.sleeps == [7.0]


def test_rate_limit_that_never_ends_is_blocked() -> None:
    clock = FakeClock()
    handler, seen = answers(httpx.Response(429, headers={"Retry-After": "1"}))
    with client_for(handler, clock, retries=2) as client, pytest.raises(Blocked) as info:
        client.get(URL, deadline=client.deadline())
    assert info.value.kind == "rate-limited" and info.value.status == 429
    assert len(seen) == 3


def test_retry_after_past_the_deadline_stops_at_once() -> None:
    clock = FakeClock()
    handler, seen = answers(httpx.Response(429, headers={"Retry-After": "3600"}))
    with client_for(handler, clock, deadline=60) as client, pytest.raises(Blocked):
        client.get(URL, deadline=client.deadline())
    assert len(seen) == 1 and clock.sleeps == []


@pytest.mark.parametrize(("status", "error"), [(403, Blocked), (404, NotFound), (400, FetchError)])
def test_no_retry_for_what_retrying_cannot_fix(status: int, error: type[Exception]) -> None:
    clock = FakeClock()
    handler, seen = answers(httpx.Response(status))
    with client_for(handler, clock) as client, pytest.raises(error):
        client.get(URL, deadline=client.deadline())
    assert len(seen) == 1


def test_timeouts_are_retried_then_reported() -> None:
    clock = FakeClock()
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        raise httpx.ReadTimeout("slow", request=request)

    with client_for(handler, clock, retries=2) as client, pytest.raises(FetchError) as info:
        client.get(URL, deadline=client.deadline())
    assert "timed out" in str(info.value)
    assert len(seen) == 3


def test_deadline_bounds_the_backoff() -> None:
    clock = FakeClock()
    handler, _ = answers(httpx.Response(500))
    with client_for(handler, clock, retries=10, deadline=5) as client, pytest.raises(DeadlineExceeded):
        client.get(URL, deadline=client.deadline())
    assert clock.now - 1000.0 < 5


def test_polite_delay_between_requests_to_one_host() -> None:
    clock = FakeClock()
    handler, _ = answers(httpx.Response(200, text="ok"))
    with client_for(handler, clock, delay=4.0, jitter=0.5) as client:
        deadline = client.deadline()
        client.get(URL, deadline=deadline)
        client.get(URL, deadline=deadline)
    assert clock.sleeps == [pytest.approx(5.0)]  # 4 s + 50 % jitter x rng 0.5


@pytest.mark.parametrize(
    ("location", "kind"),
    [
        ("https://accounts.google.com/v3/signin/identifier?continue=x", "sign-in"),
        ("/sorry/index?continue=x", "sorry"),
        ("https://elsewhere.example/", "redirect"),
    ],
)
def test_block_redirects_are_not_followed(location: str, kind: str) -> None:
    clock = FakeClock()
    handler, seen = answers(httpx.Response(302, headers={"Location": location}))
    with client_for(handler, clock) as client, pytest.raises(Blocked) as info:
        client.get(URL, deadline=client.deadline(), redirect_policy=refuse_block_redirects)
    assert info.value.kind == kind
    assert len(seen) == 1


@pytest.mark.parametrize("location", ["http://[", "https://[::1:x/citations", "//[/x"])
def test_a_malformed_redirect_is_a_fetch_error(location: str) -> None:
    clock = FakeClock()
    handler, seen = answers(httpx.Response(302, headers={"Location": location}))
    for policy in (refuse_block_redirects, None):
        with client_for(handler, clock) as client, pytest.raises(FetchError, match="malformed URL") as info:
            client.get(URL, deadline=client.deadline(), redirect_policy=policy)
        assert not isinstance(info.value, Blocked)
    assert len(seen) == 2


def test_same_host_redirect_is_followed() -> None:
    clock = FakeClock()
    handler, seen = answers(
        httpx.Response(302, headers={"Location": "/citations?user=x&hl=en"}), httpx.Response(200, text="ok")
    )
    with client_for(handler, clock) as client:
        _, body = client.get(URL, deadline=client.deadline(), redirect_policy=refuse_block_redirects)
    assert body == b"ok" and len(seen) == 2


def test_parse_retry_after_forms() -> None:
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # a date in the past


def test_request_log_masks_api_keys(caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock()
    handler, _ = answers(httpx.Response(200, text="ok"))
    with caplog.at_level("DEBUG", logger="crawler.net.http"), client_for(handler, clock) as client:
        client.get(URL, params={"api_key": "s3cret", "q": "x"}, deadline=client.deadline())
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "api_key=***" in logged and "q=x" in logged
    assert "s3cret" not in logged


@pytest.mark.parametrize(
    ("response", "error"),
    [
        (httpx.Response(404), NotFound),
        (httpx.Response(403), Blocked),
        (httpx.Response(418), FetchError),
        (httpx.Response(503), FetchError),
        (httpx.Response(302, headers={"location": "https://scholar.example/x?api_key=SeCrEt99"}), FetchError),
    ],
)
def test_every_error_the_client_raises_comes_out_masked(
    response: httpx.Response, error: type[FetchError]
) -> None:
    """A key in the query string never leaves the client inside an error, whatever the caller does with it."""
    clock = FakeClock()
    handler, _ = answers(response)
    with client_for(handler, clock, retries=0) as client, pytest.raises(error) as caught:
        client.get(URL, params={"api_key": "SeCrEt99", "token": "SeCrEt99"}, deadline=client.deadline())
    assert caught.value.url is not None and "api_key=***" in caught.value.url
    assert "SeCrEt99" not in str(caught.value) and "SeCrEt99" not in repr(caught.value.args)


def _lookup_failure() -> Exception:
    try:
        raise socket.gaierror(-2, "Name or service not known")
    except OSError as exc:
        try:
            raise httpx.ConnectError("[Errno -2] Name or service not known") from exc
        except httpx.ConnectError as error:
            return error


# What each failure of the exchange means, and whether trying again may help.
FAILURES: list[tuple[Callable[[], Exception], str, int]] = [
    # (what the transport raises, the error's words, attempts with retries=2)
    (lambda: httpx.ConnectTimeout("slow"), "timed out after 20s", 3),
    (lambda: httpx.ReadTimeout("slow"), "timed out after 20s", 3),
    (lambda: SocksProtocolError("bad reply"),
     "the proxy did not answer as a SOCKS5 proxy (bad reply); check the proxy URL", 1),
    (lambda: httpx.ProxyError("407 Proxy Authentication Required"),
     "the proxy refused: 407 Proxy Authentication Required; check the proxy URL", 1),
    (lambda: httpx.UnsupportedProtocol("no gopher"), f"cannot fetch {URL}: no gopher", 1),
    (lambda: httpx.ConnectError("boom"),
     "cannot reach scholar.example: check the network or proxy (boom)", 3),
    (_lookup_failure, "cannot reach scholar.example: check the network or proxy (name lookup failed)", 1),
    (lambda: httpx.RemoteProtocolError("bad Location header"),
     "the server redirected to a malformed URL (bad Location header)", 1),
    (lambda: httpx.RemoteProtocolError("peer closed"), "connection failed: peer closed", 3),
    (lambda: httpx.ReadError("reset"), "connection failed: reset", 3),
]  # fmt: skip


@pytest.mark.parametrize(("failure", "words", "attempts"), FAILURES)
def test_each_failure_of_the_exchange_says_what_it_is_and_is_retried_only_where_that_helps(
    failure: Callable[[], Exception], words: str, attempts: int
) -> None:
    clock = FakeClock()
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        raise failure()

    with client_for(handler, clock, retries=2) as client, pytest.raises(FetchError) as info:
        client.get(URL, deadline=client.deadline())
    assert info.value.message == words
    assert (type(info.value), len(seen)) == (FetchError, attempts)
