"""How many papers the matcher pairs across sources, on the recorded test data.

    python bench/match_rate.py

The Scholar side is the real saved profile page
``tests/fixtures/scholar/denner_pt-PT_176rows_browser-saved.html`` (176
publications); the other side is each source's recorded answer for the same
author in ``tests/sources/data`` (see make_api_data.py there), plus OpenAlex's
works with the differences real records show (``openalex_works_variants.json``).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from crawler.models import AuthorRecord
from crawler.policy.match import match_records
from crawler.sources import openalex, semantic_scholar, serpapi
from crawler.sources.scholar_page import page_to_record, parse_profile

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "sources" / "data"
PAGE = ROOT / "tests" / "fixtures" / "scholar" / "denner_pt-PT_176rows_browser-saved.html"
SID = "AoKJ_g4AAAAJ"


def load(name: str) -> dict:  # type: ignore[type-arg]
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def others() -> list[tuple[str, AuthorRecord]]:
    first = load("serpapi_author_start0.json")
    return [
        (
            "OpenAlex, works with real differences",
            openalex.record_from_json(
                SID, load("openalex_author.json"), load("openalex_works_variants.json")["results"]
            ),
        ),
        (
            "OpenAlex, recorded answer",
            openalex.record_from_json(
                SID,
                load("openalex_author.json"),
                load("openalex_works_page1.json")["results"] + load("openalex_works_page2.json")["results"],
            ),
        ),
        (
            "Semantic Scholar, recorded answer",
            semantic_scholar.record_from_json(
                SID,
                load("s2_author.json"),
                load("s2_papers_offset0.json")["data"] + load("s2_papers_offset100.json")["data"],
            ),
        ),
        (
            "SerpApi, recorded answer",
            serpapi.record_from_json(
                SID, first, first["articles"] + load("serpapi_author_start100.json")["articles"]
            ),
        ),
    ]


def main() -> None:
    scholar = page_to_record(
        parse_profile(PAGE.read_bytes(), url=f"https://scholar.google.com/citations?user={SID}")
    )
    print(
        "| other side | works | matched | share of works | Scholar papers matched | "
        "ambiguous | no candidate | ms |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, other in others():
        start = time.perf_counter()
        result = match_records(scholar, other)
        ms = (time.perf_counter() - start) * 1000
        ambiguous = sum(1 for u in result.unmatched_other if u.reason.startswith("ambiguous"))
        none = sum(1 for u in result.unmatched_other if u.reason == "no candidate")
        print(
            f"| {name} | {result.other_count} | {len(result.pairs)} | {result.share_matched:.0%} "
            f"| {len(result.pairs)}/{result.scholar_count} ({len(result.pairs) / result.scholar_count:.0%}) "
            f"| {ambiguous} | {none} | {ms:.0f} |"
        )


if __name__ == "__main__":
    main()
