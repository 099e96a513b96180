"""A local stand-in for a JSON API: a real HTTP server on 127.0.0.1.

``StandIn.on(path, *replies, query={...})`` answers the requests for ``path``
(whose query contains ``query``) with ``replies`` in order, the last one
repeating; later routes win over earlier ones.  Every request is kept in
``requests``; one that no route answers gets a 404 and lands in ``unmatched``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, urlsplit

from crawler.net.http import HttpOptions, PoliteClient, build_client

DATA_DIR = Path(__file__).parent / "data"


def quiet_client(http: HttpOptions, sleeps: list[float] | None = None) -> PoliteClient:
    """A client that records its waits in ``sleeps`` instead of sleeping."""
    return PoliteClient(
        build_client(http), http, sleep=sleeps.append if sleeps is not None else (lambda s: None)
    )


def load(name: str) -> Any:
    """A recorded answer from ``tests/sources/data`` (see make_api_data.py there)."""
    return json.loads((DATA_DIR / name).read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)


def json_reply(data: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Reply:
    body = json.dumps(data, ensure_ascii=False).encode("utf-8")
    return Reply(status, body, {"Content-Type": "application/json; charset=utf-8", **(headers or {})})


def file_reply(name: str, status: int = 200, headers: Mapping[str, str] | None = None) -> Reply:
    return json_reply(load(name), status, headers)


class Seen(NamedTuple):
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    """Names in lower case."""


@dataclass
class _Route:
    path: str
    query: Mapping[str, str]
    replies: list[Reply]

    def matches(self, path: str, query: Mapping[str, str]) -> bool:
        return path == self.path and all(query.get(k) == v for k, v in self.query.items())

    def next_reply(self) -> Reply:
        return self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]


class StandIn:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._routes: list[_Route] = []
        self.requests: list[Seen] = []
        self.unmatched: list[Seen] = []
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    def on(self, path: str, *replies: Reply, query: Mapping[str, str] | None = None) -> None:
        assert replies, "a route needs at least one reply"
        with self._lock:
            self._routes.append(_Route(path, dict(query or {}), list(replies)))

    def paths(self) -> list[str]:
        return [seen.path for seen in self.requests]

    def _answer(self, seen: Seen) -> Reply:
        with self._lock:
            self.requests.append(seen)
            for route in reversed(self._routes):
                if route.matches(seen.path, seen.query):
                    return route.next_reply()
            self.unmatched.append(seen)
        return json_reply({"error": f"stand-in: no route for {seen.path}"}, 404)

    def start(self) -> StandIn:
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                seen = Seen(
                    parts.path,
                    dict(parse_qsl(parts.query, keep_blank_values=True)),
                    {k.lower(): v for k, v in self.headers.items()},
                )
                reply = stand_in._answer(seen)
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)

        httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        httpd.daemon_threads = True
        self._httpd = httpd
        self.url = f"http://127.0.0.1:{httpd.server_port}"
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def __enter__(self) -> StandIn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
