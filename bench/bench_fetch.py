"""Fetch and parse, measured side by side with scholarly 1.7.11.

    python bench/bench_fetch.py

Everything runs against the local Google Scholar of ``tests/replay.py``
(127.0.0.1, nothing leaves the machine):

1. requests per profile for 12, 250 and 999 publications: ours
   (``crawler.sources.scholar``) and scholarly's (``search_author_id`` then
   ``fill(sections=['basics', 'indices', 'counts', 'publications'])``, its
   httpx clients pointed at the replay server, its sleeps switched off);
2. parse time per real saved page: ours (``crawler.sources.scholar_page.parse_profile``) and
   scholarly's own parsing of the same bytes (decode, BeautifulSoup with
   ``html.parser``, then its ``_fill_basics``, ``_fill_indices``,
   ``_fill_counts`` and ``_fill_publications``);
3. peak resident memory of a child process that fetches a 999-publication
   profile with our client (``VmHWM`` from /proc: ``ru_maxrss`` of a child
   spawned on Linux can carry the parent's peak over ``exec``).

Prints a Markdown table on stdout.  Figures depend on the machine; the ones in
docs/benchmarks.md say where they come from.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import time
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from replay import FIXTURES_DIR, ReplayServer, declared_charset  # noqa: E402

from crawler.net.http import HttpOptions  # noqa: E402
from crawler.sources import AuthorRef, SourceSettings  # noqa: E402
from crawler.sources.scholar import open_source  # noqa: E402
from crawler.sources.scholar_page import parse_profile  # noqa: E402

SIZES = (12, 250, 999)
PAGES = (
    "bohlooli_en_50rows.html",
    "cherukuri_en_20rows_showmore.html",
    "denner_pt-PT_176rows_browser-saved.html",
    "kietzig_en_2021_pagesize2.html",
    "kietzig_fr_2019_pagesize2.html",
)
GENERATED_PAGE = "replay page, 100 generated rows"
MEMORY_TARGET_MB = 100.0
PARSE_TARGET_RATIO = 10.0


def scholar_id_for(n: int) -> str:
    return f"bench{n:07d}".replace("0", "A")[:12].ljust(12, "x")


def local_options() -> HttpOptions:
    # No politeness delay against a local server: requests are counted, not timed.
    return HttpOptions(delay=0.0, jitter=0.0, retries=0, timeout=30.0, deadline=600.0)


def clean_environment() -> None:
    """The replay server is on 127.0.0.1: no proxy, no base URL from outside."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        os.environ.pop(name, None)
    os.environ.pop("SCHOLAR_STATS_BASE_URL", None)
    os.environ["NO_PROXY"] = "127.0.0.1,localhost"


# -- ours ------------------------------------------------------------------------


def fetch_ours(base_url: str, scholar_id: str) -> int:
    """Fetch one profile completely; returns the number of publications."""
    source = open_source(SourceSettings(http=local_options(), base_url=base_url))
    try:
        return len(source.fetch(AuthorRef(scholar_id)).publications)
    finally:
        source.close()


# -- scholarly, pointed at the replay server ------------------------------------------------


class _ToReplay(httpx.BaseTransport):
    """Sends scholarly's requests for scholar.google.com to the replay server instead."""

    def __init__(self, base_url: str) -> None:
        self._target = httpx.URL(base_url)
        self._inner = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.host != "scholar.google.com":
            raise httpx.ConnectError(
                f"refusing to leave the replay server for {request.url.host}", request=request
            )
        request.url = request.url.copy_with(
            scheme=self._target.scheme, host=self._target.host, port=self._target.port
        )
        request.headers["Host"] = f"{self._target.host}:{self._target.port}"
        return self._inner.handle_request(request)

    def close(self) -> None:
        self._inner.close()


def scholarly_against(base_url: str) -> Any:
    """scholarly's module-level object, its Navigator's clients routed to ``base_url``."""
    logging.getLogger("scholarly").setLevel(logging.CRITICAL)
    from scholarly import _navigator, scholarly
    from scholarly._navigator import Navigator

    nav = Navigator()
    # The Navigator sleeps 1-2 s before every request; requests are counted here, not timed.
    _navigator.time = types.SimpleNamespace(sleep=lambda _s: None, time=time.time)  # type: ignore[attr-defined]
    for manager in (nav.pm1, nav.pm2):
        old = manager._session
        client = httpx.Client(
            transport=_ToReplay(base_url), follow_redirects=True, headers=dict(old.headers), timeout=30
        )
        old.close()
        manager._session = client
    nav._session1 = nav.pm1._session
    nav._session2 = nav.pm2._session
    return scholarly


