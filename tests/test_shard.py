"""Shards and merging: `run --shard K/N` fetches a stable, balanced share of the authors,
`merge` puts the shard folders back together without losing or inventing anything."""

from __future__ import annotations

import json
import random
import shutil
import string
from collections import Counter
from pathlib import Path

import pytest
from clitools import config_file
from replay import Captcha, ReplayServer
from test_run import no_proxy, read_json, run_cli, scholar_stats, snapshots, tree

from crawler.config import load_config
from crawler.errors import StorageError, UsageError
from crawler.merge import merge
from crawler.shard import Shard, _hash, assign, for_shard, parse_shard, select
from crawler.sources import AuthorRef

ALPHABET = string.ascii_letters + string.digits + "_-"
# Autouse, from the run tests: proxies and a CI step summary stay out.
_ = no_proxy


def scholar_ids(n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(ALPHABET) for _ in range(8)) + "AAAJ" for _ in range(n)]


# -- assignment ---------------------------------------------------------------------


@pytest.mark.parametrize("text", ["0/3", "4/3", "1/0", "a/b", "1/300", "", "-1/3", "1/3/4", "3", "1 of 3"])
def test_bad_shard_is_a_usage_error(text: str) -> None:
    with pytest.raises(UsageError):
        parse_shard(text)


def test_good_shard() -> None:
    assert parse_shard("2/10") == Shard(2, 10)
    assert parse_shard(" 1 / 1 ") == Shard(1, 1)


@pytest.mark.parametrize(("n", "count"), [(500, 10), (20, 4), (7, 3), (3, 5), (1, 1), (101, 7)])
def test_every_author_in_exactly_one_shard_and_sizes_differ_by_at_most_one(n: int, count: int) -> None:
    ids = scholar_ids(n, seed=n)
    shards = assign(ids, count)
    assert sorted(shards) == sorted(ids)
    sizes = [list(shards.values()).count(k) for k in range(1, count + 1)]
    assert sum(sizes) == n
    assert max(sizes) - min(sizes) <= 1, sizes


def test_assignment_does_not_depend_on_the_order_of_the_authors() -> None:
    ids = scholar_ids(200)
    shuffled = list(ids)
    random.Random(5).shuffle(shuffled)
    assert assign(ids, 10) == assign(shuffled, 10)
    authors = tuple(AuthorRef(sid) for sid in ids)
    picked = select(authors, Shard(3, 10))
    assert [a.scholar_id for a in picked] == [sid for sid in ids if assign(ids, 10)[sid] == 3]


def test_adding_or_removing_an_author_moves_few_others() -> None:
    # docs/labs.md (bench/shard_assignment.py): about 3 of 500 move on average, 6 at most
    # in 400 additions; these IDs are fixed, so the bound is checked, never sampled.
    ids = scholar_ids(500)
    before = assign(ids, 10)
    added, removed = [], []
    for extra in scholar_ids(20, seed=99):
        after = assign([*ids, extra], 10)
        added.append(sum(before[sid] != after[sid] for sid in ids))
    for gone in ids[::25]:
        after = assign([sid for sid in ids if sid != gone], 10)
        removed.append(sum(before[sid] != after[sid] for sid in after))
    for moves in (added, removed):
        assert max(moves) <= 10, moves
        assert sum(moves) / len(moves) <= 5, moves


def test_pure_hashing_would_leave_shards_far_apart() -> None:
    """Why the shards hold their share: each author in its first-ranked shard, whatever the
    others, would never move anyone but leaves 500 authors in shards tens of authors apart."""
    ids = scholar_ids(500)
    first = Counter(max(range(1, 11), key=lambda k: (_hash(f"{sid}/{k}"), k)) for sid in ids)
    assert max(first.values()) - min(first.values()) > 10, first
    balanced = Counter(assign(ids, 10).values())
    assert max(balanced.values()) - min(balanced.values()) == 0


