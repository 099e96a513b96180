"""Through the block: two days (Scholar answers, then blocks) under each ``on_block`` policy.

The local Scholar (``tests/replay.py``) serves a 12-paper profile with 425
citations; a local OpenAlex (``tests/sources/standin.py``) answers in OpenAlex's
shape with the same papers, titled as OpenAlex gives them.  Each day is a real
``scholar-stats run``; then ``gs_data.json``, the badges, ``badges/pubs/`` and
the page a homepage shows (headless Chromium) are checked.
"""

from __future__ import annotations

import functools
import html
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from clitools import config_file
from replay import Captcha, GeneratedProfile, ReplayServer

from crawler.models import AuthorRecord, Metrics, Profile, Publication, format_time, parse_time, utc_now
from crawler.outputs.embed import make_options, render_html
from crawler.policy.match import MatchResult, Pair
from crawler.policy.on_block import bridge
from crawler.sources import AuthorRef

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT / "sources"))

from standin import StandIn, json_reply, load  # noqa: E402

SID = "blockAAAAAAJ"
OPENALEX_ID = "A5041365215"


@pytest.fixture
def openalex() -> Iterator[StandIn]:
    with StandIn() as server:
        yield server


def openalex_answer(stand_in: StandIn, profile: GeneratedProfile, growth: dict[int, int]) -> dict[int, str]:
    """OpenAlex's author and works for the profile's papers (counts 4/5 of Scholar's, plus
    ``growth`` by paper index; index -1 is a work the profile does not list).  Returns the work IDs."""
    template = load("openalex_works_page1.json")["results"][0]
    works, ids = [], {}
    papers = [(p.title, p.year, p.citations * 4 // 5) for p in profile.publications]
    papers.append(("Supplementary data for a study of graph sensing", 2024, 2))
    for index, (title, year, count) in enumerate(papers):
        index = -1 if index == len(profile.publications) else index
        work = json.loads(json.dumps(template))
        ids[index] = f"W{4100000000 + index + 1}"
        work["id"] = f"https://openalex.org/{ids[index]}"
        # OpenAlex escapes markup in titles and Crossref often sends them in capitals.
        work["display_name"] = html.escape(title, quote=False) if index != 1 else title.upper()
        work["publication_year"] = year
        work["cited_by_count"] = count + growth.get(index, 0)
        works.append(work)
    author = load("openalex_author.json")
    author["cited_by_count"] = sum(w["cited_by_count"] for w in works)
    counts = sorted((w["cited_by_count"] for w in works), reverse=True)
    author["summary_stats"]["h_index"] = sum(1 for rank, c in enumerate(counts, 1) if c >= rank)
    author["summary_stats"]["i10_index"] = sum(1 for c in counts if c >= 10)
    author["works_count"] = len(works)
    author["counts_by_year"] = [
        {"year": 2026, "works_count": 1, "cited_by_count": 100 + sum(growth.values())}
    ]
    page = {
        "meta": {"count": len(works), "per_page": 100, "next_cursor": None},
        "results": works,
        "group_by": [],
    }
    stand_in.on(f"/authors/{OPENALEX_ID}", json_reply(author))
    stand_in.on("/works", json_reply(page))
    return ids


def run(
    tmp: Path, replay: ReplayServer, stand_in: StandIn, policy: str, *extra: str
) -> subprocess.CompletedProcess[str]:
    config = tmp / "scholar-stats.toml"
    config.write_text(
        f'data_dir = "data"\ndelay = 0\nretries = 0\non_block = "{policy}"\n\n'
        f'[[authors]]\nid = "{SID}"\nsources = ["scholar", "openalex"]\nopenalex = "{OPENALEX_ID}"\n',
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if k != "GITHUB_STEP_SUMMARY"}
    env["SCHOLAR_STATS_OPENALEX_URL"] = stand_in.url
    return subprocess.run(
        [
            "scholar-stats",
            "run",
            "--config",
            str(config),
            "--base-url",
            replay.url,
            "--summary",
            str(tmp / "summary.json"),
            *extra,
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
    )


def read(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def badge(author: Path, name: str) -> dict[str, Any]:
    data: dict[str, Any] = read(author / "badges" / f"{name}.json")
    return data


# -- the page ---------------------------------------------------------------------------------


class Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def page_text(browser: Any, tmp: Path, pub_ids: list[str]) -> dict[str, Any]:
    """What a homepage with the snippet shows, served with the data folder from 127.0.0.1."""
    papers = "\n".join(
        f'<p id="p{i}"><span class="show_paper_citations" data="{pid}"></span></p>'
        for i, pid in enumerate(pub_ids)
    )
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(tmp)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{httpd.server_address[1]}"
        snippet = render_html(make_options(urls=[f"{url}/data/{SID}/gs_data.json"], timeout_ms=5000))
        (tmp / "index.html").write_text(
            f'<!doctype html><meta charset="utf-8"><title>home</title>\n<span id="total_cit">many</span>\n'
            f'<span id="h_index">-</span>\n{papers}\n{snippet}',
            encoding="utf-8",
        )
        context = browser.new_context()
        try:
            tab = context.new_page()
            errors: list[str] = []
            tab.on("pageerror", lambda exc: errors.append(str(exc)))
            tab.goto(f"{url}/index.html")
            tab.evaluate("window.scholarStats")
            shown: dict[str, Any] = tab.evaluate(
                """() => ({
                    total: document.getElementById('total_cit').textContent,
                    title: document.getElementById('total_cit').getAttribute('title'),
                    h: document.getElementById('h_index').textContent,
                    papers: Array.from(document.querySelectorAll('.show_paper_citations'))\
.map(e => e.textContent),
                })"""
            )
            shown["errors"] = errors
            return shown
        finally:
            context.close()
    finally:
        httpd.shutdown()
        httpd.server_close()


# -- two days under each policy ----------------------------------------------------------------


GROWTH = {0: 3, 1: 2, -1: 1}  # OpenAlex counts 6 more on the blocked day: 3 + 2 on matched papers


def first_day(
    tmp_path: Path, replay: ReplayServer, openalex: StandIn, policy: str
) -> tuple[GeneratedProfile, Path]:
    profile = replay.add_profile(SID, 12, citations=425)
    openalex_answer(openalex, profile, {})
    result = run(tmp_path, replay, openalex, policy)
    assert result.returncode == 0, result.stderr
    author = tmp_path / "data" / SID
    gs = read(author / "gs_data.json")
    assert gs["citedby"] == 425 and gs["source"] == "scholar"
    assert "stale_since" not in gs and "estimated" not in gs
    assert badge(author, "citations")["message"] == "425"
    return profile, author


def blocked_day(
    tmp_path: Path, replay: ReplayServer, openalex: StandIn, profile: GeneratedProfile, policy: str
) -> dict[int, str]:
    replay.set_scenario(SID, Captcha())
    return openalex_answer(openalex, profile, GROWTH)


def test_keep_shows_the_last_numbers_marked_stale(
    tmp_path: Path, replay: ReplayServer, openalex: StandIn, browser: Any
) -> None:
    profile, author = first_day(tmp_path, replay, openalex, "keep")
    day1 = read(author / "gs_data.json")
    pubs_day1 = sorted(p.name for p in (author / "badges" / "pubs").iterdir())
    assert len(pubs_day1) == 2 * 12  # a JSON and an SVG badge for each paper
    assert not (author / "sources").exists()  # keep fetches the fallback only on blocked days
    blocked_day(tmp_path, replay, openalex, profile, "keep")

    result = run(tmp_path, replay, openalex, "keep")

    assert result.returncode == 3, result.stderr
    assert "KEPT last good numbers" in result.stderr and "Traceback" not in result.stderr
    gs = read(author / "gs_data.json")
    state = read(author / "state.json")
    assert gs["stale_since"] == state["stale_since"]
    assert {k: v for k, v in gs.items() if k != "stale_since"} == day1  # every number, every paper kept
    assert badge(author, "citations")["message"] == "425"
    assert badge(author, "citations")["color"] == "9cf"  # not yet a week
    assert sorted(p.name for p in (author / "badges" / "pubs").iterdir()) == pubs_day1
    # OpenAlex was fetched and kept as its own series, not shown.
    (side,) = (author / "sources" / "openalex" / "snapshots").glob("*.json")
    assert (
        read(side)["metrics"]["citations"] == sum(p.citations * 4 // 5 for p in profile.publications) + 2 + 6
    )
    assert len(read(author / "matches" / "openalex.json")["matched"]) == 12
    summary = read(tmp_path / "summary.json")["authors"][0]
    assert summary["shown"] == "kept" and summary["policy"] == "keep"
    assert summary["stale_since"] == state["stale_since"] and summary["stale_days"] == 0

    shown = page_text(browser, tmp_path, [p.author_pub_id for p in profile.publications[:3]])
    assert shown["errors"] == []
    assert shown["total"] == "425"
    assert shown["title"] == (
        f"Google Scholar's numbers as of {day1['updated'][:10]} "
        f"(Google Scholar unreachable since {state['stale_since'][:10]})"
    )
    assert len(profile.publications) == 12
    assert shown["papers"] == [f"| Citations: {p.citations}" for p in profile.publications[:3]]

    # A week on: the same numbers, in the neutral colour.
    state["stale_since"] = format_time(utc_now() - timedelta(days=8))
    (author / "state.json").write_text(json.dumps(state), encoding="utf-8")
    result = run(tmp_path, replay, openalex, "keep")
    assert result.returncode == 3, result.stderr
    assert badge(author, "citations")["message"] == "425"
    assert badge(author, "citations")["color"] == "lightgrey"
    assert read(author / "badges" / "pubs" / pubs_day1[0])["color"] == "lightgrey"
    assert 'fill="#9f9f9f"' in (author / "badges" / "citations.svg").read_text(encoding="utf-8")
    assert read(tmp_path / "summary.json")["authors"][0]["stale_days"] >= 8

    # Scholar answers: the marks go, the colour comes back.
    replay.set_scenario(SID, None)
    assert run(tmp_path, replay, openalex, "keep").returncode == 0
    assert read(author / "gs_data.json") == day1
    assert badge(author, "citations")["color"] == "9cf"
    assert not (author / "state.json").exists()


def test_bridge_shows_an_estimate_labelled_everywhere(
    tmp_path: Path, replay: ReplayServer, openalex: StandIn, browser: Any
) -> None:
    profile, author = first_day(tmp_path, replay, openalex, "bridge")
    # On a day Scholar answers, the fallback is measured too: the base of later estimates.
    (base,) = (author / "sources" / "openalex" / "snapshots").glob("*.json")
    assert read(base)["fetched_at"] >= read(author / "gs_data.json")["updated"]
    blocked_day(tmp_path, replay, openalex, profile, "bridge")

    result = run(tmp_path, replay, openalex, "bridge")

    assert result.returncode == 7, result.stderr
    assert "ESTIMATED" in result.stderr
    gs = read(author / "gs_data.json")
    assert gs["citedby"] == 431 and gs["estimated"] is True
    assert gs["estimate"] == {
        "source": "openalex",
        "since": read(base)["fetched_at"],
        "papers_matched": 12,
        "papers": 12,
        "citations_growth": 6,
    }
    p0, p1, p2 = profile.publications[:3]
    assert gs["publications"][p0.author_pub_id]["num_citations"] == p0.citations + 3
    assert gs["publications"][p1.author_pub_id]["num_citations"] == p1.citations + 2
    assert gs["publications"][p2.author_pub_id]["num_citations"] == p2.citations
    assert "stale_since" in gs
    assert read(author / "gs_data_shieldsio.json")["message"] == "≈ 431"
    assert badge(author, "citations")["message"] == "≈ 431"
    assert read(author / "badges" / "pubs" / f"{p0.author_pub_id}.json")["message"] == f"≈ {p0.citations + 3}"
    assert "≈ 431" in (author / "badges" / "citations.svg").read_text(encoding="utf-8")
    # The estimate is an output only: Scholar's series holds Scholar's numbers alone.
    assert [read(p)["metrics"]["citations"] for p in sorted((author / "snapshots").glob("*.json"))] == [425]

    shown = page_text(browser, tmp_path, [p0.author_pub_id, p2.author_pub_id])
    assert shown["errors"] == []
    assert shown["total"] == "≈ 431"
    assert shown["papers"] == [f"| Citations: ≈ {p0.citations + 3}", f"| Citations: ≈ {p2.citations}"]
    assert shown["title"].startswith("Estimate: Google Scholar's numbers of ")
    assert (
        "plus the growth openalex counted since" in shown["title"]
        and "(12 of 12 papers matched)" in shown["title"]
    )

    # Scholar answers again: its real numbers replace the estimate, compared with Scholar's.
    replay.set_scenario(SID, None)
    replay.add_profile(SID, 12, citations=440)
    result = run(tmp_path, replay, openalex, "bridge")
    assert result.returncode == 0, result.stderr
    assert "source changed" not in result.stderr
    gs = read(author / "gs_data.json")
    assert gs["citedby"] == 440 and "estimated" not in gs and "stale_since" not in gs
    assert badge(author, "citations")["message"] == "440"


def test_bridge_without_a_base_keeps_the_last_numbers(
    tmp_path: Path, replay: ReplayServer, openalex: StandIn
) -> None:
    profile, author = first_day(
        tmp_path, replay, openalex, "keep"
    )  # keep: no fallback measured beside Scholar
    blocked_day(tmp_path, replay, openalex, profile, "bridge")
    result = run(tmp_path, replay, openalex, "bridge")
    assert result.returncode == 3, result.stderr
    assert "nothing to measure growth from" in result.stderr
    gs = read(author / "gs_data.json")
    assert gs["citedby"] == 425 and "estimated" not in gs and "stale_since" in gs


def test_replace_shows_the_fallback_under_scholar_keys(
    tmp_path: Path, replay: ReplayServer, openalex: StandIn, browser: Any
) -> None:
    profile, author = first_day(tmp_path, replay, openalex, "replace")
    ids = blocked_day(tmp_path, replay, openalex, profile, "replace")

    result = run(tmp_path, replay, openalex, "replace")

    assert result.returncode == 7, result.stderr
    gs = read(author / "gs_data.json")
    openalex_total = sum(p.citations * 4 // 5 for p in profile.publications) + 2 + 6
    assert gs["source"] == "openalex" and gs["citedby"] == openalex_total
    p0 = profile.publications[0]
    # Matched works under the Scholar keys, so .show_paper_citations keeps working.
    assert gs["publications"][p0.author_pub_id]["num_citations"] == p0.citations * 4 // 5 + 3
    assert len(profile.publications) == 12
    assert {p.author_pub_id for p in profile.publications} <= set(gs["publications"])
    assert ids[-1] in gs["publications"]  # the unmatched work keeps its own key
    shield = read(author / "gs_data_shieldsio.json")
    assert shield["label"] == "citations (OpenAlex)" and shield["message"] == str(openalex_total)
    assert "namedLogo" not in shield and "namedLogo" not in badge(author, "h-index")
    pubs = {p.stem for p in (author / "badges" / "pubs").glob("*.json")}
    # Every work has a count: a badge for each of the 12 papers, and one for the unmatched work.
    assert pubs == {p.author_pub_id for p in profile.publications} | {ids[-1]}
    assert len(pubs) == 13
    assert read(author / "badges" / "pubs" / f"{p0.author_pub_id}.json")["label"] == "citations (OpenAlex)"

    shown = page_text(browser, tmp_path, [p0.author_pub_id])
    assert shown["total"] == str(openalex_total)
    assert shown["papers"] == [f"| Citations: {p0.citations * 4 // 5 + 3}"]
    assert shown["title"].startswith("Counted by openalex, not by Google Scholar")


def test_first_run_blocked_with_nothing_to_keep_shows_the_fallback(
    tmp_path: Path, replay: ReplayServer, openalex: StandIn
) -> None:
    profile = replay.add_profile(SID, 12, citations=425)
    replay.set_scenario(SID, Captcha())
    openalex_answer(openalex, profile, {})
    result = run(tmp_path, replay, openalex, "keep")
    assert result.returncode == 7, result.stderr
    assert "no numbers to keep yet" in result.stderr
    assert read(tmp_path / "data" / SID / "gs_data.json")["source"] == "openalex"


def test_blocked_without_fallback_or_data_still_fails(tmp_path: Path, replay: ReplayServer) -> None:
    replay.add_profile(SID, 12, citations=425)
    replay.set_scenario(SID, Captcha())
    env = {k: v for k, v in os.environ.items() if k != "GITHUB_STEP_SUMMARY"}
    result = subprocess.run(
        [
            "scholar-stats",
            "run",
            "--author",
            SID,
            "--data-dir",
            str(tmp_path / "data"),
            "--base-url",
            replay.url,
            "--delay",
            "0",
            "--retries",
            "0",
            "--on-block",
            "bridge",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 3, result.stderr
    assert not (tmp_path / "data" / SID / "gs_data.json").exists()


def test_stale_since_is_when_scholar_first_failed(
    tmp_path: Path, replay: ReplayServer, openalex: StandIn
) -> None:
    profile, author = first_day(tmp_path, replay, openalex, "keep")
    blocked_day(tmp_path, replay, openalex, profile, "keep")
    assert run(tmp_path, replay, openalex, "keep").returncode == 3
    first = read(author / "gs_data.json")["stale_since"]
    before = (author / "gs_data.json").stat().st_mtime_ns
    assert run(tmp_path, replay, openalex, "keep").returncode == 3
    assert read(author / "gs_data.json")["stale_since"] == first
    assert (author / "gs_data.json").stat().st_mtime_ns == before  # a second blocked day rewrites nothing
    assert parse_time(first) <= utc_now()


# -- configuration ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            'on_block = "skip"\n[[authors]]\nid = "blockAAAAAAJ"\n',
            "scholar-stats.toml:1: on_block: must be one of keep, bridge, replace, not 'skip'",
        ),
        (
            '[[authors]]\nid = "blockAAAAAAJ"\non_block = 1\n',
            "scholar-stats.toml:3: authors[0].on_block: must be one of keep, bridge, replace, not 1",
        ),
        (
            'stale_after_days = -1\n[[authors]]\nid = "blockAAAAAAJ"\n',
            "scholar-stats.toml:1: stale_after_days: must be a number of days from 0 to 3650, not -1",
        ),
        (
            '[[authors]]\nid = "blockAAAAAAJ"\nstale_after_days = "7"\n',
            "scholar-stats.toml:3: authors[0].stale_after_days: "
            "must be a number of days from 0 to 3650, not '7'",
        ),
    ],
)
def test_a_bad_policy_is_named_with_its_line(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "scholar-stats.toml").write_text(text, encoding="utf-8")
    result = subprocess.run(
        ["scholar-stats", "run", "--config", str(tmp_path / "scholar-stats.toml")],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert result.stderr.strip().endswith(message), result.stderr
    assert "Traceback" not in result.stderr


def test_policy_per_author_over_the_file_and_the_option_over_both(tmp_path: Path) -> None:
    from crawler.config import load_config

    path = config_file(
        tmp_path,
        'on_block = "bridge"\nstale_after_days = 3\n[[authors]]\nid = "blockAAAAAAJ"\n'
        '[[authors]]\nid = "otherAAAAAAJ"\non_block = "replace"\nstale_after_days = 1.5\n',
    )
    config = load_config(path)
    first, second = config.authors
    assert (config.policy_for(first), config.stale_after_for(first)) == ("bridge", 3.0)
    assert (config.policy_for(second), config.stale_after_for(second)) == ("replace", 1.5)
    overridden = load_config(path, on_block="keep", stale_after_days=10)
    assert {overridden.policy_for(a) for a in overridden.authors} == {"keep"}
    assert {overridden.stale_after_for(a) for a in overridden.authors} == {10.0}
    assert load_config(None, authors=["blockAAAAAAJ"]).policy_for(AuthorRef("blockAAAAAAJ")) == "keep"


# -- bridge, as a pure function ----------------------------------------------------------------


def _record(source: str, counts: dict[str, int], total: int, h: int | None = None) -> AuthorRecord:
    ordered = sorted(counts.values(), reverse=True)
    return AuthorRecord(
        Profile(SID, "A. Author"),
        Metrics(
            citations=total,
            h_index=sum(1 for rank, c in enumerate(ordered, 1) if c >= rank) if h is None else h,
            i10_index=sum(1 for c in ordered if c >= 10),
        ),
        publications=tuple(Publication(key, f"Paper {key}", citations=c) for key, c in counts.items()),
        source=source,
        fetched_at=parse_time("2026-03-01T00:00:00Z"),
    )


def _pairs(*keys: str) -> MatchResult:
    return MatchResult("openalex", tuple(Pair(k, f"W{k}", 1.0, "title") for k in keys), (), ())


def _bridged(scholar: dict[str, int], base: dict[str, int], today: dict[str, int]) -> AuthorRecord:
    record, _ = bridge(
        _record("scholar", scholar, sum(scholar.values())),
        _record("openalex", {f"W{k}": c for k, c in base.items()}, sum(base.values())),
        _record("openalex", {f"W{k}": c for k, c in today.items()}, sum(today.values())),
        _pairs(*scholar),
    )
    return record


def _counts(record: AuthorRecord) -> dict[str, int | None]:
    return {p.author_pub_id: p.citations for p in record.publications}


def test_bridge_never_lowers_a_paper_or_the_total() -> None:
    # OpenAlex counts fewer today (a merged duplicate): Scholar's numbers stay as they were.
    record = _bridged({"a": 12, "b": 9, "c": 4}, {"a": 10, "b": 8, "c": 3}, {"a": 2, "b": 8, "c": 3})
    assert _counts(record) == {"a": 12, "b": 9, "c": 4}
    assert record.metrics.citations == 25
    # One paper loses 5, another gains 7, the author's total 2: the loser stays, the
    # gainer grows by no more than the author did.
    record = _bridged({"a": 12, "b": 9, "c": 4}, {"a": 10, "b": 8, "c": 3}, {"a": 5, "b": 8, "c": 10})
    assert _counts(record) == {"a": 12, "b": 9, "c": 6}
    assert record.metrics.citations == 27


def test_a_papers_growth_is_bounded_by_the_authors_growth() -> None:
    # The example: a fallback work counted 10^18 times, the author's total grew by 100.
    scholar = _record("scholar", {"a": 50, "b": 30}, 80)
    base = _record("openalex", {"Wa": 40, "Wb": 25}, 100)
    today = _record("openalex", {"Wa": 10**18, "Wb": 25}, 200)
    record, estimate = bridge(scholar, base, today, _pairs("a", "b"))
    assert estimate.citations_growth == 100
    assert _counts(record) == {"a": 150, "b": 30}
    assert record.metrics.citations == 180
    # Several papers share what the total grew, never more between them.
    today = _record("openalex", {"Wa": 140, "Wb": 125}, 130)
    record, _ = bridge(scholar, base, today, _pairs("a", "b"))
    assert _counts(record) == {"a": 80, "b": 30}
    assert record.metrics.citations == 110 == sum(c or 0 for c in _counts(record).values())


def test_the_bridged_h_index_and_i10_index_are_recomputed_from_the_bridged_papers() -> None:
    # Scholar: h-index 2 (papers 3, 2, 2), no i10 paper.  The fallback's papers grow past both.
    record = _bridged({"a": 3, "b": 2, "c": 2}, {"a": 3, "b": 2, "c": 2}, {"a": 12, "b": 3, "c": 3})
    assert _counts(record) == {"a": 12, "b": 3, "c": 3}
    assert (record.metrics.h_index, record.metrics.i10_index) == (3, 1)
    # Never below Scholar's own.
    unchanged = _bridged({"a": 3, "b": 2, "c": 2}, {"a": 3, "b": 2, "c": 2}, {"a": 3, "b": 2, "c": 2})
    assert (unchanged.metrics.h_index, unchanged.metrics.i10_index) == (2, 0)


def test_a_fallback_work_counted_10_to_the_18_never_reaches_a_badge(
    tmp_path: Path, replay: ReplayServer, openalex: StandIn
) -> None:
    profile, author = first_day(tmp_path, replay, openalex, "bridge")
    replay.set_scenario(SID, Captcha())
    openalex_answer(openalex, profile, {0: 10**18})
    result = run(tmp_path, replay, openalex, "bridge")
    assert "Traceback" not in result.stderr
    assert result.returncode == 3 and "impossible numbers" in result.stderr, result.stderr
    gs = read(author / "gs_data.json")
    counts = [p["num_citations"] for p in gs["publications"].values()]
    assert len(counts) == 12 and max(counts) < 10**6 and gs["citedby"] == 425
    shown = [read(p)["message"] for p in sorted((author / "badges" / "pubs").glob("*.json"))]
    assert len(shown) == 12 and not any("1000000000000000000" in m for m in shown)


# -- the decision itself: what a blocked day shows, from what is there --------------------------

DECISIONS = [
    # policy, kept, fallback, matched -> show, note
    ("keep", True, None, False, "kept", None),
    ("keep", True, "openalex", True, "kept", None),
    ("keep", False, None, False, "nothing", None),
    ("keep", False, "openalex", False, "fallback", "no numbers to keep yet: showing OpenAlex's own"),
    ("replace", True, "openalex", True, "fallback", None),
    ("replace", False, "openalex", False, "fallback", None),
    ("replace", True, None, False, "kept", None),
    ("replace", False, None, False, "nothing", None),
    ("bridge", True, "openalex", True, "estimate", None),
    ("bridge", True, "openalex", False, "kept", None),
    ("bridge", True, None, False, "kept", None),
    ("bridge", False, "semantic-scholar", True, "fallback", "no numbers to keep yet: showing Semantic Scholar's own"),  # noqa: E501
    ("bridge", False, None, False, "nothing", None),
]  # fmt: skip


@pytest.mark.parametrize(("policy", "kept", "fallback", "matched", "show", "note"), DECISIONS)
def test_decide_what_a_blocked_day_shows(
    policy: str, kept: bool, fallback: str | None, matched: bool, show: str, note: str | None
) -> None:
    from crawler.policy.on_block import BlockedDay, Show, decide

    assert decide(policy, kept=kept, fallback=fallback, matched=matched) == BlockedDay(Show(show), note)


def test_every_policy_and_situation_is_in_the_table() -> None:
    from crawler.policy.on_block import POLICIES

    covered = {(p, k, f is not None) for p, k, f, _m, _s, _n in DECISIONS}
    assert covered == {(p, k, f) for p in POLICIES for k in (True, False) for f in (True, False)}


def test_an_estimate_without_a_base_keeps_the_last_numbers_and_says_why() -> None:
    from crawler.policy.on_block import BlockedDay, Show, decide

    decision = decide("bridge", kept=True, fallback="openalex", matched=True).without_base("openalex")
    assert decision == BlockedDay(
        Show.KEPT,
        "no OpenAlex snapshot from a day Google Scholar answered: "
        "nothing to measure growth from, so the last numbers are kept",
    )
    kept = BlockedDay(Show.KEPT)
    assert kept.without_base("openalex") is kept


def test_an_unknown_policy_is_refused() -> None:
    from crawler.policy.on_block import decide

    with pytest.raises(ValueError):
        decide("ignore", kept=True, fallback=None, matched=False)


def test_the_policy_words_a_help_lists_are_every_policy_in_order() -> None:
    """``crawler.policy.POLICIES`` is what ``run --help`` lists without loading this module."""
    from crawler.policy import POLICIES
    from crawler.policy.on_block import Policy

    assert tuple(Policy) == POLICIES
