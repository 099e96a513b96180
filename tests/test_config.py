"""scholar-stats.toml: every key read, every mistake named by file, line and key before any request."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from clitools import SCHOLAR_STATS, clean_env
from replay import ReplayServer

from crawler.config import Config, load_config, read_config_file
from crawler.errors import ConfigError, UsageError
from crawler.outputs.badges import BadgeLabels, BadgeStyle
from crawler.policy.guard import GuardOptions
from crawler.sources import SOURCES

SID = "cOnFiGtEsT01"
OTHER = "cOnFiGtEsT02"


def write(tmp_path: Path, text: str, name: str = "scholar-stats.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def cli(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*SCHOLAR_STATS, *map(str, args)],
        cwd=cwd,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )


FULL = f"""\
# every key there is
data_dir = "out"
sources = ["scholar", "openalex"]
delay = 2.5
timeout = 7
deadline = 60
retries = 1
base_url = "http://127.0.0.1:9"
proxy = "socks5://127.0.0.1:9050"
root_author = "https://scholar.google.com/citations?user={SID}&hl=en"

[guard]
max_citation_drop = 0.2
max_publication_drop = 0.3
max_rise_factor = 4.5

[badge]
number_format = "comma"
color = "blue"
label_color = "555"
logo = ""
style = "for-the-badge"
cache_seconds = 7200
source_in_label = false
labels = {{ citations = "cited", "h-index" = "h" }}

[[authors]]
id = "{SID}"
label = "First Author"
sources = ["scholar"]

