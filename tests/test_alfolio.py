"""`export --what al-folio`: al-folio's `_data/citations.yml`, number by number from the
snapshots, looked up the way al-folio's `google_scholar_citations` tag looks it up, never
rewritten for nothing, never emptied by a bad day."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest
import yaml
from clitools import SCHOLAR_STATS
from replay import Captcha, ReplayServer

from crawler.models import record_from_dict
from crawler.outputs.alfolio import build, dump
from crawler.storage.store import AuthorStore

# Each test drives the whole tool through git and several commands.
pytestmark = pytest.mark.slow

FIXTURES = Path(__file__).parent / "fixtures" / "scholar"
DENNER = FIXTURES / "denner_pt-PT_176rows_browser-saved.html"
DENNER_ID = "AoKJ_g4AAAAJ"
SID = "aLfOlIoTeSt1"

# The shape al-folio's own updater writes (a real file from an al-folio site,
# trimmed): PyYAML, keys sorted, years and the date as quoted strings, and an
# entry whose year scholarly did not know.
REAL_SHAPE = """\
metadata:
  last_updated: '2026-06-17'
papers:
  WtO-bN8AAAAJ:0EnyYjriUFMC:
    citations: 0
    title: 'Understanding Android VoIP Security: A System-Level Vulnerability Assessment'
    year: '2020'
  WtO-bN8AAAAJ:3fE2CSJIrl8C:
    citations: 29
    title: "Deep-learning\\u2013based app sensitive behavior surveillance for Android powered \
cyber\\u2013physical systems"
    year: '2020'
  WtO-bN8AAAAJ:cxS_fjKIGZMC:
    citations: 0
    title: 'Revealing the Dark Side of Smart Accounts: An Empirical Study of EIP-7702 Incurred Risks \
in Blockchain Ecosystem'
    year: Unknown Year
"""


@pytest.fixture(autouse=True)
def no_proxy(clean_environment: None) -> None:
    pass


def cli(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [*SCHOLAR_STATS, *map(str, args)], capture_output=True, text=True, timeout=120, cwd=cwd
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def newest_snapshot(data: Path, scholar_id: str) -> dict[str, Any]:
    path = AuthorStore(data, scholar_id).snapshot_paths()[-1]
    snapshot: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return snapshot


def al_folio_lookup(papers: dict[str, Any], scholar_userid: str, article_id: str) -> Any:
    """What al-folio's `google_scholar_citations` tag renders from: the key
    `USERID:PUBID`, else the first key ending in `:PUBID`."""
    key = f"{scholar_userid}:{article_id}"
    if key in papers:
        return papers[key].get("citations")
    for paper_key, paper in papers.items():
        if paper_key.endswith(f":{article_id}"):
            return paper.get("citations")
    return None


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A site in al-folio's shape: the Scholar ID in `_data/socials.yml`, the
    papers' IDs as `google_scholar_id` fields of `_bibliography/papers.bib`."""
    root = tmp_path / "site"
    (root / "_data").mkdir(parents=True)
    (root / "_bibliography").mkdir()
    (root / "_data" / "socials.yml").write_text(
        f"# social media\nemail: you@example.com\nscholar_userid: {DENNER_ID}\n"
        "orcid_id: 0000-0002-1825-0097\n",
        encoding="utf-8",
    )
    return root


def import_denner(data: Path, date: str = "2026-11-20") -> None:
    proc = cli("import-html", DENNER, "--author", DENNER_ID, "--data-dir", data, "--date", date)
    assert proc.returncode == 0, proc.stderr


