"""``check_gs_data``: what ``record_from_gs_data`` refuses, refused with the same error, and what it
reads, accepted, without the record being built (merge checks every shard's gs_data.json)."""

from __future__ import annotations

import copy
import json
import random
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from crawler.models import parse_time
from crawler.outputs.formats import layout_kind
from crawler.outputs.gs_data import _gs_data_as_written, check_gs_data, gs_data_dict, record_from_gs_data
from crawler.policy.on_block import Estimate
from crawler.sources.scholar_page import page_to_record, parse_profile

FIXTURES = Path(__file__).parent / "fixtures" / "scholar"
PAGES = sorted(json.loads((FIXTURES / "expected.json").read_text(encoding="utf-8")))
SID = "abcdEFGH1234"


def fixture_gs_data(name: str, **extra: Any) -> dict[str, Any]:
    record = page_to_record(parse_profile((FIXTURES / name).read_bytes()))
    data = gs_data_dict(record, updated=parse_time("2026-11-23T08:17:00Z"), **extra)
    read: dict[str, Any] = json.loads(json.dumps(data))  # as the file reads back
    return read


def outcome(call: Any) -> tuple[Any, ...]:
    try:
        call()
    except Exception as exc:  # every kind of error is compared
        return type(exc), str(exc)
    return ("accepted",)


def same_outcome(data: Any, scholar_id: str = SID) -> tuple[Any, ...]:
    expected = outcome(lambda: record_from_gs_data(data, scholar_id))
    assert outcome(lambda: check_gs_data(data, scholar_id)) == expected
    return expected


def acadhomepage() -> dict[str, Any]:
    """scholarly's filled author, as AcadHomepage's workflow commits it."""
    return {
        "container_type": "Author",
        "scholar_id": SID,
        "source": "AUTHOR_PROFILE_PAGE",
        "name": "Ada Example",
        "interests": ["Graphs"],
        "email_domain": "@example.org",
        "citedby": 30,
        "hindex": 2,
        "cites_per_year": {"2023": 10, "2024": 20},
        "updated": "2024-05-01 03:04:05.123456",
        "publications": {
            f"{SID}:x": {
                "container_type": "Publication",
                "bib": {"title": "On x", "pub_year": "2019", "citation": "Journal of x 3, 2019"},
                "filled": False,
                "author_pub_id": f"{SID}:x",
                "num_citations": 20,
                "cites_id": ["100"],
            },
            f"{SID}:z": {"bib": {"title": "On z", "pub_year": ""}, "num_citations": 0},
        },
    }


BAD: list[tuple[str, Any]] = [
    # record_from_gs_data's own cases (tests/test_backfill.py), and each other error it raises.
    ("not an object", [1, 2]),
    ("no citedby, no publications", {"name": "x"}),
    ("no name", {"citedby": 3}),
    ("citedby a word", {"name": "x", "citedby": "many"}),
    ("publications a word", {"name": "x", "citedby": 1, "publications": "none"}),
    ("no title", {"name": "x", "publications": {"a": {"bib": {}}}}),
    ("no author_pub_id", {"name": "x", "publications": [{"bib": {"title": "t"}}]}),
    ("empty author_pub_id", {"name": "x", "publications": {"": {"bib": {"title": "t"}}}}),
    ("a year that is no year", {"name": "x", "citedby": 1, "cites_per_year": {"total": 3}}),
    ("a year without a count", {"name": "x", "citedby": 1, "cites_per_year": {"2023": None}}),
    ("a negative count", {"name": "x", "citedby": -5}),
    ("a negative h-index", {"name": "x", "citedby": 1, "hindex": -1}),
    ("a boolean count", {"name": "x", "citedby": True}),
    ("interests not a list", {"name": "x", "citedby": 1, "interests": "graphs"}),
    ("interests not strings", {"name": "x", "citedby": 1, "interests": ["a", 1]}),
    ("email_domain a number", {"name": "x", "citedby": 1, "email_domain": 3}),
    ("affiliation a list", {"name": "x", "citedby": 1, "affiliation": []}),
    ("homepage a number", {"name": "x", "citedby": 1, "homepage": 1}),
    ("url_picture an object", {"name": "x", "citedby": 1, "url_picture": {"a": 1}}),
    ("source a list", {"name": "x", "citedby": 1, "source": ["scholar"]}),
    ("notes an object", {"name": "x", "citedby": 1, "notes": {"a": 1}}),
    ("a publication not an object", {"name": "x", "publications": [3]}),
    ("bib not an object", {"name": "x", "publications": [{"bib": "t", "author_pub_id": "a"}]}),
    ("cites_id not strings", {"name": "x", "publications": {"a": {"bib": {"title": "t"}, "cites_id": [1]}}}),
    ("cites_id a number", {"name": "x", "publications": {"a": {"bib": {"title": "t"}, "cites_id": 1}}}),
    ("author a list", {"name": "x", "publications": {"a": {"bib": {"title": "t", "author": ["A"]}}}}),
    ("citation a number", {"name": "x", "publications": {"a": {"bib": {"title": "t", "citation": 1}}}}),
    ("pub_year a float", {"name": "x", "publications": {"a": {"bib": {"title": "t", "pub_year": 2.5}}}}),
    (
        "pub_year a digit int refuses",
        {"name": "x", "publications": {"a": {"bib": {"title": "t", "pub_year": "²"}}}},
    ),
    (
        "num_citations a word",
        {"name": "x", "publications": {"a": {"bib": {"title": "t"}, "num_citations": "3"}}},
    ),
    (
        "num_citations negative",
        {"name": "x", "publications": {"a": {"bib": {"title": "t"}, "num_citations": -2}}},
    ),
]


