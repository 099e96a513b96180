"""The workflow and action files: valid against GitHub's schemas, clean under zizmor, least
privilege, pinned actions, and their shell steps run for real against a local remote and Scholar."""

from __future__ import annotations

import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML
from sites import seeded_remote

# Each test drives the whole tool through git and several commands.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
CI = ROOT / ".github" / "workflows" / "ci.yml"
SCHEDULED = ROOT / ".github" / "workflows" / "scholar-stats.yml"
RELEASE = ROOT / ".github" / "workflows" / "release.yml"
LOCK_REFRESH = ROOT / ".github" / "workflows" / "lock-refresh.yml"
ACTION = ROOT / "action.yml"
WORKFLOWS = [CI, SCHEDULED, RELEASE, LOCK_REFRESH]
ALL_FILES = [*WORKFLOWS, ACTION]
BIN = Path(sys.executable).parent
SHA_PIN = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")
EXPRESSION = re.compile(r"\$\{\{\s*(.+?)\s*\}\}")


def load(path: Path) -> Any:
    # YAML 1.2 (ruamel): `on:` stays a string key instead of becoming True.
    return YAML(typ="safe").load(path.read_text(encoding="utf-8"))


def tool(name: str) -> str:
    found = shutil.which(name, path=str(BIN)) or shutil.which(name)
    assert found, f"{name} is not installed (it is in the test extra)"
    return found


def steps_of(path: Path) -> list[dict[str, Any]]:
    doc = load(path)
    if "runs" in doc:
        return list(doc["runs"]["steps"])
    return [step for job in doc["jobs"].values() for step in job.get("steps", [])]


def step_named(path: Path, prefix: str) -> dict[str, Any]:
    matches = [s for s in steps_of(path) if str(s.get("name", "")).startswith(prefix)]
    assert len(matches) == 1, f"{len(matches)} steps named {prefix!r} in {path.name}"
    return matches[0]


# --- schemas and zizmor


