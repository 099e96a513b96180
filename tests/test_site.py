"""`scholar-stats site`: the numbers on the pages are the snapshots' numbers, every string from the
data is escaped, nothing refers to another host, and the output folder is handled with care."""

from __future__ import annotations

import csv
import io
import json
import os
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from selectolax.lexbor import LexborHTMLParser, LexborNode

from crawler.cli import main
from crawler.history.dashboard import build_site
from crawler.history.dashboard.build import MARKER
from crawler.history.dashboard.index_page import _yearly, daily, group_totals
from crawler.history.dashboard.timeline import load_author
from crawler.models import AuthorRecord, Metrics, Profile, Publication
from crawler.storage.stale import mark_stale
from crawler.storage.store import AuthorStore, snapshot_refs

A = "aaaaaaaaaaaA"
B = "bbbbbbbbbbbB"
START = datetime(2025, 1, 1, 6, 0, tzinfo=UTC)
AS_OF = START + timedelta(days=500)
HOSTILE = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">&amp;"\'</title>'


Pub = tuple[str, str, int | None]
"""A publication: its ID, title and citations."""


def record(
    scholar_id: str,
    when: datetime,
    pubs: list[Pub],
    *,
    name: str = "Ada Lovelace",
    source: str = "scholar",
    h: int = 3,
    i10: int = 1,
    years: tuple[tuple[int, int], ...] = ((2024, 10), (2025, 20)),
) -> AuthorRecord:
    total = sum(c or 0 for *_, c in pubs)
    return AuthorRecord(
        profile=Profile(scholar_id, name),
        metrics=Metrics(total, total // 2, h, h - 1, i10, i10, 2020),
        cites_per_year=years,
        publications=tuple(
            Publication(f"{scholar_id}:{pid}", title, year=2020, citations=c) for pid, title, c in pubs
        ),
        source=source,
        fetched_at=when,
    )


def page(path: Path) -> LexborHTMLParser:
    return LexborHTMLParser(path.read_text(encoding="utf-8"))


def one(node: LexborHTMLParser | LexborNode, selector: str) -> LexborNode:
    """The first node ``selector`` finds, which must be there."""
    found = node.css_first(selector)
    assert found is not None, selector
    return found


def number(text: str) -> int | None:
    text = text.strip().replace(",", "").replace("−", "-").replace("+", "")
    return None if text in ("—", "") else int(text)


def write_lab(
    data: Path, *, every: int = 8, titles: tuple[str, str] = ("Engines", "Notes"), also: tuple[Pub, ...] = ()
) -> Path:
    """Two authors: A with a source switch, a publication that appears and one that vanishes; B short.

    A has a snapshot ``every`` days, with ``titles`` for its first two publications and ``also`` in each.
    """
    store = AuthorStore(data, A)
    for day in range(0, 481, every):
        pubs = [("p1", titles[0], 10 + day), ("p2", titles[1], 5 + day // 10), *also]
        if day >= 200:
            pubs.append(("p3", "Later work", day - 200))
        if day >= 400:
            pubs = pubs[1:]
        store.write_snapshot(
            record(
                A,
                START + timedelta(days=day),
                pubs,
                source="openalex" if 240 <= day < 280 else "scholar",
                h=3 + day // 100,
            )
        )
    store = AuthorStore(data, B)
    for day in range(300, 480, 30):
        store.write_snapshot(record(B, START + timedelta(days=day), [("q", "Q", day)], name="Bob"))
    return data


@pytest.fixture
def lab(tmp_path: Path) -> Path:
    return write_lab(tmp_path / "data")


def test_numbers_on_the_pages_are_the_snapshots(lab: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    result = build_site(lab, out, title="Lab", as_of=AS_OF)
    assert result.authors == [A, B]
    records = {a: [AuthorStore(lab, a).read_snapshot(r.path) for r in snapshot_refs(lab, a)] for a in (A, B)}
    newest = {a: rs[-1] for a, rs in records.items()}

    def at(a: str, when: datetime) -> AuthorRecord:
        return [r for r in records[a] if r.fetched_at is not None and r.fetched_at <= when][-1]

    index = page(out / "index.html")
    for a in (A, B):
        card = index.css_first(f'li.card[data-scholar-id="{a}"]')
        assert card is not None
        assert number(one(card, '[data-field="citations"]').text()) == newest[a].metrics.citations
        assert number(one(card, '[data-field="h_index"]').text()) == newest[a].metrics.h_index
        assert int(card.attributes["data-citations"] or "") == newest[a].metrics.citations
    # A's 30-day change: same source both ends; 365 days back the source was the same too.  Both
    # are counted back from A's newest snapshot (day 480), not from the build's time (day 500).
    a_page = page(out / A / "index.html")
    rows = {
        one(row, "th").text(): [c.text() for c in row.css("td")]
        for row in a_page.css("table.metrics tbody tr")
    }
    new = newest[A].metrics
    a_now = newest[A].fetched_at
    assert a_now is not None and a_now < AS_OF
    then30, then365 = at(A, a_now - timedelta(days=30)).metrics, at(A, a_now - timedelta(days=365)).metrics
    assert number(rows["Citations"][0]) == new.citations
    assert number(rows["Citations"][1]) == new.citations_since
    assert number(rows["Citations"][2]) == new.citations - then30.citations  # type: ignore[operator]
    assert number(rows["Citations"][3]) == new.citations - then365.citations  # type: ignore[operator]
    assert number(rows["h-index"][0]) == new.h_index
    assert number(rows["h-index"][3]) == new.h_index - then365.h_index  # type: ignore[operator]
    # B's history is shorter than 365 days: no change can be said.
    b_rows = [c.text() for c in one(page(out / B / "index.html"), "table.metrics tbody tr").css("td")]
    assert b_rows[3].strip() == "—"

    # The publication table: every publication ever seen, newest counts, first seen, vanished.
    table = {row.attributes["data-pub-id"]: row for row in a_page.css("#pubs tbody tr")}
    assert set(table) == {f"{A}:p1", f"{A}:p2", f"{A}:p3"}
    newest_pubs = {p.author_pub_id: p for p in newest[A].publications}
    old30 = {p.author_pub_id: p.citations for p in at(A, a_now - timedelta(days=30)).publications}
    for pub_id, row in table.items():
        cells = row.css("td")
        if pub_id in newest_pubs:
            assert number(cells[2].text()) == newest_pubs[pub_id].citations
            assert number(cells[3].text()) == newest_pubs[pub_id].citations - old30[pub_id]  # type: ignore[operator]
            assert "vanished" not in (row.attributes.get("class") or "")
    first_p3 = next(r for r in records[A] if any(p.author_pub_id == f"{A}:p3" for p in r.publications))
    assert table[f"{A}:p3"].css("td")[6].text() == first_p3.fetched_at.strftime("%Y-%m-%d")  # type: ignore[union-attr]
    gone = table[f"{A}:p1"]
    assert "vanished" in (gone.attributes.get("class") or "")
    first_without = next(
        r for r in records[A] if not any(p.author_pub_id == f"{A}:p1" for p in r.publications)
    )
    assert f"vanished {first_without.fetched_at:%Y-%m-%d}" in gone.text()
    last_with = [r for r in records[A] if any(p.author_pub_id == f"{A}:p1" for p in r.publications)][-1]
    assert number(gone.css("td")[2].text()) == next(
        p.citations for p in last_with.publications if p.author_pub_id == f"{A}:p1"
    )

    # The histogram and the monthly table.
    years = [
        (int(r.css("td")[0].text()), number(r.css("td")[1].text())) for r in a_page.css("#years tbody tr")
    ]
    assert years == list(newest[A].cites_per_year)
    monthly = a_page.css("#monthly tbody tr")
    assert len(monthly) == len({r.fetched_at.strftime("%Y-%m") for r in records[A]})  # type: ignore[union-attr]

    # Source switches are named on the page and marked on the time axis.
    text = a_page.body.text() if a_page.body else ""
    assert "source changed from Google Scholar to OpenAlex" in text
    assert len(a_page.css(".wide svg.chart line.switch")) == 4  # two switches, two charts
    assert len(a_page.css(".narrow svg.chart line.switch")) == 4  # and the phone's copies


def test_group_totals_add_each_authors_newest_count(lab: Path, tmp_path: Path) -> None:
    build_site(lab, tmp_path / "site", as_of=AS_OF)
    block = json.loads(one(page(tmp_path / "site" / "index.html"), "script#group").text())
    times, values, t, v = [], [], 0, 0
    for dt, dv in zip(block["t"], block["v"]["total"], strict=True):
        t, v = t + dt, v + dv
        times.append(t)
        values.append(v)
    records = {a: [AuthorStore(lab, a).read_snapshot(r.path) for r in snapshot_refs(lab, a)] for a in (A, B)}
    for when, total in zip(times, values, strict=True):
        expected = 0
        for rs in records.values():
            seen = [r for r in rs if r.fetched_at is not None and r.fetched_at.timestamp() <= when]
            expected += seen[-1].metrics.citations if seen else 0  # type: ignore[operator]
        assert total == expected
    assert group_totals([[(1.0, 5), (3.0, None), (4.0, 7)], [(2.0, 10)]]) == [(1.0, 5), (2.0, 15), (4.0, 17)]


def test_the_group_by_day_and_by_year_keeps_the_last_point_of_each() -> None:
    """The index's chart keeps a point a UTC day, its table a row a year (none for a year without a
    point); each is the last of its day or year."""

    def at(text: str) -> float:
        return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()

    points = [
        (at("2019-12-31T06:00:00"), 1),
        (at("2019-12-31T23:59:59"), 2),
        (at("2020-01-01T00:00:00"), 3),
        (at("2020-07-01T12:00:00"), 4),
        (at("2022-03-01T00:00:00"), 5),
        (at("2022-03-01T18:00:00"), 6),
    ]
    assert daily(points) == [points[1], points[2], points[3], points[5]]
    assert _yearly(daily(points)) == [("2019-12-31", 2), ("2020-07-01", 4), ("2022-03-01", 6)]
    assert daily([]) == [] and _yearly([]) == []


def test_exports_beside_the_page_match_export(lab: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    build_site(lab, out, as_of=AS_OF)
    runner = CliRunner()
    exported = runner.invoke(main, ["export", "--data-dir", str(lab), "--author", A, "--what", "metrics"])
    assert exported.exit_code == 0
    assert (out / A / "metrics.csv").read_bytes() == exported.stdout_bytes
    as_json = runner.invoke(main, ["export", "--data-dir", str(lab), "--author", A, "--format", "json"])
    assert (out / A / "metrics.json").read_bytes() == as_json.stdout_bytes
    rows = list(csv.DictReader(io.StringIO((out / A / "publications.csv").read_text(encoding="utf-8"))))
    assert {r["author_pub_id"] for r in rows} == {f"{A}:p1", f"{A}:p2", f"{A}:p3"}
    assert [r["vanished"] != "" for r in rows].count(True) == 1
    links = {a.attributes["href"] for a in page(out / A / "index.html").css("a")}
    assert {"metrics.csv", "metrics.json", "publications.csv", "publications.json", "years.csv"} <= links


def test_first_seen_and_vanished_are_pinned_without_reading_every_snapshot(tmp_path: Path) -> None:
    """A publication replaced by another on the same day keeps the count: bisection finds the day."""
    data = tmp_path / "data"
    store = AuthorStore(data, A)
    swap_day = 137
    for day in range(300):
        pubs: list[Pub] = [("keep", "Kept", 100 + day)]
        pubs.append(("old", "Old", 7) if day < swap_day else ("new", "New", 3))
        store.write_snapshot(record(A, START + timedelta(days=day), pubs))
    history = load_author(data, A, as_of=START + timedelta(days=300))
    rows = {r.author_pub_id: r for r in history.publications}
    swap = (START + timedelta(days=swap_day)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert rows[f"{A}:new"].first_seen == swap
    assert rows[f"{A}:old"].vanished == swap
    assert rows[f"{A}:old"].last_seen == (START + timedelta(days=swap_day - 1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert rows[f"{A}:keep"].vanished is None
    assert history.snapshots_read < 80, history.snapshots_read


def test_hostile_strings_are_escaped_everywhere(tmp_path: Path) -> None:
    data = tmp_path / "data"
    store = AuthorStore(data, A)
    for day in range(3):
        store.write_snapshot(
            record(
                A,
                START + timedelta(days=day),
                [(HOSTILE[:40], HOSTILE, 5 + day)],
                name=HOSTILE,
                source=HOSTILE if day == 2 else "scholar",
            )
        )
    mark_stale(data, A, RuntimeError(HOSTILE), when=START + timedelta(days=4))
    out = tmp_path / "site"
    build_site(data, out, title=HOSTILE, as_of=START + timedelta(days=5))
    for html_file in (out / "index.html", out / A / "index.html"):
        text = html_file.read_text(encoding="utf-8")
        assert "<script>window" not in text and "<img" not in text and "</title>&" not in text
        tree = LexborHTMLParser(text)
        scripts = tree.css("script")
        assert all(
            s.attributes.get("src") == "../assets/dashboard.js"
            or s.attributes.get("src") == "assets/dashboard.js"
            or s.attributes.get("type") == "application/json"
            for s in scripts
        )
        for node in tree.css("*"):
            assert not any(name.lower().startswith("on") for name in node.attributes), node.html
        for block in tree.css('script[type="application/json"]'):
            json.loads(block.text())
        # The hostile text is shown, as text.
        assert HOSTILE in (tree.body.text() if tree.body else "") or HOSTILE in (one(tree, "title").text())


def test_nothing_refers_to_another_host(lab: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    build_site(lab, out, as_of=AS_OF)
    pages = [out / "index.html", out / A / "index.html", out / B / "index.html"]
    for html_file in pages:
        tree = page(html_file)
        for node in tree.css("[src], [href]"):
            target = node.attributes.get("src") or node.attributes.get("href") or ""
            if node.tag == "a" and target.startswith("https://scholar.google.com/citations?"):
                continue  # a link a visitor may follow to the profile or a paper: nothing is fetched
            if node.tag == "link" and node.attributes.get("rel") == "icon":
                assert target == "data:,"  # no favicon.ico asked for
                continue
            assert not re.match(r"^[a-z][a-z0-9+.-]*:|^//", target, re.I), target
            assert (html_file.parent / target).is_file(), target
        csp = tree.css_first('meta[http-equiv="Content-Security-Policy"]')
        assert csp is not None and "default-src 'none'" in (csp.attributes["content"] or "")
    for asset in (out / "assets").iterdir():
        assert not re.search(r"https?://(?!www\.w3\.org/2000/svg)", asset.read_text(encoding="utf-8"))


def test_output_folder_is_ours_or_refused(lab: Path, tmp_path: Path) -> None:
    homepage = tmp_path / "homepage"
    homepage.mkdir()
    (homepage / "index.html").write_text("my homepage", encoding="utf-8")
    result = CliRunner().invoke(main, ["site", "--data-dir", str(lab), "--out", str(homepage)])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
    assert (homepage / "index.html").read_text(encoding="utf-8") == "my homepage"

    out = tmp_path / "site"
    build_site(lab, out, as_of=AS_OF)
    again = build_site(lab, out, as_of=AS_OF)
    assert again.written == [] and again.removed == []
    # An author left: their files go, and nothing else does.
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    marker = json.loads((out / MARKER).read_text(encoding="utf-8"))
    marker["files"].append("../outside.txt")
    (out / MARKER).write_text(json.dumps(marker), encoding="utf-8")
    (tmp_path / "outside.txt").write_text("keep", encoding="utf-8")
    third = build_site(lab, out, authors=[A], as_of=AS_OF)
    assert not (out / B).exists()
    assert (out / "notes.txt").exists() and (tmp_path / "outside.txt").exists()
    assert f"{B}/index.html" in third.removed


def test_cli_defaults_and_errors(lab: Path) -> None:
    runner = CliRunner()
    ok = runner.invoke(main, ["site", "--data-dir", str(lab), "--title", "My lab", "--author", A])
    assert ok.exit_code == 0, ok.stderr
    assert ok.stdout.strip() == str(lab / "site" / "index.html")
    assert "<title>My lab</title>" in (lab / "site" / "index.html").read_text(encoding="utf-8")
    missing = runner.invoke(main, ["site", "--data-dir", str(lab), "--author", "zzzzzzzzzzzZ"])
    assert missing.exit_code == 2 and missing.stderr.startswith("error: no data for author")
    no_folder = runner.invoke(main, ["site", "--data-dir", str(lab / "nope")])
    assert no_folder.exit_code == 2 and "Traceback" not in no_folder.stderr


def test_corrupt_snapshot_is_skipped_and_named(
    lab: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    refs = snapshot_refs(lab, A)
    refs[-3].path.write_text('{"format": 1, "scholar_id": ', encoding="utf-8")
    result = build_site(lab, tmp_path / "site", as_of=AS_OF)
    assert [b.path for b in result.bad] == [refs[-3].path]
    assert (tmp_path / "site" / A / "index.html").is_file()


def test_author_with_no_readable_snapshot_gets_a_page(tmp_path: Path) -> None:
    data = tmp_path / "data"
    (data / A / "snapshots").mkdir(parents=True)
    out = tmp_path / "site"
    build_site(data, out, as_of=AS_OF)
    assert "No readable snapshot yet" in (out / A / "index.html").read_text(encoding="utf-8")
    assert "No readable snapshot yet" in (out / "index.html").read_text(encoding="utf-8")


def test_a_stale_reason_from_an_older_version_is_masked_on_the_public_page(tmp_path: Path) -> None:
    data = tmp_path / "data"
    AuthorStore(data, A).write_snapshot(record(A, START, [("p", "P", 5)]))
    # A state.json written before reasons were redacted.
    (data / A / "state.json").write_text(
        json.dumps(
            {
                "stale": True,
                "stale_since": "2025-01-02T06:00:00Z",
                "last_attempt": "2025-01-03T06:00:00Z",
                "error": "ProxyError",
                "reason": "cannot reach socks5://bob:hunter2@proxy.example:1080 ?api_key=KEY123",
            }
        ),
        encoding="utf-8",
    )
    out = tmp_path / "site"
    build_site(data, out, as_of=START + timedelta(days=5))
    pages = "".join(
        p.read_text(encoding="utf-8")
        for p in out.rglob("*")
        if p.is_file() and p.suffix in (".html", ".json", ".csv")
    )
    # The fetch error is for the maintainer (report, the step summary); visitors read a sentence.
    assert "proxy.example" not in pages and "hunter2" not in pages and "KEY123" not in pages
    assert "Google Scholar has not answered since 2 Jan; these are the numbers of 1 Jan." in pages


def test_templates_are_compiled_once_for_every_worker(
    lab: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The workers are forked from the process that compiled the templates, so
    none of them compiles a template again."""
    import os

    import jinja2

    import crawler.history.dashboard.build as site_module

    compiled = tmp_path / "compiled.txt"
    original = jinja2.Environment._parse

    def parse(self: jinja2.Environment, source: str, name: str | None, filename: str | None) -> Any:
        with open(compiled, "a", encoding="utf-8") as log:
            log.write(f"{os.getpid()} {name}\n")
        return original(self, source, name, filename)

    monkeypatch.setattr(jinja2.Environment, "_parse", parse)
    monkeypatch.setattr(site_module, "_ENV", None)
    monkeypatch.setattr(site_module, "PARALLEL_MIN_SNAPSHOTS", 0)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # empty: every template compiled
    result = build_site(lab, tmp_path / "site", as_of=AS_OF, workers=2)
    assert len(result.authors) == 2
    names = [line.split()[1] for line in compiled.read_text(encoding="utf-8").splitlines()]
    assert sorted(names) == ["author.html", "base.html", "index.html"]


def test_the_workers_are_forked_with_what_draws_an_author_loaded(lab: Path, tmp_path: Path) -> None:
    """What reads and draws an author is loaded once, before the workers are forked, instead of
    by each worker (run in a new interpreter, where nothing of it is loaded yet)."""
    import subprocess
    import sys

    log = tmp_path / "loaded.txt"
    script = (
        "import sys\n"
        "from datetime import datetime\n"
        "from pathlib import Path\n"
        "import crawler.history.dashboard.build as b\n"
        "b.PARALLEL_MIN_SNAPSHOTS = 0\n"
        "original = b._author_job\n"
        "def job(item):\n"
        f"    with open({str(log)!r}, 'a', encoding='utf-8') as f:\n"
        "        names = ('timeline', 'author_page', 'exports')\n"
        "        f.write(str(all(f'crawler.history.dashboard.{n}' in sys.modules for n in names)) + '\\n')\n"
        "    return original(item)\n"
        "b._author_job = job\n"
        f"b.build_site(Path({str(lab)!r}), Path({str(tmp_path / 'site')!r}), "
        f"as_of=datetime.fromisoformat({AS_OF.isoformat()!r}), workers=2)\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120)
    assert log.read_text(encoding="utf-8").split() == ["True", "True"]


@pytest.mark.parametrize(
    "values",
    [
        [1, None, 0, -3, 10**20],
        ["plain", None, "Zoë, “quoted”", "comma, space", "", "€ ✓"],
        ['a "quote"', "back\\slash", "line\nbreak", "tab\t", "\x00\x1f\x7f", "\u2028"],
        [True, False, None, 1],
        [1.5, "mixed", None, 2],
        [None, None],
    ],
)
def test_json_exports_are_the_bytes_export_writes(values: list[Any]) -> None:
    from crawler.history.dashboard.exports import json_table
    from crawler.history.tables import table_bytes

    columns = ("first", 'sec"ond', "100%s", "last")
    n = len(values)
    data = {name: [values[(i + k) % n] for i in range(n)] for k, name in enumerate(columns)}
    assert json_table(data, columns) == table_bytes(data, columns, "json")
    empty: dict[str, list[Any]] = {name: [] for name in columns}
    assert json_table(empty, columns) == table_bytes(empty, columns, "json")
    with pytest.raises(ValueError):
        json_table({**data, "last": data["last"][:-1]}, columns)


def templates_compiled(
    lab: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[list[str], Callable[[str], dict[str, bytes]]]:
    """The names of the templates compiled by the latest build (a list kept up to date), and a
    build into ``tmp_path/<name>`` as in a new process, with ``tmp_path/cache`` as the user's
    cache folder: its files."""
    import jinja2

    import crawler.history.dashboard.build as site_module

    parsed: list[str] = []
    original = jinja2.Environment._parse

    def parse(self: jinja2.Environment, source: str, name: str | None, filename: str | None) -> Any:
        parsed.append(str(name))
        return original(self, source, name, filename)

    monkeypatch.setattr(jinja2.Environment, "_parse", parse)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))

    def build(name: str) -> dict[str, bytes]:
        monkeypatch.setattr(site_module, "_ENV", None)  # as in a new process
        parsed.clear()
        out = tmp_path / name
        build_site(lab, out, as_of=AS_OF, workers=1)
        return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}

    return parsed, build


def test_compiled_templates_are_kept_in_the_users_cache(
    lab: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A later build loads the compiled templates instead of compiling them again; a cache that
    is damaged or cannot be written only costs the compiling."""
    parsed, build = templates_compiled(lab, tmp_path, monkeypatch)
    cache = tmp_path / "cache"

    first = build("first")
    assert sorted(parsed) == ["author.html", "base.html", "index.html"]
    kept = sorted(cache.rglob("*.cache"))
    assert len(kept) == 3
    assert build("second") == first and parsed == []
    for path in kept:
        path.write_bytes(b"not a compiled template")
    assert build("third") == first and sorted(parsed) == ["author.html", "base.html", "index.html"]
    assert build("fourth") == first and parsed == []  # written again
    (tmp_path / "a-file").write_bytes(b"")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "a-file"))  # no folder can be made there
    assert build("fifth") == first and sorted(parsed) == ["author.html", "base.html", "index.html"]


def test_compiled_templates_are_loaded_only_from_a_private_folder(
    lab: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Compiled templates are code: a cache folder that its group or others may write, another
    user's folder or a link is neither loaded from nor written to; the pages are the same."""
    parsed, build = templates_compiled(lab, tmp_path, monkeypatch)
    cache = tmp_path / "cache"

    all_three = ["author.html", "base.html", "index.html"]
    first = build("first")
    (folder,) = {path.parent for path in cache.rglob("*.cache")}
    assert folder.stat().st_mode & 0o777 == 0o700
    assert build("kept") == first and parsed == []

    folder.chmod(0o777)  # anyone may put a file there: nothing is loaded from it
    assert build("shared") == first and sorted(parsed) == all_three
    folder.chmod(0o770)
    assert build("group") == first and sorted(parsed) == all_three
    folder.chmod(0o700)
    assert build("private again") == first and parsed == []

    elsewhere = tmp_path / "elsewhere"
    folder.rename(elsewhere)
    folder.symlink_to(elsewhere, target_is_directory=True)
    assert build("linked") == first and sorted(parsed) == all_three
    assert sorted(p.name for p in elsewhere.iterdir()) == sorted(p.name for p in elsewhere.glob("*.cache"))

    if os.geteuid() == 0:  # another user's folder, which only root can make here
        folder.unlink()
        folder.mkdir(mode=0o700)
        os.chown(folder, 65534, 65534)
        assert build("another user's") == first and sorted(parsed) == all_three
        assert list(folder.iterdir()) == []


def test_a_title_with_a_nul_keeps_every_row_with_its_own_texts(tmp_path: Path) -> None:
    """The table's texts are escaped together, joined by NULs: a title holding one must not
    shift the texts of the rows after it."""
    data = tmp_path / "data"
    pubs: list[Pub] = [("p1", "First\x00<b>bold</b>", 9), ("p2", "Second & last", 3)]
    AuthorStore(data, A).write_snapshot(record(A, START, pubs))
    out = tmp_path / "site"
    build_site(data, out, as_of=START + timedelta(days=1))
    rows = page(out / A / "index.html").css("tr[data-pub-id]")
    assert [r.attributes["data-pub-id"] for r in rows] == [f"{A}:p1", f"{A}:p2"]
    text = (out / A / "index.html").read_text(encoding="utf-8")
    assert "First\x00&lt;b&gt;bold&lt;/b&gt;</a>" in text and "Second &amp; last</a>" in text
