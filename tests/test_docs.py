"""Docs that cannot drift: every command and option is documented, README examples run."""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

import click
import pytest

from crawler.cli import main

ROOT = Path(__file__).resolve().parent.parent
DOCS = "\n".join(
    p.read_text(encoding="utf-8") for p in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
)


def commands() -> list[tuple[str, click.Command]]:
    ctx = click.Context(main)
    found = [(name, main.get_command(ctx, name)) for name in main.list_commands(ctx)]
    return [(name, command) for name, command in found if command is not None]


@pytest.mark.parametrize(("name", "command"), commands())
def test_command_documented(name: str, command: click.Command) -> None:
    assert f"scholar-stats {name}" in DOCS, f"`scholar-stats {name}` is not in README.md or docs/"
    assert command.help, f"{name} has no help text"


@pytest.mark.parametrize(("name", "command"), commands())
def test_every_option_documented(name: str, command: click.Command) -> None:
    missing = []
    for param in command.params:
        if not isinstance(param, click.Option):
            continue
        assert param.help, f"{name} {param.opts[0]} has no help text"
        longs = [o for o in param.opts + param.secondary_opts if o.startswith("--")]
        if longs and not any(o in DOCS for o in longs):
            missing.append(longs[0])
    assert not missing, f"options of `scholar-stats {name}` not documented: {missing}"


def test_readme_has_the_two_setup_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    setup = (
        "python3 -m venv .venv && . .venv/bin/activate && python -m pip install -e . "
        "&& scholar-stats run --author amIMrIEAAAAJ"
    )
    assert setup in readme
    # A real public profile, one whose saved page is among the fixtures: not a placeholder that exits 2.
    assert "amIMrIEAAAAJ" in (
        ROOT / "tests" / "fixtures" / "scholar" / "cherukuri_en_20rows_showmore.html"
    ).read_text(encoding="utf-8", errors="replace")
    test_command = (
        "python -m pip install --require-hashes -r requirements/test.txt "
        "&& python -m pip install --no-deps --no-build-isolation -e . && python -m pytest"
    )
    assert test_command in readme
    assert test_command in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


EXAMPLES = re.findall(
    r"^\$ (scholar-stats .+)$", (ROOT / "README.md").read_text(encoding="utf-8"), re.MULTILINE
)


@pytest.mark.parametrize("line", EXAMPLES)
def test_readme_examples_run(line: str) -> None:
    result = subprocess.run(shlex.split(line), cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert "Traceback" not in result.stderr
    if "captcha" in line:
        assert result.returncode == 3
        assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
    else:
        assert result.returncode == 0, result.stderr
        assert '"citedby": 1338' in result.stdout


def test_examples_exist() -> None:
    assert len(EXAMPLES) >= 2


def test_help_points_to_documentation_a_wheel_user_can_reach() -> None:
    # The wheel ships no docs/ folder: help names docs by URL.
    ctx = click.Context(main)
    texts = [main.help or ""]
    for name in main.list_commands(ctx):
        command = main.get_command(ctx, name)
        assert command is not None
        texts.append(command.help or "")
        texts += [p.help or "" for p in command.params if isinstance(p, click.Option)]
    for text in texts:
        for match in re.finditer(r"[^\s(]*docs/[\w-]+\.md", text):
            assert match.group(0).startswith("https://"), (
                f"{match.group(0)!r} in help: not reachable from a wheel"
            )


README = (ROOT / "README.md").read_text(encoding="utf-8")
PROJECT = "https://github.com/scholar-stats/scholar-stats"
# The README is the PyPI page too, where a relative link or image resolves against pypi.org.
_TARGETS = re.findall(r"\]\(([^)\s]+)\)|\bsrc=\"([^\"]+)\"|^\[[^\]]+\]:\s*(\S+)", README, re.MULTILINE)


def test_readme_links_and_images_are_absolute() -> None:
    targets = [next(t for t in found if t) for found in _TARGETS]
    assert len(targets) > 30
    relative = [t for t in targets if not re.match(r"https?://", t)]
    assert not relative, f"README.md links or images that break on PyPI: {relative}"


def test_readme_links_into_the_project_name_files_that_exist() -> None:
    prefixes = (f"{PROJECT}/blob/main/", f"{PROJECT}/tree/main/", f"{PROJECT}/raw/main/")
    missing = []
    for found in _TARGETS:
        target = next(t for t in found if t)
        for prefix in prefixes:
            if target.startswith(prefix):
                path = target[len(prefix) :].split("#", 1)[0]
                if not (ROOT / path).exists():
                    missing.append(target)
    assert not missing, f"README.md links to files the repository does not have: {missing}"


def test_readme_says_how_to_install_from_pypi() -> None:
    assert "pip install scholar-stats" in README
    assert "pipx run scholar-stats" in README


def test_the_action_is_named_by_its_real_repository() -> None:
    from crawler.homepage.author_workflow import ACTION_REPO

    for path in [ROOT / "README.md", ROOT / "action.yml", *sorted((ROOT / "docs").glob("*.md"))]:
        text = path.read_text(encoding="utf-8")
        assert "OWNER/scholar-stats@" not in text, path.name
    assert f"uses: {ACTION_REPO}@v1" in README
    assert f"uses: {ACTION_REPO}@v1" in (ROOT / "action.yml").read_text(encoding="utf-8")
    assert f"uses: {ACTION_REPO}@v1" in (ROOT / "docs" / "github-actions.md").read_text(encoding="utf-8")
