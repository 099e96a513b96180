"""What the commands share: error handling, and the options that have a configuration key.

Every option that has a key in ``scholar-stats.toml`` is resolved the same way
by every command: the option, else its environment variable, else the
configuration file (``--config``, else ``SCHOLAR_STATS_CONFIG``, else
``./scholar-stats.toml`` when it exists), else the default.  click handles the
first two (``envvar=``); ``crawler.config.read_settings`` the rest.

This module imports nothing heavy, so that ``scholar-stats --help`` stays
instant; the modules of the commands import what they need.
"""

from __future__ import annotations

import enum
import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from crawler.errors import ScholarStatsError, UsageError
from crawler.storage.settings_file import find_config

if TYPE_CHECKING:
    from crawler.config import Config

F = TypeVar("F", bound=Callable[..., Any])

CONFIG_ENV = "SCHOLAR_STATS_CONFIG"
# The group's context holds, under this key, the call that sets logging up for -v / -q.
SETUP_LOGGING = "setup_logging"
DATA_DIR_ENV = "SCHOLAR_STATS_DATA_DIR"


def settings_file(config_path: Path | None) -> Config | None:
    """The configuration file's settings (``--config``, else ``./scholar-stats.toml``), or
    None when there is no file: the configuration's checks load only when there is a file
    to check (a small ``site`` build's or an ``export``'s start-up, docs/benchmarks.md)."""
    found = find_config(config_path)
    if found is None:
        return None
    from crawler.config import read_config_file

    return read_config_file(found)


class ValueChoice(click.Choice):  # type: ignore[type-arg]
    """``click.Choice`` over an enum, typed and shown by the members' values
    (``gs-data``), not their names; the command receives the member."""

    def normalize_choice(self, choice: Any, ctx: click.Context | None) -> str:
        return super().normalize_choice(choice.value if isinstance(choice, enum.Enum) else choice, ctx)


def fail(message: str, code: int) -> None:
    from crawler.net.redact import redacted_text
    from crawler.outputs.advice import for_the_user

    click.echo(f"error: {for_the_user(redacted_text(message))}", err=True)
    sys.exit(int(code))


def handle_errors(func: F) -> F:
    """Set logging up as the group's -v / -q ask (when the command runs under the group), and
    turn our errors (and a few foreign ones) into one line and an exit code."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        setup_logging = root_flag(SETUP_LOGGING)
        if setup_logging is not None:
            setup_logging()
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


def root_flag(name: str) -> Any:
    """A value the group stored (``quiet``, ``verbose``), or None outside the group."""
    ctx = click.get_current_context(silent=True)
    return ((ctx.find_root().obj or {}) if ctx is not None else {}).get(name)


def scholar_id_argument(value: str) -> str:
    from crawler.models import normalize_scholar_id

    try:
        return normalize_scholar_id(value)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc


def apply(options: list[Callable[[Any], Any]]) -> Callable[[F], F]:
    def decorate(func: F) -> F:
        for option in reversed(options):
            func = option(func)
        return func

    return decorate


def config_option(help_suffix: str = "") -> Callable[[F], F]:
    return click.option(
        "--config",
        "config_path",
        envvar=CONFIG_ENV,
        type=click.Path(dir_okay=False, path_type=Path),
        help=f"Configuration file (env {CONFIG_ENV}; default: scholar-stats.toml when present){help_suffix}.",
    )


def data_dir_option(what: str = "Data folder") -> Callable[[F], F]:
    return click.option(
        "--data-dir",
        envvar=DATA_DIR_ENV,
        type=click.Path(file_okay=False, path_type=Path),
        help=f"{what} (env {DATA_DIR_ENV}; default: the config's data_dir, else data).",
    )


class HttpNumber(click.ParamType):  # type: ignore[type-arg]
    """A number for one of the HTTP options, checked by the configuration file's rule (one validator)."""

    def __init__(self, option: str) -> None:
        self.option = option
        self.name = "integer" if option == "retries" else "float"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from crawler.net.options import check_option

        try:
            number = int(value) if self.option == "retries" else float(value)
            return check_option(self.option, number)
        except ValueError as exc:
            kind = "a whole number" if self.option == "retries" else "a number"
            message = str(exc) if str(exc).startswith("must be") else f"{value!r} is not {kind}"
            self.fail(message, param, ctx)


def _check_proxy(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """The proxy URL checked before any request; the message never shows its password."""
    if value is None:
        return None
    from crawler.net.options import check_proxy

    try:
        return check_proxy(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), ctx, param) from None


def http_options() -> list[Callable[[Any], Any]]:
    """The options every command that talks to a source shares (each a key of the config file)."""
    return [
        click.option(
            "--base-url",
            envvar="SCHOLAR_STATS_BASE_URL",
            help="Google Scholar's address (a mirror or a replay server); env SCHOLAR_STATS_BASE_URL.",
        ),
        click.option(
            "--delay",
            envvar="SCHOLAR_STATS_DELAY",
            type=HttpNumber("delay"),
            help=(
                "Minimum seconds between two requests to the same host, plus random jitter; "
                "env SCHOLAR_STATS_DELAY [default: 5]."
            ),
        ),
        click.option(
            "--timeout",
            envvar="SCHOLAR_STATS_TIMEOUT",
            type=HttpNumber("timeout"),
            help="Seconds allowed for one request; env SCHOLAR_STATS_TIMEOUT [default: 20].",
        ),
        click.option(
            "--deadline",
            envvar="SCHOLAR_STATS_DEADLINE",
            type=HttpNumber("deadline"),
            help=(
                "Seconds allowed for the whole fetch of one author, retries included; "
                "env SCHOLAR_STATS_DEADLINE [default: 300]."
            ),
        ),
        click.option(
            "--retries",
            envvar="SCHOLAR_STATS_RETRIES",
            type=HttpNumber("retries"),
            help=(
                "Retries for timeouts, connection errors, 5xx and 429; "
                "env SCHOLAR_STATS_RETRIES [default: 3]."
            ),
        ),
        click.option(
            "--proxy",
            envvar="SCHOLAR_STATS_PROXY",
            callback=_check_proxy,
            help=(
                "Proxy URL (http://, https://, socks5://); env SCHOLAR_STATS_PROXY; HTTPS_PROXY etc. "
                "are honoured too."
            ),
        ),
    ]


def with_http_options(func: F) -> F:
    return apply(http_options())(func)
