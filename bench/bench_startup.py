"""Start-up time: `scholar-stats --help` against a bare `python -c pass`, side by side in one run.

    python bench/bench_startup.py [--runs N] [--before CHECKOUT]

Each command runs N times (default 30), interleaved so that load on a shared
machine hits all of them alike; the median wall time of each is compared with
that of `python -c pass`, and so is its median CPU time (user + system, of the
child alone), which a loaded machine disturbs less.  Exits 1 if `--help` takes more than 4 times as
long, or `run --help` more than 2 times.  `scholar-stats` is run as a user
runs it: a console script written the way pip writes it (`import re, sys`,
then the entry `pyproject.toml`'s `[project.scripts]` names), executed by its
`#!` line, 80 columns wide (`COLUMNS=80`; output to a pipe); one more row runs
`run --help` 60 columns wide, which the stored pages leave to click.

Commands run with the bytecode cache an install writes (warmed once before
timing); `--no-cache` runs them again with an empty cache folder
(`-X pycache_prefix`, nothing written), as the first start after a checkout.
`--before CHECKOUT` adds the same commands run from another checkout of the
project (`PYTHONPATH`, and that checkout's own entry), for a before/after in the same run.
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
import tomllib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import clitools  # tests/clitools.py: the script pip writes

TARGET = 4.0
RUN_HELP_TARGET = 2.0

FLOOR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "floor_click_help.py")

BASE = "python -c pass"
FLOOR_NAME = "bare click run --help (bench/floor_click_help.py)"
COMMANDS: dict[str, list[str]] = {
    BASE: [sys.executable, "-c", "pass"],
    "python -S -c pass (no site: no .pth files)": [sys.executable, "-S", "-c", "pass"],
    # What pip's console script imports before the entry it calls.
    "python -c 'import re'": [sys.executable, "-c", "import re"],
    FLOOR_NAME: [sys.executable, FLOOR, "run", "--help"],
}
# name -> (arguments, extra environment) of the console script.
SCRIPT_RUNS: dict[str, tuple[list[str], dict[str, str]]] = {
    "scholar-stats --help": (["--help"], {}),
    "scholar-stats run --help": (["run", "--help"], {}),
    "scholar-stats --version": (["--version"], {}),
    "scholar-stats run --help, 60 columns (click)": (["run", "--help"], {"COLUMNS": "60"}),
}


def console_script(checkout: str, folder: str) -> str:
    """A `scholar-stats` script in ``folder`` for the entry ``checkout``'s pyproject.toml names."""
    with open(os.path.join(checkout, "pyproject.toml"), "rb") as file:
        entry = tomllib.load(file)["project"]["scripts"]["scholar-stats"]
    return str(clitools.console_script(Path(folder), entry))


def _children_cpu() -> float:
    """CPU seconds (user + system) of every child process waited for so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def once(
    command: list[str], env: dict[str, str] | None = None, cwd: str | None = None
) -> tuple[float, float]:
    """Wall time and CPU time (user + system) of one run of ``command``."""
    used = _children_cpu()
    start = time.perf_counter()
    # From an empty folder: `python -c` puts the working folder first on the path,
    # which would shadow the checkout named by PYTHONPATH.
    subprocess.run(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, env=env, cwd=cwd
    )
    return time.perf_counter() - start, _children_cpu() - used


def variants(
    before: str | None, no_cache: bool, empty: str, scripts: str
) -> dict[str, tuple[list[str], dict[str, str]]]:
    """name -> (command, environment) for every command of the run."""
    plain = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONPATH", "PYTHONDONTWRITEBYTECODE", "COLUMNS", "LINES")
    }
    plain["COLUMNS"] = "80"
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    runs: dict[str, tuple[list[str], dict[str, str]]] = {}
    for label, path in [("", here), *([(" (before)", before)] if before else [])]:
        env = {**plain, "PYTHONPATH": path}
        commands = {} if label else {name: (command, {}) for name, command in COMMANDS.items()}
        script = console_script(path, os.path.join(scripts, label.strip(" ()") or "now"))
        commands.update({name: ([script, *args], extra) for name, (args, extra) in SCRIPT_RUNS.items()})
        for name, (command, extra) in commands.items():
            runs[name + label] = (command, {**env, **extra})
            if no_cache:
                # The script's interpreter, with an empty cache folder.
                rest = command[1:] if command[0] == sys.executable else command
                uncached = [sys.executable, "-X", f"pycache_prefix={empty}", *rest]
                runs[f"{name}{label}, no bytecode cache"] = (
                    uncached,
                    {**env, **extra, "PYTHONDONTWRITEBYTECODE": "1"},
                )
    return runs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument(
        "--before", metavar="CHECKOUT", help="another checkout of the project, timed alongside"
    )
    parser.add_argument(
        "--no-cache", action="store_true", help="also time each command without a bytecode cache"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as empty, tempfile.TemporaryDirectory() as scripts:
        runs = variants(args.before, args.no_cache, empty, scripts)
        times: dict[str, list[float]] = {name: [] for name in runs}
        cpu: dict[str, list[float]] = {name: [] for name in runs}
        for command, env in runs.values():
            once(command, env, empty)  # warm the page cache (and write the bytecode cache) before timing
        for _ in range(args.runs):
            for name, (command, env) in runs.items():
                wall, used = once(command, env, empty)
                times[name].append(wall)
                cpu[name].append(used)
    base = statistics.median(times[BASE])
    base_cpu = statistics.median(cpu[BASE])
    print(f"{args.runs} runs each, interleaved; Python {sys.version.split()[0]}\n")
    print("| command | median (ms) | min (ms) | CPU, median (ms) | × python -c pass | CPU × python -c pass |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, values in times.items():
        median, used = statistics.median(values), statistics.median(cpu[name])
        print(
            f"| `{name}` | {median * 1000:.1f} | {min(values) * 1000:.1f} | {used * 1000:.1f} "
            f"| {median / base:.2f}× | {used / base_cpu:.2f}× |"
        )
    ratio = statistics.median(times["scholar-stats --help"]) / base
    run_ratio = statistics.median(times["scholar-stats run --help"]) / base
    floor = statistics.median(times[FLOOR_NAME])
    met = ratio <= TARGET
    run_met = run_ratio <= RUN_HELP_TARGET
    print(
        f"\n`scholar-stats --help`: {ratio:.2f}× `python -c pass` (target ≤ {TARGET:g}×): "
        f"{'met' if met else 'MISSED'}"
    )
    print(
        f"`scholar-stats run --help`: {run_ratio:.2f}× `python -c pass`, with the bytecode cache "
        f"(target ≤ {RUN_HELP_TARGET:g}×): {'met' if run_met else 'MISSED'}"
    )
    print(
        f"`scholar-stats run --help`: {statistics.median(times['scholar-stats run --help']) / floor:.2f}× "
        f"a bare click program's `run --help`, which is itself {floor / base:.2f}× `python -c pass`"
    )
    return 0 if met and run_met else 1


if __name__ == "__main__":
    sys.exit(main())
