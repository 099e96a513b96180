"""A whole `scholar-stats fetch` process against its floor, a bare httpx client's process, side by side.

    python bench/bench_fetch_process.py [--publications 999] [--runs 15] [--before CHECKOUT]

Against the local Google Scholar of `tests/replay.py` (127.0.0.1): one
generated profile of `--publications` publications.  In turn, `--runs` times
each: `scholar-stats -q fetch ID --base-url URL --delay 0` (start-up, the
requests, parsing, the record printed as JSON), `bench/floor_fetch.py` (the
same requests by a bare `httpx.Client` in a new interpreter, nothing parsed),
`python -c pass`, and with `--before CHECKOUT` the fetch of another checkout
(`PYTHONPATH`).  Each process starts in an empty folder; the first, untimed
turn writes the bytecode cache, as an install does (`PYTHONDONTWRITEBYTECODE`
is dropped from the environment).  Prints the median
and minimum wall time of each, the median CPU time (user + system, of the
child alone: steadier than wall time on a loaded machine) and the fetch's
ratios to its floor; target ≤ 1.2× in wall time, exit 1 if missed.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from replay import ReplayServer  # noqa: E402

TARGET = 1.2
SCHOLAR_ID = "benchFetch99"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--publications", type=int, default=999)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--before", metavar="CHECKOUT", help="another checkout whose fetch is timed too")
    args = parser.parse_args()
    # The bytecode cache is written in the first, untimed turn, as an install writes it.
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.lower().endswith("_proxy") and k not in ("PYTHONPATH", "PYTHONDONTWRITEBYTECODE")
    }
    env.pop("SCHOLAR_STATS_BASE_URL", None)
    env["NO_PROXY"] = "127.0.0.1,localhost"
    with ReplayServer() as replay, tempfile.TemporaryDirectory() as empty:
        replay.add_profile(SCHOLAR_ID, args.publications)
        fetch = [sys.executable, "-m", "crawler", "-q", "fetch", SCHOLAR_ID, "--base-url", replay.url]
        fetch += ["--delay", "0", "--retries", "0"]
        commands: dict[str, tuple[list[str], dict[str, str]]] = {
            "`scholar-stats fetch`": (fetch, {**env, "PYTHONPATH": str(ROOT)}),
            "bare httpx (bench/floor_fetch.py)": (
                [
                    sys.executable,
                    str(ROOT / "bench" / "floor_fetch.py"),
                    replay.url,
                    SCHOLAR_ID,
                    str(args.publications),
                ],
                env,
            ),
            "`python -c pass`": ([sys.executable, "-c", "pass"], env),
        }
        if args.before:
            commands["`scholar-stats fetch` (before)"] = (fetch, {**env, "PYTHONPATH": args.before})
        times: dict[str, list[float]] = {name: [] for name in commands}
        cpu: dict[str, list[float]] = {name: [] for name in commands}
        for turn in range(args.runs + 1):
            for name, (command, command_env) in commands.items():
                used = _children_cpu()
                start = time.perf_counter()
                subprocess.run(command, env=command_env, cwd=empty, check=True, stdout=subprocess.DEVNULL)
                if turn:  # the first turn warms the page and bytecode caches
                    times[name].append(time.perf_counter() - start)
                    cpu[name].append(_children_cpu() - used)
    floor = statistics.median(times["bare httpx (bench/floor_fetch.py)"])
    floor_min = min(times["bare httpx (bench/floor_fetch.py)"])
    floor_cpu = statistics.median(cpu["bare httpx (bench/floor_fetch.py)"])
    print(f"{args.publications} publications, {args.runs} runs each in turn\n")
    print("| process | median (s) | min (s) | CPU (s) | median × floor | min × floor min | CPU × floor |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, values in times.items():
        median, least, used = statistics.median(values), min(values), statistics.median(cpu[name])
        print(
            f"| {name} | {median:.3f} | {least:.3f} | {used:.3f} | {median / floor:.2f}× "
            f"| {least / floor_min:.2f}× | {used / floor_cpu:.2f}× |"
        )
    ratio = statistics.median(times["`scholar-stats fetch`"]) / floor
    met = ratio <= TARGET
    print(
        f"\n`scholar-stats fetch`: {ratio:.2f}× a bare httpx client's process (target ≤ {TARGET:g}×): "
        f"{'met' if met else 'MISSED'}"
    )
    return 0 if met else 1


def _children_cpu() -> float:
    """CPU seconds (user + system) of every child process waited for so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


if __name__ == "__main__":
    raise SystemExit(main())
