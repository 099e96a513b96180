"""Secrets with ordinary characters: masked on the URL's userinfo, wherever they are echoed.

A password is whatever the user chose: quotes, spaces, ``/ ? # @ :``, raw or
percent-encoded.  The unit tests pin ``crawler.net.redact``'s rules; the property
test runs ``run`` and ``publish`` with a random password in the proxy, the
mirror address and the remote, and looks for it in every file of the data
folder, every object of the data branch's repository, stdout and stderr.
"""

from __future__ import annotations

import dataclasses
import json
import re
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from crawler.cli import main
from crawler.net import redact as redact_module
from crawler.net.http import check_proxy
from crawler.net.redact import (
    SECRET_VARIABLES,
    forget_all,
    mask_url,
    redact,
    remember,
    remember_url,
    userinfo,
)
from crawler.outputs.badges import BadgeStyle
from crawler.outputs.write import write_outputs
from crawler.sources.scholar_page import page_to_record, parse_profile
from crawler.storage.store import AuthorStore

FIXTURES = Path(__file__).parent / "fixtures" / "scholar"
CRAWLER = Path(redact_module.__file__).parent


@pytest.fixture(autouse=True)
def fresh_secrets() -> Iterator[None]:
    forget_all()
    yield
    forget_all()


# -- the rules ---------------------------------------------------------------------------

AWKWARD = [
    "pass'word",
    'pa"ss',
    "pass word",
    "pa/w",
    "pa?w",
    "pa#w",
    "p@ss",
    "pa:w",
    "pa%27ss",
    "a'b\"c d/e?f#g@h:i",
]


@pytest.mark.parametrize("password", AWKWARD)
def test_the_userinfo_of_a_url_value_is_masked_whatever_it_holds(password: str) -> None:
    for url in (f"http://lab:{password}@proxy.example:8080", f"lab:{password}@proxy.example:8080"):
        assert userinfo(url) == f"lab:{password}"
        shown = mask_url(url)
        assert password not in shown
        assert shown.endswith("lab:***@proxy.example:8080")


@pytest.mark.parametrize("password", AWKWARD)
def test_a_remembered_secret_is_masked_in_any_text_in_any_spelling(password: str) -> None:
    remember_url(f"https://bob:{password}@git.example/alice/site.git")
    for spelled in (password, quote(password, safe=""), repr(password)[1:-1], json.dumps(password)[1:-1]):
        text = f"git push to https://bob:{spelled}@git.example/alice/site.git refused; saw {spelled!r}"
        assert password not in (redact(text) or "") and spelled not in (redact(text) or "")
        assert "git.example/alice/site.git" in (redact(text) or "")


def test_a_token_alone_as_userinfo_is_masked() -> None:
    assert mask_url("https://to'ken@github.com/alice/site.git") == "https://***@github.com/alice/site.git"
    remember_url("https://to'ken value@github.com/alice/site.git")
    assert redact("pushing with to'ken value") == "pushing with ***"


def test_free_text_masks_userinfo_up_to_the_last_at_before_the_host() -> None:
    text = "(the proxy socks5://lab:p'a\"s@s#w/o?rd@127.0.0.1:1080) failed"
    assert redact(text) == "(the proxy socks5://lab:***@127.0.0.1:1080) failed"
    # A scheme-less proxy; a plain URL and an e-mail address are left alone.
    assert redact("via lab:pa'ss@proxy.example:1080") == "via lab:***@proxy.example:1080"
    plain = "see https://scholar.google.com/citations?user=X&hl=en or mail bob@example.org"
    assert redact(plain) == plain


def test_short_secrets_are_masked_in_urls_only() -> None:
    remember("ab")
    assert redact("about http://u:ab@h.example") == "about http://u:***@h.example"


def test_secret_variables_are_masked_without_being_remembered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SERPAPI_KEY", "k'ey with space")
    monkeypatch.setenv("HTTPS_PROXY", "lab:pr oxy'pw@proxy.example:3128")
    text = redact("SerpApi said: bad key k'ey with space; proxy password pr oxy'pw")
    assert text == "SerpApi said: bad key ***; proxy password ***"


