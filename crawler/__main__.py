"""The ``scholar-stats`` console script and ``python -m crawler``.

Asking for help is the one call that needs nothing but text, and importing
click is most of what a click program's ``--help`` costs (docs/benchmarks.md,
Start-up).  So ``scholar-stats --help``, ``scholar-stats COMMAND --help`` (or
``-h``) and ``scholar-stats --version`` print the pages click rendered once
(``crawler.commands._help_pages``, written by ``python .ci/render-help``), but
only where click would print the same bytes: a terminal of 80 columns or more
(click wraps to ``min(columns, 80) - 2``), the program named ``scholar-stats``,
no translation of click's words, no shell completion asked, a standard output
click writes to as it is.  Anything else goes to ``crawler.cli.main``, the
click group, as it always did.
"""

from __future__ import annotations

import codecs
import io
import os
import sys

PROG_NAME = "scholar-stats"
# click's words ("Usage:", "Show this message and exit.") go through gettext, whose
# catalogues live here unless a program binds another folder (click does not).
LOCALE_DIR = os.path.join(sys.base_prefix, "share", "locale")
# click wraps help to min(columns, 80) - 2: the stored pages are 78 wide.
FULL_WIDTH = 80


def main(prog_name: str | None = None) -> None:
    """Print a stored page when it is exactly what click would print; else run the click group."""
    text = stored_answer(sys.argv[1:], prog_name or _program_name())
    if text is not None and _printed(text):
        return
    from crawler.cli import main as group

    group(prog_name=prog_name)


def stored_answer(args: list[str], prog_name: str | None) -> str | None:
    """What click prints for ``prog_name ARGS`` when a stored page holds it, else None."""
    if not 1 <= len(args) <= 2 or prog_name != PROG_NAME or os.name == "nt":
        return None
    # click's shell completion, when asked for, answers instead of the command.
    if os.environ.get("_" + PROG_NAME.replace("-", "_").upper() + "_COMPLETE"):
        return None
    if args == ["--version"]:
        from crawler import __version__

        text: str | None = f"{prog_name}, version {__version__}\n"
    else:
        text = _stored_page(args)
        if text is not None and terminal_columns() < FULL_WIDTH:
            return None
    return text if text is not None and _written_as_is(text) and not _translated() else None


def _stored_page(args: list[str]) -> str | None:
    from crawler.commands import _help_pages

    *command, option = args
    page = _help_pages.PAGES.get(command[0] if command else "")
    if option not in _help_pages.HELP_OPTIONS or page is None or command == [""]:
        return None
    # __import__, not importlib: importlib would bring warnings along, a tenth of what is left.
    lines: tuple[str, ...] = __import__(f"{_help_pages.__name__}.{page}", fromlist=["LINES"]).LINES
    return "\n".join(lines) + "\n"


def _program_name() -> str | None:
    """The name click gives the program (``click.utils._detect_program_name``): the script's
    file name, or None when Python ran a module (click says ``python -m ...``)."""
    if getattr(sys.modules["__main__"], "__package__", None) not in (None, ""):
        return None
    return os.path.basename(sys.argv[0])


def terminal_columns() -> int:
    """The columns ``shutil.get_terminal_size()`` gives click: ``COLUMNS`` when it is a whole
    number above 0, else the terminal's on standard output, else 80; without importing shutil
    (and the compression modules it brings)."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns > 0:
        return columns
    stdout = sys.__stdout__
    if stdout is None:
        return 80
    try:
        return os.get_terminal_size(stdout.fileno()).columns or 80
    except (ValueError, OSError):
        return 80


def _written_as_is(text: str) -> bool:
    """Whether click's ``echo`` writes to ``sys.stdout`` itself: it puts a stream whose
    encoding is ASCII aside for one of its own, which writes other bytes for other text."""
    stdout = sys.stdout
    if not isinstance(stdout, io.TextIOWrapper):
        return False
    try:
        ascii_stream = codecs.lookup(stdout.encoding).name == "ascii"
    except LookupError:
        ascii_stream = False
    return text.isascii() or not ascii_stream


def _translated() -> bool:
    """Whether gettext would translate click's words (``LANGUAGE``, ``LC_ALL``, ``LANG``...)."""
    if not os.path.isdir(LOCALE_DIR):
        return False
    import gettext

    return gettext.find(gettext.textdomain(), LOCALE_DIR) is not None


def _printed(text: str) -> bool:
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        # Nothing reached the reader: click writes again and ends as it does on a closed pipe.
        return False
    return True


if __name__ == "__main__":
    main(prog_name=PROG_NAME)
