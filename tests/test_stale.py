"""The stale marker (``state.json``): when an author's source first failed, never in the future."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from crawler.models import format_time, utc_now
from crawler.storage.stale import STATE_FILE, last_attempt, mark_stale, stale_since_of

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
