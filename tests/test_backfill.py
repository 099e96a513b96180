"""Backfill: gs_data.json <-> record, `import-git` over a real git history,
`import-html` over real saved pages."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import wayback
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from crawler.cli import main
from crawler.models import AuthorRecord, Metrics, Profile, Publication, record_from_dict
from crawler.outputs.badges import BadgeStyle
from crawler.outputs.gs_data import gs_data_dict, record_from_gs_data
from crawler.outputs.write import write_outputs
from crawler.storage.store import AuthorStore, snapshot_refs

SID = "gItHiStOrY01"
FIXTURES = Path(__file__).parent / "fixtures" / "scholar"
DENNER = "AoKJ_g4AAAAJ"


def cli(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert "Traceback" not in result.stderr, result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result.exit_code, result.stdout, result.stderr


def snapshot_names(data: Path, sid: str = SID) -> list[str]:
    return [r.path.name for r in snapshot_refs(data, sid)]


# -- gs_data.json -> record ----------------------------------------------------------------


RICH = AuthorRecord(
    profile=Profile(
        scholar_id=SID,
        name="Chien-Shiung Wu",
        affiliation="Columbia University",
        interests=("nuclear physics", "beta decay"),
        email_domain="columbia.edu",
        homepage="https://example.org/wu",
        picture_url="https://example.org/wu.jpg",
    ),
    metrics=Metrics(
        citations=1234,
        citations_since=456,
        h_index=20,
        h_index_since=12,
        i10_index=30,
        i10_index_since=None,
        since_year=2021,
    ),
    cites_per_year=((2019, 0), (2020, 40), (2021, 100)),
    publications=(
        Publication(
            f"{SID}:aaaaaaaaaaaa",
            'Parity, "violation"',
            authors="CS Wu, E Ambler",
            venue="Phys. Rev. 105, 1957",
            year=1957,
            citations=900,
            cites_id="123,456",
        ),
        Publication(
            f"{SID}:bbbbbbbbbbbb",
            "Untitled note",
            authors=None,
            venue=None,
            year=None,
            citations=None,
            cites_id=None,
        ),
        Publication(f"{SID}:cccccccccccc", "Zero", authors="CS Wu", venue="Nature", year=1960, citations=0),
    ),
    complete=False,
    source="openalex",
    fetched_at=datetime(2026, 2, 3, 4, 5, 6, tzinfo=UTC),
    notes=("counts_by_year covers only the last 10 years",),
)


def round_trip(record: AuthorRecord) -> AuthorRecord:
    text = json.dumps(gs_data_dict(record, updated=record.fetched_at), ensure_ascii=False)
    return record_from_gs_data(json.loads(text), "ignoredIDxx1")


def test_our_gs_data_round_trips_exactly() -> None:
    assert round_trip(RICH) == RICH
    plain = AuthorRecord(profile=Profile(scholar_id=SID, name="N"), metrics=Metrics(), fetched_at=None)
    assert round_trip(plain) == plain


text_st = st.text(st.characters(exclude_categories=["Cs"]), max_size=30)
opt_int = st.none() | st.integers(min_value=0, max_value=10**7)


@st.composite
def records(draw: st.DrawFn) -> AuthorRecord:
    n = draw(st.integers(min_value=0, max_value=6))
    ids = draw(
        st.lists(st.from_regex(r"[A-Za-z0-9_-]{12}", fullmatch=True), min_size=n, max_size=n, unique=True)
    )
    pubs = tuple(
        Publication(
            author_pub_id=f"{SID}:{pid}",
            title=draw(text_st),
            authors=draw(st.none() | text_st),
            venue=draw(st.none() | text_st.filter(bool)),
            year=draw(st.none() | st.integers(1900, 2030)),
            citations=draw(opt_int),
            cites_id=draw(st.none() | st.from_regex(r"[0-9]{1,20}(,[0-9]{1,20})?", fullmatch=True)),
        )
        for pid in ids
    )
    return AuthorRecord(
        profile=Profile(
            scholar_id=SID,
            name=draw(text_st),
            affiliation=draw(st.none() | text_st),
            interests=tuple(draw(st.lists(text_st, max_size=3))),
            email_domain=draw(st.none() | st.from_regex(r"[a-z]{1,8}\.[a-z]{2,3}", fullmatch=True)),
        ),
        metrics=Metrics(
            citations=draw(opt_int),
            citations_since=draw(opt_int),
            h_index=draw(opt_int),
            h_index_since=draw(opt_int),
            i10_index=draw(opt_int),
            i10_index_since=draw(opt_int),
            since_year=draw(st.none() | st.integers(2000, 2030)),
        ),
        cites_per_year=tuple(
            sorted(draw(st.dictionaries(st.integers(1990, 2030), st.integers(0, 10**6), max_size=5)).items())
        ),
        publications=pubs,
        complete=draw(st.booleans()),
        source=draw(st.sampled_from(["scholar", "openalex", "serpapi"])),
        fetched_at=draw(
            st.none()
            | st.datetimes(
                min_value=datetime(2000, 1, 1),
                max_value=datetime(2099, 1, 1),
                timezones=st.just(UTC),
            ).map(lambda d: d.replace(microsecond=0))
        ),
        notes=tuple(draw(st.lists(text_st, max_size=2))),
    )


@settings(max_examples=150, deadline=None)
@given(records())
def test_round_trip_property(record: AuthorRecord) -> None:
    assert round_trip(record) == record


def acad(
    citedby: int,
    pubs: dict[str, int],
    *,
    as_list: bool = False,
    int_years: bool = False,
    updated: str = "2024-05-01 03:04:05.123456",
) -> dict[str, Any]:
    """What AcadHomepage's workflow commits: scholarly's filled author,
    publications keyed by author_pub_id."""
    entries = {
        f"{SID}:{key}": {
            "container_type": "Publication",
            "source": "AUTHOR_PUBLICATION_ENTRY",
            "bib": {
                "title": f"On {key}, again",
                "pub_year": "2019" if key != "z" else "",
                "citation": f"Journal of {key} 3, 2019",
            },
            "filled": False,
            "author_pub_id": f"{SID}:{key}",
            "num_citations": count,
            "citedby_url": f"/scholar?oi=bibs&hl=en&cites={len(key)}00",
            "cites_id": [f"{len(key)}00"],
            "public_access": {"available": 0, "not_available": 0},
        }
        for key, count in pubs.items()
    }
    cpy: dict[Any, int] = {2019: 5, 2020: citedby - 5} if int_years else {"2019": 5, "2020": citedby - 5}
    return {
        "container_type": "Author",
        "filled": ["basics", "indices", "counts", "publications"],
        "scholar_id": SID,
        "source": "AUTHOR_PROFILE_PAGE",
        "name": "Lise Meitner",
        "url_picture": "https://scholar.googleusercontent.com/citations?view_op=view_photo&user=x",
        "affiliation": "Kaiser Wilhelm Institute",
        "organization": 123,
        "interests": ["nuclear fission"],
        "email_domain": "@kwi.de",
        "homepage": "https://example.org/meitner",
        "citedby": citedby,
        "citedby5y": citedby - 5,
        # h-indices the other numbers allow: no more than the publications listed.
        "hindex": min(3, len(pubs)),
        "hindex5y": min(2, len(pubs)),
        "i10index": 1,
        "i10index5y": 1,
        "cites_per_year": cpy,
        "updated": updated,
        "publications": list(entries.values()) if as_list else entries,
    }


@pytest.mark.parametrize("as_list", [False, True])
@pytest.mark.parametrize("int_years", [False, True])
def test_acadhomepage_gs_data(as_list: bool, int_years: bool) -> None:
    record = record_from_gs_data(
        acad(25, {"x": 20, "yy": 5, "z": 0}, as_list=as_list, int_years=int_years), "otherIDxxxx1"
    )
    assert record.scholar_id == SID and record.profile.name == "Lise Meitner"
    assert record.profile.email_domain == "kwi.de"
    assert record.metrics == Metrics(
        citations=25,
        citations_since=20,
        h_index=3,
        h_index_since=2,
        i10_index=1,
        i10_index_since=1,
        since_year=None,
    )
    assert record.cites_per_year == ((2019, 5), (2020, 20))
    assert [
        (p.author_pub_id, p.title, p.year, p.citations, p.cites_id, p.venue) for p in record.publications
    ] == [
        (f"{SID}:x", "On x, again", 2019, 20, "100", "Journal of x 3, 2019"),
        (f"{SID}:yy", "On yy, again", 2019, 5, "200", "Journal of yy 3, 2019"),
        (f"{SID}:z", "On z, again", None, 0, "100", "Journal of z 3, 2019"),
    ]
    # scholarly's source and AcadHomepage's zone-less local "updated" are not ours to trust.
    assert (record.source, record.fetched_at, record.complete) == ("scholar", None, True)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([1, 2], "not a JSON object"),
        ({"name": "x"}, "not an author object"),
        ({"citedby": 3}, "'name' must be a string"),
        ({"name": "x", "citedby": "many"}, "'citedby' must be an integer"),
        ({"name": "x", "citedby": 1, "publications": "none"}, "'publications' must be an object or a list"),
        ({"name": "x", "publications": {"a": {"bib": {}}}}, "'publications.a.bib.title' must be a string"),
        (
            {"name": "x", "publications": [{"bib": {"title": "t"}}]},
            "'publications[0]' has no 'author_pub_id'",
        ),
        ({"name": "x", "citedby": 1, "cites_per_year": {"total": 3}}, "not a year"),
    ],
)
def test_not_an_author_object(data: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        record_from_gs_data(data, SID)


# -- import-git -----------------------------------------------------------------------------


def git(repo: Path, *args: str, when: int | None = None) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.org",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.org",
    }
    if when is not None:
        env["GIT_COMMITTER_DATE"] = env["GIT_AUTHOR_DATE"] = f"@{when} +0200"
    result = subprocess.run(
        ["git", "-c", "commit.gpgsign=false", "-C", str(repo), *args],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


# Commit times (UTC epoch seconds): 2024-01-01T00:00:00Z and then every 10 days at 12:34:56.
TIMES = [1704067200 + i * 864000 + 45296 for i in range(6)]
NAMES = [datetime.fromtimestamp(t, UTC).strftime("%Y%m%dT%H%M%SZ.json") for t in TIMES]


def commit_file(repo: Path, content: bytes | str, when: int, path: str = "gs_data.json") -> None:
    target = repo / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(content if isinstance(content, bytes) else content.encode())
    git(repo, "add", path)
    git(repo, "commit", "-q", "-m", "Updated Citation & Stars Badge", when=when)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A homepage repository: main with the site, google-scholar-stats with five versions of gs_data.json."""
    root = tmp_path / "homepage"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    commit_file(root, "# my homepage\n", TIMES[0] - 100, "README.md")
    git(root, "checkout", "-q", "--orphan", "google-scholar-stats")
    git(root, "rm", "-q", "-r", "--cached", ".")
    (root / "README.md").unlink()
    for i, total in enumerate((100, 110, 125, 130, 140)):
        pubs = (
            {"x": total - 20, "yy": 15, "z": 5} if i < 4 else {"x": total - 30, "yy": 15, "z": 5, "new": 10}
        )
        # AcadHomepage's "updated" is the local time of each run, so every run commits.
        updated = f"2024-01-{i + 1:02d} 14:34:56.{i:06d}"
        commit_file(root, json.dumps(acad(total, pubs, updated=updated), ensure_ascii=False), TIMES[i])
        commit_file(
            root,
            json.dumps({"schemaVersion": 1, "message": str(total), "n": i}),
            TIMES[i],
            "gs_data_shieldsio.json",
        )
    git(root, "checkout", "-q", "main")
    return root


