"""``scholar-stats init --lab``: the lab's matrix workflow written into a real git repository,
as a plan (diff, idempotent, never over uncommitted edits), valid, zizmor-clean and pinned."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from sites import git, make_site, status, tree_bytes
from test_homepage_init import _local_action_remote, action_release, init
from test_homepage_init import load_yaml as load
from test_workflows import SHA_PIN, tool, zizmor

from crawler import __version__
from crawler.homepage.author_workflow import ACTION_REMOTE_ENV, CONFIG, WORKFLOW
from crawler.homepage.lab import LAB_WORKFLOW

_ = (_local_action_remote, action_release)  # fixtures: init asks a local "GitHub" for the release's commit
ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "scholar-stats-lab.yml"


def test_the_shipped_workflow_is_the_example() -> None:
    # init writes the workflow shipped in the package; users may copy the example: one file.
    assert (ROOT / "crawler" / "assets" / "scholar-stats-lab.yml").read_bytes() == EXAMPLE.read_bytes()


def test_lab_writes_the_matrix_workflow_pinned_and_is_idempotent(
    tmp_path: Path, action_release: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    site = make_site(tmp_path, "acadhomepage")
    proc = init(site, "--lab", "--shards", "4")
    assert proc.returncode == 0, proc.stderr
    assert "List every member" in proc.stdout
    doc = load(site / LAB_WORKFLOW)
    assert doc["env"]["SHARDS"] == "4"
    assert doc["jobs"]["shard"]["strategy"]["matrix"]["shard"] == [1, 2, 3, 4]
    text = (site / LAB_WORKFLOW).read_text(encoding="utf-8")
    commit = action_release[1]
    assert text.count(f'git+https://github.com/scholar-stats/scholar-stats@{commit}" # v{__version__}') == 2
    assert "OWNER" not in text
    for job in doc["jobs"].values():
        for step in job["steps"]:
            if "uses" in step:
                assert SHA_PIN.match(step["uses"]), step["uses"]
    # Every step but the header, the schedule, the shards and the install is the example's.
    example = EXAMPLE.read_text(encoding="utf-8")
    differs = [line for line in text.splitlines() if line not in example.splitlines()]
    assert len(differs) == 4 + 2 + 1 + 1 + 2 * 2, (
        differs
    )  # header, cron and its comment, SHARDS, matrix, 2 installs
    # The settings: written, as there were none, listing no one yet.
    assert "# [[authors]]" in (site / CONFIG).read_text(encoding="utf-8")
    assert not (site / WORKFLOW).exists()
    git(site, "add", "-A")
    git(site, "commit", "--quiet", "-m", "lab")
    before = tree_bytes(site)
    # Again, offline: the pinned commit is kept, nothing changes.
    monkeypatch.setenv(ACTION_REMOTE_ENV, str(tmp_path / "nowhere"))
    again = init(site, "--lab", "--shards", "4")
    assert again.returncode == 0, again.stderr
    assert "nothing changed" in again.stderr and "warning" not in again.stderr
    assert tree_bytes(site) == before and status(site) == []
    # Another N rewrites only what depends on it.
    wider = init(site, "--lab", "--shards", "12", "--dry-run")
    assert wider.returncode == 0
    changed = [
        line for line in wider.stdout.splitlines() if line[:1] in "+-" and line[:3] not in ("+++", "---")
    ]
    assert sorted(changed) == sorted(
        [
            '-  SHARDS: "4"',
            '+  SHARDS: "12"',
            "-        shard: [1, 2, 3, 4]",
            "+        shard: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]",
            "-# Written by `scholar-stats init --lab --shards 4`: every day, N shard jobs fetch the",
            "+# Written by `scholar-stats init --lab --shards 12`: every day, N shard jobs fetch the",
        ]
    )
    assert tree_bytes(site) == before


def test_lab_keeps_the_members_and_replaces_one_authors_workflow(tmp_path: Path) -> None:
    site = make_site(tmp_path, "acadhomepage")
    assert init(site).returncode == 0  # one author's set-up first
    members = '[[authors]]\nid = "LaBmEmBeR01A"\n\n[[authors]]\nid = "LaBmEmBeR02A"\n'
    (site / CONFIG).write_text(members, encoding="utf-8")
    git(site, "add", "-A")
    git(site, "commit", "--quiet", "-m", "members")
    dry = init(site, "--lab", "--dry-run")
    assert dry.returncode == 0
    assert f"+++ b/{LAB_WORKFLOW}" in dry.stdout and f"--- a/{WORKFLOW}" in dry.stdout
    assert f"b/{CONFIG}" not in dry.stdout and f"a/{CONFIG}" not in dry.stdout
    assert status(site) == []
    proc = init(site, "--lab")
    assert proc.returncode == 0, proc.stderr
    assert (site / CONFIG).read_text(encoding="utf-8") == members
    assert not (site / WORKFLOW).exists()
    assert load(site / LAB_WORKFLOW)["env"]["SHARDS"] == "10"
    assert sorted(status(site)) == sorted([f" D {WORKFLOW}", f"?? {LAB_WORKFLOW}"])


def test_lab_refuses_to_overwrite_uncommitted_edits(tmp_path: Path) -> None:
    site = make_site(tmp_path, "acadhomepage")
    assert init(site, "--lab", "--shards", "2").returncode == 0
    git(site, "add", "-A")
    git(site, "commit", "--quiet", "-m", "lab")
    edited = (site / LAB_WORKFLOW).read_text(encoding="utf-8") + "# my own note\n"
    (site / LAB_WORKFLOW).write_text(edited, encoding="utf-8")
    proc = init(site, "--lab", "--shards", "3")
    assert proc.returncode == 2 and proc.stderr.startswith("error: ") and LAB_WORKFLOW in proc.stderr
    assert proc.stderr.count("\n") == 1
    assert (site / LAB_WORKFLOW).read_text(encoding="utf-8") == edited


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--lab", "--shards", "0"), "--shards must be between 1 and 256"),
        (("--lab", "--shards", "257"), "--shards must be between 1 and 256"),
        (("--lab", "--shards", "-3"), "--shards must be between 1 and 256"),
        (("--shards", "4"), "--shards is for --lab"),
        (("--lab", "--import-git"), "--import-git is for one author's workflow"),
    ],
)
def test_bad_shards_is_one_line_and_writes_nothing(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    site = make_site(tmp_path, "acadhomepage")
    before = tree_bytes(site)
    proc = init(site, *args)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith("error: ") and message in proc.stderr and proc.stderr.count("\n") == 1
    assert tree_bytes(site) == before


@pytest.mark.slow
@pytest.mark.parametrize("shards", [1, 3, 256])
def test_the_written_workflow_is_valid_and_zizmor_clean(tmp_path: Path, shards: int) -> None:
    site = make_site(tmp_path, "acadhomepage")
    assert init(site, "--lab", "--shards", str(shards)).returncode == 0
    path = site / LAB_WORKFLOW
    proc = subprocess.run(
        [tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    serious = [
        f["ident"]
        for f in zizmor(path)
        if f["determinations"]["severity"] not in ("Informational", "Low", "Unknown")
    ]
    assert serious == []


def test_lab_settings_take_the_source_chain_and_the_author(tmp_path: Path) -> None:
    site = make_site(tmp_path, "acadhomepage")
    proc = init(site, "--lab", "--source", "scholar,openalex", "--scholar-id", "LaBmEmBeR01A")
    assert proc.returncode == 0, proc.stderr
    settings = (site / CONFIG).read_text(encoding="utf-8")
    assert 'sources = ["scholar", "openalex"]' in settings
    assert '\n[[authors]]\nid = "LaBmEmBeR01A"\n' in settings
