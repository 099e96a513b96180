"""Cross-source matching: the same paper whichever source lists it, and never a guess."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC
from pathlib import Path

import pytest
from replay import FIXTURES_DIR
from standin import load

from crawler.errors import ConfigError
from crawler.models import AuthorRecord, Metrics, Profile, Publication, record_to_dict
from crawler.policy.match import (
    Overrides,
    match_publications,
    match_records,
    read_overrides,
)
from crawler.policy.titles import MIN_CONFIDENCE, normalize_title, score
from crawler.sources import openalex, semantic_scholar, serpapi
from crawler.sources.scholar_page import page_to_record, parse_profile

PAGE = FIXTURES_DIR / "denner_pt-PT_176rows_browser-saved.html"
SID = "AoKJ_g4AAAAJ"


def pub(
    key: str, title: str, year: int | None = 2020, citations: int | None = 1, doi: str | None = None
) -> Publication:
    return Publication(author_pub_id=key, title=title, year=year, citations=citations, doi=doi)


@pytest.fixture(scope="module")
def scholar() -> AuthorRecord:
    return page_to_record(
        parse_profile(PAGE.read_bytes(), url=f"https://scholar.google.com/citations?user={SID}")
    )


def openalex_record(*pages: str) -> AuthorRecord:
    works = [w for page in pages for w in load(page)["results"]]
    return openalex.record_from_json(SID, load("openalex_author.json"), works)


# -- titles -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Deep Learning for Graphs", "DEEP LEARNING FOR GRAPHS"),
        ("Deep learning: for graphs!", "Deep learning - for graphs"),
        ("Tom &amp; Jerry&#39;s “model”", 'Tom & Jerry\'s "model"'),
        ("Tom &amp;amp; Jerry", "Tom & Jerry"),  # escaped twice by a feed
        ("Superconductivity in BaFe<sub>2</sub>As<sub>2</sub>", "Superconductivity in BaFe2As2"),
        ("Superconductivity in $\\mathrm{BaFe}_2\\mathrm{As}_2$", "Superconductivity in BaFe2As2"),
        ("<i>In vivo</i> imaging of <scp>DNA</scp>", "In vivo imaging of DNA"),
        ("Gestão da inovação na administração pública", "Gestao da Inovacao na Administracao Publica"),
        ("  spaced\tout\n title ", "spaced out title"),
    ],
)
def test_titles_that_differ_only_in_form_normalise_alike(a: str, b: str) -> None:
    assert normalize_title(a) == normalize_title(b) != ""


def test_a_formula_is_one_word_not_three() -> None:
    assert normalize_title("BaFe<sub>2</sub>As<sub>2</sub> crystals") == "bafe2as2 crystals"


# -- one pair ---------------------------------------------------------------------------------------


def test_a_dropped_subtitle_matches_below_an_exact_title() -> None:
    full = pub("S:1", "Artificial intelligence regulation: a framework for governance")
    assert score(full, pub("W1", "Artificial intelligence regulation")) == (0.9, "subtitle")
    assert score(full, pub("W1", "artificial intelligence regulation: A framework for governance")) == (
        1.0,
        "title",
    )


def test_a_truncated_title_matches_only_when_marked_as_cut() -> None:
    full = pub("S:1", "Open source software projects' attractiveness, activeness, and efficiency as a path")
    assert score(full, pub("W1", "Open source software projects' attractiveness, activeness…")) == (
        0.9,
        "truncated",
    )
    assert score(full, pub("W1", "Open source software projects' attractiveness, activeness...")) == (
        0.9,
        "truncated",
    )
    # The same words without the ellipsis are a different, shorter title.
    assert score(full, pub("W1", "Open source software projects' attractiveness, activeness")) is None


def test_a_short_prefix_is_not_evidence() -> None:
    assert (
        score(pub("S:1", "Iodine: characteristics, sources and health implications"), pub("W1", "Iodine"))
        is None
    )


def test_a_translated_title_is_no_match() -> None:
    pt = pub("S:1", "Inovação no setor público: teoria, tendências e casos no Brasil", 2017)
    en = pub("W1", "Innovation in the public sector: theory, trends and cases in Brazil", 2017)
    assert score(pt, en) is None


def test_years_one_apart_lower_the_confidence_further_apart_rule_it_out() -> None:
    s = pub("S:1", "A study of commits", 2019)
    assert score(s, pub("W1", "A study of commits", 2020)) == (0.95, "title")
    assert score(s, pub("W1", "A study of commits", None)) == (0.95, "title")
    assert score(s, pub("W1", "A study of commits", 2021)) is None


def test_dois_decide_when_both_have_one() -> None:
    s = pub("S:1", "A study of commits", 2019, doi="https://doi.org/10.1000/ABC")
    assert score(s, pub("W1", "Commit study (translated)", 2015, doi="10.1000/abc")) == (1.0, "doi")
    assert score(s, pub("W1", "A study of commits", 2019, doi="10.1000/other")) is None


def test_a_typo_is_similar_but_a_different_paper_is_not() -> None:
    s = pub("S:1", "Motivations of crowdsourcing contributors in open innovation platforms")
    found = score(s, pub("W1", "Motivations of crowdsourcing contibutors in open innovation platforms"))
    assert found is not None and found[1] == "similar" and found[0] >= MIN_CONFIDENCE
    weak = score(s, pub("W1", "Motivations of crowdsourcing contributors in closed platforms"))
    assert weak is None or weak[0] < MIN_CONFIDENCE


# -- the whole lists --------------------------------------------------------------------------------


def test_a_paper_listed_twice_on_the_profile_is_left_unmatched_with_both_candidates() -> None:
    scholar = [
        pub("S:a", "Whose stake in open source software projects"),
        pub("S:b", "WHOSE STAKE IN OPEN SOURCE SOFTWARE PROJECTS."),
    ]
    result = match_publications(
        scholar, [pub("W1", "Whose Stake in Open Source Software Projects")], source="openalex"
    )
    assert result.pairs == ()
    (left,) = result.unmatched_other
    assert left.reason.startswith("ambiguous")
    assert {c.scholar for c in left.candidates} == {"S:a", "S:b"}
    assert {p.author_pub_id for p in result.unmatched_scholar} == {"S:a", "S:b"}


def test_a_preprint_beside_its_article_loses_to_the_article() -> None:
    scholar = [pub("S:a", "A framework for governance", 2021)]
    works = [pub("W1", "A framework for governance", 2021), pub("W2", "A framework for governance", 2020)]
    result = match_publications(scholar, works, source="openalex")
    assert [(p.scholar, p.other) for p in result.pairs] == [("S:a", "W1")]
    assert [(u.pub.author_pub_id, u.reason) for u in result.unmatched_other] == [("W2", "W1 fits S:a better")]


def test_two_equal_works_for_one_paper_are_both_left_unmatched() -> None:
    scholar = [pub("S:a", "A framework for governance", 2021)]
    works = [pub("W1", "A framework for governance", 2021), pub("W2", "A FRAMEWORK FOR GOVERNANCE", 2021)]
    result = match_publications(scholar, works, source="openalex")
    assert result.pairs == ()
    assert all(u.reason.startswith("ambiguous") for u in result.unmatched_other)


def test_openalex_works_with_real_differences(scholar: AuthorRecord) -> None:
    """The measured rate quoted in docs/sources.md (bench/match_rate.py prints it)."""
    other = openalex_record("openalex_works_variants.json")
    result = match_records(scholar, other)
    assert (len(result.pairs), result.other_count, result.scholar_count) == (109, 135, 176)
    by_other = {p.other: p for p in result.pairs}
    works = {
        w["display_name"]: w["id"].rsplit("/", 1)[1] for w in load("openalex_works_variants.json")["results"]
    }
    # Upper case, markup and entities, a later year, a cut title, other punctuation: matched.
    assert (
        by_other[works["THE ATTRACTION OF CONTRIBUTORS IN FREE AND OPEN SOURCE SOFTWARE PROJECTS"]].how
        == "title"
    )
    assert (
        by_other[works["<i>Grupo</i> Focal: aplicações na pesquisa nacional em Administração"]].how == "title"
    )
    assert by_other[works["Algunas consideraciones sobre la rabia humana…"]].how == "truncated"
    assert (
        by_other[works["Understanding environmental terrorism in times of climate change"]].how == "subtitle"
    )
    assert by_other[works["Motivations  of crowdsourcing contributors"]].how == "title"
    unmatched = {u.pub.title: u.reason for u in result.unmatched_other}
    # Translated titles and works not on the profile: never guessed.
    assert unmatched["Innovation in the public sector: theory, trends and cases in Brazil"] == "no candidate"
    assert unmatched["A survey of open data portals in Latin American municipalities"] == "no candidate"
    assert all(p.confidence >= MIN_CONFIDENCE for p in result.pairs)
    assert len({p.scholar for p in result.pairs}) == len(result.pairs)  # one to one


def test_recorded_answers_of_each_source(scholar: AuthorRecord) -> None:
    oa = match_records(scholar, openalex_record("openalex_works_page1.json", "openalex_works_page2.json"))
    s2_papers = load("s2_papers_offset0.json")["data"] + load("s2_papers_offset100.json")["data"]
    s2 = match_records(scholar, semantic_scholar.record_from_json(SID, load("s2_author.json"), s2_papers))
    first = load("serpapi_author_start0.json")
    articles = first["articles"] + load("serpapi_author_start100.json")["articles"]
    serp = match_records(scholar, serpapi.record_from_json(SID, first, articles))
    assert (len(oa.pairs), oa.other_count) == (113, 130)
    assert (len(s2.pairs), s2.other_count) == (113, 130)
    # SerpApi reads Scholar: its keys are Scholar's, so every paper matches by key.
    assert (len(serp.pairs), serp.other_count) == (176, 176)
    assert {p.how for p in serp.pairs} == {"id"} and all(p.scholar == p.other for p in serp.pairs)
    # The 17 works left are papers the profile lists twice: no pair is guessed for them.
    assert all(u.reason.startswith(("ambiguous", "no candidate")) for u in oa.unmatched_other)


def test_semantic_scholar_dois_are_kept_on_the_record() -> None:
    papers = load("s2_papers_offset0.json")["data"]
    record = semantic_scholar.record_from_json(SID, load("s2_author.json"), papers)
    assert record.publications[0].doi == papers[0]["externalIds"]["DOI"]
    assert record_to_dict(record)["publications"][0]["doi"] == papers[0]["externalIds"]["DOI"]


# -- matches.toml ---------------------------------------------------------------------------------


def test_overrides_pair_and_unpair(tmp_path: Path) -> None:
    (tmp_path / "matches.toml").write_text(
        '[openalex]\n"S:pt" = "W-en"\n"S:b" = false\n"S:gone" = "W9"\n', encoding="utf-8"
    )
    overrides = read_overrides(tmp_path, "openalex")
    scholar = [pub("S:pt", "Inovação no setor público"), pub("S:b", "A framework for governance")]
    works = [pub("W-en", "Innovation in the public sector"), pub("W2", "A framework for governance")]
    result = match_publications(scholar, works, source="openalex", overrides=overrides)
    assert [(p.scholar, p.other, p.how) for p in result.pairs] == [("S:pt", "W-en", "matches.toml")]
    assert [u.pub.author_pub_id for u in result.unmatched_other] == ["W2"]
    assert any("S:gone is not on the Scholar profile" in note for note in result.overrides)
    assert read_overrides(tmp_path, "semantic-scholar") == Overrides()


@pytest.mark.parametrize(
    "text", ['[openalex]\n"S:a" = 3\n', '[openalex]\n"S:a" = true\n', "openalex = 1\n", "[openalex\n"]
)
def test_a_bad_overrides_file_is_a_config_error_naming_it(tmp_path: Path, text: str) -> None:
    (tmp_path / "matches.toml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"matches\.toml"):
        read_overrides(tmp_path, "openalex")


def test_two_papers_mapped_to_one_work_is_refused_with_a_line(tmp_path: Path) -> None:
    (tmp_path / "matches.toml").write_text('[openalex]\n"S:a" = "W1"\n"S:b" = " W1 "\n', encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        read_overrides(tmp_path, "openalex")
    assert str(info.value) == (
        f"{tmp_path / 'matches.toml'}: [openalex] maps both S:a and S:b to W1; "
        "a work can be matched to one Scholar paper only"
    )
    # Two papers never matched, or one paper each, are fine.
    (tmp_path / "matches.toml").write_text(
        '[openalex]\n"S:a" = false\n"S:b" = false\n"S:c" = "W1"\n', "utf-8"
    )
    assert read_overrides(tmp_path, "openalex").pairs == {"S:a": None, "S:b": None, "S:c": "W1"}


def test_overrides_built_by_hand_never_match_one_work_twice() -> None:
    scholar = [pub("S:a", "A study of graphs"), pub("S:b", "Another study")]
    works = [pub("W1", "A study of graphs")]
    result = match_publications(
        scholar, works, source="openalex", overrides=Overrides({"S:a": "W1", "S:b": "W1"})
    )
    assert [(p.scholar, p.other) for p in result.pairs] == [("S:a", "W1")]
    assert "matches.toml: W1 is already matched to another paper (for S:b); entry ignored" in result.overrides


# -- the command ----------------------------------------------------------------------------------


def write_snapshot(folder: Path, record: AuthorRecord, name: str = "20261120T061241Z.json") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(json.dumps(record_to_dict(record)), encoding="utf-8")


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "crawler", *args], capture_output=True, text=True, timeout=120
    )


def test_match_command_lists_pairs_and_both_unmatched_sides(tmp_path: Path, scholar: AuthorRecord) -> None:
    from datetime import datetime

    data = tmp_path / "data"
    when = datetime(2026, 11, 20, 6, 12, 41, tzinfo=UTC)
    write_snapshot(data / SID / "snapshots", scholar.with_fetched_at(when))
    write_snapshot(
        data / SID / "sources" / "openalex" / "snapshots",
        openalex_record("openalex_works_variants.json").with_fetched_at(when),
    )
    result = cli("match", "--author", SID, "--data-dir", str(data))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith(
        "openalex: 109 of 135 works matched (81%); 67 of 176 Scholar publications unmatched"
    )
    assert "Innovation in the public sector: theory, trends and cases in Brazil: no candidate" in out
    assert f"{SID}:5ugPr518TE4C = W1072179852  1.00 title" in out
    assert "unmatched Scholar publications:" in out

    (data / SID / "matches.toml").write_text(
        f'[openalex]\n"{SID}:gsN89kCJA0AC" = "W7286179257"\n', encoding="utf-8"
    )
    as_json = cli("match", "--author", SID, "--data-dir", str(data), "--format", "json")
    assert as_json.returncode == 0, as_json.stderr
    kept = json.loads(as_json.stdout)["openalex"]
    assert {
        "scholar": f"{SID}:gsN89kCJA0AC",
        "other": "W7286179257",
        "confidence": 1.0,
        "by": "matches.toml",
    } in kept["matched"]
    assert len(kept["matched"]) == 110

    (data / SID / "matches.toml").write_text("[openalex]\nx = 1\n", encoding="utf-8")
    bad = cli("match", "--author", SID, "--data-dir", str(data))
    assert bad.returncode == 2 and bad.stderr.startswith("error: ") and "matches.toml" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_match_command_without_data_says_what_to_do(tmp_path: Path) -> None:
    result = cli("match", "--author", SID, "--data-dir", str(tmp_path))
    assert result.returncode == 2
    assert (
        result.stderr.strip()
        == f"error: no Google Scholar snapshot of {SID} in {tmp_path}: nothing to match against"
    )
    assert cli("match", "--author", "nope", "--data-dir", str(tmp_path)).returncode == 2


def test_records_without_titles_match_nothing() -> None:
    empty = AuthorRecord(Profile(SID, "x"), Metrics(), publications=(pub("S:1", ""),))
    other = AuthorRecord(Profile(SID, "x"), Metrics(), publications=(pub("W1", ""),), source="openalex")
    assert match_records(empty, other).pairs == ()