def test_per_shard_proxy_and_delay_lists(tmp_path: Path) -> None:
    path = config_file(
        tmp_path,
        'proxy = ["http://a.example:3128", "http://b.example:3128"]\ndelay = [1, 2, 3]\n'
        '[[authors]]\nid = "amIMrIEAAAAJ"\n',
    )
    config = load_config(path)
    assert config.http.proxy == "http://a.example:3128" and config.http.delay == 1.0
    got = [
        (for_shard(config, Shard(k, 5)).http.proxy, for_shard(config, Shard(k, 5)).http.delay)
        for k in range(1, 6)
    ]
    assert got == [
        ("http://a.example:3128", 1.0),
        ("http://b.example:3128", 2.0),
        ("http://a.example:3128", 3.0),
        ("http://b.example:3128", 1.0),
        ("http://a.example:3128", 2.0),
    ]
    # One value on the command line is for every shard.
    config = load_config(path, http={"proxy": "http://c.example:3128", "delay": 0.5})
    assert for_shard(config, Shard(2, 2)).http.proxy == "http://c.example:3128"
    assert for_shard(config, Shard(2, 2)).http.delay == 0.5


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("proxy = []", "proxy: an empty list"),
        ('proxy = ["http://a:1", 3]', "proxy: each entry must be a non-empty string"),
        ('proxy = ["http://a:1", ""]', "proxy: each entry must be a non-empty string"),
        ("proxy = 3", "proxy: must be a string or a list of strings"),
        ("delay = []", "delay: an empty list"),
        ('delay = [1, "2"]', "delay: must be a number"),
        ("delay = [1, -2]", "delay: must be a number"),
    ],
)
def test_bad_per_shard_lists_name_file_line_and_key(tmp_path: Path, line: str, message: str) -> None:
    path = config_file(tmp_path, f'{line}\n[[authors]]\nid = "amIMrIEAAAAJ"\n')
    result = scholar_stats("run", "--config", path, "--shard", "1/2")
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(f"error: {path}:1: {message}"), result.stderr
    assert result.stderr.count("\n") == 1


def test_each_shard_leaves_through_its_own_proxy(tmp_path: Path) -> None:
    # Two local servers act as the proxies (a proxy sees the absolute URL and
    # answers it); Scholar's own address is unreachable.
    ids = scholar_ids(4, seed=3)
    with ReplayServer() as first, ReplayServer() as second:
        for server in (first, second):
            for sid in ids:
                server.add_profile(sid, 3)
        config = tmp_path / "scholar-stats.toml"
        config.write_text(
            f'proxy = ["{first.url}", "{second.url}"]\nbase_url = "http://scholar.invalid"\n'
            "delay = 0\nretries = 0\n" + "".join(f'[[authors]]\nid = "{sid}"\n' for sid in ids),
            encoding="utf-8",
        )
        for k in (1, 2):
            result = scholar_stats("run", "--config", config, "--shard", f"{k}/2")
            assert result.returncode == 0, result.stderr
        shards = assign(ids, 2)
        assert {r.query["user"] for r in first.profile_requests()} == {s for s in ids if shards[s] == 1}
        assert {r.query["user"] for r in second.profile_requests()} == {s for s in ids if shards[s] == 2}


# -- run --shard --------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["0/2", "3/2", "x", "1/0"])
def test_run_with_a_bad_shard_exits_2_before_any_request(
    replay: ReplayServer, tmp_path: Path, bad: str
) -> None:
    replay.add_profile("rUnTeStPrOf1", 3)
    result = run_cli(replay, tmp_path / "data", "rUnTeStPrOf1", extra=("--shard", bad))
    assert result.returncode == 2
    assert result.stderr.startswith("error: --shard") and result.stderr.count("\n") == 1
    assert replay.requests == []
    assert not (tmp_path / "data").exists()


def test_shard_with_author_splits_the_given_authors(replay: ReplayServer, tmp_path: Path) -> None:
    ids = scholar_ids(5, seed=11)
    for sid in ids:
        replay.add_profile(sid, 3)
    shards = assign(ids, 2)
    fetched: set[str] = set()
    for k in (1, 2):
        data = tmp_path / f"shard-{k}"
        result = run_cli(replay, data, *ids, extra=("--shard", f"{k}/2"))
        assert result.returncode == 0, result.stderr
        mine = {sid for sid in ids if shards[sid] == k}
        assert {p.name for p in data.iterdir() if p.is_dir()} == mine
        assert not mine & fetched
        fetched |= mine
    assert fetched == set(ids)


def test_an_empty_shard_is_success_and_writes_nothing(replay: ReplayServer, tmp_path: Path) -> None:
    replay.add_profile("rUnTeStPrOf1", 3)
    empty = next(k for k in range(1, 4) if assign(["rUnTeStPrOf1"], 3).get("rUnTeStPrOf1") != k)
    result = run_cli(
        replay, tmp_path / "data", "rUnTeStPrOf1", extra=("--shard", f"{empty}/3", "--summary", "-")
    )
    assert result.returncode == 0, result.stderr
    assert f"shard {empty}/3 has no authors" in result.stderr
    assert json.loads(result.stdout)["authors"] == []
    assert replay.requests == []
    assert not (tmp_path / "data").exists()