@pytest.mark.parametrize(
    ("path", "schema"),
    [
        (CI, "vendor.github-workflows"),
        (SCHEDULED, "vendor.github-workflows"),
        (RELEASE, "vendor.github-workflows"),
        (ACTION, "vendor.github-actions"),
    ],
    ids=lambda v: v.name if isinstance(v, Path) else v,
)
def test_valid_against_githubs_schema(path: Path, schema: str) -> None:
    proc = subprocess.run(
        [tool("check-jsonschema"), "--builtin-schema", schema, str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "ok -- validation done" in proc.stdout


def test_schema_check_catches_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text("on: push\njobs:\n  x:\n    steps:\n      - run: true\n")  # no runs-on
    proc = subprocess.run(
        [tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", str(broken)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1


def zizmor(*paths: Path) -> list[dict[str, Any]]:
    proc = subprocess.run(
        [tool("zizmor"), "--offline", "--no-progress", "--format", "json", *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode in (0, 10, 11, 12, 13, 14), proc.stderr  # 10+: findings; anything else: a failure
    findings: list[dict[str, Any]] = json.loads(proc.stdout)
    return findings


def test_zizmor_finds_nothing_above_low() -> None:
    findings = zizmor(*ALL_FILES)
    serious = [
        (f["ident"], f["determinations"]["severity"], f["locations"][0]["symbolic"]["key"])
        for f in findings
        if f["determinations"]["severity"] not in ("Informational", "Low", "Unknown")
    ]
    assert serious == []


def test_zizmor_with_min_severity_medium_exits_0() -> None:
    proc = subprocess.run(
        [tool("zizmor"), "--offline", "--no-progress", "--min-severity", "medium", *map(str, ALL_FILES)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_zizmor_does_catch_template_injection(tmp_path: Path) -> None:
    # The audit is worth something only if it fires on the mistake it guards against.
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "on: issues\npermissions: {}\njobs:\n  x:\n    runs-on: ubuntu-latest\n    timeout-minutes: 5\n"
        '    steps:\n      - run: echo "${{ github.event.issue.title }}"\n'
    )
    assert "template-injection" in {f["ident"] for f in zizmor(bad)}


# --- least privilege, pins, timeouts, schedules


def test_every_action_is_pinned_by_full_sha_with_its_version() -> None:
    for path in ALL_FILES:
        uses = [s["uses"] for s in steps_of(path) if "uses" in s]
        assert uses, path.name
        for ref in uses:
            assert SHA_PIN.match(ref), f"{path.name}: {ref} is not pinned by a full commit SHA"
        text = path.read_text(encoding="utf-8")
        for line in (ln for ln in text.splitlines() if "uses:" in ln and not ln.lstrip().startswith("#")):
            assert re.search(r"@[0-9a-f]{40} # v\d+\.\d+\.\d+$", line), (
                f"{path.name}: no # vX.Y.Z on {line.strip()}"
            )


def test_checkouts_do_not_keep_credentials() -> None:
    for path in WORKFLOWS:
        for step in steps_of(path):
            if str(step.get("uses", "")).startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False, path.name


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_every_job_has_a_short_timeout(path: Path) -> None:
    for name, job in load(path)["jobs"].items():
        assert "timeout-minutes" in job, f"{path.name}: job {name} has no timeout-minutes"
        assert 0 < job["timeout-minutes"] <= 60


def test_ci_runs_the_readme_command_with_read_only_permissions() -> None:
    doc = load(CI)
    assert set(doc["on"]) == {"push", "pull_request"}
    assert doc["permissions"] == {"contents": "read"}
    assert all("permissions" not in job for job in doc["jobs"].values())
    runs = [s["run"] for s in steps_of(CI) if "run" in s]
    assert runs == ["bash .ci/run"]


def test_scheduled_workflow_is_least_privilege_and_never_overlaps() -> None:
    doc = load(SCHEDULED)
    assert doc["permissions"] == {}
    assert "workflow_dispatch" in doc["on"]
    assert doc["concurrency"]["cancel-in-progress"] is False
    jobs = doc["jobs"]
    writers = {name for name, job in jobs.items() if job.get("permissions")}
    for name in writers:
        assert jobs[name]["permissions"] == {"contents": "write"}
        assert any("publish" in str(s.get("run", "")) for s in jobs[name]["steps"]), name
    assert writers
    assert all(job["timeout-minutes"] <= 30 for job in jobs.values())


def test_cron_runs_off_the_hour() -> None:
    crons = [entry["cron"] for entry in load(SCHEDULED)["on"]["schedule"]]
    assert crons
    for line in crons:
        minute = line.split()[0]
        assert minute.isdigit() and int(minute) != 0, f"{line}: pick a minute other than 0"


def test_no_expression_is_expanded_inside_a_script() -> None:
    # Inputs, secrets and contexts reach scripts through env only (zizmor: template-injection).
    for path in ALL_FILES:
        for step in steps_of(path):
            assert "${{" not in str(step.get("run", "")), f"{path.name}: {step.get('name')}"


def test_secrets_reach_only_the_run_step() -> None:
    is_set = re.compile(r"^\$\{\{ secrets\.\w+ != '' \}\}$")  # whether a secret is set, not its value
    for step in steps_of(SCHEDULED):
        secrets = [
            v for v in step.get("env", {}).values() if "secrets." in str(v) and not is_set.match(str(v))
        ]
        if step.get("id") == "run":
            assert set(step["env"]) == {
                "GOOGLE_SCHOLAR_ID",
                "SCHOLAR_STATS_PROXY",
                "SERPAPI_KEY",
                "OPENALEX_API_KEY",
            }
        else:
            assert not secrets, step.get("name")


def test_publish_comes_after_a_successful_run_and_the_report_goes_to_the_summary() -> None:
    steps = steps_of(SCHEDULED)
    names = [s.get("name", "") for s in steps]
    run_index = next(i for i, s in enumerate(steps) if s.get("id") == "run")
    publish = step_named(SCHEDULED, "Publish")
    assert names.index(publish["name"]) > run_index
    assert "success()" in publish["if"] and "steps.run.outcome == 'success'" in publish["if"]
    # `scholar-stats run` appends the change report itself: a step that appended it again
    # would show it twice.
    for path in (SCHEDULED, ACTION):
        for step in steps_of(path):
            assert "GITHUB_STEP_SUMMARY" not in str(step.get("run", "")), f"{path.name}: {step.get('name')}"


def test_action_interface() -> None:
    doc = load(ACTION)
    assert doc["runs"]["using"] == "composite"
    inputs = doc["inputs"]
    for name in (
        "scholar-id",
        "config",
        "branch",
        "data-dir",
        "proxy",
        "python-version",
        "publish",
        "source",
    ):
        assert name in inputs and inputs[name].get("description"), name
    assert inputs["branch"]["default"] == "google-scholar-stats"
    assert inputs["data-dir"]["default"] == ""
    assert doc["outputs"]["data-dir"]["value"] == "${{ steps.folder.outputs.data-dir }}"
    assert inputs["python-version"]["default"] == "3.12"
    assert inputs["publish"]["default"] == "true"
    assert set(doc["outputs"]) == {"changed", "citations", "data-dir"}
    assert doc["outputs"]["changed"]["value"] == "${{ steps.summary.outputs.changed }}"
    install = step_named(ACTION, "Install")
    assert install["env"] == {
        "ACTION_PATH": "${{ github.action_path }}",
        "SITE": "${{ inputs.site }}",
        "CONFIG": "${{ inputs.config }}",
    }
    assert (
        "--require-hashes --no-deps" in install["run"]
        and '"$ACTION_PATH/requirements/action.txt"' in install["run"]
    )
    # pip's cache is keyed on the lock files (tests/test_action_lock.py installs the lock for real).
    cache = step_named(ACTION, "Cache the locked wheels")
    assert cache["with"] == {"path": "${{ steps.lock.outputs.dir }}", "key": "${{ steps.lock.outputs.key }}"}
    assert "requirements/action*.txt" in step_named(ACTION, "Key the install cache")["run"]
    publish = step_named(ACTION, "Publish")
    assert "success()" in publish["if"] and "steps.run.outcome == 'success'" in publish["if"]


# --- the shell steps, run for real
#
# Each `run:` step is executed with bash as GitHub runs it (`bash --noprofile
# --norc -eo pipefail`), its `${{ }}` env values filled from a small context;
# steps that `uses:` an action (checkout, setup-python) and the install step
# are what the test environment already provides.


class Runner:
    def __init__(self, tmp: Path, context: dict[str, str], env: Mapping[str, str], cwd: Path) -> None:
        self.tmp = tmp
        self.context = dict(context)
        self.env = dict(env)
        self.cwd = cwd
        self.count = 0

    def render(self, value: object) -> str:
        def expand(match: re.Match[str]) -> str:
            key = match.group(1)
            assert key in self.context, f"the test context lacks {key}"
            return self.context[key]

        return EXPRESSION.sub(expand, str(value))

    def run(
        self, step: dict[str, Any], extra_env: Mapping[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        self.count += 1
        output = self.tmp / f"github-output-{self.count}"
        output.write_text("")
        script = self.tmp / f"step-{self.count}.sh"
        script.write_text(step["run"])
        env = {**self.env, **(extra_env or {}), "GITHUB_OUTPUT": str(output)}
        env.update({k: self.render(v) for k, v in step.get("env", {}).items()})
        proc = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
            cwd=self.cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if step.get("id"):
            for line in output.read_text().splitlines():
                key, _, value = line.partition("=")
                self.context[f"steps.{step['id']}.outputs.{key}"] = value
            self.context[f"steps.{step['id']}.outcome"] = "success" if proc.returncode == 0 else "failure"
        self.failed = self.failed or proc.returncode != 0
        return proc

    failed = False

    def would_run(self, step: dict[str, Any]) -> bool:
        """The step's ``if:`` as GitHub evaluates it, for the expressions these files use."""
        condition = str(step.get("if", "success()"))
        match = EXPRESSION.fullmatch(condition.strip())
        condition = match.group(1) if match else condition

        def value(found: re.Match[str]) -> str:
            return repr(
                self.context.get(found.group(0), "skipped" if found.group(0).endswith(".outcome") else "")
            )

        python = re.sub(r"\b(?:inputs|steps)\.[\w.-]+", value, condition)
        python = python.replace("success()", f"({not self.failed})").replace("cancelled()", "False")
        python = python.replace("always()", "True").replace("failure()", f"({self.failed})")
        python = re.sub(r"!(?!=)", " not ", python).replace("&&", " and ").replace("||", " or ")
        # Only the repository's own if: expressions reach here.
        return bool(eval(python, {"__builtins__": {}}, {}))

    def run_all(self, steps: list[dict[str, Any]]) -> dict[str, subprocess.CompletedProcess[str] | None]:
        """Run ``steps`` in order, skipping those whose ``if:`` is false (None in the result)."""
        results: dict[str, subprocess.CompletedProcess[str] | None] = {}
        for step in steps:
            ran = self.would_run(step)
            if not ran and step.get("id"):
                self.context[f"steps.{step['id']}.outcome"] = "skipped"
            results[step["name"].split()[0]] = self.run(step) if ran else None
        return results


class PurgeServer:
    def __init__(self) -> None:
        self.paths: list[str] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.paths.append(self.path)
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def purge() -> Iterator[PurgeServer]:
    server = PurgeServer()
    yield server
    server.server.shutdown()
    server.server.server_close()


SID = "wflowAAAAAAJ"


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True).stdout.strip()


@pytest.fixture
def github(tmp_path: Path, replay, purge: PurgeServer) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """A 'GitHub' made of a bare repository (alice/site), the local Scholar and a local CDN purge."""
    server = tmp_path / "server"
    bare = seeded_remote(tmp_path, server / "alice" / "site.git")
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "GITHUB_SERVER_URL": server.as_uri(),
        "GITHUB_REPOSITORY": "alice/site",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
        "SCHOLAR_STATS_BASE_URL": replay.url,
        "SCHOLAR_STATS_JSDELIVR_PURGE_URL": purge.url,
    }
    for var in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL"):
        env.pop(var, None)
    return {"bare": bare, "env": env, "replay": replay, "purge": purge, "tmp": tmp_path}


def fresh_runner(github: dict[str, Any], name: str, context: dict[str, str], *, checkout: bool) -> Runner:
    """A new machine: empty temp folder, a fresh checkout of the repository (or none)."""
    tmp = github["tmp"] / name
    workspace = tmp / "workspace"
    (tmp / "runner-temp").mkdir(parents=True)
    if checkout:
        git(tmp, "clone", "--quiet", str(github["bare"]), str(workspace))
    else:
        workspace.mkdir()
    env = {
        **github["env"],
        "RUNNER_TEMP": str(tmp / "runner-temp"),
        "GITHUB_STEP_SUMMARY": str(tmp / "step-summary.md"),
        "GITHUB_WORKSPACE": str(workspace),
    }
    runner = Runner(tmp, context, env, workspace)
    if "inputs.data-dir" in context:
        # The action's first step, which every other step's DATA_DIR reads; tests that run one
        # step alone start after it.
        proc = runner.run(step_named(ACTION, "Choose"))
        assert proc.returncode == 0, proc.stdout + proc.stderr
    return runner


def branch_log(bare: Path) -> list[list[str]]:
    return [line.split() for line in git(bare, "log", "--format=%H %P", "google-scholar-stats").splitlines()]


def test_scheduled_workflow_on_three_fresh_runners_keeps_history(github: dict[str, Any]) -> None:
    replay, bare = github["replay"], github["bare"]
    job = load(SCHEDULED)["jobs"]["update"]
    context = {
        "github.token": "not-a-real-token",
        "secrets.GOOGLE_SCHOLAR_ID": SID,
        "secrets.SCHOLAR_STATS_PROXY": "",
        "secrets.SERPAPI_KEY": "",
        "secrets.OPENALEX_API_KEY": "",
    }
    steps = [s for s in job["steps"] if "run" in s and not s["name"].startswith("Install")]
    assert [s["name"].split()[0] for s in steps] == ["Skip", "Restore", "Fetch", "Publish"]
    context["secrets.GOOGLE_SCHOLAR_ID != ''"] = "true"

    def one_day(name: str) -> None:
        runner = fresh_runner(github, name, context, checkout=True)
        for step in steps:
            proc = runner.run(step, job["env"])
            assert proc.returncode == 0, f"{step['name']}: {proc.stdout}{proc.stderr}"
        assert runner.context["steps.run.outputs.exit-code"] == "0"
        summary = Path(runner.env["GITHUB_STEP_SUMMARY"]).read_text(encoding="utf-8")
        assert SID in summary
        assert summary.count("# Citation report") == 1, summary  # `run` writes it, nothing else

    replay.add_profile(SID, 30, citations=500)
    one_day("day1")
    assert len(branch_log(bare)) == 1
    published = json.loads(git(bare, "show", "google-scholar-stats:gs_data.json"))
    assert published["citedby"] == 500

    one_day("day2")  # nothing new on Scholar: no commit
    assert len(branch_log(bare)) == 1

    replay.add_profile(SID, 30, citations=520)
    one_day("day3")
    log = branch_log(bare)
    assert len(log) == 2 and log[0][1] == log[1][0]
    files = git(bare, "ls-tree", "-r", "--name-only", "google-scholar-stats").splitlines()
    assert len([f for f in files if f.startswith(f"{SID}/snapshots/")]) == 2
    assert json.loads(git(bare, "show", "google-scholar-stats:gs_data.json"))["citedby"] == 520
    assert {"gs_data.json", "gs_data_shieldsio.json"} <= set(files)
    # Both publishes that changed something purged the CDN's copies of the root files.
    assert github["purge"].paths.count("/gh/alice/site@google-scholar-stats/gs_data.json") == 2
    # The user's main branch is untouched.
    assert git(bare, "log", "--format=%s", "main") == "homepage"


def test_scheduled_workflow_never_publishes_a_failed_run(github: dict[str, Any]) -> None:
    replay = github["replay"]
    replay.add_profile(SID, 30, citations=500)
    from replay import Captcha

    replay.set_scenario(SID, Captcha())
    job = load(SCHEDULED)["jobs"]["update"]
    runner = fresh_runner(
        github,
        "blocked",
        {
            "secrets.GOOGLE_SCHOLAR_ID": SID,
            "secrets.SCHOLAR_STATS_PROXY": "",
            "secrets.SERPAPI_KEY": "",
            "secrets.OPENALEX_API_KEY": "",
        },
        checkout=True,
    )
    proc = runner.run(step_named(SCHEDULED, "Fetch"), job["env"])
    assert proc.returncode == 3, proc.stderr
    assert runner.context["steps.run.outputs.exit-code"] == "3"
    # The publish step's condition keeps it from running; nothing reached the remote either way.
    assert "success()" in step_named(SCHEDULED, "Publish")["if"]
    assert git(github["bare"], "branch", "--list", "google-scholar-stats") == ""


NO_SECRETS = {
    "secrets.GOOGLE_SCHOLAR_ID": "",
    "secrets.GOOGLE_SCHOLAR_ID != ''": "false",
    "secrets.SCHOLAR_STATS_PROXY": "",
    "secrets.SERPAPI_KEY": "",
    "secrets.OPENALEX_API_KEY": "",
}


def test_scheduled_workflow_without_the_secret_is_skipped_with_a_notice(github: dict[str, Any]) -> None:
    """A fork (or a copy whose owner has not added the secret yet) stays green every day."""
    job = load(SCHEDULED)["jobs"]["update"]
    runner = fresh_runner(github, "nosecret", dict(NO_SECRETS), checkout=True)
    check = step_named(SCHEDULED, "Skip")
    proc = runner.run(check, job["env"])
    assert proc.returncode == 0, proc.stderr
    assert "::notice title=scholar-stats skipped::No GOOGLE_SCHOLAR_ID secret" in proc.stdout
    assert "::error" not in proc.stdout
    assert runner.context["steps.author.outputs.ready"] == "false"
    # Every later step (setup-python, install, restore, fetch, publish) waits for an author.
    steps = job["steps"]
    for step in steps[steps.index(check) + 1 :]:
        assert "steps.author.outputs.ready == 'true'" in step["if"], step["name"]
    # The secret's value never reaches the check: only whether it is set.
    assert check["env"] == {"HAS_SECRET": "${{ secrets.GOOGLE_SCHOLAR_ID != '' }}"}


@pytest.mark.parametrize("how", ["secret", "config"])
def test_scheduled_workflow_runs_with_the_secret_or_a_config(github: dict[str, Any], how: str) -> None:
    job = load(SCHEDULED)["jobs"]["update"]
    context = dict(NO_SECRETS)
    if how == "secret":
        context.update({"secrets.GOOGLE_SCHOLAR_ID": SID, "secrets.GOOGLE_SCHOLAR_ID != ''": "true"})
    runner = fresh_runner(github, f"ready-{how}", context, checkout=True)
    if how == "config":
        (runner.cwd / "scholar-stats.toml").write_text(f'[[authors]]\nid = "{SID}"\n')
    proc = runner.run(step_named(SCHEDULED, "Skip"), job["env"])
    assert proc.returncode == 0 and "::notice" not in proc.stdout
    assert runner.context["steps.author.outputs.ready"] == "true"


def test_scheduled_workflow_fetch_step_still_says_what_to_do_without_an_author(
    github: dict[str, Any],
) -> None:
    job = load(SCHEDULED)["jobs"]["update"]
    runner = fresh_runner(github, "noauthor", dict(NO_SECRETS), checkout=True)
    proc = runner.run(step_named(SCHEDULED, "Fetch"), job["env"])
    assert proc.returncode == 2
    assert "::error title=No author::Add the repository secret GOOGLE_SCHOLAR_ID" in proc.stdout


def action_context(**inputs: str) -> dict[str, str]:
    doc = load(ACTION)
    values = {name: str(spec.get("default", "")) for name, spec in doc["inputs"].items()}
    values["token"] = "not-a-real-token"
    values.update({k.replace("_", "-"): v for k, v in inputs.items()})
    context = {f"inputs.{k}": v for k, v in values.items()}
    context["github.action_path"] = str(ROOT)
    return context


def action_steps() -> list[dict[str, Any]]:
    return [s for s in steps_of(ACTION) if "run" in s and not s["name"].startswith("Install")]


def test_action_without_a_checkout_publishes_and_sets_its_outputs(github: dict[str, Any]) -> None:
    replay, bare = github["replay"], github["bare"]
    replay.add_profile(SID, 30, citations=700)
    runner = fresh_runner(github, "action1", action_context(scholar_id=SID), checkout=False)
    names = []
    for step in action_steps():
        proc = runner.run(step)
        names.append(step["name"])
        assert proc.returncode == 0, f"{step['name']}: {proc.stdout}{proc.stderr}"
        assert "::warning::" not in proc.stdout, f"{step['name']}: {proc.stdout}"
    assert [n.split()[0] for n in names] == [
        "Key",
        "Choose",
        "Restore",
        "Import",
        "Fetch",
        "Read",
        "Publish",
        "Update",
        "Fail",
    ]
    assert runner.context["steps.summary.outputs.changed"] == "true"
    assert runner.context["steps.summary.outputs.citations"] == "700"
    assert json.loads(git(bare, "show", "google-scholar-stats:gs_data.json"))["citedby"] == 700
    assert not (runner.cwd / ".git").exists()  # the workspace was left alone
    summary = Path(runner.env["GITHUB_STEP_SUMMARY"]).read_text(encoding="utf-8")
    assert SID in summary
    assert summary.count("# Citation report") == 1, summary  # `run` writes it, nothing else

    # The next day on another runner: nothing changed, so no commit and changed=false.
    runner = fresh_runner(github, "action2", action_context(scholar_id=SID), checkout=False)
    for step in action_steps():
        runner.run(step)
    assert runner.context["steps.summary.outputs.changed"] == "false"
    assert runner.context["steps.summary.outputs.citations"] == "700"
    assert len(branch_log(bare)) == 1


def test_action_branch_input_never_overwrites_the_sites_branch(github: dict[str, Any]) -> None:
    """``branch: main`` by mistake: the restore step refuses, and so would the publish step."""
    replay, bare = github["replay"], github["bare"]
    replay.add_profile(SID, 30, citations=700)
    main_before = git(bare, "rev-parse", "main")
    runner = fresh_runner(
        github, "wrong-branch", action_context(scholar_id=SID, branch="main"), checkout=False
    )
    restore_step, fetch_step, publish_step = (
        step_named(ACTION, name) for name in ("Restore", "Fetch", "Publish")
    )
    proc = runner.run(restore_step)
    assert proc.returncode == 9
    assert "not a data branch" in proc.stderr
    assert runner.run(fetch_step).returncode == 0
    proc = runner.run(publish_step)
    assert proc.returncode == 9
    assert "not a data branch" in proc.stderr
    assert git(bare, "rev-parse", "main") == main_before
    assert git(bare, "show", "main:index.md") == "# Alice"


def write_fake_cli(folder: Path, exit_code: int) -> Path:
    """A stand-in `scholar-stats` that records its arguments and exits with ``exit_code``."""
    folder.mkdir(parents=True, exist_ok=True)
    fake = folder / "scholar-stats"
    fake.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > "{folder}/args"\nexit {exit_code}\n')
    fake.chmod(0o755)
    return folder


# 3 (blocked) goes through too: the Fail step decides from the summary (tests below).
@pytest.mark.parametrize(("code", "step_exit"), [(0, 0), (7, 0), (3, 0), (6, 6), (1, 1)])
def test_action_run_step_lets_only_success_and_fallback_through(
    github: dict[str, Any], code: int, step_exit: int
) -> None:
    runner = fresh_runner(
        github, f"fake{code}", action_context(scholar_id=SID, source="scholar, serpapi"), checkout=False
    )
    fake = write_fake_cli(runner.tmp / "fakebin", code)
    proc = runner.run(step_named(ACTION, "Fetch"), {"PATH": f"{fake}{os.pathsep}{os.environ['PATH']}"})
    assert proc.returncode == step_exit
    assert runner.context["steps.run.outputs.exit-code"] == str(code)
    args = (fake / "args").read_text().splitlines()
    assert args[:3] == [
        "run",
        "--data-dir",
        str(Path(runner.env["RUNNER_TEMP"]).resolve() / "scholar-stats-data"),
    ]
    assert args[-6:] == ["--author", SID, "--source", "scholar", "--source", "serpapi"]


def test_action_summary_step_reads_the_run_summary(github: dict[str, Any]) -> None:
    runner = fresh_runner(github, "summary", action_context(), checkout=False)
    summary = {
        "exit_code": 0,
        "changed": True,
        "authors": [
            {"scholar_id": SID, "status": "unchanged", "changed": False, "citations": 1234, "reason": None},
            {
                "scholar_id": "otherAAAAAAJ",
                "status": "updated",
                "changed": True,
                "citations": None,
                "reason": None,
            },
        ],
    }
    Path(runner.env["RUNNER_TEMP"], "scholar-stats-summary.json").write_text(json.dumps(summary))
    proc = runner.run(step_named(ACTION, "Read"))
    assert proc.returncode == 0, proc.stderr
    assert runner.context["steps.summary.outputs.changed"] == "true"
    assert runner.context["steps.summary.outputs.citations"] == "1234"


# --- al-folio's _data/citations.yml in the site's own branch


def al_folio_site(github: dict[str, Any]) -> Path:
    """Turn alice/site into an al-folio site: the Scholar ID in _data/socials.yml,
    a stale _data/citations.yml as al-folio's own updater left it."""
    seed: Path = github["tmp"] / "seed"
    (seed / "_data").mkdir(exist_ok=True)
    (seed / "_data" / "socials.yml").write_text(f"scholar_userid: {SID}\n", encoding="utf-8")
    (seed / "_data" / "citations.yml").write_text(
        f"metadata:\n  last_updated: '2025-01-01'\npapers:\n  {SID}:oldPaperId1:\n    citations: 3\n"
        "    title: A paper Scholar merged away\n    year: '2019'\n",
        encoding="utf-8",
    )
    git(seed, "add", "_data")
    git(
        seed,
        "-c",
        "user.name=A",
        "-c",
        "user.email=a@example.org",
        "commit",
        "--quiet",
        "-m",
        "al-folio data",
    )
    git(seed, "push", "--quiet", "origin", "HEAD:main")
    return seed


def run_action_day(github: dict[str, Any], name: str, **inputs: str) -> Runner:
    runner = fresh_runner(github, name, action_context(scholar_id=SID, **inputs), checkout=False)
    runner.env["GITHUB_REF_NAME"] = "main"
    for step in action_steps():
        proc = runner.run(step)
        assert proc.returncode == 0, f"{step['name']}: {proc.stdout}{proc.stderr}"
    return runner


def test_action_keeps_al_folios_citations_file_in_the_site_branch(github: dict[str, Any]) -> None:
    from ruamel.yaml import YAML as _YAML

    replay, bare = github["replay"], github["bare"]
    al_folio_site(github)
    profile = replay.add_profile(SID, 12, citations=425)
    main_before = git(bare, "rev-parse", "main")

    run_action_day(github, "alfolio1", al_folio_citations="true")
    log = git(bare, "log", "--format=%H %P%n%s%n%b%x00", "main").split("\x00")
    head = log[0].strip().splitlines()
    assert head[0].split()[1] == main_before  # one commit on top of the site's tip
    assert head[1] == "Update Google Scholar citations in _data/citations.yml"
    assert "12 papers added" in "\n".join(head) and "1 paper removed" in "\n".join(head)
    assert git(bare, "diff", "--name-only", main_before, "main").splitlines() == ["_data/citations.yml"]
    doc = _YAML(typ="safe").load(git(bare, "show", "main:_data/citations.yml"))
    counts = {k.split(":")[1]: v["citations"] for k, v in doc["papers"].items()}
    assert counts == {p.author_pub_id.split(":")[1]: p.citations for p in profile.publications}
    assert sum(counts.values()) == 425
    # The data branch was published as usual, and nothing else of the site changed.
    assert json.loads(git(bare, "show", "google-scholar-stats:gs_data.json"))["citedby"] == 425
    assert git(bare, "show", "main:index.md") == "# Alice"

    # Nothing new on Scholar: no commit on the site's branch.
    after_first = git(bare, "rev-parse", "main")
    run_action_day(github, "alfolio2", al_folio_citations="true")
    assert git(bare, "rev-parse", "main") == after_first

    # Off (the default): the site's branch is never written.
    replay.add_profile(SID, 12, citations=440)
    run_action_day(github, "alfolio3")
    assert git(bare, "rev-parse", "main") == after_first


def test_action_al_folio_commit_replays_onto_a_tip_that_moved(github: dict[str, Any]) -> None:
    replay, bare = github["replay"], github["bare"]
    al_folio_site(github)
    replay.add_profile(SID, 5, citations=50)
    # The first push is refused, as when someone pushed to main in between.
    marker = github["tmp"] / "refused-once"
    hook = bare / "hooks" / "pre-receive"
    hook.write_text(
        "#!/bin/sh\nwhile read old new ref; do\n"
        f'  if [ "$ref" = refs/heads/main ] && [ ! -e "{marker}" ]; then\n'
        f'    touch "{marker}"; echo "main moved" >&2; exit 1\n  fi\ndone\nexit 0\n'
    )
    hook.chmod(0o755)
    runner = run_action_day(github, "alfolio-race", al_folio_citations="true")
    assert marker.exists()
    assert "citations.yml" in git(bare, "diff", "--name-only", "main~1", "main")
    del runner


def test_action_al_folio_refuses_a_branch_name_that_is_an_option(github: dict[str, Any]) -> None:
    replay = github["replay"]
    al_folio_site(github)
    replay.add_profile(SID, 5, citations=50)
    runner = fresh_runner(
        github,
        "alfolio-bad",
        action_context(scholar_id=SID, al_folio_citations="true", site_branch="--upload-pack=touch x"),
        checkout=False,
    )
    step = step_named(ACTION, "Update al-folio")
    proc = runner.run(step)
    assert proc.returncode == 2
    assert "::error title=al-folio citations::site-branch" in proc.stdout
    assert not (runner.cwd / "x").exists()


# --- a blocked day is a warning, a blocked week is an error


def test_action_blocked_day_is_a_warning_and_publishes_the_kept_numbers(github: dict[str, Any]) -> None:
    replay, bare = github["replay"], github["bare"]
    replay.add_profile(SID, 30, citations=700)
    runner = fresh_runner(github, "sunny", action_context(scholar_id=SID), checkout=False)
    for step in action_steps():
        assert runner.run(step).returncode == 0, step["name"]
    before = json.loads(git(bare, "show", "google-scholar-stats:gs_data.json"))

    from replay import Captcha

    replay.set_scenario(SID, Captcha())
    runner = fresh_runner(github, "blocked", action_context(scholar_id=SID), checkout=False)
    outputs = {}
    for step in action_steps():
        proc = runner.run(step)
        outputs[step["name"].split()[0]] = proc
        assert proc.returncode == 0, f"{step['name']}: {proc.stdout}{proc.stderr}"
    fetch = outputs["Fetch"].stdout
    assert "::warning title=Google Scholar blocked this runner::Blocked since " in fetch
    assert "(0 of 3 days allowed); the homepage keeps Google Scholar's numbers of " in fetch
    # The author's own one-line reason, worded for the action: its proxy: input, not the CLI's --proxy.
    reason = next(
        line for line in fetch.splitlines() if line.startswith(f"::warning title=scholar-stats%3A {SID}::")
    )
    assert "CAPTCHA" in reason or "captcha" in reason.lower(), reason
    assert "the action's proxy: input" in reason and "--proxy" not in fetch
    assert runner.context["steps.run.outputs.exit-code"] == "3"
    assert runner.context["steps.run.outputs.blocked-too-long"] == "false"
    assert "::error" not in outputs["Fail"].stdout
    # Published: the same numbers, marked stale, so the homepage can say how old they are.
    after = json.loads(git(bare, "show", "google-scholar-stats:gs_data.json"))
    assert after["citedby"] == 700 and after["publications"] == before["publications"]
    assert after["stale_since"] == runner.context["steps.run.outputs.stale-since"]


def test_action_blocked_past_the_limit_fails_with_an_error_after_publishing(github: dict[str, Any]) -> None:
    replay, bare = github["replay"], github["bare"]
    replay.add_profile(SID, 30, citations=700)
    runner = fresh_runner(github, "sunny", action_context(scholar_id=SID), checkout=False)
    for step in action_steps():
        runner.run(step)
    from replay import Captcha

    replay.set_scenario(SID, Captcha())
    runner = fresh_runner(
        github, "week", action_context(scholar_id=SID, fail_after_stale_days="0"), checkout=False
    )
    results = {step["name"].split()[0]: runner.run(step) for step in action_steps()}
    assert results["Fetch"].returncode == 0 and results["Publish"].returncode == 0
    assert "::warning" not in results["Fetch"].stdout
    fail = results["Fail"]
    assert fail.returncode == 3
    since = runner.context["steps.run.outputs.stale-since"]
    assert (
        f"::error title=Google Scholar has blocked this runner for 0 days::Blocked since {since}"
        in fail.stdout
    )
    assert "Try: a fallback source" in fail.stdout and "bookmarklet" in fail.stdout
    assert json.loads(git(bare, "show", "google-scholar-stats:gs_data.json"))["stale_since"] == since


def write_fake_blocked_cli(folder: Path, authors: list[dict[str, Any]]) -> Path:
    """A stand-in `scholar-stats` that writes ``authors`` as its --summary and exits 3."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "summary.json").write_text(json.dumps({"exit_code": 3, "authors": authors}))
    fake = folder / "scholar-stats"
    fake.write_text(
        '#!/bin/sh\nwhile [ $# -gt 0 ]; do if [ "$1" = --summary ]; then cp "'
        + str(folder / "summary.json")
        + '" "$2"; fi; shift; done\nexit 3\n'
    )
    fake.chmod(0o755)
    return folder


def kept(days: float, status: str = "kept") -> dict[str, Any]:
    return {
        "scholar_id": SID,
        "status": status,
        "exit_code": 3,
        "shown": "kept" if status == "kept" else None,
        "stale_since": "2026-11-20T06:17:00Z",
        "stale_days": days,
        "scholar_as_of": "2026-11-19T06:17:40Z",
    }


@pytest.mark.parametrize(
    ("authors", "limit", "too_long"),
    [
        ([kept(2.99)], "3", "false"),
        ([kept(3.0)], "3", "true"),
        ([kept(0.5), kept(6.5)], "7", "false"),
        ([kept(0.5), kept(7)], "7", "true"),
        ([kept(0.0, status="failed")], "3", "true"),  # nothing kept: nothing to wait for
        ([], "3", "true"),  # no summary worth the name
    ],
)
def test_action_counts_the_days_of_a_block(
    github: dict[str, Any], authors: list[dict[str, Any]], limit: str, too_long: str
) -> None:
    runner = fresh_runner(
        github, "days", action_context(scholar_id=SID, fail_after_stale_days=limit), checkout=False
    )
    fake = write_fake_blocked_cli(runner.tmp / "fakebin", authors)
    proc = runner.run(step_named(ACTION, "Fetch"), {"PATH": f"{fake}{os.pathsep}{os.environ['PATH']}"})
    assert proc.returncode == 0, proc.stderr
    assert runner.context["steps.run.outputs.blocked-too-long"] == too_long
    assert ("::warning title=Google Scholar blocked this runner::" in proc.stdout) == (too_long == "false")
    fail = runner.run(step_named(ACTION, "Fail"))
    assert fail.returncode == (3 if too_long == "true" else 0)
    if authors and too_long == "true" and authors[0]["status"] == "kept":
        assert "Blocked since 2026-11-20T06:17:00Z" in fail.stdout
        assert "the homepage shows Google Scholar's numbers of 2026-11-19" in fail.stdout


@pytest.mark.parametrize("value", ["abc", "-1", "3; rm -rf /", ""])
def test_action_refuses_a_bad_day_count(github: dict[str, Any], value: str) -> None:
    runner = fresh_runner(
        github, "bad", action_context(scholar_id=SID, fail_after_stale_days=value), checkout=False
    )
    fake = write_fake_cli(runner.tmp / "fakebin", 0)
    proc = runner.run(step_named(ACTION, "Fetch"), {"PATH": f"{fake}{os.pathsep}{os.environ['PATH']}"})
    assert proc.returncode == 2
    assert "::error title=Bad input::fail-after-stale-days must be a number of days" in proc.stdout
    assert not (fake / "args").exists()


def test_action_passes_on_block_through(github: dict[str, Any]) -> None:
    runner = fresh_runner(github, "policy", action_context(scholar_id=SID, on_block="bridge"), checkout=False)
    fake = write_fake_cli(runner.tmp / "fakebin", 0)
    runner.run(step_named(ACTION, "Fetch"), {"PATH": f"{fake}{os.pathsep}{os.environ['PATH']}"})
    args = (fake / "args").read_text().splitlines()
    assert args[args.index("--on-block") + 1] == "bridge"


# --- OpenAlex as the fallback: its ID comes with the inputs


@pytest.mark.parametrize(
    ("value", "key", "expected"),
    [
        ("A5023888391", "openalex", "A5023888391"),
        (" https://openalex.org/A5023888391 ", "openalex", "https://openalex.org/A5023888391"),
        ("0000-0001-6187-6610", "orcid", "0000-0001-6187-6610"),
        ("https://orcid.org/0000-0002-1825-009X", "orcid", "https://orcid.org/0000-0002-1825-009X"),
    ],
)
def test_action_openalex_id_input_gives_openalex_the_authors_id(
    github: dict[str, Any], value: str, key: str, expected: str
) -> None:
    from crawler.config import read_config_file
    from crawler.sources.openalex import author_key

    runner = fresh_runner(
        github, "openalex", action_context(scholar_id=SID, openalex_id=value), checkout=False
    )
    fake = write_fake_cli(runner.tmp / "fakebin", 0)
    proc = runner.run(step_named(ACTION, "Fetch"), {"PATH": f"{fake}{os.pathsep}{os.environ['PATH']}"})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    args = (fake / "args").read_text().splitlines()
    written = Path(args[args.index("--config") + 1])
    assert written.parent == Path(runner.env["RUNNER_TEMP"])
    # No source input: the chain is Scholar, then OpenAlex.
    assert args[-6:] == ["--author", SID, "--source", "scholar", "--source", "openalex"]
    # The file is what scholar-stats reads, with the ID where the OpenAlex source looks for it.
    author = read_config_file(written).authors[0]
    assert author.scholar_id == SID and author.ids == {key: expected}
    assert author_key(author) in ("A5023888391", "orcid:0000-0001-6187-6610", "orcid:0000-0002-1825-009X")


def test_action_openalex_id_input_keeps_quotes_as_text(github: dict[str, Any]) -> None:
    runner = fresh_runner(
        github,
        "openalex-bad",
        action_context(scholar_id=SID, openalex_id='A1"\nsources = ["x"]'),
        checkout=False,
    )
    fake = write_fake_cli(runner.tmp / "fakebin", 0)
    proc = runner.run(step_named(ACTION, "Fetch"), {"PATH": f"{fake}{os.pathsep}{os.environ['PATH']}"})
    assert proc.returncode == 2
    assert "::error title=Bad input::openalex-id must be an OpenAlex author ID" in proc.stdout
    assert not (fake / "args").exists()


@pytest.mark.parametrize("source", ["scholar,openalex", "openalex", "scholar, openalex ,serpapi"])
def test_action_refuses_openalex_without_its_id_on_day_one(github: dict[str, Any], source: str) -> None:
    """Not on the first blocked day, weeks later: the first run says what is missing."""
    runner = fresh_runner(
        github, "openalex-missing", action_context(scholar_id=SID, source=source), checkout=False
    )
    fake = write_fake_cli(runner.tmp / "fakebin", 0)
    proc = runner.run(step_named(ACTION, "Fetch"), {"PATH": f"{fake}{os.pathsep}{os.environ['PATH']}"})
    assert proc.returncode == 2
    assert (
        "::error title=Bad input::A source chain with openalex needs the author's OpenAlex ID: "
        "set the openalex-id input" in proc.stdout
    )
    assert not (fake / "args").exists()


def test_action_openalex_id_with_a_config_is_refused(github: dict[str, Any]) -> None:
    runner = fresh_runner(
        github,
        "openalex-config",
        action_context(config="scholar-stats.toml", openalex_id="A5023888391"),
        checkout=False,
    )
    fake = write_fake_cli(runner.tmp / "fakebin", 0)
    proc = runner.run(step_named(ACTION, "Fetch"), {"PATH": f"{fake}{os.pathsep}{os.environ['PATH']}"})
    assert proc.returncode == 2
    assert "openalex-id is for a single scholar-id" in proc.stdout


# --- publish: false still starts from the published history


def test_action_without_publishing_still_restores_the_history_first(github: dict[str, Any]) -> None:
    replay, bare = github["replay"], github["bare"]
    replay.add_profile(SID, 30, citations=700)
    run_action_day(github, "published")
    tip = git(bare, "rev-parse", "google-scholar-stats")

    # Nothing new on Scholar: a dry run on a fresh runner sees the same numbers as the last snapshot.
    runner = fresh_runner(github, "dry1", action_context(scholar_id=SID, publish="false"), checkout=False)
    results = runner.run_all(action_steps())
    assert results["Publish"] is None
    assert all(proc is None or proc.returncode == 0 for proc in results.values()), results
    assert runner.context["steps.summary.outputs.changed"] == "false"
    assert runner.context["steps.summary.outputs.citations"] == "700"

    # A sharp drop is refused by the guard against the restored history, not taken as a first fetch.
    replay.add_profile(SID, 30, citations=70)
    runner = fresh_runner(github, "dry2", action_context(scholar_id=SID, publish="false"), checkout=False)
    results = runner.run_all(action_steps())
    assert results["Restore"] is not None and results["Publish"] is None
    assert runner.context["steps.run.outputs.exit-code"] == "6", results["Fetch"]
    assert runner.context["steps.summary.outputs.changed"] == "false"
    # And nothing was pushed by either dry run.
    assert git(bare, "rev-parse", "google-scholar-stats") == tip


# --- the data folder stays out of the site's own data/


def test_action_leaves_a_sites_own_data_folder_alone(github: dict[str, Any]) -> None:
    """Hugo and Jekyll keep their data in data/; a checked-out site must come out as it went in."""
    replay, bare = github["replay"], github["bare"]
    replay.add_profile(SID, 30, citations=700)
    runner = fresh_runner(github, "hugo", action_context(scholar_id=SID), checkout=True)
    (runner.cwd / "data").mkdir()
    (runner.cwd / "data" / "authors.yaml").write_text("alice: {name: Alice}\n", encoding="utf-8")
    results = runner.run_all(action_steps())
    assert all(proc is None or proc.returncode == 0 for proc in results.values()), results
    assert sorted(p.name for p in (runner.cwd / "data").iterdir()) == ["authors.yaml"]
    assert git(runner.cwd, "status", "--porcelain", "--untracked-files=all") == "?? data/authors.yaml"
    folder = Path(runner.context["steps.folder.outputs.data-dir"])
    assert folder == Path(runner.env["RUNNER_TEMP"]).resolve() / "scholar-stats-data"
    assert (folder / SID).is_dir()
    assert json.loads(git(bare, "show", "google-scholar-stats:gs_data.json"))["citedby"] == 700


def test_action_data_dir_input_still_chooses_the_folder(github: dict[str, Any]) -> None:
    replay, bare = github["replay"], github["bare"]
    replay.add_profile(SID, 30, citations=700)
    runner = fresh_runner(
        github, "chosen", action_context(scholar_id=SID, data_dir="numbers"), checkout=False
    )
    results = runner.run_all(action_steps())
    assert all(proc is None or proc.returncode == 0 for proc in results.values()), results
    assert runner.context["steps.folder.outputs.data-dir"] == str((runner.cwd / "numbers").resolve())
    assert (runner.cwd / "numbers" / SID).is_dir()
    assert json.loads(git(bare, "show", "google-scholar-stats:gs_data.json"))["citedby"] == 700


@pytest.mark.parametrize("value", [".", "/", "./", "a\nb"])
def test_action_data_dir_must_be_a_folder_of_its_own(github: dict[str, Any], value: str) -> None:
    runner = fresh_runner(
        github, "own", {**action_context(scholar_id=SID), "inputs.data-dir": ""}, checkout=False
    )
    runner.context["inputs.data-dir"] = value
    proc = runner.run(step_named(ACTION, "Choose"))
    assert proc.returncode == 2
    assert "::error title=Bad input::data-dir must be" in proc.stdout


# --- a failed run says why on the job's page


def test_action_failed_run_is_an_error_annotation_with_the_reason(github: dict[str, Any]) -> None:
    from replay import NotFoundPage

    replay = github["replay"]
    replay.add_profile(SID, 3, citations=10)
    replay.set_scenario(SID, NotFoundPage())
    runner = fresh_runner(github, "notfound", action_context(scholar_id=SID), checkout=False)
    results = runner.run_all(action_steps())
    fetch = results["Fetch"]
    assert fetch is not None and fetch.returncode == 4, fetch
    errors = [line for line in fetch.stdout.splitlines() if line.startswith("::error")]
    assert len(errors) == 1 and errors[0].startswith(f"::error title=scholar-stats%3A {SID}::"), fetch.stdout
    assert "no Google Scholar profile with ID" in errors[0] and "HTTP 404" in errors[0]
    assert results["Publish"] is None  # a failed run publishes nothing
    # stderr still reaches the log as it did.
    assert SID in fetch.stderr


def test_action_bad_config_is_an_error_annotation_with_its_line(github: dict[str, Any]) -> None:
    runner = fresh_runner(github, "badconfig", action_context(config="scholar-stats.toml"), checkout=True)
    (runner.cwd / "scholar-stats.toml").write_text(f'[[authors]]\nid = "{SID}"\nsorces = ["scholar"]\n')
    proc = runner.run(step_named(ACTION, "Fetch"))
    assert proc.returncode == 2
    assert "::error title=scholar-stats run failed::scholar-stats.toml" in proc.stdout
    assert "sorces" in proc.stdout and "error: " in proc.stderr


# --- two runs of the action at once


def test_two_overlapping_action_runs_both_land_in_a_straight_history(github: dict[str, Any]) -> None:
    """A scheduled run and a manual one overlap: both restore the same tip, the second to publish replays."""
    import time

    replay, bare = github["replay"], github["bare"]
    replay.add_profile(SID, 30, citations=700)
    run_action_day(github, "day0")
    first, second = (
        fresh_runner(github, name, action_context(scholar_id=SID), checkout=False) for name in ("one", "two")
    )
    before_publish = [
        s for s in action_steps() if s["name"].split()[0] in ("Choose", "Restore", "Fetch", "Read")
    ]
    replay.add_profile(SID, 30, citations=710)
    assert all(p is None or p.returncode == 0 for p in first.run_all(before_publish).values())
    time.sleep(1.1)  # snapshot names carry the second
    replay.add_profile(SID, 30, citations=720)
    assert all(p is None or p.returncode == 0 for p in second.run_all(before_publish).values())
    for runner in (first, second):
        proc = runner.run(step_named(ACTION, "Publish"))
        assert proc.returncode == 0, proc.stdout + proc.stderr
    log = branch_log(bare)
    assert len(log) == 3 and all(len(c) == 2 for c in log[:-1]) and len(log[-1]) == 1
    assert [c[1] for c in log[:-1]] == [c[0] for c in log[1:]]  # linear: each on the previous
    files = git(bare, "ls-tree", "-r", "--name-only", "google-scholar-stats").splitlines()
    assert len([f for f in files if f.startswith(f"{SID}/snapshots/")]) == 3
    assert json.loads(git(bare, "show", "google-scholar-stats:gs_data.json"))["citedby"] == 720


# --- an AcadHomepage site's old branch becomes the first snapshots


def acadhomepage_branch(github: dict[str, Any], versions: list[int]) -> str:
    """The old crawler's google-scholar-stats branch: gs_data.json as AcadHomepage commits it."""
    from test_backfill import SID as OLD_SID
    from test_backfill import acad

    old = github["tmp"] / "old-crawler"
    git(github["tmp"], "init", "--quiet", "-b", "google-scholar-stats", str(old))
    for index, total in enumerate(versions):
        (old / "gs_data.json").write_text(
            json.dumps(acad(total, {"x": total - 20, "yy": 15, "z": 5})), encoding="utf-8"
        )
        (old / "gs_data_shieldsio.json").write_text(
            json.dumps({"schemaVersion": 1, "label": "citations", "message": str(total)})
        )
        git(old, "add", "-A")
        when = f"2024-01-0{index + 1}T06:00:00Z"  # import-git dates each version by its commit time
        subprocess.run(
            [
                "git",
                "-c",
                "user.name=github-actions",
                "-c",
                "user.email=a@example.org",
                "commit",
                "--quiet",
                "-m",
                "Updated Citation & Stars Badge",
            ],
            cwd=old,
            check=True,
            capture_output=True,
            env={**os.environ, "GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when},
        )
    git(old, "push", "--quiet", str(github["bare"]), "google-scholar-stats")
    return OLD_SID


def test_action_imports_the_old_branchs_history_on_the_first_run_only(github: dict[str, Any]) -> None:
    replay, bare = github["replay"], github["bare"]
    sid = acadhomepage_branch(github, [100, 110])
    replay.add_profile(sid, 3, citations=120)
    runner = fresh_runner(github, "first", action_context(scholar_id=sid, import_git="true"), checkout=False)
    results = runner.run_all(action_steps())
    assert all(p is None or p.returncode == 0 for p in results.values()), results
    assert "2 versions: imported 2" in (results["Import"] or pytest.fail("no import step")).stderr
    files = git(bare, "ls-tree", "-r", "--name-only", "google-scholar-stats").splitlines()
    snapshots = sorted(f for f in files if f.startswith(f"{sid}/snapshots/"))
    assert len(snapshots) == 3 and snapshots[0].endswith("20240101T060000Z.json")
    assert json.loads(git(bare, "show", "google-scholar-stats:gs_data.json"))["citedby"] == 120
    # The old commits stay under the new one.
    assert (
        git(bare, "log", "--format=%s", "google-scholar-stats").splitlines()[1:]
        == ["Updated Citation & Stars Badge"] * 2
    )

    # The next day the folder restored from the branch has snapshots: nothing is imported again.
    runner = fresh_runner(github, "second", action_context(scholar_id=sid, import_git="true"), checkout=False)
    results = runner.run_all(action_steps())
    assert (
        "already has snapshots: nothing to import"
        in (results["Import"] or pytest.fail("no import step")).stdout
    )


def test_action_import_without_an_old_branch_or_an_id_does_not_stop_the_run(github: dict[str, Any]) -> None:
    replay = github["replay"]
    replay.add_profile(SID, 3, citations=50)
    runner = fresh_runner(
        github, "noid", action_context(config="scholar-stats.toml", import_git="true"), checkout=False
    )
    runner.run(step_named(ACTION, "Restore"))
    proc = runner.run(step_named(ACTION, "Import"))
    assert (
        proc.returncode == 0
        and "::warning title=import-git::import-git needs the scholar-id input" in proc.stdout
    )
    runner = fresh_runner(
        github, "nobranch", action_context(scholar_id=SID, import_git="true"), checkout=False
    )
    results = runner.run_all(action_steps())
    assert all(p is None or p.returncode == 0 for p in results.values()), results
    assert (
        "No branch google-scholar-stats yet: nothing to import."
        in (results["Import"] or pytest.fail("skipped")).stdout
    )


# --- a real drop (papers merged or removed on Scholar) can be accepted from the workflow


@pytest.mark.parametrize(("value", "passed"), [("true", True), ("false", False), ("", False)])
def test_action_passes_accept_drop_through(github: dict[str, Any], value: str, passed: bool) -> None:
    runner = fresh_runner(github, "drop", action_context(scholar_id=SID, accept_drop=value), checkout=False)
    fake = write_fake_cli(runner.tmp / "fakebin", 0)
    proc = runner.run(step_named(ACTION, "Fetch"), {"PATH": f"{fake}{os.pathsep}{os.environ['PATH']}"})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert ("--accept-drop" in (fake / "args").read_text().splitlines()) is passed


def test_action_refuses_an_accept_drop_that_is_not_a_boolean(github: dict[str, Any]) -> None:
    runner = fresh_runner(github, "drop", action_context(scholar_id=SID, accept_drop="yes"), checkout=False)
    fake = write_fake_cli(runner.tmp / "fakebin", 0)
    proc = runner.run(step_named(ACTION, "Fetch"), {"PATH": f"{fake}{os.pathsep}{os.environ['PATH']}"})
    assert proc.returncode == 2
    assert '::error title=Bad input::accept-drop must be "true" or "false"' in proc.stdout
    assert not (fake / "args").exists()


def test_action_guard_refusal_names_the_accept_drop_input(github: dict[str, Any]) -> None:
    replay, bare = github["replay"], github["bare"]
    replay.add_profile(SID, 30, citations=700)
    runner = fresh_runner(github, "sunny", action_context(scholar_id=SID), checkout=False)
    for step in action_steps():
        assert runner.run(step).returncode == 0, step["name"]
    replay.add_profile(SID, 30, citations=500)  # papers merged on Scholar: a real drop
    runner = fresh_runner(github, "drop", action_context(scholar_id=SID), checkout=False)
    for step in action_steps():
        if step["name"].startswith("Fetch"):
            break
        assert runner.run(step).returncode == 0, step["name"]
    fetch = runner.run(step_named(ACTION, "Fetch"))
    assert fetch.returncode == 6
    said = fetch.stdout + fetch.stderr
    assert "--accept-drop" not in said, said
    assert "accept-drop: true" in said and "::error title=scholar-stats%3A" in fetch.stdout
    # With the input, the same run takes the new numbers.
    runner = fresh_runner(
        github, "accepted", action_context(scholar_id=SID, accept_drop="true"), checkout=False
    )
    for step in action_steps():
        proc = runner.run(step)
        assert proc.returncode == 0, f"{step['name']}: {proc.stdout}{proc.stderr}"
    assert json.loads(git(bare, "show", "google-scholar-stats:gs_data.json"))["citedby"] == 500


def test_action_documents_accept_drop_with_the_guard_keys() -> None:
    description = load(ACTION)["inputs"]["accept-drop"]["description"]
    assert "[guard]" in description and "max_citation_drop" in description
    assert load(ACTION)["inputs"]["accept-drop"]["default"] == "false"
    docs = (ROOT / "docs" / "github-actions.md").read_text(encoding="utf-8")
    assert "accept-drop:" in docs and "[guard]" in docs


def test_action_first_run_blocked_says_nothing_was_fetched_names_inputs_and_fails(
    github: dict[str, Any],
) -> None:
    from replay import Captcha

    replay, bare = github["replay"], github["bare"]
    replay.add_profile(SID, 30, citations=700)
    replay.set_scenario(SID, Captcha())
    runner = fresh_runner(github, "dayone", action_context(scholar_id=SID), checkout=False)
    results = {step["name"].split()[0]: runner.run(step) for step in action_steps()}
    fetch, fail = results["Fetch"], results["Fail"]
    assert fetch.returncode == 0, fetch.stdout + fetch.stderr
    said = fetch.stdout + fetch.stderr + fail.stdout
    summary = Path(runner.env["GITHUB_STEP_SUMMARY"]).read_text(encoding="utf-8")
    for text in (said, summary):
        # Nothing was kept: no "0 days", no "numbers of none", no "last good ones".
        assert "of none" not in text and "for 0 days" not in text and "last good" not in text, text
        assert "nothing has been fetched" in text.lower() or "nothing fetched yet" in text.lower(), text
        for advice in ("proxy:", "source: scholar,openalex", "openalex-id:", "self-hosted", "import-git:"):
            assert advice in text, (advice, text)
        assert "bookmarklet" in text
        assert "--proxy" not in text and "--source" not in text and "HTTPS_PROXY" not in text, text
    # The job fails, and says so.
    assert fail.returncode == 3
    assert "::error title=" in fail.stdout and "this job fails" in fail.stdout
    assert results["Publish"].returncode == 0
    assert git(bare, "branch", "--list", "google-scholar-stats") == ""
