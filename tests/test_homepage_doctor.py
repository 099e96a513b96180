"""``scholar-stats doctor`` on template-shaped sites: silent on a healthy one, each planted problem found."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from replay import ReplayServer
from sites import REPO, SCHOLAR_ID, TEMPLATE_DIRS, action_remote, git, make_site

BRANCH = "google-scholar-stats"


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "GITHUB_STEP_SUMMARY"}
    env.update({"GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"})
    return subprocess.run(
        [sys.executable, "-m", "crawler", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
    )


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What `scholar-stats run` writes for the fixtures' author, from the local Scholar."""
    folder = tmp_path_factory.mktemp("doctor-data") / "data"
    with ReplayServer() as replay:
        replay.add_profile(SCHOLAR_ID, 12, name="Ada Example")
        proc = cli(
            "run", "--author", SCHOLAR_ID, "--data-dir", str(folder), "--base-url", replay.url, "--delay", "0"
        )
    assert proc.returncode == 0, proc.stderr
    return folder


@pytest.fixture(autouse=True)
def _local_action_remote(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCHOLAR_STATS_ACTION_REMOTE", str(action_remote(tmp_path)[0]))


def publish(site: Path, data: Path) -> None:
    proc = cli("publish", "--repo", str(site), "--no-push", "--branch", BRANCH, "--data-dir", str(data))
    assert proc.returncode == 0, proc.stderr


def healthy(tmp: Path, template: str, data: Path) -> Path:
    """A site set up by init, committed, with its data branch published."""
    site = make_site(tmp, template)
    assert cli("init", "--repo", str(site)).returncode == 0
    if template == "academicpages":
        # The theme has no element for the numbers: the one init's next steps say to add.
        with (site / "_pages" / "about.md").open("a", encoding="utf-8") as about:
            about.write('\nCited by <span id="total_cit"></span> times on Google Scholar.\n')
    git(site, "add", "-A")
    git(site, "commit", "--quiet", "-m", "scholar-stats")
    publish(site, data)
    return site


def doctor(site: Path, *args: str) -> tuple[int, list[dict[str, Any]]]:
    proc = cli("doctor", "--repo", str(site), "--format", "json", *args)
    assert proc.returncode in (0, 1), proc.stderr
    assert "Traceback" not in proc.stderr
    report = json.loads(proc.stdout)
    assert report["ok"] is (proc.returncode == 0)
    return proc.returncode, report["findings"]


@pytest.mark.parametrize("template", TEMPLATE_DIRS)
def test_a_healthy_site_has_no_findings(tmp_path: Path, template: str, data: Path) -> None:
    site = healthy(tmp_path, template, data)
    code, findings = doctor(site)
    assert findings == [] and code == 0
    text = cli("doctor", "--repo", str(site))
    assert text.returncode == 0 and text.stdout == "" and "all well" in text.stderr


def test_facts_say_how_old_the_newest_snapshot_is(tmp_path: Path, data: Path) -> None:
    site = healthy(tmp_path, "al-folio", data)
    report = json.loads(cli("doctor", "--repo", str(site), "--format", "json").stdout)
    facts = report["facts"]
    assert facts["template"] == "al-folio" and facts["repository"] == REPO and facts["branch"] == BRANCH
    assert facts["newest_snapshot"].startswith(f"{SCHOLAR_ID}/snapshots/")
    assert 0 <= facts["newest_snapshot_age_days"] < 1
    assert facts["workflows"] == [".github/workflows/scholar-stats.yml"]


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


WORKFLOW = ".github/workflows/scholar-stats.yml"


def _no_write(site: Path) -> None:
    edit(site / WORKFLOW, "      contents: write", "      contents: read")


def _moving_ref(site: Path) -> None:
    text = (site / WORKFLOW).read_text()
    start = text.index("scholar-stats/scholar-stats@")
    end = text.index("\n", start)
    (site / WORKFLOW).write_text(text[:start] + "scholar-stats/scholar-stats@main" + text[end:])


def _no_author(site: Path) -> None:
    edit(
        site / WORKFLOW,
        "          scholar-id: ${{ secrets.GOOGLE_SCHOLAR_ID }}\n          config: scholar-stats.toml\n",
        "",
    )


def _broken_yaml(site: Path) -> None:
    edit(site / WORKFLOW, "    runs-on: ubuntu-latest\n", "")


def _no_workflow(site: Path) -> None:
    (site / WORKFLOW).unlink()


def _old_crawler(site: Path) -> None:
    shutil.copy(
        Path(__file__).parent
        / "fixtures"
        / "sites"
        / "acadhomepage"
        / ".github"
        / "workflows"
        / "google_scholar_crawler.yaml",
        site / ".github" / "workflows" / "google_scholar_crawler.yaml",
    )


def _paper_typo(site: Path) -> None:
    edit(
        site / "_pages" / "about.md", f"data='{SCHOLAR_ID}:foVuExX66Kzq'", f"data='{SCHOLAR_ID}:foVuExX66Kzz'"
    )


def _no_total(site: Path) -> None:
    edit(site / "_pages" / "about.md", "<span id='total_cit'>260000+</span>", "260000+")


def _wrong_repo(site: Path) -> None:
    include = site / "_includes" / "fetch_google_scholar_stats.html"
    include.write_text(include.read_text().replace("alice/alice.github.io", "bob/bob.github.io"))


def _wrong_branch(site: Path) -> None:
    include = site / "_includes" / "fetch_google_scholar_stats.html"
    include.write_text(include.read_text().replace("google-scholar-stats", "gh-pages"))


def _old_script(site: Path) -> None:
    git(site, "checkout", "HEAD~1", "--", "_includes/fetch_google_scholar_stats.html")


PLANTED: dict[str, tuple[Callable[[Path], None], str, str]] = {
    # name: (plant it, check, words in the message)
    "no-write": (_no_write, "workflow", "contents: write"),
    "moving-ref": (_moving_ref, "workflow", "pin a release"),
    "no-author": (_no_author, "workflow", "names no author"),
    "broken-workflow": (_broken_yaml, "workflow", "runs-on"),
    "no-workflow": (_no_workflow, "workflow", "no workflow runs scholar-stats"),
    "old-crawler": (_old_crawler, "workflow", "force-pushes"),
    "paper-typo": (_paper_typo, "papers", f"{SCHOLAR_ID}:foVuExX66Kzz"),
    "no-total": (_no_total, "snippet", "total_cit"),
    "wrong-repo": (_wrong_repo, "snippet", "bob/bob.github.io"),
    "wrong-branch": (_wrong_branch, "snippet", "gh-pages"),
    "old-script": (_old_script, "snippet", "AcadHomepage's own script"),
}


@pytest.mark.parametrize("name", sorted(PLANTED))
def test_each_planted_problem_is_found_alone(tmp_path: Path, name: str, data: Path) -> None:
    site = healthy(tmp_path, "acadhomepage", data)
    plant, check, words = PLANTED[name]
    plant(site)
    code, findings = doctor(site)
    assert code == 1
    assert len(findings) == 1, findings
    assert findings[0]["check"] == check and words in findings[0]["message"], findings


def test_all_planted_problems_at_once(tmp_path: Path, data: Path) -> None:
    site = healthy(tmp_path, "acadhomepage", data)
    for name in ("no-write", "old-crawler", "paper-typo", "no-total", "wrong-repo"):
        PLANTED[name][0](site)
    code, findings = doctor(site)
    assert code == 1
    assert sorted(f["check"] for f in findings) == ["papers", "snippet", "snippet", "workflow", "workflow"]
    text = cli("doctor", "--repo", str(site))
    assert text.returncode == 1 and len(text.stdout.splitlines()) == 5
    assert all(line.split(":")[0] in ("workflow", "papers", "snippet") for line in text.stdout.splitlines())


def test_a_missing_data_branch(tmp_path: Path, data: Path) -> None:
    site = healthy(tmp_path, "academicpages", data)
    git(site, "branch", "-D", BRANCH)
    code, findings = doctor(site)
    assert code == 1 and [f["check"] for f in findings] == ["data"]
    assert f"no branch {BRANCH}" in findings[0]["message"]


def test_a_remote_tracking_data_branch_counts(tmp_path: Path, data: Path) -> None:
    site = healthy(tmp_path, "academicpages", data)
    tip = git(site, "rev-parse", BRANCH).strip()
    git(site, "update-ref", f"refs/remotes/origin/{BRANCH}", tip)
    git(site, "branch", "-D", BRANCH)
    assert doctor(site) == (0, [])


def test_root_files_missing_and_a_stale_author(tmp_path: Path, data: Path) -> None:
    site = healthy(tmp_path, "al-folio", data)
    folder = tmp_path / "data-copy"
    shutil.copytree(data, folder)
    (folder / SCHOLAR_ID / "gs_data_shieldsio.json").unlink()
    (folder / SCHOLAR_ID / "state.json").write_text(
        json.dumps(
            {
                "stale": True,
                "stale_since": "2026-11-23T19:52:40Z",
                "last_attempt": "2026-11-24T07:00:03Z",
                "error": "Blocked",
                "reason": "Google Scholar answered with its CAPTCHA page",
                "exit_code": 3,
            }
        )
    )
    code, findings = doctor(site, "--data-dir", str(folder))
    messages = [f["message"] for f in findings]
    assert code == 1
    assert any("gs_data_shieldsio.json is missing" in m for m in messages)
    assert any(
        m.startswith(f"{SCHOLAR_ID} is stale since 2026-11-23T19:52:40Z: Google Scholar answered")
        for m in messages
    )


def test_al_folio_bibtex_ids_not_in_the_data(tmp_path: Path, data: Path) -> None:
    site = healthy(tmp_path, "al-folio", data)
    bib = site / "_bibliography" / "papers.bib"
    edit(bib, "google_scholar_id = {foVuExX66Kzq}", "google_scholar_id = {mergedAway00}")
    code, findings = doctor(site)
    assert code == 1 and len(findings) == 1
    assert findings[0]["check"] == "papers"
    assert "example2020second" in findings[0]["message"] and "mergedAway00" in findings[0]["message"]
    assert findings[0]["where"].startswith("_bibliography/papers.bib:")


def test_al_folio_updater_left_beside_the_action(tmp_path: Path, data: Path) -> None:
    site = healthy(tmp_path, "al-folio", data)
    git(site, "checkout", "HEAD~1", "--", ".github/workflows/update-citations.yml")
    code, findings = doctor(site)
    assert code == 1 and len(findings) == 1 and "update-citations.yml" in findings[0]["where"]


def test_a_site_never_set_up(tmp_path: Path) -> None:
    site = make_site(tmp_path, "acadhomepage")
    code, findings = doctor(site)
    checks = {f["check"] for f in findings}
    assert code == 1 and checks == {"workflow", "data", "snippet"}


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--data-dir", "x", "--branch", "y"], "not both"),
        (["--branch", "../x"], "--branch"),
        (["--data-dir", "/nonexistent/folder"], "not a folder"),
        (["--format", "xml"], "--format"),
    ],
)
def test_usage_errors(tmp_path: Path, args: list[str], words: str) -> None:
    proc = cli("doctor", "--repo", str(tmp_path), *args)
    assert proc.returncode == 2 and words in proc.stderr and "Traceback" not in proc.stderr


