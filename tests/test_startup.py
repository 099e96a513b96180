"""Start-up stays honest: printing help loads only what printing help needs.

Each check runs the command in a fresh interpreter and reads ``sys.modules``
afterwards, so an import added anywhere on the way (a command module, the
configuration, a source's registry) shows up here rather than as a slower
``--help`` weeks later.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

# Libraries that printing help never needs: the HTTP stack, the data stack, the
# template engine, the lock, the HTML parser.
NOT_FOR_HELP = ("httpx", "pandas", "matplotlib", "jinja2", "filelock", "selectolax")
# Parts of the pipeline `run --help` has no use for (the profile found
# each of them loaded).
NOT_FOR_RUN_HELP = (
    "crawler.net.http",
    "crawler.run",
    "crawler.shard",
    "crawler.storage.store",
    "crawler.policy.guard",
    "crawler.outputs.badges",
    # Listing the sources and the on_block policies needs their names only: not the records'
    # module, not the policy's code, not the masking of secrets, not the progress events.
    "crawler.models",
    "crawler.policy.on_block",
    "crawler.net.redact",
    "crawler.net.progress",
)


def modules_after(argv: list[str], *, prints_help: bool = True) -> set[str]:
    """The modules loaded once ``scholar-stats ARGV`` has run, in a fresh interpreter."""
    code = (
        "import sys\n"
        "from crawler.cli import main\n"
        "try:\n"
        f"    main({argv!r})\n"
        "except SystemExit as exc:\n"
        "    assert exc.code in (0, None), exc.code\n"
        "print('\\n'.join(sorted(sys.modules)), file=sys.stderr)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert ("Usage:" in result.stdout) == prints_help
    return set(result.stderr.split())


@pytest.mark.parametrize("argv", [["--help"], ["run", "--help"]], ids=" ".join)
def test_help_loads_no_heavy_library(argv: list[str]) -> None:
    loaded = modules_after(argv)
    assert "click" in loaded  # the check sees imports at all
    assert sorted(m for m in loaded if m.split(".")[0] in NOT_FOR_HELP) == []


def console_script_modules(argv: list[str], **env: str) -> tuple[str, set[str]]:
    """What the console script (the entry ``pyproject.toml`` names, called as pip's script calls
    it) prints for ``argv``, and the modules loaded once it has."""
    import tomllib

    root = Path(__file__).resolve().parent.parent
    entry = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]
    module, _, function = entry["scholar-stats"].partition(":")
    code = (
        "import atexit, sys\n"
        "atexit.register(lambda: print('\\n'.join(sorted(sys.modules)), file=sys.stderr))\n"
        "sys.argv[0] = 'scholar-stats'\n"
        f"from {module} import {function}\n"
        f"sys.exit({function}())\n"
    )
    environment = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    environment.update(PYTHONPATH=str(root), **env)
    result = subprocess.run(
        [sys.executable, "-c", code, *argv], capture_output=True, text=True, timeout=120, env=environment
    )
    assert result.returncode == 0, result.stderr
    return result.stdout, set(result.stderr.split())


@pytest.mark.parametrize(
    "argv", [["--help"], ["run", "--help"], ["import-git", "-h"], ["--version"]], ids=" ".join
)
def test_the_console_scripts_help_loads_no_click(argv: list[str]) -> None:
    """A help page the console script holds is printed without click (nor anything of the
    command line's): a bare click program's `--help` is most of its own start."""
    printed, loaded = console_script_modules(argv, COLUMNS="80")
    assert "Usage: scholar-stats" in printed or "version" in printed
    assert "crawler.__main__" in loaded  # the check sees imports at all
    assert sorted(m for m in loaded if m.split(".")[0] == "click") == []
    # Of ours: the entry, and the stored pages (the package and the one page).
    ours = {m for m in loaded if m.startswith("crawler.")} - {
        "crawler.commands",
        "crawler.commands._help_pages",
    }
    assert sorted(m for m in ours if not m.startswith("crawler.commands._help_pages.")) == [
        "crawler.__main__"
    ]
    # Nor what the terminal's width or the version would bring, were they read another way.
    assert sorted(loaded & {"shutil", "importlib.metadata", "logging"}) == []


def test_the_console_script_leaves_a_narrower_terminals_help_to_click() -> None:
    printed, loaded = console_script_modules(["run", "--help"], COLUMNS="60")
    assert "Usage: scholar-stats run" in printed
    assert "click" in loaded and "crawler.cli" in loaded


def test_run_help_loads_no_stage_of_the_pipeline() -> None:
    loaded = modules_after(["run", "--help"])
    assert "crawler.commands.run" in loaded
    assert sorted(loaded & set(NOT_FOR_RUN_HELP)) == []


def test_run_help_still_lists_every_source_and_policy() -> None:
    from crawler.policy.on_block import POLICIES
    from crawler.sources import SOURCES

    result = subprocess.run(
        [sys.executable, "-m", "crawler", "run", "--help"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    flat = " ".join(result.stdout.split())
    for name in (*SOURCES, *POLICIES):
        assert name in flat, name


def test_site_and_export_load_no_http_stack(tmp_path: Path) -> None:
    """They read the data folder and never fetch: the configuration they read
    must not bring httpx (nor the lock, nor the HTML parser) along."""
    from test_site import write_lab

    data = write_lab(tmp_path / "data")
    for argv in (
        ["site", "--data-dir", str(data), "--out", str(tmp_path / "site")],
        ["export", "--data-dir", str(data), "--what", "metrics", "--out", str(tmp_path / "m.csv")],
    ):
        code = (
            "import sys\n"
            "from crawler.cli import main\n"
            "try:\n"
            f"    main({argv!r})\n"
            "except SystemExit as exc:\n"
            "    assert exc.code in (0, None), exc.code\n"
            "print('\\n'.join(sorted(sys.modules)), file=sys.stderr)\n"
        )
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        loaded = set(result.stderr.split())
        assert "crawler.history.snapshots" in loaded, argv[0]  # the check sees imports at all
        assert sorted(m for m in loaded if m.split(".")[0] in ("httpx", "filelock", "selectolax")) == [], (
            argv[0]
        )


# What `fetch` (or any command that reads the configuration) has no use for until it checks a
# record, knows a secret, draws a badge or opens the snapshot store: each costs milliseconds of
# every start (fractions brings decimal along).
NOT_FOR_READING_THE_CONFIGURATION = (
    "fractions",
    "decimal",
    "shlex",
    "unicodedata",
    "crawler.storage.store",
)


def test_fetch_help_loads_nothing_the_configuration_does_not_use() -> None:
    loaded = modules_after(["fetch", "--help"])
    assert "crawler.config" in loaded
    assert sorted(loaded & set(NOT_FOR_READING_THE_CONFIGURATION)) == []


@pytest.mark.parametrize("argv", [["--help"], ["run", "--help"]], ids=" ".join)
def test_help_sets_no_logging_up(argv: list[str]) -> None:
    """Logging (with traceback and string, a tenth of a bare click program's start) is set up
    when a command runs, after its options are read: printing help loads none of it."""
    assert "logging" not in modules_after(argv)


def test_export_loads_neither_the_backfill_nor_the_report(tmp_path: Path) -> None:
    """`export` reads snapshots: the backfill (git, every output writer) and the report are
    other commands' and are loaded when they run."""
    from test_site import write_lab

    data = write_lab(tmp_path / "data")
    argv = ["export", "--data-dir", str(data), "--what", "metrics", "--out", str(tmp_path / "m.csv")]
    loaded = modules_after(argv, prints_help=False)
    assert "crawler.history.export" in loaded
    not_for_export = {"crawler.history.backfill", "crawler.history.report", "crawler.branch.git"}
    assert sorted(loaded & (not_for_export | {"crawler.outputs.write"})) == []


# What `export --what metrics --data-dir DIR` has no use for: the configuration (the folder is
# given; the file is read only when it is not), the group's totals with the badge writer behind
# them (``--what group``), the worker pool (``--what publications``), the threads for a cold disk
# (started when a read shows it cold).  Importing the command cost 114 ms of CPU time with them,
# 77 ms without (docs/benchmarks.md).
NOT_FOR_A_METRICS_EXPORT = (
    "crawler.config",
    "crawler.outputs.badges",
    "crawler.outputs.group_numbers",
    "crawler.policy.guard",
    "crawler.net.options",
    "multiprocessing.pool",
    "concurrent.futures",
    # The temporary file Parquet is spooled to on its way to standard output.
    "tempfile",
)


def test_a_metrics_export_of_a_named_folder_loads_only_what_it_reads(tmp_path: Path) -> None:
    from test_site import write_lab

    data = write_lab(tmp_path / "data")
    out = tmp_path / "m.csv"
    argv = ["export", "--data-dir", str(data), "--what", "metrics", "--out", str(out)]
    loaded = modules_after(argv, prints_help=False)
    assert "crawler.history.snapshots" in loaded
    assert out.read_text(encoding="utf-8").count("\n") > 1  # rows were written
    assert sorted(loaded & set(NOT_FOR_A_METRICS_EXPORT)) == []


def test_an_export_without_a_folder_reads_it_from_the_configuration(tmp_path: Path) -> None:
    """The configuration is loaded only when it is needed, and then still decides the folder."""
    from test_site import write_lab

    write_lab(tmp_path / "elsewhere")
    (tmp_path / "scholar-stats.toml").write_text('data_dir = "elsewhere"\n', encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCHOLAR_STATS_")}
    result = subprocess.run(
        [sys.executable, "-m", "crawler", "export", "--what", "metrics"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
    )
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) > 1


# What a whole `fetch` process has no use for when no configuration file is there (the bench's
# case, and the case of a first try): the TOML reader; and, printing our record, AcadHomepage's
# author object (``--format gs-data``).
NOT_FOR_A_FETCH_WITHOUT_A_FILE = ("tomllib", "crawler.outputs.gs_data")


def _fetch_in(folder: Path, url: str, code_before: str = "") -> subprocess.CompletedProcess[str]:
    argv = ["-q", "fetch", "abcdefghijkl", "--base-url", url, "--delay", "0", "--retries", "0"]
    code = (
        "import gc, sys\n"
        f"{code_before}"
        "from crawler.cli import main\n"
        "try:\n"
        f"    main({argv!r})\n"
        "except SystemExit as exc:\n"
        "    assert exc.code in (0, None), exc.code\n"
        "print('\\n'.join(sorted(sys.modules)), file=sys.stderr)\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCHOLAR_STATS_")}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parent.parent)
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=folder, env=env
    )