def test_import_git_five_versions_then_nothing(repo: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    code, out, err = cli("import-git", "--repo", repo, "--author", SID, "--data-dir", data)
    assert code == 0, err
    assert snapshot_names(data) == NAMES[:5]
    assert "5 versions: imported 5, already there 0" in err and out == ""
    latest = AuthorStore(data, SID).latest()
    assert latest is not None
    record = latest[1]
    assert (record.metrics.citations, len(record.publications), record.source) == (140, 4, "scholar")
    assert record.fetched_at == datetime.fromtimestamp(TIMES[4], UTC)
    # The newest snapshot was imported, so the outputs were rebuilt from it.
    gs = json.loads((data / SID / "gs_data.json").read_text(encoding="utf-8"))
    assert (
        gs["citedby"] == 140
        and gs["updated"] == NAMES[4][:4] + "-" + NAMES[4][4:6] + "-" + NAMES[4][6:8] + "T12:34:56Z"
    )
    before = {
        p: p.read_bytes() for p in sorted(data.rglob("*")) if p.is_file() and p.name != ".scholar-stats.lock"
    }

    code, _, err = cli("import-git", "--repo", repo, "--author", SID, "--data-dir", data)
    assert code == 0 and "imported 0, already there 5" in err
    after = {
        p: p.read_bytes() for p in sorted(data.rglob("*")) if p.is_file() and p.name != ".scholar-stats.lock"
    }
    assert after == before


def test_a_version_that_says_nothing_new_adds_no_snapshot(repo: Path, tmp_path: Path) -> None:
    """AcadHomepage commits every day; a day whose numbers did not change differs only in "updated"."""
    git(repo, "checkout", "-q", "google-scholar-stats")
    same = acad(140, {"x": 110, "yy": 15, "z": 5, "new": 10}, updated="2024-02-12 14:34:56.000000")
    commit_file(repo, json.dumps(same, ensure_ascii=False), TIMES[5])
    git(repo, "checkout", "-q", "main")
    data = tmp_path / "data"
    code, _, err = cli("import-git", "--repo", repo, "--author", SID, "--data-dir", data)
    assert code == 0, err
    assert "6 versions: imported 5, already there 1" in err
    assert snapshot_names(data) == NAMES[:5]


def test_import_git_reads_origin_branch_of_a_fresh_clone(repo: Path, tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(repo), str(clone)], check=True, capture_output=True)
    assert "google-scholar-stats" not in git(clone, "branch", "--list")
    code, _, err = cli("import-git", "--repo", clone, "--author", SID, "--data-dir", tmp_path / "data")
    assert code == 0, err
    assert snapshot_names(tmp_path / "data") == NAMES[:5]


