"""Parse time of this checkout's page parser beside another checkout's, in one process.

    python bench/bench_parse_before.py --before CHECKOUT [--rounds N]

``CHECKOUT`` is another checkout of the project (``git worktree add`` or
``git archive REV | tar -x -C DIR``).  Its ``crawler`` package is copied to a
temporary folder as ``crawler_before`` so that both parsers load in the same
interpreter; every real saved page of ``tests/fixtures/scholar/`` and
``tests/fixtures/scholar_layouts/`` is then parsed by each in turn, call by
call (the order alternating), so that the load of a shared machine falls on
both alike.  The floor is the least a parse needs: lexbor building the tree of
the decoded page, nothing read from it.

Beside the saved pages, a generated page of 100 rows from the local Google
Scholar of ``tests/replay.py`` (``replay-100rows``), the page a lab's run reads
150 times.  Prints a Markdown table: the fastest of ``--rounds`` calls of each,
in milliseconds, the ratios after/before and after/floor, and the ratio of the
medians after/before.  Both parsers must give the same result on every page the
other checkout can read.
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from replay import FIXTURES_DIR, _ProfilePages, generate_profile  # noqa: E402
from selectolax.lexbor import LexborHTMLParser  # noqa: E402

from crawler.sources.scholar_page import decode, parse_profile  # noqa: E402

PAGE_DIRS = (ROOT / "tests" / "fixtures" / "scholar", ROOT / "tests" / "fixtures" / "scholar_layouts")
_IMPORT_RE = re.compile(r"\b(from|import)\s+crawler\b")


def load_before(checkout: Path, into: Path) -> Callable[..., Any]:
    """The other checkout's ``parse_profile``, its package renamed ``crawler_before``."""
    target = into / "crawler_before"
    shutil.copytree(checkout / "crawler", target)
    for path in target.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        path.write_text(_IMPORT_RE.sub(r"\1 crawler_before", text), encoding="utf-8")
    sys.path.insert(0, str(into))
    from crawler_before.sources.scholar_page import parse_profile as before  # type: ignore[import-not-found]

    return before  # type: ignore[no-any-return]


def replay_page(rows: int = 100) -> bytes:
    """A page of ``rows`` rows as the local Google Scholar of the run benchmarks serves it."""
    profile = generate_profile("replay100row", 300, seed=1)
    return _ProfilePages.build(profile, FIXTURES_DIR).render(cstart=0, pagesize=rows, hl="en")


def timings(calls: dict[str, Callable[[], object]], rounds: int) -> dict[str, list[float]]:
    """Each call's times in milliseconds, the calls alternated round by round."""
    times: dict[str, list[float]] = {name: [] for name in calls}
    order = list(calls.items())
    for n in range(rounds):
        for name, call in order if n % 2 else order[::-1]:
            started = time.perf_counter()
            call()
            times[name].append((time.perf_counter() - started) * 1000)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", metavar="CHECKOUT", required=True, type=Path)
    parser.add_argument("--rounds", type=int, default=300)
    args = parser.parse_args()
    lines = [
        "| page | rows | floor (ms) | before (ms) | after (ms) | after/before | after/floor "
        "| medians after/before |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    ratios: list[float] = []
    with tempfile.TemporaryDirectory() as temp:
        before = load_before(args.before.resolve(), Path(temp))
        pages = [(p.name, p.read_bytes()) for p in sorted(p for d in PAGE_DIRS for p in d.glob("*.html"))]
        for name, body in [*pages, ("replay-100rows", replay_page())]:
            try:
                page = parse_profile(body)
            except Exception:  # the block pages and the sign-in page: not profiles
                continue
            try:
                same = repr(before(body)) == repr(page)
            except Exception:  # a page the other checkout cannot read
                continue
            if not same:
                print(f"{name}: the two parsers disagree", file=sys.stderr)
                return 1
            times = timings(
                {
                    "floor": lambda body=body: LexborHTMLParser(decode(body)),
                    "before": lambda body=body: before(body),
                    "after": lambda body=body: parse_profile(body),
                },
                args.rounds,
            )
            best = {what: min(found) for what, found in times.items()}
            median = {what: statistics.median(found) for what, found in times.items()}
            ratios.append(best["after"] / best["before"])
            lines.append(
                f"| {name} | {len(page.publications)} | {best['floor']:.3f} | {best['before']:.3f} | "
                f"{best['after']:.3f} | {best['after'] / best['before']:.2f} | "
                f"{best['after'] / best['floor']:.2f} | {median['after'] / median['before']:.2f} |"
            )
    print("\n".join(lines))
    print(
        f"\nafter/before: {min(ratios):.2f} to {max(ratios):.2f} "
        f"(geometric mean {statistics.geometric_mean(ratios):.3f}) over {len(ratios)} pages"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
