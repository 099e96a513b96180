"""The AcadHomepage-compatible author object, field by field: homepages depend on it."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from crawler.models import parse_time
from crawler.outputs.gs_data import gs_data_dict
from crawler.sources.scholar_page import page_to_record, parse_profile

FIXTURES = Path(__file__).parent / "fixtures" / "scholar"
EXPECTED = json.loads((FIXTURES / "expected.json").read_text(encoding="utf-8"))

SCHOLARLY_KEYS = [
    "name",
    "affiliation",
    "interests",
    "email_domain",
    "homepage",
    "url_picture",
    "citedby",
    "citedby5y",
    "hindex",
    "hindex5y",
    "i10index",
    "i10index5y",
    "cites_per_year",
    "scholar_id",
    "publications",
]


@pytest.fixture(scope="module", params=sorted(EXPECTED))
def case(request: pytest.FixtureRequest) -> tuple[str, dict[str, Any]]:
    name = request.param
    record = page_to_record(parse_profile((FIXTURES / name).read_bytes()))
    return name, gs_data_dict(record, updated=parse_time("2026-11-23T08:17:00Z"))


def test_has_every_scholarly_key(case: tuple[str, dict[str, Any]]) -> None:
    _, data = case
    for key in SCHOLARLY_KEYS:
        assert key in data, key
    assert data["updated"] == "2026-11-23T08:17:00Z"


def test_numbers(case: tuple[str, dict[str, Any]]) -> None:
    name, data = case
    want = EXPECTED[name]
    assert data["name"] == want["name"]
    assert data["affiliation"] == want["affiliation"]
    assert data["interests"] == want["interests"]
    assert (data["citedby"], data["citedby5y"]) == (want["citedby"], want["citedby_since"])
    assert (data["hindex"], data["hindex5y"]) == (want["hindex"], want["hindex_since"])
    assert (data["i10index"], data["i10index5y"]) == (want["i10index"], want["i10index_since"])
    assert data["cites_per_year"] == want["cites_per_year"]  # years as string keys
    assert data["email_domain"].startswith("@")


def test_publications_keyed_by_id_in_page_order(case: tuple[str, dict[str, Any]]) -> None:
    name, data = case
    want = EXPECTED[name]
    pubs = data["publications"]
    assert isinstance(pubs, dict)
    assert len(pubs) == want["n_publication_rows"]
    values = list(pubs.values())
    for got, exp in zip(values[:3], want["first3"], strict=True):
        assert got["bib"]["title"] == exp["title"]
        assert got["num_citations"] == exp["num_citations"]
        assert got["bib"]["pub_year"] == (str(exp["year"]) if exp["year"] else None)
        assert got["bib"]["citation"] == exp["venue"]
    for key, pub in pubs.items():
        assert pub["author_pub_id"] == key
        assert isinstance(pub["num_citations"], int)
        if pub["num_citations"]:
            assert pub["citedby_url"].startswith("https://scholar.google.com/scholar?")
            assert isinstance(pub["cites_id"], list) and pub["cites_id"]
        else:
            assert "citedby_url" not in pub


def test_the_homepage_reads_what_it_needs(case: tuple[str, dict[str, Any]]) -> None:
    """What AcadHomepage's page script does with the file, in Python."""
    _, data = case
    total = data["citedby"]
    assert isinstance(total, int)
    first_id = next(iter(data["publications"]))
    assert isinstance(data["publications"][first_id]["num_citations"], int)


def test_cli_gs_data_matches_library() -> None:
    name = "cherukuri_en_20rows_showmore.html"
    out = subprocess.run(
        ["scholar-stats", "parse", str(FIXTURES / name), "--format", "gs-data"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    data = json.loads(out)
    record = page_to_record(parse_profile((FIXTURES / name).read_bytes()))
    assert data == gs_data_dict(record)
    assert next(iter(data["publications"])) == "amIMrIEAAAAJ:u5HHmVD_uO8C"
