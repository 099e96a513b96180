"""The command line as a whole: the list of commands, what `--help` loads, exit codes, one configuration."""

from __future__ import annotations

import csv
import io
import json
import os
import pkgutil
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import click
import clitools
import pytest
from click.testing import CliRunner
from replay import FIXTURES_DIR, ReplayServer
from test_schedule import Process

import crawler
from crawler.cli import COMMANDS, load_command, main
from crawler.commands._options import ValueChoice
from crawler.commands.fetch import RecordFormat
from crawler.errors import EXIT_CODE_MEANINGS, ExitCode, exit_codes_help
from crawler.history.export import Format as ExportFormat
from crawler.history.export import What
from crawler.models import TextEnum
from crawler.outputs.embed import Format as SnippetFormat
from crawler.outputs.run_summary import Status

ROOT = Path(__file__).resolve().parent.parent
SID = "cOnFiGhOuSe1"
HTML_ID = "cIn8pGEAAAAJ"  # bohlooli_en_50rows.html
GIT_ID = "gItHiStOrY01"
HEAVY = ("httpx", "apscheduler", "rich", "pandas", "matplotlib", "tenacity", "selectolax", "filelock")


def clean_env(**extra: str) -> dict[str, str]:
    return clitools.clean_env(GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull, **extra)


def modules() -> list[str]:
    return sorted(
        info.name
        for info in pkgutil.walk_packages(crawler.__path__, "crawler.")
        if info.name != "crawler.__main__"
    )


# --- every module imports on its own


@pytest.mark.slow
def test_every_module_imports_on_its_own_in_a_fresh_interpreter() -> None:
    def import_alone(name: str) -> tuple[str, str]:
        result = subprocess.run(
            [sys.executable, "-c", f"import {name}"], capture_output=True, text=True, timeout=120
        )
        return name, "" if result.returncode == 0 else result.stderr.strip().splitlines()[-1]

    names = modules()
    assert "crawler.commands.fetch" in names and "crawler.commands.run" in names
    with ThreadPoolExecutor(max_workers=2) as pool:
        failures = {name: error for name, error in pool.map(import_alone, names) if error}
    assert failures == {}


@pytest.mark.parametrize(
    "first", ["crawler.commands.run", "crawler.commands.fetch", "crawler.commands.history"]
)
def test_a_command_module_imported_first_leaves_the_whole_group_usable(first: str) -> None:
    code = f"import {first}\nfrom crawler.cli import main\nmain(['run', '--help'], standalone_mode=False)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "Fetch every author" in result.stdout


# --- the list of commands


def test_every_command_module_is_in_the_list() -> None:
    listed = {target.partition(":")[0] for target, _ in COMMANDS.values()}
    on_disk = {
        f"crawler.commands.{info.name}"
        for info in pkgutil.iter_modules([str(ROOT / "crawler" / "commands")])
        if not info.name.startswith("_")
    }
    assert on_disk - listed == set(), "a command module that crawler.cli.COMMANDS does not list"


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_listed_help_line_is_the_commands_own(name: str) -> None:
    command = load_command(name)
    assert command.name == name
    assert COMMANDS[name][1] == command.get_short_help_str(limit=1000)


