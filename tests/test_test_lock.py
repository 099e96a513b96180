"""The test environment's lock: what the README's test command installs, so that the suite
depends on the commit and not on what the registry serves on the day it runs."""

from __future__ import annotations

import re
import shlex

from packaging.utils import canonicalize_name
from test_action_lock import ROOT, TEST_LOCK, declared, environments, pins_of

README = ROOT / "README.md"
# Where ci.yml's matrix runs the suite: every Python pyproject admits, on a GitHub runner, and the
# lock is universal, so a contributor on macOS or Windows installs the same releases.
PYTHONS = ("3.11", "3.12", "3.13")
PLATFORMS = ("linux", "darwin", "win32")


def readme_test_command() -> str:
    block = re.search(
        r"install the test extras and run every test.*?```sh\n(.*?)\n```", README.read_text(), re.S
    )
    assert block is not None, "the README's second set-up command"
    return block.group(1)


def test_every_pin_is_exact_and_hashed() -> None:
    pins = pins_of(TEST_LOCK)
    assert len(pins) > 50
    for name, pin in pins:
        assert pin.hashes, f"{name} has no hash"
        assert all(re.fullmatch(r"[0-9a-f]{64}", h) for h in pin.hashes), name
    # Nothing but pins, hashes and comments: no index, no unpinned line, no editable.
    for line in TEST_LOCK.read_text(encoding="utf-8").splitlines():
        text = line.strip()
        assert not text or text.startswith(("#", "--hash=sha256:")) or "==" in text.split(";")[0], line


def test_one_release_of_each_package_wherever_it_installs() -> None:
    """The matrix tests the same releases on every Python: a package locked twice must apply on
    disjoint environments, and every environment must get exactly one."""
    pins = pins_of(TEST_LOCK)
    for env in environments(PYTHONS, PLATFORMS):
        chosen: dict[str, list[str]] = {}
        for name, pin in pins:
            if pin.marker is None or pin.marker.evaluate(env):
                chosen.setdefault(name, []).append(str(pin.version))
        doubles = {name: versions for name, versions in chosen.items() if len(versions) > 1}
        assert doubles == {}, f"Python {env['python_version']} on {env['sys_platform']}"


def test_the_lock_holds_pyprojects_dependencies_and_test_tools_within_their_ranges() -> None:
    """What pip would install from pyproject, the lock pins, inside pyproject's ranges, on every
    Python and platform it covers: ruff, mypy and every other test tool included."""
    pins = pins_of(TEST_LOCK)
    for env in environments(PYTHONS, PLATFORMS):
        here = {name: pin for name, pin in pins if pin.marker is None or pin.marker.evaluate(env)}
        for requirement in [*declared(), *declared("test"), *declared("parquet"), *declared("scholarly")]:
            if requirement.marker is not None and not requirement.marker.evaluate(env):
                continue
            name = canonicalize_name(requirement.name)
            where = f"Python {env['python_version']} on {env['sys_platform']}"
            assert name in here, f"{name} is not locked for {where}: run .ci/lock-tests"
            assert requirement.specifier.contains(here[name].version, prereleases=True), (
                f"{name} {here[name].version} is not in pyproject's {requirement}: run .ci/lock-tests"
            )
    for tool in (
        "ruff",
        "mypy",
        "pytest",
        "hypothesis",
        "playwright",
        "check-jsonschema",
        "zizmor",
        "setuptools",
    ):
        assert tool in dict(pins), tool


def test_the_readme_command_installs_the_lock_then_the_project_without_dependencies() -> None:
    command = readme_test_command()
    steps = [shlex.split(part) for part in command.split("&&")]
    assert steps[0][:3] == ["python", "-m", "pip"] and "--require-hashes" in steps[0]
    assert steps[0][steps[0].index("-r") + 1] == "requirements/test.txt"
    assert {"--no-deps", "--no-build-isolation", "-e", "."} <= set(steps[1])
    assert steps[-1] == ["python", "-m", "pytest"]
    # .ci/run, ci.yml's only step, runs exactly that command.
    assert command in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_the_matrix_runs_every_python_pyproject_claims() -> None:
    import tomllib

    import yaml

    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert requires == f">={PYTHONS[0]}"
    ci = yaml.safe_load((ROOT / ".github" / "workflows" / "ci.yml").read_text())
    matrix = ci["jobs"]["test"]["strategy"]["matrix"]["python-version"]
    assert matrix == list(PYTHONS)
    header = TEST_LOCK.read_text(encoding="utf-8").splitlines()[:2]
    assert header[1].strip() == "#    python3 .ci/lock-tests"
