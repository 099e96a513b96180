"""`scholar-stats plot`: a real PNG and SVG, and the plotted data is the snapshots' data."""

from __future__ import annotations

import struct
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import matplotlib.dates as mdates
import pytest
from click.testing import CliRunner

from crawler.cli import main
from crawler.history.plot import history_figure, render
from crawler.models import AuthorRecord, Metrics, Profile
from crawler.storage.store import AuthorStore

SID = "pLoTpRoFiLe1"
OTHER = "pLoTpRoFiLe2"


def record(day: int, citations: int | None, *, source: str = "scholar", sid: str = SID) -> AuthorRecord:
    return AuthorRecord(
        profile=Profile(scholar_id=sid, name="Émilie du Châtelet"),
        metrics=Metrics(citations=citations, h_index=4),
        cites_per_year=tuple(
            (2018 + i, 10 * i + day) for i in range(7) if i != 3
        ),  # 2021: no bar, as on Scholar
        source=source,
        fetched_at=datetime(2025, 3, 1, 8, tzinfo=UTC) + timedelta(days=day * 30),
    )


HISTORY = [
    (0, 100, "scholar"),
    (1, 130, "scholar"),
    (2, None, "scholar"),
    (3, 170, "scholar"),
    (4, 90, "openalex"),
    (5, 95, "openalex"),
]


@pytest.fixture
def data(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    for day, citations, source in HISTORY:
        AuthorStore(folder, SID).write_snapshot(record(day, citations, source=source))
    return folder


def test_lines_and_bars_hold_the_snapshot_values(data: Path) -> None:
    figure = history_figure(data, SID)
    # matplotlib's stubs type these loosely (ArrayLike, Patch): read as Any.
    totals, bars = figure.axes
    lines: list[Any] = list(totals.get_lines())
    patches: list[Any] = list(bars.patches)
    # One line per run of one source; the snapshot without a total is left out.
    assert [line.get_label() for line in lines] == ["Google Scholar", "OpenAlex"]
    start = datetime(2025, 3, 1, 8, tzinfo=UTC)
    expected = [
        ([start + timedelta(days=d * 30) for d in (0, 1, 3)], [100, 130, 170]),
        ([start + timedelta(days=d * 30) for d in (4, 5)], [90, 95]),
    ]
    for line, (dates, counts) in zip(lines, expected, strict=True):
        assert [mdates.num2date(mdates.date2num(x)) for x in line.get_xdata()] == dates
        assert list(line.get_ydata()) == counts
    assert [p.get_height() for p in patches] == [5, 15, 25, 45, 55, 65]
    assert [round(p.get_x() + p.get_width() / 2) for p in patches] == [2018, 2019, 2020, 2022, 2023, 2024]
    assert "Émilie du Châtelet" in figure.get_suptitle() and "OpenAlex" in figure.get_suptitle()
    assert totals.get_xlabel() and totals.get_ylabel() and bars.get_xlabel() == "year"
    assert isinstance(totals.xaxis.get_major_formatter(), mdates.ConciseDateFormatter)
    assert totals.get_legend() is not None


def png_size(path: Path) -> tuple[int, int]:
    raw = path.read_bytes()
    assert raw[:8] == b"\x89PNG\r\n\x1a\n" and raw[12:16] == b"IHDR"
    width, height = struct.unpack(">II", raw[16:24])
    return width, height


def test_cli_writes_png_and_svg(data: Path, tmp_path: Path) -> None:
    png, svg = tmp_path / "out" / "h.png", tmp_path / "h.svg"
    for path in (png, svg):
        result = CliRunner().invoke(main, ["plot", "--data-dir", str(data), "--out", str(path)])
        assert result.exit_code == 0, result.stderr
        assert result.stdout == f"{path}\n"
    assert png_size(png) == (1080, 900)
    root = ET.fromstring(svg.read_bytes())
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert (root.get("width"), root.get("height")) == ("648pt", "540pt")  # 9 x 7.5 inches
    assert len(root.findall(".//{http://www.w3.org/2000/svg}path")) > 50
    # Same history, same bytes: no dates or random IDs inside.
    first = svg.read_bytes()
    CliRunner().invoke(main, ["plot", "--data-dir", str(data), "--out", str(svg)])
    assert svg.read_bytes() == first


def test_default_author_and_file_name(data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["plot", "--data-dir", str(data)])
    assert result.exit_code == 0, result.stderr
    assert png_size(tmp_path / f"{SID}-citations.png")[0] > 0


@pytest.mark.parametrize(
    ("setup", "args", "message"),
    [
        ("two", [], "2 authors in"),
        ("one", ["--out", "x.pdf"], "--out must end in .png or .svg"),
        ("one", ["--author", "nOsUcHaUtHoR"], "no data for author nOsUcHaUtHoR"),
        ("empty", ["--author", OTHER], f"no snapshots of {OTHER}"),
    ],
)
def test_plot_errors(data: Path, tmp_path: Path, setup: str, args: list[str], message: str) -> None:
    if setup == "two":
        AuthorStore(data, OTHER).write_snapshot(record(0, 1, sid=OTHER))
    if setup == "empty":
        (data / OTHER / "snapshots").mkdir(parents=True)
    result = CliRunner().invoke(main, ["plot", "--data-dir", str(data), *args])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ") and message in result.stderr and result.stderr.count("\n") == 1


def test_one_snapshot_without_histogram_still_draws(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    bare = AuthorRecord(
        profile=Profile(scholar_id=SID, name="N"),
        metrics=Metrics(citations=3),
        fetched_at=datetime(2025, 1, 1, tzinfo=UTC),
    )
    AuthorStore(folder, SID).write_snapshot(bare)
    figure = history_figure(folder, SID)
    line: Any = figure.axes[0].get_lines()[0]
    assert list(line.get_ydata()) == [3]
    assert len(figure.axes[1].patches) == 0
    assert render(figure, "png")[:4] == b"\x89PNG"
