"""Mutated and truncated real pages: the parser returns a page or raises one of its own errors."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, cast

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from crawler.errors import Blocked, ParseError
from crawler.sources.scholar_page import ProfilePage, parse_profile
from crawler.sources.scholar_page_readers import class_names

FIXTURES = Path(__file__).parent / "fixtures" / "scholar"
PAGES = {p.name: p.read_bytes() for p in sorted(FIXTURES.glob("*.html")) if p.stat().st_size < 500_000}
OWN_ERRORS = (ParseError, Blocked)

page_names = st.sampled_from(sorted(PAGES))
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def outcome(body: bytes) -> object:
    try:
        result = parse_profile(body)
    except OWN_ERRORS as exc:
        return exc
    assert isinstance(result, ProfilePage)
    # Whatever the page, numbers are never negative and citations never None on a row.
    assert all(p.citations is not None and p.citations >= 0 for p in result.publications)
    assert all(c >= 0 for _, c in result.cites_per_year)
    return result


@SETTINGS
@given(name=page_names, cut=st.floats(min_value=0, max_value=1))
def test_truncated(name: str, cut: float) -> None:
    body = PAGES[name]
    outcome(body[: int(len(body) * cut)])


@SETTINGS
@given(name=page_names, data=st.data())
def test_random_bytes_replaced(name: str, data: st.DataObject) -> None:
    body = bytearray(PAGES[name])
    for _ in range(data.draw(st.integers(1, 40))):
        at = data.draw(st.integers(0, len(body) - 1))
        body[at] = data.draw(st.integers(0, 255))
    outcome(bytes(body))


@SETTINGS
@given(name=page_names, data=st.data())
def test_slices_removed(name: str, data: st.DataObject) -> None:
    body = PAGES[name]
    start = data.draw(st.integers(0, len(body) - 1))
    length = data.draw(st.integers(1, 5000))
    outcome(body[:start] + body[start + length :])


def _inside_canonical_href(name: str) -> int:
    body = PAGES[name]
    return body.index(b'href="', body.index(b'rel="canonical"')) + len(b'href="')


@SETTINGS
@given(name=page_names, junk=st.binary(max_size=200), at=st.floats(min_value=0, max_value=1))
# Found by hypothesis: a canonical link starting "http://[" made urllib raise
# "Invalid IPv6 URL" out of the parser.
@example(
    name="bohlooli_en_50rows.html",
    junk=b"http://[",
    at=_inside_canonical_href("bohlooli_en_50rows.html") / len(PAGES["bohlooli_en_50rows.html"]),
)
def test_junk_inserted(name: str, junk: bytes, at: float) -> None:
    body = PAGES[name]
    cut = round(len(body) * at)
    outcome(body[:cut] + junk + body[cut:])


@SETTINGS
@given(body=st.binary(max_size=2000))
def test_arbitrary_bytes(body: bytes) -> None:
    outcome(body)


class _Classed:
    def __init__(self, value: str | None) -> None:
        self.attributes = {"class": value}


@given(
    st.one_of(st.none(), st.text(alphabet=" \t\n\r\f\x0b\xa0\x1fab_-é", max_size=12), st.text(max_size=12))
)
@example("gsc_a_at")
@example("gsc_a_ac gs_ibl")
@example("a  b")
@example(" a ")
def test_class_names_split_as_html_splits_them(value: str | None) -> None:
    """Classes are separated by ASCII whitespace only (a no-break space or U+000B is part of a name)."""
    expected = re.split(r"[ \t\n\r\f]+", value or "")
    assert class_names(cast(Any, _Classed(value))) == expected
