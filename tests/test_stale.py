"""The stale marker (``state.json``): when an author's source first failed, never in the future."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from crawler.models import format_time, utc_now
from crawler.storage.stale import (
    STATE_FILE,
    last_attempt,
    mark_stale,
    parse_state,
    read_state,
    stale_since_of,
)

SID = "sTaLeTeStId_"
WHEN = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def write_state(data: Path, stale_since: object) -> None:
    (data / SID).mkdir(parents=True, exist_ok=True)
    (data / SID / STATE_FILE).write_text(json.dumps({"stale": True, "stale_since": stale_since}))


def test_the_first_failure_is_kept_across_later_ones(tmp_path: Path) -> None:
    write_state(tmp_path, "2026-12-01T08:00:00Z")
    mark_stale(tmp_path, SID, RuntimeError("down"), when=WHEN)
    state = json.loads((tmp_path / SID / STATE_FILE).read_text())
    assert state["stale_since"] == "2026-12-01T08:00:00Z" and "last_attempt" not in state
    # The time of this attempt moves every day: it is kept beside the marker, never published.
    assert last_attempt(tmp_path, SID, state) == format_time(WHEN)


@pytest.mark.parametrize("since", ["2030-01-01T00:00:00Z", "2026-12-07T12:00:01Z", "yesterday", "", 17, None])
def test_a_stale_date_in_the_future_or_unreadable_is_not_kept(tmp_path: Path, since: object) -> None:
    write_state(tmp_path, since)
    mark_stale(tmp_path, SID, RuntimeError("down"), when=WHEN)
    state = json.loads((tmp_path / SID / STATE_FILE).read_text())
    assert state["stale_since"] == format_time(WHEN)


def test_a_future_stale_date_read_back_is_no_later_than_now(tmp_path: Path) -> None:
    write_state(tmp_path, format_time(utc_now() + timedelta(days=400)))
    since = stale_since_of(tmp_path, SID)
    assert since is not None and since <= utc_now()


MARKER = {"stale": True, "stale_since": "2026-12-01T08:00:00Z", "error": "Blocked", "reason": "429"}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'{"stale": tru', "Expecting value"),
        (b"[1, 2]\n", f"{STATE_FILE} is not a JSON object"),
        (b'"stale"', f"{STATE_FILE} is not a JSON object"),
        (b"[" * 200_000, "nested too deeply"),
    ],
)
def test_state_bytes_that_are_not_a_json_object_are_refused(data: bytes, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_state(data)


def test_a_marker_from_elsewhere_must_say_stale_since_a_time() -> None:
    """A shard's marker is taken only if it says what ours say: stale, since a readable time."""
    assert parse_state(json.dumps(MARKER).encode(), strict=True) == MARKER
    assert parse_state(b"{}") == {}
    for wrong in ({**MARKER, "stale": False}, {**MARKER, "stale": "yes"}, {"stale": True}, [MARKER]):
        with pytest.raises(ValueError, match="not a stale marker"):
            parse_state(json.dumps(wrong).encode(), strict=True)
    with pytest.raises(ValueError):
        parse_state(json.dumps({**MARKER, "stale_since": "yesterday"}).encode(), strict=True)


@pytest.mark.parametrize("data", [b"[" * 200_000, b"[1]", b"{", b"\xff"])
def test_every_reader_of_the_marker_reads_it_alike(tmp_path: Path, data: bytes) -> None:
    """An unreadable marker: the reports say stale but unreadable, the stale date is unknown,
    and the next failure writes a new marker instead of failing on the old one."""
    (tmp_path / SID).mkdir()
    (tmp_path / SID / STATE_FILE).write_bytes(data)
    with pytest.raises(ValueError):
        read_state(tmp_path, SID)
    assert stale_since_of(tmp_path, SID) is None
    mark_stale(tmp_path, SID, RuntimeError("down"), when=WHEN)
    assert read_state(tmp_path, SID) == {
        "stale": True,
        "stale_since": format_time(WHEN),
        "error": "RuntimeError",
        "reason": "down",
        "exit_code": 1,
    }
