"""Badges: number formats, the shields.io endpoint schema, SVG, and the files write_badges keeps."""

from __future__ import annotations

import errno
import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crawler.errors import StorageError
from crawler.models import AuthorRecord, Metrics, Profile, Publication
from crawler.outputs.badges import (
    BADGE_DIR,
    SHIELDS_FILE,
    BadgeLabels,
    BadgeStyle,
    endpoint_badge,
    endpoint_problems,
    format_number,
    write_badges,
)
from crawler.outputs.svg import STYLES, render_svg, svg_color, text_width

SVG_NS = "{http://www.w3.org/2000/svg}"
PARSABLE_FIXTURES = [
    "bohlooli_en_50rows.html",
    "cherukuri_en_20rows_showmore.html",
    "denner_pt-PT_176rows_browser-saved.html",
    "kietzig_en_2021_pagesize2.html",
    "kietzig_fr_2019_pagesize2.html",
]


def make_record(
    *,
    citations: int | None = 1799,
    h_index: int | None = 17,
    i10_index: int | None = 31,
    pubs: tuple[tuple[str, int | None], ...] = (
        ("AoKJ_g4AAAAJ:5ugPr518TE4C", 471),
        ("AoKJ_g4AAAAJ:LkGwnXOMwfcC", 153),
        ("AoKJ_g4AAAAJ:u5HHmVD_uO8C", 151),
    ),
    source: str = "scholar",
) -> AuthorRecord:
    # Numbers from the Denner page of tests/fixtures/scholar (see its README.md).
    return AuthorRecord(
        profile=Profile(scholar_id="AoKJ_g4AAAAJ", name="Carlos Denner dos Santos", affiliation="Videns AI"),
        metrics=Metrics(
            citations=citations,
            citations_since=1134,
            h_index=h_index,
            h_index_since=14,
            i10_index=i10_index,
            i10_index_since=19,
            since_year=2020,
        ),
        cites_per_year=((2024, 295), (2025, 285)),
        publications=tuple(
            Publication(author_pub_id=pub_id, title=f"paper {i}", citations=cites)
            for i, (pub_id, cites) in enumerate(pubs)
        ),
        source=source,
        fetched_at=datetime(2025, 11, 14, 12, 0, 0, tzinfo=UTC),
    )


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def all_files(root: Path) -> dict[Path, tuple[bytes, int]]:
    return {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(root.rglob("*")) if p.is_file()}


def svg_root(text: str) -> ET.Element:
    return ET.fromstring(text)


# --- format_number -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "fmt", "expected"),
    [
        (0, "plain", "0"),
        (1234, "plain", "1234"),
        (1234567, "plain", "1234567"),
        (0, "comma", "0"),
        (999, "comma", "999"),
        (1234, "comma", "1,234"),
        (1234567, "comma", "1,234,567"),
        (0, "short", "0"),
        (999, "short", "999"),
        (1000, "short", "1k"),
        (1050, "short", "1k"),
        (1100, "short", "1.1k"),
        (1250, "short", "1.2k"),
        (1999, "short", "1.9k"),
        (9999, "short", "9.9k"),
        (10_000, "short", "10k"),
        (12_345, "short", "12k"),
        (999_950, "short", "999k"),
        (999_999, "short", "999k"),
        (1_000_000, "short", "1M"),
        (1_234_567, "short", "1.2M"),
        (12_000_000, "short", "12M"),
        (2_500_000_000, "short", "2.5B"),
    ],
)
def test_format_number(n: int, fmt: str, expected: str) -> None:
    assert format_number(n, fmt) == expected


def test_format_number_refuses_bad_input() -> None:
    with pytest.raises(ValueError, match="unknown number format"):
        format_number(5, "roman")
    with pytest.raises(ValueError, match="negative"):
        format_number(-1, "plain")
    with pytest.raises(TypeError):
        format_number(True, "plain")


def _short_value(text: str) -> tuple[float, float]:
    """The number a short form stands for, and the step of its last digit."""
    units = {"k": 10**3, "M": 10**6, "B": 10**9}
    if text[-1] not in units:
        return float(text), 1.0
    unit = units[text[-1]]
    number = text[:-1]
    step = unit / 10 if int(float(number)) < 10 else unit
    return float(number) * unit, step


