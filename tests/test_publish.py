"""``publish`` against real git: a bare repository as the remote and real clones as the user's checkouts."""

from __future__ import annotations

import http.server
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sites import seeded_remote

from crawler.branch.git import Git
from crawler.branch.layout import data_files
from crawler.branch.publish import FALLBACK_EMAIL, FALLBACK_NAME, publish
from crawler.branch.restore import restore
from crawler.errors import PublishError
from crawler.net.cdn import repo_slug
from crawler.storage.store import LOCK_NAME, json_bytes

ALICE = "aliceAAAAAAJ"
BOB = "bobbbBBBBBBJ"
BRANCH = "google-scholar-stats"
PUB_BADGE = f"{ALICE}/badges/pubs/{ALICE}:u5HHmVD_uO8C.json"
UNICODE_FILE = f"{ALICE}/badges/pubs/{ALICE}:Ünïcødé_名前.json"


def no_sleep(_: float) -> None:
    pass


def git(cwd: Path, *args: str, check: bool = True) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=False)
    if check and proc.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {proc.stderr.decode()}")
    return proc.stdout.decode("utf-8").strip()


@pytest.fixture(autouse=True)
def isolated_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No identity and no settings from the machine: like a fresh CI runner."""
    empty = tmp_path / "empty-gitconfig"
    empty.write_text("")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(empty))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    for var in (
        "GIT_AUTHOR_NAME",
        "GIT_AUTHOR_EMAIL",
        "GIT_COMMITTER_NAME",
        "GIT_COMMITTER_EMAIL",
        "GIT_DIR",
    ):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.delenv("SCHOLAR_STATS_JSDELIVR_PURGE_URL", raising=False)


@pytest.fixture
def remote(tmp_path: Path) -> Path:
    """A bare repository named like a GitHub one, with a main branch."""
    return seeded_remote(tmp_path, tmp_path / "remotes" / "alice" / "alice.github.io.git")


def clone(remote: Path, where: Path) -> Path:
    git(where.parent, "clone", "--quiet", str(remote), str(where))
    return where


@pytest.fixture
def user(remote: Path, tmp_path: Path) -> Path:
    return clone(remote, tmp_path / "user")


def write_author(data: Path, scholar_id: str, citations: int, *, snapshot: str = "20250101T000000Z") -> None:
    folder = data / scholar_id
    (folder / "snapshots").mkdir(parents=True, exist_ok=True)
    (folder / "badges" / "pubs").mkdir(parents=True, exist_ok=True)
    (folder / "gs_data.json").write_bytes(json_bytes({"scholar_id": scholar_id, "citedby": citations}))
    (folder / "gs_data_shieldsio.json").write_bytes(
        json_bytes({"schemaVersion": 1, "label": "citations", "message": str(citations)})
    )
    (folder / "snapshots" / f"{snapshot}.json").write_bytes(json_bytes({"citations": citations}))


@pytest.fixture
def data(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    write_author(folder, ALICE, 100)
    (folder / PUB_BADGE).write_bytes(json_bytes({"message": "42"}))
    (folder / UNICODE_FILE).write_bytes(json_bytes({"message": "7"}))
    # What a run leaves behind that must never be published.
    (folder / LOCK_NAME).write_text("")
    (folder / ALICE / ".gs_data.json.x1y2.tmp").write_text("half-written")
    return folder


def tree_files(repo: Path, rev: str) -> dict[str, bytes]:
    names = subprocess.run(
        ["git", "ls-tree", "-r", "-z", "--name-only", rev], cwd=repo, capture_output=True, check=True
    ).stdout.split(b"\0")
    return {
        n.decode(): subprocess.run(
            ["git", "show", f"{rev}:{n.decode()}"], cwd=repo, capture_output=True, check=True
        ).stdout
        for n in names
        if n
    }


def remote_log(remote: Path) -> list[tuple[str, str]]:
    """(commit, parents) of the remote data branch, newest first."""
    out = git(remote, "log", "--format=%H %P", BRANCH)
    return [
        (line.split(" ", 1)[0], line.split(" ", 1)[1] if " " in line else "") for line in out.splitlines()
    ]


def user_state(repo: Path) -> tuple[str, str, str, str, bytes]:
    return (
        git(repo, "rev-parse", "HEAD"),
        git(repo, "symbolic-ref", "HEAD"),
        git(repo, "status", "--porcelain", "--untracked-files=all"),
        git(repo, "diff", "--cached"),
        (repo / "index.md").read_bytes(),
    )


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "crawler", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


# --- history


def test_three_publishes_make_three_commits_each_on_the_previous(
    user: Path, remote: Path, data: Path
) -> None:
    commits = []
    for citations in (100, 101, 105):
        write_author(data, ALICE, citations)
        result = publish(data, repo=user, sleep=no_sleep)
        assert result.pushed and result.commit is not None
        commits.append(result.commit)
    history = remote_log(remote)
    assert [c for c, _ in history] == list(reversed(commits))
    assert history[0][1] == commits[1] and history[1][1] == commits[0] and history[2][1] == ""
    assert json.loads(tree_files(remote, BRANCH)["gs_data.json"])["citedby"] == 105
    # Every version is still there to read back.
    assert json.loads(tree_files(remote, commits[0])["gs_data.json"])["citedby"] == 100


def test_no_change_publishes_nothing(user: Path, remote: Path, data: Path) -> None:
    first = cli("publish", "--data-dir", str(data), cwd=user)
    assert first.returncode == 0, first.stderr
    sha = first.stdout.strip()
    assert git(remote, "rev-parse", BRANCH) == sha

    again = cli("publish", "--data-dir", str(data), cwd=user)
    assert again.returncode == 0, again.stderr
    assert "nothing to publish" in again.stderr
    assert again.stdout == ""
    assert git(remote, "rev-parse", BRANCH) == sha
    assert len(remote_log(remote)) == 1


def test_the_users_checkout_is_untouched(user: Path, data: Path) -> None:
    # A user in the middle of work: a staged change, an unstaged change, an untracked file.
    (user / "index.md").write_text("# Alice (draft)\n")
    (user / "staged.md").write_text("staged\n")
    git(user, "add", "staged.md")
    (user / "notes.txt").write_text("untracked\n")
    before = user_state(user)
    for citations in (100, 120):
        write_author(data, ALICE, citations)
        publish(data, repo=user, sleep=no_sleep)
    assert user_state(user) == before
    assert git(user, "rev-parse", "--abbrev-ref", "HEAD") == "main"


def test_branch_tree_is_the_folder_plus_the_root_files(user: Path, remote: Path, data: Path) -> None:
    result = publish(data, repo=user, sleep=no_sleep)
    files = tree_files(remote, BRANCH)
    assert files["gs_data.json"] == (data / ALICE / "gs_data.json").read_bytes()
    assert files["gs_data_shieldsio.json"] == (data / ALICE / "gs_data_shieldsio.json").read_bytes()
    assert files[PUB_BADGE] == (data / PUB_BADGE).read_bytes()
    assert files[UNICODE_FILE] == (data / UNICODE_FILE).read_bytes()
    assert LOCK_NAME not in files
    assert not any(name.endswith(".tmp") for name in files)
    assert sorted(files) == sorted(result.files)
    assert result.root_author == ALICE
    assert sorted(files) == sorted(
        [
            ".scholar-stats",
            "gs_data.json",
            "gs_data_shieldsio.json",
            PUB_BADGE,
            UNICODE_FILE,
            f"{ALICE}/gs_data.json",
            f"{ALICE}/gs_data_shieldsio.json",
            f"{ALICE}/snapshots/20250101T000000Z.json",
        ]
    )


def test_root_author_defaults_to_the_first_folder_and_can_be_chosen(
    user: Path, remote: Path, data: Path
) -> None:
    write_author(data, BOB, 7)
    assert publish(data, repo=user, sleep=no_sleep).root_author == ALICE  # "aliceAAAAAAJ" < "bobbbBBBBBBJ"
    assert json.loads(tree_files(remote, BRANCH)["gs_data.json"])["scholar_id"] == ALICE
    result = publish(data, repo=user, root_author=BOB, sleep=no_sleep)
    assert result.root_author == BOB and result.commit is not None
    assert json.loads(tree_files(remote, BRANCH)["gs_data.json"])["scholar_id"] == BOB


def test_root_author_from_the_config_file(user: Path, remote: Path, data: Path, tmp_path: Path) -> None:
    write_author(data, BOB, 7)
    config = tmp_path / "scholar-stats.toml"
    config.write_text(f'data_dir = "data"\n\n[[authors]]\nid = "{BOB}"\n\n[[authors]]\nid = "{ALICE}"\n')
    proc = cli("publish", "--config", str(config), cwd=user)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(tree_files(remote, BRANCH)["gs_data.json"])["scholar_id"] == BOB


def test_root_author_without_files_is_an_error(user: Path, data: Path) -> None:
    with pytest.raises(PublishError, match=f"root author {BOB} has no gs_data.json"):
        publish(data, repo=user, root_author=BOB)


def test_first_publish_on_another_machine_continues_the_remote_branch(
    remote: Path, tmp_path: Path, data: Path
) -> None:
    first = publish(data, repo=clone(remote, tmp_path / "laptop"), sleep=no_sleep)
    write_author(data, ALICE, 150)
    second = publish(data, repo=clone(remote, tmp_path / "server"), sleep=no_sleep)
    assert second.parent == first.commit
    assert [c for c, _ in remote_log(remote)] == [second.commit, first.commit]


# --- identity


def test_commits_without_a_configured_identity_use_the_fallback(user: Path, remote: Path, data: Path) -> None:
    publish(data, repo=user, sleep=no_sleep)
    assert git(remote, "log", "-1", "--format=%an <%ae>|%cn <%ce>", BRANCH) == (
        f"{FALLBACK_NAME} <{FALLBACK_EMAIL}>|{FALLBACK_NAME} <{FALLBACK_EMAIL}>"
    )


def test_commits_use_the_repositorys_identity_when_there_is_one(user: Path, remote: Path, data: Path) -> None:
    git(user, "config", "user.name", "Alice Example")
    git(user, "config", "user.email", "alice@example.org")
    publish(data, repo=user, sleep=no_sleep)
    assert git(remote, "log", "-1", "--format=%an <%ae>", BRANCH) == "Alice Example <alice@example.org>"


# --- concurrent pushes


def concurrent_commit(remote: Path, where: Path, path: str, content: bytes) -> str:
    """Another machine pushes one commit onto the data branch."""
    other = clone(remote, where)
    git(other, "checkout", "--quiet", BRANCH)
    (other / path).parent.mkdir(parents=True, exist_ok=True)
    (other / path).write_bytes(content)
    git(other, "add", "--all")
    git(
        other,
        "-c",
        "user.name=Other",
        "-c",
        "user.email=o@example.org",
        "commit",
        "--quiet",
        "-m",
        "elsewhere",
    )
    git(other, "push", "--quiet", "origin", BRANCH)
    return git(other, "rev-parse", "HEAD")


def test_push_rejected_because_the_remote_moved_is_retried_on_top(
    user: Path, remote: Path, data: Path, tmp_path: Path
) -> None:
    first = publish(data, repo=user, sleep=no_sleep)
    theirs = concurrent_commit(remote, tmp_path / "other", "gs_data.json", b'{"citedby": 1}\n')
    write_author(data, ALICE, 130)
    waits: list[float] = []
    result = publish(data, repo=user, sleep=waits.append)
    assert result.pushed and result.attempts == 2 and len(waits) == 1
    assert result.parent == theirs
    history = remote_log(remote)
    assert [c for c, _ in history] == [result.commit, theirs, first.commit]
    assert history[0][1] == theirs
    # Our snapshot of the folder wins, the other commit stays in the history.
    assert json.loads(tree_files(remote, BRANCH)["gs_data.json"])["citedby"] == 130
    assert git(user, "rev-parse", BRANCH) == result.commit


def test_rejected_push_whose_content_is_already_on_the_remote_makes_no_commit(
    user: Path, remote: Path, data: Path, tmp_path: Path
) -> None:
    publish(data, repo=user, sleep=no_sleep)
    write_author(data, ALICE, 130)
    # The other machine published exactly the same folder first.
    other = clone(remote, tmp_path / "other")
    # (another message, so that its commit differs from ours even within the same second)
    theirs = publish(data, repo=other, message="from the server", sleep=no_sleep).commit
    result = publish(data, repo=user, sleep=no_sleep)
    assert result.commit is None and not result.pushed
    assert git(remote, "rev-parse", BRANCH) == theirs
    assert git(user, "rev-parse", BRANCH) == theirs


def test_retries_are_bounded(
    user: Path, remote: Path, data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import crawler.branch.publish as module

    publish(data, repo=user, sleep=no_sleep)
    real_push = module._push
    moves = iter(range(10))

    def push_after_someone_else(git: Git, remote_name: str, commit: str, branch: str) -> object:
        # Just before each of our pushes, the other machine pushes once more.
        n = next(moves)
        concurrent_commit(remote, tmp_path / f"other{n}", "gs_data.json", f'{{"n": {n}}}\n'.encode())
        return real_push(git, remote_name, commit, branch)

    monkeypatch.setattr(module, "_push", push_after_someone_else)
    write_author(data, ALICE, 131)
    waits: list[float] = []
    with pytest.raises(
        PublishError, match=r"still rejected after 2 retries \(\[rejected\] \(fetch first\)\)"
    ):
        publish(data, repo=user, retries=2, sleep=waits.append)
    assert len(waits) == 2 and all(0 < w <= 12 for w in waits)
    assert next(moves) == 3  # three pushes tried: the first and two retries


def test_replay_keeps_snapshots_published_elsewhere(
    user: Path, remote: Path, data: Path, tmp_path: Path
) -> None:
    publish(data, repo=user, sleep=no_sleep)
    theirs = concurrent_commit(
        remote, tmp_path / "other", f"{ALICE}/snapshots/20250301T000000Z.json", b"{}\n"
    )
    write_author(data, ALICE, 140, snapshot="20250401T000000Z")
    result = publish(data, repo=user, sleep=no_sleep)
    assert result.pushed and result.parent == theirs
    files = tree_files(remote, BRANCH)
    assert {
        f"{ALICE}/snapshots/{name}.json"
        for name in ("20250101T000000Z", "20250301T000000Z", "20250401T000000Z")
    } <= set(files)
    assert json.loads(files["gs_data.json"])["citedby"] == 140
    # The other machine's snapshot is in this folder now, so the next publish keeps it too.
    assert (data / ALICE / "snapshots" / "20250301T000000Z.json").read_bytes() == b"{}\n"
    write_author(data, ALICE, 150, snapshot="20250501T000000Z")
    assert publish(data, repo=user, sleep=no_sleep).attempts == 1


# --- restore


def test_restore_fills_a_fresh_folder_and_the_next_publish_keeps_everything(
    user: Path, remote: Path, data: Path, tmp_path: Path
) -> None:
    publish(data, repo=user, sleep=no_sleep)
    runner = clone(remote, tmp_path / "runner")
    fresh = tmp_path / "fresh-data"
    written = restore(fresh, repo=runner)
    assert sorted(p.relative_to(fresh).as_posix() for p in written) == sorted(
        name for name, _ in data_files(data)
    )
    assert not (fresh / "gs_data.json").exists()  # root copies are not part of the folder
    assert (fresh / UNICODE_FILE).read_bytes() == (data / UNICODE_FILE).read_bytes()
    assert publish(fresh, repo=runner, sleep=no_sleep).commit is None

    # A new snapshot after the restore adds one commit and keeps the old snapshot.
    write_author(fresh, ALICE, 200, snapshot="20250601T000000Z")
    result = publish(fresh, repo=runner, sleep=no_sleep)
    files = tree_files(remote, BRANCH)
    assert f"{ALICE}/snapshots/20250101T000000Z.json" in files
    assert f"{ALICE}/snapshots/20250601T000000Z.json" in files
    assert len(remote_log(remote)) == 2 and result.commit == remote_log(remote)[0][0]


def test_restore_never_overwrites_local_files(user: Path, data: Path, tmp_path: Path) -> None:
    publish(data, repo=user, sleep=no_sleep)
    local = tmp_path / "local"
    write_author(local, ALICE, 999)
    written = restore(local, repo=user)
    assert json.loads((local / ALICE / "gs_data.json").read_text())["citedby"] == 999
    assert local / PUB_BADGE in written


def test_restore_before_the_branch_exists_writes_nothing(user: Path, tmp_path: Path) -> None:
    proc = cli("publish", "--restore", "--data-dir", str(tmp_path / "d"), cwd=user)
    assert proc.returncode == 0, proc.stderr
    assert "restored 0 file(s)" in proc.stderr


def test_publishing_without_snapshots_the_branch_has_is_refused(
    user: Path, data: Path, tmp_path: Path
) -> None:
    publish(data, repo=user, sleep=no_sleep)
    fresh = tmp_path / "forgot-to-restore"
    write_author(fresh, ALICE, 101, snapshot="20250701T000000Z")
    proc = cli("publish", "--data-dir", str(fresh), cwd=user)
    assert proc.returncode == 9
    assert proc.stderr.startswith("error: the data folder lacks 1 snapshot(s)")
    assert len(proc.stderr.strip().splitlines()) == 1


# --- local only, and pushing later


def test_no_push_commits_locally_and_a_later_publish_pushes_it(user: Path, remote: Path, data: Path) -> None:
    result = publish(data, repo=user, push=False)
    assert result.commit is not None and not result.pushed
    assert git(user, "rev-parse", BRANCH) == result.commit
    assert git(remote, "rev-parse", "--verify", "--quiet", BRANCH, check=False) == ""
    # Nothing changed since, but the commit is not on the remote yet.
    later = publish(data, repo=user, sleep=no_sleep)
    assert later.pushed and later.commit is None
    assert git(remote, "rev-parse", BRANCH) == result.commit
    assert publish(data, repo=user, sleep=no_sleep).pushed is False


def test_publish_works_from_a_bare_repository(remote: Path, data: Path, tmp_path: Path) -> None:
    # The GitHub Action publishes from a scratch bare repository that only knows the remote.
    scratch = tmp_path / "scratch.git"
    git(tmp_path, "init", "--quiet", "--bare", str(scratch))
    git(scratch, "remote", "add", "origin", str(remote))
    result = publish(data, repo=scratch, sleep=no_sleep)
    assert result.pushed and git(remote, "rev-parse", BRANCH) == result.commit


# --- refusals, one line each


def test_outside_a_repository_is_one_line(tmp_path: Path, data: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    proc = cli("publish", "--data-dir", str(data), cwd=elsewhere)
    assert proc.returncode == 9
    assert (
        proc.stderr
        == f"error: not a git repository: {elsewhere.resolve()} (run inside your repository or pass --repo)\n"
    )


def test_a_missing_data_folder_is_one_line(user: Path, tmp_path: Path) -> None:
    proc = cli("publish", "--data-dir", str(tmp_path / "nope"), cwd=user)
    assert proc.returncode == 9
    assert proc.stderr == f"error: the data folder {tmp_path / 'nope'} does not exist\n"


def test_the_checked_out_data_branch_is_refused(user: Path, data: Path) -> None:
    git(user, "checkout", "--quiet", "-b", BRANCH)
    with pytest.raises(PublishError, match="is checked out"):
        publish(data, repo=user)


def test_an_unknown_remote_is_refused(user: Path, data: Path) -> None:
    with pytest.raises(PublishError, match="no remote named 'upstream'"):
        publish(data, repo=user, remote="upstream")


def test_a_push_refused_by_the_server_is_not_retried(user: Path, remote: Path, data: Path) -> None:
    hook = remote / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'protected branch' >&2\nexit 1\n")
    hook.chmod(0o755)
    with pytest.raises(PublishError, match="refused google-scholar-stats"):
        publish(data, repo=user, sleep=no_sleep)


# --- CDN purge


class PurgeServer:
    def __init__(self, status: int) -> None:
        self.status = status
        self.paths: list[str] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.paths.append(self.path)
                body = b'{"status": "ok"}' if outer.status == 200 else b"purge failed"
                self.send_response(outer.status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def purge_server(request: pytest.FixtureRequest) -> Iterator[PurgeServer]:
    server = PurgeServer(request.param)
    yield server
    server.close()


EXPECTED_PURGES = [
    "/gh/alice/alice.github.io@google-scholar-stats/gs_data.json",
    "/gh/alice/alice.github.io@google-scholar-stats/gs_data_shieldsio.json",
]


@pytest.mark.parametrize("purge_server", [500], indirect=True)
def test_a_failing_purge_is_only_a_warning(
    user: Path, remote: Path, data: Path, purge_server: PurgeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SCHOLAR_STATS_JSDELIVR_PURGE_URL", purge_server.url)
    proc = cli("publish", "--data-dir", str(data), "--purge-cdn", cwd=user)
    assert proc.returncode == 0, proc.stderr
    assert "CDN purge failed" in proc.stderr and "HTTP 500" in proc.stderr
    assert purge_server.paths == EXPECTED_PURGES
    assert git(remote, "rev-parse", BRANCH) == proc.stdout.strip()


@pytest.mark.parametrize("purge_server", [200], indirect=True)
def test_purge_asks_for_the_root_files(user: Path, data: Path, purge_server: PurgeServer) -> None:
    result = publish(data, repo=user, purge_cdn=True, purge_base_url=purge_server.url, sleep=no_sleep)
    assert purge_server.paths == EXPECTED_PURGES
    assert result.purged == tuple(purge_server.url + p for p in EXPECTED_PURGES)


def test_an_unreachable_purge_server_is_only_a_warning(user: Path, data: Path) -> None:
    # Port 9 (discard) on localhost: nothing listens there.
    result = publish(data, repo=user, purge_cdn=True, purge_base_url="http://127.0.0.1:9", sleep=no_sleep)
    assert result.pushed and result.purged == ()


@pytest.mark.parametrize(
    ("url", "slug"),
    [
        ("https://github.com/alice/alice.github.io.git", "alice/alice.github.io"),
        ("https://x-access-token:abc@github.com/alice/site", "alice/site"),
        ("git@github.com:alice/alice.github.io.git", "alice/alice.github.io"),
        ("ssh://git@github.com/alice/site.git", "alice/site"),
        ("/srv/git/alice/site.git", "alice/site"),
        ("site.git", None),
        # A remote urllib cannot split is no GitHub repository, not a traceback.
        ("https://[/alice/site.git", None),
    ],
)
def test_repo_slug(url: str, slug: str | None) -> None:
    assert repo_slug(url) == slug


def test_a_commit_message_never_carries_credentials(user: Path, remote: Path, data: Path) -> None:
    message = (
        "Update from https://x-access-token:ghs_TOKEN123456789@github.com/a/b (api_key=KEY123, ghp_"
        + "b" * 36
        + ")"
    )
    result = publish(data, repo=user, message=message, sleep=no_sleep)
    assert result.pushed
    logged = git(remote, "log", "--format=%B", BRANCH)
    assert "github.com/a/b" in logged
    for secret in ("ghs_TOKEN123456789", "KEY123", "b" * 36):
        assert secret not in logged


def test_no_push_with_an_unreachable_origin_builds_on_the_remote_tracking_branch(
    user: Path, remote: Path, data: Path, tmp_path: Path
) -> None:
    first = publish(data, repo=user, sleep=no_sleep)
    assert first.pushed and first.commit is not None
    # A fresh clone knows origin/google-scholar-stats but has no local branch; then origin goes away.
    other = clone(remote, tmp_path / "other")
    assert git(other, "rev-parse", f"origin/{BRANCH}") == first.commit
    git(other, "remote", "set-url", "origin", str(tmp_path / "gone.git"))
    write_author(data, ALICE, 101, snapshot="20250102T000000Z")
    result = publish(data, repo=other, push=False)
    assert result.commit is not None and not result.pushed
    # On top of the history, not a new root commit that would drop it.
    assert result.parent == first.commit
    assert git(other, "rev-parse", f"{result.commit}^") == first.commit


def test_a_data_folder_with_no_numbers_yet_publishes_nothing(
    user: Path, remote: Path, tmp_path: Path
) -> None:
    # A blocked first run leaves only the author's state.json: nothing for a homepage to show.
    folder = tmp_path / "blocked"
    (folder / ALICE).mkdir(parents=True)
    (folder / ALICE / "state.json").write_bytes(json_bytes({"stale": True, "exit_code": 3}))
    result = publish(folder, repo=user, sleep=no_sleep)
    assert result.commit is None and not result.pushed
    assert git(remote, "rev-parse", "--verify", "--quiet", BRANCH, check=False) == ""
    proc = cli("publish", "--data-dir", str(folder), cwd=user)
    assert proc.returncode == 0, proc.stderr
    assert "no author" in proc.stderr and "numbers" in proc.stderr