def fetch_scholarly(scholarly: Any, scholar_id: str) -> int:
    author = scholarly.search_author_id(scholar_id)
    author = scholarly.fill(author, sections=["basics", "indices", "counts", "publications"])
    return len(author["publications"])


# -- parsing ------------------------------------------------------------------------------


class _NoMorePages:
    """Stands in for scholarly's Navigator when its parser asks for the next page:
    answers with an empty last page, so only the page given is parsed."""

    def __init__(self) -> None:
        from bs4 import BeautifulSoup

        self._soup = BeautifulSoup(
            '<button type="button" id="gsc_bpf_more" disabled></button>', "html.parser"
        )
        self.logger = logging.getLogger("scholarly")

    def _get_soup(self, url: str) -> Any:
        return self._soup


def scholarly_parse(body: bytes, charset: str, scholar_id: str) -> dict[str, Any]:
    """What scholarly does with one profile page, from bytes to a filled author."""
    from bs4 import BeautifulSoup
    from scholarly.author_parser import _CITATIONAUTHRE, AuthorParser
    from scholarly.data_types import AuthorSource

    text = body.decode(charset, errors="replace").replace("\xa0", " ")
    soup = BeautifulSoup(text, "html.parser")
    parser = AuthorParser(_NoMorePages())
    author: dict[str, Any] = {
        "container_type": "Author",
        "filled": [],
        "scholar_id": scholar_id,
        "source": AuthorSource.AUTHOR_PROFILE_PAGE,
    }
    re.findall(_CITATIONAUTHRE, soup.find("link", rel="canonical").get("href", ""))
    parser._fill_basics(soup, author)
    parser._fill_indices(soup, author)
    parser._fill_counts(soup, author)
    parser._fill_publications(soup, author, 0, "")
    return author


def median_seconds(call: Callable[[], object], *, budget: float = 1.5, least: int = 5) -> float:
    call()  # warm up (imports, caches)
    times: list[float] = []
    spent = 0.0
    while len(times) < least or spent < budget:
        started = time.perf_counter()
        call()
        elapsed = time.perf_counter() - started
        times.append(elapsed)
        spent += elapsed
        if len(times) >= 1000:
            break
    return statistics.median(times)


# -- memory ---------------------------------------------------------------------------------


