"""How the tests run scholar-stats as a user does: the installed script, in an environment of its own.

The environment drops proxies (they would keep requests from the local
servers), every ``SCHOLAR_STATS_*`` setting of the machine running the tests,
and a CI step summary that is not the tests' to write.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

_SCRIPT = Path(sys.executable).with_name("scholar-stats")
SCHOLAR_STATS = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "crawler"]


def config_file(folder: Path, text: str) -> Path:
    """``folder/scholar-stats.toml`` holding ``text``, as a user writes it."""
    path = folder / "scholar-stats.toml"
    path.write_text(text, encoding="utf-8")
    return path


def is_foreign_setting(name: str) -> bool:
    return "proxy" in name.lower() or name.startswith("SCHOLAR_STATS") or name == "GITHUB_STEP_SUMMARY"


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not is_foreign_setting(k)}
    env["NO_PROXY"] = "127.0.0.1,localhost"
    env.update(extra)
    return env
