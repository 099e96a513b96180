"""``distinct_papers`` held to the plain statement of its rule on many generated labs: rows that
share a cluster ID are one paper; a row without one joins the first cited row of its normalised
title and year, or the other uncited rows of that title and year."""

from __future__ import annotations

import random
from collections.abc import Sequence

from crawler.models import AuthorRecord, Metrics, Profile, Publication
from crawler.outputs.group_numbers import distinct_papers, group_totals, normalised_title


def by_the_rule(records: Sequence[AuthorRecord]) -> dict[str, list[tuple[str, Publication]]]:
    """Every row's title key and cluster IDs computed, the union-find written out plainly."""
    parent: dict[str, str] = {}

    def find(key: str) -> str:
        parent.setdefault(key, key)
        while parent[key] != key:
            key = parent[key]
        return key

    def title_key(pub: Publication) -> str:
        return f"t:{normalised_title(pub.title)}|{pub.year if pub.year is not None else ''}"

    rows: list[tuple[str, Publication, str]] = []
    cited_titles: dict[str, str] = {}
    for record in records:
        for pub in record.publications:
            ids = [c.strip() for c in (pub.cites_id or "").split(",") if c.strip()]
            key = f"c:{ids[0]}" if ids else ""
            for other in ids[1:]:
                a, b = find(key), find(f"c:{other}")
                if a != b:
                    parent[max(a, b)] = min(a, b)
            if ids:
                cited_titles.setdefault(title_key(pub), key)
            rows.append((record.scholar_id, pub, key))
    grouped: dict[str, list[tuple[str, Publication]]] = {}
    for sid, pub, key in rows:
        if not key:
            key = cited_titles.get(title_key(pub), title_key(pub))
        grouped.setdefault(find(key), []).append((sid, pub))
    return grouped


TITLES = [
    "Deep Learning",
    "deep  learning!",
    "Déep Learning",
    "Graphs",
    "GRAPHS?",
    "Ångström",
    "angstrom",
    "",
]
YEARS = [None, 2019, 2020, 2021]
CITES = [None, "", " ", ",", "1", "2", "1,2", " 3 ", "3,4", "4", "5, ,6", "6", "7"]


def lab(rng: random.Random) -> list[AuthorRecord]:
    records = []
    for n in range(rng.randint(1, 6)):
        sid = f"member{n:06d}"
        pubs = tuple(
            Publication(
                author_pub_id=f"{sid}:{i}",
                title=rng.choice(TITLES),
                year=rng.choice(YEARS),
                citations=rng.choice([None, 0, 1, 5, 40]),
                cites_id=rng.choice(CITES),
            )
            for i in range(rng.randint(0, 25))
        )
        records.append(AuthorRecord(Profile(sid, sid), Metrics(), publications=pubs))
    return records


def test_distinct_papers_follow_the_rule_on_many_labs() -> None:
    rng = random.Random(9)
    joined = 0
    for _ in range(2000):
        records = lab(rng)
        expected = by_the_rule(records)
        assert list(distinct_papers(records).items()) == list(expected.items())
        joined += sum(1 for rows in expected.values() if len({p.cites_id is None for _, p in rows}) > 1)
        assert group_totals(records).publications == len(expected)
    assert joined > 100  # uncited rows joined cited ones, many times over