def test_bad_versions_are_skipped_with_a_warning(repo: Path, tmp_path: Path) -> None:
    git(repo, "checkout", "-q", "google-scholar-stats")
    commit_file(repo, "<html>not json</html>", TIMES[5])
    commit_file(repo, json.dumps(["a", "list"]), TIMES[5] + 60)
    git(repo, "checkout", "-q", "main")
    code, _, err = cli("import-git", "--repo", repo, "--author", SID, "--data-dir", tmp_path / "data")
    assert code == 0, err
    shas = git(repo, "log", "--format=%H", "-2", "google-scholar-stats").split()
    for sha in shas:
        assert f"gs_data.json (commit {sha}): not a gs_data.json author object" in err
    assert "7 versions: imported 5, already there 0, not usable 2" in err


def test_no_usable_version_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "r"
    root.mkdir()
    git(root, "init", "-q", "-b", "google-scholar-stats")
    commit_file(root, "{}", TIMES[0])
    commit_file(root, "null", TIMES[1])
    code, _, err = cli("import-git", "--repo", root, "--author", SID, "--data-dir", tmp_path / "data")
    assert code == 2
    assert err.endswith(
        f"error: none of the 2 committed versions of gs_data.json on google-scholar-stats in {root} "
        "is a gs_data.json author object\n"
    )
    assert not (tmp_path / "data" / SID / "snapshots").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--branch", "gh-pages"], "no branch gh-pages (nor origin/gh-pages) in"),
        (
            ["--path", "results/gs_data.json"],
            "results/gs_data.json was never committed on google-scholar-stats",
        ),
        (["--author", "short"], "not a Google Scholar ID"),
    ],
)
def test_import_git_usage_errors(repo: Path, tmp_path: Path, args: list[str], message: str) -> None:
    base = ["import-git", "--repo", str(repo), "--author", SID, "--data-dir", str(tmp_path / "data")]
    code, _, err = cli(*base, *args)
    assert code == 2 and message in err and err.count("\n") == 1