# -- merge --------------------------------------------------------------------------


@pytest.fixture
def two_shards(replay: ReplayServer, tmp_path: Path) -> tuple[list[str], list[Path]]:
    ids = scholar_ids(6, seed=21)
    for sid in ids:
        replay.add_profile(sid, 5)
    dirs = []
    for k in (1, 2):
        data = tmp_path / f"shard-{k}"
        result = run_cli(replay, data, *ids, extra=("--shard", f"{k}/2"))
        assert result.returncode == 0, result.stderr
        dirs.append(data)
    return ids, dirs


def write_config(tmp_path: Path, ids: list[str]) -> Path:
    return config_file(tmp_path, "".join(f'[[authors]]\nid = "{sid}"\n' for sid in ids))


def test_merge_equals_one_unsharded_run_and_is_idempotent(
    replay: ReplayServer, tmp_path: Path, two_shards: tuple[list[str], list[Path]]
) -> None:
    ids, dirs = two_shards
    into = tmp_path / "merged"
    config = write_config(tmp_path, ids)
    result = scholar_stats("merge", *dirs, "--into", into, "--config", config)
    assert result.returncode == 0, result.stderr
    assert "merged 6 authors from 2 shard folders" in result.stderr
    expected = {**tree(dirs[0]), **tree(dirs[1])}
    expected.pop(".scholar-stats.lock", None)
    merged = tree(into)
    merged.pop(".scholar-stats.lock", None)
    group = {k for k in merged if k in ("group.json", ".outputs.json") or k.startswith("badges/group-")}
    # group.json, the two group badges (crawler.outputs.group_numbers) and what they were built from.
    assert len(group) == 6
    assert {k: v for k, v in merged.items() if k not in group} == expected
    mtimes = {p: p.stat().st_mtime_ns for p in into.rglob("*") if p.is_file()}
    again = scholar_stats("merge", *dirs, "--into", into, "--config", config)
    assert again.returncode == 0, again.stderr
    assert "0 files written, 0 removed" in again.stderr
    assert {p: p.stat().st_mtime_ns for p in into.rglob("*") if p.is_file()} == mtimes


def test_an_author_in_two_shards_is_exit_2_naming_it_and_nothing_is_written(
    tmp_path: Path, two_shards: tuple[list[str], list[Path]]
) -> None:
    _ids, dirs = two_shards
    moved = next(p for p in dirs[0].iterdir() if p.is_dir())
    (dirs[1] / moved.name).mkdir()
    into = tmp_path / "merged"
    result = scholar_stats("merge", *dirs, "--into", into)
    assert result.returncode == 2
    assert (
        result.stderr.startswith("error: ") and moved.name in result.stderr and result.stderr.count("\n") == 1
    )
    assert not into.exists()