def test_the_file_equals_the_snapshot_number_by_number_and_every_bib_id_is_found(site: Path) -> None:
    data = site / "stats"
    import_denner(data)
    snapshot = newest_snapshot(data, DENNER_ID)
    pubs = snapshot["publications"]
    # papers.bib cites a few of them, in both quoting styles BibTeX allows.
    chosen = [pubs[0], pubs[7], pubs[42], pubs[-1]]
    bib = []
    for n, pub in enumerate(chosen):
        pub_id = pub["author_pub_id"].split(":", 1)[1]
        field = f"{{{pub_id}}}" if n % 2 == 0 else f'"{pub_id}"'
        bib.append(
            f"@article{{paper{n},\n  title = {{{pub['title']}}},\n  year = {{2020}},\n"
            f"  google_scholar_id = {field},\n}}\n"
        )
    (site / "_bibliography" / "papers.bib").write_text("\n".join(bib), encoding="utf-8")

    proc = cli("export", "--what", "al-folio", "--data-dir", data, "--out", "_data/citations.yml", cwd=site)
    assert proc.returncode == 0, proc.stderr
    text = (site / "_data" / "citations.yml").read_text(encoding="utf-8")
    doc = yaml.safe_load(text)
    assert set(doc) == {"metadata", "papers"}
    assert doc["metadata"] == {"last_updated": "2026-11-20"}
    papers = doc["papers"]
    assert len(papers) == snapshot["publication_count"] == 176
    for pub in pubs:
        entry = papers[pub["author_pub_id"]]
        assert entry["citations"] == pub["citations"]
        assert entry["title"] == pub["title"]
        assert entry.get("year") == (str(pub["year"]) if pub["year"] is not None else None)
    assert sum(p["citations"] for p in papers.values()) == sum(p["citations"] for p in pubs)

    socials = yaml.safe_load((site / "_data" / "socials.yml").read_text(encoding="utf-8"))
    bib_text = (site / "_bibliography" / "papers.bib").read_text(encoding="utf-8")
    ids = re.findall(r'google_scholar_id\s*=\s*[{"]([^}"]+)[}"]', bib_text)
    assert len(ids) == 4
    for pub, article_id in zip(chosen, ids, strict=True):
        assert al_folio_lookup(papers, socials["scholar_userid"], article_id) == pub["citations"]
    # The same lookup falls back to the bare ID when the site's user ID differs (a co-author's page).
    assert al_folio_lookup(papers, "someoneElse1", ids[0]) == chosen[0]["citations"]


def test_the_shape_is_al_folios_own(tmp_path: Path) -> None:
    data = tmp_path / "data"
    import_denner(data)
    text = build(data, [DENNER_ID], None).text
    lines = text.splitlines()
    assert lines[:3] == ["metadata:", "  last_updated: '2026-11-20'", "papers:"]
    keys = [
        line.strip().rstrip(":") for line in lines if line.startswith("  ") and not line.startswith("    ")
    ][1:]
    assert keys == sorted(keys) and len(keys) == 176
    # Each paper: citations, title, year, in that (sorted) order; years quoted as strings.
    entry_fields = [line.split(":")[0].strip() for line in lines[4:7]]
    assert entry_fields == ["citations", "title", "year"]
    assert all(re.fullmatch(r"    year: '\d{4}'", line) for line in lines if line.startswith("    year:"))
    # UTF-8 titles, not \u escapes (the Portuguese profile has accented titles).
    assert "\\u" not in text and any(ord(c) > 127 for c in text)
    assert text.endswith("\n")
    # The same writer as al-folio's script gives the same bytes for the same data.
    doc = yaml.safe_load(text)
    assert dump(doc["metadata"]["last_updated"], doc["papers"]) == text


def test_a_second_export_leaves_the_file_byte_identical(tmp_path: Path) -> None:
    data = tmp_path / "data"
    import_denner(data)
    out = tmp_path / "citations.yml"
    assert cli("export", "--what", "al-folio", "--data-dir", data, "--out", out).returncode == 0
    before, mtime = sha(out), out.stat().st_mtime_ns
    proc = cli("export", "--what", "al-folio", "--data-dir", data, "--out", out)
    assert proc.returncode == 0
    assert "no change" in proc.stderr
    assert sha(out) == before and out.stat().st_mtime_ns == mtime