def test_every_secret_variable_the_package_reads_is_listed() -> None:
    """A new variable holding a key, token, password, proxy or URL cannot be forgotten."""
    names: set[str] = set()
    for path in CRAWLER.rglob("*.py"):
        names.update(
            re.findall(
                r"[\"']([A-Z][A-Z0-9_]*(?:KEY|TOKEN|PASSWORD|PROXY|_URL|MAILTO))[\"']", path.read_text()
            )
        )
    # Not secrets: a mode (none | free | tor | scraperapi), and bare words the scan picks up.
    names -= {"SCHOLAR_STATS_SCHOLARLY_PROXY", "PROXY", "KEY", "SCHOLAR_KEY"}
    assert names, "the scan found no variable at all"
    assert names <= set(SECRET_VARIABLES), sorted(names - set(SECRET_VARIABLES))


@pytest.mark.parametrize("password", ["p/w", "p?w", "p#w", "a/b?c#d"])
def test_a_proxy_password_with_a_url_delimiter_is_refused_without_it(password: str) -> None:
    with pytest.raises(ValueError, match="percent-encode") as info:
        check_proxy(f"socks5://lab:{password}@proxy.example:1080")
    assert password not in str(info.value) and "proxy.example:1080" in str(info.value)


# -- the property: nowhere, ever ---------------------------------------------------------


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=True).stdout.decode(
        "utf-8", "replace"
    )


def seed_data(data: Path) -> str:
    """An author's last good snapshot, as an earlier run left it; the author's ID."""
    page = parse_profile((FIXTURES / "bohlooli_en_50rows.html").read_bytes())
    record = dataclasses.replace(page_to_record(page), fetched_at=datetime(2026, 11, 1, tzinfo=UTC))
    AuthorStore(data, record.scholar_id).write_snapshot(record)
    write_outputs(
        AuthorStore(data, record.scholar_id), record, BadgeStyle()
    )  # gs_data.json and badges, as that run wrote them
    return record.scholar_id


def everything_in(root: Path) -> bytes:
    return b"\n".join(p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file())


def every_object(repo: Path) -> bytes:
    """Every object of a repository (commits, trees, blobs) and its refs."""
    dump = subprocess.run(
        ["git", "cat-file", "--batch-all-objects", "--batch"], cwd=repo, capture_output=True, check=True
    ).stdout
    return dump + git(repo, "for-each-ref").encode()


# Hypothesis also draws the string constants of the code under test: a password the program or
# the profile spells anyway (``citedby_``, a key of gs_data.json) cannot be told apart from them.
OWN_WORDS = b"\n".join(
    path.read_bytes()
    for path in sorted(
        [*(Path(__file__).parent.parent / "crawler").rglob("*.py"), FIXTURES / "bohlooli_en_50rows.html"]
    )
)
PASSWORDS = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=8, max_size=24).filter(
    lambda pw: len(set(pw)) >= 5 and pw.strip() == pw
)


