"""The ``scholar-stats`` command line: parse options, call the library, map errors to exit codes.

Data goes to stdout; progress, logs and errors go to stderr.  An expected
failure is one line, ``error: ...``, and the exit code of its error class
(see ``crawler.errors``); never a traceback.
"""

from __future__ import annotations

import functools
import logging
import os
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from crawler.errors import ExitCode, ScholarStatsError, UsageError

F = TypeVar("F", bound=Callable[..., Any])

log = logging.getLogger("crawler")


def fail(message: str, code: int) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(int(code))


def handle_errors(func: F) -> F:
    """Turn our errors (and a few foreign ones) into one line and an exit code."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ScholarStatsError as exc:
            fail(str(exc), exc.exit_code)
        except KeyboardInterrupt:
            fail("interrupted", 130)
        except BrokenPipeError:
            # A reader such as `head` closed stdout early; that is not an error.
            sys.stderr.close()
            sys.exit(0)

    return wrapper  # type: ignore[return-value]


def _setup_logging(verbosity: int) -> None:
    level = {-1: logging.ERROR, 0: logging.WARNING, 1: logging.INFO}.get(verbosity, logging.DEBUG)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    root = logging.getLogger("crawler")
    root.handlers[:] = [handler]
    root.setLevel(level)
    # -vv shows every request through crawler.http's own DEBUG line, whose URL has
    # API keys masked; httpx's log would print them in the clear, so it stays off.


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", count=True, help="More output on stderr (-vv for every request).")
@click.option("-q", "--quiet", is_flag=True, help="Only errors on stderr.")
@click.version_option(package_name="scholar-stats")
@click.pass_context
def main(ctx: click.Context, verbose: int, quiet: bool) -> None:
    """Keep Google Scholar citation numbers fresh, safe and kept over time.

    Exit codes: 0 success; 1 other failure; 2 usage error or bad configuration;
    3 blocked or rate-limited; 4 profile not found; 5 page not understood;
    6 guard refused a new record; 7 numbers came from a fallback source;
    8 storage error; 9 publish error.
    """
    ctx.ensure_object(dict)
    _setup_logging(-1 if quiet else verbose)
    ctx.obj["quiet"] = quiet
    ctx.obj["verbose"] = verbose


def env_default(name: str, fallback: str | None = None) -> str | None:
    return os.environ.get(name) or fallback


def usage(message: str) -> UsageError:
    return UsageError(message)


__all__ = ["ExitCode", "fail", "handle_errors", "main"]

# Commands live in crawler/commands/, one module per command family; importing
# them registers them on ``main``.
from crawler import commands as _commands  # noqa: E402

_commands.register(main)
