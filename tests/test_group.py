"""A group's numbers: each paper counted once however many members list it, members'
staleness shown, badges, the report's group line and the group's history."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

import pytest
from replay import GeneratedPublication, ReplayServer
from test_run import no_proxy, read_json, scholar_stats, tree

from crawler.models import AuthorRecord, Metrics, Profile, Publication
from crawler.outputs.badges import BadgeStyle, endpoint_problems
from crawler.outputs.group_numbers import Member, group_dict, group_totals, normalised_title, write_group

_ = no_proxy  # autouse, from the run tests: proxies and a CI step summary stay out
ROOT = Path(__file__).resolve().parent.parent
LAB = ("LaBmEmBeR01A", "LaBmEmBeR02B", "LaBmEmBeR03C")
# The test lab: three papers written together, on several members' profiles.
SHARED_ALL = GeneratedPublication(
    "",
    "Federated sensing for river basins",
    "A Brown, B Chen, C Dubois",
    "Nature Communications 12, 1-9, 2021",
    2021,
    120,
    "4000000000000000001",
)
SHARED_TWO = GeneratedPublication(
    "",
    "Causal inference for power grids",
    "A Brown, B Chen",
    "Physical Review Letters 3, 4-5, 2019",
    2019,
    40,
    "4000000000000000002",
)
SHARED_UNCITED = GeneratedPublication(
    "", "A note on café supply chains", "B Chen, C Dubois", "Revista Brasileira 1, 2-3, 2024", 2024, 0, None
)
LAB_PAPERS = {
    LAB[0]: (SHARED_ALL, SHARED_TWO),
    LAB[1]: (SHARED_ALL, SHARED_TWO, SHARED_UNCITED),
    LAB[2]: (SHARED_ALL, SHARED_UNCITED),
}


def pub(
    title: str,
    citations: int | None,
    cites_id: str | None = None,
    year: int | None = 2020,
    pid: str | None = None,
) -> Publication:
    # A record lists a publication ID once, so each row gets its own unless one is given.
    return Publication(
        author_pub_id=pid or f"x:{title}", title=title, year=year, citations=citations, cites_id=cites_id
    )


def record(sid: str, *pubs: Publication, cites_per_year: tuple[tuple[int, int], ...] = ()) -> AuthorRecord:
    total = sum(p.citations or 0 for p in pubs)
    return AuthorRecord(
        Profile(sid, f"Member {sid}"),
        Metrics(citations=total, h_index=1),
        cites_per_year=cites_per_year,
        publications=pubs,
        fetched_at=datetime(2026, 11, 1, tzinfo=UTC),
    )


# -- counting ---------------------------------------------------------------------------


def test_a_paper_on_three_profiles_counts_once() -> None:
    a = record("AAAAAAAAAAAA", pub("Shared", 100, "111"), pub("Mine", 5, "222"), cites_per_year=((2025, 10),))
    b = record("BBBBBBBBBBBB", pub("Shared", 100, "111"), cites_per_year=((2025, 7), (2026, 1)))
    c = record("CCCCCCCCCCCC", pub("shared", 98, "111"), pub("Other", 1, "333"))
    totals = group_totals([a, b, c])
    assert (totals.citations, totals.citations_sum) == (106, 304)
    assert (totals.publications, totals.publications_sum) == (3, 5)
    assert totals.shared_publications == 1
    assert totals.cites_per_year_sum == ((2025, 17), (2026, 1))


def test_merged_versions_share_any_cluster_id() -> None:
    # Scholar lists a paper merged from two versions with both cluster IDs.
    a = record("AAAAAAAAAAAA", pub("Paper", 50, "111,222"))
    b = record("BBBBBBBBBBBB", pub("Paper (preprint)", 48, "222"))
    c = record("CCCCCCCCCCCC", pub("Paper", 49, "111"))
    totals = group_totals([a, b, c])
    assert (totals.citations, totals.publications) == (50, 1)


def test_same_title_and_year_but_different_clusters_are_different_papers() -> None:
    a = record("AAAAAAAAAAAA", pub("Introduction", 3, "111"))
    b = record("BBBBBBBBBBBB", pub("Introduction", 4, "222"))
    assert (group_totals([a, b]).citations, group_totals([a, b]).publications) == (7, 2)


def test_uncited_rows_match_by_normalised_title_and_year() -> None:
    a = record("AAAAAAAAAAAA", pub("Ångström-scale  Imaging: a Review!", 0, None, 2024))
    b = record("BBBBBBBBBBBB", pub("angstrom-scale imaging - a review", None, None, 2024))
    c = record("CCCCCCCCCCCC", pub("Angstrom scale imaging a review", 0, None, 2023))
    assert normalised_title("Ångström-scale  Imaging: a Review!") == normalised_title(
        "angstrom scale imaging: a review"
    )
    totals = group_totals([a, b, c])
    assert (totals.citations, totals.publications, totals.shared_publications) == (0, 2, 1)
    # An uncited row joins a cited row of the same title and year (its citations just lag).
    d = record("DDDDDDDDDDDD", pub("Angstrom-scale imaging: a review", 12, "999", 2024))
    assert group_totals([a, d]).publications == 1
    assert group_totals([a, d]).citations == 12


def test_members_without_data_or_stale_are_shown_as_such() -> None:
    a = record("AAAAAAAAAAAA", pub("Mine", 5, "1"))
    data = group_dict([Member("AAAAAAAAAAAA", a, "2026-11-20T06:00:00Z"), Member("BBBBBBBBBBBB", None)])
    first, second = data["members"]
    assert (
        first["stale"] is True and first["stale_since"] == "2026-11-20T06:00:00Z" and first["citations"] == 5
    )
    assert second == {
        "scholar_id": "BBBBBBBBBBBB",
        "name": None,
        "citations": None,
        "h_index": None,
        "i10_index": None,
        "publications": None,
        "source": None,
        "updated": None,
        "stale": True,
        "stale_since": None,
    }
    assert data["totals"]["members"] == 2 and data["totals"]["members_with_data"] == 1
    assert data["totals"]["stale_members"] == 1
    assert list(data) == ["format", "updated", "members", "totals", "counting"]


def test_group_badges_are_valid_and_rewritten_only_on_change(tmp_path: Path) -> None:
    assert write_group(tmp_path, ["AAAAAAAAAAAA", "BBBBBBBBBBBB"], BadgeStyle()) == [tmp_path / "group.json"]
    # No member has data: no badge shows a number nobody fetched.
    assert not (tmp_path / "badges").exists()
    assert read_json(tmp_path / "group.json")["totals"]["citations"] == 0


def test_the_group_is_counted_again_only_when_a_member_or_a_file_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from crawler.outputs import group_numbers
    from crawler.storage.store import AuthorStore

    a = record("AAAAAAAAAAAA", pub("Shared", 10, "c1"), pub("Own", 3))
    b = record("BBBBBBBBBBBB", pub("Shared", 12, "c1"))
    for member in (a, b):
        AuthorStore(tmp_path, member.scholar_id).write_snapshot(member)
    counted: list[int] = []
    real = group_numbers.group_dict

    def counting(members: list[Member]) -> dict[str, object]:
        counted.append(len(members))
        return real(members)

    monkeypatch.setattr(group_numbers, "group_dict", counting)
    ids = [a.scholar_id, b.scholar_id]
    first = write_group(tmp_path, ids, BadgeStyle())
    assert tmp_path / "group.json" in first and counted == [2]
    assert read_json(tmp_path / "group.json")["totals"]["citations"] == 15
    # Nothing changed: nothing counted, nothing written.
    assert write_group(tmp_path, ids, BadgeStyle()) == [] and counted == [2]
    # A file gone or cut short: counted again and written back.
    (tmp_path / "badges" / "group-citations.svg").unlink()
    assert write_group(tmp_path, ids, BadgeStyle()) == [tmp_path / "badges" / "group-citations.svg"]
    (tmp_path / "group.json").write_bytes(b"{")
    assert write_group(tmp_path, ids, BadgeStyle()) == [tmp_path / "group.json"]
    assert counted == [2, 2, 2]
    # Another style, another member list, a new snapshot: each counts again.
    write_group(tmp_path, ids, BadgeStyle(number_format="short"))
    write_group(tmp_path, ids[:1], BadgeStyle(number_format="short"))
    AuthorStore(tmp_path, b.scholar_id).write_snapshot(
        record(b.scholar_id, pub("Shared", 20, "c1")).with_fetched_at(datetime(2026, 11, 2, tzinfo=UTC))
    )
    write_group(tmp_path, ids, BadgeStyle(number_format="short"))
    assert counted == [2, 2, 2, 2, 1, 2]
    assert read_json(tmp_path / "group.json")["totals"]["citations"] == 23
    # The cache is the data folder's own: it is not published.
    from crawler.branch.layout import data_files

    assert ".outputs.json" not in {name for name, _ in data_files(tmp_path)}
    assert (tmp_path / ".outputs.json").is_file()


# -- through a real run against the local Scholar ------------------------------------------


@pytest.fixture
def lab(replay: ReplayServer, tmp_path: Path) -> tuple[Path, Path]:
    for index, sid in enumerate(LAB):
        replay.add_profile(
            sid, 4, citations=30 + 10 * index, shared=LAB_PAPERS[sid], name=f"Member {index + 1}"
        )
    config = tmp_path / "scholar-stats.toml"
    config.write_text(
        f'data_dir = "data"\nbase_url = "{replay.url}"\ndelay = 0\n'
        + "".join(f'[[authors]]\nid = "{sid}"\n' for sid in LAB),
        encoding="utf-8",
    )
    result = scholar_stats("run", "--config", config)
    assert result.returncode == 0, result.stderr
    return config, tmp_path / "data"


def test_a_run_of_the_lab_writes_group_json_and_badges(lab: tuple[Path, Path]) -> None:
    _, data = lab
    group = read_json(data / "group.json")
    totals = group["totals"]
    members = [read_json(data / sid / "gs_data.json") for sid in LAB]
    plain = sum(m["citedby"] for m in members)
    shared_extra = 2 * SHARED_ALL.citations + SHARED_TWO.citations
    assert totals["citations_sum"] == plain
    assert totals["citations"] == plain - shared_extra
    assert totals["publications_sum"] == 3 * 4 + 7
    assert totals["publications"] == 3 * 4 + 3
    assert totals["shared_publications"] == 3
    assert [m["scholar_id"] for m in group["members"]] == list(LAB)
    assert not any(m["stale"] for m in group["members"])
    for name, value in (
        ("group-citations", totals["citations"]),
        ("group-publications", totals["publications"]),
    ):
        badge = read_json(data / "badges" / f"{name}.json")
        assert endpoint_problems(badge) == []
        assert badge["message"] == str(value)
        svg = ET.fromstring((data / "badges" / f"{name}.svg").read_bytes())
        assert str(value) in "".join(svg.itertext())


def test_docs_show_the_lab_counted_once_against_the_plain_sum(lab: tuple[Path, Path]) -> None:
    totals = read_json(lab[1] / "group.json")["totals"]
    docs = (ROOT / "docs" / "labs.md").read_text(encoding="utf-8")
    row = f"| citations | {totals['citations_sum']} | {totals['citations']} |"
    assert row in docs, row
    row = f"| publications | {totals['publications_sum']} | {totals['publications']} |"
    assert row in docs, row


def test_a_second_run_with_nothing_new_rewrites_nothing(lab: tuple[Path, Path]) -> None:
    config, data = lab
    before = {p: p.stat().st_mtime_ns for p in data.rglob("*") if p.is_file()}
    assert scholar_stats("run", "--config", config).returncode == 0
    assert {p: p.stat().st_mtime_ns for p in data.rglob("*") if p.is_file()} == before


def test_a_blocked_member_is_stale_in_group_json_and_keeps_its_numbers(
    replay: ReplayServer, lab: tuple[Path, Path]
) -> None:
    from replay import Captcha

    config, data = lab
    before = read_json(data / "group.json")
    replay.set_scenario(LAB[1], Captcha())
    assert scholar_stats("run", "--config", config).returncode == 3
    after = read_json(data / "group.json")
    assert after["totals"]["citations"] == before["totals"]["citations"]
    member = after["members"][1]
    assert (
        member["stale"] is True
        and member["stale_since"]
        and member["citations"] == before["members"][1]["citations"]
    )
    assert after["totals"]["stale_members"] == 1


def test_part_of_the_group_leaves_group_json_alone(replay: ReplayServer, lab: tuple[Path, Path]) -> None:
    config, data = lab
    before = tree(data)
    assert scholar_stats("run", "--config", config, "--author", LAB[0]).returncode == 0
    assert scholar_stats("run", "--config", config, "--shard", "1/2").returncode == 0
    after = tree(data)
    assert after["group.json"] == before["group.json"]


def test_report_has_a_group_line(lab: tuple[Path, Path]) -> None:
    _, data = lab
    totals = read_json(data / "group.json")["totals"]
    result = scholar_stats("report", "--data-dir", data)
    assert result.returncode == 0, result.stderr
    line = next(line for line in result.stdout.splitlines() if line.startswith("**Group**"))
    assert f"{totals['citations']} citations" in line and f"plain sum {totals['citations_sum']}" in line
    assert f"{totals['publications']} publications" in line and "3 members" in line


def test_export_group_history(replay: ReplayServer, lab: tuple[Path, Path]) -> None:
    data = lab[1]
    result = scholar_stats("export", "--data-dir", data, "--what", "group", "--format", "json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    totals = read_json(data / "group.json")["totals"]
    last = rows[-1]
    assert (last["citations"], last["publications"], last["citations_sum"]) == (
        totals["citations"],
        totals["publications"],
        totals["citations_sum"],
    )
    assert last["members_with_data"] == 3
    assert [r["members_with_data"] for r in rows] == sorted(r["members_with_data"] for r in rows)
    assert all(re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", r["date"]) for r in rows)
    csv_out = scholar_stats("export", "--data-dir", data, "--what", "group", "--freq", "daily")
    assert csv_out.returncode == 0, csv_out.stderr
    lines = csv_out.stdout.splitlines()
    assert lines[0] == (
        "date,members,members_with_data,citations,publications,shared_publications,"
        "citations_sum,publications_sum"
    )
    assert len(lines) == 2  # one day


def test_publish_puts_group_json_at_the_branch_root(lab: tuple[Path, Path], tmp_path: Path) -> None:
    import subprocess

    _, data = lab
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    repo = tmp_path / "site"
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    subprocess.run(["git", "-C", str(repo), "remote", "add", "origin", str(remote)], check=True)
    result = scholar_stats("publish", "--data-dir", data, "--repo", repo, "--root-author", LAB[0])
    assert result.returncode == 0, result.stderr
    listing = subprocess.run(
        ["git", "--git-dir", str(remote), "ls-tree", "-r", "--name-only", "google-scholar-stats"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert {"group.json", "badges/group-citations.json", "badges/group-publications.svg"} <= set(listing)