def test_not_a_repository(tmp_path: Path) -> None:
    code, _, err = cli("import-git", "--repo", tmp_path, "--author", SID, "--data-dir", tmp_path / "data")
    assert code == 2 and err == f"error: not a git repository: {tmp_path}\n"


def test_guard_refuses_a_sharp_drop_against_the_snapshot_before(repo: Path, tmp_path: Path) -> None:
    git(repo, "checkout", "-q", "google-scholar-stats")
    commit_file(repo, json.dumps(acad(20, {"x": 20})), TIMES[5])
    git(repo, "checkout", "-q", "main")
    data = tmp_path / "data"
    code, _, err = cli("import-git", "--repo", repo, "--author", SID, "--data-dir", data)
    assert code == 6
    assert "total citations fell from 140 to 20" in err and err.splitlines()[-1].startswith(
        "error: refused by the guard: commit "
    )
    assert snapshot_names(data) == NAMES[:5]
    code, _, err = cli("import-git", "--repo", repo, "--author", SID, "--data-dir", data, "--accept-drop")
    assert code == 0 and "imported 1, already there 5" in err
    assert snapshot_names(data)[-1] == NAMES[5]


def test_a_versions_of_another_author_is_refused(repo: Path, tmp_path: Path) -> None:
    code, _, err = cli(
        "import-git", "--repo", repo, "--author", "sOmEoNeElSe1", "--data-dir", tmp_path / "data"
    )
    assert code == 6 and f"the page is the profile of {SID}, not sOmEoNeElSe1" in err


