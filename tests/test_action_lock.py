"""The action's lock: exactly what its commands import, pinned by hash, inside pyproject's ranges,
and enough on its own (installed into a fresh venv, the action's steps run)."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import tomllib
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
from packaging.markers import Marker, default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version
from replay import ReplayServer
from test_workflows import purge  # noqa: F401

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements" / "action.txt"
SITE_LOCK = ROOT / "requirements" / "action-site.txt"
TEST_LOCK = ROOT / "requirements" / "test.txt"
PYTHONS = ("3.11", "3.12", "3.13")
# What pyproject declares that the action's commands never import: the history extras
# (export to CSV, plots) and the scheduler.  A new dependency must be put in a lock or here.
NOT_FOR_THE_ACTION = {"pandas", "matplotlib", "apscheduler"}
PIN = re.compile(r"^([A-Za-z0-9_.-]+)==([^\s;\\]+)\s*(?:;\s*([^\\]+?))?\s*\\?$")


@dataclass
class Pin:
    """One package of a lock file: its version, the marker that says where it applies, its
    hashes, and (in the action's locks) its own requirements as the lock script read them."""

    version: Version
    marker: Marker | None = None
    hashes: list[str] = field(default_factory=list)
    requires: list[Requirement] = field(default_factory=list)


def pins_of(path: Path) -> list[tuple[str, Pin]]:
    pins: list[tuple[str, Pin]] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        match = PIN.match(line)
        if match:
            marker = Marker(match.group(3)) if match.group(3) else None
            pins.append((canonicalize_name(match.group(1)), Pin(Version(match.group(2)), marker)))
        elif "--hash=sha256:" in line and pins:
            pins[-1][1].hashes.append(line.split("--hash=sha256:")[1].rstrip(" \\"))
        elif line.strip().startswith("# requires:") and pins:
            pins[-1][1].requires.append(Requirement(line.split("# requires:", 1)[1].strip()))
    return pins


def locked(path: Path) -> dict[str, Pin]:
    return dict(pins_of(path))


def declared(extra: str | None = None) -> list[Requirement]:
    doc = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    specs = doc["optional-dependencies"][extra] if extra else doc["dependencies"]
    return [Requirement(spec) for spec in specs]


def environments(
    pythons: tuple[str, ...] = PYTHONS, platforms: tuple[str, ...] = ("linux",)
) -> list[dict[str, str]]:
    """The marker environments a lock covers: CPython ``pythons`` on x86_64 ``platforms``."""
    systems = {"linux": ("Linux", "posix"), "darwin": ("Darwin", "posix"), "win32": ("Windows", "nt")}
    envs = []
    for platform in platforms:
        for version in pythons:
            env: dict[str, Any] = dict(default_environment())
            env.update(
                python_version=version,
                python_full_version=f"{version}.0",
                sys_platform=platform,
                platform_system=systems[platform][0],
                os_name=systems[platform][1],
                platform_machine="x86_64" if platform != "win32" else "AMD64",
                implementation_name="cpython",
                platform_python_implementation="CPython",
                extra="",
            )
            envs.append(env)
    return envs


def test_every_pin_has_a_sha256_and_the_locks_match_their_sources() -> None:
    tested = locked(TEST_LOCK)
    for lock in (LOCK, SITE_LOCK):
        pins = locked(lock)
        assert pins
        for name, pin in pins.items():
            assert pin.hashes and all(re.fullmatch(r"[0-9a-f]{64}", h) for h in pin.hashes), name
        source = lock.with_suffix(".in").read_text(encoding="utf-8")
        wanted = {
            canonicalize_name(line.split("#")[0].strip())
            for line in source.splitlines()
            if line.split("#")[0].strip()
        }
        assert wanted == set(pins), f"run .ci/lock-action ({lock.name})"
        # The suite runs on the releases the action installs.
        for name, pin in pins.items():
            assert name in tested and tested[name].version == pin.version, (
                f"{name}: the action locks {pin.version}, the tests "
                f"{tested[name].version if name in tested else 'nothing'}: run .ci/lock-action"
            )


def test_the_lock_agrees_with_pyprojects_ranges() -> None:
    pins = {**locked(LOCK), **locked(SITE_LOCK)}
    for requirement in declared():
        name = canonicalize_name(requirement.name)
        if name in NOT_FOR_THE_ACTION:
            assert name not in pins, f"{name} is locked for the action but listed as not needed"
            continue
        assert name in pins, (
            f"pyproject needs {name}: lock it for the action, or say why not (NOT_FOR_THE_ACTION)"
        )
        assert requirement.specifier.contains(pins[name].version, prereleases=True), (
            f"{name} {pins[name].version} not in {requirement}"
        )


def unmet(pins: dict[str, Pin], envs: list[dict[str, str]], extras: dict[str, set[str]]) -> list[str]:
    """What the locked packages' own requirements ask for that the lock does not hold, per
    environment: the lock's own record of each package's Requires-Dist, not what is installed."""
    missing = []
    for name, pin in pins.items():
        for requirement in pin.requires:
            for env in envs:
                for extra in ["", *extras.get(name, set[str]())]:
                    if requirement.marker is None or requirement.marker.evaluate({**env, "extra": extra}):
                        dep = canonicalize_name(requirement.name)
                        if dep not in pins:
                            missing.append(f"{name} needs {dep} on Python {env['python_version']}")
                        elif not requirement.specifier.contains(pins[dep].version, prereleases=True):
                            missing.append(f"{name} needs {requirement}, locked {pins[dep].version}")
    return sorted(set(missing))


def test_the_lock_holds_every_dependency_of_what_it_locks() -> None:
    """Installed with --no-deps, nothing may be missing: each locked package's own requirements
    (and the extras pyproject asks for, httpx[socks]) are locked too, on every Python the lock
    covers.  The requirements are the wheels' own, recorded by .ci/lock-action: the check reads
    the lock, never the machine, so a newer release installed here changes nothing."""
    pins = {**locked(LOCK), **locked(SITE_LOCK)}
    extras: dict[str, set[str]] = {canonicalize_name(r.name): set(r.extras) for r in declared()}
    assert unmet(pins, environments(), extras) == []
    # The record is the wheels' METADATA: wherever this machine has the locked release, they agree.
    for name, pin in pins.items():
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
        if Version(installed) == pin.version:
            assert {str(Requirement(r)) for r in metadata.requires(name) or []} <= {
                str(r) for r in pin.requires
            }, f"{name}: the lock's record of its requirements is not its METADATA: run .ci/lock-action"


def test_the_dependency_check_finds_what_a_lock_leaves_out() -> None:
    pins = {
        "httpx": Pin(Version("0.28.1"), requires=[Requirement("anyio"), Requirement("certifi")]),
        "anyio": Pin(Version("4.0"), requires=[Requirement('exceptiongroup>=1; python_version < "3.12"')]),
        "certifi": Pin(Version("2020.1.1")),
        "socksio": Pin(Version("0.9")),
    }
    pins["httpx"].requires.append(Requirement("socksio==1.*; extra == 'socks'"))
    assert unmet(pins, environments(), {}) == ["anyio needs exceptiongroup on Python 3.11"]
    assert unmet(pins, environments(), {"httpx": {"socks"}}) == [
        "anyio needs exceptiongroup on Python 3.11",
        'httpx needs socksio==1.*; extra == "socks", locked 0.9',
    ]


def test_the_site_lock_holds_only_the_dashboards_templates() -> None:
    assert set(locked(SITE_LOCK)) == {"jinja2", "markupsafe"}
    assert not set(locked(SITE_LOCK)) & set(locked(LOCK))


# --- for real: a fresh venv with only the lock runs the action


@pytest.mark.slow
def test_a_fresh_venv_with_only_the_lock_runs_the_action(
    tmp_path: Path, replay: ReplayServer, request: pytest.FixtureRequest
) -> None:
    cdn = request.getfixturevalue("purge")
    from test_workflows import ACTION, action_context, action_steps, fresh_runner, git, step_named

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    bin_dir = venv / "bin"
    path = f"{bin_dir}{os.pathsep}{os.environ['PATH']}"

    bare = tmp_path / "server" / "alice" / "site.git"
    bare.parent.mkdir(parents=True)
    git(tmp_path, "init", "--quiet", "--bare", "-b", "main", str(bare))
    env = {
        **os.environ,
        "PATH": path,
        "GITHUB_SERVER_URL": (tmp_path / "server").as_uri(),
        "GITHUB_REPOSITORY": "alice/site",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
        "SCHOLAR_STATS_BASE_URL": replay.url,
        "SCHOLAR_STATS_JSDELIVR_PURGE_URL": cdn.url,
        "PIP_CACHE_DIR": str(tmp_path / "pip-cache"),
    }
    github = {"bare": bare, "env": env, "replay": replay, "purge": cdn, "tmp": tmp_path}
    sid = "lockedAAAAAJ"
    replay.add_profile(sid, 5, citations=321)
    runner = fresh_runner(github, "locked", action_context(scholar_id=sid, site="true"), checkout=False)
    install = runner.run(step_named(ACTION, "Install"))
    assert install.returncode == 0, install.stdout + install.stderr
    assert install.stdout.strip().endswith(f"version {__import__('crawler').__version__}")
    listed = subprocess.run(
        [bin_dir / "python", "-m", "pip", "list", "--format=freeze"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    names = {canonicalize_name(line.split("==")[0]) for line in listed.splitlines()}
    assert {"pandas", "matplotlib", "numpy", "apscheduler"}.isdisjoint(names)
    # (scholar-stats itself may show up here through a development checkout's egg-info: not installed)
    assert names - {"pip", "setuptools", "scholar-stats"} == set(locked(LOCK)) | set(locked(SITE_LOCK))
    for step in action_steps():
        proc = runner.run(step) if runner.would_run(step) else None
        assert proc is None or proc.returncode == 0, f"{step['name']}: {proc.stdout}{proc.stderr}"
    assert runner.context["steps.summary.outputs.citations"] == "321"
    files = git(bare, "ls-tree", "-r", "--name-only", "google-scholar-stats").splitlines()
    assert "gs_data.json" in files and "site/index.html" in files


def fake_python(folder: Path, version: str, machine: str) -> Path:
    """`python` that answers ``version`` and records pip's arguments, and `uname` that answers ``machine``."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "python").write_text(
        "#!/bin/sh\n"
        f'if [ "$1" = -m ] && [ "$2" = pip ]; then printf "%s\\n" "$@" >> "{folder}/pip-args"; exit 0; fi\n'
        f'case "$*" in *version_info*) echo {version}; exit 0;; *sysconfig*) echo "{folder}"; exit 0;; '
        f'*sys.executable*) echo "{folder}/python"; exit 0;; esac\n'
        f'exec {sys.executable} "$@"\n'
    )
    (folder / "uname").write_text(f"#!/bin/sh\necho {machine}\n")
    (folder / "scholar-stats").write_text("#!/bin/sh\necho scholar-stats, version 0\n")
    for name in ("python", "uname", "scholar-stats"):
        (folder / name).chmod(0o755)
    return folder


@pytest.mark.parametrize(
    ("version", "machine", "site", "config", "locks"),
    [
        ("3.12", "Linux x86_64", "false", "", ["action.txt"]),
        ("3.11", "Linux x86_64", "true", "", ["action.txt", "action-site.txt"]),
        ("3.13", "Linux x86_64", "false", "site = true\n", ["action.txt", "action-site.txt"]),
        ("3.13", "Linux x86_64", "false", "site = false\n", ["action.txt"]),
        ("3.13", "Linux x86_64", "false", "not toml [", ["action.txt"]),
        ("3.10", "Linux x86_64", "false", "", "too old"),
        ("3.9", "Linux aarch64", "false", "", "too old"),
        ("3.14", "Linux x86_64", "false", "", None),
        ("3.12", "Linux aarch64", "false", "", None),
    ],
)
def test_install_step_picks_the_locks_or_falls_back(
    tmp_path: Path, version: str, machine: str, site: str, config: str, locks: list[str] | str | None
) -> None:
    import yaml

    steps = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))["runs"]["steps"]
    script = next(s["run"] for s in steps if s.get("name") == "Install scholar-stats")
    fake = fake_python(tmp_path / "bin", version, machine)
    if config:
        (tmp_path / "scholar-stats.toml").write_text(config)
    env = {
        **os.environ,
        "PATH": f"{fake}{os.pathsep}{os.environ['PATH']}",
        "ACTION_PATH": str(ROOT),
        "SITE": site,
        "CONFIG": "scholar-stats.toml" if config else "",
    }
    proc = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if locks == "too old":
        assert proc.returncode == 1 and not (fake / "pip-args").exists()
        assert "::error title=scholar-stats needs Python 3.11 or newer::" in proc.stdout
        assert f"The job's Python is {version}: set the action's python-version input" in proc.stdout
        return
    assert proc.returncode == 0, proc.stdout + proc.stderr
    args = (fake / "pip-args").read_text().splitlines()
    if locks is None:
        assert "--require-hashes" not in args and args[-1] == str(ROOT)
        assert "::notice title=scholar-stats::No locked wheels for Python" in proc.stdout
    else:
        assert "--require-hashes" in args and "--no-deps" in args
        assert [Path(args[i + 1]).name for i, a in enumerate(args) if a == "-r"] == locks
        assert (fake / "scholar-stats-action.pth").read_text() == f"{ROOT}\n"


@pytest.mark.parametrize("cache_off", [False, True])
def test_the_cache_key_follows_the_lock_and_a_disabled_cache_skips_caching(
    tmp_path: Path, cache_off: bool
) -> None:
    import yaml

    steps = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))["runs"]["steps"]
    key_step = next(s for s in steps if s.get("id") == "lock")
    cache_step = next(s for s in steps if s.get("name") == "Cache the locked wheels")
    assert cache_step["if"] == "${{ steps.lock.outputs.dir != '' }}"
    output = tmp_path / "output"
    output.write_text("")
    env = {**os.environ, "ACTION_PATH": str(ROOT), "GITHUB_OUTPUT": str(output), "RUNNER_OS": "Linux"}
    env.pop("PIP_CACHE_DIR", None)
    if cache_off:
        env["PIP_NO_CACHE_DIR"] = "1"
    proc = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", key_step["run"]],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    values = dict(line.split("=", 1) for line in output.read_text().splitlines())
    # In the glob's order: action-site.txt sorts before action.txt.
    digest = hashlib.sha256(SITE_LOCK.read_bytes() + LOCK.read_bytes()).hexdigest()[:16]
    version = f"{sys.version_info[0]}.{sys.version_info[1]}"
    assert values["key"] == f"scholar-stats-pip-Linux-{version}-{digest}"
    assert (values["dir"] == "") == cache_off