@pytest.mark.parametrize("data", [data for _, data in BAD], ids=[name for name, _ in BAD])
def test_every_bad_file_is_refused_with_the_readers_error(data: Any) -> None:
    assert same_outcome(data)[0] in (ValueError, TypeError)


@pytest.mark.parametrize("name", PAGES)
def test_our_files_are_accepted_by_the_walk_alone(name: str) -> None:
    stale = parse_time("2026-11-20T00:00:00Z")
    for data in (
        fixture_gs_data(name),
        fixture_gs_data(name, stale_since=stale, estimate=Estimate("openalex", stale, 3, 4, 12)),
    ):
        assert _gs_data_as_written(data)  # no record built
        assert same_outcome(data) == ("accepted",)


def test_acadhomepage_files_are_accepted_by_the_walk_alone() -> None:
    data = acadhomepage()
    assert _gs_data_as_written(data) and same_outcome(data) == ("accepted",)
    listed = {**data, "publications": list(data["publications"].values())}
    listed["publications"][1]["author_pub_id"] = f"{SID}:z"
    assert _gs_data_as_written(listed) and same_outcome(listed) == ("accepted",)


def test_the_merge_check_of_gs_data_json_says_what_the_reader_says() -> None:
    kind = layout_kind("gs_data.json")
    assert kind is not None
    for name, data in BAD:
        if isinstance(data, dict):
            data = {**data, "scholar_id": SID}
        expected = outcome(partial(record_from_gs_data, data, SID))
        if not isinstance(data, dict):
            expected = (ValueError, f"not the gs_data.json of {SID}")
        assert outcome(partial(kind.check, json.dumps(data).encode(), SID)) == expected, name


# Values a field may be replaced with: each type JSON has, in and out of range, and the
# strings the reader treats apart (a year with spaces, "NA", digits int() refuses or reads).
VALUES: list[Any] = [
    None,
    True,
    False,
    0,
    -1,
    7,
    2021,
    1.5,
    "",
    " ",
    "x",
    "2021",
    " 2021 ",
    "NA",
    "²",
    "２０２１",
    "1" * 5000,
    "@example.org",
    "scholar",
    "openalex",
    "AUTHOR_PROFILE_PAGE",
    "2026-01-01T00:00:00Z",
    "0001-01-01T00:00:00+01:00",
    "9999-12-31T23:59:59-01:00",
    [],
    ["a"],
    ["a", 1],
    [1],
    {},
    {"a": 1},
    {"title": "t"},
    {"2023": 3},
    {"2023": None},
]
MISSING = object()


def _places(data: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in ``data`` a value sits, as a path of keys and indexes."""
    places = [path] if path else []
    if isinstance(data, dict):
        for key, value in data.items():
            places += _places(value, (*path, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            places += _places(value, (*path, index))
    return places


def _mutated(data: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    data = copy.deepcopy(data)
    for _ in range(rng.randint(1, 3)):
        places = _places(data)
        path = rng.choice(places)
        parent = data
        for step in path[:-1]:
            parent = parent[step]
        value = rng.choice([*VALUES, MISSING])
        if value is MISSING and isinstance(parent, dict):
            del parent[path[-1]]
        elif value is not MISSING:
            parent[path[-1]] = copy.deepcopy(value)
        if isinstance(parent, dict) and rng.random() < 0.1:
            parent[rng.choice(["pub_year", "cites_id", "author_pub_id", "source", "updated"])] = value
    return data


def test_the_walk_and_the_reader_agree_on_many_damaged_files() -> None:
    rng = random.Random(24)
    bases = [fixture_gs_data(PAGES[0]), acadhomepage()]
    bases.append({**bases[0], "publications": list(bases[0]["publications"].values())})
    seen: set[Any] = set()
    for _ in range(3000):
        data = _mutated(rng.choice(bases), rng)
        file_id = data.get("scholar_id")
        seen.add(same_outcome(data, file_id if isinstance(file_id, str) else SID)[0])
    # The mutations reach the reader's refusals and its acceptance alike.
    assert {"accepted", ValueError, TypeError} <= seen


def test_an_update_time_out_of_range_is_no_time_not_a_crash() -> None:
    # A time a datetime cannot hold in UTC (year 1, east of Greenwich) is as unreadable as
    # any other: the record has no fetch time, and a merge does not stop on it.
    data = {**acadhomepage(), "source": "scholar", "updated": "0001-01-01T00:00:00+01:00"}
    assert record_from_gs_data(data, SID).fetched_at is None
    check_gs_data(data, SID)
    kind = layout_kind("gs_data.json")
    assert kind is not None
    kind.check(json.dumps(data).encode(), SID)