def in_url(password: str, raw: bool) -> str:
    """The password as a user writes it into a URL: raw where the URL still parses, else encoded."""
    return password if raw and not any(ch in password for ch in "/?#%\\") else quote(password, safe="")


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(password=PASSWORDS, raw=st.booleans(), where=st.sampled_from(["option", "config", "environment"]))
@example(password="pass'wo\"rd x/?#@:", raw=True, where="option")
@example(password="to'ken with space", raw=True, where="config")
def test_a_random_password_never_leaves_the_process(
    password: str, raw: bool, where: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    forget_all()
    spellings = {password.encode(), quote(password, safe="").encode(), json.dumps(password)[1:-1].encode()}
    spellings = {s for s in spellings if len(s) >= 8}
    assume(not any(spelled in OWN_WORDS for spelled in spellings))
    with tempfile.TemporaryDirectory() as scratch:
        tmp = Path(scratch)
        for name in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp / "no-gitconfig"))
        monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
        monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
        data = tmp / "data"
        sid = seed_data(data)
        # A password the seeded folder holds before any run (a word of its formats, such as
        # "cacheSeconds" of every shields.io file) cannot show a leak.
        seeded = everything_in(data)
        assume(not any(spelled in seeded for spelled in spellings))
        secret = in_url(password, raw)
        proxy = f"http://lab:{secret}@127.0.0.1:{closed_port()}"
        common = ["--author", sid, "--data-dir", str(data), "--retries", "0", "--deadline", "10"]
        runner = CliRunner()
        outputs: list[bytes] = []
        (tmp / "summaries").mkdir()
        env: dict[str, str | None] = {"NO_PROXY": None, "no_proxy": None}
        if where == "option":
            first = ["run", *common, "--proxy", proxy, "--summary", str(tmp / "summaries" / "1.json")]
        elif where == "config":
            config = tmp / "scholar-stats.toml"
            config.write_text(f"proxy = {json.dumps(proxy)}\n", encoding="utf-8")
            first = ["run", *common, "--config", str(config), "--summary", str(tmp / "summaries" / "1.json")]
        else:
            env["SCHOLAR_STATS_PROXY"] = proxy
            first = ["run", *common, "--summary", str(tmp / "summaries" / "1.json")]
        mirror = f"http://reader:{secret}@127.0.0.1:{closed_port()}/scholar"
        runs = [first, ["run", *common, "--base-url", mirror, "--summary", str(tmp / "summaries" / "2.json")]]
        state = data / sid / "state.json"
        for args in runs:
            state.unlink(missing_ok=True)
            done = runner.invoke(main, args, env=env)
            # 1: the source failed and the failure was recorded; 2: the URL was refused before any request.
            assert done.exit_code in (1, 2), (args, done.output)
            assert "Traceback" not in done.output
            assert state.exists() == (done.exit_code == 1), done.output
            outputs.append(
                done.stdout_bytes + done.stderr_bytes + (state.read_bytes() if state.exists() else b"")
            )

        remote = tmp / "site.git"
        git(tmp, "init", "--quiet", "--bare", str(remote))
        scratch_repo = tmp / "scratch.git"
        git(tmp, "init", "--quiet", "--bare", str(scratch_repo))
        # git decodes a file URL before it splits it: a "/" in the password cannot reach a local repository.
        remote_url = f"file://bob:{secret}@localhost{remote}"
        for target in (remote_url, f"file://bob:{secret}@localhost{tmp}/missing.git"):
            done = runner.invoke(
                main,
                ["publish", "--data-dir", str(data), "--repo", str(scratch_repo), "--remote", target],
                env=env,
            )
            assert "Traceback" not in done.output
            outputs.append(done.stdout_bytes + done.stderr_bytes)
        if "/" not in password:
            assert git(remote, "branch", "--list").strip(), outputs[-2]  # the good push did land

        looked_at = {
            "stdout/stderr": b"\n".join(outputs),
            "summaries": everything_in(tmp / "summaries"),
            "data folder": everything_in(data),
            "data branch": every_object(remote),
            "publishing repository": every_object(scratch_repo),
        }
        for place, content in looked_at.items():
            for spelled in spellings:
                assert spelled not in content, (
                    f"{spelled!r} found in {place}: {content[max(0, content.find(spelled) - 300) :][:600]!r}"
                )


def test_a_merged_stale_marker_stays_json_whatever_the_secret() -> None:
    """The merge masks a shard's state.json string by string: a secret that is also a
    JSON word cannot turn ``true`` or a number into ``***``."""
    from crawler.storage.stale import redacted_state

    for secret in ("true", "2026", "stale"):
        forget_all()
        remember(secret)
        state = {
            "stale": True,
            "stale_since": "2026-03-05T09:00:00Z",
            "exit_code": 2026,
            "reason": f"pw {secret}",
        }
        masked = json.loads(redacted_state(json.dumps(state).encode()))
        assert masked["stale"] is True and masked["exit_code"] == 2026
        assert masked["reason"] == "pw ***"


def test_a_merged_stale_marker_that_is_not_json_is_masked_as_text() -> None:
    """Even JSON nested past Python's recursion limit: it is text, masked as such."""
    from crawler.storage.stale import redacted_state

    forget_all()
    remember("hunter2")
    assert redacted_state(b"[" * 200_000 + b' "hunter2"') == b"[" * 200_000 + b' "***"'
    assert redacted_state(b'{"reason": hunter2') == b'{"reason": ***'
