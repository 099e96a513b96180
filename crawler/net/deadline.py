"""The wall-clock deadline of one fetch, and the cutter that keeps a request to it.

``Deadline`` counts the seconds left; every wait and read asks it first.
``Cutter`` runs each request on a worker thread so that it can be cut off when
the deadline passes, whatever the server, proxy, TLS handshake or resolver does.
"""

from __future__ import annotations

import contextlib
import os
import queue
import socket
import ssl
import threading
import time
import weakref
from collections.abc import Callable, Mapping
from typing import Any, TypeVar
from urllib.parse import urlsplit

from crawler.errors import DeadlineExceeded

_T = TypeVar("_T")


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


Trace = Callable[[str, Mapping[str, Any]], None]
# How long a request cut off at its deadline is given to wind down (release its
# connection) before the caller moves on without it.
_CUT_GRACE = 2.0


class _Cancelled(Exception):
    """Raised inside an abandoned request at its next step, so it goes no further."""


class NoAnswer(Exception):
    """The response's headers had not all arrived within the time allowed for an answer."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"no complete answer within {seconds:g}s")
        self.seconds = seconds


# httpcore's trace events once a response's headers are all in: the answer has come.
_ANSWERED = ("http11.receive_response_headers.complete", "http2.receive_response_headers.complete")


class Cutter:
    """Runs each request so that it can be cut off at the deadline, whatever the server does.

    httpx's timeouts bound each read, not a whole request: a server that sends
    its headers one byte a second keeps every read short and the request alive
    forever; so can a proxy answering CONNECT, a TLS handshake, or a resolver.
    Each request runs on a worker thread while the caller waits on the wall
    clock.  httpcore's ``trace`` extension names every socket the client opens
    (proxy, tunnel and TLS included); at the deadline they are shut down, which
    wakes whatever read is blocked on them.  A worker stuck in name resolution
    cannot be woken: it is left behind, and stops at its next step.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sockets: weakref.WeakSet[socket.socket] = weakref.WeakSet()
        self._worker: _Worker | None = None

    def close(self) -> None:
        if self._worker is not None:
            self._worker.retire()
            self._worker = None

    def _watch(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.add(sock)

    def _cut(self) -> None:
        with self._lock:
            sockets = list(self._sockets)
        for sock in sockets:
            # Idle keep-alive connections are shut down too: the pool drops them
            # and reconnects, which is cheap next to guessing which one is stuck.
            _shutdown(sock)

    def _trace(self, cancelled: threading.Event, answered: threading.Event) -> Trace:
        last: list[socket.socket] = []
        handshake: list[socket.socket] = []

        def trace(event: str, info: Mapping[str, Any]) -> None:
            if cancelled.is_set() and event.endswith(".started"):
                raise _Cancelled(event)
            if event in _ANSWERED:
                answered.set()
            stream: Any = info.get("return_value")
            sock = stream.get_extra_info("socket") if hasattr(stream, "get_extra_info") else None
            if isinstance(sock, socket.socket):
                last[:] = [sock]
                self._watch(sock)
                if cancelled.is_set():
                    _shutdown(sock)
            if event.endswith("start_tls.started") and last and not isinstance(last[0], ssl.SSLSocket):
                # Wrapping a socket in TLS moves its descriptor to a new object
                # before the handshake: a duplicate keeps the handshake reachable.
                with_dup = _dup(last[0])
                if with_dup is not None:
                    handshake.append(with_dup)
                    self._watch(with_dup)
            elif event.endswith(("start_tls.complete", "start_tls.failed")):
                while handshake:
                    handshake.pop().close()

        return trace

    def run(
        self,
        exchange: Callable[[Trace], _T],
        deadline: Deadline,
        url: str,
        *,
        answer_within: float | None = None,
    ) -> _T:
        """``exchange`` run so that it ends by the deadline; with ``answer_within``, also so
        that the response's headers have all arrived within that many seconds (``NoAnswer``):
        connecting, a proxy's handshake, TLS and the headers together, however slowly
        their bytes drip."""
        cancelled = threading.Event()
        done = threading.Event()
        answered = threading.Event()
        outcome: dict[str, Any] = {}

        def work() -> None:
            try:
                outcome["value"] = exchange(self._trace(cancelled, answered))
            except BaseException as exc:  # handed to the caller, whatever it is
                outcome["error"] = exc
            finally:
                answered.set()
                done.set()

        if self._worker is None:
            self._worker = _Worker()
        worker = self._worker
        worker.jobs.put(work)
        no_answer = False
        try:
            # Woken once, when the request is done, unless it takes longer than the time
            # allowed for an answer: only then is it asked whether the headers are in.
            finished = False
            if answer_within is not None and answer_within < deadline.remaining():
                finished = done.wait(answer_within)
                no_answer = not finished and not answered.is_set()
            if not finished and not no_answer:
                finished = done.wait(max(0.0, deadline.remaining()))
        finally:
            if not done.is_set():
                cancelled.set()
                self._cut()
                done.wait(_CUT_GRACE)
                # A request cut off takes its thread with it: the thread ends once the
                # request has wound down (at once, or after a resolver lets go), and
                # the next request gets a fresh one.
                worker.retire()
                self._worker = None
        if no_answer and answer_within is not None:
            raise NoAnswer(answer_within)
        if not finished:
            host = urlsplit(url).hostname or url
            raise DeadlineExceeded(
                f"deadline of {deadline.seconds:g}s exceeded while waiting for {host}", url=url
            )
        if "error" in outcome:
            raise outcome["error"]
        value: _T = outcome["value"]
        return value


class _Worker:
    """A thread that runs one request after another: starting a thread for each
    request costs about a millisecond, a tenth of a request on a fast network."""

    def __init__(self) -> None:
        self.jobs: queue.SimpleQueue[Callable[[], None] | None] = queue.SimpleQueue()
        threading.Thread(target=self._loop, name="scholar-stats-request", daemon=True).start()

    def _loop(self) -> None:
        while (job := self.jobs.get()) is not None:
            job()

    def retire(self) -> None:
        """End the thread once it has finished what it is doing."""
        self.jobs.put(None)


def _shutdown(sock: socket.socket) -> None:
    # OSError: already closed, or never connected.
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


def _dup(sock: socket.socket) -> socket.socket | None:
    try:
        return socket.socket(fileno=os.dup(sock.fileno()))
    except OSError:
        return None
