"""The stale marker: ``<id>/state.json``, present while an author's last fetch failed.

``run`` writes it when an author's fetch fails (``mark_stale``: when it first
failed, the error and its masked reason) and removes it on the next success
(``clear_stale``); the reports, the dashboard and ``merge`` read it.  Nothing
else in the author's folder is touched.  Its bytes are parsed here only
(``parse_state``), by every reader: ours, and the check of a shard's marker.

The marker is published, so it changes only when its news does: when it first
appears, or when the error or the reason changes.  The time of the last attempt,
which moves on every blocked day, is kept beside it in ``<id>/.attempt.json``,
which the data branch never gets: a blocked week adds one commit, not seven.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from crawler.errors import ExitCode, StorageError
from crawler.models import format_time, parse_time, utc_now
from crawler.net.redact import redacted_text
from crawler.storage.readfile import MAX_STATE_BYTES, json_value, read_bounded
from crawler.storage.store import ATTEMPT_FILE, json_bytes, remove_file, write_if_changed

STATE_FILE = "state.json"


def _read(path: Path) -> bytes:
    return read_bounded(path, limit=MAX_STATE_BYTES)


def parse_state(data: bytes, *, strict: bool = False) -> dict[str, Any]:
    """A stale marker's bytes, read: a JSON object, else ``ValueError``.

    Every reader of a marker goes through here.  ``strict`` is for a marker from
    elsewhere (a shard's folder), taken only if it says what ours say: ``stale``
    true, since a time that reads.
    """
    state = json_value(data)
    if strict:
        if (
            not isinstance(state, dict)
            or state.get("stale") is not True
            or not isinstance(state.get("stale_since"), str)
        ):
            raise ValueError("not a stale marker")
        parse_time(state["stale_since"])
    if not isinstance(state, dict):
        raise ValueError(f"{STATE_FILE} is not a JSON object")
    return state


def read_state(data_dir: Path, scholar_id: str) -> Mapping[str, Any] | None:
    """The author's stale marker; ``None`` when there is none, ``ValueError`` when it cannot be read."""
    try:
        data = _read(Path(data_dir) / scholar_id / STATE_FILE)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except StorageError as exc:
        raise ValueError(str(exc)) from exc
    except OSError as exc:
        raise ValueError(f"cannot read {STATE_FILE}: {exc.strerror or exc}") from exc
    return parse_state(data)


def mark_stale(data_dir: Path, scholar_id: str, error: Exception, *, when: datetime) -> None:
    """Say in ``<id>/state.json`` that the last fetch failed; nothing else is touched."""
    path = Path(data_dir) / scholar_id / STATE_FILE
    since = format_time(when)
    try:
        first = parse_time(parse_state(_read(path))["stale_since"])
        # A first failure after this one (a clock set wrong, an edited file) is not kept.
        if first <= when:
            since = format_time(first)
    except (OSError, ValueError, KeyError, TypeError, AttributeError, StorageError):
        pass
    state = {
        "stale": True,
        "stale_since": since,
        "error": type(error).__name__,
        "reason": redacted_text(error),
        "exit_code": int(getattr(error, "exit_code", ExitCode.ERROR)),
    }
    write_if_changed(path, json_bytes(state), jail=data_dir)
    attempt = {"last_attempt": format_time(when)}
    write_if_changed(path.with_name(ATTEMPT_FILE), json_bytes(attempt), jail=data_dir)


def last_attempt(data_dir: Path, scholar_id: str, state: Mapping[str, Any]) -> str | None:
    """When the last failed attempt was: from the local ``.attempt.json``, else from a marker
    written by an older version (which kept it in ``state.json``).
    """
    try:
        attempt = json_value(_read(Path(data_dir) / scholar_id / ATTEMPT_FILE))
    except (OSError, ValueError, StorageError):
        attempt = None
    for source in (attempt, state):
        if isinstance(source, dict) and isinstance(source.get("last_attempt"), str):
            return str(source["last_attempt"])
    return None


def clear_stale(data_dir: Path, scholar_id: str) -> bool:
    remove_file(Path(data_dir) / scholar_id / ATTEMPT_FILE, jail=data_dir)
    return remove_file(Path(data_dir) / scholar_id / STATE_FILE, jail=data_dir)


def stale_since_of(data_dir: Path, scholar_id: str) -> datetime | None:
    """When the author's source first failed, from ``state.json``; None when it is not stale."""
    try:
        state = parse_state(_read(Path(data_dir) / scholar_id / STATE_FILE))
        # Never later than now: a date in the future would make the age negative.
        return min(parse_time(state["stale_since"]), utc_now())
    except (OSError, ValueError, KeyError, TypeError, AttributeError, StorageError):
        return None


def redacted_state(data: bytes) -> bytes:
    """A shard's stale marker with credentials masked: a shard run by an older
    version may have written a password into its reason, and the merged folder is published.
    Only its strings are masked, so a secret that is also a JSON word (``true``, a
    number) cannot break the file."""
    try:
        state = parse_state(data)
    except ValueError:
        try:
            return redacted_text(data.decode("utf-8")).encode("utf-8")
        except UnicodeDecodeError:
            return data
    return json_bytes(_redacted_strings(state))


def _redacted_strings(value: Any) -> Any:
    if isinstance(value, str):
        return redacted_text(value)
    if isinstance(value, list):
        return [_redacted_strings(item) for item in value]
    if isinstance(value, dict):
        return {key: _redacted_strings(item) for key, item in value.items()}
    return value
