"""The guard's thresholds at their boundaries, the source switch, --accept-drop, same_content."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from replay import generate_profile

from crawler.errors import GuardRefused
from crawler.models import AuthorRecord, Metrics, Profile, Publication
from crawler.policy.guard import (
    MAX_PLAUSIBLE_CITATIONS,
    GuardOptions,
    check,
    impossibilities,
    inconsistencies,
    same_content,
)
from crawler.sources.scholar_page import page_to_record, parse_profile

SID = "gUaRdTeStId_"
DEFAULT = GuardOptions()


def rec(
    citations: int | None = 1000,
    n_pubs: int = 100,
    *,
    source: str = "scholar",
    sid: str = SID,
    complete: bool = True,
) -> AuthorRecord:
    # Papers whose counts add up to the total, as a complete page's do.
    share, extra = divmod(citations or 0, n_pubs) if n_pubs else (0, 0)
    pubs = tuple(
        Publication(f"{sid}:p{i:04d}", f"Paper {i}", citations=share + (i < extra)) for i in range(n_pubs)
    )
    # An h-index the other numbers allow (h² ≤ citations, h ≤ publications, h ≤ the papers').
    h_index = min(5, math.isqrt(citations or 0), n_pubs, max(0, share + (extra > 0)))
    return AuthorRecord(
        Profile(sid, "A. Author"),
        Metrics(citations=citations, h_index=h_index),
        publications=pubs,
        complete=complete,
        source=source,
        fetched_at=datetime(2026, 1, 1, tzinfo=UTC),
    )


def passes(
    previous: AuthorRecord | None,
    new: AuthorRecord,
    options: GuardOptions = DEFAULT,
    accept_drop: bool = False,
) -> list[str]:
    return check(previous, new, expected_id=SID, options=options, accept_drop=accept_drop)


def refused(previous: AuthorRecord | None, new: AuthorRecord, options: GuardOptions = DEFAULT) -> str:
    with pytest.raises(GuardRefused) as info:
        passes(previous, new, options)
    assert info.value.exit_code == 6
    return str(info.value)


def test_first_record_passes_with_no_notes() -> None:
    assert passes(None, rec()) == []


@pytest.mark.parametrize(("old", "new"), [(1000, 950), (100, 95), (20, 19), (60, 57), (1, 1), (0, 0)])
def test_citation_drop_of_exactly_five_percent_passes(old: int, new: int) -> None:
    assert passes(rec(old), rec(new)) == []


@pytest.mark.parametrize(("old", "new"), [(1000, 949), (100, 94), (20, 18), (10_000_000, 9_499_999), (1, 0)])
def test_citation_drop_just_over_five_percent_is_refused(old: int, new: int) -> None:
    message = refused(rec(old), rec(new))
    assert f"total citations fell from {old} to {new} (more than 5%)" in message
    assert "--accept-drop" in message


def test_rise_and_small_fall_pass() -> None:
    assert passes(rec(1000), rec(3000)) == []
    assert passes(rec(1000), rec(999)) == []


@pytest.mark.parametrize(("old", "new"), [(100, 90), (10, 9), (30, 27)])
def test_publication_drop_of_exactly_ten_percent_passes(old: int, new: int) -> None:
    assert passes(rec(n_pubs=old), rec(n_pubs=new)) == []


@pytest.mark.parametrize(("old", "new"), [(100, 89), (10, 8), (1000, 899), (3, 0)])
def test_publication_drop_over_ten_percent_is_refused(old: int, new: int) -> None:
    message = refused(rec(n_pubs=old), rec(n_pubs=new))
    assert f"publications fell from {old} to {new} (more than 10%)" in message


def test_both_drops_are_named() -> None:
    message = refused(rec(1000, 100), rec(500, 50))
    assert "total citations fell from 1000 to 500" in message
    assert "publications fell from 100 to 50" in message


def test_custom_thresholds_and_their_boundaries() -> None:
    strict = GuardOptions(max_citation_drop=0.0, max_publication_drop=0.0)
    assert passes(rec(1000, 10), rec(1000, 10), strict) == []
    assert "more than 0%" in refused(rec(1000), rec(999), strict)
    odd = GuardOptions(max_citation_drop=0.055)
    assert passes(rec(1000), rec(945), odd) == []
    assert "more than 5.5%" in refused(rec(1000), rec(944), odd)
    lax = GuardOptions(max_citation_drop=1.0, max_publication_drop=1.0)
    assert passes(rec(1000, 10), rec(0, 0), lax) == []


def test_accept_drop_passes_and_says_what_it_accepted() -> None:
    notes = passes(rec(1000, 100), rec(100, 10), accept_drop=True)
    assert notes == [
        "accepted: total citations fell from 1000 to 100 (more than 5%)",
        "accepted: publications fell from 100 to 10 (more than 10%)",
    ]


def test_accept_drop_does_not_accept_a_wrong_or_incomplete_record() -> None:
    with pytest.raises(GuardRefused, match="profile of someoneElse1, not"):
        check(rec(), rec(sid="someoneElse1"), expected_id=SID, options=DEFAULT, accept_drop=True)
    with pytest.raises(GuardRefused, match="incomplete fetch"):
        check(rec(), rec(complete=False), expected_id=SID, options=DEFAULT, accept_drop=True)


def test_wrong_profile_is_refused_even_without_history() -> None:
    with pytest.raises(GuardRefused) as info:
        check(None, rec(sid="cIn8pGEAAAAJ"), expected_id=SID, options=DEFAULT)
    assert str(info.value) == f"the page is the profile of cIn8pGEAAAAJ, not {SID}"


def test_incomplete_record_is_refused_even_without_history() -> None:
    assert "not every publication page came back" in refused(None, rec(complete=False))


def test_lost_citation_count_is_refused() -> None:
    assert "no citation count" in refused(rec(1000), rec(None))
    assert passes(None, rec(None)) == []


def test_source_switch_is_a_note_not_a_drop() -> None:
    notes = passes(rec(1000, 100, source="scholar"), rec(10, 1, source="openalex"))
    assert len(notes) == 1
    assert notes[0].startswith("source changed from scholar to openalex: a new series starts")


@pytest.mark.parametrize("value", [-0.01, 1.5, "0.05", True, None])
def test_guard_options_refuse_nonsense(value: object) -> None:
    with pytest.raises(ValueError, match="max_citation_drop must be a number between 0 and 1"):
        GuardOptions(max_citation_drop=value)  # type: ignore[arg-type]


def test_same_content_ignores_fetched_at_only() -> None:
    a = rec()
    later = a.with_fetched_at(datetime(2027, 6, 1, tzinfo=UTC))
    assert same_content(a, later)
    assert same_content(a, replace(a, fetched_at=None))
    assert not same_content(a, replace(a, metrics=replace(a.metrics, h_index=6)))
    assert not same_content(a, replace(a, notes=("counts cover 10 years",)))
    assert not same_content(a, replace(a, source="serpapi"))
    assert not same_content(a, replace(a, profile=replace(a.profile, affiliation="Elsewhere")))
    pubs = list(a.publications)
    pubs[3] = replace(pubs[3], citations=2)
    assert not same_content(a, replace(a, publications=tuple(pubs)))
    assert not same_content(a, replace(a, publications=tuple(reversed(a.publications))))
    assert not same_content(a, replace(a, cites_per_year=((2025, 3),)))


# -- implausible rises and numbers that contradict each other ----------------------

FIXTURES = Path(__file__).parent / "fixtures" / "scholar"
PROFILE_PAGES = sorted(json.loads((FIXTURES / "expected.json").read_text(encoding="utf-8")))


def with_metrics(record: AuthorRecord, **metrics: int | None) -> AuthorRecord:
    return replace(record, metrics=replace(record.metrics, **metrics))


@pytest.mark.parametrize(("old", "new"), [(425, 1_000_000), (1000, 3001), (100, 351), (0, 51), (3, 54)])
def test_a_rise_past_the_factor_is_refused(old: int, new: int) -> None:
    message = refused(rec(old), rec(new))
    assert f"total citations rose from {old} to {new} (more than 3 times as many)" in message
    assert "--accept-drop" in message


@pytest.mark.parametrize(("old", "new"), [(1000, 3000), (100, 300), (0, 50), (3, 53), (10, 60), (1, 51)])
def test_a_rise_within_the_factor_or_the_margin_passes(old: int, new: int) -> None:
    assert passes(rec(old), rec(new)) == []


def test_a_publication_count_rise_past_the_factor_is_refused() -> None:
    assert "publications rose from 20 to 71 (more than 3 times as many)" in refused(
        rec(n_pubs=20), rec(n_pubs=71)
    )
    assert passes(rec(n_pubs=20), rec(n_pubs=60)) == []
    assert passes(rec(n_pubs=2), rec(n_pubs=12)) == []


def test_the_rise_factor_is_configurable() -> None:
    strict = GuardOptions(max_rise_factor=1.5)
    assert "more than 1.5 times as many" in refused(rec(1000), rec(1501), strict)
    assert passes(rec(1000), rec(1500), strict) == []
    assert passes(rec(1000), rec(9000), GuardOptions(max_rise_factor=10)) == []


@pytest.mark.parametrize("value", [0.5, 0, -1, float("nan"), float("inf"), "3", True, None])
def test_rise_factor_refuses_nonsense(value: object) -> None:
    with pytest.raises(ValueError, match="max_rise_factor must be a number of at least 1"):
        GuardOptions(max_rise_factor=value)  # type: ignore[arg-type]


def test_accept_drop_takes_a_real_rise_too() -> None:
    notes = passes(rec(425), rec(1_000_000), accept_drop=True)
    assert notes == ["accepted: total citations rose from 425 to 1000000 (more than 3 times as many)"]


@pytest.mark.parametrize(
    ("metrics", "n_pubs", "said"),
    [
        ({"citations": 1_000_000_000, "h_index": 5000}, 3, "h-index 5000 is above the 3 publications listed"),
        ({"citations": 100, "h_index": 11}, 50, "h-index 11 needs at least 121 citations, the page says 100"),
        ({"citations": 90, "h_index": 3, "i10_index": 10}, 50, "i10-index 10 needs at least 100 citations"),
        (
            {"citations": 5000, "h_index": 3, "i10_index": 60},
            50,
            "i10-index 60 is above the 50 publications listed",
        ),
        ({"citations": 5000, "h_index": 20, "i10_index": 19}, 50, "i10-index 19 is below h-index 20"),
        (
            {"citations": 425, "citations_since": 426, "since_year": 2021},
            50,
            "citations since 2021 (426) is above the all-time 425",
        ),
        (
            {"citations": 425, "h_index": 11, "h_index_since": 12},
            50,
            "h-index since the since year (12) is above the all-time 11",
        ),
        (
            {"citations": 425, "h_index": 5, "i10_index": 11, "i10_index_since": 12},
            50,
            "i10-index since the since year (12) is above the all-time 11",
        ),
        (
            {"citations": 425, "citations_since": 100, "h_index_since": 11},
            50,
            "h-index since 11 needs at least 121 citations, the page says 100",
        ),
        (
            {"citations": 425, "citations_since": 100, "h_index_since": 10, "i10_index_since": 9},
            50,
            "i10-index since 9 is below h-index since 10",
        ),
    ],
)
def test_numbers_that_contradict_each_other_are_refused_even_with_accept_drop(
    metrics: dict[str, int], n_pubs: int, said: str
) -> None:
    bad = with_metrics(rec(1000, n_pubs), **{"h_index": None, **metrics})
    for previous in (None, rec(1000, n_pubs)):
        with pytest.raises(GuardRefused) as info:
            passes(previous, bad, accept_drop=True)
        assert said in str(info.value) and "contradict" in str(info.value)
        assert info.value.exit_code == 6


def test_a_record_without_its_list_is_not_held_to_a_publication_count() -> None:
    # An imported gs_data file may carry the totals alone.
    assert passes(None, with_metrics(rec(1000, 0), h_index=20, i10_index=25)) == []


@pytest.mark.parametrize("name", PROFILE_PAGES)
def test_every_real_page_is_consistent(name: str) -> None:
    page = parse_profile((FIXTURES / name).read_bytes())
    record = page_to_record(page)
    assert inconsistencies(record, partial=page.has_more) == []
    # A page that lists only some publications passes when imported as such.
    ours = replace(record, profile=replace(record.profile, scholar_id=SID))
    assert check(None, ours, expected_id=SID, options=DEFAULT, partial=page.has_more) == []


@pytest.mark.parametrize("n", [0, 1, 12, 150, 999])
def test_every_generated_replay_profile_is_consistent(n: int) -> None:
    profile = generate_profile(SID, n, seed=n)
    record = AuthorRecord(
        Profile(SID, profile.name),
        Metrics(
            profile.citations,
            profile.citations_since,
            profile.h_index,
            profile.h_index_since,
            profile.i10_index,
            profile.i10_index_since,
            profile.since_year,
        ),
        publications=tuple(
            Publication(p.author_pub_id, p.title, citations=p.citations) for p in profile.publications
        ),
    )
    assert inconsistencies(record) == []


def test_a_forged_page_never_becomes_the_baseline(tmp_path: Path) -> None:
    from crawler.outputs.badges import BadgeStyle
    from crawler.outputs.write import accept_record
    from crawler.storage.store import AuthorStore

    real = page_to_record(parse_profile((FIXTURES / "bohlooli_en_50rows.html").read_bytes()))
    first = accept_record(AuthorStore(tmp_path, real.scholar_id), real, guard=DEFAULT, badge=BadgeStyle())
    assert first.changed
    forged = with_metrics(real, citations=1_000_000_000)
    with pytest.raises(GuardRefused, match="more than the 367 its 50 papers add up to"):
        accept_record(AuthorStore(tmp_path, real.scholar_id), forged, guard=DEFAULT, badge=BadgeStyle())
    # The real numbers are still compared with the real ones, and pass.
    again = accept_record(
        AuthorStore(tmp_path, real.scholar_id),
        real.with_fetched_at(datetime(2027, 1, 1, tzinfo=UTC)),
        guard=DEFAULT,
        badge=BadgeStyle(),
    )
    assert not again.changed
    assert len(list((tmp_path / real.scholar_id / "snapshots").glob("*.json"))) == 1


# -- impossible numbers, first run included -------------------------------------------


def _denner(**metrics: int | None) -> AuthorRecord:
    record = page_to_record(
        parse_profile((FIXTURES / "denner_pt-PT_176rows_browser-saved.html").read_bytes())
    )
    record = replace(record, profile=replace(record.profile, scholar_id=SID))
    return with_metrics(record, **metrics) if metrics else record


@pytest.mark.parametrize("previous", [None, "real"])
@pytest.mark.parametrize(
    ("metrics", "said"),
    [
        # The example: a first page claiming a billion citations over papers summing 1799.
        (
            {"citations": 1_000_000_000},
            "total citations 1000000000 are more than the 1799 its 176 papers add up to",
        ),
        ({"citations": 1800}, "total citations 1800 are more than the 1799 its 176 papers add up to"),
        ({"h_index": 18}, "h-index 18 cannot come from its papers, whose h-index is 17"),
        ({"i10_index": 32}, "i10-index 32 cannot come from its papers, 31 of which have 10 or more"),
    ],
)
def test_a_complete_page_whose_totals_its_papers_cannot_give_never_becomes_the_baseline(
    metrics: dict[str, int], said: str, previous: str | None
) -> None:
    real = _denner()
    assert real.complete and real.metrics.citations == 1799
    with pytest.raises(GuardRefused) as info:
        check(
            real if previous else None, _denner(**metrics), expected_id=SID, options=DEFAULT, accept_drop=True
        )
    assert said in str(info.value) and info.value.exit_code == 6


def test_the_paper_rules_are_exact_at_the_boundary() -> None:
    # The totals the papers give pass; lower totals or indices (the stats box lagging
    # behind a paper's new citation) pass too: they inflate nothing.
    assert check(None, _denner(), expected_id=SID, options=DEFAULT) == []
    assert (
        check(None, _denner(citations=1798, h_index=16, i10_index=30), expected_id=SID, options=DEFAULT) == []
    )


def test_the_paper_rules_hold_only_for_a_complete_list_of_scholars_papers() -> None:
    forged = _denner(citations=5000, h_index=18, i10_index=40)
    # A page listing only some papers (its "show more" not followed) is not held to their sum.
    assert inconsistencies(replace(forged, complete=False)) == []
    assert inconsistencies(forged, partial=True) == []
    # OpenAlex counts an author's citations apart from its works': no sum to hold it to.
    assert inconsistencies(replace(forged, source="openalex")) == []
    assert len(inconsistencies(replace(forged, source="serpapi"))) == 3


@pytest.mark.parametrize("previous", [None, "real"])
def test_a_total_above_any_real_profile_is_impossible_even_with_accept_drop(previous: str | None) -> None:
    # Papers that add up, from a source without a sum rule: only the ceiling refuses it.
    big = rec(MAX_PLAUSIBLE_CITATIONS + 1, 100_000, source="openalex")
    with pytest.raises(GuardRefused) as info:
        check(rec(1000) if previous else None, big, expected_id=SID, options=DEFAULT, accept_drop=True)
    assert f"total citations {MAX_PLAUSIBLE_CITATIONS + 1} are more than any real profile has" in str(
        info.value
    )
    assert (
        check(
            None, rec(MAX_PLAUSIBLE_CITATIONS, 100_000, source="openalex"), expected_id=SID, options=DEFAULT
        )
        == []
    )


def test_a_paper_above_any_real_profile_is_impossible() -> None:
    record = rec(1000, 10, source="openalex")
    pubs = (replace(record.publications[0], citations=10**18), *record.publications[1:])
    record = replace(record, publications=pubs)
    with pytest.raises(
        GuardRefused, match="has 1000000000000000000 citations, more than any real profile has"
    ):
        check(None, record, expected_id=SID, options=DEFAULT, partial=True)
    assert impossibilities(rec(1000)) == []
