"""`scholar-stats export`: columns, row order, CSV quoting, integers, dates, formats, corrupt files,
and the fast header reading it relies on."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner

import crawler.history.export as export_module
import crawler.sources.scholar as scholar_source
from crawler.cli import main
from crawler.config import load_config
from crawler.history.export import (
    METRICS_COLUMNS,
    PUBLICATION_COLUMNS,
    ExportOptions,
    export_frame,
    write_export,
)
from crawler.history.snapshots import read_header
from crawler.history.tables import encode, frame
from crawler.models import AuthorRecord, Metrics, Profile, Publication, record_to_dict
from crawler.run import run
from crawler.storage.store import (
    AuthorStore,
    BadSnapshot,
    SnapshotRef,
    json_bytes,
    snapshot_name,
    snapshot_refs,
    snapshot_time,
)

A = "aaaaaaaaaaaA"
B = "bbbbbbbbbbbB"
TRICKY = 'Commas, "quotes"\nand a new line; naïve café — ünïcode'


def at(day: int, hour: int = 6, minute: int = 0) -> datetime:
    return datetime(2026, 1, 1, hour, minute, tzinfo=UTC) + timedelta(days=day)


def make_record(
    scholar_id: str,
    when: datetime,
    pubs: list[tuple[str, str, int | None, int | None]],
    *,
    name: str = "Ada Lovelace",
    citations: int | None = None,
    since: int | None = 100,
    h: int | None = 3,
    i10: int | None = 1,
    cites_per_year: tuple[tuple[int, int], ...] = ((2024, 10), (2025, 20)),
    source: str = "scholar",
) -> AuthorRecord:
    total = sum(c or 0 for *_, c in pubs) if citations is None else citations
    return AuthorRecord(
        profile=Profile(scholar_id=scholar_id, name=name, affiliation="Analytical Engines"),
        metrics=Metrics(
            citations=total,
            citations_since=since,
            h_index=h,
            h_index_since=h,
            i10_index=i10,
            i10_index_since=None,
            since_year=2021,
        ),
        cites_per_year=cites_per_year,
        publications=tuple(
            Publication(author_pub_id=f"{scholar_id}:{pid}", title=title, year=year, citations=cites)
            for pid, title, year, cites in pubs
        ),
        source=source,
        fetched_at=when,
    )


def put(data: Path, record: AuthorRecord) -> Path:
    return AuthorStore(data, record.scholar_id).write_snapshot(record)


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """Two authors; B written first so that row order cannot come from writing order."""
    folder = tmp_path / "data"
    put(
        folder,
        make_record(
            B,
            at(0),
            [("p1", "Solo", 2020, 5)],
            name="Grace Hopper",
            since=None,
            h=None,
            cites_per_year=((2025, 5),),
        ),
    )
    put(folder, make_record(A, at(0), [("p1", "First, paper", 2024, 10), ("p2", TRICKY, None, 2)]))
    put(
        folder,
        make_record(
            A,
            at(1),
            [("p1", "First, paper", 2024, 12), ("p2", TRICKY, None, None), ("p3", 'Third "one"', 2025, 0)],
            cites_per_year=((2024, 10), (2025, 22), (2026, 1)),
        ),
    )
    return folder


def cli(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert "Traceback" not in result.stderr, result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    # Result.stdout turns \r\n into \n; the bytes are what a file would hold.
    return result.exit_code, result.stdout_bytes.decode("utf-8"), result.stderr


# -- exact text for a small case --------------------------------------------------------


def test_metrics_csv_exact_text(data: Path) -> None:
    code, out, err = cli("export", "--data-dir", data)
    assert code == 0, err
    assert out == (
        "date,scholar_id,name,citations,citations_since,since_year,h_index,h_index_since,i10_index,"
        "i10_index_since,publications,source\r\n"
        "2026-01-01T06:00:00Z,aaaaaaaaaaaA,Ada Lovelace,12,100,2021,3,3,1,,2,scholar\r\n"
        "2026-01-02T06:00:00Z,aaaaaaaaaaaA,Ada Lovelace,12,100,2021,3,3,1,,3,scholar\r\n"
        "2026-01-01T06:00:00Z,bbbbbbbbbbbB,Grace Hopper,5,,2021,,,1,,1,scholar\r\n"
    )


def test_publications_csv_exact_text(data: Path) -> None:
    code, out, err = cli("export", "--data-dir", data, "--what", "publications")
    assert code == 0, err
    assert out == (
        "date,scholar_id,author_pub_id,title,year,citations,change\r\n"
        '2026-01-01T06:00:00Z,aaaaaaaaaaaA,aaaaaaaaaaaA:p1,"First, paper",2024,10,\r\n'
        '2026-01-01T06:00:00Z,aaaaaaaaaaaA,aaaaaaaaaaaA:p2,"Commas, ""quotes""\nand a new line; '
        'naïve café — ünïcode",,2,\r\n'
        '2026-01-02T06:00:00Z,aaaaaaaaaaaA,aaaaaaaaaaaA:p1,"First, paper",2024,12,2\r\n'
        '2026-01-02T06:00:00Z,aaaaaaaaaaaA,aaaaaaaaaaaA:p2,"Commas, ""quotes""\nand a new line; '
        'naïve café — ünïcode",,,\r\n'
        '2026-01-02T06:00:00Z,aaaaaaaaaaaA,aaaaaaaaaaaA:p3,"Third ""one""",2025,0,\r\n'
        "2026-01-01T06:00:00Z,bbbbbbbbbbbB,bbbbbbbbbbbB:p1,Solo,2020,5,\r\n"
    )


