"""The polite client's requests, one by one, beside a bare httpx client's, side by side.

    python bench/bench_send.py [--requests 300] [--runs 15] [--before CHECKOUT]

A local server (127.0.0.1, started by the script) answers every GET with the
same real saved profile page, gzipped (39 kB sent, 165 kB inflated).  In turn, `--runs` times each, a new
interpreter makes `--requests` GETs after one untimed: `PoliteClient.get`
(delay 0: the deadline, the worker thread that keeps it, the body read raw and
inflated layer by layer, the status checks), its floor, a bare `httpx.Client`
reading the same bodies, and with `--before CHECKOUT` the client of another
checkout (`PYTHONPATH`).  Prints the median and minimum wall time and CPU time
(the client's process only) per request, and each one's ratio to the floor.
"""

from __future__ import annotations

import argparse
import gzip
import os
import statistics
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "tests" / "fixtures" / "scholar" / "bohlooli_en_50rows.html"
BODY = gzip.compress(PAGE.read_bytes())


class _Page(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)

    def log_message(self, format: str, *args: object) -> None:
        pass


def child(kind: str, url: str, requests: int) -> None:
    """Runs in the timed interpreter: prints its wall and CPU seconds for ``requests`` GETs."""
    import httpx

    if kind == "floor":
        client = httpx.Client(timeout=20, trust_env=False)

        def get() -> None:
            client.get(url).read()
    else:
        from crawler.net.http import HttpOptions, PoliteClient, build_client

        options = HttpOptions(delay=0, retries=0)
        polite = PoliteClient(build_client(options), options)

        def get() -> None:
            polite.get(url, deadline=polite.deadline())

    get()
    start, cpu = time.perf_counter(), time.process_time()
    for _ in range(requests):
        get()
    print(f"{time.perf_counter() - start} {time.process_time() - cpu}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--before", metavar="CHECKOUT", help="another checkout whose client is timed too")
    parser.add_argument("--child", nargs=2, metavar=("KIND", "URL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], args.child[1], args.requests)
        return 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/citations"
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy") and k != "PYTHONPATH"}
    env["NO_PROXY"] = "127.0.0.1,localhost"
    trees = {"`PoliteClient.get`": str(ROOT), "bare `httpx.Client` (floor)": None}
    if args.before:
        trees["`PoliteClient.get` (before)"] = args.before
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in trees}
    try:
        for _turn in range(args.runs):
            for name, tree in trees.items():
                kind = "floor" if tree is None else "ours"
                command = [sys.executable, __file__, "--requests", str(args.requests), "--child", kind, url]
                run_env = env if tree is None else {**env, "PYTHONPATH": tree}
                out = subprocess.run(command, env=run_env, check=True, capture_output=True, text=True).stdout
                wall, cpu = map(float, out.split())
                times[name].append((wall / args.requests * 1000, cpu / args.requests * 1000))
    finally:
        server.shutdown()
    floor = [statistics.median(v) for v in zip(*times["bare `httpx.Client` (floor)"], strict=True)]
    print(
        f"{args.requests} GETs of a {len(BODY):,}-byte gzipped page per run, {args.runs} runs each in turn\n"
    )
    print("| client | wall ms/request, median (min) | × floor | CPU ms/request, median (min) | × floor |")
    print("|---|---:|---:|---:|---:|")
    for name, values in times.items():
        wall, cpu = ([v[i] for v in values] for i in (0, 1))
        wall_median, cpu_median = statistics.median(wall), statistics.median(cpu)
        print(
            f"| {name} | {wall_median:.2f} ({min(wall):.2f}) | {wall_median / floor[0]:.2f}× "
            f"| {cpu_median:.2f} ({min(cpu):.2f}) | {cpu_median / floor[1]:.2f}× |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