@given(st.integers(min_value=0, max_value=10**12))
def test_short_never_overstates_and_loses_under_one_step(n: int) -> None:
    value, step = _short_value(format_number(n, "short"))
    assert value <= n < value + step


# --- BadgeStyle ----------------------------------------------------------------------------


def test_badge_style_defaults() -> None:
    style = BadgeStyle()
    assert style.number_format == "plain"
    assert style.color == "9cf"
    assert style.logo == "googlescholar"
    assert style.style == "flat"
    assert style.cache_seconds == 3600
    assert style.source_in_label is True
    assert style.labels == BadgeLabels("citations", "h-index", "i10-index", "publications", "citations")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"cache_seconds": 299}, "at least 300"),
        ({"cache_seconds": 0}, "at least 300"),
        ({"cache_seconds": 2**53}, "at most 9007199254740991"),
        ({"cache_seconds": 2**63 - 1}, "at most"),
        ({"cache_seconds": True}, "integer"),
        ({"cache_seconds": "3600"}, "integer"),
        ({"style": "round"}, "style must be one of"),
        ({"number_format": "roman"}, "number_format"),
        ({"color": 'red" onload="x'}, "not a badge colour"),
        ({"label_color": "<b>"}, "not a badge colour"),
        ({"source_in_label": "yes"}, "true or false"),
    ],
)
def test_badge_style_refuses(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        BadgeStyle(**kwargs)


def test_badge_style_minimum_cache_is_allowed() -> None:
    assert BadgeStyle(cache_seconds=300).cache_seconds == 300


def test_badge_style_largest_cache_shields_io_accepts_is_allowed() -> None:
    style = BadgeStyle(cache_seconds=2**53 - 1)
    assert endpoint_badge("citations", "1", style)["cacheSeconds"] == 9007199254740991


def test_a_cache_shields_io_would_refuse_is_a_config_error_before_any_request(tmp_path: Path) -> None:
    """TOML holds integers up to 2^63-1; shields.io's JSON numbers stop being exact at 2^53."""
    config = tmp_path / "scholar-stats.toml"
    config.write_text('[[authors]]\nid = "aliceAAAAAAJ"\n[badge]\ncache_seconds = 9007199254740992\n')
    proc = subprocess.run(
        [sys.executable, "-m", "crawler", "run", "--config", str(config), "--base-url", "http://127.0.0.1:9"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stderr.startswith(f"error: {config}:4: badge.cache_seconds:")
    assert "at most 9007199254740991" in proc.stderr and len(proc.stderr.splitlines()) == 1
    assert not (tmp_path / "data").exists()


def test_badge_style_takes_labels_as_a_table() -> None:
    # What a configuration file's [badge] table hands over unchanged.
    table: dict[str, Any] = {"labels": {"i10-index": "i10", "publications": "papers"}}
    style = BadgeStyle(**table)
    assert style.labels == BadgeLabels(i10_index="i10", publications="papers")
    with pytest.raises(ValueError, match="unknown badge label"):
        BadgeStyle(**{"labels": {"g-index": "g"}})  # type: ignore[arg-type]


def test_badge_style_from_table() -> None:
    style = BadgeStyle.from_table(
        {
            "number-format": "comma",
            "color": "blue",
            "label_color": "f6f6f6",
            "cache-seconds": 86400,
            "labels": {"citations": "cited by", "h-index": "h", "publication": "cites"},
            "source_in_label": False,
        }
    )
    assert style.number_format == "comma"
    assert style.label_color == "f6f6f6"
    assert style.cache_seconds == 86400
    assert style.labels.citations == "cited by"
    assert style.labels.h_index == "h"
    assert style.labels.i10_index == "i10-index"
    assert style.labels.publication == "cites"
    assert style.source_in_label is False


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"colour": "blue"}, "unknown key 'colour'"),
        ({"labels": {"g-index": "g"}}, "unknown badge label 'g-index'"),
        ({"labels": {"citations": 3}}, "must be a string"),
        ({"labels": "citations"}, "must be a table"),
        ({"color": "url(#x)"}, "badge color: not a badge colour"),
        ({"cache_seconds": 120}, "at least 300"),
    ],
)
def test_badge_style_from_table_refuses(table: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        BadgeStyle.from_table(table)


# --- endpoint JSON -------------------------------------------------------------------------


def test_endpoint_badge_key_order_and_values() -> None:
    badge = endpoint_badge("citations", "1799", BadgeStyle(label_color="f6f6f6"))
    assert list(badge) == [
        "schemaVersion",
        "label",
        "message",
        "color",
        "labelColor",
        "namedLogo",
        "style",
        "cacheSeconds",
    ]
    assert badge == {
        "schemaVersion": 1,
        "label": "citations",
        "message": "1799",
        "color": "9cf",
        "labelColor": "f6f6f6",
        "namedLogo": "googlescholar",
        "style": "flat",
        "cacheSeconds": 3600,
    }


def test_endpoint_badge_logo_svg_never_with_named_logo() -> None:
    logo = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1"/>'
    badge = endpoint_badge("citations", "5", BadgeStyle(logo=logo))
    assert badge["logoSvg"] == logo
    assert "namedLogo" not in badge
    no_logo = endpoint_badge("citations", "5", BadgeStyle(logo=""))
    assert "namedLogo" not in no_logo and "logoSvg" not in no_logo
    assert "labelColor" not in no_logo


def test_endpoint_badge_refuses_empty_message() -> None:
    with pytest.raises(ValueError, match="message must be a non-empty string"):
        endpoint_badge("citations", "", BadgeStyle())


VALID = {"schemaVersion": 1, "label": "citations", "message": "1799"}


@pytest.mark.parametrize(
    "obj",
    [
        VALID,
        {**VALID, "label": ""},
        {
            **VALID,
            "color": "9cf",
            "labelColor": "grey",
            "isError": False,
            "namedLogo": "googlescholar",
            "logoColor": "white",
            "logoSize": "auto",
            "logoWidth": 14,
            "style": "for-the-badge",
            "cacheSeconds": 300,
        },
        {**VALID, "logoSvg": "<svg/>", "logoWidth": 12.5},
    ],
)
def test_endpoint_problems_accepts_valid(obj: dict[str, Any]) -> None:
    assert endpoint_problems(obj) == []


@pytest.mark.parametrize(
    ("obj", "problem"),
    [
        ({**VALID, "link": "https://example.org"}, "unknown key 'link'"),
        ({**VALID, "cacheSeconds": 299}, "cacheSeconds must be at least 300"),
        ({**VALID, "cacheSeconds": 2**53}, "cacheSeconds must be at most 9007199254740991"),
        ({**VALID, "cacheSeconds": "3600"}, "cacheSeconds must be an integer"),
        ({**VALID, "cacheSeconds": 3600.0}, "cacheSeconds must be an integer"),
        ({**VALID, "namedLogo": "googlescholar", "logoSvg": "<svg/>"}, "namedLogo and logoSvg"),
        ({**VALID, "message": ""}, "message must be a non-empty string"),
        ({**VALID, "message": 1799}, "message must be a non-empty string"),
        ({"schemaVersion": 1, "label": "citations"}, "message is missing"),
        ({"schemaVersion": 1, "message": "1"}, "label is missing"),
        ({**VALID, "label": None}, "label must be a string"),
        ({**VALID, "schemaVersion": 2}, "schemaVersion must be 1"),
        ({**VALID, "schemaVersion": True}, "schemaVersion must be 1"),
        ({"label": "a", "message": "b"}, "schemaVersion is missing"),
        ({**VALID, "isError": "yes"}, "isError must be true or false"),
        ({**VALID, "logoColor": "white"}, "logoColor needs namedLogo"),
        ({**VALID, "logoSvg": "<svg/>", "logoSize": "auto"}, "logoSize needs namedLogo"),
        ({**VALID, "logoWidth": 14}, "logoWidth needs namedLogo or logoSvg"),
        ({**VALID, "namedLogo": "x", "logoWidth": "14"}, "logoWidth must be a number"),
        ({**VALID, "style": "round"}, "style must be one of"),
        ({**VALID, "color": ""}, "color must be a non-empty string"),
        ({**VALID, "namedLogo": 3}, "namedLogo must be a non-empty string"),
        ([VALID], "must be a JSON object"),
    ],
)
def test_endpoint_problems_rejects(obj: object, problem: str) -> None:
    problems = endpoint_problems(obj)
    assert any(problem in p for p in problems), problems


def test_endpoint_problems_reports_every_problem() -> None:
    problems = endpoint_problems({"schemaVersion": 2, "label": 1, "message": "", "extra": 1})
    assert len(problems) == 4


# --- SVG -----------------------------------------------------------------------------------


@pytest.mark.parametrize("style", STYLES)
def test_svg_is_well_formed_and_escaped(style: str) -> None:
    label, message = 'a<b & "c"', "1 < 2 & 'x' > \"y\""
    text = render_svg(label, message, color="brightgreen", label_color="f6f6f6", style=style)
    root = svg_root(text)
    assert root.tag == f"{SVG_NS}svg"
    title = root.find(f"{SVG_NS}title")
    assert title is not None and title.text == f"{label}: {message}"
    assert root.get("aria-label") == f"{label}: {message}"
    shown = [t.text for t in root.iter(f"{SVG_NS}text")]
    if style == "for-the-badge":
        assert shown == [label.upper(), label.upper(), message.upper(), message.upper()]
        assert root.get("height") == "28"
    else:
        assert shown == [label, label, message, message]
    assert "<b" not in text.replace("<title>", "")


@pytest.mark.parametrize("style", STYLES)
def test_svg_has_no_external_references(style: str) -> None:
    logo = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1"><rect width="1" height="1"/></svg>'
    for text in (
        render_svg("citations", "1799", color="9cf", style=style),
        render_svg("citations", "1799", color="9cf", style=style, logo_svg=logo),
    ):
        assert re.findall(r"https?://[^\s\"'<>)]+", text) == ["http://www.w3.org/2000/svg"]
        hrefs = [el.get("href") for el in svg_root(text).iter() if el.get("href") is not None]
        assert all(str(h).startswith("data:image/svg+xml;base64,") for h in hrefs)
        assert "@import" not in text and "<style" not in text


def test_svg_is_deterministic() -> None:
    first = render_svg("citations (OpenAlex)", "1,799", color="blue", style="flat")
    second = render_svg("citations (OpenAlex)", "1,799", color="blue", style="flat")
    assert first == second
    assert first.endswith("</svg>\n")


def test_svg_width_follows_text() -> None:
    def width(message: str) -> int:
        return int(svg_root(render_svg("citations", message, color="blue")).get("width") or 0)

    assert width("12345") > width("12")
    assert text_width("mmmmm") > text_width("iiiii") * 2
    # A wide (CJK) character takes about a full em, more than a Latin letter.
    assert text_width("引") > text_width("a")
    # A "citations" label is about 46px of Verdana 11px text.
    assert 40 < text_width("citations") < 52


def test_svg_colors() -> None:
    assert svg_color("brightgreen") == "#4c1"
    assert svg_color("lightgrey") == "#9f9f9f"
    assert svg_color("9cf") == "#9cf"
    assert svg_color("007ec6") == "#007ec6"
    assert svg_color("#007ec6") == "#007ec6"
    assert svg_color("rgb(1, 2, 3)") == "rgb(1, 2, 3)"
    assert svg_color("purple") == "purple"
    with pytest.raises(ValueError):
        svg_color('red"/><script>')
    text = render_svg("h-index", "17", color="red", label_color="blue")
    fills = [el.get("fill") for el in svg_root(text).iter(f"{SVG_NS}rect")]
    assert "#e05d44" in fills and "#007ec6" in fills
    with pytest.raises(ValueError, match="unknown badge style"):
        render_svg("a", "b", color="red", style="round")


def test_svg_text_color_stays_readable() -> None:
    light = svg_root(render_svg("a", "b", color="9cf"))
    dark = svg_root(render_svg("a", "b", color="blue"))
    light_fills = [t.get("fill") for t in light.iter(f"{SVG_NS}text")]
    dark_fills = [t.get("fill") for t in dark.iter(f"{SVG_NS}text")]
    assert light_fills[-1] == "#333"
    assert dark_fills[-1] == "#fff"


def test_svg_without_label_draws_the_message_only() -> None:
    root = svg_root(render_svg("", "1799", color="blue"))
    assert [t.text for t in root.iter(f"{SVG_NS}text")] == ["1799", "1799"]
    assert root.find(f"{SVG_NS}title") is not None
    assert root.find(f"{SVG_NS}title").text == "1799"  # type: ignore[union-attr]


def test_svg_drops_characters_xml_forbids() -> None:
    root = svg_root(render_svg("cit\x00ations\x1b", "17", color="blue"))
    assert [t.text for t in root.iter(f"{SVG_NS}text")] == ["citations", "citations", "17", "17"]


# --- write_badges --------------------------------------------------------------------------


def check_badge_folder(author_dir: Path) -> list[Path]:
    """Every JSON badge is valid and every SVG parses; return the JSON files."""
    jsons = sorted(author_dir.rglob("*.json"))
    for path in jsons:
        raw = path.read_bytes()
        assert raw.endswith(b"}\n")
        assert endpoint_problems(json.loads(raw)) == [], path
    for path in sorted(author_dir.rglob("*.svg")):
        assert svg_root(path.read_text(encoding="utf-8")).tag == f"{SVG_NS}svg"
    return jsons


@pytest.mark.parametrize("name", PARSABLE_FIXTURES)
def test_real_parsed_record_badges_validate(
    name: str, fixtures_dir: Path, expected_values: dict[str, Any], tmp_path: Path
) -> None:
    parser = pytest.importorskip("crawler.sources.scholar_page")
    page = parser.parse_profile((fixtures_dir / name).read_bytes())
    record = parser.page_to_record(page)
    expected = expected_values[name]

    written = write_badges(tmp_path, record, BadgeStyle())
    jsons = check_badge_folder(tmp_path)
    assert sorted(written) == sorted(p for p in tmp_path.rglob("*") if p.is_file())

    shields = read_json(tmp_path / "gs_data_shieldsio.json")
    assert shields["label"] == "citations"
    assert shields["message"] == str(expected["citedby"])
    assert read_json(tmp_path / "badges" / "citations.json")["message"] == str(expected["citedby"])
    assert read_json(tmp_path / "badges" / "h-index.json")["message"] == str(expected["hindex"])
    assert read_json(tmp_path / "badges" / "i10-index.json")["message"] == str(expected["i10index"])
    assert read_json(tmp_path / "badges" / "publications.json")["message"] == str(
        expected["n_publication_rows"]
    )

    pub_ids = {p.author_pub_id for p in record.publications if p.citations is not None}
    pub_jsons = [p for p in jsons if p.parent.name == "pubs"]
    assert {p.stem for p in pub_jsons} == pub_ids
    first = record.publications[0]
    assert first.citations == expected["first3"][0]["num_citations"]
    first_badge = read_json(tmp_path / "badges" / "pubs" / f"{first.author_pub_id}.json")
    assert first_badge["message"] == str(expected["first3"][0]["num_citations"])
    assert first_badge["label"] == "citations"


def test_model_record_badges(tmp_path: Path) -> None:
    style = BadgeStyle(number_format="comma")
    written = write_badges(tmp_path, make_record(), style)
    rel = sorted(str(p.relative_to(tmp_path)) for p in written)
    assert rel == [
        "badges/citations.json",
        "badges/citations.svg",
        "badges/h-index.json",
        "badges/h-index.svg",
        "badges/i10-index.json",
        "badges/i10-index.svg",
        "badges/publications.json",
        "badges/publications.svg",
        "badges/pubs/AoKJ_g4AAAAJ:5ugPr518TE4C.json",
        "badges/pubs/AoKJ_g4AAAAJ:5ugPr518TE4C.svg",
        "badges/pubs/AoKJ_g4AAAAJ:LkGwnXOMwfcC.json",
        "badges/pubs/AoKJ_g4AAAAJ:LkGwnXOMwfcC.svg",
        "badges/pubs/AoKJ_g4AAAAJ:u5HHmVD_uO8C.json",
        "badges/pubs/AoKJ_g4AAAAJ:u5HHmVD_uO8C.svg",
        "gs_data_shieldsio.json",
    ]
    check_badge_folder(tmp_path)
    assert read_json(tmp_path / "gs_data_shieldsio.json")["message"] == "1,799"
    assert read_json(tmp_path / "badges" / "publications.json")["message"] == "3"
    assert read_json(tmp_path / "badges" / "pubs" / "AoKJ_g4AAAAJ:5ugPr518TE4C.json")["message"] == "471"
    svg = svg_root((tmp_path / "badges" / "h-index.svg").read_text(encoding="utf-8"))
    assert svg.find(f"{SVG_NS}title").text == "h-index: 17"  # type: ignore[union-attr]


def test_second_write_changes_nothing(tmp_path: Path) -> None:
    record = make_record()
    assert write_badges(tmp_path, record, BadgeStyle())
    before = all_files(tmp_path)
    assert write_badges(tmp_path, record.with_fetched_at(datetime.now(UTC)), BadgeStyle()) == []
    assert all_files(tmp_path) == before


def test_only_changed_badges_are_written(tmp_path: Path) -> None:
    write_badges(tmp_path, make_record(), BadgeStyle())
    before = all_files(tmp_path)
    changed = make_record(
        pubs=(
            ("AoKJ_g4AAAAJ:5ugPr518TE4C", 472),
            ("AoKJ_g4AAAAJ:LkGwnXOMwfcC", 153),
            ("AoKJ_g4AAAAJ:u5HHmVD_uO8C", 151),
        )
    )
    written = write_badges(tmp_path, changed, BadgeStyle())
    pubs = tmp_path / "badges" / "pubs"
    assert written == [pubs / "AoKJ_g4AAAAJ:5ugPr518TE4C.json", pubs / "AoKJ_g4AAAAJ:5ugPr518TE4C.svg"]
    after = all_files(tmp_path)
    for path, state in before.items():
        if path not in written:
            assert after[path] == state, path
    assert read_json(written[0])["message"] == "472"


def test_vanished_publication_badge_is_removed(tmp_path: Path) -> None:
    write_badges(tmp_path, make_record(), BadgeStyle())
    pubs = tmp_path / "badges" / "pubs"
    keep_note = pubs / "NOTES.txt"
    keep_note.write_text("not a badge\n")
    gone = "AoKJ_g4AAAAJ:LkGwnXOMwfcC"
    assert (pubs / f"{gone}.json").exists()
    smaller = make_record(pubs=(("AoKJ_g4AAAAJ:5ugPr518TE4C", 471), ("AoKJ_g4AAAAJ:u5HHmVD_uO8C", 151)))
    written = write_badges(tmp_path, smaller, BadgeStyle())
    assert not (pubs / f"{gone}.json").exists()
    assert not (pubs / f"{gone}.svg").exists()
    assert sorted(p.name for p in pubs.iterdir()) == [
        "AoKJ_g4AAAAJ:5ugPr518TE4C.json",
        "AoKJ_g4AAAAJ:5ugPr518TE4C.svg",
        "AoKJ_g4AAAAJ:u5HHmVD_uO8C.json",
        "AoKJ_g4AAAAJ:u5HHmVD_uO8C.svg",
        "NOTES.txt",
    ]
    # The publication count changed, nothing else did.
    assert written == [tmp_path / "badges" / "publications.json", tmp_path / "badges" / "publications.svg"]
    assert read_json(tmp_path / "badges" / "publications.json")["message"] == "2"


def test_unknown_numbers_get_no_badge_and_lose_the_old_one(tmp_path: Path) -> None:
    write_badges(tmp_path, make_record(), BadgeStyle())
    assert (tmp_path / "badges" / "h-index.svg").exists()
    record = make_record(
        citations=None,
        h_index=None,
        pubs=(("AoKJ_g4AAAAJ:5ugPr518TE4C", None), ("AoKJ_g4AAAAJ:u5HHmVD_uO8C", 0)),
    )
    write_badges(tmp_path, record, BadgeStyle())
    badges = tmp_path / "badges"
    assert not (tmp_path / "gs_data_shieldsio.json").exists()
    for stem in ("citations", "h-index"):
        assert not (badges / f"{stem}.json").exists()
        assert not (badges / f"{stem}.svg").exists()
    assert read_json(badges / "i10-index.json")["message"] == "31"
    assert sorted(p.name for p in (badges / "pubs").iterdir()) == [
        "AoKJ_g4AAAAJ:u5HHmVD_uO8C.json",
        "AoKJ_g4AAAAJ:u5HHmVD_uO8C.svg",
    ]
    # A real zero is a number and keeps its badge.
    assert read_json(badges / "pubs" / "AoKJ_g4AAAAJ:u5HHmVD_uO8C.json")["message"] == "0"


def test_no_publications_no_count_badge(tmp_path: Path) -> None:
    write_badges(tmp_path, make_record(), BadgeStyle())
    write_badges(tmp_path, make_record(pubs=()), BadgeStyle())
    assert not (tmp_path / "badges" / "publications.json").exists()
    assert list((tmp_path / "badges" / "pubs").iterdir()) == []
    assert read_json(tmp_path / "badges" / "citations.json")["message"] == "1799"


@pytest.mark.parametrize(
    ("source", "source_in_label", "expected"),
    [
        ("openalex", True, "citations (OpenAlex)"),
        ("semantic-scholar", True, "citations (Semantic Scholar)"),
        ("openalex", False, "citations"),
        ("serpapi", True, "citations"),
        ("scholarly", True, "citations"),
        ("scholar", True, "citations"),
    ],
)
def test_source_in_label(source: str, source_in_label: bool, expected: str, tmp_path: Path) -> None:
    style = BadgeStyle(source_in_label=source_in_label)
    write_badges(tmp_path, make_record(source=source), style)
    assert read_json(tmp_path / "gs_data_shieldsio.json")["label"] == expected
    assert read_json(tmp_path / "badges" / "citations.json")["label"] == expected
    pub_badge = tmp_path / "badges" / "pubs" / "AoKJ_g4AAAAJ:5ugPr518TE4C"
    assert read_json(pub_badge.with_name(pub_badge.name + ".json"))["label"] == expected
    h_label = read_json(tmp_path / "badges" / "h-index.json")["label"]
    assert h_label == expected.replace("citations", "h-index")
    title = svg_root((tmp_path / "badges" / "citations.svg").read_text(encoding="utf-8")).find(
        f"{SVG_NS}title"
    )
    assert title is not None and title.text == f"{expected}: 1799"


def test_source_change_rewrites_labels(tmp_path: Path) -> None:
    write_badges(tmp_path, make_record(source="scholar"), BadgeStyle())
    written = write_badges(tmp_path, make_record(source="openalex"), BadgeStyle())
    # Every badge's label changed, so every file was rewritten.
    assert len(written) == 15


@pytest.mark.parametrize("bad_id", ["../escape", "/etc/passwd", ".hidden", "a/b", ""])
def test_unsafe_publication_ids_are_skipped(bad_id: str, tmp_path: Path) -> None:
    author_dir = tmp_path / "author"
    record = make_record(pubs=((bad_id, 5), ("AoKJ_g4AAAAJ:5ugPr518TE4C", 471)))
    write_badges(author_dir, record, BadgeStyle())
    outside = [p for p in tmp_path.rglob("*") if p.is_file() and author_dir not in p.parents]
    assert outside == []
    assert sorted(p.name for p in (author_dir / "badges" / "pubs").iterdir()) == [
        "AoKJ_g4AAAAJ:5ugPr518TE4C.json",
        "AoKJ_g4AAAAJ:5ugPr518TE4C.svg",
    ]
    # The count still counts every publication of the record.
    assert read_json(author_dir / "badges" / "publications.json")["message"] == "2"


def test_style_keys_reach_every_badge(tmp_path: Path) -> None:
    style = BadgeStyle(color="brightgreen", label_color="f6f6f6", style="flat-square", cache_seconds=86400)
    write_badges(tmp_path, make_record(), style)
    for path in check_badge_folder(tmp_path):
        badge = read_json(path)
        assert (badge["color"], badge["labelColor"], badge["style"], badge["cacheSeconds"]) == (
            "brightgreen",
            "f6f6f6",
            "flat-square",
            86400,
        )
    svg = svg_root((tmp_path / "badges" / "citations.svg").read_text(encoding="utf-8"))
    fills = [el.get("fill") for el in svg.iter(f"{SVG_NS}rect")]
    assert fills == ["#f6f6f6", "#4c1"]


# --- docs/badges.md ------------------------------------------------------------------------

DOCS = Path(__file__).resolve().parent.parent / "docs" / "badges.md"


def test_docs_config_example_is_a_valid_badge_table() -> None:
    import tomllib

    block = re.search(r"```toml\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.S)
    assert block is not None
    style = BadgeStyle.from_table(tomllib.loads(block.group(1))["badge"])
    assert style.label_color == "f6f6f6"
    assert style.labels == BadgeLabels()


def test_docs_number_format_table_matches_format_number() -> None:
    text = DOCS.read_text(encoding="utf-8")
    rows = re.findall(r"^\| `(plain|comma|short)`[^|]*\| `([^`]+)` \| `([^`]+)` \| `([^`]+)` \|$", text, re.M)
    assert [r[0] for r in rows] == ["plain", "comma", "short"]
    for fmt, *shown in rows:
        assert shown == [format_number(n, fmt) for n in (1799, 12345, 1234567)]


def test_a_publication_id_given_twice_is_one_publication_everywhere(tmp_path: Path) -> None:
    from crawler.models import record_from_dict, record_to_dict
    from crawler.outputs.gs_data import gs_data_dict

    twice = (
        ("AoKJ_g4AAAAJ:5ugPr518TE4C", 471),
        ("AoKJ_g4AAAAJ:LkGwnXOMwfcC", 153),
        ("AoKJ_g4AAAAJ:5ugPr518TE4C", 9),
    )
    record = make_record(pubs=twice)
    assert [p.author_pub_id for p in record.publications] == [
        "AoKJ_g4AAAAJ:5ugPr518TE4C",
        "AoKJ_g4AAAAJ:LkGwnXOMwfcC",
    ]
    assert record.publications[0].citations == 471  # the first row listed wins
    write_badges(tmp_path, record, BadgeStyle())
    assert json.loads((tmp_path / "badges" / "publications.json").read_text())["message"] == "2"
    assert len(gs_data_dict(record)["publications"]) == 2
    stored = record_to_dict(record)
    assert stored["publication_count"] == 2 and len(stored["publications"]) == 2
    # A snapshot written before, with the ID twice, reads back as one publication too.
    stored["publications"].append(dict(stored["publications"][0]))
    assert len(record_from_dict(stored).publications) == 2


def test_a_first_badge_folder_appears_whole_or_not_at_all(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An author's first badges go in through one rename of their folder: a disk that fills
    up halfway leaves no half-written badge folder for a homepage to link to."""
    record = make_record()
    real_write = os.write
    calls = []

    def full_disk(fd: int, data: Any) -> int:
        calls.append(fd)
        if len(calls) == 6:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", full_disk)
    with pytest.raises(StorageError, match="disk full"):
        write_badges(tmp_path / "author", record, BadgeStyle(), jail=tmp_path)
    monkeypatch.undo()
    assert not (tmp_path / "author" / BADGE_DIR).exists()
    assert [p.name for p in (tmp_path / "author").iterdir()] == [SHIELDS_FILE]

    written = write_badges(tmp_path / "author", record, BadgeStyle(), jail=tmp_path)
    names = sorted(str(p.relative_to(tmp_path / "author")) for p in written)
    badge_files = (tmp_path / "author" / BADGE_DIR).rglob("*")
    assert names == sorted(str(p.relative_to(tmp_path / "author")) for p in badge_files if p.is_file())
    assert len(names) == 4 * 2 + 3 * 2  # the shields.io file was already whole