def test_a_failed_shard_keeps_the_last_good_data_marked_stale_and_nothing_else_is_touched(
    replay: ReplayServer, tmp_path: Path, two_shards: tuple[list[str], list[Path]]
) -> None:
    ids, dirs = two_shards
    config = write_config(tmp_path, ids)
    into = tmp_path / "merged"
    assert scholar_stats("merge", *dirs, "--into", into, "--config", config).returncode == 0
    (into / "notes.txt").write_text("the lab's own file\n", encoding="utf-8")
    (into / "zzzzzzzzAAAJ").mkdir()
    (into / "zzzzzzzzAAAJ" / "keep.json").write_text("{}\n", encoding="utf-8")
    before = tree(into)
    # Shard 2 never uploaded: only shard 1 is merged.
    result = scholar_stats("merge", dirs[0], "--into", into, "--config", config)
    assert result.returncode == 0, result.stderr
    lost = sorted(p.name for p in dirs[1].iterdir() if p.is_dir())
    after = tree(into)
    for sid in lost:
        assert f"{sid}: STALE" in result.stderr
        state = read_json(into / sid / "state.json")
        assert state["stale"] is True and state["error"] == "ShardMissing"
        # The last good numbers, and outputs that say since when they are stale, as a blocked
        # run's do; the history, the badges and everything else as they were.
        gs_data, last_good = (
            read_json(into / sid / "gs_data.json"),
            json.loads((dirs[1] / sid / "gs_data.json").read_bytes()),
        )
        assert gs_data.pop("stale_since") == state["stale_since"]
        assert gs_data == last_good
        rewritten = {
            f"{sid}/state.json",
            f"{sid}/.attempt.json",
            f"{sid}/gs_data.json",
            f"{sid}/.outputs.json",
        }
        assert {k: v for k, v in after.items() if k.startswith(sid + "/") and k not in rewritten} == {
            k: v for k, v in before.items() if k.startswith(sid + "/") and k not in rewritten
        }

    def others(files: dict[str, str]) -> dict[str, str]:
        # group.json (and what it was built from) changes with its members' staleness: the merge's own.
        return {
            k: v
            for k, v in files.items()
            if not any(k.startswith(s + "/") for s in lost) and k not in ("group.json", ".outputs.json")
        }

    assert others(after) == others(before)
    assert after["notes.txt"] == before["notes.txt"] and "zzzzzzzzAAAJ/keep.json" in after
    # Merging the same again changes nothing, not even the stale markers' times.
    again = scholar_stats("merge", dirs[0], "--into", into, "--config", config)
    assert "0 files written" in again.stderr
    assert tree(into) == after
    # When the shard comes back, the author is fresh again.
    back = scholar_stats("merge", *dirs, "--into", into, "--config", config)
    assert back.returncode == 0
    for sid in lost:
        assert not (into / sid / "state.json").exists()


@pytest.fixture
def merged(tmp_path: Path, two_shards: tuple[list[str], list[Path]]) -> Path:
    into = tmp_path / "merged"
    assert scholar_stats("merge", *two_shards[1], "--into", into).returncode == 0
    return into


def test_an_author_blocked_in_its_shard_keeps_its_history_and_is_stale(
    replay: ReplayServer, tmp_path: Path, two_shards: tuple[list[str], list[Path]], merged: Path
) -> None:
    ids, dirs = two_shards
    into = merged
    victim = sorted(p.name for p in dirs[0].iterdir() if p.is_dir())[0]
    history = snapshots(into, victim)
    # The next day: shard 1 starts from nothing (its restore found no folder),
    # and Scholar blocks it.
    fresh = tmp_path / "shard-1-again"
    replay.set_scenario(victim, Captcha())
    result = run_cli(replay, fresh, *ids, extra=("--shard", "1/2"))
    assert result.returncode == 3
    result = scholar_stats("merge", fresh, dirs[1], "--into", into)
    assert result.returncode == 0, result.stderr
    assert f"{victim}: STALE" in result.stderr
    assert snapshots(into, victim) == history
    assert (into / victim / "gs_data.json").is_file()
    assert read_json(into / victim / "state.json")["exit_code"] == 3


def test_merge_keeps_history_a_shard_did_not_restore(
    two_shards: tuple[list[str], list[Path]], merged: Path
) -> None:
    dirs, into = two_shards[1], merged
    sid = sorted(p.name for p in dirs[0].iterdir() if p.is_dir())[0]
    old = snapshots(into, sid)[0]
    for snap in snapshots(dirs[0], sid):
        snap.unlink()
    # A shard folder holding an older snapshot than the data folder does not roll it back.
    newer = old.with_name("29990101T000000Z.json")
    newer.write_bytes(old.read_bytes())
    result = scholar_stats("merge", *dirs, "--into", into)
    assert result.returncode == 0
    assert newer.exists() and old.exists()


