"""``normalised_title``: the title two profiles may write differently, the same for both; an ASCII
title takes a shorter way there, which must give exactly what the full way gives."""

from __future__ import annotations

import random
import re
import unicodedata
from pathlib import Path
from types import SimpleNamespace

import pytest

from crawler.outputs.group_numbers import normalised_title
from crawler.sources.scholar_page import page_to_record, parse_profile

FIXTURES = Path(__file__).parent / "fixtures" / "scholar"


def by_unicode(title: str) -> str:
    """The normalisation in full, for any text: compatibility decomposition, accents dropped,
    case folded, every run of characters other than letters, digits and ``_`` one space."""
    text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^\w]+", " ", text.casefold()).strip()


def fixture_titles() -> list[str]:
    titles = []
    for page in sorted(FIXTURES.glob("*.html")):
        try:
            record = page_to_record(parse_profile(page.read_bytes()))
        except Exception:  # a page that is no profile (a CAPTCHA, a sign-in): no titles
            continue
        titles += [pub.title for pub in record.publications]
    return titles


EDGES = [
    ("", ""),
    ("   ", ""),
    ("!!!", ""),
    ("Deep  Learning:\ta Review!", "deep learning a review"),
    (" snake_case and CamelCase ", "snake_case and camelcase"),
    ("\x1c\x1fA\x0bB\x7f", "a b"),
    ("Ångström-scale  Imaging", "angstrom scale imaging"),
    ("Café\u0301 naïve", "cafe naive"),  # a combining mark, and a precomposed letter
    ("Ｆｕｌｌ－ｗｉｄｔｈ Ｔｉｔｌｅ", "full width title"),
    ("ﬁnite ﬂows", "finite flows"),  # ligatures
    # What has no ASCII decomposition is dropped before case is folded: ß, the fraction slash, dashes.
    ("Straße GROSS", "strae gross"),
    ("Σίσυφος and ΣΊΣΥΦΟΣ", "and"),  # Greek: no ASCII letters left
    ("x² + y₂ = ½", "x2 y2 12"),
    ("em—dash, “quotes” and ‘more’…", "emdash quotes and more"),
    ("non\u00a0breaking\u2003spaces", "non breaking spaces"),
]


@pytest.mark.parametrize(("title", "expected"), EDGES)
def test_edge_cases(title: str, expected: str) -> None:
    assert normalised_title(title) == expected == by_unicode(title)


def test_every_fixture_title_as_in_full() -> None:
    titles = fixture_titles()
    assert len(titles) > 100
    assert any(not t.isascii() for t in titles) and any(t.isascii() for t in titles)
    for title in titles:
        assert normalised_title(title) == by_unicode(title), title


def test_every_ascii_character_as_in_full() -> None:
    rng = random.Random(7)
    everything = [chr(c) for c in range(128)]
    for title in [
        *everything,
        *("".join(rng.choices(everything, k=rng.randint(0, 40))) for _ in range(5000)),
    ]:
        assert normalised_title(title) == by_unicode(title), repr(title)


def test_an_ascii_title_needs_no_unicode_tables(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(form: str, text: str) -> str:
        raise AssertionError(f"normalised {text!r} in full")

    # The module's own name for the tables, not the tables themselves: pytest writes with them.
    monkeypatch.setattr("crawler.outputs.group_numbers.unicodedata", SimpleNamespace(normalize=refuse))
    assert normalised_title("Deep  Learning:\ta Review!") == "deep learning a review"
    with pytest.raises(AssertionError):
        normalised_title("Ångström")
