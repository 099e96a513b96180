"""Peak memory of ``scholar-stats fetch`` against decompression bombs, beside an honest page.

A local server on 127.0.0.1 answers every request with one body and its
``Content-Encoding``; ``scholar-stats fetch`` runs against it once per body,
each run started from a small launcher so that the kernel's peak resident set
(``ru_maxrss``) is the command's own.  Target: every peak under 150 MB, and a
bomb's peak within 2x the honest page's.  Prints a Markdown table; exits 1 when
a target is missed.

    python bench/bench_bombs.py
"""

from __future__ import annotations

import contextlib
import gzip
import subprocess
import sys
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "tests" / "fixtures" / "scholar" / "bohlooli_en_50rows.html"
SCHOLAR_ID = "cIn8pGEAAAAJ"  # the profile of that page
SCRIPT = Path(sys.executable).with_name("scholar-stats")
COMMAND = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "crawler"]
TARGET_MB = 150.0
GIB = 1 << 30
LAUNCHER = """
import os, subprocess, sys
child = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
_, status, usage = os.wait4(child.pid, 0)
print(usage.ru_maxrss, os.waitstatus_to_exitcode(status))
print(child.stderr.read().decode()[:300].replace("\\n", " "))
"""


def packer(name: str) -> zlib._Compress:
    return zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS if name == "gzip" else zlib.MAX_WBITS)


def zeros_gzipped(size: int) -> bytes:
    inner = packer("gzip")
    block = bytes(1 << 20)
    return b"".join(inner.compress(block) for _ in range(size // len(block))) + inner.flush()


def layered(data: bytes, names: list[str]) -> bytes:
    for name in names:
        outer = packer(name)
        data = outer.compress(data) + outer.flush()
    return data


def serve(body: bytes, encoding: str) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=UTF-8")
            self.send_header("Content-Encoding", encoding)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            with contextlib.suppress(OSError):  # the client stopped reading: expected for a bomb
                self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def measure(body: bytes, encoding: str) -> tuple[float, float, int, str]:
    server = serve(body, encoding)
    try:
        url = f"http://127.0.0.1:{server.server_port}"
        started = time.perf_counter()
        done = subprocess.run(
            [
                sys.executable,
                "-c",
                LAUNCHER,
                *COMMAND,
                "fetch",
                SCHOLAR_ID,
                "--base-url",
                url,
                "--delay",
                "0",
                "--retries",
                "0",
            ],
            capture_output=True,
            text=True,
            timeout=300,
            check=True,
        )
        seconds = time.perf_counter() - started
    finally:
        server.shutdown()
        server.server_close()
    figures, _, message = done.stdout.partition("\n")
    kilobytes, code = figures.split()
    return int(kilobytes) / 1024, seconds, int(code), message


def main() -> int:
    page = PAGE.read_bytes()
    inner = zeros_gzipped(GIB)
    cases = [
        ("honest page, gzip", gzip.compress(page), "gzip"),
        ("1 GiB of zeros, gzip", inner, "gzip"),
        ("1 GiB of zeros, gzip, gzip", layered(inner, ["gzip"]), "gzip, gzip"),
        ("1 GiB of zeros, gzip, deflate, gzip", layered(inner, ["deflate", "gzip"]), "gzip, deflate, gzip"),
    ]
    print("| body | bytes sent | exit | peak RSS (MB) | × honest | seconds |")
    print("|---|---:|---:|---:|---:|---:|")
    baseline = None
    missed = False
    for label, body, encoding in cases:
        peak, seconds, code, message = measure(body, encoding)
        baseline = baseline or peak
        ratio = peak / baseline
        print(f"| {label} | {len(body):,} | {code} | {peak:.0f} | {ratio:.2f} | {seconds:.2f} |")
        if peak >= TARGET_MB or ratio > 2 or (label.startswith("1 GiB") and "larger than" not in message):
            missed = True
    print(
        f"\ntarget: every peak < {TARGET_MB:g} MB and within 2x the honest page: "
        f"{'MISSED' if missed else 'met'}"
    )
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
