"""Where the settings are: ``scholar-stats.toml`` found without reading it.

A command that can run on its defaults (``site``, ``export``) asks here first and
loads the configuration's checks (``crawler.config``) only when there is a file
to check.
"""

from __future__ import annotations

from pathlib import Path

DEFAULT_CONFIG = "scholar-stats.toml"
DEFAULT_DATA_DIR = Path("data")


def find_config(path: Path | None) -> Path | None:
    """The configuration file in force: ``path`` (the option or its environment
    variable) when given, else ``./scholar-stats.toml`` when it exists."""
    if path is not None:
        return path
    default = Path(DEFAULT_CONFIG)
    return default if default.is_file() else None
