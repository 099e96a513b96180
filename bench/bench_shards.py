"""A department's run: one runner for every author, or N shard processes side by side.

    python bench/bench_shards.py [--authors 500] [--shards 10] [--latency 0.4] [--publications 20]
                                 [--merges N] [--before CHECKOUT] [--flushes N] [--cpu N]

Against the local Google Scholar of ``tests/replay.py`` (127.0.0.1, nothing
leaves the machine), every request answered after ``--latency`` seconds (what
a Scholar profile page takes to arrive), ``--authors`` generated profiles of
``--publications`` each (one page per author):

1. **unsharded**: ``scholar-stats run`` over every author, one process;
2. **sharded**: ``scholar-stats run --shard K/N`` for K = 1..N, N processes at
   once (as N matrix jobs on N runners), then ``scholar-stats merge``.

The polite delay between requests is 0 here, so the figures are the network
and the work; with a delay of D seconds each request adds D on one runner and
D / N of wall time when sharded (see docs/labs.md).  Every command starts with the
bytecode cache an install writes (compiled before anything is timed, kept in the
temporary folder).  Prints a Markdown table.

With ``--merges N`` the merge alone is then timed N more times into new
folders, side by side with ``merge --move`` (of fresh copies of the shard
folders, made untimed, as a workflow's freshly downloaded artifacts) and its
floor, ``bench/floor_copy.py`` (every file of the shard folders copied, nothing
else), in turn; ``--before CHECKOUT`` adds the merge and ``merge --move`` of another
checkout of the project (``PYTHONPATH``) to the turns.  These merges read the lab's
configuration as its publish job has it, the authors without the runs' ``base_url``.
With ``--cpu N`` (and ``--before``), ``merge --move``'s work is timed in process, N turns alternated
with the other checkout's: the CPU time (``time.process_time``) of ``merge()`` and then of the group's
numbers (``write_group``), as the command calls them, each turn on fresh copies of the shard folders.
With ``--flushes N`` the copying merge is timed N more times with each way of making
its files durable, alternated: one ``syncfs`` per file system (as shipped) or an fsync
per snapshot and per folder, and once more each under ``strace -c -w`` for the calls.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from clitools import SCHOLAR_STATS, clean_env  # noqa: E402
from replay import ReplayServer, Slow  # noqa: E402


def scholar_id(n: int) -> str:
    return f"benchShd{n:04d}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--authors", type=int, default=500)
    parser.add_argument("--shards", type=int, default=10)
    parser.add_argument("--latency", type=float, default=0.4)
    parser.add_argument("--publications", type=int, default=20)
    parser.add_argument("--merges", type=int, default=0, help="time the merge alone N more times")
    parser.add_argument("--before", metavar="CHECKOUT", help="another checkout whose merge is timed too")
    parser.add_argument(
        "--flushes",
        type=int,
        default=0,
        help="time the copying merge N more times with each final flush: syncfs, or an fsync each",
    )
    parser.add_argument(
        "--cpu", type=int, default=0, help="time merge() --move in process N turns, alternated with --before"
    )
    args = parser.parse_args()
    with ReplayServer() as replay, tempfile.TemporaryDirectory(prefix="bench-shards-") as tmp_name:
        tmp = Path(tmp_name)
        env = bytecode_cached(
            clean_env(), tmp / "pycache", [str(ROOT), *([args.before] if args.before else [])]
        )
        ids = [scholar_id(n) for n in range(args.authors)]
        for sid in ids:
            replay.add_profile(sid, args.publications)
            replay.set_scenario(sid, Slow(args.latency))
        config = tmp / "scholar-stats.toml"
        config.write_text(
            f'base_url = "{replay.url}"\ndelay = 0\n'
            + "".join(f'[[authors]]\nid = "{sid}"\n' for sid in ids),
            encoding="utf-8",
        )

        start = time.perf_counter()
        single = subprocess.run(
            [*SCHOLAR_STATS, "-q", "run", "--config", str(config), "--data-dir", str(tmp / "single")],
            env=env,
            capture_output=True,
            text=True,
        )
        unsharded = time.perf_counter() - start
        if single.returncode != 0:
            print(single.stderr, file=sys.stderr)
            return 1
        requests = len(replay.profile_requests())

        start = time.perf_counter()
        processes = [
            subprocess.Popen(
                [
                    *SCHOLAR_STATS,
                    "-q",
                    "run",
                    "--config",
                    str(config),
                    "--data-dir",
                    str(tmp / f"shard-{k}"),
                    "--shard",
                    f"{k}/{args.shards}",
                ],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
            for k in range(1, args.shards + 1)
        ]
        for process in processes:
            _, stderr = process.communicate()
            if process.returncode != 0:
                print(stderr, file=sys.stderr)
                return 1
        fetched = time.perf_counter() - start
        merge = subprocess.run(
            [
                *SCHOLAR_STATS,
                "-q",
                "merge",
                *(str(tmp / f"shard-{k}") for k in range(1, args.shards + 1)),
                "--into",
                str(tmp / "merged"),
                "--config",
                str(config),
            ],
            env=env,
            capture_output=True,
            text=True,
        )
        if merge.returncode != 0:
            print(merge.stderr, file=sys.stderr)
            return 1
        sharded = time.perf_counter() - start
        merged = sharded - fetched
        shard_dirs = [str(tmp / f"shard-{k}") for k in range(1, args.shards + 1)]
        turns = merge_turns(tmp, shard_dirs, lab_config(tmp, ids), env, args.merges, args.before)
        flushes = flush_turns(tmp, shard_dirs, lab_config(tmp, ids), env, args.flushes)
        cpu = cpu_turns(tmp, shard_dirs, lab_config(tmp, ids), env, args.cpu, args.before)
        files = sum(len(names) for d in shard_dirs for _, _, names in os.walk(d))

    print(
        f"{args.authors} authors x {args.publications} publications, {requests} requests, "
        f"{args.latency:g} s per request, "
        f"delay 0; {platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} CPUs\n"
    )
    print("| run | wall time | per author | vs. unsharded |")
    print("|---|---|---|---|")
    print(f"| unsharded, 1 process | {unsharded:.1f} s | {unsharded / args.authors * 1000:.0f} ms | 1.0x |")
    print(
        f"| {args.shards} shards in parallel (fetch only) | {fetched:.1f} s | "
        f"{fetched / args.authors * 1000:.0f} ms | {unsharded / fetched:.1f}x faster |"
    )
    print(
        f"| {args.shards} shards in parallel + merge | {sharded:.1f} s | "
        f"{sharded / args.authors * 1000:.0f} ms | {unsharded / sharded:.1f}x faster |"
    )
    print(f"| of which the merge | {merged:.1f} s | {merged / args.authors * 1000:.0f} ms | |")
    if turns:
        floor = statistics.median(turns["bare copy (bench/floor_copy.py)"])
        print(f"\nThe merge alone, {args.merges} turns, {files:,} files in {args.shards} shard folders:\n")
        print("| merge | median (s) | min-max (s) | x bare copy | ÷ unsharded run |")
        print("|---|---:|---:|---:|---:|")
        for name, times in turns.items():
            median = statistics.median(times)
            print(
                f"| {name} | {median:.2f} | {min(times):.2f}-{max(times):.2f} | "
                f"{median / floor:.2f}x | {median / unsharded:.3f} |"
            )
    if cpu:
        print(f"\n`merge --move` in process, CPU seconds, {args.cpu} turns alternated:\n")
        print("| checkout | `merge()` median | min-max | `write_group` median | min-max |")
        print("|---|---:|---:|---:|---:|")
        for name, (merges, groups) in cpu.items():
            print(
                f"| {name} | {statistics.median(merges):.3f} | {min(merges):.3f}-{max(merges):.3f} | "
                f"{statistics.median(groups):.3f} | {min(groups):.3f}-{max(groups):.3f} |"
            )
    if flushes:
        print(f"\nThe copying merge, {args.flushes} turns each, alternated, by its final flush:\n")
        print("| flush | median (s) | min-max (s) | fsync calls (s) | syncfs calls (s) |")
        print("|---|---:|---:|---:|---:|")
        for name, (times, traced) in flushes.items():
            print(
                f"| {name} | {statistics.median(times):.2f} | {min(times):.2f}-{max(times):.2f} | "
                f"{traced.get('fsync', (0, 0.0))[0]} ({traced.get('fsync', (0, 0.0))[1]:.2f}) | "
                f"{traced.get('syncfs', (0, 0.0))[0]} ({traced.get('syncfs', (0, 0.0))[1]:.2f}) |"
            )
    return 0


def bytecode_cached(env: dict[str, str], cache: Path, checkouts: list[str]) -> dict[str, str]:
    """``env`` with the bytecode cache an install writes (pip compiles every module), kept in ``cache``
    rather than in the checkouts, and written for each checkout before anything is timed: every
    command timed starts as an installed scholar-stats does, not compiling its modules first."""
    env = {k: v for k, v in env.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(cache)
    for checkout in checkouts:
        compile_all = [sys.executable, "-m", "compileall", "-q", str(Path(checkout) / "crawler")]
        subprocess.run(compile_all, env=env, check=True, stdout=subprocess.DEVNULL)
    return env


def lab_config(tmp: Path, ids: list[str]) -> Path:
    """The lab's configuration as its publish job has it: the authors, no ``base_url`` (which only
    the runs need here, to reach the local Scholar; checking one loads httpx, 0.2 s of a merge)."""
    config = tmp / "lab.toml"
    config.write_text("".join(f'[[authors]]\nid = "{sid}"\n' for sid in ids), encoding="utf-8")
    return config


# The copying merge with its flushes as shipped (one syncfs per file system past SYNCFS_FROM files
# and folders) or as before (an fsync for each durable file and each folder).
_FLUSHES = {
    "one `syncfs` per file system": "16",
    "an fsync per snapshot and per folder": "float('inf')",
}


def flush_turns(
    tmp: Path, shard_dirs: list[str], config: Path, env: dict[str, str], count: int
) -> dict[str, tuple[list[float], dict[str, tuple[int, float]]]]:
    """The copying merge ``count`` times with each way of flushing, alternated, and once more each
    under ``strace -c -w`` (when there is one): the flush calls made and the wall seconds in them."""
    results: dict[str, tuple[list[float], dict[str, tuple[int, float]]]] = {}
    if count == 0:
        return results  # not asked for: no traced turn either
    for turn in range(count + 1):
        for n, (name, threshold) in enumerate(_FLUSHES.items()):
            times, traced = results.setdefault(name, ([], {}))
            dest = tmp / f"flush-{turn}-{n}"
            code = (
                f"import crawler.storage.atomic as a; a.SYNCFS_FROM = {threshold}; "
                "from crawler.cli import main; main()"
            )
            command = [sys.executable, "-c", code, "-q", "merge", *shard_dirs, "--config", str(config)]
            command += ["--into", str(dest)]
            trace = tmp / "strace.txt"
            if turn == count:  # the last turn, traced, is not timed
                if not shutil.which("strace"):
                    break
                command = ["strace", "-f", "-c", "-w", "-e", "trace=fsync,syncfs", "-o", str(trace), *command]
            subprocess.run(["sync"], check=True)
            start = time.perf_counter()
            subprocess.run(command, env=env, cwd=tmp, check=True, stdout=subprocess.DEVNULL)
            if turn < count:
                times.append(time.perf_counter() - start)
            else:
                traced.update(strace_summary(trace.read_text(encoding="utf-8")))
            subprocess.run(["rm", "-rf", str(dest)], check=True)
    return results


def strace_summary(text: str) -> dict[str, tuple[int, float]]:
    """``strace -c``'s calls and seconds for each system call it lists."""
    found = {}
    for line in text.splitlines():
        fields = line.split()
        if len(fields) >= 5 and fields[-1].isidentifier() and fields[3].isdigit():
            found[fields[-1]] = (int(fields[3]), float(fields[1]))
    return found


