"""The weekly lock refresh: re-locks, runs the suite, then opens or updates one pull request.
Its last step runs here for real against a local bare remote and a stand-in `gh`."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from test_workflows import LOCK_REFRESH, load, step_named

ROOT = Path(__file__).resolve().parent.parent


def test_weekly_and_on_demand_with_least_permissions() -> None:
    doc = load(LOCK_REFRESH)
    assert "workflow_dispatch" in doc["on"] and doc["on"]["schedule"]
    assert doc["permissions"] == {}
    (job,) = doc["jobs"].values()
    assert job["permissions"] == {"contents": "write", "pull-requests": "write"}
    runs = [s.get("run", "") for s in job["steps"]]
    relock = next(i for i, r in enumerate(runs) if ".ci/lock-tests" in r)
    assert "python .ci/lock-action" in runs[relock]
    assert runs[relock].index("lock-tests") < runs[relock].index("lock-action")
    suite = runs.index("bash .ci/run")
    propose = next(i for i, r in enumerate(runs) if "gh pr" in r)
    assert relock < suite < propose


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def repository(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A checkout of a bare remote holding a lock, and a `gh` that answers from a file."""
    server = tmp_path / "server"
    bare = server / "org" / "tool.git"
    bare.parent.mkdir(parents=True)
    git(tmp_path, "init", "--quiet", "--bare", "-b", "main", str(bare))
    work = tmp_path / "work"
    git(tmp_path, "clone", "--quiet", str(bare), str(work))
    (work / "requirements").mkdir()
    (work / "requirements" / "test.txt").write_text("filelock==4.3.1 \\\n    --hash=sha256:aa\n")
    git(work, "add", ".")
    git(work, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "--quiet", "-m", "lock")
    git(work, "push", "--quiet", "origin", "main")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "gh").write_text(
        "#!/bin/sh\n"
        f'printf "%s\\n" "$*" >> "{tmp_path}/gh-calls"\n'
        f'if [ "$1 $2" = "pr view" ]; then cat "{tmp_path}/gh-state" 2>/dev/null || exit 1; fi\n'
        f'case "$*" in *--body-file*) cp "$(echo "$*" | sed "s/.*--body-file //")" "{tmp_path}/body";; esac\n'
    )
    (bin_dir / "gh").chmod(0o755)
    return work, bare, tmp_path


def propose(work: Path, tmp: Path) -> subprocess.CompletedProcess[str]:
    step = step_named(LOCK_REFRESH, "Open or update the pull request")
    env = {
        **os.environ,
        "PATH": f"{tmp / 'bin'}{os.pathsep}{os.environ['PATH']}",
        "GH_TOKEN": "t0ken",
        "BASE": "main",
        "GITHUB_SERVER_URL": (tmp / "server").as_uri(),
        "GITHUB_REPOSITORY": "org/tool",
        "RUNNER_TEMP": str(tmp),
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
    }
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_current_lock_proposes_nothing(repository: tuple[Path, Path, Path]) -> None:
    work, bare, tmp = repository
    proc = propose(work, tmp)
    assert proc.returncode == 0, proc.stderr
    assert "nothing to propose" in proc.stdout
    assert not (tmp / "gh-calls").exists()
    assert "lock-refresh" not in git(bare, "branch", "--list")


def test_a_new_release_opens_one_pull_request_then_updates_it(repository: tuple[Path, Path, Path]) -> None:
    work, bare, tmp = repository
    lock = work / "requirements" / "test.txt"
    lock.write_text("filelock==4.3.2 \\\n    --hash=sha256:bb\n")
    proc = propose(work, tmp)
    assert proc.returncode == 0, proc.stderr
    calls = (tmp / "gh-calls").read_text().splitlines()
    assert calls[-1].startswith("pr create --base main --head lock-refresh")
    body = (tmp / "body").read_text()
    assert "-filelock==4.3.1" in body and "+filelock==4.3.2" in body
    assert git(bare, "show", "lock-refresh:requirements/test.txt") == lock.read_text()
    assert git(bare, "rev-parse", "main") != git(bare, "rev-parse", "lock-refresh")

    # Next week, the request is still open: the branch moves and the same request is edited.
    git(work, "switch", "--quiet", "main")
    lock.write_text("filelock==4.3.3 \\\n    --hash=sha256:cc\n")
    (tmp / "gh-state").write_text("OPEN\n")
    proc = propose(work, tmp)
    assert proc.returncode == 0, proc.stderr
    calls = (tmp / "gh-calls").read_text().splitlines()
    assert calls[-1].startswith("pr edit lock-refresh") and not any("create" in c for c in calls[2:])
    assert "filelock==4.3.3" in git(bare, "show", "lock-refresh:requirements/test.txt")
    assert len(git(bare, "rev-list", "main..lock-refresh").split()) == 1
