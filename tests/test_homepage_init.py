"""``scholar-stats init`` on sites shaped like AcadHomepage, al-folio and academicpages (real git repos)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML
from sites import REPO, SCHOLAR_ID, TEMPLATE_DIRS, action_remote, git, make_site, status, tree_bytes

from crawler import __version__
from crawler.homepage import repository as sites
from crawler.homepage.author_workflow import ACTION_REMOTE_ENV, schedule_for
from crawler.homepage.init import plan_init
from crawler.homepage.template_files.academicpages import BEGIN, END

BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def action_release(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    return action_remote(tmp_path_factory.mktemp("action"))


@pytest.fixture(autouse=True)
def _local_action_remote(monkeypatch: pytest.MonkeyPatch, action_release: tuple[Path, str]) -> None:
    # init looks the release's commit up with git ls-remote: here, never on github.com.
    monkeypatch.setenv(ACTION_REMOTE_ENV, str(action_release[0]))


def init(site: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "crawler", "init", "--repo", str(site), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "GIT_CONFIG_GLOBAL": os.devnull},
    )


def one_line_error(proc: subprocess.CompletedProcess[str], code: int = 2) -> str:
    assert proc.returncode == code, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith("error: ") and proc.stderr.count("\n") == 1, proc.stderr
    return proc.stderr


def load_yaml(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    return data


# --- what the site is


@pytest.mark.parametrize("template", TEMPLATE_DIRS)
def test_detects_each_template_from_its_own_files(tmp_path: Path, template: str) -> None:
    site = make_site(tmp_path, template)
    assert sites.detect_template(site) == template
    assert sites.find_repo(site) == REPO


def test_an_empty_repository_is_plain(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("<p>hi</p>\n")
    assert sites.detect_template(tmp_path) == "plain"


def test_acadhomepage_is_recognised_by_its_include_alone(tmp_path: Path) -> None:
    site = make_site(tmp_path, "acadhomepage")
    shutil.rmtree(site / "google_scholar_crawler")
    (site / ".github" / "workflows" / "google_scholar_crawler.yaml").unlink()
    assert sites.detect_template(site) == "acadhomepage"


def test_scholar_id_is_read_where_each_template_keeps_it(tmp_path: Path) -> None:
    al_folio = make_site(tmp_path, "al-folio")
    assert sites.find_scholar_id(al_folio, "al-folio") == (SCHOLAR_ID, "_data/socials.yml")
    pages = make_site(tmp_path, "academicpages")
    assert sites.find_scholar_id(pages, "academicpages") == (SCHOLAR_ID, "_config.yml")
    # AcadHomepage's _config.yml still holds its placeholder: no ID, the secret is used.
    acad = make_site(tmp_path, "acadhomepage")
    assert sites.find_scholar_id(acad, "acadhomepage") == (None, None)


def test_the_templates_example_ids_are_not_taken_for_the_authors(tmp_path: Path) -> None:
    site = make_site(tmp_path, "al-folio")
    socials = site / "_data" / "socials.yml"
    socials.write_text(socials.read_text().replace(SCHOLAR_ID, "qc6CJjYAAAAJ"))
    assert sites.find_scholar_id(site, "al-folio") == (None, None)


def test_older_al_folio_keeps_the_id_in_config_yml(tmp_path: Path) -> None:
    site = make_site(tmp_path, "al-folio")
    (site / "_data" / "socials.yml").unlink()
    with (site / "_config.yml").open("a") as handle:
        handle.write("scholar_userid: 'ExampleAAAAJ' # your Google Scholar ID\n")
    assert sites.find_scholar_id(site, "al-folio") == (SCHOLAR_ID, "_config.yml")


def test_repository_falls_back_to_config_yml_without_a_github_remote(tmp_path: Path) -> None:
    site = make_site(tmp_path, "acadhomepage", remote="https://gitlab.com/alice/site.git")
    assert sites.find_repo(site) == "alice/alice.github.io"  # AcadHomepage's `repository:`


# --- init, template by template


def test_acadhomepage_init_replaces_the_crawler_and_keeps_the_include(tmp_path: Path) -> None:
    site = make_site(tmp_path, "acadhomepage")
    scripts_before = (site / "_includes" / "scripts.html").read_bytes()
    proc = init(site)
    assert proc.returncode == 0, proc.stderr
    assert status(site) == sorted(
        [
            "?? .github/workflows/scholar-stats.yml",
            "?? scholar-stats.toml",
            " M _includes/fetch_google_scholar_stats.html",
            " D .github/workflows/google_scholar_crawler.yaml",
        ]
    )
    include = (site / "_includes" / "fetch_google_scholar_stats.html").read_text()
    assert "https://cdn.jsdelivr.net/gh/alice/alice.github.io@google-scholar-stats/gs_data.json" in include
    assert "{{" not in include and "{%" not in include  # nothing for Liquid to mangle
    assert (site / "_includes" / "scripts.html").read_bytes() == scripts_before
    # The crawler's folder is not init's to delete.
    assert (site / "google_scholar_crawler" / "main.py").is_file()
    workflow = load_yaml(site / ".github" / "workflows" / "scholar-stats.yml")
    step = workflow["jobs"]["update"]["steps"][-1]
    assert step["with"]["scholar-id"] == "${{ secrets.GOOGLE_SCHOLAR_ID }}"
    assert "al-folio-citations" not in step["with"]
    todo = proc.stdout.splitlines()
    assert 2 <= len(todo) <= 4, proc.stdout
    assert any("GOOGLE_SCHOLAR_ID" in line for line in todo)
    assert todo[-1].endswith("(Actions > Google Scholar stats > Run workflow)")


def test_al_folio_init_disables_its_citation_updater(tmp_path: Path) -> None:
    site = make_site(tmp_path, "al-folio")
    proc = init(site)
    assert (proc.returncode, status(site)) == (
        0,
        sorted(
            [
                "?? .github/workflows/scholar-stats.yml",
                "?? scholar-stats.toml",
                "?? _includes/scholar-stats.liquid",
                " M _layouts/default.liquid",
                " D .github/workflows/update-citations.yml",
            ]
        ),
    ), proc.stderr
    step = load_yaml(site / ".github" / "workflows" / "scholar-stats.yml")["jobs"]["update"]["steps"][-1]
    assert step["with"]["al-folio-citations"] is True
    config = (site / "scholar-stats.toml").read_text()
    assert f'id = "{SCHOLAR_ID}"' in config  # read from _data/socials.yml
    layout = (site / "_layouts" / "default.liquid").read_text()
    assert layout.count("{% include scholar-stats.liquid %}") == 1
    assert layout.index("{% include scholar-stats.liquid %}") < layout.index("</body>")
    # The ID is in the site, so no secret to add: commit, then run.
    assert len(proc.stdout.splitlines()) == 2
    assert "GOOGLE_SCHOLAR_ID" not in proc.stdout


def test_academicpages_init_uses_the_custom_footer_slot(tmp_path: Path) -> None:
    site = make_site(tmp_path, "academicpages")
    assert init(site).returncode == 0
    footer = (site / "_includes" / "footer" / "custom.html").read_text()
    assert footer.startswith("<!-- start custom footer snippets -->")
    assert footer.count(BEGIN) == 1 and footer.count(END) == 1
    assert footer.index(END) < footer.index("<!-- end custom footer snippets -->")
    assert status(site) == sorted(
        [
            "?? .github/workflows/scholar-stats.yml",
            "?? scholar-stats.toml",
            " M _includes/footer/custom.html",
        ]
    )


def test_plain_site_gets_a_script_file(tmp_path: Path) -> None:
    site = tmp_path / "plain"
    site.mkdir()
    (site / "index.html").write_text("<p>hi</p>\n")
    git(site, "init", "--quiet")
    git(site, "add", "-A")
    git(site, "commit", "--quiet", "-m", "site")
    git(site, "remote", "add", "origin", "git@github.com:alice/site.git")
    proc = init(site, "--scholar-id", f"https://scholar.google.com/citations?user={SCHOLAR_ID}&hl=en")
    assert proc.returncode == 0, proc.stderr
    script = (site / "assets" / "js" / "scholar-stats.js").read_text()
    assert "https://raw.githubusercontent.com/alice/site/google-scholar-stats/gs_data.json" in script
    assert '<script src="/assets/js/scholar-stats.js" defer></script>' in proc.stdout


@pytest.mark.parametrize("template", TEMPLATE_DIRS)
def test_a_second_run_changes_nothing(tmp_path: Path, template: str) -> None:
    site = make_site(tmp_path, template)
    assert init(site).returncode == 0
    git(site, "add", "-A")
    git(site, "commit", "--quiet", "-m", "scholar-stats")
    before = tree_bytes(site)
    again = init(site)
    assert again.returncode == 0, again.stderr
    assert tree_bytes(site) == before
    assert status(site) == []
    assert "nothing changed" in again.stderr
    assert init(site, "--dry-run").stdout == ""


@pytest.mark.parametrize("template", TEMPLATE_DIRS)
def test_dry_run_is_a_diff_that_git_applies_to_the_same_result(tmp_path: Path, template: str) -> None:
    site = make_site(tmp_path, template)
    before = tree_bytes(site)
    dry = init(site, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert tree_bytes(site) == before and status(site) == []  # nothing written
    assert dry.stdout.startswith("--- ")
    patch = tmp_path / "init.patch"
    patch.write_text(dry.stdout)
    git(site, "apply", str(patch))
    applied = tree_bytes(site)
    git(site, "checkout", "--quiet", "--", ".")
    git(site, "clean", "--quiet", "-fd")
    assert init(site).returncode == 0
    assert tree_bytes(site) == applied


@pytest.mark.parametrize("template", TEMPLATE_DIRS)
def test_init_touches_only_the_files_it_names(tmp_path: Path, template: str) -> None:
    site = make_site(tmp_path, template)
    plan = plan_init(site)
    named = {c.path for c in plan.changes}
    before = tree_bytes(site)
    assert init(site).returncode == 0
    after = tree_bytes(site)
    touched = {p for p in set(before) | set(after) if before.get(p) != after.get(p)}
    assert touched == named


# --- the generated workflow


@pytest.mark.parametrize("template", TEMPLATE_DIRS)
def test_generated_workflow_is_valid_least_privilege_and_pinned(
    tmp_path: Path, template: str, action_release: tuple[Path, str]
) -> None:
    site = make_site(tmp_path, template)
    assert init(site).returncode == 0
    path = site / ".github" / "workflows" / "scholar-stats.yml"
    checker = shutil.which("check-jsonschema", path=str(BIN)) or shutil.which("check-jsonschema")
    assert checker
    proc = subprocess.run(
        [checker, "--builtin-schema", "vendor.github-workflows", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    doc = load_yaml(path)
    assert doc["permissions"] == {}
    assert set(doc["on"]) == {"schedule", "workflow_dispatch"}
    minute, hour, *rest = doc["on"]["schedule"][0]["cron"].split()
    assert int(minute) % 2 == 1 and 0 <= int(hour) < 24 and rest == ["*", "*", "*"]
    assert doc["concurrency"]["cancel-in-progress"] is False
    job = doc["jobs"]["update"]
    assert job["permissions"] == {"contents": "write"}
    assert 0 < job["timeout-minutes"] <= 30
    uses = [step["uses"] for step in job["steps"]]
    assert uses[0].startswith("actions/checkout@") and re.search(r"@[0-9a-f]{40}$", uses[0])
    assert job["steps"][0]["with"]["persist-credentials"] is False
    assert uses[-1] == f"scholar-stats/scholar-stats@{action_release[1]}"
    assert f"@{action_release[1]} # v{__version__}\n" in path.read_text()
    assert job["steps"][-1]["with"]["config"] == "scholar-stats.toml"
    zizmor = shutil.which("zizmor", path=str(BIN)) or shutil.which("zizmor")
    assert zizmor
    audit = subprocess.run(
        [zizmor, "--offline", "--no-progress", "--min-severity", "medium", str(path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert audit.returncode == 0, audit.stdout + audit.stderr


def test_offline_the_release_tag_is_used_and_a_second_run_keeps_a_pinned_sha(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, action_release: tuple[Path, str]
) -> None:
    site = make_site(tmp_path, "academicpages")
    monkeypatch.setenv(ACTION_REMOTE_ENV, str(tmp_path / "unreachable.git"))
    proc = init(site)
    assert proc.returncode == 0
    assert "warning: could not look up the commit" in proc.stderr
    workflow = site / ".github" / "workflows" / "scholar-stats.yml"
    assert f"uses: scholar-stats/scholar-stats@v{__version__}\n" in workflow.read_text()
    # Online again: the commit is pinned.
    monkeypatch.setenv(ACTION_REMOTE_ENV, str(action_release[0]))
    git(site, "add", "-A")
    git(site, "commit", "--quiet", "-m", "tag pin")
    assert init(site).returncode == 0
    assert action_release[1] in workflow.read_text()
    git(site, "commit", "--quiet", "-am", "sha pin")
    # Offline once more: the pinned commit stays, nothing changes.
    monkeypatch.setenv(ACTION_REMOTE_ENV, str(tmp_path / "unreachable.git"))
    again = init(site)
    assert "warning" not in again.stderr and status(site) == []


def test_schedule_is_an_odd_minute_for_every_key() -> None:
    for key in ("alice/alice.github.io", "x", "bob/site", "", "é/ü"):
        hour, minute = schedule_for(key)
        assert minute % 2 == 1 and 1 <= minute <= 59 and 0 <= hour <= 23


def test_source_chain_goes_to_the_config(tmp_path: Path) -> None:
    site = make_site(tmp_path, "al-folio")
    proc = init(site, "--source", "scholar, openalex")
    assert proc.returncode == 0, proc.stderr
    config = (site / "scholar-stats.toml").read_text()
    assert 'sources = ["scholar", "openalex"]' in config
    assert "openalex" in proc.stdout  # the OpenAlex ID is the user's to add
    from crawler.config import read_config_file

    assert read_config_file(site / "scholar-stats.toml").authors[0].scholar_id == SCHOLAR_ID


@pytest.mark.parametrize("template", TEMPLATE_DIRS)
def test_generated_config_is_read_by_run(tmp_path: Path, template: str) -> None:
    from crawler.config import read_config_file

    site = make_site(tmp_path, template)
    assert init(site).returncode == 0
    config = read_config_file(site / "scholar-stats.toml")
    assert config.sources == ("scholar",)


# --- refusals


def test_refuses_a_file_with_uncommitted_edits_and_writes_nothing(tmp_path: Path) -> None:
    site = make_site(tmp_path, "acadhomepage")
    include = site / "_includes" / "fetch_google_scholar_stats.html"
    include.write_text(include.read_text() + "<!-- my edit -->\n")
    before = tree_bytes(site)
    error = one_line_error(init(site))
    assert "_includes/fetch_google_scholar_stats.html" in error and "uncommitted" in error
    assert tree_bytes(site) == before


def test_refuses_to_overwrite_an_untracked_file(tmp_path: Path) -> None:
    site = make_site(tmp_path, "academicpages")
    (site / "scholar-stats.toml").write_text("# mine, not committed yet\n")
    error = one_line_error(init(site))
    assert "scholar-stats.toml" in error
    assert (site / "scholar-stats.toml").read_text() == "# mine, not committed yet\n"


def test_an_unrelated_uncommitted_edit_is_fine(tmp_path: Path) -> None:
    site = make_site(tmp_path, "academicpages")
    (site / "_pages" / "about.md").write_text("work in progress\n")
    assert init(site).returncode == 0
    assert (site / "_pages" / "about.md").read_text() == "work in progress\n"


def test_refuses_outside_a_git_repository(tmp_path: Path) -> None:
    site = make_site(tmp_path, "acadhomepage")  # its _config.yml names the repository
    shutil.rmtree(site / ".git")
    error = one_line_error(init(site))
    assert "not a git repository" in error
    assert not (site / "scholar-stats.toml").exists()


def test_never_writes_through_a_symbolic_link(tmp_path: Path) -> None:
    site = make_site(tmp_path, "acadhomepage")
    outside = tmp_path / "outside.html"
    outside.write_text("precious\n")
    include = site / "_includes" / "fetch_google_scholar_stats.html"
    include.unlink()
    include.symlink_to(outside)
    git(site, "add", "-A")
    git(site, "commit", "--quiet", "-m", "link")
    error = one_line_error(init(site))
    assert "symbolic link" in error
    assert outside.read_text() == "precious\n"
    one_line_error(init(site, "--dry-run"))


def test_never_writes_through_a_linked_folder(tmp_path: Path) -> None:
    site = make_site(tmp_path, "academicpages")
    elsewhere = tmp_path / "elsewhere"
    shutil.move(str(site / "_includes"), elsewhere)
    (site / "_includes").symlink_to(elsewhere)
    git(site, "add", "-A")
    git(site, "commit", "--quiet", "-m", "link")
    before = (elsewhere / "footer" / "custom.html").read_bytes()
    one_line_error(init(site, "--template", "academicpages"))
    assert (elsewhere / "footer" / "custom.html").read_bytes() == before


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--scholar-id", "not an id"], "--scholar-id"),
        (["--source", "scholar,googl"], "--source"),
        (["--source", ","], "--source"),
        (["--source", "scholar,scholar"], "twice"),
        (["--template", "wordpress"], "--template"),
    ],
)
def test_bad_options_are_usage_errors(tmp_path: Path, args: list[str], words: str) -> None:
    site = make_site(tmp_path, "al-folio")
    before = tree_bytes(site)
    proc = init(site, *args)
    assert proc.returncode == 2
    assert words in proc.stderr and "Traceback" not in proc.stderr
    assert tree_bytes(site) == before


def test_a_missing_folder_is_a_usage_error(tmp_path: Path) -> None:
    assert "not a folder" in one_line_error(init(tmp_path / "nowhere"))


def test_without_a_known_repository_says_how_to_name_it(tmp_path: Path) -> None:
    # academicpages' _config.yml still names the template's own repository: not the user's.
    site = make_site(tmp_path, "academicpages", remote=None)
    assert sites.find_repo(site) is None
    assert "git remote add origin" in one_line_error(init(site))


def test_openalex_without_a_scholar_id_asks_for_one(tmp_path: Path) -> None:
    site = make_site(tmp_path, "acadhomepage")
    assert "--scholar-id" in one_line_error(init(site, "--source", "scholar,openalex"))


# --- importing the old data branch's history


def test_import_git_flag_asks_the_first_run_to_import_and_stays(tmp_path: Path) -> None:
    from crawler.homepage.author_workflow import IMPORT_GIT_LINE

    site = make_site(tmp_path, "acadhomepage")
    proc = init(site, "--import-git")
    assert proc.returncode == 0, proc.stderr
    path = site / ".github" / "workflows" / "scholar-stats.yml"
    step = load_yaml(path)["jobs"]["update"]["steps"][-1]
    assert step["with"]["import-git"] is True
    assert IMPORT_GIT_LINE in path.read_text().splitlines()
    checker = shutil.which("check-jsonschema", path=str(BIN)) or shutil.which("check-jsonschema")
    assert checker
    valid = subprocess.run(
        [checker, "--builtin-schema", "vendor.github-workflows", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert valid.returncode == 0, valid.stdout + valid.stderr
    # The input it writes is one the action has.
    action = load_yaml(Path(__file__).resolve().parent.parent / "action.yml")
    assert "import-git" in action["inputs"]
    git(site, "add", "-A")
    git(site, "commit", "--quiet", "-m", "scholar-stats")
    # A later init without the flag keeps it; with it, nothing changes either.
    assert init(site, "--dry-run").stdout == ""
    assert init(site, "--import-git", "--dry-run").stdout == ""


def test_without_the_flag_no_import_is_written(tmp_path: Path) -> None:
    site = make_site(tmp_path, "acadhomepage")
    assert init(site).returncode == 0
    step = load_yaml(site / ".github" / "workflows" / "scholar-stats.yml")["jobs"]["update"]["steps"][-1]
    assert "import-git" not in step["with"]


# --- never rewrite bytes it cannot read exactly


@pytest.mark.parametrize(
    "prefix",
    [b"\xff\xfe", b"<!-- caf\xe9 (Latin-1) -->\n"],
    ids=["utf-16-bom", "latin-1-byte"],
)
def test_a_file_to_edit_that_is_not_utf8_is_refused_and_kept_byte_for_byte(
    tmp_path: Path, prefix: bytes
) -> None:
    site = make_site(tmp_path, "al-folio")
    layout = site / "_layouts" / "default.liquid"
    layout.write_bytes(prefix + layout.read_bytes())
    git(site, "commit", "--quiet", "-am", "an editor saved it its own way")
    before = tree_bytes(site)
    error = one_line_error(init(site))
    assert "_layouts/default.liquid" in error and "UTF-8" in error
    assert tree_bytes(site) == before


# --- the next steps, template by template


def _without_the_id(site: Path, template: str) -> None:
    if template == "al-folio":
        path, old, new = site / "_data" / "socials.yml", f"scholar_userid: {SCHOLAR_ID}", "# scholar_userid:"
    elif template == "academicpages":
        path, old, new = site / "_config.yml", f"user={SCHOLAR_ID}", "user=YOUR_ID"
    else:
        return  # AcadHomepage's _config.yml keeps the template's placeholder
    path.write_text(path.read_text().replace(old, new))
    git(site, "commit", "--quiet", "-am", "no ID yet")


@pytest.mark.parametrize("template", TEMPLATE_DIRS)
def test_the_secret_step_speaks_of_the_template_at_hand(tmp_path: Path, template: str) -> None:
    site = make_site(tmp_path, template)
    _without_the_id(site, template)
    proc = init(site)
    assert proc.returncode == 0, proc.stderr
    (secret,) = [line for line in proc.stdout.splitlines() if "GOOGLE_SCHOLAR_ID" in line]
    assert ("AcadHomepage" in secret) is (template == "acadhomepage"), secret


def test_acadhomepage_next_steps_say_what_to_do_with_the_crawler_folder(tmp_path: Path) -> None:
    site = make_site(tmp_path, "acadhomepage")
    proc = init(site)
    assert proc.returncode == 0, proc.stderr
    assert "git rm -r google_scholar_crawler" in proc.stdout
    shutil.rmtree(site / "google_scholar_crawler")
    git(site, "add", "-A")
    git(site, "commit", "--quiet", "-m", "crawler gone")
    assert "google_scholar_crawler" not in init(site).stdout


def test_an_old_data_branch_on_origin_suggests_import_git(tmp_path: Path) -> None:
    site = make_site(tmp_path, "acadhomepage")
    # What `git clone` of an AcadHomepage site brings: the crawler's branch, remote-tracking.
    git(site, "update-ref", "refs/remotes/origin/google-scholar-stats", "HEAD")
    proc = init(site, "--dry-run")
    assert proc.returncode == 0, proc.stderr
    proc = init(site)
    assert proc.returncode == 0, proc.stderr
    assert "scholar-stats init --import-git" in proc.stdout
    git(site, "checkout", "--quiet", "--", ".")
    git(site, "clean", "--quiet", "-fd")
    proc = init(site, "--import-git")
    assert proc.returncode == 0, proc.stderr
    assert "--import-git" not in proc.stdout


def test_no_old_data_branch_no_import_git_suggestion(tmp_path: Path) -> None:
    proc = init(make_site(tmp_path, "acadhomepage"))
    assert proc.returncode == 0 and "--import-git" not in proc.stdout


def test_the_templates_own_example_repository_is_named_as_such(tmp_path: Path) -> None:
    site = make_site(tmp_path, "acadhomepage", remote=None)
    config = site / "_config.yml"
    config.write_text(config.read_text().replace("alice/alice.github.io", "RayeRen/acad-homepage.github.io"))
    git(site, "commit", "--quiet", "-am", "as forked")
    error = one_line_error(init(site))
    assert "RayeRen/acad-homepage.github.io" in error and "template's own example" in error
    assert "git remote add origin" in error


def test_academicpages_next_steps_say_exactly_what_shows_a_number(tmp_path: Path) -> None:
    site = make_site(tmp_path, "academicpages")
    proc = init(site)
    assert proc.returncode == 0, proc.stderr
    # The theme has no element the page script fills: the user is told what to add, and where.
    assert '<span id="total_cit"></span>' in proc.stdout and "_pages/about.md" in proc.stdout
    assert 'class="show_paper_citations"' in proc.stdout


def test_init_help_links_the_page_that_documents_init() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "crawler", "init", "--help"], capture_output=True, text=True, timeout=60
    )
    anchor = "docs/github-actions.md#set-a-site-up-in-one-command-scholar-stats-init"
    assert anchor in proc.stdout.replace("\n", "").replace(" ", ""), proc.stdout
    docs = (Path(__file__).parent.parent / "docs" / "github-actions.md").read_text(encoding="utf-8")
    assert "## Set a site up in one command: `scholar-stats init`" in docs


def test_the_workflow_can_accept_a_drop_for_one_run(tmp_path: Path) -> None:
    site = make_site(tmp_path, "acadhomepage")
    assert init(site).returncode == 0
    workflow = load_yaml(site / ".github" / "workflows" / "scholar-stats.yml")
    # YAML reads the key `on` as True.
    dispatch = (workflow.get("on") or workflow[True])["workflow_dispatch"]  # type: ignore[index]
    assert dispatch["inputs"]["accept-drop"] == {
        "description": "Accept a drop the guard refused (papers merged or removed on Scholar)",
        "type": "boolean",
        "default": False,
    }
    step = workflow["jobs"]["update"]["steps"][-1]
    assert step["with"]["accept-drop"] == "${{ inputs.accept-drop || false }}"
    # The schedule never sets it: the guard stays on every day but the one run asked for.
    assert "schedule" in (workflow.get("on") or workflow[True])  # type: ignore[index]
