"""The floor of a click command line's `--help`: a group with one command and one option, nothing else.

    python bench/floor_click_help.py run --help

What any click program pays to print a command's help (the interpreter, click
itself, building the command); `bench_startup.py` times it beside
`scholar-stats run --help` so the ratio between them is the project's own cost.
"""

from __future__ import annotations

import click


@click.group()
def main() -> None:
    """A command line with one command."""


@main.command()
@click.option("--config", help="A configuration file.")
def run(config: str | None) -> None:
    """Run."""


if __name__ == "__main__":
    main()
