"""The ``scholar-stats`` command line: parse options, call the library, map errors to exit codes.

Data goes to stdout; progress, logs and errors go to stderr.  An expected
failure is one line, ``error: ...``, and the exit code of its error class
(see ``crawler.errors``); never a traceback.

The commands are listed in ``COMMANDS`` below.  A command's module is imported
only when that command runs or its help is asked, so ``scholar-stats --help``
loads neither httpx nor APScheduler nor rich.  The console script's entry,
``crawler.__main__.main``, prints the help pages rendered from this group
(``crawler.commands._help_pages``) without importing click where they are what
click would print, and calls ``main`` for everything else.
"""

from __future__ import annotations

import functools
import importlib
import sys

import click

from crawler import __version__
from crawler.commands._options import SETUP_LOGGING, fail, handle_errors
from crawler.errors import ExitCode, exit_codes_help

# name: ("module:attribute", the one line `scholar-stats --help` shows).
# A test holds each line equal to the command's own help.
COMMANDS: dict[str, tuple[str, str]] = {
    "bookmarklet": (
        "crawler.commands.bookmarklet:bookmarklet_command",
        "Print a bookmarklet that saves your complete Scholar profile page for import-html.",
    ),
    "doctor": (
        "crawler.commands.homepage:doctor",
        "Say why a homepage's numbers do not show: one line per finding, with what to do.",
    ),
    "embed": (
        "crawler.commands.embed:embed",
        "Print the snippet a homepage includes to show its citation counts.",
    ),
    "export": (
        "crawler.commands.history:export_command",
        "Write the citation history as a table: CSV, JSON or Parquet.",
    ),
    "fetch": ("crawler.commands.fetch:fetch", "Fetch one profile completely and print it."),
    "init": (
        "crawler.commands.homepage:init",
        "Set a homepage repository up: the daily workflow, its settings and the page script.",
    ),
    "import-git": (
        "crawler.commands.history:import_git_command",
        "Turn every committed version of a gs_data.json into a snapshot.",
    ),
    "import-html": (
        "crawler.commands.history:import_html_command",
        "Add a snapshot from each Google Scholar profile page saved in a browser.",
    ),
    "match": (
        "crawler.commands.match:match_command",
        "Show which fallback works match which Scholar publications, and what is unmatched on both sides.",
    ),
    "merge": (
        "crawler.commands.merge:merge_command",
        "Merge the data folders of `run --shard K/N` jobs into one data folder.",
    ),
    "parse": ("crawler.commands.fetch:parse", "Parse a profile page saved from a browser and print it."),
    "plot": (
        "crawler.commands.history:plot_command",
        "Draw total citations over time and the latest per-year histogram.",
    ),
    "publish": (
        "crawler.commands.publish:publish_command",
        "Commit the data folder onto the data branch, on top of its last commit, and push it.",
    ),
    "report": (
        "crawler.commands.history:report_command",
        "Print a Markdown summary of what changed between two snapshots.",
    ),
    "run": (
        "crawler.commands.run:run_command",
        "Fetch every author, guard the numbers, store snapshots and write the outputs.",
    ),
    "site": (
        "crawler.commands.site:site_command",
        "Write a static dashboard of the citation history: index.html and a page per author.",
    ),
    "schedule": (
        "crawler.commands.schedule:schedule_command",
        "Run the job (and publish, with --publish) at the times of a crontab line, until stopped.",
    ),
}


def load_command(name: str) -> click.Command:
    target, _ = COMMANDS[name]
    module_name, _, attribute = target.partition(":")
    command = getattr(importlib.import_module(module_name), attribute)
    if not isinstance(command, click.Command):
        raise TypeError(f"{target} is not a click command")
    return command


class LazyGroup(click.Group):
    """A group whose commands are imported when used, not when listed."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*COMMANDS, *self.commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands or cmd_name not in COMMANDS:
            return self.commands.get(cmd_name)
        return load_command(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][1]) for name in sorted(COMMANDS) if name not in self.commands]
        rows += [(name, cmd.get_short_help_str()) for name, cmd in sorted(self.commands.items())]
        if rows:
            limit = formatter.width - 6 - max(len(name) for name, _ in rows)
            with formatter.section("Commands"):
                # click shortens each line as it would the command's own help.
                formatter.write_dl(
                    [
                        (name, click.Command(name, help=text).get_short_help_str(limit))
                        for name, text in sorted(rows)
                    ]
                )


def _setup_logging(verbosity: int) -> None:
    # Imported here: logging (with traceback and string) is a tenth of a bare click
    # program's start, and printing a command's help needs none of it.
    import logging

    class RedactingFormatter(logging.Formatter):
        """Log lines, tracebacks included, with credentials masked (``crawler.net.redact``)."""

        def format(self, record: logging.LogRecord) -> str:
            from crawler.net.redact import redacted_text

            return redacted_text(super().format(record))

    level = {-1: logging.ERROR, 0: logging.WARNING, 1: logging.INFO}.get(verbosity, logging.DEBUG)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(RedactingFormatter("%(levelname)s: %(message)s"))
    root = logging.getLogger("crawler")
    root.handlers[:] = [handler]
    root.setLevel(level)
    # -vv shows every request through crawler.net.http's own DEBUG line, whose URL has
    # API keys masked; httpx's log would print them in the clear, so it stays off.


@click.group(
    cls=LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog=f"Exit codes: {exit_codes_help()}.",
)
@click.option("-v", "--verbose", count=True, help="More output on stderr (-vv for every request).")
@click.option("-q", "--quiet", is_flag=True, help="Only errors on stderr.")
# From the package, not its metadata: the action runs it from its own folder, uninstalled.
@click.version_option(version=__version__, package_name="scholar-stats")
@click.pass_context
def main(ctx: click.Context, verbose: int, quiet: bool) -> None:
    """Keep Google Scholar citation numbers fresh, safe and kept over time.

    Every option that has a key in scholar-stats.toml is resolved the same way:
    the option, else its environment variable, else the configuration file,
    else the default (https://github.com/scholar-stats/scholar-stats/blob/main/docs/configuration.md).
    """
    ctx.ensure_object(dict)
    # Set up when the command runs (``handle_errors``), once its options are read: a
    # command's --help prints and exits before, without loading logging.
    ctx.obj[SETUP_LOGGING] = functools.partial(_setup_logging, -1 if quiet else verbose)
    ctx.obj["quiet"] = quiet
    ctx.obj["verbose"] = verbose


__all__ = ["COMMANDS", "ExitCode", "fail", "handle_errors", "main"]
