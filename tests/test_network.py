"""The HTTP edge against hostile servers and careless settings: a wall-clock deadline
that no header drip, proxy, TLS handshake or resolver can stretch, and option values
refused the same way from the command line and the configuration file."""

from __future__ import annotations

import contextlib
import functools
import gzip
import json
import logging
import os
import select
import socket
import ssl
import subprocess
import sys
import threading
import time
import tracemalloc
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from replay import ReplayServer

from crawler.cli import main
from crawler.config import load_config
from crawler.errors import ConfigError, DeadlineExceeded, FetchError
from crawler.net.http import HttpOptions, PoliteClient, build_client, redact

SID = "nEtWoRkTeSt1"
_SCRIPT = Path(sys.executable).with_name("scholar-stats")
SCHOLAR_STATS = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "crawler"]
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")


@pytest.fixture(autouse=True)
def no_proxy(clean_environment: None) -> None:
    """Local servers are reached directly, with no proxy or scholar-stats setting of this machine."""


Handler = Callable[[socket.socket, threading.Event], None]


class RawServer:
    """A TCP server on 127.0.0.1 that plays ``handler`` on each connection, one thread each.

    It records whether each connection was closed by the client (``closed_by_client``),
    which is how a test sees that an abandoned request left nothing open."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.stop = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.connections = 0
        self.closed_by_client = 0
        self._threads: list[threading.Thread] = []
        self._accept = threading.Thread(target=self._serve, daemon=True)
        self._accept.start()

    def _serve(self) -> None:
        self.listener.settimeout(0.1)
        while not self.stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            thread = threading.Thread(target=self._play, args=(conn,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _play(self, conn: socket.socket) -> None:
        with conn:
            try:
                self.handler(conn, self.stop)
            except OSError:
                # The client went away mid-answer: that is what a cut looks like here.
                self.closed_by_client += 1

    def close(self) -> None:
        self.stop.set()
        self.listener.close()
        for thread in self._threads:
            thread.join(timeout=5)


@contextlib.contextmanager
def serving(handler: Handler) -> Iterator[RawServer]:
    server = RawServer(handler)
    try:
        yield server
    finally:
        server.close()


def read_request_head(conn: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            raise ConnectionResetError("client left before its request was read")
        data += chunk
    return data


def drip(
    conn: socket.socket, stop: threading.Event, first: bytes, interval: float, filler: bytes = b"a"
) -> None:
    """Send ``first``, then one byte of ``filler`` every ``interval`` seconds, for ever."""
    conn.sendall(first)
    while not stop.wait(interval):
        conn.sendall(filler)


def drip_headers(interval: float) -> Handler:
    """A status line at once, then a header that never ends, one byte at a time."""

    def handler(conn: socket.socket, stop: threading.Event) -> None:
        read_request_head(conn)
        drip(conn, stop, b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nX-Filler: ", interval)

    return handler


def polite(deadline: float, timeout: float = 5.0, **options: object) -> PoliteClient:
    opts = HttpOptions(**{"delay": 0.0, "retries": 3, "timeout": timeout, "deadline": deadline, **options})  # type: ignore[arg-type]
    return PoliteClient(build_client(opts), opts)


def timed_get(client: PoliteClient, url: str, *, give_up: float = 20.0) -> tuple[BaseException | None, float]:
    """The error of ``client.get(url)`` and the seconds it took; a call still running
    after ``give_up`` seconds fails the test instead of hanging it."""
    outcome: list[BaseException | None] = []

    def call() -> None:
        try:
            client.get(url, deadline=client.deadline())
        except Exception as exc:
            outcome.append(exc)
        else:
            outcome.append(None)

    started = time.monotonic()
    thread = threading.Thread(target=call, daemon=True)
    thread.start()
    thread.join(give_up)
    seconds = time.monotonic() - started
    assert outcome, f"the request was still running after {seconds:.0f}s"
    return outcome[0], seconds


def wait_until(condition: Callable[[], bool], seconds: float = 10.0) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


# -- the wall-clock deadline --------------------------------------------------------


def test_dripped_headers_end_at_the_deadline_and_the_connection_is_closed() -> None:
    with serving(drip_headers(0.2)) as server, polite(deadline=1.5) as client:
        error, seconds = timed_get(client, server.url + "/citations?user=" + SID)
        assert isinstance(error, DeadlineExceeded), error
        assert "deadline of 1.5s" in str(error)
        # Generous: this checks the deadline is a wall clock, not speed.
        assert seconds < 6
        # The dripping connection was cut, not left open behind the caller.
        assert wait_until(lambda: server.closed_by_client == 1)


def test_no_request_thread_outlives_its_cut() -> None:
    before = {t.ident for t in threading.enumerate()}
    with serving(drip_headers(0.2)) as server, polite(deadline=1.0) as client:
        for _ in range(3):
            error, _ = timed_get(client, server.url + "/citations")
            assert isinstance(error, DeadlineExceeded)
        assert wait_until(
            lambda: (
                not [
                    t
                    for t in threading.enumerate()
                    if t.name == "scholar-stats-request" and t.ident not in before
                ]
            )
        )


def test_proxy_that_drips_its_connect_answer_ends_at_the_deadline() -> None:
    with serving(drip_headers(0.2)) as proxy, polite(deadline=1.5, proxy=proxy.url) as client:
        # An https:// URL through an http:// proxy: the client sends CONNECT and waits for its answer.
        error, seconds = timed_get(client, "https://scholar.example/citations?user=" + SID)
        assert isinstance(error, DeadlineExceeded), error
        assert seconds < 6
        assert proxy.connections == 1


def test_tls_handshake_that_drips_ends_at_the_deadline() -> None:
    def handler(conn: socket.socket, stop: threading.Event) -> None:
        conn.recv(4096)  # the ClientHello
        # A TLS record header announcing 16 KiB, then its bytes one at a time.
        drip(conn, stop, b"\x16\x03\x03\x40\x00", 0.2, b"\x00")

    with serving(handler) as server, polite(deadline=1.5) as client:
        error, seconds = timed_get(client, f"https://127.0.0.1:{server.port}/citations")
        assert isinstance(error, DeadlineExceeded), error
        assert seconds < 6
        assert wait_until(lambda: server.closed_by_client == 1)


def test_a_resolver_that_hangs_ends_at_the_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    release = threading.Event()
    real = socket.getaddrinfo

    def hanging(host: str, *args: object, **kwargs: object) -> object:
        if host == "scholar.example":
            release.wait(30)
            raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")
        return real(host, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "getaddrinfo", hanging)
    try:
        with polite(deadline=1.5) as client:
            error, seconds = timed_get(client, "http://scholar.example/citations")
        assert isinstance(error, DeadlineExceeded), error
        assert seconds < 6
    finally:
        release.set()


@pytest.mark.slow
def test_cli_run_with_dripped_headers_stops_at_the_deadline(tmp_path: Path) -> None:
    """The issue's case: ``run --timeout 5 --deadline 10`` against a header drip (it ran 200 s)."""
    with serving(drip_headers(1.0)) as server:
        started = time.monotonic()
        done = subprocess.run(
            [
                *SCHOLAR_STATS,
                "run",
                "--author",
                SID,
                "--data-dir",
                tmp_path / "data",
                "--base-url",
                server.url,
                "--delay",
                "0",
                "--timeout",
                "5",
                "--deadline",
                "10",
            ],
            capture_output=True,
            text=True,
            timeout=90,
            env=dict(os.environ),
        )
        seconds = time.monotonic() - started
    assert done.returncode == 1, done.stderr
    assert "deadline of 10s exceeded" in done.stderr
    assert "Traceback" not in done.stderr
    assert seconds < 30, seconds