def vm_hwm_kib() -> int | None:
    """Peak resident set of this process since it started (Linux ``VmHWM``)."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return None
    match = re.search(r"^VmHWM:\s+(\d+) kB", status, re.M)
    return int(match.group(1)) if match else None


def child_fetch(base_url: str, scholar_id: str) -> None:
    """Runs in the child: fetch, then report peak memory as JSON on stdout."""
    clean_environment()
    before = vm_hwm_kib()
    n = fetch_ours(base_url, scholar_id)
    print(
        json.dumps(
            {
                "publications": n,
                "peak_kib": vm_hwm_kib(),
                "after_imports_kib": before,
                "ru_maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
            }
        )
    )


def measure_memory(replay: ReplayServer, scholar_id: str) -> dict[str, Any]:
    command = [sys.executable, str(Path(__file__).resolve()), "--child-fetch", replay.url, scholar_id]
    done = subprocess.run(command, capture_output=True, text=True, check=True, timeout=600)
    report: dict[str, Any] = json.loads(done.stdout)
    return report


# -- the run ----------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--child-fetch", nargs=2, metavar=("BASE_URL", "SCHOLAR_ID"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_fetch:
        child_fetch(*args.child_fetch)
        return 0

    clean_environment()
    lines: list[str] = []
    failed: list[str] = []
    notes: list[str] = []
    with ReplayServer(FIXTURES_DIR) as replay:
        # 1. requests per profile
        lines += [
            "### Requests per profile (local replay server)",
            "",
            "| publications | ceil(N/100) | ours | scholarly 1.7.11 | ours got | scholarly got |",
            "|---:|---:|---:|---:|---:|---:|",
        ]
        scholarly = scholarly_against(replay.url)
        for n in SIZES:
            sid = scholar_id_for(n)
            replay.add_profile(sid, n)
            replay.reset()
            got_ours = fetch_ours(replay.url, sid)
            ours = len(replay.profile_requests(sid))
            replay.reset()
            got_theirs = fetch_scholarly(scholarly, sid)
            theirs = len(replay.profile_requests(sid))
            ideal = max(1, math.ceil(n / 100))
            lines.append(f"| {n} | {ideal} | {ours} | {theirs} | {got_ours} | {got_theirs} |")
            if ours != ideal or not ours < theirs or got_ours != n:
                failed.append(
                    f"requests for {n} publications: ours {ours}, ideal {ideal}, scholarly {theirs}"
                )

        # 2. parse time per saved page
        lines += [
            "",
            "### Parse time per saved page (median of repeated runs)",
            "",
            "| page | bytes | rows | ours (ms) | scholarly (ms) | ratio |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        ratios: list[float] = []
        generated_ratio = math.nan
        # The page a fetch actually receives: 100 generated rows in real markup.
        full_page = httpx.get(replay.profile_url(scholar_id_for(250), pagesize=100), timeout=30).content
        for name in (*PAGES, GENERATED_PAGE):
            body = full_page if name == GENERATED_PAGE else (FIXTURES_DIR / name).read_bytes()
            charset = declared_charset(body)
            content_type = f"text/html; charset={charset}"
            page = parse_profile(body, content_type=content_type)
            ours_s = median_seconds(lambda body=body, ct=content_type: parse_profile(body, content_type=ct))
            try:
                author = scholarly_parse(body, charset, page.profile.scholar_id)
                if len(author["publications"]) != len(page.publications):
                    raise RuntimeError("row count differs")
                theirs_s = median_seconds(
                    lambda body=body, cs=charset, sid=page.profile.scholar_id: scholarly_parse(body, cs, sid)
                )
            except Exception as exc:  # scholarly's parser failing on a real page is a finding
                lines.append(
                    f"| {name} | {len(body)} | {len(page.publications)} | {ours_s * 1000:.2f} | "
                    f"fails ({type(exc).__name__}) | - |"
                )
                continue
            ratio = theirs_s / ours_s
            if name == GENERATED_PAGE:
                generated_ratio = ratio
            else:
                ratios.append(ratio)
            lines.append(
                f"| {name} | {len(body)} | {len(page.publications)} | {ours_s * 1000:.2f} | "
                f"{theirs_s * 1000:.1f} | {ratio:.0f}x |"
            )
        if ratios:
            lowest = min(ratios)
            lines.append(
                f"\nOn the saved pages ours is {lowest:.1f}x to {max(ratios):.1f}x faster (geometric "
                f"mean {statistics.geometric_mean(ratios):.1f}x); on a full 100-row page "
                f"{generated_ratio:.1f}x."
            )
            if lowest < PARSE_TARGET_RATIO:
                failed.append(
                    f"parse speed-up {lowest:.1f}x on a saved page is below {PARSE_TARGET_RATIO:g}x"
                )
            if generated_ratio < PARSE_TARGET_RATIO:
                notes.append(
                    f"parse speed-up on a full 100-row page is {generated_ratio:.1f}x, "
                    f"below {PARSE_TARGET_RATIO:g}x"
                )

        # 3. memory of a 999-publication fetch
        sid = scholar_id_for(999)
        memory = measure_memory(replay, sid)
        if memory["peak_kib"] is None:
            # No /proc: ru_maxrss, which on Linux may include the parent's size at spawn time.
            memory["peak_kib"] = memory["after_imports_kib"] = memory["ru_maxrss_kib"]
        peak_mb = memory["peak_kib"] / 1024
        lines += [
            "",
            "### Peak memory of a 999-publication fetch (child process)",
            "",
            "| measure | MiB |",
            "|---|---:|",
            f"| peak resident set of the fetching process (VmHWM) | {peak_mb:.1f} |",
            "| of which reached before the fetch (interpreter and imports) | "
            f"{memory['after_imports_kib'] / 1024:.1f} |",
        ]
        if memory["publications"] != 999:
            failed.append(f"memory run got {memory['publications']} publications")
        if peak_mb >= MEMORY_TARGET_MB:
            failed.append(f"peak memory {peak_mb:.1f} MiB is not below {MEMORY_TARGET_MB:g} MiB")

    print(f"Python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs\n")
    print("\n".join(lines))
    if notes:
        print("\nNoted:\n" + "\n".join(f"- {n}" for n in notes))
    if failed:
        print("\nTargets missed:\n" + "\n".join(f"- {f}" for f in failed))
        return 1
    print("\nAll targets met.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
