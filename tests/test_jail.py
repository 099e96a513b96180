"""The data folder is a jail: no write, rename or removal goes through a symbolic link out of it.

A link planted in the data folder (a shared machine, a careless ``ln -s``, a
restored branch) must not let a run overwrite or delete files elsewhere.
Each case runs the real command against the local Scholar and checks that the
files outside are byte-identical afterwards and that the message names the link.
"""

from __future__ import annotations

import ast
import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from replay import ReplayServer
from test_run import run_cli, tree

from crawler.errors import ExitCode, StorageError
from crawler.history.dashboard.build import build_site
from crawler.models import AuthorRecord, Metrics, Profile
from crawler.storage.stale import mark_stale
from crawler.storage.store import (
    AuthorStore,
    atomic_write_bytes,
    confine,
    remove_file,
    remove_temp_files,
    write_if_changed,
)

SID = "jAiLtEsTiD_A"
PUB = f"{SID}:gOnEpAPeR000"


@pytest.fixture(autouse=True)
def no_proxy(clean_environment: None) -> None:
    """Local servers are reached directly, with no proxy or scholar-stats setting of this machine."""


def outside_folder(tmp_path: Path) -> Path:
    """Files a run must never touch: a badge it would overwrite, one it would delete, a temp-looking file."""
    outside = tmp_path / "elsewhere"
    (outside / "pubs").mkdir(parents=True)
    (outside / "citations.json").write_text("precious\n")
    (outside / "citations.svg").write_text("precious svg\n")
    (outside / "pubs" / f"{PUB}.json").write_text("a publication badge that looks stale\n")
    (outside / ".citations.json.abc123.tmp").write_text("looks like a leftover\n")
    (outside / "20250101T000000Z.json").write_text("not a snapshot of ours\n")
    return outside


@pytest.mark.parametrize("where", ["badges", "badges/pubs", "snapshots", ""])
def test_a_link_out_of_the_data_folder_is_refused_and_nothing_outside_changes(
    replay: ReplayServer, tmp_path: Path, where: str
) -> None:
    replay.add_profile(SID, 30)
    data = tmp_path / "data"
    outside = outside_folder(tmp_path)
    link = data / SID / where if where else data / SID
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(outside, target_is_directory=True)
    before = tree(outside)

    result = run_cli(replay, data, SID)

    assert result.returncode == ExitCode.STORAGE, result.stderr
    assert str(link) in result.stderr
    assert "symbolic link" in result.stderr and "outside the data folder" in result.stderr
    assert tree(outside) == before
    assert link.is_symlink()


def test_a_link_out_of_the_folder_after_a_good_run_keeps_the_outside_files(
    replay: ReplayServer, tmp_path: Path
) -> None:
    """The badge folder is swapped for a link between two runs, and the numbers change."""
    replay.add_profile(SID, 30, citations=400)
    data = tmp_path / "data"
    assert run_cli(replay, data, SID).returncode == 0
    outside = outside_folder(tmp_path)
    badges = data / SID / "badges"
    badges.rename(tmp_path / "old-badges")
    badges.symlink_to(outside, target_is_directory=True)
    before = tree(outside)
    replay.add_profile(SID, 30, citations=420)

    result = run_cli(replay, data, SID)

    assert result.returncode == ExitCode.STORAGE, result.stderr
    assert str(badges) in result.stderr
    assert tree(outside) == before


def test_links_that_stay_inside_the_data_folder_are_followed(replay: ReplayServer, tmp_path: Path) -> None:
    replay.add_profile(SID, 30)
    data = tmp_path / "data"
    (data / "kept" / SID).mkdir(parents=True)
    (data / SID).symlink_to(Path("kept") / SID, target_is_directory=True)

    result = run_cli(replay, data, SID)

    assert result.returncode == 0, result.stderr
    assert (data / "kept" / SID / "gs_data.json").is_file()
    assert len(list((data / "kept" / SID / "snapshots").iterdir())) == 1


def test_a_data_folder_that_is_itself_a_link_is_the_users_choice(
    replay: ReplayServer, tmp_path: Path
) -> None:
    replay.add_profile(SID, 30)
    real = tmp_path / "mounted"
    real.mkdir()
    (tmp_path / "data").symlink_to(real, target_is_directory=True)
    result = run_cli(replay, tmp_path / "data", SID)
    assert result.returncode == 0, result.stderr
    assert (real / SID / "gs_data.json").is_file()


# -- every writer of store.py takes the jail --------------------------------------------


@pytest.fixture
def linked(tmp_path: Path) -> tuple[Path, Path]:
    """``data/ID`` is a link to a folder outside ``data``."""
    data = tmp_path / "data"
    data.mkdir()
    outside = outside_folder(tmp_path)
    (data / SID).symlink_to(outside, target_is_directory=True)
    return data, outside


