"""The stale marker: ``<id>/state.json``, present while an author's last fetch failed.

``run`` writes it when an author's fetch fails (``mark_stale``: when it first
failed, the last attempt, the error and its masked reason) and removes it on
the next success (``clear_stale``); the reports, the dashboard and ``merge``
read it.  Nothing else in the author's folder is touched.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from crawler.errors import ExitCode
from crawler.models import format_time, parse_time
from crawler.redact import redacted_text
from crawler.store import json_bytes, remove_file, write_if_changed

STATE_FILE = "state.json"


def read_state(data_dir: Path, scholar_id: str) -> Mapping[str, Any] | None:
    """The author's stale marker; ``None`` when there is none, ``ValueError`` when it cannot be read."""
    try:
        state = json.loads((Path(data_dir) / scholar_id / STATE_FILE).read_bytes())
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ValueError(f"cannot read {STATE_FILE}: {exc.strerror or exc}") from exc
    if not isinstance(state, dict):
        raise ValueError(f"{STATE_FILE} is not a JSON object")
    return state


def mark_stale(data_dir: Path, scholar_id: str, error: Exception, *, when: datetime) -> None:
    """Say in ``<id>/state.json`` that the last fetch failed; nothing else is touched."""
    path = Path(data_dir) / scholar_id / STATE_FILE
    since = format_time(when)
    try:
        old = json.loads(path.read_bytes())
        if isinstance(old, dict) and isinstance(old.get("stale_since"), str):
            since = old["stale_since"]
    except (OSError, ValueError):
        pass
    state = {
        "stale": True,
        "stale_since": since,
        "last_attempt": format_time(when),
        "error": type(error).__name__,
        "reason": redacted_text(error),
        "exit_code": int(getattr(error, "exit_code", ExitCode.ERROR)),
    }
    write_if_changed(path, json_bytes(state), jail=data_dir)


def clear_stale(data_dir: Path, scholar_id: str) -> bool:
    return remove_file(Path(data_dir) / scholar_id / STATE_FILE, jail=data_dir)


def stale_since_of(data_dir: Path, scholar_id: str) -> datetime | None:
    """When the author's source first failed, from ``state.json``; None when it is not stale."""
    try:
        state = json.loads((Path(data_dir) / scholar_id / STATE_FILE).read_bytes())
        return parse_time(state["stale_since"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
