"""The action's annotations: one line per blocked or failed author, escaped, redacted,
worded for the action."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from crawler.errors import Blocked
from crawler.outputs.advice import for_the_action
from crawler.outputs.annotations import (
    annotation,
    escape_data,
    escape_property,
    last_error_line,
    verdict,
)

SID = "annotAAAAAAJ"


def blocked(days: float, *, reason: str | None = None, status: str = "kept") -> dict[str, Any]:
    return {
        "scholar_id": SID,
        "status": status,
        "exit_code": 3,
        "shown": "kept",
        "stale_days": days,
        "stale_since": "2026-11-20T06:17:00Z",
        "scholar_as_of": "2026-11-19T06:17:40Z",
        "reason": reason
        or str(Blocked("Google Scholar answered with a CAPTCHA", kind="captcha", status=429)),
    }


def test_escaping_follows_githubs_workflow_command_rules() -> None:
    assert escape_data("100% done\r\nnext") == "100%25 done%0D%0Anext"
    assert escape_property("a: b, c%\n") == "a%3A b%2C c%25%0A"
    # % first: an escape already in the text is not read as one.
    assert escape_data("%0A") == "%250A"


def test_a_reason_cannot_start_a_command_of_its_own() -> None:
    line = annotation("error", "x, y: z", "bad page\n::add-mask::nothing\r\n::set-output name=a::b 50%")
    assert "\n" not in line and "\r" not in line
    assert line == (
        "::error title=x%2C y%3A z::bad page%0A::add-mask::nothing%0D%0A::set-output name=a::b 50%25"
    )


def test_secrets_are_masked_before_they_reach_the_page() -> None:
    line = annotation(
        "error",
        "proxy http://bob:hunter2@proxy.example:8080",
        "fetch failed via http://bob:hunter2@proxy.example:8080 (https://serpapi.com/search?api_key=sk123456)",
    )
    assert "hunter2" not in line and "sk123456" not in line
    assert "proxy.example" in line


def test_the_command_lines_advice_names_the_actions_input() -> None:
    reason = str(Blocked("Google Scholar answered with a CAPTCHA", kind="captcha"))
    assert "--proxy" in reason  # what the command line says
    worded = for_the_action(reason)
    assert "--proxy" not in worded and "the action's proxy: input" in worded
    assert for_the_action("pass --source openalex or --on-block bridge") == (
        "pass the action's source: input openalex or the action's on-block: input bridge"
    )


def test_a_blocked_day_within_the_limit_is_a_warning_with_the_reason() -> None:
    result = verdict([blocked(1.0)], 3, 3.0)
    assert result.outputs["blocked-too-long"] == "false"
    assert [line.split("::")[1] for line in result.lines] == [
        "warning title=Google Scholar blocked this runner",
        f"warning title=scholar-stats%3A {SID}",
    ]
    assert "CAPTCHA" in result.lines[1] and "the action's proxy: input" in result.lines[1]
    assert not any("--proxy" in line for line in result.lines)


def test_a_block_past_the_limit_is_an_error_with_the_reason() -> None:
    result = verdict([blocked(3.0)], 3, 3.0)
    assert result.outputs["blocked-too-long"] == "true"
    assert [line.split(" ")[0] for line in result.lines] == ["::error"]
    assert "CAPTCHA" in result.lines[0]


@pytest.mark.parametrize("code", [1, 4, 5, 6, 8])
def test_any_other_failure_is_an_error_per_failed_author(code: int) -> None:
    authors = [
        {"scholar_id": SID, "status": "failed", "exit_code": code, "reason": "profile not found (HTTP 404)"},
        {"scholar_id": "fineAAAAAAAJ", "status": "unchanged", "exit_code": 0, "reason": None},
    ]
    result = verdict(authors, code, 3.0)
    assert result.lines == [f"::error title=scholar-stats%3A {SID}::profile not found (HTTP 404)"]
    assert result.outputs == {}


def test_a_failure_without_a_summary_takes_the_error_line_from_stderr() -> None:
    stderr = "fineAAAAAAAJ: updated\nerror: scholar-stats.toml, line 3: unknown key 'sorces'\n"
    assert last_error_line(stderr) == "scholar-stats.toml, line 3: unknown key 'sorces'"
    result = verdict([], 2, 3.0, stderr)
    assert result.lines == [
        "::error title=scholar-stats run failed::scholar-stats.toml, line 3: unknown key 'sorces'"
    ]
    assert "see this step's log" in verdict([], 1, 3.0, "Traceback ...\n").lines[0]


@pytest.mark.parametrize("code", [0, 7])
def test_success_and_fallback_say_nothing(code: int) -> None:
    result = verdict([{"scholar_id": SID, "exit_code": code}], code, 3.0)
    assert result.lines == []
    assert result.outputs["blocked-too-long"] == "false"


def test_the_module_runs_as_the_action_calls_it(tmp_path: Path) -> None:
    summary = tmp_path / "summary.json"
    summary.write_text(json.dumps({"exit_code": 3, "authors": [blocked(0.5, reason="blocked\nby %TEMP%")]}))
    output = tmp_path / "out"
    output.write_text("")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "crawler.outputs.annotations",
            "--summary",
            str(summary),
            "--stderr",
            str(tmp_path / "none"),
            "--exit-code",
            "3",
            "--fail-after",
            "3",
        ],
        capture_output=True,
        text=True,
        env={"GITHUB_OUTPUT": str(output), "PATH": ""},
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[1] == f"::warning title=scholar-stats%3A {SID}::blocked%0Aby %25TEMP%25"
    assert "blocked-too-long=false\nstale-days=0.5\n" in output.read_text()


def test_a_blocked_first_run_fails_and_says_nothing_was_fetched() -> None:
    reason = "Google Scholar answered with its CAPTCHA page; use a proxy (--proxy URL or HTTPS_PROXY)"
    author = {"scholar_id": "wflowAAAAAAJ", "status": "failed", "exit_code": 3, "shown": None}
    result = verdict([{**author, "reason": reason, "stale_days": 0.0}], 3, 3.0)
    assert result.outputs["blocked-too-long"] == "true"
    (line,) = result.lines
    assert line.startswith("::error title=scholar-stats%3A wflowAAAAAAJ%3A nothing fetched yet::")
    fail = result.outputs["fail-annotation"]
    assert "Nothing has been fetched yet for wflowAAAAAAJ" in fail and "this job fails" in fail
    assert "of none" not in fail and "0 days" not in fail and "--proxy" not in fail + line
    assert "proxy: input" in fail and "openalex-id:" in fail and "import-git: true" in fail


def test_a_block_with_an_unreadable_summary_claims_nothing() -> None:
    result = verdict([], 3, 3.0)
    fail = result.outputs["fail-annotation"]
    assert "summary could not be read" in fail and "Nothing has been fetched" not in fail
