"""The indented JSON every file holds: ``json.dumps(indent=2)`` against ``indented_json``, side by side.

    python bench/bench_json.py [--publications 999] [--runs 41]

Fetches one generated profile from the local Google Scholar of `tests/replay.py`
(127.0.0.1) and encodes its record (`record_to_dict`, as `fetch` prints it and
`run` stores it) both ways, in turn, `--runs` times each; prints the median CPU
time of each and their ratio.  Exits 1 if the two texts differ.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from replay import ReplayServer  # noqa: E402

from crawler.models import record_to_dict  # noqa: E402
from crawler.net.options import HttpOptions  # noqa: E402
from crawler.sources import AuthorRef, SourceSettings, open_source  # noqa: E402
from crawler.storage.atomic import indented_json  # noqa: E402

SCHOLAR_ID = "benchJson999"


def cpu(func: Callable[[], object]) -> float:
    start = time.process_time()
    func()
    return time.process_time() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--publications", type=int, default=999)
    parser.add_argument("--runs", type=int, default=41)
    args = parser.parse_args()
    with ReplayServer() as replay:
        replay.add_profile(SCHOLAR_ID, args.publications)
        source = open_source(
            "scholar", SourceSettings(http=HttpOptions(delay=0, retries=0), base_url=replay.url)
        )
        try:
            data = record_to_dict(source.fetch(AuthorRef(SCHOLAR_ID)))
        finally:
            source.close()
    text = json.dumps(data, indent=2, ensure_ascii=False)
    if indented_json(data) != text:
        print("the two texts differ", file=sys.stderr)
        return 1
    standard: list[float] = []
    ours: list[float] = []
    for _ in range(args.runs):
        standard.append(cpu(lambda: json.dumps(data, indent=2, ensure_ascii=False)))
        ours.append(cpu(lambda: indented_json(data)))
    a, b = statistics.median(standard), statistics.median(ours)
    print(
        f"{len(data['publications'])} publications, {len(text):,} characters, {args.runs} runs each in turn\n"
    )
    print("| encoder | CPU, median (ms) | × json.dumps |")
    print("|---|---:|---:|")
    print(f"| `json.dumps(indent=2, ensure_ascii=False)` | {a * 1000:.1f} | 1.00× |")
    print(f"| `storage.atomic.indented_json` | {b * 1000:.1f} | {b / a:.2f}× |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