def test_every_writer_refuses_the_link(linked: tuple[Path, Path]) -> None:
    data, outside = linked
    before = tree(outside)
    attempts: list[Callable[[], object]] = [
        lambda: atomic_write_bytes(data / SID / "citations.json", b"x", jail=data),
        lambda: write_if_changed(data / SID / "citations.json", b"x", jail=data, durable=False),
        lambda: remove_file(data / SID / "citations.svg", jail=data),
        lambda: remove_temp_files(data / SID, jail=data),
        lambda: AuthorStore(data, SID).write_snapshot(
            AuthorRecord(Profile(SID, "A"), Metrics(citations=1), fetched_at=datetime(2026, 1, 2, tzinfo=UTC))
        ),
        lambda: mark_stale(data, SID, RuntimeError("down"), when=datetime(2026, 1, 2, tzinfo=UTC)),
    ]
    for attempt in attempts:
        with pytest.raises(StorageError, match="symbolic link"):
            attempt()
    assert tree(outside) == before


def test_a_chain_of_links_is_judged_by_where_it_ends(tmp_path: Path) -> None:
    data = tmp_path / "data"
    (data / "inside").mkdir(parents=True)
    outside = tmp_path / "out"
    outside.mkdir()
    (data / "hop").symlink_to(tmp_path / "data" / "inside")
    (data / "inside" / "away").symlink_to(outside)
    confine(data / "hop" / "file", data)
    with pytest.raises(StorageError, match="away"):
        confine(data / "hop" / "away" / "file", data)


def test_a_path_outside_the_jail_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="outside the data folder"):
        confine(tmp_path / "data" / ".." / "x", tmp_path / "data")