def merge_turns(
    tmp: Path, shard_dirs: list[str], config: Path, env: dict[str, str], count: int, before: str | None
) -> dict[str, list[float]]:
    """The merge, the merge moving, the bare copy (and the merge of ``before``), ``count`` times each."""
    commands = {
        "`scholar-stats merge`": ([*SCHOLAR_STATS, "-q", "merge", *shard_dirs, "--config", str(config)], env),
        "`scholar-stats merge --move`": (
            [*SCHOLAR_STATS, "-q", "merge", *MOVED, "--config", str(config), "--move"],
            env,
        ),
        "bare copy (bench/floor_copy.py)": (
            [sys.executable, str(ROOT / "bench" / "floor_copy.py"), *shard_dirs],
            env,
        ),
    }
    if before:
        commands["`scholar-stats merge` (before)"] = (
            [sys.executable, "-m", "crawler", "-q", "merge", *shard_dirs, "--config", str(config)],
            {**env, "PYTHONPATH": before},
        )
        commands["`scholar-stats merge --move` (before)"] = (
            [sys.executable, "-m", "crawler", "-q", "merge", *MOVED, "--config", str(config), "--move"],
            {**env, "PYTHONPATH": before},
        )
    times: dict[str, list[float]] = {name: [] for name in commands}
    for turn in range(count):
        for n, (name, (command, command_env)) in enumerate(commands.items()):
            dest = tmp / f"merge-{turn}-{n}"
            into = ["--into", str(dest)] if "merge" in name else [str(dest)]
            if MOVED[0] in command:
                # --move empties what it takes: each turn moves a fresh copy of the shard
                # folders (as freshly downloaded artifacts), made and flushed untimed.
                command = [*command[: command.index(MOVED[0])], *fresh_copies(tmp, shard_dirs)]
                command += ["--config", str(config), "--move"]
            subprocess.run(["sync"], check=True)
            start = time.perf_counter()
            subprocess.run([*command, *into], env=command_env, cwd=tmp, check=True, stdout=subprocess.DEVNULL)
            times[name].append(time.perf_counter() - start)
            subprocess.run(["rm", "-rf", str(dest), str(tmp / "artifacts")], check=True)
    return times


