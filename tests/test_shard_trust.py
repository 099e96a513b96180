"""`merge` takes from a shard only what `run` would have written there, each file checked:
another author's snapshot, a corrupt or truncated file, a huge one, a FIFO or a file that is
no part of the data layout never reaches the data folder, and never replaces good data."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from test_run import read_json, scholar_stats, snapshots, tree
from test_shard import two_shards, write_config

from crawler.merge import merge
from crawler.outputs.badges import BadgeStyle, _badge_pair
from crawler.outputs.formats import endpoint_as_written, layout_kind, svg_as_written
from crawler.storage.readfile import MAX_OUTPUT_BYTES, MAX_SNAPSHOT_BYTES
from crawler.storage.store import AuthorStore

_ = two_shards  # the fixture, from the shard tests

Shards = tuple[list[str], list[Path]]


def first_author(shard: Path) -> str:
    return sorted(p.name for p in shard.iterdir() if p.is_dir() and p.name != "badges")[0]


@pytest.fixture
def merged(tmp_path: Path, two_shards: Shards) -> Path:
    into = tmp_path / "merged"
    result = scholar_stats("merge", *two_shards[1], "--into", into)
    assert result.returncode == 0, result.stderr
    assert "skipped:" not in result.stderr, "a shard as run writes it is merged whole"
    return into


def merge_again(dirs: list[Path], into: Path) -> tuple[str, dict[str, str]]:
    result = scholar_stats("merge", *dirs, "--into", into)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result.stderr, tree(into)


def without_lock(files: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in files.items() if k != ".scholar-stats.lock"}


def test_another_authors_snapshot_is_skipped_and_never_copied(
    tmp_path: Path, two_shards: Shards, merged: Path
) -> None:
    _, dirs = two_shards
    sid = first_author(dirs[0])
    other = first_author(dirs[1])
    # The newest snapshot of sid's folder in the shard is another author's, with huge numbers.
    record = json.loads(snapshots(dirs[1], other)[-1].read_bytes())
    record["metrics"]["citations"] = 99_999
    forged = dirs[0] / sid / "snapshots" / "29990101T000000Z.json"
    forged.write_text(json.dumps(record), encoding="utf-8")
    before = without_lock(tree(merged))
    stderr, after = merge_again(dirs, merged)
    assert f"skipped: {forged}: a snapshot of {other}, not of {sid}; not merged" in stderr
    assert not (merged / sid / "snapshots" / forged.name).exists()
    assert without_lock(after) == before
    latest = AuthorStore(merged, sid).latest()
    assert latest is not None and latest[1].scholar_id == sid
    assert latest[1].metrics.citations != 99_999


DAMAGED = [
    (rel, damage)
    for rel in (
        "gs_data.json",
        "gs_history.json",
        "gs_data_shieldsio.json",
        "badges/citations.json",
        "state.json",
    )
    for damage in ("truncated", "not json", "another author")
    # A badge or a stale marker names no author: another's is as good as its own.
    if damage != "another author" or rel in ("gs_data.json", "gs_history.json")
]


@pytest.mark.parametrize(("rel", "damage"), DAMAGED)
def test_a_corrupt_output_never_replaces_good_data(
    tmp_path: Path, two_shards: Shards, merged: Path, rel: str, damage: str
) -> None:
    _, dirs = two_shards
    sid, other = first_author(dirs[0]), first_author(dirs[1])
    path = dirs[0] / sid / rel
    if rel == "state.json":
        path.write_text('{"stale": true, "stale_since": "2026-01-01T00:00:00Z"}\n', encoding="utf-8")
    good = path.read_bytes()
    if damage == "truncated":
        path.write_bytes(good[: len(good) // 2])
    elif damage == "not json":
        path.write_bytes(b"<html>evil</html>\n")
    else:
        path.write_bytes((dirs[1] / other / rel).read_bytes())
    before = without_lock(tree(merged))
    stderr, after = merge_again(dirs, merged)
    assert f"skipped: {path}: " in stderr, stderr
    assert "; not merged" in stderr.split(f"skipped: {path}: ")[1].splitlines()[0]
    # The data folder keeps what it held (outputs are rebuilt from the newest snapshot,
    # which gives the same bytes), and every file reads.
    assert without_lock(after) == {k: v for k, v in before.items() if k != f"{sid}/state.json"}
    assert read_json(merged / sid / "gs_data.json")["scholar_id"] == sid


def test_a_truncated_snapshot_is_skipped_and_the_last_good_one_stays_the_newest(
    tmp_path: Path, two_shards: Shards, merged: Path
) -> None:
    _, dirs = two_shards
    sid = first_author(dirs[0])
    good = snapshots(dirs[0], sid)[-1]
    cut = good.with_name("29990101T000000Z.json")
    cut.write_bytes(good.read_bytes()[:100])
    stderr, _ = merge_again(dirs, merged)
    assert f"skipped: {cut}: " in stderr
    assert not (merged / sid / "snapshots" / cut.name).exists()
    assert [p.name for p in snapshots(merged, sid)] == [p.name for p in snapshots(dirs[0], sid)][:-1]


def test_foreign_files_are_skipped_with_a_line_each_and_never_copied(
    tmp_path: Path, two_shards: Shards, merged: Path
) -> None:
    _, dirs = two_shards
    sid = first_author(dirs[0])
    (dirs[0] / sid / "evil.html").write_text("<script>alert(1)</script>\n", encoding="utf-8")
    (dirs[0] / "evil.html").write_text("<script>alert(1)</script>\n", encoding="utf-8")
    (dirs[0] / sid / "badges" / "evil.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>\n', encoding="utf-8"
    )
    junk = dirs[0] / sid / "junk"
    junk.mkdir()
    for n in range(20_000):
        os.close(os.open(junk / f"{n}.json", os.O_WRONLY | os.O_CREAT, 0o644))
    before = without_lock(tree(merged))
    stderr, after = merge_again(dirs, merged)
    assert without_lock(after) == before
    skipped = [line for line in stderr.splitlines() if line.startswith("skipped: ")]
    assert len(skipped) == 20_003
    assert f"skipped: {dirs[0] / 'evil.html'}: not an author's folder; not merged" in skipped
    assert f"skipped: {dirs[0] / sid / 'evil.html'}: not a file scholar-stats writes; not merged" in skipped
    assert any(str(dirs[0] / sid / "badges" / "evil.svg") in line for line in skipped)


@pytest.mark.parametrize("rel", ["gs_data.json", "snapshots/29990101T000000Z.json"])
def test_a_3_gb_file_is_refused_by_its_size_without_reading_it(
    tmp_path: Path, two_shards: Shards, merged: Path, rel: str
) -> None:
    _, dirs = two_shards
    sid = first_author(dirs[0])
    huge = dirs[0] / sid / rel
    with open(huge, "wb") as handle:
        handle.truncate(3 * 1024**3)  # sparse: no disk used, and nothing to read but NULs
    before = without_lock(tree(merged))
    stderr, after = merge_again(dirs, merged)
    assert "MemoryError" not in stderr
    limit = MAX_OUTPUT_BYTES if rel == "gs_data.json" else MAX_SNAPSHOT_BYTES
    assert f"skipped: {huge} is {3 * 1024**3} bytes, more than the {limit}" in stderr
    assert without_lock(after) == before


def test_a_fifo_or_a_link_in_a_shard_is_skipped_and_merge_does_not_hang(
    tmp_path: Path, two_shards: Shards, merged: Path
) -> None:
    _, dirs = two_shards
    sid = first_author(dirs[0])
    os.mkfifo(dirs[0] / sid / "snapshots" / "29990101T000000Z.json")
    gs_data = dirs[0] / sid / "gs_data.json"
    gs_data.unlink()
    gs_data.symlink_to("/dev/zero")
    before = without_lock(tree(merged))
    stderr, after = merge_again(dirs, merged)  # scholar_stats' timeout fails the test on a hang
    assert without_lock(after) == before
    assert "29990101T000000Z.json is not a regular file; ignored" in stderr
    assert f"{gs_data} is a symbolic link; ignored" in stderr


def test_a_differing_snapshot_of_the_same_name_is_never_replaced(
    tmp_path: Path, two_shards: Shards, merged: Path
) -> None:
    _, dirs = two_shards
    sid = first_author(dirs[0])
    theirs = snapshots(dirs[0], sid)[-1]
    record = json.loads(theirs.read_bytes())
    record["metrics"]["citations"] += 1
    theirs.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    ours = merged / sid / "snapshots" / theirs.name
    kept = ours.read_bytes()
    stderr, _ = merge_again(dirs, merged)
    assert ours.read_bytes() == kept
    assert (
        f"note: {sid}: snapshots/{theirs.name} differs in {dirs[0]}; the copy in {merged} is kept" in stderr
    )


def test_a_stale_marker_beside_a_snapshot_is_masked_when_merged(
    tmp_path: Path, two_shards: Shards, merged: Path
) -> None:
    _, dirs = two_shards
    sid = first_author(dirs[0])
    (dirs[0] / sid / "state.json").write_text(
        json.dumps(
            {
                "stale": True,
                "stale_since": "2026-03-05T09:00:00Z",
                "last_attempt": "2026-03-05T09:00:00Z",
                "error": "ProxyError",
                "reason": "cannot reach http://bob:hunter2@proxy.example:8080",
                "exit_code": 3,
            }
        ),
        encoding="utf-8",
    )
    merge_again(dirs, merged)
    state = read_json(merged / sid / "state.json")
    assert "proxy.example" in state["reason"] and "hunter2" not in state["reason"]
    assert not any("hunter2" in p.read_text("utf-8", "replace") for p in merged.rglob("*") if p.is_file())


def test_files_that_are_not_ours_in_the_data_folder_stay_and_history_is_never_removed(
    tmp_path: Path, two_shards: Shards, merged: Path
) -> None:
    _, dirs = two_shards
    sid = first_author(dirs[0])
    notes = merged / sid / "notes.txt"
    notes.write_text("the lab's own\n", encoding="utf-8")
    series = merged / sid / "sources" / "openalex" / "snapshots"
    series.mkdir(parents=True)
    snapshot = series / snapshots(merged, sid)[0].name
    shutil.copy(snapshots(merged, sid)[0], snapshot)
    merge_again(dirs, merged)
    assert notes.read_text(encoding="utf-8") == "the lab's own\n"
    assert snapshot.is_file()


def test_merge_through_the_library_reports_what_it_skipped(tmp_path: Path, two_shards: Shards) -> None:
    ids, dirs = two_shards
    sid = first_author(dirs[0])
    (dirs[0] / sid / "gs_data.json").write_bytes(b"{")
    summary = merge(dirs, tmp_path / "merged", expected=ids)
    assert summary.skipped == [
        f"{dirs[0] / sid / 'gs_data.json'}: Expecting property name enclosed in "
        "double quotes: line 1 column 2 (char 1); not merged"
    ]
    assert sid in summary.merged
    assert read_json(tmp_path / "merged" / sid / "gs_data.json")["scholar_id"] == sid


@pytest.mark.parametrize(
    ("rel", "known"),
    [
        ("gs_data.json", True),
        ("gs_data_shieldsio.json", True),
        ("gs_history.json", True),
        ("state.json", True),
        (".outputs.json", True),
        ("matches.toml", True),
        ("snapshots/20260101T000000Z.json", True),
        ("snapshots/20260101T000000Z_3.json", True),
        ("sources/openalex/snapshots/20260101T000000Z.json", True),
        ("matches/openalex.json", True),
        ("badges/citations.json", True),
        ("badges/h-index.svg", True),
        ("badges/pubs/u5HHmVD_uO8C.json", True),
        ("evil.html", False),
        ("snapshots/latest.json", False),
        ("snapshots/20260101T000000Z.json.bak", False),
        ("badges/evil.html", False),
        ("badges/pubs/deep/x.json", False),
        ("sources/../snapshots/20260101T000000Z.json", False),
        ("sources/Open Alex/snapshots/20260101T000000Z.json", False),
        ("matches/x.html", False),
        ("site/index.html", False),
    ],
)
def test_the_layout_names_what_run_writes_and_nothing_else(rel: str, known: bool) -> None:
    assert (layout_kind(rel) is not None) is known


def test_merge_with_config_rebuilds_refused_outputs_in_its_style(tmp_path: Path, two_shards: Shards) -> None:
    ids, dirs = two_shards
    sid = first_author(dirs[0])
    (dirs[0] / sid / "badges" / "citations.svg").write_bytes(b"not an svg")
    config = write_config(tmp_path, ids)
    into = tmp_path / "merged"
    result = scholar_stats("merge", *dirs, "--into", into, "--config", config)
    assert result.returncode == 0, result.stderr
    assert f"note: {sid}: outputs in {dirs[0]} failed their checks; rebuilt from its newest snapshot" in (
        result.stderr
    )
    assert (into / sid / "badges" / "citations.svg").read_bytes().startswith(b"<svg")


_STYLES = [
    BadgeStyle(),
    BadgeStyle(label_color="#333", style="for-the-badge", cache_seconds=300),
    BadgeStyle(logo=None, number_format="short", color="rgb(1, 2, 3)"),
    BadgeStyle(logo="data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=", cache_seconds=86400),
]


@pytest.mark.parametrize("style", _STYLES)
@pytest.mark.parametrize("label", ["citations", "h-index", "group citations (OpenAlex)"])
def test_a_badge_as_our_writer_makes_it_is_known_by_its_bytes(style: BadgeStyle, label: str) -> None:
    endpoint, svg = _badge_pair(label, "1,234", style)
    assert endpoint_as_written(endpoint) and svg_as_written(svg)
    assert layout_kind("badges/citations.json").check(endpoint, "x") is None  # type: ignore[union-attr]
    assert layout_kind("badges/citations.svg").check(svg, "x") is None  # type: ignore[union-attr]


_WRITTEN = _badge_pair("citations", "12", BadgeStyle())


def _json_check(data: bytes) -> bool:
    try:
        value = json.loads(data)
    except ValueError:
        return False
    return (
        isinstance(value, dict)
        and value.get("schemaVersion") == 1
        and isinstance(value.get("label"), str)
        and isinstance(value.get("message"), str)
    )


@pytest.mark.parametrize(
    "data",
    [
        _WRITTEN[0],
        _WRITTEN[0].replace(b'"cacheSeconds": 3600', b'"cacheSeconds": 03600'),
        _WRITTEN[0].replace(b'"cacheSeconds": 3600', b'"cacheSeconds": 3600,\n  "label": 5'),
        _WRITTEN[0].replace(b'"label": "citations"', b'"label": 7'),
        _WRITTEN[0].replace(b'"message": "12"', b'"message": "1\\"2"'),
        _WRITTEN[0].replace(b'"citations"', '"引用"'.encode()),
        _WRITTEN[0].replace(b'"citations"', b'"cit\xffations"'),
        _WRITTEN[0].replace(b'"citations"', b'"cit\x01ations"'),
        _WRITTEN[0].replace(b'"schemaVersion": 1', b'"schemaVersion": 2'),
        _WRITTEN[0][:-3],
        _WRITTEN[0] + b"{}",
        b'{"schemaVersion": 1, "label": "a", "message": "b"}',
        b"[1]",
    ],
)
def test_a_badge_known_by_its_bytes_is_one_the_json_check_accepts(data: bytes) -> None:
    """The shortcut only ever says yes where reading the JSON says yes too, and the check says
    what reading the JSON says, whichever way it went."""
    assert not endpoint_as_written(data) or _json_check(data)
    kind = layout_kind("badges/pubs/x.json")
    assert kind is not None
    try:
        kind.check(data, "x")
    except ValueError:
        assert not _json_check(data)
    else:
        assert _json_check(data)


def _svg_check(data: bytes) -> bool:
    try:
        text = data.decode("utf-8")
    except ValueError:
        return False
    return (
        text.startswith('<svg xmlns="http://www.w3.org/2000/svg"')
        and text.rstrip().endswith("</svg>")
        and "<script" not in text.lower()
        and "<foreignobject" not in text.lower()
    )


@pytest.mark.parametrize(
    "data",
    [
        _WRITTEN[1],
        _WRITTEN[1] + b"\n \t",
        _WRITTEN[1] + b"\x1c",
        _WRITTEN[1] + "\u2003".encode(),
        _WRITTEN[1].replace(b"</g></svg>", b"<SCRIPT>x</SCRIPT></g></svg>"),
        _WRITTEN[1].replace(b"</g></svg>", b"<foreignObject/></g></svg>"),
        _WRITTEN[1].replace(b"citations", "引用".encode()),
        _WRITTEN[1].replace(b"citations", b"cit\xffations"),
        b"<svg>" + _WRITTEN[1],
        _WRITTEN[1][:-1],
    ],
)
def test_an_svg_known_by_its_bytes_is_one_the_text_check_accepts(data: bytes) -> None:
    assert not svg_as_written(data) or _svg_check(data)
    kind = layout_kind("badges/pubs/x.svg")
    assert kind is not None
    try:
        kind.check(data, "x")
    except ValueError:
        assert not _svg_check(data)
    else:
        assert _svg_check(data)