def test_the_last_name_may_be_a_link_it_is_replaced_not_followed(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("keep\n")
    (data / "gs_data.json").symlink_to(victim)
    atomic_write_bytes(data / "gs_data.json", b"new\n", jail=data)
    assert victim.read_text() == "keep\n"
    assert not (data / "gs_data.json").is_symlink()
    assert (data / "gs_data.json").read_bytes() == b"new\n"


# -- the dashboard writes and removes inside its folder only -------------------------------

OTHER = "jAiLtEsTiD_B"


def snapshot_of(data: Path, scholar_id: str) -> None:
    AuthorStore(data, scholar_id).write_snapshot(
        AuthorRecord(
            Profile(scholar_id, "A"),
            Metrics(citations=5),
            fetched_at=datetime(2026, 1, 2, tzinfo=UTC),
        )
    )


def test_the_dashboard_never_writes_through_a_link_out_of_its_folder(tmp_path: Path) -> None:
    data, out = tmp_path / "data", tmp_path / "data" / "site"
    snapshot_of(data, SID)
    build_site(data, out, authors=[SID])
    outside = outside_folder(tmp_path)
    shutil.rmtree(out / SID)
    (out / SID).symlink_to(outside, target_is_directory=True)
    before = tree(outside)
    with pytest.raises(StorageError, match="symbolic link"):
        build_site(data, out, authors=[SID])
    assert tree(outside) == before


def test_the_dashboard_never_removes_through_a_link_out_of_its_folder(tmp_path: Path) -> None:
    data, out = tmp_path / "data", tmp_path / "data" / "site"
    snapshot_of(data, SID)
    snapshot_of(data, OTHER)
    build_site(data, out, authors=[SID, OTHER])
    # The old author's pages are now a link to someone else's files of the same names.
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    for page in (out / OTHER).iterdir():
        (outside / page.name).write_text("precious\n")
    shutil.rmtree(out / OTHER)
    (out / OTHER).symlink_to(outside, target_is_directory=True)
    before = tree(outside)
    with pytest.raises(StorageError, match="symbolic link"):
        build_site(data, out, authors=[SID])
    assert tree(outside) == before


# -- every writer is known: a new one cannot bypass the jail unnoticed ---------------------

# Calls that write, rename or remove a file.  The jailed ones (crawler.storage.atomic's, given a
# jail) need no entry; every other one is listed below with why it may write where it does.
_WRITING_CALLS = {
    "write_if_changed",
    "atomic_write_bytes",
    "write_all_if_changed",
    "remove_file",
    "remove_temp_files",
    "atomic_writer",
    "write_bytes",
    "write_text",
    "unlink",
    "rmdir",
    "rename",
    "replace",
    "remove",
    "rmtree",
    "copy",
    "copy2",
    "copyfile",
    "copytree",
    "move",
    "symlink_to",
    "touch",
    "open",
}
UNJAILED_WRITERS = {
    # Files the user named on the command line (--out, --summary), not the data folder's.
    "crawler/history/plot.py:write_plot:atomic_write_bytes": "--out, a file the user named",
    "crawler/history/tables.py:output:atomic_writer": "--out, a file the user named",
    "crawler/history/tables.py:output:open": "--out, a file the user named",
    "crawler/commands/history.py:export_al_folio:atomic_write_bytes": "--out, a file the user named",
    "crawler/commands/run.py:_write_summary:atomic_write_bytes": "--summary, a file the user named",
    # Files GitHub Actions names in its environment.
    "crawler/history/report.py:append_step_summary:open": "GITHUB_STEP_SUMMARY, appended to",
    "crawler/outputs/annotations.py:main:open": "GITHUB_OUTPUT, appended to",
    # An emptied folder of the dashboard, once remove_file has confined the way to it.
    "crawler/history/dashboard/build.py:_remove_old:rmdir": "after remove_file(jail=out)",
    # The homepage repository's own jail (homepage.init._check_path refuses links and '..').
    "crawler/homepage/init.py:apply:atomic_write_bytes": "a path checked by _check_path",
    "crawler/homepage/init.py:apply:unlink": "a path checked by _check_path",
    # Badges: _Writer confines each folder once (confine(path, self.jail)) before queueing.
    "crawler/outputs/badges.py:flush:write_all_if_changed": "paths confined by _Writer._confine",
    "crawler/outputs/badges.py:flush:remove_file": "paths confined by _Writer._confine",
    # merge: every folder on the way is confined under the lock before the first write, and
    # its Batch (storage/batch.py) writes, moves and renames only into those folders, or puts
    # back into the shard folder what it moved out of it.
    "crawler/storage/batch.py:write:unlink": "its own temporary file, beside a confined path",
    "crawler/storage/batch.py:move:rename": "into a folder confined by merge before writing",
    "crawler/storage/batch.py:adopt_folder:unlink": "inside the private folder merge moved in first",
    # merge --move: an author's folder taken out of its shard into a folder merge made in the data
    # folder it holds locked (mkdir, never through a link), and what is left of it put back.
    "crawler/merge/staging.py:stage:rename": "into the staging folder merge made, under the lock",
    "crawler/merge/staging.py:put_back:rename": "what is left of a staged folder, back into its shard",
    "crawler/merge/staging.py:put_back:rmtree": "a staged folder's rest, its shard name taken",
    "crawler/merge/staging.py:_put_back_one:rename": "a killed merge's staged folder, back into its shard",
    "crawler/merge/staging.py:_remove_root:unlink": "the staging folder's own note",
    "crawler/merge/staging.py:_remove_root:rmdir": "the emptied staging folder",
    "crawler/storage/batch.py:_remove_emptied:rmdir": "emptied folders inside the folder it moves in",
    "crawler/storage/batch.py:commit:replace": "its temporaries, onto paths confined by merge",
    "crawler/storage/batch.py:discard:unlink": "its own temporary files",
    "crawler/storage/batch.py:discard:rename": "what it moved in, back where it came from",
    "crawler/storage/batch.py:_put_back:rename": "a file it moved in, back where it came from",
    "crawler/storage/batch.py:_put_back:unlink": "a file it moved in, when its old name is taken",
}


def _writer_calls() -> set[str]:
    """``file:function:call`` for every writing call in crawler/ that passes no jail."""
    root = Path(__file__).resolve().parent.parent
    found: set[str] = set()
    for path in sorted((root / "crawler").rglob("*.py")):
        if path.name == "atomic.py":
            continue  # the jail itself
        tree_ = ast.parse(path.read_text(encoding="utf-8"))
        for function in ast.walk(tree_):
            if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(function):
                if not isinstance(node, ast.Call):
                    continue
                name = (
                    node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
                )
                if name not in _WRITING_CALLS or not _writes(node, name):
                    continue
                jail = next((k.value for k in node.keywords if k.arg == "jail"), None)
                if jail is not None and not (isinstance(jail, ast.Constant) and jail.value is None):
                    continue
                found.add(f"{path.relative_to(root).as_posix()}:{function.name}:{name}")
    return found


def _writes(call: ast.Call, name: str) -> bool:
    """Whether a call of that name writes: ``open`` only in a writing mode, ``replace``
    only as ``os.replace``/``Path.replace`` with one argument (not ``str.replace``)."""
    if name == "open":
        method = isinstance(call.func, ast.Attribute)
        if method and isinstance(call.func.value, ast.Name) and call.func.value.id == "os":  # type: ignore[attr-defined]
            return False  # os.open: descriptors opened read-only (O_RDONLY) here
        # open(path, mode) or path.open(mode).
        positional = call.args[0:1] if method else call.args[1:2]
        modes = positional + [k.value for k in call.keywords if k.arg == "mode"]
        return any(isinstance(m, ast.Constant) and any(c in str(m.value) for c in "wax+") for m in modes)
    if name in ("replace", "remove", "copy", "move"):
        owner = call.func.value if isinstance(call.func, ast.Attribute) else None
        if isinstance(owner, ast.Name) and owner.id in ("os", "shutil"):
            return True
        return name == "replace" and len(call.args) == 1 and not call.keywords
    return True


def test_every_writer_outside_the_jail_is_known() -> None:
    found = _writer_calls()
    assert found, "the scan found no writer at all"
    new = sorted(found - set(UNJAILED_WRITERS))
    assert not new, f"writers that pass no jail (give them jail=, or list them with a reason): {new}"
    gone = sorted(set(UNJAILED_WRITERS) - found)
    assert not gone, f"listed writers that no longer exist: {gone}"
