"""The lab workflow (examples/scholar-stats-lab.yml): a matrix of shard jobs and one merge
and publish job.  Valid, zizmor-clean, least privilege, pinned; its shell steps run for real,
one fresh 'runner' per shard, artifacts handed over as folders, against a local remote and Scholar."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from clitools import SCHOLAR_STATS, clean_env
from replay import Captcha
from test_workflows import (
    SHA_PIN,
    Runner,
    fresh_runner,
    git,
    github,
    load,
    purge,
    step_named,
    tool,
    zizmor,
)

ROOT = Path(__file__).resolve().parent.parent
LAB = ROOT / "examples" / "scholar-stats-lab.yml"
_ = (github, purge)  # fixtures, from the workflow tests
AUTHORS = [f"lAbWfL{n:02d}AAAJ" for n in range(8)]
CONTEXT = {"github.token": "not-a-real-token", "secrets.SCHOLAR_STATS_PROXY": ""}


def test_valid_against_githubs_schema_and_zizmor_clean() -> None:
    proc = subprocess.run(
        [tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", str(LAB)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    serious = [
        f["ident"]
        for f in zizmor(LAB)
        if f["determinations"]["severity"] not in ("Informational", "Low", "Unknown")
    ]
    assert serious == []


def test_matrix_least_privilege_and_pins() -> None:
    doc = load(LAB)
    assert doc["permissions"] == {}
    shard, publish = doc["jobs"]["shard"], doc["jobs"]["publish"]
    assert shard["permissions"] == {"contents": "read"}
    assert publish["permissions"] == {"contents": "write"}
    assert shard["strategy"]["fail-fast"] is False
    assert "inputs.max-parallel" in shard["strategy"]["max-parallel"]
    assert doc["on"]["workflow_dispatch"]["inputs"]["max-parallel"]["type"] == "number"
    # The matrix and SHARDS must name the same N, or authors would be fetched twice or never.
    assert shard["strategy"]["matrix"]["shard"] == list(range(1, int(doc["env"]["SHARDS"]) + 1))
    assert publish["needs"] == "shard" and "!cancelled()" in publish["if"]
    for job in (shard, publish):
        assert 0 < job["timeout-minutes"] <= 60
        for step in job["steps"]:
            assert "${{" not in str(step.get("run", "")), step["name"]
            if "uses" in step:
                assert SHA_PIN.match(step["uses"]), step["uses"]
            if str(step.get("uses", "")).startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False
            secrets = [v for v in step.get("env", {}).values() if "secrets." in str(v)]
            assert not secrets or step.get("id") == "run", step["name"]
    for line in (
        ln
        for ln in LAB.read_text(encoding="utf-8").splitlines()
        if "uses:" in ln and not ln.lstrip().startswith("#")
    ):
        assert line.rstrip().split(" # v")[-1].count(".") == 2, line
    upload = step_named(LAB, "Upload")
    assert upload["with"]["name"] == "${{ matrix.shard }}".join(["shard-", ""])
    assert "!cancelled()" in upload["if"]
    download = step_named(LAB, "Download")
    assert download["with"]["pattern"] == "shard-*"


def shard_day(
    github: dict[str, Any],
    day: str,
    *,
    lost: frozenset[int] | set[int] = frozenset(),
    workflow: Path = LAB,
) -> dict[int, int]:
    """Every shard job on its own fresh runner; returns each shard's exit code.
    Shards in ``lost`` die before uploading (no artifact)."""
    doc = load(workflow)
    job = doc["jobs"]["shard"]
    steps = [s for s in job["steps"] if "run" in s and not s["name"].startswith("Install")]
    assert [s["name"].split()[0] for s in steps] == ["Restore", "Fetch"]
    artifacts = github["tmp"] / f"artifacts-{day}"
    artifacts.mkdir()
    codes = {}
    for k in job["strategy"]["matrix"]["shard"]:
        runner = fresh_runner(github, f"{day}-shard-{k}", {**CONTEXT, "matrix.shard": str(k)}, checkout=True)
        code = 0
        for step in steps:
            proc = runner.run(step, doc["env"])
            code = proc.returncode
            if code:
                assert step["name"].startswith("Fetch"), f"{step['name']}: {proc.stdout}{proc.stderr}"
        codes[k] = code
        folder = Path(runner.env["RUNNER_TEMP"]) / "shard"
        if k not in lost and folder.is_dir() and any(folder.iterdir()):
            # upload-artifact, then download-artifact with `pattern`: one folder per artifact name.
            shutil.copytree(folder, artifacts / f"shard-{k}")
    return codes


def publish_day(github: dict[str, Any], day: str, workflow: Path = LAB) -> Runner:
    doc = load(workflow)
    runner = fresh_runner(github, f"{day}-publish", CONTEXT, checkout=True)
    downloaded = Path(runner.env["RUNNER_TEMP"]) / "shards"
    shutil.copytree(github["tmp"] / f"artifacts-{day}", downloaded)
    for name in ("Restore, merge", "Group"):
        proc = runner.run(step_named(workflow, name), doc["env"])
        assert proc.returncode == 0, f"{name}: {proc.stdout}{proc.stderr}"
    return runner


@pytest.fixture
def lab_repo(github: dict[str, Any]) -> dict[str, Any]:
    replay = github["replay"]
    for index, sid in enumerate(AUTHORS):
        replay.add_profile(sid, 3, citations=100 + index)
    seed = github["tmp"] / "seed"
    (seed / "scholar-stats.toml").write_text(
        "delay = 0\nretries = 0\n" + "".join(f'[[authors]]\nid = "{sid}"\n' for sid in AUTHORS),
        encoding="utf-8",
    )
    git(seed, "add", "scholar-stats.toml")
    git(seed, "-c", "user.name=A", "-c", "user.email=a@example.org", "commit", "--quiet", "-m", "lab")
    git(seed, "push", "--quiet", "origin", "HEAD:main")
    return github


def branch_file(bare: Path, path: str) -> Any:
    return json.loads(git(bare, "show", f"google-scholar-stats:{path}"))


@pytest.mark.slow
def test_two_days_of_the_lab_with_a_blocked_author_and_a_lost_shard(lab_repo: dict[str, Any]) -> None:
    github, bare, replay = lab_repo, lab_repo["bare"], lab_repo["replay"]
    codes = shard_day(github, "day1")
    assert set(codes.values()) == {0}
    runner = publish_day(github, "day1")
    group = branch_file(bare, "group.json")
    assert [m["scholar_id"] for m in group["members"]] == AUTHORS
    assert group["totals"]["citations"] == sum(100 + i for i in range(len(AUTHORS)))
    assert all(not m["stale"] for m in group["members"])
    summary = Path(runner.env["GITHUB_STEP_SUMMARY"]).read_text(encoding="utf-8")
    assert summary.count("**Group**") == 1
    commits = git(bare, "rev-list", "--count", "google-scholar-stats")

    # Day 2: one author is blocked in its shard, and another shard dies before uploading.
    from crawler.shard import assign

    shards = assign(AUTHORS, 10)
    blocked = AUTHORS[0]
    lost_shard = next(shards[sid] for sid in AUTHORS if shards[sid] != shards[blocked])
    replay.set_scenario(blocked, Captcha())
    for index, sid in enumerate(AUTHORS):
        if sid != blocked:
            replay.add_profile(sid, 3, citations=200 + index)
    codes = shard_day(github, "day2", lost={lost_shard})
    assert codes[shards[blocked]] == 3
    assert all(code == 0 for k, code in codes.items() if k != shards[blocked])
    runner = publish_day(github, "day2")
    assert int(git(bare, "rev-list", "--count", "google-scholar-stats")) == int(commits) + 1
    group = branch_file(bare, "group.json")
    stale = {m["scholar_id"] for m in group["members"] if m["stale"]}
    lost = {sid for sid in AUTHORS if shards[sid] == lost_shard}
    assert stale == {blocked} | lost
    for sid in AUTHORS:
        citations = branch_file(bare, f"{sid}/gs_data.json")["citedby"]
        index = AUTHORS.index(sid)
        assert citations == (100 + index if sid in stale else 200 + index), sid
        files = git(bare, "ls-tree", "-r", "--name-only", "google-scholar-stats", f"{sid}/snapshots/").split()
        assert len(files) == (1 if sid in stale else 2), sid
    state = branch_file(bare, f"{blocked}/state.json")
    assert state["exit_code"] == 3
    # One step summary for the whole group: the group line once, saying how many are stale,
    # then every member; the restore, merge and publish add nothing to it.
    summary = Path(runner.env["GITHUB_STEP_SUMMARY"]).read_text(encoding="utf-8")
    assert summary.count("**Group**") == 1
    assert f"**Group** ({len(AUTHORS)} members, {len(stale)} stale)" in summary
    assert summary.index("**Group**") < min(summary.index(sid) for sid in AUTHORS)
    for sid in lost:
        assert branch_file(bare, f"{sid}/state.json")["error"] == "ShardMissing"


PINNED = re.compile(r"([\w.-]+/[\w./-]+)@([0-9a-f]{40})(?:\s*#\s*(v[\w.]+))?")


def test_each_action_is_pinned_to_one_commit_everywhere() -> None:
    """The same action at the same commit, with the same version comment, in every file that
    names one: the workflows, the action, the examples, the docs and what `init` writes."""
    files = [
        *(ROOT / ".github" / "workflows").glob("*.yml"),
        ROOT / "action.yml",
        *(ROOT / "examples").glob("*.yml"),
        *(ROOT / "docs").glob("*.md"),
        ROOT / "README.md",
        *(ROOT / "crawler").rglob("*.py"),
    ]
    seen: dict[str, dict[str, set[str]]] = {}
    for path in files:
        for action, sha, version in PINNED.findall(path.read_text(encoding="utf-8")):
            seen.setdefault(action, {}).setdefault(sha, set()).add(
                f"{path.relative_to(ROOT)} {version}".strip()
            )
    assert {"actions/checkout", "actions/upload-artifact", "actions/download-artifact"} <= seen.keys()
    for action, shas in seen.items():
        assert len(shas) == 1, f"{action} is pinned to several commits: {shas}"
        versions = {entry.split(" ")[1] for entry in next(iter(shas.values())) if " " in entry}
        assert len(versions) <= 1, f"{action}: one commit, several version comments: {versions}"


@pytest.mark.slow
def test_the_workflow_init_lab_writes_runs_a_day(lab_repo: dict[str, Any], tmp_path: Path) -> None:
    """What `init --lab --shards 3` writes, not the example: its shell steps run as they are."""
    github, bare = lab_repo, lab_repo["bare"]
    site = tmp_path / "lab"
    git(bare.parent, "clone", "--quiet", str(bare), str(site))
    init = subprocess.run(
        [*SCHOLAR_STATS, "init", "--repo", str(site), "--lab", "--shards", "3"],
        capture_output=True,
        text=True,
        timeout=120,
        env=clean_env(SCHOLAR_STATS_ACTION_REMOTE=str(tmp_path / "offline")),
    )
    assert init.returncode == 0, init.stderr
    workflow = site / ".github" / "workflows" / "scholar-stats-lab.yml"
    codes = shard_day(github, "day1", workflow=workflow)
    assert codes == {1: 0, 2: 0, 3: 0}
    runner = publish_day(github, "day1", workflow=workflow)
    group = branch_file(bare, "group.json")
    assert [m["scholar_id"] for m in group["members"]] == AUTHORS
    assert not any(m["stale"] for m in group["members"])
    summary = Path(runner.env["GITHUB_STEP_SUMMARY"]).read_text(encoding="utf-8")
    assert summary.count("**Group**") == 1
