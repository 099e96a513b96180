"""Help without click: the pages ``scholar-stats --help`` and ``scholar-stats COMMAND --help``
print are stored as click renders them, and printed from there only when click would print the
same bytes; anything else goes to click.

Each subprocess check runs the console script as pip writes it (a file named ``scholar-stats``
calling the entry ``pyproject.toml`` names) beside the same file calling ``crawler.cli:main``,
the click group itself, and compares their stdout, stderr and exit code byte for byte.
"""

from __future__ import annotations

import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios
import tomllib
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from clitools import console_script

from crawler import __version__
from crawler.cli import main

ROOT = Path(__file__).resolve().parent.parent
REGENERATE = "python .ci/render-help"
PAGES = ["", *main.list_commands(click.Context(main))]


def entry_point() -> str:
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]
    return str(scripts["scholar-stats"])


def environment(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES") and not k.startswith("_")}
    env["PYTHONPATH"] = str(ROOT)
    env.update(extra)
    return env


def run_both(
    tmp_path: Path, argv: list[str], name: str = "scholar-stats", **env: str
) -> tuple[subprocess.CompletedProcess[bytes], subprocess.CompletedProcess[bytes]]:
    """``argv`` run by the console script and by the click group, each under the name ``name``."""
    ours = console_script(tmp_path / "ours", entry_point(), name)
    clicks = console_script(tmp_path / "click", "crawler.cli:main", name)
    return tuple(  # type: ignore[return-value]
        subprocess.run(
            [str(script), *argv], capture_output=True, timeout=120, env=environment(**env), cwd=tmp_path
        )
        for script in (ours, clicks)
    )


def stored(page: str) -> str:
    """The stored page of ``scholar-stats [PAGE] --help``, as the entry prints it."""
    import importlib

    from crawler.commands._help_pages import PAGES as STORED

    assert page in STORED, f"no stored help for `scholar-stats {page} --help`: run {REGENERATE}"
    lines = importlib.import_module(f"crawler.commands._help_pages.{STORED[page]}").LINES
    return "\n".join(lines) + "\n"


def clicks_page(argv: list[str]) -> str:
    """What click prints for ``argv`` in a terminal of 80 columns or more (78 wide)."""
    result = CliRunner().invoke(main, argv, prog_name="scholar-stats", terminal_width=78)
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page or "the group")
def test_each_stored_page_is_what_click_prints(page: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    for spelling in ("--help", "-h"):
        argv = [page, spelling] if page else [spelling]
        assert stored(page) == clicks_page(argv), (
            f"the stored `scholar-stats {' '.join(argv)}` is not click's: run {REGENERATE}"
        )


def test_the_entry_answers_each_help_request_with_its_page(monkeypatch: pytest.MonkeyPatch) -> None:
    from crawler.__main__ import stored_answer

    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.setattr("crawler.__main__._translated", lambda: False)
    for page in PAGES:
        for spelling in ("--help", "-h"):
            assert stored_answer([page, spelling] if page else [spelling], "scholar-stats") == stored(page)
    for argv in (["run"], ["run", "--help", "x"], ["", "--help"], ["nope", "--help"], ["run", "--version"]):
        assert stored_answer(argv, "scholar-stats") is None, argv
    assert stored_answer(["run", "--help"], "sstats") is None
    monkeypatch.setenv("COLUMNS", "79")
    assert stored_answer(["run", "--help"], "scholar-stats") is None


def test_every_command_has_a_page_and_no_page_is_left_over() -> None:
    from crawler.commands._help_pages import PAGES as STORED

    assert sorted(STORED) == sorted(PAGES), f"run {REGENERATE}"
    folder = ROOT / "crawler" / "commands" / "_help_pages"
    assert {p.stem for p in folder.glob("*.py")} - {"__init__"} == set(STORED.values()), f"run {REGENERATE}"


def test_the_version_is_clicks(monkeypatch: pytest.MonkeyPatch) -> None:
    from crawler.__main__ import stored_answer

    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.setattr("crawler.__main__._translated", lambda: False)
    assert stored_answer(["--version"], "scholar-stats") == clicks_page(["--version"])
    assert clicks_page(["--version"]) == f"scholar-stats, version {__version__}\n"


@pytest.mark.parametrize(
    "argv",
    [["--help"], ["-h"], ["run", "--help"], ["run", "-h"], ["import-git", "--help"], ["--version"]],
    ids=" ".join,
)
@pytest.mark.parametrize("columns", ["80", "200"])
def test_the_console_script_prints_what_click_prints(tmp_path: Path, argv: list[str], columns: str) -> None:
    ours, clicks = run_both(tmp_path, argv, COLUMNS=columns)
    assert (ours.returncode, ours.stderr) == (clicks.returncode, clicks.stderr) == (0, b"")
    assert ours.stdout == clicks.stdout
    assert ours.stdout.decode() == (
        stored_answer_of(argv) if argv != ["--version"] else f"scholar-stats, version {__version__}\n"
    )


def stored_answer_of(argv: list[str]) -> str:
    return stored(argv[0] if len(argv) == 2 else "")


@pytest.mark.parametrize(
    ("argv", "env"),
    [
        (["run", "--help"], {"COLUMNS": "60"}),  # click wraps narrower
        (["--help"], {"COLUMNS": "79"}),
        (["run", "--help"], {"COLUMNS": "x"}),  # not a number: the terminal, else 80
        (["run", "--config", "x", "--help"], {}),  # help after another option
        (["-q", "run", "--help"], {}),
        (["--help", "run"], {}),
        (["rn", "--help"], {}),  # a typo: click's error and exit code
        (["help"], {}),
        ([], {}),
        (["run", "--hlep"], {}),
        (["--versoin"], {}),
        (["run", "--help"], {"_SCHOLAR_STATS_COMPLETE": "bash_source"}),  # shell completion
        (["run", "--help"], {"SCHOLAR_STATS_DELAY": "not a number", "SCHOLAR_STATS_CONFIG": "missing.toml"}),
        (["run", "--help"], {"PYTHONIOENCODING": "ascii"}),
    ],
    ids=lambda value: (
        " ".join(value) if isinstance(value, list) else " ".join(f"{k}={v}" for k, v in value.items())
    ),
)
def test_anything_else_is_left_to_click(tmp_path: Path, argv: list[str], env: dict[str, str]) -> None:
    ours, clicks = run_both(tmp_path, argv, **env)
    assert (ours.returncode, ours.stdout, ours.stderr) == (clicks.returncode, clicks.stdout, clicks.stderr)


def test_a_narrower_terminal_is_left_to_click(tmp_path: Path) -> None:
    """No COLUMNS: click asks the terminal on stdout, 60 columns here, and wraps at 58."""
    outputs = []
    for entry in (entry_point(), "crawler.cli:main"):
        script = console_script(tmp_path / entry.replace(":", "_"), entry)
        outputs.append(in_a_terminal([str(script), "run", "--help"], columns=60))
    assert outputs[0] == outputs[1]
    assert b"Usage: scholar-stats run [OPTIONS]" in outputs[0]
    assert b"  Fetch every author, guard the numbers, store snapshots\r\n" in outputs[0]  # 58 wide
    assert outputs[0].replace(b"\r\n", b"\n").decode() != stored("run")


def in_a_terminal(argv: list[str], columns: int) -> bytes:
    """What ``argv`` writes to a pseudo-terminal ``columns`` wide."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    process = subprocess.Popen(argv, stdout=follower, stderr=follower, env=environment(), close_fds=True)
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the other end is closed
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    assert process.wait(timeout=120) == 0
    return b"".join(chunks)


def test_another_program_name_is_left_to_click(tmp_path: Path) -> None:
    ours, clicks = run_both(tmp_path, ["run", "--help"], name="sstats", COLUMNS="80")
    assert ours.stdout == clicks.stdout
    assert ours.stdout.startswith(b"Usage: sstats run [OPTIONS]")


def test_a_closed_pipe_ends_as_it_does_with_click(tmp_path: Path) -> None:
    scripts = [
        console_script(tmp_path / "ours", entry_point()),
        console_script(tmp_path / "click", "crawler.cli:main"),
    ]
    ends = []
    for script in scripts:
        reader, writer = os.pipe()
        os.close(reader)
        result = subprocess.run(
            [str(script), "run", "--help"],
            stdout=writer,
            stderr=subprocess.PIPE,
            env=environment(COLUMNS="80"),
        )
        os.close(writer)
        ends.append((result.returncode, result.stderr))
    assert ends[0] == ends[1]


@pytest.mark.parametrize("argv", [["run", "--help"], ["--help"], ["--version"], ["rn"]], ids=" ".join)
def test_python_m_crawler_prints_what_the_console_script_prints(tmp_path: Path, argv: list[str]) -> None:
    ours, _ = run_both(tmp_path, argv, COLUMNS="80")
    module = subprocess.run(
        [sys.executable, "-m", "crawler", *argv],
        capture_output=True,
        timeout=120,
        env=environment(COLUMNS="80"),
    )
    assert (module.returncode, module.stdout, module.stderr) == (ours.returncode, ours.stdout, ours.stderr)


def test_a_translation_of_clicks_words_is_left_to_click(monkeypatch: pytest.MonkeyPatch) -> None:
    import gettext

    from crawler.__main__ import stored_answer

    monkeypatch.setenv("COLUMNS", "80")
    assert stored_answer(["run", "--help"], "scholar-stats") is not None
    monkeypatch.setattr(
        gettext, "find", lambda *args, **kwargs: "/usr/share/locale/xx/LC_MESSAGES/messages.mo"
    )
    monkeypatch.setattr("crawler.__main__.LOCALE_DIR", str(ROOT))  # a folder that exists
    assert stored_answer(["run", "--help"], "scholar-stats") is None


def test_the_columns_are_shutils() -> None:
    """The fast path reads the terminal's width without importing shutil, the same way."""
    code = (
        "import shutil\n"
        "from crawler.__main__ import terminal_columns\n"
        "print(terminal_columns(), shutil.get_terminal_size().columns)\n"
    )
    for env in (
        {},
        {"COLUMNS": "120"},
        {"COLUMNS": "0"},
        {"COLUMNS": "-3"},
        {"COLUMNS": " 90 "},
        {"LINES": "x"},
    ):
        result = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=environment(**env)
        )
        ours, shutils = result.stdout.split()
        assert ours == shutils, env


def test_the_regeneration_command_writes_the_stored_pages(tmp_path: Path) -> None:
    out = tmp_path / "pages"
    result = subprocess.run(
        [sys.executable, str(ROOT / ".ci" / "render-help"), "--into", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        env=environment(),
    )
    assert result.returncode == 0, result.stderr
    committed = ROOT / "crawler" / "commands" / "_help_pages"
    written = {p.name: p.read_bytes() for p in out.glob("*.py")}
    assert written == {p.name: p.read_bytes() for p in committed.glob("*.py")}, f"run {REGENERATE}"