def test_older_history_does_not_touch_newer_outputs(repo: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    newer = record_from_gs_data(acad(150, {"x": 130, "yy": 15, "z": 5}), SID).with_fetched_at(
        datetime(2025, 6, 1, tzinfo=UTC)
    )
    AuthorStore(data, SID).write_snapshot(newer)
    write_outputs(AuthorStore(data, newer.scholar_id), newer, BadgeStyle())
    outputs = {
        p: p.read_bytes() for p in (data / SID).rglob("*") if p.is_file() and "snapshots" not in p.parts
    }
    code, _, err = cli("import-git", "--repo", repo, "--author", SID, "--data-dir", data)
    assert code == 0, err
    assert len(snapshot_names(data)) == 6
    assert {p: p.read_bytes() for p in outputs} == outputs
    assert "rebuilt" not in err


def test_an_imported_run_snapshot_is_not_duplicated(tmp_path: Path) -> None:
    """Our own data branch: each gs_data.json matches a snapshot the run wrote a little earlier."""
    data = tmp_path / "data"
    root = tmp_path / "ours"
    root.mkdir()
    git(root, "init", "-q", "-b", "google-scholar-stats")
    for i, total in enumerate((10, 12)):
        record = RICH.with_fetched_at(datetime.fromtimestamp(TIMES[i] - 30, UTC))
        record = AuthorRecord(
            **{
                **{f: getattr(record, f) for f in record.__slots__},
                "metrics": Metrics(citations=total),
                "complete": True,
            }
        )
        AuthorStore(data, SID).write_snapshot(record)
        commit_file(root, json.dumps(gs_data_dict(record, updated=record.fetched_at)), TIMES[i])
    code, _, err = cli("import-git", "--repo", root, "--author", SID, "--data-dir", data)
    assert code == 0 and "imported 0, already there 2" in err
    assert len(snapshot_names(data)) == 2


# -- import-html ------------------------------------------------------------------------------


def copy_fixture(tmp_path: Path, name: str, mtime: int | None = None) -> Path:
    target = tmp_path / "pages" / name
    target.parent.mkdir(exist_ok=True)
    shutil.copyfile(FIXTURES / name, target)
    if mtime is not None:
        os.utime(target, (mtime, mtime))
    return target


def test_import_html_dated_by_mtime_then_nothing_new(tmp_path: Path) -> None:
    page = copy_fixture(tmp_path, "denner_pt-PT_176rows_browser-saved.html", mtime=1763100000)
    data = tmp_path / "data"
    code, _, err = cli("import-html", page, "--author", DENNER, "--data-dir", data)
    assert code == 0, err
    assert snapshot_names(data, DENNER) == ["20251114T060000Z.json"]
    record = record_from_dict(
        json.loads((data / DENNER / "snapshots" / "20251114T060000Z.json").read_text("utf-8"))
    )
    assert (record.metrics.citations, record.metrics.h_index, len(record.publications)) == (1799, 17, 176)
    assert record.profile.name == "Carlos Denner dos Santos" and record.complete
    assert json.loads((data / DENNER / "gs_data.json").read_text("utf-8"))["citedby"] == 1799
    code, _, err = cli("import-html", page, "--author", DENNER, "--data-dir", data)
    assert code == 0 and "imported 0, already there 1" in err


def test_import_html_with_date(tmp_path: Path) -> None:
    page = copy_fixture(tmp_path, "bohlooli_en_50rows.html")
    data = tmp_path / "data"
    code, _, err = cli(
        "import-html", page, "--author", "cIn8pGEAAAAJ", "--date", "2022-08-09", "--data-dir", data
    )
    assert code == 0, err
    assert snapshot_names(data, "cIn8pGEAAAAJ") == ["20220809T000000Z.json"]
    code, _, err = cli(
        "import-html", page, page, "--author", "cIn8pGEAAAAJ", "--date", "2022-08-09", "--data-dir", data
    )
    assert code == 2 and "--date dates a single FILE" in err


def test_partial_page_is_refused_unless_allowed(tmp_path: Path) -> None:
    page = copy_fixture(tmp_path, "cherukuri_en_20rows_showmore.html", mtime=1771286400)
    data = tmp_path / "data"
    code, _, err = cli("import-html", page, "--author", "amIMrIEAAAAJ", "--data-dir", data)
    assert code == 6 and err.count("\n") == 1
    assert f"error: {page}: the page shows 20 publications and its 'Show more' button is still enabled" in err
    assert not (data / "amIMrIEAAAAJ").exists()
    code, _, err = cli("import-html", page, "--author", "amIMrIEAAAAJ", "--data-dir", data, "--allow-partial")
    assert code == 0, err
    latest = AuthorStore(data, "amIMrIEAAAAJ").latest()
    assert latest is not None
    assert latest[1].complete is False and latest[1].metrics.citations == 425
    assert "imported from a saved page that shows 20 publications" in latest[1].notes[0]


@pytest.mark.parametrize(
    ("name", "code", "message"),
    [
        ("captcha_scholar_profile_request.html", 3, "CAPTCHA page"),
        ("signin_page_invalid_user.html", 3, "sign-in page"),
        ("bohlooli_en_50rows.html", 6, f"the page is the profile of cIn8pGEAAAAJ, not {DENNER}"),
        ("README.md", 5, ""),
    ],
)
def test_import_html_refuses_other_pages_naming_the_file(
    tmp_path: Path, name: str, code: int, message: str
) -> None:
    good = copy_fixture(tmp_path, "denner_pt-PT_176rows_browser-saved.html")
    page = copy_fixture(tmp_path, name)
    exit_code, _, err = cli("import-html", good, page, "--author", DENNER, "--data-dir", tmp_path / "data")
    assert exit_code == code
    assert err.startswith(f"error: {page}: ") and message in err and err.count("\n") == 1
    # Nothing is imported when one of the files is wrong.
    assert not (tmp_path / "data").exists() or snapshot_names(tmp_path / "data", DENNER) == []


def test_import_html_guard_checks_the_snapshot_before(tmp_path: Path) -> None:
    """An older page goes before a newer snapshot; it is checked against what came before it,
    not the newest."""
    data = tmp_path / "data"
    kid = "8daWuo4AAAAJ"
    store = AuthorStore(data, kid)
    page = copy_fixture(tmp_path, "kietzig_en_2021_pagesize2.html")
    for when, total in (
        (datetime(2019, 1, 1, tzinfo=UTC), 1300),
        (datetime(2024, 1, 1, tzinfo=UTC), 5000),
    ):
        store.write_snapshot(
            AuthorRecord(
                profile=Profile(scholar_id=kid, name="Anne Kietzig"),
                metrics=Metrics(citations=total),
                publications=tuple(Publication(f"{kid}:{i:012d}", f"t{i}") for i in range(2)),
                fetched_at=when,
            )
        )
    outputs_before = sorted((data / kid).iterdir())
    # Against the 2024 snapshot this page (1338 citations) would be a drop from 5000;
    # against 2019 it is growth.
    code, _, err = cli(
        "import-html",
        page,
        "--author",
        kid,
        "--date",
        "2021-08-01T10:00:00+02:00",
        "--data-dir",
        data,
        "--allow-partial",
    )
    assert code == 0, err
    assert snapshot_names(data, kid) == [
        "20190101T000000Z.json",
        "20210801T080000Z.json",
        "20240101T000000Z.json",
    ]
    # Not the newest snapshot: the outputs are left alone.
    assert sorted((data / kid).iterdir()) == outputs_before
    # The same page in French says the same thing at that time: nothing new.
    fr = copy_fixture(tmp_path, "kietzig_fr_2019_pagesize2.html")
    code, _, err = cli(
        "import-html",
        fr,
        "--author",
        kid,
        "--date",
        "2021-08-01T08:00:00Z",
        "--data-dir",
        data,
        "--allow-partial",
    )
    assert code == 0 and "imported 0, already there 1" in err


@pytest.mark.parametrize("key", ["citedby", "hindex", "i10index5y"])
def test_a_negative_count_in_an_imported_file_is_refused(key: str) -> None:
    data = acad(25, {"x": 20, "yy": 5, "z": 0})
    data[key] = -5
    with pytest.raises(ValueError, match=f"'{key}' must be an integer of 0 or more"):
        record_from_gs_data(data, SID)


def test_a_negative_count_in_a_snapshot_is_refused() -> None:
    record = record_from_gs_data(acad(25, {"x": 20, "yy": 5, "z": 0}), SID)
    from crawler.models import record_to_dict

    stored = record_to_dict(record)
    stored["publications"][0]["citations"] = -1
    with pytest.raises(ValueError, match=r"publications\[0\]\.citations"):
        record_from_dict(stored)


def test_import_html_refuses_a_page_mixing_two_profiles(tmp_path: Path) -> None:
    body = (FIXTURES / "bohlooli_en_50rows.html").read_bytes()
    mixed = tmp_path / "mixed.html"
    mixed.write_bytes(body.replace(b"citation_for_view=cIn8pGEAAAAJ:", b"citation_for_view=sOmEoNeElSe1:", 1))
    data = tmp_path / "data"
    code, _, err = cli("import-html", mixed, "--author", "cIn8pGEAAAAJ", "--data-dir", data)
    assert code == 5, err
    assert f"{mixed}: the page mixes the profiles cIn8pGEAAAAJ, sOmEoNeElSe1" in err
    assert not (data / "cIn8pGEAAAAJ" / "snapshots").exists() or not any(
        (data / "cIn8pGEAAAAJ" / "snapshots").iterdir()
    )


# -- import-html of Wayback Machine captures and older layouts -------------------------------------

LAYOUTS = Path(__file__).parent / "fixtures" / "scholar_layouts"


def archived_copy(tmp_path: Path, source: Path, sid: str, timestamp: str, mtime: int = 1700000000) -> Path:
    target = tmp_path / "pages" / f"{source.stem}_{timestamp}.html"
    target.parent.mkdir(exist_ok=True)
    target.write_bytes(
        wayback.capture(
            source.read_bytes(),
            url=f"http://scholar.google.com/citations?user={sid}&hl=en",
            timestamp=timestamp,
        )
    )
    os.utime(target, (mtime, mtime))
    return target


def test_import_html_dates_each_capture_by_its_capture_not_the_file(tmp_path: Path) -> None:
    kid = "8daWuo4AAAAJ"
    first = archived_copy(tmp_path, FIXTURES / "kietzig_fr_2019_pagesize2.html", kid, "20190305101500")
    second = archived_copy(tmp_path, FIXTURES / "kietzig_en_2021_pagesize2.html", kid, "20210801000000")
    data = tmp_path / "data"
    code, _, err = cli("import-html", first, second, "--author", kid, "--data-dir", data, "--allow-partial")
    assert code == 0, err
    # The second capture says what the first said: nothing new at its time.
    assert "imported 1, already there 1" in err
    assert snapshot_names(data, kid) == ["20190305T101500Z.json"]


def test_import_html_of_older_layouts_keeps_what_the_page_cannot_say(tmp_path: Path) -> None:
    leek, spjuth = "HI-I6C0AAAAJ", "oSJgw2cAAAAJ"
    data = tmp_path / "data"
    page = archived_copy(tmp_path, LAYOUTS / "leek_en_2017_readlines.html", leek, "20170304120000")
    code, _, err = cli("import-html", page, "--author", leek, "--data-dir", data, "--allow-partial")
    assert code == 0, err
    latest = AuthorStore(data, leek).latest()
    assert latest is not None
    assert latest[1].fetched_at == datetime(2017, 3, 4, 12, tzinfo=UTC)
    assert (latest[1].metrics.citations, latest[1].metrics.since_year) == (4623, 2012)
    assert dict(latest[1].cites_per_year)[2016] == 1014
    # A 2014 page saved by a browser: its chart was an image, so no per-year counts, and a note.
    page = copy_fixture_from(tmp_path, LAYOUTS / "spjuth_en_2014_cit_browser-saved.html", mtime=1392456600)
    code, _, err = cli("import-html", page, "--author", spjuth, "--data-dir", data, "--allow-partial")
    assert code == 0, err
    latest = AuthorStore(data, spjuth).latest()
    assert latest is not None
    assert latest[1].fetched_at == datetime(2014, 2, 15, 9, 30, tzinfo=UTC)
    assert latest[1].cites_per_year == () and latest[1].metrics.citations == 437
    assert any("per-year" in note for note in latest[1].notes)
    assert json.loads((data / spjuth / "gs_data.json").read_text("utf-8"))["citedby"] == 437


def test_import_html_of_a_2013_page_keeps_its_chart_exactly(tmp_path: Path) -> None:
    """January 2013: the chart's address is whole, so the years are stored as the page gives them."""
    leek = "HI-I6C0AAAAJ"
    page = copy_fixture_from(tmp_path, LAYOUTS / "leek_en_2013_cit_readlines.html", mtime=1359331200)
    data = tmp_path / "data"
    code, _, err = cli("import-html", page, "--author", leek, "--data-dir", data, "--allow-partial")
    assert code == 0, err
    latest = AuthorStore(data, leek).latest()
    assert latest is not None
    record = latest[1]
    assert record.fetched_at == datetime(2013, 1, 28, tzinfo=UTC)
    assert (record.metrics.citations, record.metrics.since_year) == (1285, 2008)
    assert dict(record.cites_per_year) == {
        2005: 10,
        2006: 41,
        2007: 77,
        2008: 120,
        2009: 108,
        2010: 190,
        2011: 275,
        2012: 402,
        2013: 34,
    }
    assert not any("per-year" in note for note in record.notes)


def test_import_html_date_option_wins_over_the_capture(tmp_path: Path) -> None:
    page = archived_copy(tmp_path, FIXTURES / "bohlooli_en_50rows.html", "cIn8pGEAAAAJ", "20220809120000")
    data = tmp_path / "data"
    code, _, err = cli(
        "import-html", page, "--author", "cIn8pGEAAAAJ", "--date", "2022-08-10", "--data-dir", data
    )
    assert code == 0, err
    assert snapshot_names(data, "cIn8pGEAAAAJ") == ["20220810T000000Z.json"]


def copy_fixture_from(tmp_path: Path, source: Path, mtime: int) -> Path:
    target = tmp_path / "pages" / source.name
    target.parent.mkdir(exist_ok=True)
    shutil.copyfile(source, target)
    os.utime(target, (mtime, mtime))
    return target


def test_import_git_skips_a_committed_version_above_the_bound_without_reading_it(
    repo: Path, tmp_path: Path
) -> None:
    from crawler.storage.readfile import MAX_OUTPUT_BYTES

    git(repo, "checkout", "-q", "google-scholar-stats")
    commit_file(repo, b"[" * (MAX_OUTPUT_BYTES + 1), TIMES[5])
    commit_file(repo, b"[" * 100_000, TIMES[5] + 100)  # small, but nested past the recursion limit
    git(repo, "checkout", "-q", "main")
    data = tmp_path / "data"
    code, _, err = cli("import-git", "--repo", repo, "--author", SID, "--data-dir", data)
    assert code == 0, err
    assert (
        f"is {MAX_OUTPUT_BYTES + 1} bytes, more than the {MAX_OUTPUT_BYTES} a file of its kind may be" in err
    )
    assert "JSON nested too deeply" in err
    assert "7 versions: imported 5" in err
    assert snapshot_names(data) == NAMES[:5]