MOVED = ["<fresh copies of the shard folders>"]

# What ``scholar-stats merge --move`` does past its options, timed in CPU seconds part by part.
_IN_PROCESS = """
import sys, time
from pathlib import Path
import crawler.commands.merge as m
config = m.read_settings(Path(sys.argv[1]))
expected = [a.scholar_id for a in config.authors]
into, shards = Path(sys.argv[2]), [Path(p) for p in sys.argv[3:]]
start = time.process_time()
m.merge(shards, into, expected=expected, config=config, move=True)
merged = time.process_time()
m.write_group(into, expected, config.badge)
print(merged - start, time.process_time() - merged)
"""


def cpu_turns(
    tmp: Path, shard_dirs: list[str], config: Path, env: dict[str, str], count: int, before: str | None
) -> dict[str, tuple[list[float], list[float]]]:
    """The CPU seconds of ``merge(move=True)`` and of ``write_group``, this checkout's and ``before``'s
    alternated, ``count`` turns, each on fresh copies of the shard folders (made untimed)."""
    checkouts = {"before": before, "after": str(ROOT)} if before else {}
    results: dict[str, tuple[list[float], list[float]]] = {name: ([], []) for name in checkouts}
    for turn in range(count):
        for name, checkout in checkouts.items():
            dest = tmp / f"cpu-{turn}-{name}"
            copies = fresh_copies(tmp, shard_dirs)
            subprocess.run(["sync"], check=True)
            done = subprocess.run(
                [sys.executable, "-c", _IN_PROCESS, str(config), str(dest), *copies],
                env={**env, "PYTHONPATH": str(checkout)},
                cwd=tmp,
                check=True,
                capture_output=True,
                text=True,
            )
            merge_cpu, group_cpu = (float(x) for x in done.stdout.split())
            results[name][0].append(merge_cpu)
            results[name][1].append(group_cpu)
            subprocess.run(["rm", "-rf", str(dest), str(tmp / "artifacts")], check=True)
    return results


def fresh_copies(tmp: Path, shard_dirs: list[str]) -> list[str]:
    artifacts = tmp / "artifacts"
    artifacts.mkdir()
    subprocess.run(["cp", "-a", *shard_dirs, str(artifacts)], check=True)
    return [str(artifacts / Path(d).name) for d in shard_dirs]


if __name__ == "__main__":
    raise SystemExit(main())
