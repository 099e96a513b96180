"""``publish`` as a careless user and an attacker would call it: the wrong branch, a hostile
remote or branch name, a data folder that is also a site's ``data/``.  Real git throughout:
a bare repository plays GitHub, real clones play the user's checkouts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import test_publish
from test_publish import ALICE, BRANCH, cli, git, no_sleep, tree_files, write_author

from crawler.branch.layout import MARKER
from crawler.branch.publish import publish
from crawler.branch.restore import restore
from crawler.errors import PublishError
from crawler.storage.store import LOCK_NAME

# The same real repositories as test_publish: a bare "GitHub" remote, a clone, a data folder.
isolated_git = test_publish.isolated_git
remote = test_publish.remote
user = test_publish.user
data = test_publish.data


def refs(repo: Path) -> str:
    return git(repo, "for-each-ref", "--format=%(refname) %(objectname)")


def one_error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: "), stderr
    assert "Traceback" not in stderr
    return lines[0]


@pytest.fixture
def elsewhere(user: Path) -> Path:
    """The user's checkout on another branch, so main is not checked out."""
    git(user, "checkout", "--quiet", "-b", "work")
    return user


# -- never onto a branch that is not a data branch ------------------------------------------


def test_publishing_onto_the_sites_main_branch_is_refused(elsewhere: Path, remote: Path, data: Path) -> None:
    main_before = git(remote, "rev-parse", "main")
    local_before = refs(elsewhere)

    proc = cli("publish", "--data-dir", str(data), "--branch", "main", cwd=elsewhere)

    assert proc.returncode == 9
    line = one_error_line(proc.stderr)
    assert "main" in line and "not a data branch" in line and "--force-branch" in line
    assert git(remote, "rev-parse", "main") == main_before
    assert refs(elsewhere) == local_before
    assert git(remote, "show", "main:index.md") == "# Alice"


def test_a_local_branch_that_is_not_a_data_branch_is_refused_too(
    elsewhere: Path, remote: Path, data: Path
) -> None:
    git(elsewhere, "branch", "--quiet", "notes", "main")
    with pytest.raises(PublishError, match="not a data branch"):
        publish(data, repo=elsewhere, branch="notes", push=False, sleep=no_sleep)
    assert git(elsewhere, "rev-parse", "notes") == git(elsewhere, "rev-parse", "main")


def test_force_branch_writes_onto_it_and_keeps_its_history(elsewhere: Path, remote: Path, data: Path) -> None:
    main_before = git(remote, "rev-parse", "main")
    proc = cli("publish", "--data-dir", str(data), "--branch", "main", "--force-branch", cwd=elsewhere)
    assert proc.returncode == 0, proc.stderr
    assert git(remote, "rev-parse", "main^") == main_before
    files = tree_files(remote, "main")
    assert MARKER in files and "index.md" not in files


def test_every_commit_carries_the_marker_and_the_next_publish_accepts_it(
    user: Path, remote: Path, data: Path
) -> None:
    publish(data, repo=user, sleep=no_sleep)
    assert MARKER in tree_files(remote, BRANCH)
    write_author(data, ALICE, 120, snapshot="20250102T000000Z")
    second = publish(data, repo=user, sleep=no_sleep)
    assert second.commit is not None and second.pushed


def test_an_acadhomepage_data_branch_is_taken_over(
    user: Path, remote: Path, data: Path, tmp_path: Path
) -> None:
    """AcadHomepage's own workflow pushes only gs_data.json and gs_data_shieldsio.json."""
    old = tmp_path / "acad"
    git(tmp_path, "init", "--quiet", "-b", BRANCH, str(old))
    (old / "gs_data.json").write_text(json.dumps({"citedby": 90, "source": "AUTHOR_PROFILE_PAGE"}))
    (old / "gs_data_shieldsio.json").write_text(
        json.dumps({"schemaVersion": 1, "label": "citation", "message": "90"})
    )
    git(old, "add", ".")
    git(
        old,
        "-c",
        "user.name=GitHub Action",
        "-c",
        "user.email=action@github.com",
        "commit",
        "--quiet",
        "-m",
        "Updated",
    )
    git(old, "push", "--quiet", str(remote), f"HEAD:{BRANCH}")
    before = git(remote, "rev-parse", BRANCH)

    result = publish(data, repo=user, sleep=no_sleep)

    assert result.parent == before
    assert git(remote, "rev-parse", f"{BRANCH}^") == before
    assert MARKER in tree_files(remote, BRANCH)


