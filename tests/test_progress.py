"""Progress bars only on a terminal: plain lines in logs and pipes."""

from __future__ import annotations

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
