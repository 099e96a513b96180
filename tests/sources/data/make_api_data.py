"""Build the recorded-shape API answers in this folder from a real Scholar page.

Run ``python tests/sources/data/make_api_data.py`` from the repository root to
rebuild them; the output is deterministic.  The author is the one of
``tests/fixtures/scholar/denner_pt-PT_176rows_browser-saved.html`` (176 real
publications).  SerpApi's answers carry that page's numbers unchanged (SerpApi
serves Scholar's own); OpenAlex and Semantic Scholar index fewer venues, so
their answers keep only the publications with a venue and a year, with lower
counts, as those databases give for real profiles.  The field names and layout
follow each API's documentation (SerpApi google_scholar_author, OpenAlex
/authors and /works, Semantic Scholar Graph API /author and /author/{id}/papers).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from crawler.models import Publication
from crawler.sources.scholar_page import ProfilePage, parse_profile

ROOT = Path(__file__).resolve().parents[3]
PAGE = ROOT / "tests" / "fixtures" / "scholar" / "denner_pt-PT_176rows_browser-saved.html"
OUT = Path(__file__).resolve().parent
SCHOLAR_ID = "AoKJ_g4AAAAJ"
OPENALEX_ID = "A5041365215"
ORCID = "0000-0002-6416-5463"
# The author's institution as OpenAlex describes it, in affiliations and last_known_institutions alike.
BRASILIA = {
    "id": "https://openalex.org/I149458036",
    "ror": "https://ror.org/02xfp8v59",
    "display_name": "Universidade de Brasília",
    "country_code": "BR",
    "type": "education",
    "lineage": ["https://openalex.org/I149458036"],
}
S2_ID = "2112416497"


def digits(text: str, n: int) -> str:
    return str(int(hashlib.sha256(text.encode()).hexdigest(), 16))[:n]


def write(name: str, data: object) -> None:
    (OUT / name).write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def h_index(counts: list[int]) -> int:
    ordered = sorted(counts, reverse=True)
    return sum(1 for rank, c in enumerate(ordered, 1) if c >= rank)


def serpapi(page: ProfilePage) -> None:
    p, m = page.profile, page.metrics
    since = f"since_{m.since_year}"

    def article(pub: Publication) -> dict[str, Any]:
        link = (
            "https://scholar.google.com/citations?view_op=view_citation&hl=en&user="
            f"{SCHOLAR_ID}&citation_for_view={pub.author_pub_id}"
        )
        if pub.citations:
            cited_by = {
                "value": pub.citations,
                "link": f"https://scholar.google.com/scholar?oi=bibs&hl=en&cites={pub.cites_id}",
                "serpapi_link": f"https://serpapi.com/search.json?cites={pub.cites_id}&engine=google_scholar&hl=en",
                "cites_id": pub.cites_id,
            }
        else:
            cited_by = {"value": None}
        return {
            "title": pub.title,
            "link": link,
            "citation_id": pub.author_pub_id,
            "authors": pub.authors,
            "publication": pub.venue or "",
            "cited_by": cited_by,
            "year": str(pub.year) if pub.year else "",
        }

    def metadata(start: int) -> dict[str, object]:
        sid = digits(f"serp{start}", 24)
        return {
            "search_metadata": {
                "id": f"6{sid[:23]}",
                "status": "Success",
                "json_endpoint": f"https://serpapi.com/searches/{sid[:16]}/6{sid[:23]}.json",
                "created_at": "2026-11-20 06:12:41 UTC",
                "processed_at": "2026-11-20 06:12:41 UTC",
                "google_scholar_author_url": (
                    f"https://scholar.google.com/citations?user={SCHOLAR_ID}&hl=en&cstart={start}&pagesize=100"
                ),
                "raw_html_file": f"https://serpapi.com/searches/{sid[:16]}/6{sid[:23]}.html",
                "total_time_taken": 1.87,
            },
            "search_parameters": {
                "engine": "google_scholar_author",
                "author_id": SCHOLAR_ID,
                "hl": "en",
                "start": start,
                "num": "100",
            },
        }

    first = metadata(0) | {
        "author": {
            "name": p.name,
            "affiliations": p.affiliation,
            "email": f"Verified email at {p.email_domain}",
            "website": p.homepage,
            "interests": [
                {
                    "title": t,
                    "link": (
                        "https://scholar.google.com/citations?view_op=search_authors&hl=en"
                        f"&mauthors=label:{t.lower().replace(' ', '_')}"
                    ),
                    "serpapi_link": (
                        "https://serpapi.com/search.json?engine=google_scholar_profiles&hl=en"
                        f"&mauthors=label%3A{t.lower().replace(' ', '_')}"
                    ),
                }
                for t in p.interests
            ],
            "thumbnail": f"https://scholar.googleusercontent.com/citations?view_op=view_photo&user={SCHOLAR_ID}&citpid=4",
        },
        "articles": [article(pub) for pub in page.publications[:100]],
        "cited_by": {
            "table": [
                {"citations": {"all": m.citations, since: m.citations_since}},
                {"h_index": {"all": m.h_index, since: m.h_index_since}},
                {"i10_index": {"all": m.i10_index, since: m.i10_index_since}},
            ],
            "graph": [{"year": y, "citations": c} for y, c in page.cites_per_year],
        },
        "public_access": {
            "link": f"https://scholar.google.com/citations?view_op=list_mandates&hl=en&user={SCHOLAR_ID}",
            "available": 14,
            "not_available": 2,
        },
        # SerpApi's own example of this link carries the offset as Scholar's
        # ``cstart`` (author_id=...&cstart=20&engine=google_scholar_author&hl=en).
        "serpapi_pagination": {
            "next": f"https://serpapi.com/search.json?author_id={SCHOLAR_ID}&cstart=100&engine=google_scholar_author&hl=en&num=100",
        },
    }
    second = metadata(100) | {
        "articles": [article(pub) for pub in page.publications[100:]],
        "serpapi_pagination": {},
    }
    write("serpapi_author_start0.json", first)
    # The same page with the offset named as the request parameter, ``start``.
    write(
        "serpapi_author_start0_next_start.json",
        first
        | {
            "serpapi_pagination": {
                "next": f"https://serpapi.com/search.json?author_id={SCHOLAR_ID}&engine=google_scholar_author&hl=en&num=100&start=100",
            },
        },
    )
    write("serpapi_author_start100.json", second)
    write(
        "serpapi_invalid_key.json",
        {"error": "Invalid API key. Your API key should be here: https://serpapi.com/manage-api-key"},
    )
    write(
        "serpapi_no_results.json",
        metadata(0)
        | {
            "search_metadata": metadata(0)["search_metadata"] | {"status": "Error"},  # type: ignore[operator]
            "error": "Google hasn't returned any results for this query.",
        },
    )


def indexed(page: ProfilePage) -> list[Publication]:
    """The publications a bibliographic database finds: those with a venue and a year."""
    return [
        pub for pub in page.publications if pub.venue and pub.year and "Publication period" not in pub.title
    ]


def openalex(page: ProfilePage) -> None:
    works: list[dict[str, Any]] = []
    for pub in indexed(page):
        wid = "W" + digits(pub.author_pub_id, 10)
        venue = pub.venue.rsplit(",", 1)[0].split(" (")[0].split(" 2")[0].strip() if pub.venue else None
        source: dict[str, Any] | None = None
        if venue and "Ipea" not in (pub.venue or ""):
            source = {
                "id": "https://openalex.org/S" + digits(venue, 10),
                "display_name": venue,
                "issn_l": None,
                "issn": None,
                "is_oa": False,
                "is_in_doaj": False,
                "is_indexed_in_scopus": True,
                "is_core": True,
                "host_organization": None,
                "host_organization_name": None,
                "host_organization_lineage": [],
                "host_organization_lineage_names": [],
                "type": "journal",
            }
        names = [n.strip() for n in (pub.authors or "").split(",") if n.strip() and n.strip() != "..."]
        works.append(
            {
                "id": f"https://openalex.org/{wid}",
                "display_name": pub.title,
                "publication_year": pub.year,
                "cited_by_count": (pub.citations or 0) * 4 // 5,
                "primary_location": {
                    "is_oa": False,
                    "landing_page_url": f"https://doi.org/10.{digits(wid, 4)}/{wid.lower()}",
                    "pdf_url": None,
                    "source": source,
                    "license": None,
                    "license_id": None,
                    "version": "publishedVersion",
                    "is_accepted": True,
                    "is_published": True,
                },
                "authorships": [
                    {
                        "author_position": "first"
                        if i == 0
                        else ("last" if i == len(names) - 1 else "middle"),
                        "author": {
                            "id": "https://openalex.org/A"
                            + ("5041365215" if "Santos" in n else digits(n, 10)),
                            "display_name": n,
                            "orcid": None,
                        },
                        "institutions": [],
                        "countries": [],
                        "is_corresponding": i == 0,
                        "raw_author_name": n,
                        "raw_affiliation_strings": [],
                        "affiliations": [],
                    }
                    for i, n in enumerate(names)
                ],
            }
        )
    works.sort(key=lambda w: -w["cited_by_count"])
    counts = [w["cited_by_count"] for w in works]
    per_year = {y: c * 4 // 5 for y, c in page.cites_per_year if y >= 2016}
    author = {
        "id": f"https://openalex.org/{OPENALEX_ID}",
        "orcid": f"https://orcid.org/{ORCID}",
        "display_name": "Carlos Denner dos Santos",
        "display_name_alternatives": [
            "Carlos Denner dos Santos Júnior",
            "C. D. Santos",
            "Carlos Denner Santos",
        ],
        "works_count": len(works),
        "cited_by_count": sum(counts),
        "summary_stats": {
            "2yr_mean_citedness": 2.371,
            "h_index": h_index(counts),
            "i10_index": sum(1 for c in counts if c >= 10),
        },
        "ids": {"openalex": f"https://openalex.org/{OPENALEX_ID}", "orcid": f"https://orcid.org/{ORCID}"},
        "affiliations": [
            {
                "institution": dict(BRASILIA),
                "years": [2023, 2022, 2021, 2020, 2019, 2018],
            }
        ],
        "last_known_institutions": [dict(BRASILIA)],
        "topics": [
            {
                "id": "https://openalex.org/T11044",
                "display_name": "Open Source Software Innovations",
                "count": 21,
                "subfield": {
                    "id": "https://openalex.org/subfields/1710",
                    "display_name": "Information Systems",
                },
                "field": {"id": "https://openalex.org/fields/17", "display_name": "Computer Science"},
                "domain": {"id": "https://openalex.org/domains/3", "display_name": "Physical Sciences"},
            }
        ],
        "counts_by_year": [
            {"year": y, "works_count": sum(1 for pub in indexed(page) if pub.year == y), "cited_by_count": c}
            for y, c in sorted(per_year.items(), reverse=True)
        ],
        "works_api_url": f"https://api.openalex.org/works?filter=author.id:{OPENALEX_ID}",
        "updated_date": "2026-11-18T05:32:10.552930",
        "created_date": "2023-07-21",
    }
    write("openalex_author.json", author)
    cursor1 = "IlsxNTcsICdodHRwczovL29wZW5hbGV4Lm9yZy9XMjk1OTgxMDM5NCddIg=="
    cursor2 = "IlszLCAnaHR0cHM6Ly9vcGVuYWxleC5vcmcvVzQzODc1NDI3ODQnXSI="
    meta = {
        "count": len(works),
        "db_response_time_ms": 41,
        "page": None,
        "per_page": 100,
        "groups_count": None,
    }
    write(
        "openalex_works_page1.json",
        {"meta": meta | {"next_cursor": cursor1}, "results": works[:100], "group_by": []},
    )
    write(
        "openalex_works_page2.json",
        {"meta": meta | {"next_cursor": cursor2}, "results": works[100:], "group_by": []},
    )
    write("openalex_works_page3.json", {"meta": meta | {"next_cursor": None}, "results": [], "group_by": []})
    write(
        "openalex_not_found.json",
        {"error": "404 Not Found", "message": "The author A9999999999 does not exist."},
    )


def semantic_scholar(page: ProfilePage) -> None:
    papers: list[dict[str, Any]] = []
    for pub in indexed(page):
        pid = hashlib.sha1(pub.author_pub_id.encode()).hexdigest()
        names = [n.strip() for n in (pub.authors or "").split(",") if n.strip() and n.strip() != "..."]
        venue = pub.venue.rsplit(",", 1)[0].split(" (")[0].split(" 2")[0].strip() if pub.venue else ""
        papers.append(
            {
                "paperId": pid,
                "externalIds": {"DOI": f"10.{digits(pid, 4)}/{pid[:8]}", "CorpusId": int(digits(pid, 9))},
                "title": pub.title,
                "year": pub.year,
                "venue": venue if "Ipea" not in (pub.venue or "") else "",
                "citationCount": (pub.citations or 0) * 3 // 4,
                "authors": [{"authorId": S2_ID if "Santos" in n else digits(n, 9), "name": n} for n in names],
            }
        )
    counts = [int(p["citationCount"]) for p in papers]
    write(
        "s2_author.json",
        {
            "authorId": S2_ID,
            "name": "C. D. Santos",
            "affiliations": ["Universidade de Brasília", "Videns AI"],
            "homepage": "https://www.linkedin.com/in/carlosdenner/",
            "paperCount": len(papers),
            "citationCount": sum(counts),
            "hIndex": h_index(counts),
        },
    )
    write("s2_papers_offset0.json", {"offset": 0, "next": 100, "data": papers[:100]})
    write("s2_papers_offset100.json", {"offset": 100, "data": papers[100:]})
    write("s2_not_found.json", {"error": "Author with id 999999999 not found"})
    write(
        "s2_rate_limited.json",
        {
            "message": (
                "Too Many Requests. Please wait and try again or apply for a key for higher rate limits. "
                "https://www.semanticscholar.org/product/api#api-key-form"
            ),
            "code": "429",
        },
    )
    write("s2_forbidden.json", {"message": "Forbidden"})


# Titles as OpenAlex gives them where a database's record of a paper differs from
# the author's Scholar profile: an English title for a paper listed in Portuguese.
TRANSLATED = {
    "Inovação no setor público: teoria, tendências e casos no Brasil": (
        "Innovation in the public sector: theory, trends and cases in Brazil"
    ),
    "A influência das variáveis ambientais e organizacionais no desempenho de startups": (
        "The influence of environmental and organizational variables on the performance of startups"
    ),
    "Gestão de riscos no setor público: revisão bibliométrica e proposta de agenda de pesquisa": (
        "Risk management in the public sector: a bibliometric review and a research agenda"
    ),
}


def _truncate(title: str, length: int = 48) -> str:
    return title if len(title) <= length else title[:length].rsplit(" ", 1)[0] + "…"


def openalex_variants() -> None:
    """The OpenAlex works of this author with the differences real records show.

    Each tenth of the works gets one kind of difference: Crossref's upper case,
    HTML markup and entities, a dropped subtitle, a year later (the journal
    version of a preprint), a title cut short, other punctuation; three are in
    English where the profile lists them in Portuguese; two are duplicates (a
    preprint beside the article); three are works the profile does not list.
    """
    works = (
        load_json("openalex_works_page1.json")["results"] + load_json("openalex_works_page2.json")["results"]
    )
    out = []
    for index, work in enumerate(works):
        work = json.loads(json.dumps(work))
        title = work["display_name"]
        kind = index % 10
        if title in TRANSLATED:
            title = TRANSLATED[title]
        elif kind == 1:
            title = title.upper()
        elif kind == 2:
            first, _, rest = title.partition(" ")
            title = f"<i>{first}</i> {rest}".replace("'", "&#39;")
        elif kind == 3 and ": " in title:
            title = title.split(": ", 1)[0]
        elif kind == 4:
            work["publication_year"] += 1
        elif kind == 5:
            title = _truncate(title)
        elif kind == 6:
            title = title.replace(": ", " - ").replace('"', "").replace(" ", "  ", 1)
        work["display_name"] = title
        out.append(work)
    for index in (0, 11):
        duplicate = json.loads(json.dumps(works[index]))
        duplicate["id"] = "https://openalex.org/W" + digits(duplicate["id"] + "preprint", 10)
        duplicate["publication_year"] -= 1
        duplicate["cited_by_count"] //= 10
        duplicate["primary_location"]["source"] = None
        out.append(duplicate)
    for title, year in (
        ("Morphological characterisation of Vitis vinifera cultivars in the Douro region", 1999),
        ("A survey of open data portals in Latin American municipalities", 2022),
        ("Spatial epidemiology of dengue outbreaks in the Federal District", 2016),
    ):
        stranger = json.loads(json.dumps(works[-1]))
        stranger["id"] = "https://openalex.org/W" + digits(title, 10)
        stranger["display_name"] = title
        stranger["publication_year"] = year
        stranger["cited_by_count"] = 1
        out.append(stranger)
    meta = {"count": len(out), "db_response_time_ms": 38, "page": None, "per_page": 200, "groups_count": None}
    write(
        "openalex_works_variants.json", {"meta": meta | {"next_cursor": None}, "results": out, "group_by": []}
    )


def load_json(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((OUT / name).read_text(encoding="utf-8"))
    return data


def main() -> None:
    page = parse_profile(
        PAGE.read_bytes(), url=f"https://scholar.google.com/citations?user={SCHOLAR_ID}&hl=en"
    )
    serpapi(page)
    openalex(page)
    semantic_scholar(page)
    openalex_variants()


if __name__ == "__main__":
    main()
