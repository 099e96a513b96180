"""A lab's run, measured against the bare requests it makes.

    python bench/bench_run.py [--authors 50] [--publications 300] [--repeat 3] [--latency 0 ...] [--tmp DIR]
                              [--server process|thread ...]

Against the local Google Scholar of ``tests/replay.py`` (127.0.0.1, nothing
leaves the machine), with ``--authors`` generated profiles of
``--publications`` each:

1. **lab run**: ``crawler.run.run`` on an empty data folder: every author
   fetched, guarded, snapshotted, and every output written (gs_data, endpoint
   badges and SVGs, one pair per publication: about 30,000 files for 50 x 300);
2. **bare requests**: the same ``/citations`` URLs the run asked for, fetched
   one after the other with a plain ``httpx.Client`` and nothing done with the
   bodies;
3. **no-op run**: ``run`` again on the folder of (1), Scholar unchanged: every
   author fetched and guarded, nothing new to write;
4. **bare file writes**, for context: the files of (1), same names and sizes,
   each created beside its place and renamed into it with plain ``os`` calls
   (no rendering, no fsync): what the file system alone costs on this machine;
5. **bare HTML trees**, for context: each page the bare requests got, made
   into a tree by selectolax's lexbor parser and nothing read from it: the
   least any reading of these pages costs.

Each is repeated ``--repeat`` times (a fresh folder for every lab run) and the
median is reported, wall time and the process's CPU time (user and system; the
local server's too when it runs in this process); for the no-op run also the
CPU time of the run's own thread, where pages are read, apart from the other
threads'. Nothing
is removed before every measure is done: on a file system without a journal
(ext4 as this machine has it) a file created within a minute or more of many
files being removed costs far more, as the kernel looks past each recently
freed inode before it takes one; a lab run timed right after the previous
turn's folders were removed measured that, not the run. Other processes
removing files on the same file system still do; ``--tmp /dev/shm`` (a tmpfs)
measures the same with the disk left out. Targets: lab run within 2x the bare
requests, no-op run at most 0.6 s beyond them. Prints a Markdown table on
stdout; exits 1 if a target is missed.

``--latency SECONDS`` makes the local server wait that long before answering
each request (runs and bare requests alike), for the figure with a network
as slow as a real one; the default, 0, is 127.0.0.1 as it is.  Given more than
once, each latency is measured in turn in the same process, one table each.

``--server process`` (the default) runs the local Scholar in a process of its
own, as a real Scholar is: it does not wait for this process's interpreter
lock while the run's threads hold it.  ``--server thread`` runs it on threads
of this process, as the figures before 2026-12-08 02:00Z were taken.  Given
both, each is measured in turn, every latency for each, one table each; the
bare requests of a table are always fetched from that table's server.
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from replay import ReplayProcess, ReplayServer  # noqa: E402

from crawler.config import load_config  # noqa: E402
from crawler.outputs.run_summary import RunSummary  # noqa: E402
from crawler.run import run  # noqa: E402

LAB_TARGET = 2.0
NOOP_BEYOND_TARGET = 0.6  # seconds beyond the bare requests, for 50 authors


Replay = ReplayServer | ReplayProcess
SERVERS = ("process", "thread")


def scholar_id(n: int) -> str:
    return f"benchRun{n:04d}"


def clean_environment() -> None:
    """The replay server is on 127.0.0.1: no proxy, no base URL or step summary from outside."""
    for name in list(os.environ):
        if "proxy" in name.lower() or name.startswith("SCHOLAR_STATS") or name == "GITHUB_STEP_SUMMARY":
            os.environ.pop(name)


def count_files(folder: Path) -> int:
    return sum(len(files) for _, _, files in os.walk(folder))


def cpu_seconds() -> float:
    """User and system CPU time of this process so far, every thread (the server's too)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def timed(action: Callable[[], object]) -> tuple[float, float, object]:
    """Wall seconds, CPU seconds and the result of ``action()``."""
    cpu, start = cpu_seconds(), time.perf_counter()
    result = action()
    return time.perf_counter() - start, cpu_seconds() - cpu, result


def run_once(replay: Replay, data: Path, ids: list[str]) -> RunSummary:
    config = load_config(
        None,
        authors=ids,
        data_dir=data,
        base_url=replay.url,
        http={"delay": 0.0, "timeout": 30.0, "deadline": 600.0, "retries": 0},
    )
    summary = run(config)
    if summary.exit_code != 0:
        failed = [a for a in summary.authors if a.exit_code != 0]
        raise SystemExit(f"the run failed: {failed[0].scholar_id}: {failed[0].reason}")
    return summary


def bare_writes(data: Path, target: Path) -> float:
    """Create every file of ``data`` again under ``target`` (temp file + rename, no fsync)."""
    files = [
        (Path(folder).relative_to(data), name, (Path(folder) / name).stat().st_size)
        for folder, _, names in os.walk(data)
        for name in names
    ]
    start = time.perf_counter()
    made: set[Path] = set()
    for folder, name, size in files:
        where = target / folder
        if where not in made:
            where.mkdir(parents=True, exist_ok=True)
            made.add(where)
        tmp = f"{where}/.{name}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        os.write(fd, b"x" * size)
        os.close(fd)
        os.replace(tmp, f"{where}/{name}")
    return time.perf_counter() - start


def bare_requests(replay: Replay, urls: list[str]) -> tuple[float, list[bytes]]:
    bodies = []
    with httpx.Client(timeout=30.0, trust_env=False) as client:
        start = time.perf_counter()
        for url in urls:
            response = client.get(url)
            response.raise_for_status()
            bodies.append(response.read())
        return time.perf_counter() - start, bodies


def bare_trees(bodies: list[bytes]) -> float:
    """Each page made into an HTML tree and nothing else (what parsing costs at the least)."""
    from selectolax.lexbor import LexborHTMLParser

    start = time.perf_counter()
    for body in bodies:
        LexborHTMLParser(body)
    return time.perf_counter() - start


Figures = dict[str, list[float]]
MEASURES = ("bare", "lab", "noop", "writes", "trees", "lab_cpu", "noop_cpu", "noop_own_cpu", "bare_cpu")


def measure(replay: Replay, tmp: Path, ids: list[str], repeat: int, figures: Figures) -> tuple[int, int]:
    """``repeat`` turns of the five measures into ``figures``; (requests, files) of a run.

    Every folder made is kept until the end of the script: see the docstring."""
    files = n_requests = 0
    for _ in range(repeat):
        data = tempfile.mkdtemp(prefix="data-", dir=tmp)
        replay.reset()
        seconds, cpu, _ = timed(lambda data=data: run_once(replay, Path(data), ids))  # type: ignore[misc]
        figures["lab"].append(seconds)
        figures["lab_cpu"].append(cpu)
        urls = [f"{replay.url}{r.path}?{urlencode(r.query)}" for r in replay.profile_requests()]
        n_requests = len(urls)
        files = count_files(Path(data))
        cpu = cpu_seconds()
        seconds, bodies = bare_requests(replay, urls)
        figures["bare_cpu"].append(cpu_seconds() - cpu)
        figures["bare"].append(seconds)
        figures["trees"].append(bare_trees(bodies))
        replay.reset()
        own = time.thread_time()
        seconds, cpu, summary = timed(lambda data=data: run_once(replay, Path(data), ids))  # type: ignore[misc]
        figures["noop_own_cpu"].append(time.thread_time() - own)
        figures["noop"].append(seconds)
        figures["noop_cpu"].append(cpu)
        assert isinstance(summary, RunSummary) and not summary.changed, "the no-op run changed something"
        figures["writes"].append(bare_writes(Path(data), Path(tempfile.mkdtemp(prefix="copy-", dir=tmp))))
    return n_requests, files


def report(
    args: argparse.Namespace, server: str, latency: float, n_requests: int, files: int, figures: Figures
) -> bool:
    """Print one latency's table; whether both targets are met."""
    m = {name: statistics.median(values) for name, values in figures.items()}
    bare_s, lab_s, noop_s, writes_s, trees_s = (m[k] for k in ("bare", "lab", "noop", "writes", "trees"))
    lab_ratio, noop_ratio = lab_s / bare_s, noop_s / bare_s
    print(
        f"{args.authors} authors x {args.publications} publications, {n_requests} requests, "
        f"{files} files in the data folder; "
        f"{f'{latency * 1000:g} ms added to each request; ' if latency else 'no latency added; '}"
        f"local Scholar {'in its own process' if server == 'process' else 'on threads of this process'}; "
        f"data folders in {args.tmp or tempfile.gettempdir()}; "
        f"median of {args.repeat} "
        f"(Python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} CPUs; "
        f"load average {os.getloadavg()[0]:.1f} at the end)\n"
    )
    print("| measure | seconds | x bare requests | CPU seconds | target |")
    print("|---|---:|---:|---:|---:|")
    print(f"| bare requests ({n_requests} GETs, plain httpx) | {bare_s:.2f} | 1.0x | {m['bare_cpu']:.2f} | |")
    print(
        f"| lab run, empty data folder | {lab_s:.2f} | {lab_ratio:.1f}x | {m['lab_cpu']:.2f} "
        f"| {LAB_TARGET:g}x |"
    )
    print(
        f"| no-op run, nothing new | {noop_s:.2f} | {noop_ratio:.1f}x | {m['noop_cpu']:.2f} "
        f"| bare + {NOOP_BEYOND_TARGET:g} s |"
    )
    print(
        f"| bare file writes ({files} files, temp + rename, no fsync; context) | {writes_s:.2f} | "
        f"{writes_s / bare_s:.1f}x | | |"
    )
    print(
        f"| bare HTML trees ({n_requests} pages, lexbor parse only; context) | {trees_s:.2f} | "
        f"{trees_s / bare_s:.1f}x | | |"
    )
    print(f"\nlab run / (bare requests + bare file writes): {lab_s / (bare_s + writes_s):.1f}x")
    print(f"no-op run / (bare requests + bare HTML trees): {noop_s / (bare_s + trees_s):.1f}x")
    print(
        f"no-op run's CPU: {m['noop_own_cpu']:.2f} s on the run's own thread (requests sent, pages read), "
        f"{m['noop_cpu'] - m['noop_own_cpu']:.2f} s on the others (request and writer threads"
        f"{'; the local server' if server == 'thread' else ''})"
    )
    print(f"no-op run beyond the bare requests: {noop_s - bare_s:.2f} s\n")
    missed = [
        name
        for name, missed_it in (
            ("lab run", lab_ratio > LAB_TARGET),
            ("no-op run", noop_s - bare_s > NOOP_BEYOND_TARGET),
        )
        if missed_it
    ]
    if missed:
        print(f"target missed at {latency * 1000:g} ms ({server}): {', '.join(missed)}", file=sys.stderr)
    return not missed


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--authors", type=int, default=50)
    parser.add_argument("--publications", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--latency",
        type=float,
        action="append",
        metavar="SECONDS",
        help="wait before answering each request (default 0: 127.0.0.1 as it is); may be repeated",
    )
    parser.add_argument(
        "--tmp",
        type=Path,
        default=None,
        metavar="FOLDER",
        help="where the data folders are made (default: the system's temporary folder); "
        "a tmpfs such as /dev/shm takes the disk out of the figures",
    )
    parser.add_argument(
        "--server",
        choices=SERVERS,
        action="append",
        help="where the local Scholar runs: its own process (default) or threads of this one; "
        "may be repeated, to measure both in one run",
    )
    args = parser.parse_args()
    clean_environment()
    logging.getLogger("crawler").setLevel(logging.ERROR)
    ids = [scholar_id(n) for n in range(args.authors)]
    met = True
    with tempfile.TemporaryDirectory(prefix="bench-run-", dir=args.tmp) as tmp:
        for server in args.server or ["process"]:
            with ReplayProcess() if server == "process" else ReplayServer() as replay:
                for n, sid in enumerate(ids):
                    replay.add_profile(sid, args.publications, seed=n)
                for latency in args.latency or [0.0]:
                    replay.latency = latency
                    figures: Figures = {name: [] for name in MEASURES}
                    n_requests, files = measure(replay, Path(tmp), ids, args.repeat, figures)
                    met = report(args, server, latency, n_requests, files, figures) and met
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
