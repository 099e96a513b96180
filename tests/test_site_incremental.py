"""`scholar-stats site` into the folder it wrote before: only what a new snapshot changes is read
and written, and a day with nothing new reads no snapshot and writes no file; and what is read is
read the light way only where that gives what reading it whole gives."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from test_site import AS_OF, START, A, B, record, write_lab

import crawler.history.dashboard.fingerprints as fingerprints
import crawler.history.dashboard.timeline as timeline
import crawler.history.snapshot_heads as heads_module
import crawler.history.snapshots as snapshots_module
import crawler.storage.atomic as atomic_module
import crawler.storage.store as store_module
from crawler.history.dashboard import build_site
from crawler.history.dashboard.build import MARKER
from crawler.history.dashboard.timeline import citations_by_id, load_author
from crawler.models import Publication, record_to_dict
from crawler.storage.atomic import json_bytes
from crawler.storage.stale import mark_stale
from crawler.storage.store import AuthorStore, snapshot_refs


def files_of(out: Path) -> dict[str, tuple[int, int, bytes]]:
    """Every file of the site: its inode, its time and its bytes."""
    found = {}
    for path in sorted(out.rglob("*")):
        if path.is_file():
            info = path.stat()
            found[str(path.relative_to(out))] = (info.st_ino, info.st_mtime_ns, path.read_bytes())
    return found


class Spies:
    """What a build read (each author's history, each snapshot opened) and wrote."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.loaded: list[str] = []
        self.opened: list[str] = []
        self.written: list[str] = []

        def spy(record_to: list[str], original: Callable[..., Any], key: Callable[..., str]) -> Any:
            def wrapped(*args: Any, **kwargs: Any) -> Any:
                record_to.append(key(*args, **kwargs))
                return original(*args, **kwargs)

            return wrapped

        monkeypatch.setattr(
            timeline,
            "load_author",
            spy(self.loaded, timeline.load_author, lambda d, a, **k: a),
        )
        # Every way a snapshot is opened: headers (snapshot_heads, one by one or a folder's
        # files at once), columns (snapshots), whole records (store).
        monkeypatch.setattr(
            heads_module,
            "open_regular",
            spy(self.opened, vars(heads_module)["open_regular"], lambda p, **k: str(p)),
        )
        read_starts = vars(heads_module)["read_starts"]

        def starts(folder: str, names: list[str], *args: Any, **kwargs: Any) -> Any:
            self.opened.extend(os.path.join(folder, name) for name in names)
            return read_starts(folder, names, *args, **kwargs)

        monkeypatch.setattr(heads_module, "read_starts", starts)
        monkeypatch.setattr(
            store_module,
            "read_bounded",
            spy(self.opened, vars(store_module)["read_bounded"], lambda p, **k: str(p)),
        )
        monkeypatch.setattr(
            snapshots_module,
            "read_bounded",
            spy(self.opened, vars(snapshots_module)["read_bounded"], lambda p, **k: str(p)),
        )
        monkeypatch.setattr(
            atomic_module,
            "atomic_write_bytes",
            spy(self.written, atomic_module.atomic_write_bytes, lambda p, *a, **k: str(p)),
        )

    def snapshots_opened(self) -> list[str]:
        return [p for p in self.opened if f"{os.sep}snapshots{os.sep}" in p]


@pytest.fixture
def lab(tmp_path: Path) -> Path:
    return write_lab(tmp_path / "data")


def test_a_day_with_nothing_new_reads_no_snapshot_and_writes_no_file(
    lab: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "site"
    build_site(lab, out, title="Lab", as_of=AS_OF)
    before = files_of(out)
    spies = Spies(monkeypatch)
    # A day later, with no new snapshot: the pages count from each author's newest snapshot.
    again = build_site(lab, out, title="Lab", as_of=AS_OF + timedelta(days=1))
    assert spies.loaded == []
    assert spies.snapshots_opened() == []
    assert spies.written == [] and again.written == [] and again.removed == []
    assert files_of(out) == before


def test_a_new_snapshot_of_one_author_draws_that_author_and_the_index_only(
    lab: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "site"
    build_site(lab, out, as_of=AS_OF)
    before = files_of(out)
    AuthorStore(lab, B).write_snapshot(record(B, START + timedelta(days=490), [("q", "Q", 999)], name="Bob"))
    spies = Spies(monkeypatch)
    result = build_site(lab, out, as_of=AS_OF)
    assert spies.loaded == [B]
    assert {os.path.basename(os.path.dirname(p)) for p in spies.snapshots_opened()} == {"snapshots"}
    assert all(f"{os.sep}{B}{os.sep}" in p for p in spies.snapshots_opened())
    changed = {name for name, value in files_of(out).items() if before.get(name) != value}
    assert changed == set(result.written)
    assert f"{B}/index.html" in changed and "index.html" in changed and MARKER in changed
    assert not any(name.startswith(f"{A}/") for name in changed)
    # What was kept is what a build from nothing gives.
    fresh = tmp_path / "fresh"
    build_site(lab, fresh, as_of=AS_OF)
    assert {k: v[2] for k, v in files_of(fresh).items()} == {k: v[2] for k, v in files_of(out).items()}


def test_a_changed_stale_marker_draws_that_author_again(
    lab: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "site"
    build_site(lab, out, as_of=AS_OF)
    mark_stale(lab, A, RuntimeError("blocked"), when=AS_OF)
    spies = Spies(monkeypatch)
    build_site(lab, out, as_of=AS_OF)
    assert spies.loaded == [A]
    assert "Google Scholar has not answered since" in (out / A / "index.html").read_text(encoding="utf-8")
    # Another blocked day moves only the time of the last attempt, which the page does not show.
    mark_stale(lab, A, RuntimeError("blocked"), when=AS_OF + timedelta(days=1))
    spies.loaded.clear()
    again = build_site(lab, out, as_of=AS_OF + timedelta(days=1))
    assert spies.loaded == [] and again.written == []


def test_another_version_of_the_dashboard_draws_every_page_again(
    lab: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "site"
    build_site(lab, out, as_of=AS_OF)
    spies = Spies(monkeypatch)
    monkeypatch.setattr(fingerprints, "_VERSION", "another version")
    build_site(lab, out, as_of=AS_OF)
    assert spies.loaded == [A, B]
    # The title is on every page: another one draws them all again too.
    spies.loaded.clear()
    build_site(lab, out, title="Another", as_of=AS_OF)
    assert spies.loaded == [A, B]


def test_the_version_is_a_hash_of_the_templates_code_and_assets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = tmp_path / "dashboard"
    shutil.copytree(fingerprints._HERE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(fingerprints, "_HERE", copy)
    versions = []
    for edit in ("templates/author.html", "assets/dashboard.css", "charts.py"):
        monkeypatch.setattr(fingerprints, "_VERSION", None)
        versions.append(fingerprints.site_version())
        with open(copy / edit, "a", encoding="utf-8") as handle:
            handle.write("\n")
    monkeypatch.setattr(fingerprints, "_VERSION", None)
    versions.append(fingerprints.site_version())
    assert len(set(versions)) == 4


def test_pages_removed_by_hand_or_a_damaged_marker_are_made_again(
    lab: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "site"
    build_site(lab, out, as_of=AS_OF)
    (out / A / "years.csv").unlink()
    marker = json.loads((out / MARKER).read_text(encoding="utf-8"))
    marker["authors"][B]["card"]["cards"][0]["value"] = "<script>"
    (out / MARKER).write_text(json.dumps(marker), encoding="utf-8")
    spies = Spies(monkeypatch)
    build_site(lab, out, as_of=AS_OF)
    assert spies.loaded == [A, B]
    assert (out / A / "years.csv").is_file()
    assert "<script>" not in (out / "index.html").read_text(encoding="utf-8")


def test_a_snapshot_after_as_of_is_left_out_and_the_page_drawn(
    lab: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "site"
    build_site(lab, out, as_of=AS_OF)
    AuthorStore(lab, B).write_snapshot(record(B, AS_OF + timedelta(days=3), [("q", "Q", 5000)], name="Bob"))
    spies = Spies(monkeypatch)
    result = build_site(lab, out, as_of=AS_OF)
    assert spies.loaded == [B]
    assert "5,000" not in (out / B / "index.html").read_text(encoding="utf-8")
    assert set(result.written) <= {MARKER}


def snapshot_bytes(pubs: list[Publication]) -> bytes:
    return json_bytes(record_to_dict(replace(record(A, START, []), publications=tuple(pubs))))


def test_citations_are_read_by_id_only_from_a_snapshot_of_our_layout() -> None:
    pubs = [
        Publication(f"{A}:p1", 'A "quoted" title \\ with ünïcode', year=2020, citations=7, doi="10.1/x"),
        Publication(f"{A}:p2", "No count", authors="A B", venue="V", citations=None),
        Publication(f"{A}:p3", "Third", year=None, citations=0, cites_id="123"),
    ]
    data = snapshot_bytes(pubs)
    assert citations_by_id(data, 3) == {f"{A}:p1": 7, f"{A}:p2": None, f"{A}:p3": 0}
    assert citations_by_id(snapshot_bytes([]), 0) == {}
    # Anything else is left to the general reader: another count than the header's, a file cut
    # short, another layout, an ID the pattern does not take whole.
    assert citations_by_id(data, 2) is None
    assert citations_by_id(data, None) is None
    assert citations_by_id(data[:-40], 3) is None
    compact = json.dumps(json.loads(data), separators=(",", ":")).encode("utf-8")
    assert citations_by_id(compact, 3) is None
    odd = snapshot_bytes([*pubs[:2], Publication(f'{A}:p"3', "Third", citations=1)])
    assert citations_by_id(odd, 3) is None


def test_a_snapshot_the_light_reader_leaves_is_read_whole(tmp_path: Path) -> None:
    """Where the layout is not ours, the page shows what reading every snapshot whole shows."""
    data = tmp_path / "data"
    write_lab(data)
    expected = load_author(data, A, as_of=AS_OF)
    for ref in snapshot_refs(data, A)[:-1]:
        ref.path.write_bytes(json.dumps(json.loads(ref.path.read_bytes())).encode("utf-8"))
    again = load_author(data, A, as_of=AS_OF)
    assert again.publications == expected.publications
    assert again.bad == []


def test_a_marker_of_an_earlier_version_gives_a_whole_build(lab: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    build_site(lab, out, as_of=AS_OF)
    files = json.loads((out / MARKER).read_text(encoding="utf-8"))["files"]
    (out / MARKER).write_text(json.dumps({"files": files}, indent=2) + "\n", encoding="utf-8")
    (out / A / "index.html").write_text("an older page", encoding="utf-8")
    result = build_site(lab, out, as_of=AS_OF)
    assert f"{A}/index.html" in result.written and MARKER in result.written
    assert json.loads((out / MARKER).read_text(encoding="utf-8"))["authors"].keys() == {A, B}


def test_a_stray_file_among_the_snapshots_does_not_draw_its_author_each_time(
    lab: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (lab / A / "snapshots" / "notes.json").write_text("{}", encoding="utf-8")
    out = tmp_path / "site"
    build_site(lab, out, as_of=AS_OF)
    spies = Spies(monkeypatch)
    build_site(lab, out, as_of=AS_OF)
    assert spies.loaded == []
