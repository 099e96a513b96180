"""The outputs manifest: a run that finds nothing new reads no badge back, yet a lost or
emptied output (a power cut after a rename without fsync) is always rebuilt."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import crawler.outputs.badges
import crawler.outputs.write
from crawler.models import AuthorRecord, Metrics, Profile, Publication
from crawler.outputs.badges import BadgeStyle
from crawler.outputs.manifest import MANIFEST, outputs_current
from crawler.outputs.write import Accepted, accept_record
from crawler.policy.guard import GuardOptions
from crawler.storage.store import AuthorStore

SID = "mAnIfEsTtEsT"
WHEN = datetime(2026, 5, 6, 7, 8, 9, tzinfo=UTC)


def record(when: datetime = WHEN, citations: int = 50) -> AuthorRecord:
    # Papers of 10, 9, 8, 7 and 6 citations, the first one taking the rest of the total.
    counts = [10 - i + (citations - 40 if i == 0 else 0) for i in range(5)]
    pubs = tuple(Publication(f"{SID}:paper{i:07d}", f"Paper {i}", citations=c) for i, c in enumerate(counts))
    return AuthorRecord(
        Profile(SID, "M. Anifest"),
        Metrics(citations=citations, h_index=4, i10_index=1),
        publications=pubs,
        fetched_at=when,
    )


def accept(data: Path, rec: AuthorRecord, style: BadgeStyle | None = None) -> Accepted:
    return accept_record(
        AuthorStore(data, rec.scholar_id), rec, guard=GuardOptions(), badge=style or BadgeStyle()
    )


def outputs(data: Path) -> dict[str, bytes]:
    root = data / SID
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "snapshots" not in p.parts and p.name != MANIFEST
    }


@pytest.fixture
def built(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    first = accept(data, record())
    assert first.changed
    manifest = json.loads((data / SID / MANIFEST).read_bytes())
    assert set(manifest["files"]) == set(outputs(data))
    return data


def test_nothing_new_reads_no_output_back(built: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_write(*args: object, **kwargs: object) -> bool:
        raise AssertionError("an output was compared although the manifest vouches for it")

    monkeypatch.setattr(crawler.outputs.write, "write_if_changed", no_write)
    monkeypatch.setattr(crawler.outputs.badges, "write_all_if_changed", no_write)
    again = accept(built, record(WHEN + timedelta(hours=1)))
    assert not again.changed and again.written == ()


@pytest.mark.parametrize("damage", ["delete", "empty", "manifest"])
def test_a_lost_or_emptied_output_is_rebuilt(built: Path, damage: str) -> None:
    before = outputs(built)
    badge = built / SID / "badges" / "pubs" / f"{SID}:paper0000001.svg"
    if damage == "delete":
        badge.unlink()
    elif damage == "empty":
        badge.write_bytes(b"")  # what a power cut can leave of a file renamed without fsync
    else:
        (built / SID / MANIFEST).write_text("{not json")
        badge.write_bytes(b"")
    again = accept(built, record(WHEN + timedelta(hours=1)))
    assert not again.changed
    assert outputs(built) == before


def test_another_badge_style_rebuilds_the_outputs(built: Path) -> None:
    again = accept(built, record(WHEN + timedelta(hours=1)), BadgeStyle(color="green"))
    assert not again.changed
    assert json.loads((built / SID / "badges" / "citations.json").read_bytes())["color"] == "green"


def test_a_change_rebuilds_and_records_the_new_fingerprint(built: Path) -> None:
    old = json.loads((built / SID / MANIFEST).read_bytes())["fingerprint"]
    changed = accept(built, record(WHEN + timedelta(hours=1), citations=60))
    assert changed.changed
    assert json.loads((built / SID / MANIFEST).read_bytes())["fingerprint"] != old
    assert json.loads((built / SID / "gs_data.json").read_bytes())["citedby"] == 60


def folder_with_outputs(root: Path) -> dict[str, int]:
    (root / "badges" / "pubs").mkdir(parents=True)
    files = {"gs_data.json": b"{}\n", "badges/citations.json": b"[1]", "badges/pubs/a.svg": b"<svg/>"}
    for name, body in files.items():
        (root / name).write_bytes(body)
    (root / "badges" / "linked.svg").symlink_to(root / "badges" / "pubs" / "a.svg")
    return {name: len(body) for name, body in files.items()}


@pytest.mark.parametrize(
    ("change", "current"),
    [
        ("none", True),
        ("unsorted", True),
        ("link to a file of that size", True),
        ("a folder named, with its size", True),
        ("a folder named, another size", False),
        ("a file missing", False),
        ("a folder missing", False),
        ("a file where a folder should be", False),
        ("a size differs", False),
        ("a link to nothing", False),
        ("a NUL in a name", False),
    ],
)
def test_outputs_are_current_only_when_each_named_file_has_its_size(
    tmp_path: Path, change: str, current: bool
) -> None:
    """What ``os.stat`` of each whole path says, links followed, whatever the manifest's order."""
    root = tmp_path / "author"
    files = folder_with_outputs(root)
    if change == "unsorted":
        files = {"badges/pubs/a.svg": 6, "gs_data.json": 3, "badges/citations.json": 3}
    elif change == "link to a file of that size":
        files["badges/linked.svg"] = 6
    elif change.startswith("a folder named"):
        size = (root / "badges").stat().st_size
        files["badges/"] = size if change.endswith("its size") else size + 1
    elif change == "a file missing":
        files["badges/pubs/b.svg"] = 1
    elif change == "a folder missing":
        files["other/b.svg"] = 1
    elif change == "a file where a folder should be":
        files["gs_data.json/b.svg"] = 1
    elif change == "a size differs":
        files["badges/pubs/a.svg"] = 7
    elif change == "a link to nothing":
        (root / "badges" / "gone.svg").symlink_to(root / "nowhere.svg")
        files["badges/gone.svg"] = 0
    elif change == "a NUL in a name":
        files["badges/x\0.svg"] = 0
    (root / MANIFEST).write_text(json.dumps({"fingerprint": "f", "files": files}), encoding="utf-8")
    assert outputs_current(root, "f") is current
    assert outputs_current(root, "g") is False