def test_restore_from_a_branch_that_is_not_a_data_branch_writes_nothing(
    elsewhere: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "fresh"
    folder.mkdir()
    proc = cli("publish", "--restore", "--data-dir", str(folder), "--branch", "main", cwd=elsewhere)
    assert proc.returncode == 9
    assert "not a data branch" in one_error_line(proc.stderr)
    assert list(folder.iterdir()) == []


# -- names that are not plain branch names, remotes that are options ----------------------


@pytest.mark.parametrize(
    "branch",
    [
        "origin/main",
        "refs/heads/main",
        "heads/x",
        "HEAD",
        "@",
        "@{-1}",
        "-x",
        "--upload-pack=x",
        "a..b",
        "x.lock",
        "has space",
        "",
        "tags/v1",
        "remotes/origin/main",
    ],
)
def test_confusing_branch_names_are_refused(user: Path, remote: Path, data: Path, branch: str) -> None:
    before_local, before_remote = refs(user), refs(remote)
    proc = cli("publish", "--data-dir", str(data), "--branch", branch, cwd=user)
    assert proc.returncode == 9
    assert "not a valid branch name" in one_error_line(proc.stderr)
    assert refs(user) == before_local and refs(remote) == before_remote


@pytest.mark.parametrize("restore_flag", [False, True])
@pytest.mark.parametrize(
    "template",
    [
        "--upload-pack=touch {marker}",
        "--receive-pack=touch {marker}",
        "-u touch {marker}",
        "ext::sh -c touch% {marker}",
        "--exec=touch {marker}",
    ],
)
def test_a_remote_that_is_an_option_runs_nothing(
    user: Path, data: Path, tmp_path: Path, template: str, restore_flag: bool
) -> None:
    marker = tmp_path / "pwned"
    args = ["publish", "--data-dir", str(data), "--remote", template.format(marker=marker)]
    if restore_flag:
        args.append("--restore")
    proc = cli(*args, cwd=user)
    assert proc.returncode == 9, proc.stderr
    one_error_line(proc.stderr)
    assert not marker.exists()


def test_a_remote_url_and_a_path_still_work(user: Path, remote: Path, data: Path) -> None:
    result = publish(data, repo=user, remote=f"file://{remote}", sleep=no_sleep)
    assert result.pushed
    write_author(data, ALICE, 130, snapshot="20250103T000000Z")
    assert publish(data, repo=user, remote=str(remote), sleep=no_sleep).pushed


# -- only the tool's own files ----------------------------------------------------------------


def test_a_sites_own_data_files_are_left_out_and_named(user: Path, remote: Path, data: Path) -> None:
    """A Hugo site keeps its own data/ folder; the data folder is that folder."""
    (data / "menus").mkdir()
    (data / "menus" / "main.yaml").write_text("- name: Home\n")
    (data / "translations").mkdir()  # twelve letters, like a Scholar ID
    (data / "translations" / "en.yaml").write_text("hello: Hello\n")
    (data / "social.json").write_text('{"github": "alice"}\n')
    (data / "gs_data.json").write_text('{"citedby": 1}\n')
    (data / ALICE / ".outputs.json").write_text("{}\n")

    proc = cli("publish", "--data-dir", str(data), cwd=user)

    assert proc.returncode == 0, proc.stderr
    files = set(tree_files(remote, BRANCH))
    assert all(
        name.startswith(f"{ALICE}/") or name in (MARKER, "gs_data.json", "gs_data_shieldsio.json")
        for name in files
    ), files
    assert f"{ALICE}/.outputs.json" not in files
    assert json.loads(tree_files(remote, BRANCH)["gs_data.json"])["citedby"] == 100
    warning = [line for line in proc.stderr.splitlines() if "left out" in line]
    assert len(warning) == 1
    for name in ("menus/", "translations/", "social.json", "gs_data.json"):
        assert name in warning[0]


def test_restore_writes_only_author_folders(
    elsewhere: Path, remote: Path, data: Path, tmp_path: Path
) -> None:
    """Not the marker, not the root copies, not a site's files on a branch taken over by force."""
    publish(data, repo=elsewhere, branch="main", force_branch=True, sleep=no_sleep)
    git(elsewhere, "fetch", "--quiet", "origin")
    fresh = tmp_path / "fresh"
    written = restore(fresh, repo=elsewhere, branch="main")
    assert written
    assert sorted(p.name for p in fresh.iterdir() if p.name != LOCK_NAME) == [ALICE]


def test_restore_never_writes_through_a_link_out_of_the_data_folder(
    user: Path, data: Path, tmp_path: Path
) -> None:
    publish(data, repo=user, sleep=no_sleep)
    fresh = tmp_path / "fresh"
    outside = tmp_path / "outside"
    outside.mkdir()
    fresh.mkdir()
    (fresh / ALICE).symlink_to(outside, target_is_directory=True)
    proc = cli("publish", "--restore", "--data-dir", str(fresh), cwd=user)
    assert proc.returncode == 8
    assert str(fresh / ALICE) in one_error_line(proc.stderr)
    assert list(outside.iterdir()) == []


def test_restore_reads_years_of_files_a_piece_at_a_time(
    user: Path, data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A lab's branch holds gigabytes of snapshots after some years: they are never all in memory."""
    from crawler.branch import restore as restore_module
    from crawler.branch.git import Git

    for day in range(1, 21):
        (data / ALICE / "snapshots" / f"202502{day:02d}T000000Z.json").write_bytes(b"x" * 1000)
    publish(data, repo=user, sleep=no_sleep)
    reads: list[int] = []
    real = Git.read_blobs

    def counting(self: Git, shas: list[str]) -> list[bytes]:
        bodies = real(self, shas)
        reads.append(sum(map(len, bodies)))
        return bodies

    monkeypatch.setattr(Git, "read_blobs", counting)
    monkeypatch.setattr(restore_module, "CHUNK_BYTES", 4000)
    fresh = tmp_path / "fresh"
    written = restore(fresh, repo=user)
    assert len(reads) >= 5 and max(reads) <= 4000, reads
    expected = {p.relative_to(data) for p in data.rglob("*") if p.is_file() and p.parent != data}
    expected -= {Path(ALICE) / ".gs_data.json.x1y2.tmp"}
    assert {p.relative_to(fresh) for p in written} == expected
    for rel in expected:
        assert (fresh / rel).read_bytes() == (data / rel).read_bytes()


def test_restore_leaves_out_a_file_larger_than_its_kind_may_be(
    user: Path, data: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A 3 MiB "badge" on the branch is not one this tool wrote (a badge is at most 1 MiB)."""
    (data / ALICE / "badges" / "huge.svg").write_bytes(b"<svg>" + b" " * (3 * 1024 * 1024) + b"</svg>")
    publish(data, repo=user, sleep=no_sleep)
    fresh = tmp_path / "fresh"
    written = restore(fresh, repo=user)
    assert fresh / ALICE / "gs_data.json" in written
    assert not (fresh / ALICE / "badges" / "huge.svg").exists()
    assert f"not restored: {ALICE}/badges/huge.svg is 3145739 bytes" in caplog.text


# -- never rewrite or remove what is not ours ---------------------------------------------------


def branch_with(remote: Path, tmp_path: Path, files: dict[str, str]) -> str:
    """Push a branch ``BRANCH`` holding ``files`` to the remote; its tip."""
    work = tmp_path / "crafted"
    git(tmp_path, "init", "--quiet", "-b", BRANCH, str(work))
    for name, text in files.items():
        (work / name).parent.mkdir(parents=True, exist_ok=True)
        (work / name).write_text(text)
    git(work, "add", ".")
    git(work, "-c", "user.name=A", "-c", "user.email=a@example.org", "commit", "--quiet", "-m", "site")
    git(work, "push", "--quiet", str(remote), f"HEAD:{BRANCH}")
    return git(remote, "rev-parse", BRANCH)


@pytest.mark.parametrize(
    ("foreign", "named"),
    [
        ({"README.md": "# my project\n"}, "README.md"),
        ({"src/main.py": "print(1)\n"}, "src"),
        ({"CNAME": "alice.example.org\n"}, "CNAME"),
        ({"badges/my-own.svg": "<svg/>\n"}, "badges/my-own.svg"),
    ],
)
def test_a_branch_with_the_marker_and_files_no_layout_explains_is_refused(
    user: Path, remote: Path, data: Path, tmp_path: Path, foreign: dict[str, str], named: str
) -> None:
    tip = branch_with(
        remote,
        tmp_path,
        {
            MARKER: "This branch holds citation data published by scholar-stats.\n",
            "gs_data.json": "{}\n",
            **foreign,
        },
    )
    proc = cli("publish", "--data-dir", str(data), cwd=user)
    assert proc.returncode == 9, proc.stderr
    line = one_error_line(proc.stderr)
    assert "not a data branch" in line and repr(named) in line and "--force-branch" in line
    assert git(remote, "rev-parse", BRANCH) == tip
    with pytest.raises(PublishError, match="not a data branch"):
        restore(tmp_path / "fresh", repo=user)


def test_a_branch_with_every_file_a_data_layout_has_is_accepted(
    user: Path, remote: Path, data: Path, tmp_path: Path
) -> None:
    branch_with(
        remote,
        tmp_path,
        {
            MARKER: "marker\n",
            "gs_data.json": "{}\n",
            "gs_data_shieldsio.json": "{}\n",
            "gs_history.json": "{}\n",
            "group.json": "{}\n",
            "badges/group-citations.json": "{}\n",
            f"{ALICE}/gs_data.json": "{}\n",
            "site/index.html": "<p>\n",
        },
    )
    assert publish(data, repo=user, sleep=no_sleep).pushed


def test_the_left_out_warning_names_only_what_is_left_out(user: Path, remote: Path, data: Path) -> None:
    """The group's files are published: the warning must not say they are left out."""
    (data / "group.json").write_text('{"format": 1}\n')
    (data / "badges").mkdir()
    (data / "badges" / "group-citations.json").write_text("{}\n")
    (data / "badges" / "notes.txt").write_text("mine\n")

    proc = cli("publish", "--data-dir", str(data), cwd=user)

    assert proc.returncode == 0, proc.stderr
    files = set(tree_files(remote, BRANCH))
    assert {"group.json", "badges/group-citations.json"} <= files and "badges/notes.txt" not in files
    warning = [line for line in proc.stderr.splitlines() if "left out" in line]
    assert len(warning) == 1 and "badges/notes.txt" in warning[0]
    assert "group.json" not in warning[0] and "group-citations" not in warning[0]


@pytest.mark.parametrize("branch", ["origin/main", "upstream/google-scholar-stats"])
def test_a_branch_named_like_a_remote_branch_is_refused_without_such_a_remote(
    data: Path, tmp_path: Path, remote: Path, branch: str
) -> None:
    bare = tmp_path / "scratch.git"
    git(tmp_path, "init", "--quiet", "--bare", str(bare))
    before = refs(bare)
    proc = cli(
        "publish",
        "--data-dir",
        str(data),
        "--repo",
        str(bare),
        "--remote",
        str(remote),
        "--branch",
        branch,
        cwd=tmp_path,
    )
    assert proc.returncode == 9, proc.stderr
    line = one_error_line(proc.stderr)
    assert repr(branch) in line and "remote" in line
    assert refs(bare) == before and git(remote, "branch", "--list", branch) == ""


def test_a_remote_that_fails_says_what_git_said_not_only_its_last_line(data: Path, tmp_path: Path) -> None:
    bare = tmp_path / "scratch.git"
    git(tmp_path, "init", "--quiet", "--bare", str(bare))
    missing = tmp_path / "no-such-repo.git"
    proc = cli(
        "publish", "--data-dir", str(data), "--repo", str(bare), "--remote", f"file://{missing}", cwd=tmp_path
    )
    assert proc.returncode == 9, proc.stderr
    line = one_error_line(proc.stderr)
    assert "does not appear to be a git repository" in line, line
    assert "Please make sure" not in line