# -- option values ------------------------------------------------------------------

ABSURD = [
    ("delay", "nan"),
    ("delay", "inf"),
    ("delay", "-1"),
    ("delay", "1e9"),
    ("timeout", "nan"),
    ("timeout", "inf"),
    ("timeout", "0"),
    ("timeout", "1e300"),
    ("deadline", "nan"),
    ("deadline", "-inf"),
    ("deadline", "0"),
    ("deadline", "1e12"),
    ("retries", "-1"),
    ("retries", "1000000"),
    ("retries", "1.5"),
]


@pytest.mark.parametrize(("key", "value"), ABSURD)
def test_absurd_values_in_the_config_file_are_refused(tmp_path: Path, key: str, value: str) -> None:
    path = tmp_path / "scholar-stats.toml"
    path.write_text(f'{key} = {value}\n[[authors]]\nid = "{SID}"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value).startswith(f"{path}:1: {key}: must be ")


@pytest.mark.parametrize(("key", "value"), ABSURD)
def test_absurd_values_on_the_command_line_exit_2(tmp_path: Path, key: str, value: str) -> None:
    done = CliRunner().invoke(
        main, ["run", "--author", SID, "--data-dir", str(tmp_path / "data"), f"--{key}", value]
    )
    assert done.exit_code == 2, done.output
    assert f"--{key}" in done.stderr and ("must be" in done.stderr or "not a whole number" in done.stderr)
    assert done.exception is None or isinstance(done.exception, SystemExit)
    assert not (tmp_path / "data").exists()


@pytest.mark.parametrize("key", ["delay", "timeout", "deadline", "retries"])
def test_library_options_refuse_nan_too(key: str) -> None:
    with pytest.raises(ValueError, match="must be"):
        HttpOptions(**{key: float("nan")})  # type: ignore[arg-type]


def test_sane_values_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "scholar-stats.toml"
    path.write_text(f'delay = 0\ntimeout = 0.5\ndeadline = 86400\nretries = 10\n[[authors]]\nid = "{SID}"\n')
    http = load_config(path).http
    assert (http.delay, http.timeout, http.deadline, http.retries) == (0.0, 0.5, 86400.0, 10)


# -- decompression bombs -------------------------------------------------------------

_GIB = 1 << 30


def _compressor(name: str) -> Any:
    wbits = 16 + zlib.MAX_WBITS if name == "gzip" else zlib.MAX_WBITS
    return zlib.compressobj(9, zlib.DEFLATED, wbits)


@functools.cache
def _gigabyte_of_zeros_gzipped() -> bytes:
    packer = _compressor("gzip")
    block = bytes(1 << 20)
    body: bytes = b"".join(packer.compress(block) for _ in range(_GIB // len(block))) + packer.flush()
    return body


def bomb(encodings: str) -> bytes:
    """A body that inflates to 1 GiB of zeros once every ``Content-Encoding`` layer is
    undone; the first layer (the innermost) is gzip."""
    layers = [e.strip() for e in encodings.split(",") if e.strip() not in ("", "identity")]
    assert layers[0] == "gzip"
    data = _gigabyte_of_zeros_gzipped()
    for name in layers[1:]:
        packer = _compressor(name)
        data = packer.compress(data) + packer.flush()
    return data


def serve_body(body: bytes, encodings: str) -> Handler:
    def handler(conn: socket.socket, stop: threading.Event) -> None:
        read_request_head(conn)
        head = (
            "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=UTF-8\r\n"
            f"Content-Encoding: {encodings}\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        )
        conn.sendall(head.encode() + body)

    return handler


def test_a_stacked_gzip_bomb_is_small_on_the_wire() -> None:
    assert len(bomb("gzip, gzip")) < 4096  # the issue's ~1.8 KB


# Content-Encoding lists the layers in the order they were applied.
@pytest.mark.parametrize(
    "encodings", ["gzip", "gzip, gzip", "gzip, deflate", "gzip, identity, deflate", "gzip, deflate, gzip"]
)
def test_a_decompression_bomb_is_refused_without_inflating_it(encodings: str) -> None:
    body = bomb(encodings)
    tracemalloc.start()
    try:
        with serving(serve_body(body, encodings)) as server, polite(deadline=60) as client:
            error, _ = timed_get(client, server.url + "/citations", give_up=60)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert isinstance(error, FetchError) and not isinstance(error, DeadlineExceeded), error
    assert "larger than" in str(error)
    assert peak < 100 * (1 << 20), f"peak {peak / (1 << 20):.0f} MiB"


# Linux counts a child's size before its exec in its peak (a fork of pytest is
# pytest's size): a small launcher in between measures the command alone.
PEAK_RSS_LAUNCHER = """
import os, subprocess, sys
child = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)
_, status, usage = os.wait4(child.pid, 0)
print(usage.ru_maxrss, os.waitstatus_to_exitcode(status))
"""


def peak_rss_mb(command: list[str]) -> tuple[float, int, str]:
    """Peak resident memory of ``command`` in MB, its exit code and its stderr."""
    done = subprocess.run(
        [sys.executable, "-c", PEAK_RSS_LAUNCHER, *command], capture_output=True, text=True, timeout=120
    )
    kilobytes, code = done.stdout.split()
    return int(kilobytes) / 1024, int(code), done.stderr


@pytest.mark.slow
def test_cli_peak_memory_stays_small_against_a_gzip_gzip_bomb() -> None:
    """The whole process, measured by the kernel: under 150 MB (it was 2.1 GB)."""
    with serving(serve_body(bomb("gzip, gzip"), "gzip, gzip")) as server:
        peak, code, stderr = peak_rss_mb(
            [*SCHOLAR_STATS, "fetch", SID, "--base-url", server.url, "--delay", "0", "--retries", "0"]
        )
    assert code == 1, stderr
    assert "larger than" in stderr and "Traceback" not in stderr
    assert peak < 150, f"peak RSS {peak:.0f} MB"


@pytest.mark.parametrize(
    "encodings", ["gzip", "deflate", "gzip, gzip", "deflate, gzip", "identity", "gzip, identity"]
)
def test_honest_encoded_pages_are_read(encodings: str) -> None:
    page = b"<html><body>" + b"citations " * 50_000 + b"</body></html>"
    body = page
    for name in [e.strip() for e in encodings.split(",")]:
        if name == "gzip":
            body = gzip.compress(body)
        elif name == "deflate":
            body = zlib.compress(body)
    with serving(serve_body(body, encodings)) as server, polite(deadline=30) as client:
        _, got = client.get(server.url + "/citations", deadline=client.deadline())
    assert got == page


def test_raw_deflate_is_read_too() -> None:
    page = b"<html>" + b"x" * 10_000 + b"</html>"
    packer = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    body = packer.compress(page) + packer.flush()
    with serving(serve_body(body, "deflate")) as server, polite(deadline=30) as client:
        _, got = client.get(server.url + "/citations", deadline=client.deadline())
    assert got == page


@pytest.mark.parametrize("encodings", ["br", "zstd", "compress", "gzip, br", "x-unknown"])
def test_encodings_never_asked_for_are_refused(encodings: str) -> None:
    with serving(serve_body(b"\x00" * 100, encodings)) as server, polite(deadline=30) as client:
        error, _ = timed_get(client, server.url + "/citations")
    assert isinstance(error, FetchError), error
    assert "Content-Encoding" in str(error)


def test_only_encodings_the_client_can_bound_are_asked_for() -> None:
    seen: list[bytes] = []

    def handler(conn: socket.socket, stop: threading.Event) -> None:
        seen.append(read_request_head(conn))
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")

    with serving(handler) as server, polite(deadline=30) as client:
        client.get(server.url + "/citations", deadline=client.deadline())
    assert b"\r\naccept-encoding: gzip, deflate\r\n" in seen[0].lower()


def test_a_corrupt_gzip_body_is_a_fetch_error() -> None:
    with (
        serving(serve_body(b"\x1f\x8b\x08\x00garbage-not-gzip", "gzip")) as server,
        polite(deadline=30, retries=0) as client,
    ):
        error, _ = timed_get(client, server.url + "/citations")
    assert isinstance(error, FetchError), error
    assert "gzip" in str(error)


# -- proxies --------------------------------------------------------------------------


class Socks5Proxy:
    """A small SOCKS5 proxy (RFC 1928, user/password auth of RFC 1929) on 127.0.0.1.

    It only connects to 127.0.0.1, so no test can reach further through it; ``seen``
    lists the (user, host, port) of each tunnel it opened."""

    def __init__(
        self, user: str | None = None, password: str | None = None, drip: float | None = None
    ) -> None:
        self.user, self.password, self.drip = user, password, drip
        self.seen: list[tuple[str | None, str, int]] = []
        self.refused_auth = 0
        self.server = RawServer(self._handle)
        self.port = self.server.port

    def url(self, user: str | None = None, password: str | None = None, scheme: str = "socks5") -> str:
        auth = f"{user}:{password}@" if user is not None else ""
        return f"{scheme}://{auth}127.0.0.1:{self.port}"

    def close(self) -> None:
        self.server.close()

    @staticmethod
    def _read(conn: socket.socket, n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = conn.recv(n - len(data))
            if not chunk:
                raise ConnectionResetError("client left")
            data += chunk
        return data

    def _handle(self, conn: socket.socket, stop: threading.Event) -> None:
        version, n_methods = self._read(conn, 2)
        methods = self._read(conn, n_methods)
        if self.drip is not None:
            drip(conn, stop, b"\x05", self.drip, b"\x00")
            return
        wanted = 0x02 if self.user is not None else 0x00
        if version != 5 or wanted not in methods:
            conn.sendall(b"\x05\xff")
            return
        conn.sendall(bytes([5, wanted]))
        user = None
        if wanted == 0x02:
            _, ulen = self._read(conn, 2)
            user = self._read(conn, ulen).decode()
            (plen,) = self._read(conn, 1)
            password = self._read(conn, plen).decode()
            if (user, password) != (self.user, self.password):
                self.refused_auth += 1
                conn.sendall(b"\x01\x01")
                return
            conn.sendall(b"\x01\x00")
        _, command, _, kind = self._read(conn, 4)
        if kind == 1:
            host = socket.inet_ntoa(self._read(conn, 4))
        elif kind == 3:
            (length,) = self._read(conn, 1)
            host = self._read(conn, length).decode()
        else:
            host = socket.inet_ntop(socket.AF_INET6, self._read(conn, 16))
        port = int.from_bytes(self._read(conn, 2), "big")
        if command != 1 or host not in ("127.0.0.1", "localhost"):
            conn.sendall(b"\x05\x02\x00\x01\x00\x00\x00\x00\x00\x00")  # not allowed by ruleset
            return
        self.seen.append((user, host, port))
        upstream = socket.create_connection(("127.0.0.1", port))
        conn.sendall(b"\x05\x00\x00\x01\x7f\x00\x00\x01" + upstream.getsockname()[1].to_bytes(2, "big"))
        relay(conn, upstream, stop)


def relay(a: socket.socket, b: socket.socket, stop: threading.Event) -> None:
    with b:
        pair = [a, b]
        while not stop.is_set():
            ready, _, _ = select.select(pair, [], [], 0.1)
            for sock in ready:
                data = sock.recv(65536)
                if not data:
                    return
                (b if sock is a else a).sendall(data)


@pytest.fixture
def socks() -> Iterator[Socks5Proxy]:
    proxy = Socks5Proxy(user="lab", password="s3cr3t-pw")
    yield proxy
    proxy.close()


def fetch_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*SCHOLAR_STATS, "fetch", SID, "--delay", "0", *args],
        capture_output=True,
        text=True,
        timeout=90,
        env={**os.environ, **(env or {})},
    )


def assert_one_error_line(stderr: str) -> None:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr


@pytest.mark.parametrize("scheme", ["socks5", "socks5h"])
def test_fetch_through_a_socks5_proxy(replay: ReplayServer, socks: Socks5Proxy, scheme: str) -> None:
    replay.add_profile(SID, 3)
    done = fetch_cli("--base-url", replay.url, "--proxy", socks.url("lab", "s3cr3t-pw", scheme))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["scholar_id"] == SID
    assert socks.seen and all(
        user == "lab" and port == int(replay.url.rsplit(":", 1)[1]) for user, _, port in socks.seen
    )
    assert len(replay.profile_requests(SID)) == 1


def test_socks_proxy_from_the_config_file(replay: ReplayServer, socks: Socks5Proxy, tmp_path: Path) -> None:
    replay.add_profile(SID, 3)
    path = tmp_path / "scholar-stats.toml"
    path.write_text(
        f'delay = 0\nproxy = "{socks.url("lab", "s3cr3t-pw")}"\nbase_url = "{replay.url}"\n'
        f'[[authors]]\nid = "{SID}"\n'
    )
    done = subprocess.run(
        [*SCHOLAR_STATS, "run", "--config", str(path)], capture_output=True, text=True, timeout=90
    )
    assert done.returncode == 0, done.stderr
    assert socks.seen


def test_socks_proxy_refusing_the_password_is_one_line_without_it(
    replay: ReplayServer, socks: Socks5Proxy
) -> None:
    done = fetch_cli("--base-url", replay.url, "--proxy", socks.url("lab", "WrongPass99"), "--retries", "3")
    assert done.returncode == 1, done.stderr
    assert_one_error_line(done.stderr)
    assert "proxy" in done.stderr and "WrongPass99" not in done.stderr
    assert socks.refused_auth == 1  # a refused password is not tried again


def test_socks_proxy_that_is_not_there_says_so(replay: ReplayServer) -> None:
    closed = socket.create_server(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    done = fetch_cli(
        "--base-url", replay.url, "--proxy", f"socks5://lab:s3cr3t-pw@127.0.0.1:{port}", "--retries", "1"
    )
    assert done.returncode == 1, done.stderr
    assert_one_error_line(done.stderr)
    assert "cannot reach 127.0.0.1: check the network or proxy" in done.stderr
    assert "s3cr3t-pw" not in done.stderr


def test_a_drip_through_a_socks_tunnel_ends_at_the_deadline() -> None:
    # A SOCKS reply is read whole or refused, so the stretch comes through the tunnel.
    proxy = Socks5Proxy()
    try:
        with serving(drip_headers(0.2)) as server, polite(deadline=1.5, proxy=proxy.url()) as client:
            error, seconds = timed_get(client, server.url + "/citations")
            assert isinstance(error, DeadlineExceeded), error
            assert seconds < 6
            assert proxy.seen and wait_until(lambda: server.closed_by_client == 1)
    finally:
        proxy.close()


@pytest.mark.parametrize("reply", [b"\x05", b"HTTP/1.1 400 Bad Request\r\n\r\n", b"\x05\x02"])
def test_a_proxy_that_does_not_speak_socks5_is_one_fetch_error(reply: bytes) -> None:
    def handler(conn: socket.socket, stop: threading.Event) -> None:
        conn.recv(64)
        conn.sendall(reply)
        stop.wait(5)

    with serving(handler) as proxy, polite(deadline=30, proxy=f"socks5://127.0.0.1:{proxy.port}") as client:
        error, _ = timed_get(client, "http://127.0.0.1:9/citations")
    assert isinstance(error, FetchError), repr(error)
    assert "proxy" in str(error)


BAD_PROXIES = [
    ("lab:S3CRETPW@proxy.example:1080", "needs a scheme"),
    ("socks4://lab:S3CRETPW@proxy.example:1080", "socks4"),
    ("ftp://lab:S3CRETPW@proxy.example:21", "ftp"),
    ("socks5://lab:S3CRETPW@proxy.example:port", "port"),
    ("http://lab:S3CRETPW@:8080", "host"),
    ("socks5://lab:S3CRETPW@proxy.example:1080/path?x=1", "path"),
]


@pytest.mark.parametrize(("proxy", "words"), BAD_PROXIES)
def test_bad_proxy_on_the_command_line_is_refused_without_its_password(
    tmp_path: Path, proxy: str, words: str
) -> None:
    done = CliRunner().invoke(
        main, ["run", "--author", SID, "--data-dir", str(tmp_path / "data"), "--proxy", proxy]
    )
    assert done.exit_code == 2, done.output
    assert words in done.stderr and "S3CRETPW" not in done.output
    assert not (tmp_path / "data").exists()


@pytest.mark.parametrize(("proxy", "words"), BAD_PROXIES)
def test_bad_proxy_in_the_config_file_is_refused_without_its_password(
    tmp_path: Path, proxy: str, words: str
) -> None:
    path = tmp_path / "scholar-stats.toml"
    path.write_text(f'proxy = "{proxy}"\n[[authors]]\nid = "{SID}"\n')
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert message.startswith(f"{path}:1: proxy: ") and words in message
    assert "S3CRETPW" not in message


@pytest.mark.parametrize("variable", ["SCHOLAR_STATS_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy"])
def test_bad_proxy_in_the_environment_is_refused_without_its_password(tmp_path: Path, variable: str) -> None:
    done = subprocess.run(
        [*SCHOLAR_STATS, "run", "--author", SID, "--data-dir", str(tmp_path / "data")],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, variable: "socks4://lab:S3CRETPW@proxy.example:1080"},
    )
    assert done.returncode == 2, done.stderr
    assert "S3CRETPW" not in done.stderr and "Traceback" not in done.stderr
    assert "socks4" in done.stderr
    assert not (tmp_path / "data").exists()


def test_the_issue_case_leaves_no_password_anywhere(tmp_path: Path) -> None:
    """``--proxy user:PASS@host:port`` used to end in a traceback carrying the password,
    written into state.json and the summary."""
    data = tmp_path / "data"
    summary = tmp_path / "summary.json"
    done = subprocess.run(
        [
            *SCHOLAR_STATS,
            "run",
            "--author",
            SID,
            "--data-dir",
            str(data),
            "--summary",
            str(summary),
            "--proxy",
            "lab:S3CRETPW@proxy.example:1080",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    assert "Invalid value for '--proxy'" in done.stderr and "Traceback" not in done.stderr
    assert "S3CRETPW" not in done.stderr + done.stdout
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert all("S3CRETPW" not in p.read_text(errors="replace") for p in written)


# -- a network that is down -----------------------------------------------------------


def no_dns(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Name resolution fails as it does offline; returns the names asked for."""
    asked: list[str] = []

    def offline(host: str, *args: object, **kwargs: object) -> object:
        asked.append(host)
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", offline)
    return asked


def test_offline_fails_fast_and_says_what_to_check(monkeypatch: pytest.MonkeyPatch) -> None:
    asked = no_dns(monkeypatch)
    sleeps: list[float] = []
    opts = HttpOptions(delay=0.0, retries=3, deadline=300)
    with PoliteClient(build_client(opts), opts, sleep=sleeps.append) as client:
        started = time.monotonic()
        with pytest.raises(FetchError) as info:
            client.get("https://scholar.google.com/citations?user=" + SID, deadline=client.deadline())
    assert str(info.value).startswith("cannot reach scholar.google.com: check the network or proxy")
    assert "Errno" not in str(info.value)
    assert asked == ["scholar.google.com"] and sleeps == []  # no retry budget spent on it
    assert time.monotonic() - started < 5


def test_offline_run_says_so_in_one_line_at_once(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    no_dns(monkeypatch)
    started = time.monotonic()
    done = CliRunner().invoke(main, ["run", "--author", SID, "--data-dir", str(tmp_path / "data")])
    assert time.monotonic() - started < 10
    assert done.exit_code == 1, done.output
    assert "cannot reach scholar.google.com: check the network or proxy" in done.stderr
    state = json.loads((tmp_path / "data" / SID / "state.json").read_text())
    assert state["reason"].startswith("cannot reach scholar.google.com")


def test_refused_connections_are_retried_and_each_attempt_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    closed = socket.create_server(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    sleeps: list[float] = []
    opts = HttpOptions(delay=0.0, retries=2, deadline=300)
    with (
        caplog.at_level("INFO", logger="crawler.net.http"),
        PoliteClient(build_client(opts), opts, sleep=sleeps.append) as client,
        pytest.raises(FetchError) as info,
    ):
        client.get(f"http://127.0.0.1:{port}/citations", deadline=client.deadline())
    assert str(info.value).startswith(
        "cannot reach 127.0.0.1: check the network or proxy (connection refused"
    )
    assert len(sleeps) == 2
    lines = [r.getMessage() for r in caplog.records if r.levelname == "INFO"]
    assert len(lines) == 2
    assert all("cannot reach 127.0.0.1" in line and "retrying in" in line for line in lines)
    assert "attempt 1 of 3" in lines[0] and "attempt 2 of 3" in lines[1]


# -- secrets ----------------------------------------------------------------------------

SECRET_TEXTS = [
    (
        "https://serpapi.com/search.json?engine=google_scholar_author&api_key=SeCrEt123&hl=en",
        "SeCrEt123",
        "hl=en",
    ),
    ("https://api.openalex.org/authors/A1?api_key=SeCrEt123&mailto=me%40lab.org", "SeCrEt123", "A1"),
    ("mailto=me@lab.org&per-page=1", "me@lab.org", "per-page=1"),
    ("lab:SeCrEt123@proxy.example:1080 is not a proxy URL", "SeCrEt123", "proxy.example:1080"),
    ("socks5://lab:SeCrEt123@127.0.0.1:1080", "SeCrEt123", "socks5://lab:***@127.0.0.1:1080"),
    ("http://lab:p@ss:SeCrEt123@proxy.example:3128", "SeCrEt123", "proxy.example:3128"),
    (
        "fatal: unable to access 'https://user:SeCrEt123@github.com/o/r.git/': Could not resolve host",
        "SeCrEt123",
        "Could not resolve host",
    ),
    (
        "https://x-access-token:ghs_abcdefghijklmnopqrstuvwxyz12@github.com/o/r.git",
        "ghs_abcdef",
        "github.com/o/r.git",
    ),
    ("remote: https://ghp_abcdefghijklmnopqrstuvwxyz123456@github.com/o/r", "ghp_abcdef", "github.com/o/r"),
    ("push with github_pat_11ABCDEFG0123456789_abcdefghijklmnop failed", "github_pat_11", "failed"),
    ('SerpApi: {"error": "Invalid API key", "api_key": "SeCrEt123"}', "SeCrEt123", "Invalid API key"),
    ("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.SeCrEt123", "SeCrEt123", "Authorization: Bearer"),
    ("?token=SeCrEt123&user=amIMrIEAAAAJ", "SeCrEt123", "user=amIMrIEAAAAJ"),
]


@pytest.mark.parametrize(("text", "secret", "kept"), SECRET_TEXTS)
def test_redact_masks_every_kind_of_credential(text: str, secret: str, kept: str) -> None:
    masked = redact(text)
    assert masked is not None and secret not in masked and "***" in masked
    assert kept in masked


@pytest.mark.parametrize(
    "text",
    [
        "https://scholar.google.com/citations?user=amIMrIEAAAAJ&hl=en&cstart=100",
        "cannot reach scholar.google.com: check the network or proxy (name lookup failed)",
        "snapshot 20261201T120000Z.json written at 12:00:01, ratio 1:2",
        "asked for amIMrIEAAAAJ, the source served the profile of xyzAAAAAAAAJ",
    ],
)
def test_redact_leaves_ordinary_text_alone(text: str) -> None:
    assert redact(text) == text


def test_a_secret_echoed_by_a_server_reaches_no_file_and_no_stderr(tmp_path: Path) -> None:
    """SerpApi echoes what it was sent; the echo must be masked wherever the error goes."""
    key = "sk-live-0123456789abcdef"
    echoed = json.dumps(
        {
            "error": "Invalid API key. Your key sent was used at "
            f"https://serpapi.com/search.json?api_key={key} "
            f"through http://lab:{key}@proxy.example:3128"
        }
    ).encode()

    def handler(conn: socket.socket, stop: threading.Event) -> None:
        read_request_head(conn)
        head = (
            f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(echoed)}\r\n"
            "Connection: close\r\n\r\n"
        )
        conn.sendall(head.encode() + echoed)

    data = tmp_path / "data"
    summary = tmp_path / "summary.json"
    with serving(handler) as server:
        done = subprocess.run(
            [
                *SCHOLAR_STATS,
                "-v",
                "run",
                "--author",
                SID,
                "--source",
                "serpapi",
                "--data-dir",
                str(data),
                "--delay",
                "0",
                "--retries",
                "0",
                "--summary",
                str(summary),
            ],
            capture_output=True,
            text=True,
            timeout=90,
            env={**os.environ, "SERPAPI_KEY": key, "SCHOLAR_STATS_SERPAPI_URL": server.url},
        )
    assert done.returncode == 1, done.stderr
    assert "Invalid API key" in done.stderr
    assert key not in done.stderr + done.stdout
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert {p.name for p in files} >= {"state.json", "summary.json"}
    for path in files:
        assert key not in path.read_text(errors="replace"), path


def test_a_traceback_in_the_log_is_masked_too(
    caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    from crawler.cli import _setup_logging

    _setup_logging(0)
    try:
        raise ValueError("Unknown scheme for proxy URL URL('lab:SeCrEt123@proxy.example:1080')")
    except ValueError:
        logging.getLogger("crawler.run").exception("unexpected error")
    err = capsys.readouterr().err
    assert "Traceback" in err and "SeCrEt123" not in err


def test_an_error_line_is_masked_whatever_raised_it(capsys: pytest.CaptureFixture[str]) -> None:
    from crawler.commands._options import handle_errors
    from crawler.errors import PublishError

    @handle_errors
    def push() -> None:
        raise PublishError(
            "git push failed: fatal: unable to access 'https://lab:SeCrEt123@github.com/o/r.git/'"
        )

    with pytest.raises(SystemExit) as info:
        push()
    assert info.value.code == 9
    err = capsys.readouterr().err
    assert err.startswith("error: git push failed") and "SeCrEt123" not in err


# -- the layer cap, on the inflater itself ----------------------------------------------


def _encoded(page: bytes, names: list[str]) -> bytes:
    for name in names:
        packer = _compressor(name)
        page = packer.compress(page) + packer.flush()
    return page


@pytest.mark.parametrize("names", [["gzip"] * 3, ["deflate", "gzip", "deflate"]])
def test_as_many_layers_as_the_cap_are_undone(names: list[str]) -> None:
    from crawler.net.inflate import MAX_ENCODING_LAYERS, Inflater

    assert len(names) == MAX_ENCODING_LAYERS == 3
    page = b"<html>" + b"citations " * 10_000 + b"</html>"
    inflater = Inflater(", ".join(names))
    body = _encoded(page, names)
    got = (
        b"".join(inflater.feed(body[:100])) + b"".join(inflater.feed(body[100:])) + b"".join(inflater.flush())
    )
    assert got == page and inflater.size == len(page)


@pytest.mark.parametrize("names", [["gzip"] * 4, ["gzip", "deflate", "gzip", "deflate", "gzip"]])
def test_one_layer_past_the_cap_is_refused_before_any_byte_is_inflated(names: list[str]) -> None:
    from crawler.net.inflate import Inflater

    with pytest.raises(FetchError, match=f"Content-Encoding with {len(names)} layers refused"):
        Inflater(", ".join(names), url="http://127.0.0.1/x")
    # identity layers are no layers.
    assert len(Inflater("gzip, identity, gzip, identity, gzip").layers) == 3


# -- --timeout bounds the wait for an answer, however it is stretched ------------------------


def test_dripped_headers_end_at_the_timeout_well_before_the_deadline() -> None:
    with serving(drip_headers(0.2)) as server, polite(deadline=60, timeout=1.0, retries=0) as client:
        error, seconds = timed_get(client, server.url + "/citations?user=" + SID)
    assert isinstance(error, FetchError) and not isinstance(error, DeadlineExceeded), repr(error)
    assert "timed out after 1s" in str(error)
    assert seconds < 5


def test_a_socks_handshake_that_stalls_ends_at_the_timeout() -> None:
    """httpcore reads a SOCKS proxy's handshake replies without any timeout of its own."""

    def handler(conn: socket.socket, stop: threading.Event) -> None:
        conn.recv(64)  # the greeting, never answered
        stop.wait(30)

    with (
        serving(handler) as proxy,
        polite(deadline=60, timeout=1.0, retries=0, proxy=f"socks5://127.0.0.1:{proxy.port}") as client,
    ):
        error, seconds = timed_get(client, "http://127.0.0.1:9/citations")
        assert isinstance(error, FetchError) and not isinstance(error, DeadlineExceeded), repr(error)
        assert "timed out after 1s" in str(error)
        assert seconds < 5


def test_each_retry_gets_its_own_timeout_and_the_deadline_still_caps_them() -> None:
    with serving(drip_headers(0.2)) as server, polite(deadline=2.5, timeout=1.0, retries=5) as client:
        error, seconds = timed_get(client, server.url + "/citations")
    assert isinstance(error, (FetchError, DeadlineExceeded)), repr(error)
    assert seconds < 7


def counting_tls_contexts(monkeypatch: pytest.MonkeyPatch) -> list[ssl.SSLContext]:
    """Every verified TLS context made from here on (httpx makes them with
    ``ssl.create_default_context``, loading the CA bundle: the costly part)."""
    made: list[ssl.SSLContext] = []
    original = ssl.create_default_context

    def create_default_context(*args: Any, **kwargs: Any) -> ssl.SSLContext:
        made.append(original(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(ssl, "create_default_context", create_default_context)
    return made


def answer_ok(conn: socket.socket, stop: threading.Event) -> None:
    read_request_head(conn)
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")


def test_a_plain_http_fetch_builds_no_tls_context(monkeypatch: pytest.MonkeyPatch) -> None:
    made = counting_tls_contexts(monkeypatch)
    with serving(answer_ok) as server, polite(deadline=10) as client:
        response, body = client.get(f"{server.url}/citations", deadline=client.deadline())
    assert (response.status_code, body) == (200, b"ok")
    assert made == []


def test_an_https_fetch_still_verifies_the_certificate(monkeypatch: pytest.MonkeyPatch) -> None:
    made = counting_tls_contexts(monkeypatch)

    def not_tls(conn: socket.socket, stop: threading.Event) -> None:
        conn.recv(4096)  # the ClientHello, answered with plain HTTP
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")

    with serving(answer_ok) as plain, serving(not_tls) as server, polite(deadline=10, retries=0) as client:
        client.get(f"{plain.url}/citations", deadline=client.deadline())
        assert made == []
        error, _ = timed_get(client, f"https://127.0.0.1:{server.port}/citations")
        assert isinstance(error, FetchError), error
    assert len(made) == 1
    assert made[0].verify_mode == ssl.CERT_REQUIRED and made[0].check_hostname


@pytest.mark.parametrize("variable", ["HTTP_PROXY", "http_proxy", "ALL_PROXY"])
def test_a_proxy_from_the_environment_carries_plain_http_requests(
    monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    seen: list[bytes] = []

    def proxy(conn: socket.socket, stop: threading.Event) -> None:
        seen.append(read_request_head(conn))
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 7\r\nConnection: close\r\n\r\nproxied")

    with serving(proxy) as server:
        monkeypatch.setenv(variable, server.url)
        with polite(deadline=10) as client:
            _response, body = client.get("http://scholar.invalid/citations", deadline=client.deadline())
    assert body == b"proxied"
    assert seen and seen[0].startswith(b"GET http://scholar.invalid/citations HTTP/1.1")