def test_years_latest_and_all_exact_text(data: Path) -> None:
    code, out, _ = cli("export", "--data-dir", data, "--what", "years")
    assert code == 0
    assert out == (
        "scholar_id,year,citations\r\n"
        "aaaaaaaaaaaA,2024,10\r\naaaaaaaaaaaA,2025,22\r\naaaaaaaaaaaA,2026,1\r\n"
        "bbbbbbbbbbbB,2025,5\r\n"
    )
    code, out, _ = cli("export", "--data-dir", data, "--what", "years", "--all", "--author", A)
    assert code == 0
    assert out == (
        "date,scholar_id,year,citations\r\n"
        "2026-01-01T06:00:00Z,aaaaaaaaaaaA,2024,10\r\n2026-01-01T06:00:00Z,aaaaaaaaaaaA,2025,20\r\n"
        "2026-01-02T06:00:00Z,aaaaaaaaaaaA,2024,10\r\n2026-01-02T06:00:00Z,aaaaaaaaaaaA,2025,22\r\n"
        "2026-01-02T06:00:00Z,aaaaaaaaaaaA,2026,1\r\n"
    )


def test_titles_round_trip_through_pandas_and_csv_module(data: Path, tmp_path: Path) -> None:
    out = tmp_path / "pubs.csv"
    code, stdout, err = cli("export", "--data-dir", data, "--what", "publications", "--out", out)
    assert code == 0 and stdout == "", err
    raw = out.read_bytes()
    assert raw.startswith(b"date,scholar_id,") and raw.endswith(b"\r\n")
    titles = ["First, paper", TRICKY, "First, paper", TRICKY, 'Third "one"', "Solo"]
    with out.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == list(PUBLICATION_COLUMNS)
    assert [r[3] for r in rows[1:]] == titles
    table = pd.read_csv(
        out,
        dtype={"year": "Int64", "citations": "Int64", "change": "Int64"},
        keep_default_na=False,
        na_values={"year": [""], "citations": [""], "change": [""]},
    )
    assert list(table.columns) == list(PUBLICATION_COLUMNS)
    assert list(table["title"]) == titles
    assert table["change"].tolist() == [pd.NA, pd.NA, 2, pd.NA, pd.NA, pd.NA]
    assert table["citations"].tolist() == [10, 2, 12, pd.NA, 0, 5]
    # No leftover temporary file next to the output.
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")) == []