[[authors]]
id = "https://scholar.google.com/citations?user={OTHER}"
openalex = "A5023888391"
orcid = "0000-0002-1825-0097"
semantic_scholar = "1741101"
"""


def test_every_key_is_read(tmp_path: Path) -> None:
    path = write(tmp_path, FULL)
    config = load_config(path)
    assert isinstance(config, Config)
    assert config.path == path
    assert config.data_dir == tmp_path / "out"  # relative to the file, not the working folder
    assert config.sources == ("scholar", "openalex")
    assert (config.http.delay, config.http.timeout, config.http.deadline, config.http.retries) == (
        2.5,
        7.0,
        60.0,
        1,
    )
    assert config.http.proxy == "socks5://127.0.0.1:9050"
    assert config.base_url == "http://127.0.0.1:9"
    assert config.root_author == SID
    assert config.guard == GuardOptions(max_citation_drop=0.2, max_publication_drop=0.3, max_rise_factor=4.5)
    assert config.badge == BadgeStyle(
        number_format="comma",
        color="blue",
        label_color="555",
        logo=None,
        style="for-the-badge",
        cache_seconds=7200,
        source_in_label=False,
        labels=BadgeLabels(citations="cited", h_index="h"),
    )
    first, second = config.authors
    assert (first.scholar_id, first.label, first.sources, dict(first.ids)) == (
        SID,
        "First Author",
        ("scholar",),
        {},
    )
    assert second.scholar_id == OTHER and second.label is None and second.sources == ()
    assert dict(second.ids) == {
        "openalex": "A5023888391",
        "orcid": "0000-0002-1825-0097",
        "semantic-scholar": "1741101",
    }
    assert config.chain_for(first) == ("scholar",)
    assert config.chain_for(second) == ("scholar", "openalex")


def test_defaults(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, f'[[authors]]\nid = "{SID}"\n'))
    assert config.data_dir == tmp_path / "data"
    assert config.sources == ("scholar",)
    assert config.guard == GuardOptions(0.05, 0.10, 3.0)
    assert config.badge == BadgeStyle()
    assert (config.http.delay, config.http.timeout, config.http.deadline, config.http.retries) == (
        5.0,
        20.0,
        300.0,
        3,
    )
    assert config.base_url is None and config.root_author is None


def test_command_line_values_win(tmp_path: Path) -> None:
    path = write(tmp_path, FULL)
    config = load_config(
        path,
        authors=[OTHER, OTHER],
        data_dir=tmp_path / "elsewhere",
        base_url="http://127.0.0.1:1",
        sources=["openalex"],
        http={"delay": 0.0, "timeout": None},
    )
    assert [a.scholar_id for a in config.authors] == [OTHER]  # repeated --author counts once
    assert dict(config.authors[0].ids)["openalex"] == "A5023888391"  # the file's entry is kept
    assert config.data_dir == tmp_path / "elsewhere"
    assert config.base_url == "http://127.0.0.1:1"
    assert config.chain_for(config.authors[0]) == ("openalex",)
    assert config.http.delay == 0.0 and config.http.timeout == 7.0


def test_author_without_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    config = load_config(None, authors=[f"https://scholar.google.com/citations?user={SID}&hl=en"])
    assert [a.scholar_id for a in config.authors] == [SID]
    assert config.path is None and config.data_dir == Path("data")


def test_default_file_is_read_from_the_working_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, f'[[authors]]\nid = "{SID}"\n')
    monkeypatch.chdir(tmp_path)
    config = load_config(None)
    assert [a.scholar_id for a in config.authors] == [SID]


def test_no_author_at_all_is_a_usage_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UsageError, match="no author to follow"):
        load_config(None)
    with pytest.raises(UsageError, match="not a Google Scholar ID: 'short'"):
        load_config(None, authors=["short"])
    empty = write(tmp_path, "delay = 1\n")
    with pytest.raises(ConfigError) as info:
        load_config(empty)
    assert (
        str(info.value)
        == f"{empty}: no author to follow: add an [[authors]] entry or pass --author SCHOLAR_ID"
    )


BAD_FILES = [
    # (text, line, key or None, words in the message)
    (f'delay = 1\n[[authors]]\nid = "{SID}"\nlabel = \n', 4, None, "not valid TOML"),
    (f'[[authors]]\nid = "{SID}"\n[[authors]\n', 3, None, "not valid TOML"),
    (f'delay = 1\ndelya = 3\n[[authors]]\nid = "{SID}"\n', 2, "delya", "unknown key"),
    (
        f'[[authors]]\nid = "{SID}"\n\n[[authors]]\nlabel = "x"\nid = "not-an-id"\n',
        6,
        "authors[1].id",
        "not a Google Scholar ID: 'not-an-id'",
    ),
    (f'[[authors]]\nid = "{SID}"\nwebsite = "x"\n', 3, "authors[0].website", "unknown key"),
    (f'[[authors]]\nid = "{SID}"\n[[authors]]\nid = "{SID}"\n', 4, "authors[1].id", "listed twice"),
    ('[[authors]]\nlabel = "no id"\n', 1, "authors[0].id", "missing"),
    (f'sources = ["scholar", "googl"]\n[[authors]]\nid = "{SID}"\n', 1, "sources", "unknown source 'googl'"),
    (f'[[authors]]\nid = "{SID}"\nsources = ["nope"]\n', 3, "authors[0].sources", "unknown source 'nope'"),
    (
        f'timeout = 3\ndelay = -1\n[[authors]]\nid = "{SID}"\n',
        2,
        "delay",
        "must be a number ≥ 0 and ≤ 3600, not -1",
    ),
    (f'retries = 1.5\n[[authors]]\nid = "{SID}"\n', 1, "retries", "whole number"),
    (f'data_dir = 3\n[[authors]]\nid = "{SID}"\n', 1, "data_dir", "must be a string"),
    (
        f'[[authors]]\nid = "{SID}"\n\n[badge]\ncolor = "red"\ncache_seconds = 100\n',
        6,
        "badge.cache_seconds",
        "at least 300",
    ),
    (
        f'[[authors]]\nid = "{SID}"\n[badge]\nnumber_format = "roman"\n',
        4,
        "badge.number_format",
        "plain, comma, short",
    ),
    (
        f'[[authors]]\nid = "{SID}"\n[badge]\nlabels = {{ foo = "x" }}\n',
        4,
        "badge.labels",
        "unknown badge label 'foo'",
    ),
    (
        f'[[authors]]\nid = "{SID}"\n[guard]\nmax_citation_drop = "x"\n',
        4,
        "guard.max_citation_drop",
        "between 0 and 1",
    ),
    (
        f'[[authors]]\nid = "{SID}"\n[guard]\nmax_citation_drop = 0.1\nmax_publication_drop = 5\n',
        5,
        "guard.max_publication_drop",
        "between 0 and 1",
    ),
    (f'[[authors]]\nid = "{SID}"\n[guard]\nmax_drop = 0.1\n', 4, "guard.max_drop", "unknown key"),
    (
        f'[[authors]]\nid = "{SID}"\n[guard]\nmax_rise_factor = 0.5\n',
        4,
        "guard.max_rise_factor",
        "at least 1",
    ),
    (
        f'[[authors]]\nid = "{SID}"\n[guard]\nmax_rise_factor = nan\n',
        4,
        "guard.max_rise_factor",
        "at least 1",
    ),
    (
        f'[[authors]]\nid = "{SID}"\n[guard]\nmax_rise_factor = inf\n',
        4,
        "guard.max_rise_factor",
        "at least 1",
    ),
    (
        f'[[authors]]\nid = "{SID}"\n[guard]\nmax_rise_factor = "3"\n',
        4,
        "guard.max_rise_factor",
        "at least 1",
    ),
    (f'root_author = "nobody"\n[[authors]]\nid = "{SID}"\n', 1, "root_author", "not a Google Scholar ID"),
]


@pytest.mark.parametrize(("text", "line", "key", "words"), BAD_FILES)
def test_bad_file_names_file_line_and_key(
    tmp_path: Path, text: str, line: int, key: str | None, words: str
) -> None:
    path = write(tmp_path, text, "my.toml")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert message.startswith(f"{path}:{line}: ")
    if key is not None:
        assert message.startswith(f"{path}:{line}: {key}: ")
    assert words in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("text", "line", "key"),
    [
        (f'[[authors]]\nid = "{SID}"\nlabel = [\n', 3, None),
        (f'[[authors]]\nid = "{SID}"\nsurprise = 1\n', 3, "authors[0].surprise"),
        (f'[[authors]]\nid = "{SID}"\n[[authors]]\nid = "BAD ID"\n', 4, "authors[1].id"),
        (f'sources = ["scholar", "bing"]\n[[authors]]\nid = "{SID}"\n', 1, "sources"),
        (f'delay = -0.5\n[[authors]]\nid = "{SID}"\n', 1, "delay"),
        (f'[[authors]]\nid = "{SID}"\n[badge]\ncache_seconds = 100\n', 4, "badge.cache_seconds"),
    ],
)
def test_bad_file_stops_the_run_before_any_request(
    replay: ReplayServer, tmp_path: Path, text: str, line: int, key: str | None
) -> None:
    replay.add_profile(SID, 3)
    path = write(tmp_path, text, "bad.toml")
    data = tmp_path / "data"
    result = cli(
        "run", "--config", path, "--data-dir", data, "--base-url", replay.url, "--delay", "0", cwd=tmp_path
    )
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"error: {path}:{line}: " + (f"{key}: " if key else "not valid TOML: "))
    assert replay.requests == []
    assert not data.exists()


def test_missing_file_is_named(tmp_path: Path) -> None:
    result = cli("run", "--config", tmp_path / "nope.toml", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == f"error: {tmp_path / 'nope.toml'}: no such configuration file\n"


def test_bad_author_option_is_a_usage_error_before_any_request(replay: ReplayServer, tmp_path: Path) -> None:
    result = cli(
        "run", "--author", "amIMrIE", "--data-dir", tmp_path / "d", "--base-url", replay.url, cwd=tmp_path
    )
    assert result.returncode == 2
    assert result.stderr.startswith("error: not a Google Scholar ID: 'amIMrIE'")
    assert replay.requests == []


def test_author_option_works_without_a_file(replay: ReplayServer, tmp_path: Path) -> None:
    expected = replay.add_profile(SID, 3)
    assert not (tmp_path / "scholar-stats.toml").exists()
    result = cli("run", "--author", SID, "--base-url", replay.url, "--delay", "0", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    # The default data folder is ./data.
    assert (tmp_path / "data" / SID / "gs_data.json").is_file()
    assert f'"citedby": {expected.citations},' in (tmp_path / "data" / SID / "gs_data.json").read_text()


def test_config_file_drives_a_run(replay: ReplayServer, tmp_path: Path) -> None:
    first = replay.add_profile(SID, 5)
    second = replay.add_profile(OTHER, 2, seed=1)
    write(
        tmp_path,
        f'data_dir = "site-data"\ndelay = 0\nbase_url = "{replay.url}"\n'
        f'[badge]\nnumber_format = "comma"\n[[authors]]\nid = "{SID}"\n[[authors]]\nid = "{OTHER}"\n',
    )
    result = cli("run", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    for profile in (first, second):
        shield = (tmp_path / "site-data" / profile.scholar_id / "gs_data_shieldsio.json").read_text()
        assert f'"message": "{profile.citations:,}"' in shield


@pytest.mark.parametrize("value", ["0.5", "nan", "inf", "-3"])
def test_bad_max_rise_factor_option_is_a_usage_error(
    replay: ReplayServer, tmp_path: Path, value: str
) -> None:
    result = cli("run", "--author", SID, "--max-rise-factor", value, "--base-url", replay.url, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert (
        result.stderr.count("\n") == 1 and "max_rise_factor must be a number of at least 1" in result.stderr
    )
    assert replay.requests == []


def test_a_rise_past_the_factor_is_refused_until_the_factor_or_accept_drop_allows_it(
    replay: ReplayServer, tmp_path: Path
) -> None:
    replay.add_profile(SID, 20, citations=100)
    base = ("run", "--author", SID, "--base-url", replay.url, "--delay", "0")
    assert cli(*base, cwd=tmp_path).returncode == 0
    replay.add_profile(SID, 20, citations=1000)
    refused = cli(*base, cwd=tmp_path)
    assert refused.returncode == 6, refused.stderr
    assert "total citations rose from 100 to 1000 (more than 3 times as many)" in refused.stderr
    shield = tmp_path / "data" / SID / "gs_data_shieldsio.json"
    assert '"message": "100"' in shield.read_text()
    config = write(tmp_path, f'[guard]\nmax_rise_factor = 5\n[[authors]]\nid = "{SID}"\n')
    assert cli(*base, "--config", config, cwd=tmp_path).returncode == 6
    assert cli(*base, "--config", config, "--max-rise-factor", "10", cwd=tmp_path).returncode == 0
    assert '"message": "1000"' in shield.read_text()


ID_RULE = "(an ID is 12 letters, digits, '-' or '_', e.g. amIMrIEAAAAJ, or a profile URL with user=...)"
AUTHOR = f'[[authors]]\nid = "{SID}"\n'
# Every check of the file, each with its whole message: (text, what follows the file's path).
EVERY_MESSAGE = [
    ("site = 1\n", ":1: site: must be true or false, not 1"),
    ("site_title = 3\n", ":1: site_title: must be a string"),
    ("data_dir = true\n", ":1: data_dir: must be a string (a folder)"),
    ("root_author = 3\n", ":1: root_author: must be a string"),
    ('root_author = ""\n', f":1: root_author: not a Google Scholar ID: '' {ID_RULE}"),
    ("base_url = 3\n", ":1: base_url: must be a string"),
    ('base_url = " "\n', ":1: base_url: each entry must be a non-empty string, not ' '"),
    ('base_url = "ftp://x"\n', ":1: base_url: ftp://x: must be an http:// or https:// URL"),
    ("proxy = 3\n", ":1: proxy: must be a string or a list of strings, one per shard"),
    ('proxy = ""\n', ":1: proxy: each entry must be a non-empty string, not ''"),
    ("proxy = []\n", ":1: proxy: an empty list; give one value, or one per shard"),
    ('proxy = ["socks5://a:1080", 3]\n', ":1: proxy: each entry must be a non-empty string, not 3"),
    ('proxy = ["bad"]\n', ":1: proxy: bad is not a proxy URL: it needs a scheme, e.g. socks5://bad"),
    ("delay = []\n", ":1: delay: an empty list; give one value, or one per shard"),
    ("delay = [1, -1]\n", ":1: delay: must be a number ≥ 0 and ≤ 3600, not -1"),
    ("timeout = [1]\n", ":1: timeout: must be a number ≥ 0.1 and ≤ 3600, not [1]"),
    ("deadline = 0\n", ":1: deadline: must be a number ≥ 0.1 and ≤ 86400, not 0"),
    ("retries = true\n", ":1: retries: must be a whole number ≥ 0 and ≤ 10, not True"),
    ("sources = 3\n", ":1: sources: must be a list of source names"),
    ('on_block = "nope"\n', ":1: on_block: must be one of keep, bridge, replace, not 'nope'"),
    ('stale_after_days = "7"\n', ":1: stale_after_days: must be a number of days from 0 to 3650, not '7'"),
    ("guard = 3\n", ":1: guard: must be a table"),
    ("badge = { nope = 1 }\n", ": badge.nope: unknown key (known: cache_seconds, color, label_color, labels, "
     "logo, number_format, source_in_label, stale_color, style)"),
    ("authors = 3\n", ":1: authors: must be an array of tables ([[authors]])"),
    ("authors = [1]\n", ": authors[0].id: each [[authors]] entry must be a table"),
    ("[[authors]]\nid = 3\n", ":2: authors[0].id: must be a string, not 3"),
    (AUTHOR + "label = 3\n", ":3: authors[0].label: must be a string"),
    (AUTHOR + 'orcid = ""\n', ":3: authors[0].orcid: must be a non-empty string"),
    (AUTHOR + '"semantic-scholar" = " "\n', ":3: authors[0].semantic-scholar: must be a non-empty string"),
    (AUTHOR + "sources = [3]\n", ":3: authors[0].sources: must be a list of source names"),
    (AUTHOR + "on_block = 3\n", ":3: authors[0].on_block: must be one of keep, bridge, replace, not 3"),
    (
        AUTHOR + "stale_after_days = 4000\n",
        ":3: authors[0].stale_after_days: must be a number of days from 0 to 3650, not 4000",
    ),
    (
        "frob = 1\n",
        ":1: frob: unknown key (known: authors, badge, base_url, data_dir, deadline, delay, guard, on_block, "
        "proxy, retries, root_author, site, site_title, sources, stale_after_days, timeout)",
    ),
    (
        AUTHOR + "website = 1\n",
        ":3: authors[0].website: unknown key (known: id, label, on_block, openalex, orcid, semantic-scholar, "
        "semantic_scholar, sources, stale_after_days)",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("text", "message"), EVERY_MESSAGE)
def test_each_check_of_the_file_says_what_it_wants(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        read_config_file(path)
    assert str(info.value) == f"{path}{message}"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"authors": ["short"]}, f"not a Google Scholar ID: 'short' {ID_RULE}"),
        ({"base_url": "ftp://x"}, "--base-url: ftp://x: must be an http:// or https:// URL"),
        ({"sources": ["scholar", "nope"]}, f"unknown source 'nope' (choose from {', '.join(SOURCES)})"),
        ({"on_block": "nah"}, "--on-block must be one of keep, bridge, replace, not 'nah'"),
        ({"http": {"delay": -1.0}}, "must be a number ≥ 0 and ≤ 3600, not -1.0"),
        ({"http": {"retries": 99}}, "must be a whole number ≥ 0 and ≤ 10, not 99"),
        ({"guard": {"max_rise_factor": 0.5}}, "max_rise_factor must be a number of at least 1, not 0.5"),
        # The first mistake, in the order the options are checked.
        ({"base_url": "ftp://x", "sources": ["nope"]},
         "--base-url: ftp://x: must be an http:// or https:// URL"),
        ({"on_block": "nah", "http": {"delay": -1.0}},
         "--on-block must be one of keep, bridge, replace, not 'nah'"),
        ({"http": {"delay": -1.0}, "guard": {"max_rise_factor": 0.5}},
         "must be a number ≥ 0 and ≤ 3600, not -1.0"),
    ],
)  # fmt: skip
def test_each_check_of_an_option_says_what_it_wants(
    tmp_path: Path, options: dict[str, Any], message: str
) -> None:
    path = write(tmp_path, FULL)
    with pytest.raises(UsageError) as info:
        load_config(path, **options)
    assert str(info.value) == message


def test_a_proxy_variable_httpx_would_choke_on_stops_the_run_unless_a_proxy_is_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, AUTHOR)
    monkeypatch.setenv("HTTPS_PROXY", "ftp://x")
    with pytest.raises(UsageError) as info:
        load_config(path)
    assert str(info.value).startswith(
        "environment variable HTTPS_PROXY: ftp://x: 'ftp' proxies are not supported"
    )
    assert (
        load_config(path, http={"proxy": "socks5://127.0.0.1:9050"}).http.proxy == "socks5://127.0.0.1:9050"
    )


@pytest.mark.parametrize(
    ("text", "reported"),
    [
        ('site_title = 3\nproxy = "ftp://x"\n', "proxy"),
        ("base_url = 3\nproxy = 3\n", "proxy"),
        ('data_dir = 3\nroot_author = "nobody"\n', "root_author"),
        ('data_dir = 3\nbase_url = ""\n', "base_url"),
    ],
)
def test_with_several_mistakes_the_first_key_in_checking_order_is_reported(
    tmp_path: Path, text: str, reported: str
) -> None:
    """Each key is checked whole, its type then its value, one key after the other."""
    path = write(tmp_path, text + AUTHOR)
    with pytest.raises(ConfigError) as info:
        read_config_file(path)
    assert str(info.value).startswith(f"{path}:")
    assert str(info.value).split(": ")[1] == reported