def test_a_fetch_without_a_configuration_file_loads_no_toml_reader(replay, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    replay.add_profile("abcdefghijkl", 120)
    result = _fetch_in(tmp_path, replay.url)
    assert result.returncode == 0, result.stderr
    assert '"scholar_id": "abcdefghijkl"' in result.stdout
    loaded = set(result.stderr.split())
    assert "crawler.config" in loaded and "httpx" in loaded  # the check sees imports at all
    assert sorted(loaded & set(NOT_FOR_A_FETCH_WITHOUT_A_FILE)) == []


def test_a_fetch_parses_with_the_objects_of_its_imports_frozen(replay, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The modules a fetch loads live as long as the process: frozen out of the garbage
    collector's reach (``gc.freeze``) before the pages are parsed, the collections that parsing
    a thousand publications sets off, and the one at the interpreter's exit, no longer walk
    them (docs/benchmarks.md)."""
    replay.add_profile("abcdefghijkl", 120)
    watch = (
        "import crawler.sources.scholar_page as page\n"
        "frozen = []\n"
        "parse = page.parse_profile\n"
        "def counting(*args, **kwargs):\n"
        "    frozen.append((gc.get_freeze_count(), len(gc.get_objects())))\n"
        "    return parse(*args, **kwargs)\n"
        "page.parse_profile = counting\n"
        "import atexit\n"
        "atexit.register(lambda: print('frozen', *frozen[0], file=sys.stderr))\n"
    )
    result = _fetch_in(tmp_path, replay.url, watch)
    assert result.returncode == 0, result.stderr
    frozen, tracked = map(int, result.stderr.split("frozen ")[1].split()[:2])
    # By the first page: httpx, click and the configuration frozen; what is left for the
    # collector is mostly what was loaded for the fetch itself (the source, the parser).
    assert frozen > 2 * tracked, (frozen, tracked)


# What a `site` build of a small folder (one process) has no use for: the export's module (the
# worker pool, the group's totals, the table writers behind it; the dashboard's rows come from
# ``history.metrics_rows``), the badge writer (the configuration holds only the badge style,
# ``outputs.badge_style``), the pool itself, and the guard's checks of a record.
NOT_FOR_A_SMALL_SITE = (
    "crawler.history.export",
    "crawler.history.group",
    "crawler.outputs.badges",
    "crawler.outputs.group_numbers",
    "multiprocessing.pool",
    "concurrent.futures",
)


def test_a_small_site_loads_only_what_it_draws(tmp_path: Path) -> None:
    from test_site import write_lab

    data = write_lab(tmp_path / "data")
    out = tmp_path / "site"
    loaded = modules_after(["site", "--data-dir", str(data), "--out", str(out)], prints_help=False)
    assert "crawler.history.dashboard.author_page" in loaded  # pages were drawn
    assert (out / "index.html").is_file()
    assert sorted(loaded & set(NOT_FOR_A_SMALL_SITE)) == []


def test_reading_the_configuration_loads_no_badge_writer() -> None:
    """``Config`` holds a ``BadgeStyle``: its module checks a style without the writer (and the
    file writing, compression and logging behind it)."""
    code = "import sys\nimport crawler.config\nprint('\\n'.join(sorted(sys.modules)))\n"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    loaded = set(result.stdout.split())
    assert "crawler.outputs.badge_style" in loaded  # the check sees imports at all
    assert sorted(loaded & {"crawler.outputs.badges", "crawler.storage.atomic"}) == []


def _site_in(folder: Path, argv: list[str]) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """``scholar-stats site ARGV`` run in ``folder`` (where ``./scholar-stats.toml`` is looked
    for), with no configuration named by the environment; the result and the modules loaded."""
    code = (
        "import sys\n"
        "from crawler.cli import main\n"
        "try:\n"
        f"    main({['site', *argv]!r})\n"
        "except SystemExit as exc:\n"
        "    assert exc.code in (0, None), exc.code\n"
        "print('\\n'.join(sorted(sys.modules)), file=sys.stderr)\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCHOLAR_STATS_")}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parent.parent)
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=folder, env=env
    )
    return result, set(result.stderr.split())


def test_a_site_without_a_configuration_file_loads_no_configuration_checks(tmp_path: Path) -> None:
    """No ``scholar-stats.toml``: the defaults are the settings, and the configuration's checks
    (every key's table, the guard's, the policies', the HTTP options') are not loaded."""
    from test_site import write_lab

    write_lab(tmp_path / "data")
    result, loaded = _site_in(tmp_path, [])
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "data" / "site" / "index.html").is_file()  # the default folder was used
    assert "crawler.history.dashboard.author_page" in loaded  # pages were drawn
    assert sorted(loaded & {"crawler.config", "crawler.policy.guard"}) == []


def test_a_site_with_a_configuration_file_takes_its_folder_and_title(tmp_path: Path) -> None:
    from test_site import write_lab

    write_lab(tmp_path / "elsewhere")
    (tmp_path / "scholar-stats.toml").write_text(
        'data_dir = "elsewhere"\nsite_title = "The lab\'s citations"\n', encoding="utf-8"
    )
    result, loaded = _site_in(tmp_path, [])
    assert result.returncode == 0, result.stderr
    assert "crawler.config" in loaded
    index = (tmp_path / "elsewhere" / "site" / "index.html").read_text(encoding="utf-8")
    assert "The lab&#39;s citations" in index or "The lab&#x27;s citations" in index
    # A file that is wrong is still refused, with its line and key, before anything is drawn.
    (tmp_path / "scholar-stats.toml").write_text("site_title = 3\n", encoding="utf-8")
    result, _ = _site_in(tmp_path, ["--out", str(tmp_path / "other")])
    assert result.returncode != 0 and "site_title: must be a string" in result.stderr
    assert not (tmp_path / "other").exists()


def test_site_leaves_what_it_loaded_out_of_the_last_collection(tmp_path: Path) -> None:
    """The process ends once the site is written: what it loaded and drew is frozen out of the
    garbage collector's reach, so the collection at the interpreter's exit does not walk it (about
    a tenth of a small site's CPU time, docs/benchmarks.md)."""
    from test_site import write_lab

    data = write_lab(tmp_path / "data")
    argv = ["site", "--data-dir", str(data), "--out", str(tmp_path / "site")]
    code = (
        "import gc, sys\n"
        "from crawler.cli import main\n"
        "try:\n"
        f"    main({argv!r})\n"
        "except SystemExit as exc:\n"
        "    assert exc.code in (0, None), exc.code\n"
        "print(gc.get_freeze_count(), len(gc.get_objects()), file=sys.stderr)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    frozen, tracked = map(int, result.stderr.split()[-2:])
    assert frozen > 10 * tracked, (frozen, tracked)
