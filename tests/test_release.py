"""The release workflow: least privilege per job, and its shell steps run for real.

The steps that need GitHub (attestation, PyPI, the artifact store) are
actions pinned by SHA; every ``run:`` step is run here with bash, as the
runner would: the version check, the build (sdist and wheel, from a copy of
this repository), the release notes cut from CHANGELOG.md, ``gh release
create`` (a stand-in ``gh`` records its arguments) and the move of the major
tag (pushed to a real bare repository).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tarfile
import zipfile
from pathlib import Path

import pytest
from ruamel.yaml import YAML
from test_workflows import RELEASE, ROOT, Runner, load, step_named

from crawler import __version__

pytestmark = pytest.mark.slow

TAG = f"v{__version__}"


def runner(tmp: Path, cwd: Path, tag: str = TAG, sha: str = "0" * 40) -> Runner:
    (tmp / "runner-temp").mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "RUNNER_TEMP": str(tmp / "runner-temp"),
        "GITHUB_SHA": sha,
        "GITHUB_SERVER_URL": "https://github.example",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
    }
    return Runner(tmp, {"github.ref_name": tag, "github.token": "not-a-real-token"}, env, cwd)


def copy_of_repo(tmp: Path) -> Path:
    """The files a tag's checkout has: what git tracks, plus this change's files not yet committed."""
    work = tmp / "checkout"
    ignore = shutil.ignore_patterns(
        ".git",
        ".venv",
        "__pycache__",
        "*.egg-info",
        "build",
        "dist",
        ".pytest_cache",
        ".mypy_cache",
        ".ruff_cache",
        ".hypothesis",
        "bench",
        "tests",
    )
    shutil.copytree(ROOT, work, ignore=ignore)
    return work


def test_triggers_and_least_privilege() -> None:
    doc = load(RELEASE)
    assert doc["on"] == {"push": {"tags": ["v*.*.*"]}}
    assert doc["permissions"] == {}
    assert doc["concurrency"]["cancel-in-progress"] is False
    jobs = doc["jobs"]
    assert {name: job["permissions"] for name, job in jobs.items()} == {
        "test": {"contents": "read"},
        "build": {"contents": "read", "id-token": "write", "attestations": "write"},
        "pypi": {"id-token": "write"},
        "github": {"contents": "write"},
    }
    assert (
        jobs["build"]["needs"] == "test"
        and jobs["pypi"]["needs"] == "build"
        and jobs["github"]["needs"] == "pypi"
    )
    assert jobs["pypi"]["environment"]["name"] == "pypi"
    # Trusted publishing: no token or password is handed to the PyPI action.
    publish = next(s for s in jobs["pypi"]["steps"] if "pypi-publish" in s.get("uses", ""))
    assert "with" not in publish
    assert [s.get("run") for s in jobs["test"]["steps"] if "run" in s] == ["bash .ci/run"]
    attest = next(s for s in jobs["build"]["steps"] if "attest-build-provenance" in s.get("uses", ""))
    assert attest["with"]["subject-path"] == "dist/*"


def test_version_check_passes_the_right_tag_and_stops_a_wrong_one(tmp_path: Path) -> None:
    step = step_named(RELEASE, "Check the tag")
    assert runner(tmp_path, ROOT).run(step).returncode == 0
    wrong = runner(tmp_path, ROOT, tag="v9.9.9").run(step)
    assert wrong.returncode == 1
    assert (
        f"::error title=Tag and version differ::The tag is v9.9.9 but crawler/__init__.py says {__version__}."
        in wrong.stdout
    )


def test_version_check_wants_a_changelog_entry(tmp_path: Path) -> None:
    work = copy_of_repo(tmp_path)
    changelog = work / "CHANGELOG.md"
    changelog.write_text(changelog.read_text().replace(f"## [{__version__}]", "## [0.0.1]"))
    proc = runner(tmp_path, work).run(step_named(RELEASE, "Check the tag"))
    assert proc.returncode == 1 and "No changelog entry" in proc.stdout


def test_build_makes_an_sdist_and_a_wheel_with_license_and_urls(tmp_path: Path) -> None:
    work = copy_of_repo(tmp_path)
    proc = runner(tmp_path, work).run(step_named(RELEASE, "Build the sdist"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # twine check --strict: the README renders as the PyPI page, for both files.
    assert proc.stdout.count("PASSED") == 2, proc.stdout
    dist = sorted(p.name for p in (work / "dist").iterdir())
    assert dist == [f"scholar_stats-{__version__}-py3-none-any.whl", f"scholar_stats-{__version__}.tar.gz"]
    with zipfile.ZipFile(work / "dist" / dist[0]) as wheel:
        names = wheel.namelist()
        metadata = wheel.read(f"scholar_stats-{__version__}.dist-info/METADATA").decode()
    assert f"scholar_stats-{__version__}.dist-info/licenses/LICENSE" in names
    assert "crawler/assets/scholar-stats.js" in names
    assert not any(n.startswith(("docs/", "tests/")) for n in names)
    assert f"Version: {__version__}\n" in metadata and "License-Expression: MIT" in metadata
    assert (
        "Project-URL: Documentation, https://github.com/scholar-stats/scholar-stats/tree/main/docs"
        in metadata
    )
    with tarfile.open(work / "dist" / dist[1]) as sdist:
        assert f"scholar_stats-{__version__}/LICENSE" in sdist.getnames()


def notes(tmp: Path, tag: str = TAG, cwd: Path = ROOT) -> tuple[subprocess.CompletedProcess[str], str]:
    run = runner(tmp, cwd, tag=tag)
    proc = run.run(step_named(RELEASE, "Release notes"))
    path = tmp / "runner-temp" / "notes.md"
    return proc, path.read_text() if path.exists() else ""


def test_release_notes_are_the_versions_changelog_section(tmp_path: Path) -> None:
    proc, text = notes(tmp_path)
    assert proc.returncode == 0, proc.stderr
    changelog = (ROOT / "CHANGELOG.md").read_text()
    section = changelog.split(f"## [{__version__}]", 1)[1].split("\n", 1)[1]
    assert text.strip() and section.startswith(text.rstrip("\n").split("\n", 1)[0])
    assert "## [" not in text and "]: https://" not in text and "Unreleased" not in text
    assert "### Added" in text


def test_release_notes_for_a_version_without_a_section_stop_the_release(tmp_path: Path) -> None:
    proc, _ = notes(tmp_path, tag="v0.0.9")
    assert proc.returncode == 1 and "::error title=No release notes::" in proc.stdout


def test_release_notes_stop_at_the_next_version(tmp_path: Path) -> None:
    work = tmp_path / "w"
    work.mkdir()
    (work / "CHANGELOG.md").write_text(
        "# Changelog\n\n## [Unreleased]\n\n## [2.0.0] - 2027-01-01\n\n- two\n\n"
        "## [1.0.0] - 2026-12-01\n\n- one\n\n"
        "[2.0.0]: https://example.org/2\n"
    )
    assert notes(tmp_path, tag="v2.0.0", cwd=work)[1] == "\n- two\n\n"
    assert notes(tmp_path, tag="v1.0.0", cwd=work)[1] == "\n- one\n\n"


def test_github_release_gets_the_files_and_the_notes(tmp_path: Path) -> None:
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "gh").write_text(
        f'#!/bin/sh\nprintf "%s\\n" "$@" > "{fake}/args"\nprintf "%s" "$GH_TOKEN" > "{fake}/token"\n'
    )
    (fake / "gh").chmod(0o755)
    work = tmp_path / "w"
    (work / "dist").mkdir(parents=True)
    for name in (f"scholar_stats-{__version__}.tar.gz", f"scholar_stats-{__version__}-py3-none-any.whl"):
        (work / "dist" / name).write_bytes(b"x")
    run = runner(tmp_path, work)
    proc = run.run(
        step_named(RELEASE, "Create the GitHub release"), {"PATH": f"{fake}{os.pathsep}{os.environ['PATH']}"}
    )
    assert proc.returncode == 0, proc.stderr
    args = (fake / "args").read_text().splitlines()
    assert args[:2] == ["release", "create"] and args[2] == TAG
    assert sorted(a for a in args if a.startswith("dist/")) == sorted(
        f"dist/{p.name}" for p in (work / "dist").iterdir()
    )
    assert "--verify-tag" in args
    assert args[args.index("--notes-file") + 1] == str(tmp_path / "runner-temp" / "notes.md")
    assert (fake / "token").read_text() == "not-a-real-token"


def git(cwd: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "M",
        "GIT_AUTHOR_EMAIL": "m@example.org",
        "GIT_COMMITTER_NAME": "M",
        "GIT_COMMITTER_EMAIL": "m@example.org",
    }
    return subprocess.run(
        ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True
    ).stdout.strip()


def test_major_tag_moves_to_each_release(tmp_path: Path) -> None:
    bare = tmp_path / "origin.git"
    git(tmp_path, "init", "--quiet", "--bare", str(bare))
    work = tmp_path / "work"
    git(tmp_path, "clone", "--quiet", str(bare), str(work))
    shas = []
    for version in ("1.0.0", "1.1.0"):
        (work / "v").write_text(version)
        git(work, "add", "v")
        git(work, "commit", "--quiet", "-m", version)
        git(work, "tag", f"v{version}")
        git(work, "push", "--quiet", "origin", "HEAD:refs/heads/main", f"refs/tags/v{version}")
        shas.append(git(work, "rev-parse", "HEAD"))
    checkout = tmp_path / "checkout"
    git(tmp_path, "clone", "--quiet", str(bare), str(checkout))
    step = step_named(RELEASE, "Move the major tag")
    for version, sha in zip(("1.0.0", "1.1.0"), shas, strict=True):
        proc = runner(tmp_path, checkout, tag=f"v{version}", sha=sha).run(step)
        assert proc.returncode == 0, proc.stderr
        assert git(bare, "rev-parse", "refs/tags/v1^{commit}") == sha
        assert f"v1 now points at v{version} ({sha})." in proc.stdout
    # The release tags themselves never move, and the token never lands in git's config.
    assert git(bare, "rev-parse", "refs/tags/v1.0.0^{commit}") == shas[0]
    assert "not-a-real-token" not in (checkout / ".git" / "config").read_text()


@pytest.mark.parametrize(
    "name",
    ["Check the tag", "Build the sdist", "Release notes", "Create the GitHub release", "Move the major tag"],
)
def test_each_shell_step_is_tested_here(name: str) -> None:
    assert "run" in step_named(RELEASE, name)
    runs = [s["name"] for job in load(RELEASE)["jobs"].values() for s in job["steps"] if "run" in s]
    assert sorted(runs) == sorted(
        [
            "Run the tests (bash .ci/run)",
            "Check the tag against the version and the changelog",
            "Build the sdist and the wheel, and check them",
            "Release notes from CHANGELOG.md",
            "Create the GitHub release",
            "Move the major tag",
        ]
    )


def changelog_sections() -> dict[str, str]:
    """CHANGELOG.md's sections by version ("Unreleased" included), each its text."""
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    parts = re.split(r"^## \[([^\]]+)\][^\n]*\n", text, flags=re.MULTILINE)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def test_the_inputs_init_writes_are_in_the_action_and_in_the_release_it_pins(tmp_path: Path) -> None:
    """The workflow init writes pins v{__version__}: every input it may use exists in action.yml
    and was released by then (the changelog says so in that version's section or an older one)."""
    from packaging.version import Version

    from crawler.homepage.author_workflow import ACTION_REPO, action_ref, workflow_text
    from crawler.homepage.repository import Site

    env = {**os.environ, "SCHOLAR_STATS_ACTION_REMOTE": str(tmp_path / "no-such-remote")}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(os, "environ", env)
        action, warning = action_ref()
    assert action == f"{ACTION_REPO}@v{__version__}" and warning
    site = Site(tmp_path, "acadhomepage", "AAAAAAAAAAAJ", None, "alice/alice.github.io")
    written: set[str] = set()
    for al_folio in (False, True):
        for import_git in (False, True):
            doc = YAML(typ="safe").load(
                workflow_text(site, al_folio=al_folio, action=action, import_git=import_git)
            )
            steps = [s for job in doc["jobs"].values() for s in job["steps"]]
            (step,) = [s for s in steps if str(s.get("uses", "")).startswith(ACTION_REPO)]
            assert step["uses"] == action
            written |= set(step["with"])
    assert {"scholar-id", "config", "al-folio-citations", "import-git"} <= written

    inputs = set(load(ROOT / "action.yml")["inputs"])
    assert written <= inputs, f"init writes inputs the action lacks: {written - inputs}"
    sections = changelog_sections()
    assert __version__ in sections, f"CHANGELOG.md has no section for {__version__}"
    released = "".join(
        text
        for version, text in sections.items()
        if version != "Unreleased" and Version(version) <= Version(__version__)
    )
    # An input is listed in a bullet that speaks of inputs (`import-git` is also a command).
    bullets = [b for b in re.split(r"^- ", released, flags=re.MULTILINE) if "input" in b]
    unlisted = sorted(name for name in inputs if not any(f"`{name}`" in b for b in bullets))
    assert unlisted == [], f"inputs no released section of CHANGELOG.md lists: {unlisted}"
    assert f"[{__version__}]: https://github.com/{ACTION_REPO}/" in (ROOT / "CHANGELOG.md").read_text()
