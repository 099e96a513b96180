"""A count that is missing is not zero: every reader of per-year counts refuses a null rather than read 0."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from crawler.cli import main
from crawler.errors import StorageError
from crawler.history.snapshots import read_header
from crawler.models import AuthorRecord, Metrics, Profile, record_from_dict, record_to_dict
from crawler.outputs.gs_data import record_from_gs_data
from crawler.storage.store import snapshot_refs

SID = "nUlLcOuNt001"


def snapshot(**changes: Any) -> dict[str, Any]:
    record = AuthorRecord(
        profile=Profile(SID, "Ada Example"),
        metrics=Metrics(citations=30, h_index=2),
        cites_per_year=((2023, 10), (2024, 20)),
    )
    data = record_to_dict(record)
    data.update(changes)
    return data


def test_a_snapshot_year_without_a_count_is_refused_not_read_as_zero() -> None:
    with pytest.raises(ValueError, match=r"cites_per_year\.2023' must be an integer, not null"):
        record_from_dict(snapshot(cites_per_year={"2023": None, "2024": 20}))


def test_metrics_that_are_missing_stay_missing() -> None:
    data = snapshot()
    data["metrics"] = {**data["metrics"], "h_index": None, "i10_index": None}
    record = record_from_dict(data)
    assert record.metrics.h_index is None and record.metrics.i10_index is None
    assert record.cites_per_year == ((2023, 10), (2024, 20))


def test_an_acadhomepage_year_without_a_count_is_refused() -> None:
    gs_data = {"name": "Ada Example", "scholar_id": SID, "citedby": 30, "cites_per_year": {"2023": None}}
    with pytest.raises(ValueError, match=r"cites_per_year\.2023"):
        record_from_gs_data(gs_data, SID)
    # Present counts, as int keys scholarly sometimes writes, still read.
    record = record_from_gs_data({**gs_data, "cites_per_year": {"2024": 20, "2023": 10}}, SID)
    assert record.cites_per_year == ((2023, 10), (2024, 20))
    assert record.metrics.h_index is None


def write_snapshot(data_dir: Path, data: dict[str, Any], name: str = "20250101T000000Z.json") -> Path:
    folder = data_dir / SID / "snapshots"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(json.dumps(data) + "\n")
    return path


def test_history_header_refuses_a_year_without_a_count(tmp_path: Path) -> None:
    write_snapshot(tmp_path, snapshot(cites_per_year={"2023": None}))
    (ref,) = snapshot_refs(tmp_path, SID)
    with pytest.raises(StorageError, match=r"cites_per_year\.2023"):
        read_header(ref)


def test_export_names_the_snapshot_and_writes_no_zero(tmp_path: Path) -> None:
    write_snapshot(tmp_path, snapshot(), "20250101T000000Z.json")
    write_snapshot(tmp_path, snapshot(cites_per_year={"2023": None, "2024": 25}), "20250102T000000Z.json")
    result = CliRunner().invoke(main, ["export", "--data-dir", str(tmp_path), "--what", "years", "--all"])
    assert result.exit_code == 0, result.output
    assert "20250102T000000Z.json" in result.stderr and "cites_per_year.2023" in result.stderr
    rows = [line.split(",") for line in result.stdout.splitlines()[1:]]
    assert rows and all("2025-01-02" not in ",".join(row) for row in rows)