def test_a_file_from_al_folios_own_updater_is_taken_over_and_its_other_papers_kept(tmp_path: Path) -> None:
    data = tmp_path / "data"
    import_denner(data)
    out = tmp_path / "citations.yml"
    out.write_text(REAL_SHAPE, encoding="utf-8")
    proc = cli("export", "--what", "al-folio", "--data-dir", data, "--out", out)
    assert proc.returncode == 0, proc.stderr
    assert "176 papers added" in proc.stderr
    papers = yaml.safe_load(out.read_text(encoding="utf-8"))["papers"]
    # Another author's entries (a co-author's, or kept by hand) are left as they were.
    assert papers["WtO-bN8AAAAJ:3fE2CSJIrl8C"] == {
        "citations": 29,
        "title": (
            "Deep-learning–based app sensitive behavior surveillance for Android powered "
            "cyber–physical systems"
        ),
        "year": "2020",
    }
    assert papers["WtO-bN8AAAAJ:cxS_fjKIGZMC"]["year"] == "Unknown Year"
    assert len(papers) == 176 + 3


def test_a_changed_count_rewrites_the_file_and_says_what_changed(tmp_path: Path) -> None:
    data = tmp_path / "data"
    import_denner(data)
    out = tmp_path / "citations.yml"
    first = build(data, [DENNER_ID], None)
    doc = yaml.safe_load(first.text)
    key = next(k for k, v in doc["papers"].items() if v["citations"] > 10)
    doc["papers"][key]["citations"] -= 3
    out.write_text(dump("2026-11-01", doc["papers"]), encoding="utf-8")
    result = build(data, [DENNER_ID], out.read_text(encoding="utf-8"))
    assert result.changed
    assert result.summary.startswith("1 count changed (")
    assert result.text == first.text


def test_a_blocked_day_changes_nothing(tmp_path: Path, replay: ReplayServer) -> None:
    data = tmp_path / "data"
    profile = replay.add_profile(SID, 30, citations=400)
    day1 = cli("run", "--author", SID, "--data-dir", data, "--base-url", replay.url, "--delay", "0")
    assert day1.returncode == 0, day1.stderr
    out = tmp_path / "citations.yml"
    assert cli("export", "--what", "al-folio", "--data-dir", data, "--out", out).returncode == 0
    papers = yaml.safe_load(out.read_text(encoding="utf-8"))["papers"]
    assert sum(p["citations"] for p in papers.values()) == profile.citations == 400
    before = sha(out)

    replay.set_scenario(SID, Captcha())
    day2 = cli(
        "run", "--author", SID, "--data-dir", data, "--base-url", replay.url, "--delay", "0", "--retries", "0"
    )
    assert day2.returncode == 3
    proc = cli("export", "--what", "al-folio", "--data-dir", data, "--out", out)
    assert proc.returncode == 0 and "no change" in proc.stderr
    assert sha(out) == before


def test_a_fallback_sources_snapshot_is_not_al_folios_numbers(tmp_path: Path) -> None:
    data = tmp_path / "data"
    import_denner(data)
    store = AuthorStore(data, DENNER_ID)
    scholar = newest_snapshot(data, DENNER_ID)
    # A newer snapshot from OpenAlex: other keys (W…), other counts.
    other = dict(scholar, source="openalex", fetched_at="2026-11-25T06:00:00Z")
    other["publications"] = [
        dict(p, author_pub_id=f"W{n}", citations=1) for n, p in enumerate(scholar["publications"])
    ]
    store.write_snapshot(record_from_dict(other))
    text = build(data, [DENNER_ID], None).text
    doc = yaml.safe_load(text)
    assert doc["metadata"]["last_updated"] == "2026-11-20"
    assert all(k.startswith(f"{DENNER_ID}:") for k in doc["papers"])
    assert sum(p["citations"] for p in doc["papers"].values()) == sum(
        p["citations"] for p in scholar["publications"]
    )


