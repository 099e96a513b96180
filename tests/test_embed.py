"""``scholar-stats embed``: the snippet it prints, the options it refuses, the example page."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from crawler.cli import load_command, main
from crawler.outputs.embed import js_literal, make_options, render_html, script_source

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "index.html"
DOCS = ROOT / "docs" / "homepage.md"
EXAMPLE_COMMAND = [
    "embed",
    "--repo",
    "your-github-name/your-github-name.github.io",
    "--author",
    "ExampleAAAAJ",
]

JSDELIVR = "https://cdn.jsdelivr.net/gh/{repo}@{branch}/{path}"
RAW = "https://raw.githubusercontent.com/{repo}/{branch}/{path}"

# The configuration is the argument of the IIFE: the last "})(...);" of the script.
CONFIG_RE = re.compile(r"\}\)\((\{[^\n]*\})\);\s*(?:</script>\s*)?$")


def invoke(*args: str) -> Any:
    return CliRunner().invoke(main, list(args))


def config_of(output: str) -> dict[str, Any]:
    match = CONFIG_RE.search(output)
    assert match, output[-300:]
    config: dict[str, Any] = json.loads(match.group(1))
    return config


def assert_usage_error(result: Any, *words: str) -> None:
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    for word in words:
        assert word in lines[0]


def test_default_snippet_tries_jsdelivr_then_raw_github() -> None:
    result = invoke("embed", "--repo", "RayeRen/acad-homepage.github.io")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.startswith("<!-- scholar-stats:")
    assert out.count("<script>") == 1
    assert out.rstrip().endswith("</script>")
    assert "'use strict';" in out
    assert config_of(out) == {
        "urls": [
            "https://cdn.jsdelivr.net/gh/RayeRen/acad-homepage.github.io@google-scholar-stats/gs_data.json",
            "https://raw.githubusercontent.com/RayeRen/acad-homepage.github.io/google-scholar-stats/gs_data.json",
        ],
        "timeoutMs": 5000,
    }
    # No jQuery: AcadHomepage's own script needs it, this one must not.
    assert "$(" not in out and "jQuery" not in out


def test_branch_author_and_timeout_go_into_the_urls() -> None:
    result = invoke(
        "embed",
        "--repo",
        "me/me.github.io",
        "--branch",
        "stats/daily",
        "--timeout-ms",
        "2500",
        "--author",
        "https://scholar.google.com/citations?user=amIMrIEAAAAJ&hl=en",
    )
    assert result.exit_code == 0, result.output
    path = "amIMrIEAAAAJ/gs_data.json"
    assert config_of(result.stdout) == {
        "urls": [
            JSDELIVR.format(repo="me/me.github.io", branch="stats/daily", path=path),
            RAW.format(repo="me/me.github.io", branch="stats/daily", path=path),
        ],
        "timeoutMs": 2500,
    }


def test_explicit_urls_replace_the_cdn_pair_in_order() -> None:
    result = invoke(
        "embed",
        "--url",
        "https://data.example.org/gs_data.json",
        "--url",
        "/assets/gs_data.json",
        "--repo",
        "ignored/when-urls-given",
    )
    assert result.exit_code == 0, result.output
    assert config_of(result.stdout)["urls"] == [
        "https://data.example.org/gs_data.json",
        "/assets/gs_data.json",
    ]


def test_js_format_is_the_bare_script() -> None:
    result = invoke("embed", "--repo", "a/b", "--format", "js")
    assert result.exit_code == 0, result.output
    assert "<script" not in result.stdout and "<!--" not in result.stdout
    assert result.stdout.startswith("/*")
    assert (
        config_of(result.stdout)["urls"][0]
        == "https://cdn.jsdelivr.net/gh/a/b@google-scholar-stats/gs_data.json"
    )


def test_repo_is_required_without_url() -> None:
    assert_usage_error(invoke("embed"), "--repo", "--url")


@pytest.mark.parametrize(
    "repo",
    [
        "noslash",
        "a/b/c",
        "-a/b",
        "a-/b",
        "a/..",
        "a b/c",
        'a/b"',
        "a/b</script>",
        "a/",
        "/b",
        "a" * 40 + "/b",
    ],
)
def test_bad_repo_is_a_usage_error(repo: str) -> None:
    assert_usage_error(invoke("embed", "--repo", repo), "--repo")


@pytest.mark.parametrize(
    "branch",
    [
        'x"</script>',
        "../x",
        "a..b",
        "-x",
        "a b",
        "x.lock",
        "a//b",
        "/a",
        "a/",
        "a@{1}",
        "a\\b",
        "é",
        "a\u2028b",
        "",
    ],
)
def test_bad_branch_is_a_usage_error(branch: str) -> None:
    assert_usage_error(invoke("embed", "--repo", "a/b", "--branch", branch), "--branch")


@pytest.mark.parametrize("author", ["not-an-id", "../../etc", "amIMrIEAAAAJ/x"])
def test_bad_author_is_a_usage_error(author: str) -> None:
    assert_usage_error(invoke("embed", "--repo", "a/b", "--author", author), "--author")


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "//cdn.example.org/gs_data.json",
        "http://a b/x",
        "ftp://x/gs_data.json",
        "http:///x",
        "http://x/\u2028",
        "http://[",
        "https://[::1/gs_data.json",
    ],
)
def test_bad_url_is_a_usage_error(url: str) -> None:
    assert_usage_error(invoke("embed", "--url", url), "--url")


@pytest.mark.parametrize("timeout", ["0", "99", "120001", "-5"])
def test_timeout_out_of_range_is_a_usage_error(timeout: str) -> None:
    assert_usage_error(invoke("embed", "--repo", "a/b", "--timeout-ms", timeout), "--timeout-ms")


def test_a_hostile_url_cannot_leave_the_string_or_the_script_element() -> None:
    hostile = "http://x/'\"</script><script>alert(1)</script><!--&"
    result = invoke("embed", "--url", hostile)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.lower().count("</script") == 1
    assert out.count("<!--") == 1  # the leading comment only
    assert "alert(1)" in out  # present, but only as escaped text inside a JSON string
    assert config_of(out)["urls"] == [hostile]


def test_js_literal_escapes_what_html_and_old_javascript_would_read() -> None:
    text = js_literal({"u": "</script>&<!--\u2028\u2029\"'"})
    assert "<" not in text and ">" not in text and "&" not in text
    assert "\u2028" not in text and "\u2029" not in text
    assert json.loads(text) == {"u": "</script>&<!--\u2028\u2029\"'"}


def test_script_inserts_text_only() -> None:
    source = script_source()
    # Data reaches the page through textContent and setAttribute only.
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
        assert sink not in source, sink
    assert source.count("/*scholar-stats:config*/") == 1
    assert "textContent" in source


def test_example_page_holds_the_current_snippet() -> None:
    result = invoke(*EXAMPLE_COMMAND)
    assert result.exit_code == 0, result.output
    page = EXAMPLE.read_text(encoding="utf-8")
    assert result.stdout in page, (
        "examples/index.html is out of date: regenerate its snippet with "
        + " ".join(["scholar-stats", *EXAMPLE_COMMAND])
    )
    assert result.stdout == render_html(
        make_options(repo="your-github-name/your-github-name.github.io", author="ExampleAAAAJ")
    )
    for marker in (
        'id="total_cit"',
        'class="show_paper_citations"',
        'id="h_index"',
        'id="i10_index"',
        'id="gs_updated"',
    ):
        assert marker in page, marker


def test_docs_cover_every_option_and_element() -> None:
    docs = DOCS.read_text(encoding="utf-8")
    command = load_command("embed")
    for param in command.params:
        for opt in param.opts:
            if opt.startswith("--") and opt != "--help":
                assert opt in docs, opt
    for name in ("total_cit", "show_paper_citations", "h_index", "i10_index", "gs_updated", "data-format"):
        assert name in docs, name
    keys = re.search(r"var FIELDS = \{(.*?)\};", script_source(), re.S)
    assert keys
    for key in [*re.findall(r"^\s*(\w+):", keys.group(1), re.M), "publications", "updated"]:
        assert f"`{key}`" in docs, key


def test_output_is_left_alone_by_jekyll_liquid() -> None:
    # AcadHomepage, academicpages and al-folio keep the snippet in a Liquid include.
    result = invoke("embed", "--repo", "a/b", "--author", "amIMrIEAAAAJ")
    assert result.exit_code == 0, result.output
    for tag in ("{{", "}}", "{%", "%}"):
        assert tag not in result.stdout, tag
