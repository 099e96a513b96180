"""The dashboard kept current by `run` (``site = true``) and published on the data branch by the
Action's ``site`` input, against the local Scholar and a bare repository as GitHub."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from replay import ReplayServer
from test_workflows import action_context, action_steps, branch_log, fresh_runner, git, github, purge  # noqa: F401

from crawler.cli import main
from crawler.config import read_config_file
from crawler.errors import ConfigError

SID = "wflowAAAAAAJ"


@pytest.fixture(autouse=True)
def no_proxy(clean_environment: None) -> None:
    """Local servers are reached directly, with no proxy or scholar-stats setting of this machine."""


def test_run_with_site_true_keeps_the_dashboard(replay: ReplayServer, tmp_path: Path) -> None:
    replay.add_profile(SID, 30, citations=700)
    config = tmp_path / "scholar-stats.toml"
    config.write_text(
        f'data_dir = "data"\nsite = true\nsite_title = "The lab"\n\n[[authors]]\nid = "{SID}"\n',
        encoding="utf-8",
    )
    runner = CliRunner()
    args = ["run", "--config", str(config), "--base-url", replay.url, "--delay", "0", "--summary", "-"]
    first = runner.invoke(main, args)
    assert first.exit_code == 0, first.stderr
    site = tmp_path / "data" / "site"
    assert json.loads(first.stdout)["site"] == str(site / "index.html")
    index = (site / "index.html").read_text(encoding="utf-8")
    assert "<title>The lab</title>" in index and 'data-field="citations">700<' in index
    before = {p: p.read_bytes() for p in site.rglob("*") if p.is_file()}
    mtimes = {p: p.stat().st_mtime_ns for p in before}
    # Nothing new: the dashboard is rebuilt to the same bytes, and no file is touched.
    second = runner.invoke(main, args)
    assert second.exit_code == 0
    assert {p: p.stat().st_mtime_ns for p in before} == mtimes
    replay.add_profile(SID, 30, citations=705)
    third = runner.invoke(main, args)
    assert third.exit_code == 0
    assert 'data-field="citations">705<' in (site / "index.html").read_text(encoding="utf-8")


def test_site_keys_are_checked(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('site = "yes"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"c.toml:1: site: must be true or false"):
        read_config_file(config)
    config.write_text("site_title = 3\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"site_title: must be a string"):
        read_config_file(config)
    config.write_text('site = true\nsite_title = "Lab"\n', encoding="utf-8")
    assert read_config_file(config).site is True


def test_action_site_input_puts_the_dashboard_on_the_data_branch(github: dict[str, Any]) -> None:  # noqa: F811
    replay, bare = github["replay"], github["bare"]
    replay.add_profile(SID, 30, citations=700)
    runner = fresh_runner(github, "site1", action_context(scholar_id=SID, site="true"), checkout=False)
    for step in action_steps():
        proc = runner.run(step)
        assert proc.returncode == 0, f"{step['name']}: {proc.stdout}{proc.stderr}"
    files = git(bare, "ls-tree", "-r", "--name-only", "google-scholar-stats").splitlines()
    assert {
        "site/index.html",
        f"site/{SID}/index.html",
        f"site/{SID}/metrics.csv",
        "site/assets/dashboard.js",
    } <= set(files)
    index = git(bare, "show", "google-scholar-stats:site/index.html")
    assert 'data-field="citations">700<' in index

    # The next run on a fresh runner, nothing new: the restored site is rebuilt identical, no commit.
    runner = fresh_runner(github, "site2", action_context(scholar_id=SID, site="true"), checkout=False)
    for step in action_steps():
        assert runner.run(step).returncode == 0
    assert len(branch_log(bare)) == 1

    # Without the input the dashboard is not built (the default).
    replay.add_profile(SID, 30, citations=710)
    runner = fresh_runner(github, "site3", action_context(scholar_id=SID), checkout=False)
    for step in action_steps():
        assert runner.run(step).returncode == 0
    assert 'data-field="citations">700<' in git(bare, "show", "google-scholar-stats:site/index.html")