def test_a_count_scholar_did_not_give_is_left_out_not_zero(tmp_path: Path) -> None:
    data = tmp_path / "data"
    import_denner(data)
    snap = newest_snapshot(data, DENNER_ID)
    snap["publications"][0]["citations"] = None
    snap["publications"][0]["year"] = None
    snap["fetched_at"] = "2026-11-21T06:00:00Z"
    AuthorStore(data, DENNER_ID).write_snapshot(record_from_dict(snap))
    papers = yaml.safe_load(build(data, [DENNER_ID], None).text)["papers"]
    entry = papers[snap["publications"][0]["author_pub_id"]]
    assert entry == {"title": snap["publications"][0]["title"]}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--format", "json"), "--format cannot be used with --what al-folio"),
        (("--since", "2020-01-01"), "--since cannot be used with --what al-folio"),
        (("--freq", "monthly", "--all"), "--all, --freq cannot be used with --what al-folio"),
    ],
)
def test_table_options_are_refused(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    data = tmp_path / "data"
    import_denner(data)
    proc = cli("export", "--what", "al-folio", "--data-dir", data, *args)
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"error: {message}"


def test_no_data_yet_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    proc = cli("export", "--what", "al-folio", "--data-dir", tmp_path / "data")
    assert proc.returncode == 2 and proc.stderr.startswith("error: no author in")


@pytest.mark.parametrize(
    "content",
    ["papers: [1, 2\n", "- just\n- a list\n", "papers: not-a-mapping\n"],
    ids=["not-yaml", "list", "papers-scalar"],
)
def test_a_file_that_is_not_al_folios_is_refused_and_kept(tmp_path: Path, content: str) -> None:
    data = tmp_path / "data"
    import_denner(data)
    out = tmp_path / "citations.yml"
    out.write_text(content, encoding="utf-8")
    proc = cli("export", "--what", "al-folio", "--data-dir", data, "--out", out)
    assert proc.returncode == 8
    assert proc.stderr.startswith("error: ") and len(proc.stderr.strip().splitlines()) == 1
    assert out.read_text(encoding="utf-8") == content


def test_stdout_when_no_out(tmp_path: Path) -> None:
    data = tmp_path / "data"
    import_denner(data)
    proc = cli("export", "--what", "al-folio", "--data-dir", data)
    assert proc.returncode == 0
    assert yaml.safe_load(proc.stdout)["metadata"]["last_updated"] == "2026-11-20"


def test_the_summary_for_a_commit_message_masks_credentials(tmp_path: Path) -> None:
    # Titles are Scholar's text and the summary becomes the Action's commit message.
    from datetime import datetime

    from crawler.models import AuthorRecord, Metrics, Profile, Publication

    data = tmp_path / "data"
    secret_titles = [
        "Mirror at https://bob:hunter2@mirror.example/p",
        "Data ?api_key=SECRETKEY1 inside",
        "Bearer abcdefghijklmnop token",
        "ghp_" + "a" * 36,
    ]
    record = AuthorRecord(
        profile=Profile(scholar_id=SID, name="A"),
        metrics=Metrics(
            citations=40,
            citations_since=None,
            h_index=4,
            h_index_since=None,
            i10_index=0,
            i10_index_since=None,
            since_year=None,
        ),
        publications=tuple(
            Publication(author_pub_id=f"{SID}:p{i}", title=t, year=2020, citations=10)
            for i, t in enumerate(secret_titles)
        ),
        source="scholar",
        complete=True,
        fetched_at=datetime(2026, 11, 20, tzinfo=UTC),
    )
    AuthorStore(data, SID).write_snapshot(record)
    old = dump(
        "2026-11-01",
        {f"{SID}:p{i}": {"citations": 9, "title": t, "year": "2020"} for i, t in enumerate(secret_titles)},
    )
    result = build(data, [SID], old)
    assert result.changed and result.summary.startswith("4 counts changed (")
    for secret in ("hunter2", "SECRETKEY1", "abcdefghijklmnop", "a" * 36):
        assert secret not in result.summary
    # The file itself keeps Scholar's titles as they are: it is data, not a message.
    assert "hunter2" in result.text


# -- an incomplete snapshot keeps what it does not show -------------------------------------


def alfolio_record(
    citations: dict[str, int], *, complete: bool, day: int, titles: dict[str, str] | None = None
) -> Any:
    from datetime import datetime

    from crawler.models import AuthorRecord, Metrics, Profile, Publication

    return AuthorRecord(
        profile=Profile(scholar_id=SID, name="A"),
        metrics=Metrics(citations=sum(citations.values())),
        publications=tuple(
            Publication(
                author_pub_id=f"{SID}:{key}",
                title=(titles or {}).get(key, f"Paper {key}"),
                year=2020,
                citations=n,
            )
            for key, n in citations.items()
        ),
        source="scholar",
        complete=complete,
        fetched_at=datetime(2026, 11, day, tzinfo=UTC),
    )


def test_papers_missing_from_a_partial_snapshot_keep_their_last_complete_counts(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data = tmp_path / "data"
    AuthorStore(data, SID).write_snapshot(
        alfolio_record({"p1": 10, "p2": 20, "p3": 30}, complete=True, day=1)
    )
    # import-html --allow-partial of a page that shows only the newest paper.
    AuthorStore(data, SID).write_snapshot(alfolio_record({"p1": 12}, complete=False, day=20))

    with caplog.at_level("WARNING"):
        papers = yaml.safe_load(build(data, [SID], None).text)["papers"]

    assert {k: v["citations"] for k, v in papers.items()} == {
        f"{SID}:p1": 12,
        f"{SID}:p2": 20,
        f"{SID}:p3": 30,
    }
    warning = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warning) == 1 and "incomplete" in warning[0] and "2 papers" in warning[0]


def test_without_a_complete_snapshot_the_files_own_counts_are_kept(tmp_path: Path) -> None:
    data = tmp_path / "data"
    AuthorStore(data, SID).write_snapshot(alfolio_record({"p1": 12}, complete=False, day=20))
    old = dump(
        "2026-11-01",
        {
            f"{SID}:p1": {"citations": 10, "title": "Paper p1", "year": "2020"},
            f"{SID}:p2": {"citations": 20, "title": "Paper p2", "year": "2020"},
        },
    )
    papers = yaml.safe_load(build(data, [SID], old).text)["papers"]
    assert {k: v["citations"] for k, v in papers.items()} == {f"{SID}:p1": 12, f"{SID}:p2": 20}


def test_a_complete_snapshot_drops_a_paper_scholar_no_longer_lists(tmp_path: Path) -> None:
    data = tmp_path / "data"
    AuthorStore(data, SID).write_snapshot(alfolio_record({"p1": 10, "p2": 20}, complete=True, day=1))
    AuthorStore(data, SID).write_snapshot(alfolio_record({"p1": 12}, complete=True, day=20))
    papers = yaml.safe_load(build(data, [SID], None).text)["papers"]
    assert list(papers) == [f"{SID}:p1"]


@pytest.mark.parametrize(
    "title",
    [
        "Line\x85break (NEL)",
        "Line\u2028separator",
        "Para\u2029graph",
        "Tab\there",
        "BOM\ufeffinside",
        "Trailing\x85",
    ],
)
def test_a_title_with_a_line_break_yaml_knows_round_trips(title: str) -> None:
    text = dump("2026-11-20", {f"{SID}:p1": {"citations": 3, "title": title, "year": "2020"}})
    assert yaml.safe_load(text)["papers"][f"{SID}:p1"]["title"] == title
    # Written escaped on one line, as every YAML reader (Jekyll's Psych too) reads it back.
    assert all(ch not in text for ch in "\x85\u2028\u2029")
