"""Start-up time: `scholar-stats --help` against a bare `python -c pass`, side by side in one run.

    python bench/bench_startup.py [--runs N]

Each command runs N times (default 30), interleaved so that load on a shared
machine hits all of them alike; the median wall time of each is compared with
that of `python -c pass`.  Exits 1 if `--help` takes more than 4 times as long.
The entry point is run as the installed script does (`from crawler.cli import
main; main()`), so the figure is what a user waits for.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

TARGET = 4.0

COMMANDS: dict[str, list[str]] = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "scholar-stats --help": [sys.executable, "-c", "from crawler.cli import main; main()", "--help"],
    "scholar-stats run --help": [
        sys.executable,
        "-c",
        "from crawler.cli import main; main()",
        "run",
        "--help",
    ],
    "scholar-stats --version": [sys.executable, "-c", "from crawler.cli import main; main()", "--version"],
}


def once(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for command in COMMANDS.values():
        once(command)  # warm the page cache before anything is timed
    for _ in range(args.runs):
        for name, command in COMMANDS.items():
            times[name].append(once(command))
    base = statistics.median(times["python -c pass"])
    print(f"{args.runs} runs each, interleaved; Python {sys.version.split()[0]}\n")
    print("| command | median (ms) | min (ms) | × python -c pass |")
    print("|---|---:|---:|---:|")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"| `{name}` | {median * 1000:.1f} | {min(values) * 1000:.1f} | {median / base:.1f}× |")
    ratio = statistics.median(times["scholar-stats --help"]) / base
    met = ratio <= TARGET
    print(
        f"\n`scholar-stats --help`: {ratio:.1f}× `python -c pass` (target ≤ {TARGET:g}×): "
        f"{'met' if met else 'MISSED'}"
    )
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