def test_group_help_lists_every_command_without_importing_it() -> None:
    code = (
        "import sys\nfrom crawler.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] in "
        f"{HEAVY!r} or m.startswith('crawler.commands.') and m != 'crawler.commands._options')), "
        "file=sys.stderr)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == ""
    for name in COMMANDS:
        assert re.search(rf"^  {re.escape(name)} ", result.stdout, re.M), name


@pytest.mark.parametrize("columns", ["80", "60"])
def test_script_help_loads_no_heavy_library(columns: str) -> None:
    """80 columns: the stored page, without click; 60: click renders it (tests/test_cli_help.py)."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "crawler", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": columns},
    )
    assert result.returncode == 0
    loaded = {line.split("|")[-1].strip().split(".")[0] for line in result.stderr.splitlines() if "|" in line}
    assert "crawler" in loaded  # the check sees imports at all
    assert ("click" in loaded) == (columns == "60")
    assert loaded & set(HEAVY) == set()


def test_an_unknown_command_is_a_usage_error() -> None:
    result = CliRunner().invoke(main, ["nope"])
    assert result.exit_code == 2
    assert "No such command 'nope'" in result.output


def test_subcommand_help_loads_only_that_command() -> None:
    result = CliRunner().invoke(main, ["embed", "--help"])
    assert result.exit_code == 0
    assert "--timeout-ms" in result.output


# --- exit codes: one table


def test_exit_code_meanings_cover_every_code() -> None:
    assert set(EXIT_CODE_MEANINGS) == set(ExitCode)


def test_readme_exit_code_table_is_the_one_in_errors() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Exit codes", 1)[1].split("\n## ", 1)[0]
    rows = dict(re.findall(r"^\| (\d+) \| (.+?) \|$", section, re.M))
    assert rows == {str(int(code)): long for code, (_, long) in EXIT_CODE_MEANINGS.items()}


def test_help_carries_the_exit_codes() -> None:
    text = CliRunner().invoke(main, ["--help"], terminal_width=1000).output
    assert f"Exit codes: {exit_codes_help()}." in " ".join(text.split())
    run_help = " ".join(CliRunner().invoke(main, ["run", "--help"], terminal_width=1000).output.split())
    assert "3 blocked or rate-limited" in run_help and "8 storage error" in run_help
    assert "9 publish" not in run_help


# --- one configuration for every command


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, check=True, env=clean_env()
    ).stdout.strip()


def cli(home: Path, *args: str | Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "crawler", *map(str, args)],
        cwd=home,
        env=clean_env(**env),
        capture_output=True,
        text=True,
        timeout=300,
    )


def history_repo(tmp_path: Path) -> Path:
    """A homepage repository whose history holds two versions of AcadHomepage's gs_data.json."""
    repo = tmp_path / "site"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "google-scholar-stats")
    for when, citedby in ((1700000000, 10), (1700086400, 12)):
        gs_data = {
            "name": "Ada Example",
            "scholar_id": GIT_ID,
            "citedby": citedby,
            "hindex": 2,
            "i10index": 0,
            "cites_per_year": {"2023": citedby},
            "publications": {},
        }
        (repo / "gs_data.json").write_text(json.dumps(gs_data))
        git(repo, "add", "gs_data.json")
        stamp = f"@{when} +0000"
        subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-q", "-m", "Update"],
            cwd=repo,
            check=True,
            env=clean_env(GIT_AUTHOR_DATE=stamp, GIT_COMMITTER_DATE=stamp),
        )
    return repo


@pytest.mark.slow
def test_every_command_follows_the_configs_data_folder(replay: ReplayServer, tmp_path: Path) -> None:
    expected = replay.add_profile(SID, 3)
    bare = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(bare))
    home = tmp_path / "home"
    git(tmp_path, "clone", "-q", str(bare), str(home))
    (home / "scholar-stats.toml").write_text(
        f'data_dir = "stats"\ndelay = 0\nretries = 0\nbase_url = "{replay.url}"\n\n'
        f'[[authors]]\nid = "{SID}"\n'
    )
    stats = home / "stats"

    def ok(*args: str | Path) -> subprocess.CompletedProcess[str]:
        result = cli(home, *args)
        assert result.returncode == 0, (args, result.stderr)
        return result

    ok("run")
    assert json.loads((stats / SID / "gs_data.json").read_text())["citedby"] == expected.citations

    # fetch takes Scholar's address from the file, as run does.
    assert json.loads(ok("fetch", SID, "--format", "gs-data").stdout)["citedby"] == expected.citations

    page = tmp_path / "page.html"
    shutil.copyfile(FIXTURES_DIR / "bohlooli_en_50rows.html", page)
    ok("import-html", page, "--author", HTML_ID, "--date", "2022-08-09")
    assert [p.name for p in (stats / HTML_ID / "snapshots").iterdir()] == ["20220809T000000Z.json"]

    ok("import-git", "--repo", history_repo(tmp_path), "--author", GIT_ID, "--branch", "google-scholar-stats")
    assert len(list((stats / GIT_ID / "snapshots").glob("*.json"))) == 2

    rows = list(csv.DictReader(io.StringIO(ok("export").stdout)))
    assert {row["scholar_id"] for row in rows} == {SID, HTML_ID, GIT_ID}
    assert SID in ok("report", "--author", SID).stdout
    ok("plot", "--author", SID, "--out", tmp_path / "plot.png")
    assert (tmp_path / "plot.png").stat().st_size > 0

    ok("publish")
    assert (
        json.loads(git(bare, "show", f"google-scholar-stats:{SID}/gs_data.json"))["citedby"]
        == expected.citations
    )
    # The root files are those of the configuration's first author.
    assert json.loads(git(bare, "show", "google-scholar-stats:gs_data.json"))["citedby"] == expected.citations

    shutil.rmtree(stats)
    ok("publish", "--restore")
    assert (stats / SID / "gs_data.json").is_file()

    shutil.rmtree(stats / SID)
    process = Process(
        [
            sys.executable,
            "-m",
            "crawler",
            "schedule",
            "--run-now",
            "--cron",
            "17 8 * * *",
            "--timezone",
            "UTC",
        ],
        cwd=home,
        env=clean_env(),
    )
    try:
        process.wait_for_line("next run at")
        process.stop()
        assert process.exit_code() == 0
    finally:
        process.kill()
    assert (stats / SID / "gs_data.json").is_file()
    assert not (home / "data").exists()