def test_csv_writer_matches_pandas_to_csv() -> None:
    values: dict[str, list[Any]] = {
        "date": ["2026-01-01T00:00:00Z"] * 5,
        "scholar_id": [A] * 5,
        "author_pub_id": ["x:1", "x:2", "x:3", "x:4", "x:5"],
        "title": [TRICKY, " lead and trail ", "only\rcarriage", 'a"b', ""],
        "year": [2020, None, 1999, None, 2001],
        "citations": [None, 0, 3, 10**12, 7],
        "change": [1, None, -4, 0, None],
    }
    ours = encode(values, PUBLICATION_COLUMNS, "csv").decode("utf-8")
    theirs = frame(PUBLICATION_COLUMNS, values).to_csv(header=False, index=False, lineterminator="\r\n")
    assert ours == theirs
    assert "12.0" not in ours and "1000000000000" in ours


def test_integers_stay_integers_in_the_frame(data: Path) -> None:
    table = export_frame(data, ExportOptions(what="metrics"))
    assert list(table.columns) == list(METRICS_COLUMNS)
    assert str(table["citations_since"].dtype) == "Int64"
    assert table["citations_since"].tolist() == [100, 100, pd.NA]
    assert str(table["date"].dtype) == "datetime64[s, UTC]"
    assert table["date"].iloc[0] == pd.Timestamp("2026-01-01T06:00:00Z")


# -- selection: authors, dates, frequency -----------------------------------------------------


@pytest.fixture
def daily(tmp_path: Path) -> Path:
    """One author, a snapshot every day of January and February 2026 at 06:00 and 18:00."""
    folder = tmp_path / "daily"
    for day in range(59):
        for hour in (6, 18):
            n = day * 2 + (hour == 18)
            put(folder, make_record(A, at(day, hour), [("p1", "Only", 2020, n)], citations=n))
    return folder


def metrics_dates(folder: Path, *args: str) -> list[str]:
    code, out, err = cli("export", "--data-dir", folder, *args)
    assert code == 0, err
    return [line.split(",")[0] for line in out.splitlines()[1:]]


def test_since_until_accept_dates_and_times(daily: Path) -> None:
    assert metrics_dates(daily, "--since", "2026-01-03", "--until", "2026-01-04") == [
        "2026-01-03T06:00:00Z",
        "2026-01-03T18:00:00Z",
        "2026-01-04T06:00:00Z",
        "2026-01-04T18:00:00Z",
    ]
    assert metrics_dates(
        daily, "--since", "2026-01-03T12:00:00Z", "--until", "2026-01-04T06:00:00+00:00"
    ) == [
        "2026-01-03T18:00:00Z",
        "2026-01-04T06:00:00Z",
    ]
    # A time without a zone is UTC; another zone is converted.
    assert metrics_dates(daily, "--since", "2026-01-05T07:00:00+02:00", "--until", "2026-01-05T06:00") == [
        "2026-01-05T06:00:00Z",
    ]


def test_freq_takes_the_last_snapshot_of_each_period(daily: Path) -> None:
    assert metrics_dates(daily, "--freq", "monthly") == ["2026-01-31T18:00:00Z", "2026-02-28T18:00:00Z"]
    weekly = metrics_dates(daily, "--freq", "weekly", "--until", "2026-01-20")
    # ISO weeks end on Sunday: 2026-01-04, 01-11, 01-18, then the partial week up to --until.
    assert weekly == [
        "2026-01-04T18:00:00Z",
        "2026-01-11T18:00:00Z",
        "2026-01-18T18:00:00Z",
        "2026-01-20T18:00:00Z",
    ]
    assert metrics_dates(daily, "--freq", "daily", "--since", "2026-02-27") == [
        "2026-02-27T18:00:00Z",
        "2026-02-28T18:00:00Z",
    ]


def test_publication_change_is_against_the_previous_exported_row(daily: Path) -> None:
    code, out, _ = cli("export", "--data-dir", daily, "--what", "publications", "--freq", "monthly")
    assert code == 0
    rows = list(csv.reader(io.StringIO(out)))[1:]
    # January ends at 61 citations, February at 117: the change is month over month.
    assert [(r[0], r[5], r[6]) for r in rows] == [
        ("2026-01-31T18:00:00Z", "61", ""),
        ("2026-02-28T18:00:00Z", "117", "56"),
    ]
    code, out, _ = cli("export", "--data-dir", daily, "--what", "publications", "--since", "2026-02-28")
    rows = list(csv.reader(io.StringIO(out)))[1:]
    # The first row in the window is compared with the last snapshot before --since.
    assert [(r[5], r[6]) for r in rows] == [("116", "1"), ("117", "1")]


