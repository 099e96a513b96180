"""Lint and type checks run with the tests, so one command checks everything."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run_tool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=600
    )


def test_ruff() -> None:
    result = run_tool("ruff", "check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format() -> None:
    """The whole tree is as ``ruff format`` writes it (line length in pyproject.toml)."""
    result = run_tool("ruff", "format", "--check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_mypy() -> None:
    if shutil.which("mypy") is None and run_tool("mypy", "--version").returncode != 0:
        pytest.fail("mypy is part of the test extra and must be installed")
    result = run_tool("mypy", "--strict", "crawler", "tests")
    assert result.returncode == 0, result.stdout + result.stderr


def test_python_m_crawler() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "crawler", "--help"], capture_output=True, text=True, cwd=ROOT
    )
    assert result.returncode == 0
    assert "scholar-stats" in result.stdout
