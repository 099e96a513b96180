"""Progress bars only on a terminal: plain lines in logs and pipes."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from replay import ReplayServer


def command(replay: ReplayServer, data: Path) -> list[str]:
    return [
        "scholar-stats",
        "run",
        "--author",
        "abcdefghijkl",
        "--author",
        "bbcdefghijkl",
        "--data-dir",
        str(data),
        "--base-url",
        replay.url,
        "--delay",
        "0",
    ]


def test_no_bar_and_no_escape_codes_in_a_pipe(replay: ReplayServer, tmp_path: Path) -> None:
    replay.add_profile("abcdefghijkl", 12)
    replay.add_profile("bbcdefghijkl", 3)
    result = subprocess.run(command(replay, tmp_path / "data"), capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines()[0].startswith("abcdefghijkl: updated: ")
    assert "\x1b[" not in result.stderr
    assert "fetching" not in result.stderr


@pytest.mark.skipif(shutil.which("script") is None, reason="util-linux `script` gives the run a terminal")
def test_bar_on_a_terminal(replay: ReplayServer, tmp_path: Path) -> None:
    replay.add_profile("abcdefghijkl", 12)
    replay.add_profile("bbcdefghijkl", 3)
    line = " ".join(command(replay, tmp_path / "data"))
    result = subprocess.run(["script", "-qec", line, "/dev/null"], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout
    assert "fetching" in result.stdout and "2/2" in result.stdout
    assert "abcdefghijkl: updated" in result.stdout and "bbcdefghijkl: updated" in result.stdout


def test_a_log_gets_a_line_now_and_then_while_an_author_takes_long(
    replay: ReplayServer, tmp_path: Path
) -> None:
    replay.add_profile("abcdefghijkl", 250)  # three pages
    replay.add_profile("bbcdefghijkl", 3)
    line = command(replay, tmp_path / "data")
    line[line.index("--delay") + 1] = "0.05"
    env = {**os.environ, "SCHOLAR_STATS_PROGRESS_SECONDS": "0"}
    result = subprocess.run(line, capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    said = result.stderr
    assert "  progress: author 1 of 2 (abcdefghijkl): page 2, 200 publications so far" in said
    assert "  progress: author 1 of 2 (abcdefghijkl): page 3, 250 publications so far" in said
    assert "between requests" in said
    # A line per author still, and nothing a log cannot show.
    assert "abcdefghijkl: updated: " in said and "bbcdefghijkl: updated: " in said
    assert "\x1b[" not in said


def test_quiet_silences_progress(replay: ReplayServer, tmp_path: Path) -> None:
    replay.add_profile("abcdefghijkl", 250)
    replay.add_profile("bbcdefghijkl", 3)
    env = {**os.environ, "SCHOLAR_STATS_PROGRESS_SECONDS": "0"}
    result = subprocess.run(
        ["scholar-stats", "-q", *command(replay, tmp_path / "data")[1:]],
        capture_output=True,
        text=True,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


@pytest.mark.skipif(shutil.which("script") is None, reason="util-linux `script` gives the run a terminal")
def test_the_bar_says_which_page_and_the_wait(replay: ReplayServer, tmp_path: Path) -> None:
    replay.add_profile("abcdefghijkl", 250)
    line = command(replay, tmp_path / "data")[:4] + command(replay, tmp_path / "data")[6:]
    line[line.index("--delay") + 1] = "0.4"
    env = {**os.environ, "COLUMNS": "100"}
    result = subprocess.run(
        ["script", "-qec", " ".join(line), "/dev/null"], capture_output=True, text=True, env=env
    )
    assert result.returncode == 0, result.stdout
    assert "fetching" in result.stdout and "1/1" in result.stdout
    assert "abcdefghijkl page 2, 200 publications" in result.stdout
    assert "waiting 0." in result.stdout