def test_the_data_folder_run_writes_is_understood(tmp_path: Path, data: Path) -> None:
    # `run` writes data/<ID>/gs_data.json; `publish` puts the root author's files at the branch's root.
    assert not (data / "gs_data.json").exists() and (data / SCHOLAR_ID / "gs_data.json").is_file()
    site = healthy(tmp_path, "acadhomepage", data)
    code, findings = doctor(site, "--data-dir", str(data))
    assert findings == [] and code == 0
    report = json.loads(
        cli("doctor", "--repo", str(site), "--format", "json", "--data-dir", str(data)).stdout
    )
    assert report["facts"]["root_author"] == SCHOLAR_ID
    # A paper ID the page asks for is still checked against that author's numbers.
    _paper_typo(site)
    code, findings = doctor(site, "--data-dir", str(data))
    assert code == 1 and [f["check"] for f in findings] == ["papers"]


def test_an_empty_data_folder_says_run_first(tmp_path: Path, data: Path) -> None:
    site = healthy(tmp_path, "al-folio", data)
    empty = tmp_path / "empty"
    empty.mkdir()
    code, findings = doctor(site, "--data-dir", str(empty))
    assert code == 1
    assert any("scholar-stats run" in f["message"] for f in findings), findings


def test_a_site_where_no_element_shows_a_number(tmp_path: Path, data: Path) -> None:
    # academicpages as it ships: the script is loaded, but nothing on the site is filled by it.
    site = make_site(tmp_path, "academicpages")
    assert cli("init", "--repo", str(site)).returncode == 0
    git(site, "add", "-A")
    git(site, "commit", "--quiet", "-m", "scholar-stats")
    publish(site, data)
    code, findings = doctor(site)
    assert code == 1
    (finding,) = findings
    assert finding["check"] == "snippet"
    assert finding["message"].startswith("no element on the site shows a number")
    assert '<span id="total_cit"></span>' in finding["message"]


