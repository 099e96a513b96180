"""The HTTP edge against hostile servers and careless settings: a wall-clock deadline
that no header drip, proxy, TLS handshake or resolver can stretch, and option values
refused the same way from the command line and the configuration file."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from crawler.cli import main
from crawler.config import load_config
from crawler.errors import ConfigError, DeadlineExceeded
from crawler.http import HttpOptions, PoliteClient, build_client

SID = "nEtWoRkTeSt1"
_SCRIPT = Path(sys.executable).with_name("scholar-stats")
SCHOLAR_STATS = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "crawler"]
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (*PROXY_VARIABLES, "SCHOLAR_STATS_BASE_URL", "SCHOLAR_STATS_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


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


def drip(conn: socket.socket, stop: threading.Event, first: bytes, interval: float, filler: bytes = b"a") -> None:
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
    opts = HttpOptions(delay=0.0, retries=3, timeout=timeout, deadline=deadline, **options)  # type: ignore[arg-type]
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
            lambda: not [t for t in threading.enumerate() if t.name == "scholar-stats-request" and t.ident not in before]
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
            [*SCHOLAR_STATS, "run", "--author", SID, "--data-dir", tmp_path / "data", "--base-url", server.url,
             "--delay", "0", "--timeout", "5", "--deadline", "10"],
            capture_output=True, text=True, timeout=90, env=dict(os.environ),
        )
        seconds = time.monotonic() - started
    assert done.returncode == 1, done.stderr
    assert "deadline of 10s exceeded" in done.stderr
    assert "Traceback" not in done.stderr
    assert seconds < 30, seconds


# -- option values ------------------------------------------------------------------

ABSURD = [
    ("delay", "nan"), ("delay", "inf"), ("delay", "-1"), ("delay", "1e9"),
    ("timeout", "nan"), ("timeout", "inf"), ("timeout", "0"), ("timeout", "1e300"),
    ("deadline", "nan"), ("deadline", "-inf"), ("deadline", "0"), ("deadline", "1e12"),
    ("retries", "-1"), ("retries", "1000000"), ("retries", "1.5"),
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
    done = CliRunner().invoke(main, ["run", "--author", SID, "--data-dir", str(tmp_path / "data"), f"--{key}", value])
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