def test_empty_result_is_a_header_only_file(daily: Path, tmp_path: Path) -> None:
    for what, header in (("metrics", METRICS_COLUMNS), ("publications", PUBLICATION_COLUMNS)):
        code, out, err = cli("export", "--data-dir", daily, "--what", what, "--since", "2030-01-01")
        assert (code, err) == (0, "")
        assert out == ",".join(header) + "\r\n"
    (tmp_path / "daily" / B / "snapshots").mkdir(parents=True)
    code, out, _ = cli("export", "--data-dir", tmp_path / "daily", "--author", B, "--what", "years")
    assert (code, out) == (0, "scholar_id,year,citations\r\n")
    code, out, _ = cli("export", "--data-dir", daily, "--since", "2030-01-01", "--format", "json")
    assert (code, json.loads(out)) == (0, [])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--author", "nobodyHere12"], "no data for author nobodyHere12"),
        (["--author", "not an id"], "not a Google Scholar ID"),
        (["--since", "2026-02-30"], "--since must be YYYY-MM-DD or an ISO-8601 time"),
        (["--until", "yesterday"], "--until must be YYYY-MM-DD"),
        (["--since", "2026-02-01", "--until", "2026-01-01"], "is after --until"),
        (["--all"], "--all applies to --what years only"),
    ],
)
def test_usage_errors_are_one_line_exit_2(daily: Path, args: list[str], message: str) -> None:
    code, out, err = cli("export", "--data-dir", daily, *args)
    assert code == 2 and out == ""
    assert err.startswith("error: ") and message in err and err.count("\n") == 1


def test_missing_data_folder_is_a_usage_error(tmp_path: Path) -> None:
    code, _, err = cli("export", "--data-dir", tmp_path / "nowhere")
    assert code == 2 and err == f"error: no data folder {tmp_path / 'nowhere'}\n"


def test_author_accepts_a_profile_url(data: Path) -> None:
    code, out, _ = cli(
        "export", "--data-dir", data, "--author", f"https://scholar.google.com/citations?user={B}&hl=en"
    )
    assert code == 0 and out.count("\r\n") == 2 and "Grace Hopper" in out


# -- corrupt snapshots ---------------------------------------------------------------------------


def test_corrupt_snapshots_are_named_and_skipped(daily: Path) -> None:
    folder = daily / A / "snapshots"
    (folder / "20260131T180000Z.json").write_bytes(b'{"format": 1, "scholar_id": ')  # cut off
    (folder / "20260228T180000Z.json").write_bytes(b"\xff\xfe not json")
    (folder / "notes.json").write_text("{}")
    code, out, err = cli("export", "--data-dir", daily, "--freq", "monthly")
    assert code == 0
    assert "20260131T180000Z.json" in err and "20260228T180000Z.json" in err and "notes.json" in err
    # Each month falls back to its last readable snapshot.
    assert [line.split(",")[0] for line in out.splitlines()[1:]] == [
        "2026-01-31T06:00:00Z",
        "2026-02-28T06:00:00Z",
    ]
    code, out, err = cli("export", "--data-dir", daily, "--what", "publications", "--since", "2026-02-28")
    assert "20260228T180000Z.json" in err
    assert len(out.splitlines()) == 2