OLD_ALFOLIO_LINE = (
    '{% if entry.google_scholar_id %}<span class="show_paper_citations" '
    'data="{{ site.scholar_userid }}:{{ entry.google_scholar_id }}"></span>{% endif %}\n'
)


def _docs_alfolio_line() -> str:
    docs = (Path(__file__).parent.parent / "docs" / "homepage.md").read_text(encoding="utf-8")
    (line,) = [line for line in docs.splitlines() if line.startswith("{% if entry.google_scholar_id %}<span")]
    return line + "\n"


def test_an_element_whose_id_expands_empty_is_reported(tmp_path: Path, data: Path) -> None:
    # Current al-folio keeps the Scholar ID in _data/socials.yml; site.scholar_userid is not set.
    site = healthy(tmp_path, "al-folio", data)
    (site / "_layouts" / "bib.liquid").write_text("<div>\n" + OLD_ALFOLIO_LINE + "</div>\n")
    code, findings = doctor(site)
    assert code == 1
    (finding,) = findings
    assert finding["check"] == "papers" and finding["where"] == "_layouts/bib.liquid:2"
    assert "{{ site.scholar_userid }}" in finding["message"] and "expands empty" in finding["message"]
    assert "site.data.socials.scholar_userid" in finding["message"]


def test_the_al_folio_line_docs_give_expands_to_the_id(tmp_path: Path, data: Path) -> None:
    site = healthy(tmp_path, "al-folio", data)
    line = _docs_alfolio_line()
    assert "site.data.socials.scholar_userid" in line
    (site / "_layouts" / "bib.liquid").write_text("<div>\n" + line + "</div>\n")
    code, findings = doctor(site)
    assert findings == [] and code == 0
    # Older al-folio kept it in _config.yml: the same line still finds it there.
    socials = site / "_data" / "socials.yml"
    socials.write_text(socials.read_text().replace(f"scholar_userid: {SCHOLAR_ID}", "# scholar_userid:"))
    config = site / "_config.yml"
    config.write_text(config.read_text() + f"\nscholar_userid: {SCHOLAR_ID}\n")
    code, findings = doctor(site)
    assert findings == [] and code == 0
