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


# What pip writes for a console script (the shebang aside): the entry is filled in.
PIP_SCRIPT = (
    "import re\n"
    "import sys\n"
    "from {module} import {function}\n"
    "if __name__ == '__main__':\n"
    "    sys.argv[0] = re.sub(r'(-script\\.pyw|\\.exe)?$', '', sys.argv[0])\n"
    "    sys.exit({function}())\n"
)


def console_script(folder: Path, entry: str, name: str = "scholar-stats") -> Path:
    """An executable file ``folder/name`` written the way pip writes a console script for
    ``entry`` (``module:function``), run by this interpreter."""
    module, _, function = entry.partition(":")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(
        f"#!{sys.executable}\n" + PIP_SCRIPT.format(module=module, function=function), encoding="utf-8"
    )
    path.chmod(0o755)
    return path


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