def test_merge_refuses_links_out_of_the_data_folder(
    tmp_path: Path, two_shards: tuple[list[str], list[Path]]
) -> None:
    dirs = two_shards[1]
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = tmp_path / "secret.txt"
    secret.write_text("do not copy\n", encoding="utf-8")
    sid = sorted(p.name for p in dirs[0].iterdir() if p.is_dir())[0]
    # A planted link in a shard is not followed (not read) ...
    (dirs[0] / sid / "leak.json").symlink_to(secret)
    into = tmp_path / "merged"
    assert scholar_stats("merge", *dirs, "--into", into).returncode == 0
    assert not (into / sid / "leak.json").exists()
    # ... and a link in the data folder does not carry a write outside it.
    other = sorted(p.name for p in dirs[1].iterdir() if p.is_dir())[0]
    target = into / other
    for path in sorted(target.rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()
    target.rmdir()
    target.symlink_to(outside)
    before = tree(into)
    result = scholar_stats("merge", *dirs, "--into", into)
    assert result.returncode == 8
    last = result.stderr.splitlines()[-1]
    assert last.startswith("error: ") and "symbolic link" in last
    assert list(outside.iterdir()) == []
    assert tree(into) == before
    with pytest.raises(StorageError):
        merge(dirs, into)


def test_merge_usage_errors(tmp_path: Path) -> None:
    result = scholar_stats("merge", tmp_path / "nowhere", "--into", tmp_path / "data")
    assert result.returncode == 2 and "no such shard folder" in result.stderr
    result = scholar_stats("merge", "--into", tmp_path / "data")
    assert result.returncode == 2
    (tmp_path / "data").mkdir()
    result = scholar_stats("merge", tmp_path / "data", "--into", tmp_path / "data")
    assert result.returncode == 2 and "both a shard folder" in result.stderr


def test_a_shards_stale_marker_from_an_older_version_is_masked_when_merged(
    tmp_path: Path, two_shards: tuple[list[str], list[Path]]
) -> None:
    _, dirs = two_shards
    into = tmp_path / "merged"
    assert scholar_stats("merge", *dirs, "--into", into).returncode == 0
    victim = sorted(p.name for p in dirs[0].iterdir() if p.is_dir())[0]
    fresh = tmp_path / "shard-1-old"
    (fresh / victim).mkdir(parents=True)
    # Written by a version that did not redact reasons; this shard has no snapshot of it.
    (fresh / victim / "state.json").write_text(
        json.dumps(
            {
                "stale": True,
                "stale_since": "2026-03-05T09:00:00Z",
                "last_attempt": "2026-03-05T09:00:00Z",
                "error": "ProxyError",
                "reason": "cannot reach socks5://bob:hunter2@proxy.example:1080",
                "exit_code": 4,
            }
        ),
        encoding="utf-8",
    )
    result = scholar_stats("merge", fresh, dirs[1], "--into", into)
    assert result.returncode == 0, result.stderr
    state = read_json(into / victim / "state.json")
    assert "proxy.example" in state["reason"] and "hunter2" not in state["reason"]


@pytest.mark.parametrize("where", ["badges", "badges/pubs", "snapshots"])
def test_merge_refuses_a_link_deep_in_the_data_folder_and_follows_none_in_a_shard(
    tmp_path: Path, two_shards: tuple[list[str], list[Path]], where: str
) -> None:
    dirs = two_shards[1]
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.json").write_text('{"secret": true}\n', encoding="utf-8")
    sid = sorted(p.name for p in dirs[0].iterdir() if p.is_dir())[0]
    # A folder of a shard that is a link is not walked into.
    shutil.rmtree(dirs[1] / sorted(p.name for p in dirs[1].iterdir() if p.is_dir())[0] / where)
    planted = dirs[1] / sorted(p.name for p in dirs[1].iterdir() if p.is_dir())[0] / where
    planted.symlink_to(outside, target_is_directory=True)
    into = tmp_path / "merged"
    assert scholar_stats("merge", *dirs, "--into", into).returncode == 0
    assert not any("secret" in p.name for p in into.rglob("*"))
    # A folder of the data folder that is a link stops the merge before its first write.
    shutil.rmtree(into / sid / where)
    (into / sid / where).symlink_to(outside, target_is_directory=True)
    before = tree(into)
    result = scholar_stats("merge", *dirs, "--into", into)
    assert result.returncode == 8 and "symbolic link" in result.stderr.splitlines()[-1], result.stderr
    assert sorted(p.name for p in outside.iterdir()) == ["secret.json"]
    assert tree(into) == before


def test_the_merged_folder_shares_no_file_with_a_shard(
    tmp_path: Path, two_shards: tuple[list[str], list[Path]], merged: Path
) -> None:
    """A shard folder is not ours (an artifact download may later overwrite its files in place):
    every merged file is a file of its own, and changing a shard after the merge changes nothing."""
    _ids, dirs = two_shards
    before = tree(merged)
    seen = 0
    for shard in dirs:
        for path in shard.rglob("*.json"):
            there = merged / path.relative_to(shard)
            if there.exists():
                assert there.stat().st_nlink == 1 and there.stat().st_ino != path.stat().st_ino, there
                path.write_bytes(b"overwritten in place")
                seen += 1
    assert seen >= 6 * 3  # per author at least a snapshot, gs_data.json and a badge
    assert tree(merged) == before
    assert not [p for p in merged.rglob("*.tmp")]