def test_links_fifos_folders_and_oversized_files_are_named_and_skipped(
    daily: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever the fast reading of headers does, a snapshot that is not a regular file within
    its bound is never exported: each is named on stderr, and its month falls back."""
    import crawler.history.snapshot_heads as heads_module

    folder = daily / A / "snapshots"
    good = (folder / "20260131T060000Z.json").read_bytes()
    (folder / "20260131T190000Z.json").symlink_to(folder / "20260131T060000Z.json")
    os.mkfifo(folder / "20260131T200000Z.json")
    (folder / "20260131T210000Z.json").mkdir()
    (folder / "20260131T220000Z.json").write_bytes(good + b" " * 200)
    monkeypatch.setattr(heads_module, "MAX_SNAPSHOT_BYTES", len(good) + 100)
    for args in ((), ("--freq", "monthly")):
        code, out, err = cli("export", "--data-dir", daily, *args)
        assert code == 0
        assert "20260131T190000Z.json is a symbolic link, which is not followed" in err
        assert "20260131T200000Z.json is a FIFO, not a regular file" in err
        assert "20260131T210000Z.json is a folder, not a regular file" in err
        assert "20260131T220000Z.json is " in err and "more than the" in err
        dates = [line.split(",")[0] for line in out.splitlines()[1:]]
        assert [d for d in dates if d.startswith("2026-01-31")] == (
            ["2026-01-31T06:00:00Z", "2026-01-31T18:00:00Z"] if not args else ["2026-01-31T18:00:00Z"]
        )
        assert len(dates) == (118 if not args else 2)


def test_a_damaged_histogram_costs_the_years_export_not_the_metrics(daily: Path) -> None:
    """Each export reads and checks what its rows need: a metrics row never uses
    the per-year histogram, so a bad one there does not drop the day's numbers."""
    path = daily / A / "snapshots" / "20260131T180000Z.json"
    record = json.loads(path.read_bytes())
    record["cites_per_year"] = {"2026": "many"}
    path.write_bytes(json_bytes(record))
    code, out, err = cli("export", "--data-dir", daily, "--freq", "monthly")
    assert code == 0 and err == ""
    assert out.splitlines()[1].split(",")[:4] == ["2026-01-31T18:00:00Z", A, "Ada Lovelace", "61"]
    code, out, err = cli(
        "export", "--data-dir", daily, "--what", "years", "--all", "--until", "2026-01-31T23:00"
    )
    assert code == 0 and "20260131T180000Z.json" in err and "cites_per_year" in err


def test_snapshot_of_another_author_is_skipped(data: Path) -> None:
    stray = make_record(B, at(5), [("p9", "Stray", 2020, 1)])
    (data / A / "snapshots" / "20260106T060000Z.json").write_bytes(json_bytes(record_to_dict(stray)))
    code, out, err = cli("export", "--data-dir", data, "--author", A)
    assert code == 0 and "holds the record of bbbbbbbbbbbB" in err
    assert out.count("\r\n") == 3


# -- the fast header reader -----------------------------------------------------------------


def test_header_reader_agrees_with_the_full_reader(data: Path, tmp_path: Path) -> None:
    for ref in snapshot_refs(data, A):
        record = AuthorStore(data, A).read_snapshot(ref.path)
        header = read_header(ref)
        assert header.metrics == record.metrics
        assert header.publication_count == len(record.publications)
        assert header.cites_per_year == record.cites_per_year
        assert (header.name, header.source, header.date, header.complete) == (
            record.profile.name,
            record.source,
            record.fetched_at,
            record.complete,
        )
        # The same snapshot in another layout (compact JSON, keys reordered) goes the slow way, same answer.
        other = tmp_path / ref.path.name
        data_dict = record_to_dict(record)
        other.write_text(json.dumps({"publications": data_dict.pop("publications"), **data_dict}))
        assert read_header(SnapshotRef(str(other), ref.time)) == header
        assert read_header(SnapshotRef(str(other), ref.time), count=False).metrics == header.metrics


def test_fields_read_the_fast_way_make_the_rows_the_headers_make(data: Path, tmp_path: Path) -> None:
    """``HeaderReader.read_fields`` checks a prefetched head of our layout without building the
    header's objects: its rows are ``metrics_row``'s, and what it refuses ``read`` refuses, with
    the same reasons, for every kind of snapshot (ours, without a count, another layout, another
    author's, a wrong type, cut off)."""
    from crawler.history.export import fields_row, metrics_row
    from crawler.history.snapshots import HeaderReader

    folder = tmp_path / "mixed" / A / "snapshots"
    folder.mkdir(parents=True)
    sources = [ref.path for ref in snapshot_refs(data, A)] + [ref.path for ref in snapshot_refs(data, B)]
    texts = [path.read_text(encoding="utf-8") for path in sources]
    record = AuthorStore(data, A).read_snapshot(sources[0])
    as_dict = record_to_dict(record)
    variants = [
        texts[0],
        texts[1],
        re.sub(r'\n  "publication_count": \d+,', "", texts[1]),  # written before the count was
        json.dumps({"publications": as_dict.pop("publications"), **as_dict}),  # another layout
        texts[2],  # B's record in A's folder
        texts[0].replace('"h_index": 3,', '"h_index": "3",'),
        texts[0].replace('"h_index": 3,', '"h_index": true,'),
        texts[0].replace('"fetched_at": "2026-01-01T', '"fetched_at": "2026-01-01 '),
        texts[0][:200],
    ]
    refs = []
    for day, text in enumerate(variants, start=1):
        path = folder / f"202603{day:02d}T000000Z.json"
        path.write_text(text, encoding="utf-8")
        refs.append(SnapshotRef(str(path), datetime(2026, 3, day, tzinfo=UTC)))
    fast_bad: list[BadSnapshot] = []
    slow_bad: list[BadSnapshot] = []
    fast = HeaderReader(A, years=False, bad=fast_bad, quiet=True)
    slow = HeaderReader(A, years=False, bad=slow_bad, quiet=True)
    fast.prefetch(refs)
    slow.prefetch(refs)
    fast_rows = [None if (f := fast.read_fields(ref)) is None else fields_row(A, f) for ref in refs]
    slow_rows = [None if (h := slow.read(ref)) is None else metrics_row(A, h) for ref in refs]
    assert fast_rows == slow_rows
    assert fast_bad == slow_bad
    assert [row is None for row in fast_rows] == [False, False, False, False, True, True, True, False, True]


def test_a_title_that_looks_like_a_key_does_not_fool_the_counter(tmp_path: Path) -> None:
    sneaky = '\n      "author_pub_id": "x"\n  "publications": ['
    record = make_record(A, at(0), [("p1", sneaky, 2020, 1), ("p2", "b", 2021, 2)])
    path = put(tmp_path / "d", record)
    header = read_header(SnapshotRef(str(path), at(0)))
    assert header.publication_count == 2 and header.metrics.citations == 3


def test_header_reader_stops_before_the_publication_list(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pubs: list[tuple[str, str, int | None, int | None]] = [
        (f"{i:012d}", f"A title long enough to matter, number {i}", 2000 + i % 25, i) for i in range(300)
    ]
    path = put(tmp_path / "d", make_record(A, at(0), pubs))
    assert path.stat().st_size > 50_000
    read_sizes: list[int] = []
    real_read = os.read

    def counting_read(fd: int, n: int) -> bytes:
        chunk = real_read(fd, n)
        read_sizes.append(len(chunk))
        return chunk

    monkeypatch.setattr(os, "read", counting_read)
    header = read_header(SnapshotRef(str(path), at(0)))
    assert header.publication_count == 300 and header.metrics.citations == sum(range(300))
    assert sum(read_sizes) <= 4096


def test_snapshot_names_are_times() -> None:
    assert snapshot_time(Path("20260102T030405Z.json")) == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert snapshot_time(Path("20260102T030405Z_2.json")) == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert snapshot_time(Path("20261302T030405Z.json")) is None
    assert snapshot_time(Path("latest.json")) is None


def test_snapshots_without_a_written_count_are_counted(data: Path, tmp_path: Path) -> None:
    """Snapshots written before ``publication_count`` existed: the publications are counted, same rows."""
    before = cli("export", "--data-dir", data)[1]
    for ref in snapshot_refs(data, A) + snapshot_refs(data, B):
        text = ref.path.read_text(encoding="utf-8")
        assert '\n  "publication_count": ' in text
        ref.path.write_text(re.sub(r'\n  "publication_count": \d+,', "", text), encoding="utf-8")
        header = read_header(ref)
        assert header.publication_count == len(
            AuthorStore(data, ref.path.parent.parent.name).read_snapshot(ref.path).publications
        )
    assert cli("export", "--data-dir", data)[1] == before


# -- formats ---------------------------------------------------------------------------------------


def test_json_is_an_array_of_objects_in_column_order(data: Path) -> None:
    code, out, _ = cli(
        "export", "--data-dir", data, "--what", "publications", "--format", "json", "--author", B
    )
    assert code == 0
    rows = json.loads(out)
    assert rows == [
        {
            "date": "2026-01-01T06:00:00Z",
            "scholar_id": B,
            "author_pub_id": f"{B}:p1",
            "title": "Solo",
            "year": 2020,
            "citations": 5,
            "change": None,
        }
    ]
    assert list(rows[0]) == list(PUBLICATION_COLUMNS)
    code, out, _ = cli("export", "--data-dir", data, "--format", "json")
    assert [r["publications"] for r in json.loads(out)] == [2, 3, 1]


def test_parquet_round_trip(data: Path, tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    out = tmp_path / "pubs.parquet"
    code, _, err = cli(
        "export", "--data-dir", data, "--what", "publications", "--format", "parquet", "--out", out
    )
    assert code == 0, err
    table = pd.read_parquet(out)
    assert list(table.columns) == list(PUBLICATION_COLUMNS)
    assert table["title"].tolist()[1] == TRICKY
    assert table["change"].tolist()[2] == 2 and pd.isna(table["change"].tolist()[0])
    assert str(table["citations"].dtype) in ("Int64", "int64[pyarrow]")
    assert table["date"].iloc[0] == pd.Timestamp("2026-01-01T06:00:00Z")
    # An empty export is a valid file with the columns.
    empty = tmp_path / "empty.parquet"
    code, _, _ = cli(
        "export", "--data-dir", data, "--since", "2030-01-01", "--format", "parquet", "--out", empty
    )
    assert code == 0 and list(pd.read_parquet(empty).columns) == list(METRICS_COLUMNS)


def test_parquet_to_stdout(data: Path) -> None:
    pytest.importorskip("pyarrow")
    result = CliRunner().invoke(main, ["export", "--data-dir", str(data), "--format", "parquet"])
    assert result.exit_code == 0
    assert pd.read_parquet(io.BytesIO(result.stdout_bytes))["citations"].tolist() == [12, 12, 5]


def test_parquet_without_pyarrow_names_the_extra(
    data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    code, out, err = cli("export", "--data-dir", data, "--format", "parquet", "--out", tmp_path / "x.parquet")
    assert code == 2 and out == ""
    assert err == "error: --format parquet needs pyarrow: pip install scholar-stats[parquet]\n"
    assert not (tmp_path / "x.parquet").exists()


# -- workers ---------------------------------------------------------------------------------------


@pytest.fixture
def long_history(tmp_path: Path) -> Path:
    """Two authors with a snapshot a day for 520 days: past the size where a publications
    export starts workers."""
    folder = tmp_path / "long"
    for scholar_id in (A, B):
        snapshots = folder / scholar_id / "snapshots"
        snapshots.mkdir(parents=True)
        for day in range(520):
            pubs = [("p1", "First", 2020, day), ("p2", TRICKY, None, day // 7), ("p3", "Third", 2024, None)]
            record = make_record(scholar_id, at(day), pubs, citations=day)
            # Written without fsync: a thousand of them would take the test's time, not the export's.
            (snapshots / snapshot_name(at(day))).write_bytes(json_bytes(record_to_dict(record)))
    (folder / A / "snapshots" / snapshot_name(at(300))).write_text("broken")
    return folder


def test_a_long_publications_export_runs_in_worker_processes_with_the_same_bytes(
    long_history: Path, tmp_path: Path
) -> None:
    assert export_module.PARALLEL_MIN_SNAPSHOTS <= 2 * 520
    options = ExportOptions(what="publications", since=at(3))
    one, two = tmp_path / "one.csv", tmp_path / "two.csv"
    first = write_export(long_history, options, one, workers=1)
    second = write_export(long_history, options, two, workers=2)
    assert (first.workers, second.workers) == (1, 2)
    assert one.read_bytes() == two.read_bytes()
    assert first.rows == second.rows == 3 * (2 * 517 - 1)
    assert [b.path.name for b in first.bad] == [b.path.name for b in second.bad] == [snapshot_name(at(300))]


@pytest.mark.parametrize("what", ["metrics", "years"])
def test_header_exports_stay_in_one_process(long_history: Path, tmp_path: Path, what: str) -> None:
    options = ExportOptions(what=what, since=at(3), all_snapshots=what == "years")
    result = write_export(long_history, options, tmp_path / "out.csv", workers=2)
    assert result.workers == 1
    assert result.rows == (2 * 517 - 1) * (1 if what == "metrics" else 2)
    assert [b.path.name for b in result.bad] == [snapshot_name(at(300))]


# -- from a data folder built by `run` ------------------------------------------------------------------


def test_export_of_a_history_built_by_run(replay, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    for name in list(os.environ):
        if "proxy" in name.lower():
            monkeypatch.delenv(name)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    sid = "eXpOrTpRoF01"
    data = tmp_path / "data"
    config = load_config(
        None, authors=[sid], data_dir=data, base_url=replay.url, http={"delay": 0, "retries": 0}
    )
    totals = [1000, 1040, 1040, 1100]
    profiles = []
    for day, total in enumerate(totals):
        profiles.append(replay.add_profile(sid, 150, citations=total))
        monkeypatch.setattr(scholar_source, "utc_now", lambda day=day: at(day, 12))
        assert run(config).exit_code == 0
    # The third run found nothing new: three snapshots, not four.
    assert [r.path.name for r in snapshot_refs(data, sid)] == [
        "20260101T120000Z.json",
        "20260102T120000Z.json",
        "20260104T120000Z.json",
    ]
    metrics = pd.read_csv(io.StringIO(cli("export", "--data-dir", data)[1]))
    assert metrics["citations"].tolist() == [1000, 1040, 1100]
    assert metrics["publications"].tolist() == [150, 150, 150]
    assert metrics["date"].tolist() == [
        "2026-01-01T12:00:00Z",
        "2026-01-02T12:00:00Z",
        "2026-01-04T12:00:00Z",
    ]
    assert set(metrics["source"]) == {"scholar"} and set(metrics["name"]) == {profiles[0].name}

    pubs = pd.read_csv(
        io.StringIO(cli("export", "--data-dir", data, "--what", "publications")[1]),
        dtype={"change": "Int64"},
        keep_default_na=False,
        na_values={"change": [""], "year": [""]},
    )
    assert len(pubs) == 450 and list(pubs.columns) == list(PUBLICATION_COLUMNS)
    for day in (0, 1, 3):
        rows = pubs[pubs["date"] == f"2026-01-0{day + 1}T12:00:00Z"]
        expected = profiles[day].publications
        assert rows["author_pub_id"].tolist() == [p.author_pub_id for p in expected]
        assert rows["title"].tolist() == [p.title for p in expected]
        assert rows["citations"].tolist() == [p.citations for p in expected]
    # Each publication's change is its own difference with the snapshot before; new ones have none.
    for before, after in ((profiles[0], profiles[1]), (profiles[1], profiles[3])):
        rows = pubs[
            pubs["date"] == ("2026-01-02T12:00:00Z" if after is profiles[1] else "2026-01-04T12:00:00Z")
        ]
        old = {p.author_pub_id: p.citations for p in before.publications}
        expected_change = [
            p.citations - old[p.author_pub_id] if p.author_pub_id in old else None for p in after.publications
        ]
        assert [None if pd.isna(c) else c for c in rows["change"]] == expected_change
        assert any(c is not None for c in expected_change)
    assert pubs["change"][:150].isna().all()

    years = pd.read_csv(io.StringIO(cli("export", "--data-dir", data, "--what", "years")[1]))
    assert dict(zip(years["year"], years["citations"], strict=True)) == dict(profiles[-1].cites_per_year)


def test_snapshots_of_one_second_read_in_time_order(tmp_path: Path) -> None:
    """``_10`` comes after ``_9``; a plain name sort would put it after ``_1``."""
    folder = tmp_path / "abcdefghijkl" / "snapshots"
    folder.mkdir(parents=True)
    names = ["20260102T030405Z.json"] + [f"20260102T030405Z_{n}.json" for n in (1, 2, 9, 10, 11)]
    for name in reversed(names):
        (folder / name).write_text("{}", encoding="utf-8")
    (folder / "latest.json").write_text("{}", encoding="utf-8")
    bad: list[BadSnapshot] = []
    refs = snapshot_refs(tmp_path, "abcdefghijkl", bad, quiet=True)
    assert [ref.path.name for ref in refs] == names
    assert [b.path.name for b in bad] == ["latest.json"]
