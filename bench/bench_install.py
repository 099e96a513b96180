"""The action's install: today's `pip install ACTION_PATH` against the hash-pinned lock, cold and warm.

    python bench/bench_install.py

Each way installs into a fresh venv (as setup-python hands the action a fresh
Python); "cold" starts from an empty pip cache (PIP_CACHE_DIR set to a new
folder), "warm" reuses the cache the cold install filled (what actions/cache
restores on the next day).  Only the install is timed, not the venv's creation.
The lock way runs the action's own `Install scholar-stats` step, read from
action.yml; the old way is the step as it was.  The project is a clean copy
(`git archive HEAD`), as a runner's action folder is.  Prints one Markdown
table; exits 1 if the lock's cold install takes 8 s or more.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
TARGET = 8.0
OLD_STEP = 'python -m pip install --disable-pip-version-check "$ACTION_PATH"\nscholar-stats --version\n'


def lock_step() -> str:
    steps = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))["runs"]["steps"]
    return next(s["run"] for s in steps if s.get("name") == "Install scholar-stats")


def clean_copy(where: Path) -> Path:
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "HEAD"], capture_output=True, check=True
    ).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(where, filter="data")
    return where


def install(script: str, action: Path, cache: Path, where: Path) -> tuple[float, float]:
    """(seconds, megabytes in the venv) of one install into a fresh venv."""
    venv = where / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    env = {
        **os.environ,
        "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}",
        "ACTION_PATH": str(action),
        "PIP_CACHE_DIR": str(cache),
        "SITE": "false",
        "CONFIG": "",
        "VIRTUAL_ENV": str(venv),
    }
    env.pop("PYTHONPATH", None)
    start = time.perf_counter()
    subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    seconds = time.perf_counter() - start
    size = sum(f.stat().st_size for f in venv.rglob("*") if f.is_file() and not f.is_symlink())
    return seconds, size / 1e6


def main() -> int:
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-install-") as tmp:
        action = clean_copy(Path(tmp) / "action")
        results: dict[str, dict[str, tuple[float, float]]] = {}
        for name, script in (
            ("pip install ACTION_PATH (before)", OLD_STEP),
            ("hash-pinned lock (now)", lock_step()),
        ):
            cache = Path(tmp) / f"cache-{len(results)}"
            cold = install(script, action, cache, Path(tempfile.mkdtemp(dir=tmp)))
            warm = install(script, action, cache, Path(tempfile.mkdtemp(dir=tmp)))
            results[name] = {"cold": cold, "warm": warm}
        before, now = results.values()
        for name, result in results.items():
            rows.append(
                f"| {name} | {result['cold'][0]:.1f} s | {result['warm'][0]:.1f} s | "
                f"{result['cold'][1]:.0f} MB |"
            )
    print("| install | cold (empty pip cache) | warm (cache kept) | venv size |")
    print("|---|---|---|---|")
    print("\n".join(rows))
    print(
        f"\ncold: {before['cold'][0] / now['cold'][0]:.1f}x faster; "
        f"warm: {before['warm'][0] / now['warm'][0]:.1f}x faster; "
        f"target: lock cold < {TARGET:g} s"
    )
    return 0 if now["cold"][0] < TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