@pytest.mark.parametrize("command", ["export", "report", "plot"])
def test_the_data_folder_resolves_flag_then_environment_then_file(
    command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clean_environment: None
) -> None:
    """Each setting is the option, else its environment variable, else the file, else the default."""
    monkeypatch.chdir(tmp_path)

    def folder_named(args: list[str], env: dict[str, str] | None = None) -> str:
        result = CliRunner().invoke(main, [command, *args], env=env)
        assert result.exit_code != 0 and "Traceback" not in result.output
        return result.output

    assert "data" in folder_named([])
    (tmp_path / "scholar-stats.toml").write_text('data_dir = "from-file"\n')
    assert "from-file" in folder_named([])
    assert "from-env" in folder_named([], {"SCHOLAR_STATS_DATA_DIR": "from-env"})
    assert "from-flag" in folder_named(["--data-dir", "from-flag"], {"SCHOLAR_STATS_DATA_DIR": "from-env"})
    (tmp_path / "other.toml").write_text('data_dir = "from-other"\n')
    assert "from-other" in folder_named([], {"SCHOLAR_STATS_CONFIG": "other.toml"})
    assert "from-other" in folder_named(["--config", "other.toml"])


def test_a_broken_config_file_in_the_folder_is_named_by_every_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "scholar-stats.toml").write_text("data_dir = 3\n")
    for args in (["export"], ["report"], ["publish", "--no-push"], ["run"], ["fetch", SID]):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 2, (args, result.output)
        assert "scholar-stats.toml:1: data_dir: must be a string" in result.output, args


def test_every_option_with_a_config_key_reads_its_environment_variable() -> None:
    keys = {
        "data_dir",
        "delay",
        "timeout",
        "deadline",
        "retries",
        "base_url",
        "proxy",
        "root_author",
        "on_block",
        "stale_after_days",
    }
    ctx = click.Context(main)
    seen = set()
    for name in main.list_commands(ctx):
        command = main.get_command(ctx, name)
        assert command is not None
        for param in command.params:
            if not isinstance(param, click.Option) or param.name is None:
                continue
            if param.name == "config_path":
                assert param.envvar == "SCHOLAR_STATS_CONFIG", name
            # publish --retries counts pushes, not requests: it has no key in the file.
            elif param.name in keys and (name, param.name) != ("publish", "retries"):
                assert param.envvar == f"SCHOLAR_STATS_{param.name.upper()}", (name, param.name)
                seen.add(param.name)
    assert seen == keys


# --- fixed sets are enums, offered on the command line by their values


@pytest.mark.parametrize(
    ("command", "option", "choices"),
    [
        ("export", "--what", What),
        ("export", "--format", ExportFormat),
        ("fetch", "--format", RecordFormat),
        ("parse", "--format", RecordFormat),
        ("embed", "--format", SnippetFormat),
    ],
)
def test_fixed_sets_are_enums_offered_by_value(command: str, option: str, choices: type[TextEnum]) -> None:
    param = next(p for p in load_command(command).params if option in p.opts)
    assert isinstance(param.type, ValueChoice)
    assert list(param.type.choices) == list(choices)
    assert (
        f"[{'|'.join(c.value for c in choices)}]"
        in CliRunner().invoke(main, [command, "--help"], terminal_width=1000).output
    )


def test_a_word_of_a_fixed_set_is_that_word_everywhere() -> None:
    # What mypy deems impossible is the point: an enum member is its text for any code
    # that compares or looks up.
    refused: object = Status.REFUSED
    assert refused == "refused" and str(Status.REFUSED) == "refused" and f"{Status.REFUSED}" == "refused"
    assert {"refused": 1}[Status.REFUSED] == 1 and {Status.REFUSED: 1}["refused"] == 1  # type: ignore[index]
    assert json.dumps({"status": Status.UPDATED}) == '{"status": "updated"}'
    assert Status("unchanged") is Status.UNCHANGED
