"""The guard's thresholds at their boundaries, the source switch, --accept-drop, same_content."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone

import pytest

from crawler.errors import GuardRefused
from crawler.guard import GuardOptions, check, same_content
from crawler.models import AuthorRecord, Metrics, Profile, Publication

SID = "gUaRdTeStId_"
DEFAULT = GuardOptions()


def rec(citations: int | None = 1000, n_pubs: int = 100, *, source: str = "scholar", sid: str = SID,
        complete: bool = True) -> AuthorRecord:
    pubs = tuple(Publication(f"{sid}:p{i:04d}", f"Paper {i}", citations=1) for i in range(n_pubs))
    return AuthorRecord(
        Profile(sid, "A. Author"), Metrics(citations=citations, h_index=5), publications=pubs,
        complete=complete, source=source, fetched_at=datetime(2026, 1, 1, tzinfo=timezone.utc),
    )


def passes(previous: AuthorRecord | None, new: AuthorRecord, options: GuardOptions = DEFAULT,
           accept_drop: bool = False) -> list[str]:
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
    assert passes(rec(1000), rec(5000)) == []
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
    later = a.with_fetched_at(datetime(2027, 6, 1, tzinfo=timezone.utc))
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
