"""Masking secrets: the one mechanism every message and echoed value passes through before it leaves.

Two layers, both applied by ``redact``:

* **Known secrets.**  Every secret the tool is handed (the password or token
  in a ``--proxy``/``proxy =``, ``--remote``, ``--base-url`` or ``base_url``
  URL, an ``api_key``, and the variables in ``SECRET_VARIABLES`` read from the
  environment at the moment of masking) is remembered with ``remember`` or
  ``remember_url`` and masked wherever it appears, whatever characters it
  holds and however it was written out: as given, percent-encoded or decoded,
  escaped by ``repr`` or JSON, or quoted for a shell.  Secrets shorter than
  ``MIN_SECRET`` characters are masked only where they stand in a URL's
  userinfo (masking every ``"ab"`` in a message would garble it).
* **The shape of a URL.**  ``mask_url`` masks the userinfo of one URL given as
  a value: everything between ``scheme://`` and the last ``@`` before the host,
  so a password holding ``' " / ? # @ :`` or spaces goes whole (``urllib``
  would split it at the first ``/ ? #``).  In free text the same rule runs on
  each run of non-space characters, and key-like query values
  (``api_key=``, ``token=``…), bearer and GitHub tokens go too.

The HTTP client (``crawler.net.http``) masks every error it raises with it; the
command line, ``state.json``, the run summary, reports, annotations and commit
messages all go through ``redact``.
"""

from __future__ import annotations

import functools
import json
import os
import re
from urllib.parse import quote, unquote

# Query parameters whose values never reach a log line or an error message.
SECRET_PARAMS = frozenset(
    {"api_key", "apikey", "key", "mailto", "token", "access_token", "password", "secret"}
)
# Environment variables the tool reads that hold a secret (a key, a password) or a URL
# that may carry one (a proxy, a mirror).  tests/test_redact.py checks that every
# variable the package reads with such a name is listed here.
SECRET_VARIABLES = (
    "HTTPS_PROXY",
    "HTTP_PROXY",
    "ALL_PROXY",
    "https_proxy",
    "http_proxy",
    "all_proxy",
    "SCHOLAR_STATS_PROXY",
    "SCHOLAR_STATS_BASE_URL",
    "SCHOLAR_STATS_OPENALEX_URL",
    "SCHOLAR_STATS_SEMANTIC_SCHOLAR_URL",
    "SCHOLAR_STATS_SERPAPI_URL",
    "SCHOLAR_STATS_JSDELIVR_PURGE_URL",
    "SCHOLAR_STATS_ACTION_REMOTE",
    "SERPAPI_KEY",
    "SERPAPI_API_KEY",
    "OPENALEX_API_KEY",
    "OPENALEX_MAILTO",
    "SEMANTIC_SCHOLAR_API_KEY",
    "S2_API_KEY",
    "SCRAPERAPI_KEY",
    "SCHOLAR_STATS_TOR_PASSWORD",
    "GITHUB_TOKEN",
    "GH_TOKEN",
)
MIN_SECRET = 4
"""Secrets shorter than this are masked only inside a URL's userinfo, not everywhere."""

_MASK = "***"
_SECRET_NAMES = "|".join(sorted(SECRET_PARAMS, key=len, reverse=True))
_SCHEME = r"\b[a-zA-Z][a-zA-Z0-9+.-]*://"
# The host after the userinfo's "@": a name, an IPv4 or a bracketed IPv6 address.
_HOST_AHEAD = r"(?=[\w\[])"
# The userinfo of a URL in free text: scheme://<anything but space, up to the last
# "@" before a host>.  Greedy, so a password holding "@", quotes, "/", "?" or "#" goes whole.
_USERINFO_RE = re.compile(rf"(?P<scheme>{_SCHEME})(?P<userinfo>\S*)@{_HOST_AHEAD}")
# user:password@host without a scheme (a proxy written the short way).
_SHORT_USERINFO_RE = re.compile(rf"(?P<user>(?<![\w/:.@%-])[\w.+%-]+):(?!//)(?P<password>\S*)@{_HOST_AHEAD}")
# The same two shapes for one URL given as a value, where even a space belongs to the password.
_VALUE_USERINFO_RE = re.compile(rf"(?s)(?:{_SCHEME}|(?=[\w.+%-]+:(?!//)))(?P<userinfo>.*)@{_HOST_AHEAD}")
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # key=value in a query string or a message, and "key": "value" in JSON a server echoed.
    (re.compile(rf"(?i)(?P<name>(?<![\w-])(?:{_SECRET_NAMES}))=[^&\s'\"#<>]*"), rf"\g<name>={_MASK}"),
    (re.compile(rf"(?i)(?P<name>\"(?:{_SECRET_NAMES})\"\s*:\s*)\"[^\"]*\""), rf'\g<name>"{_MASK}"'),
    # Authorization values, and tokens whose shape gives them away (GitHub's).
    (re.compile(r"(?i)(?P<name>\b(?:bearer|basic|token)\s+)[A-Za-z0-9._~+/=-]{8,}"), rf"\g<name>{_MASK}"),
    (re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})"), _MASK),
)
# A user name shown beside the mask: only one that cannot be part of a secret's tail.
_PLAIN_USER_RE = re.compile(r"[\w.+-]+")

_remembered: set[str] = set()


def _spellings(secret: str) -> set[str]:
    """The ways ``secret`` can be written out by this tool, Python, JSON, git or httpx."""
    import shlex  # only once a secret is known: most runs have none

    forms = {secret, unquote(secret), quote(secret, safe=""), quote(secret), quote(unquote(secret), safe="")}
    for form in list(forms):
        forms.add(repr(form)[1:-1])
        forms.add(json.dumps(form)[1:-1])
        forms.add(json.dumps(form, ensure_ascii=False)[1:-1])
        forms.add(shlex.quote(form))
        forms.add(form.replace("'", "'\\''"))
    return {form for form in forms if len(form) >= MIN_SECRET}


def userinfo(url: str) -> str | None:
    """The userinfo of ``url`` as written (``user:password``, a token), or ``None``.

    Everything between ``scheme://`` (or the start, for ``user:pw@host:port``)
    and the last ``@`` before the host: the raw text, so a password holding
    ``/ ? # @`` is taken whole where ``urllib`` would cut it."""
    match = _VALUE_USERINFO_RE.match(url.strip())
    return (match["userinfo"] or None) if match else None


def remember(secret: str | None) -> None:
    """Mask ``secret`` (a key, a password, a token) in everything ``redact`` sees from now on."""
    if secret:
        _remembered.update(_spellings(secret))


def remember_url(url: str | None) -> None:
    """Remember the secrets a URL carries: its userinfo's password (or its token when it
    has no ``:``), and the values of key-like query parameters."""
    if not url:
        return
    info = userinfo(url)
    if info:
        user, colon, password = info.partition(":")
        remember(password if colon else user)
    for match in re.finditer(rf"(?i)(?<![\w-])(?:{_SECRET_NAMES})=([^&\s#]+)", url):
        remember(match.group(1))


def forget_all() -> None:
    """Drop the remembered secrets (tests run many commands in one process)."""
    _remembered.clear()


def _known_secrets() -> list[str]:
    values = tuple(os.environ.get(name) or "" for name in SECRET_VARIABLES)
    return _secrets_with(values, frozenset(_remembered))


@functools.lru_cache(maxsize=8)
def _secrets_with(values: tuple[str, ...], remembered: frozenset[str]) -> list[str]:
    """Every spelling to mask, longest first (a secret that holds a shorter one goes whole);
    cached, as the environment and the remembered secrets rarely change within a run."""
    found = set(remembered)
    for name, value in zip(SECRET_VARIABLES, values, strict=True):
        if not value:
            continue
        if "PROXY" in name.upper() or name.endswith(("_URL", "_REMOTE")):
            info = userinfo(value if "://" in value else f"http://{value}")
            if info:
                user, colon, password = info.partition(":")
                found.update(_spellings(password if colon else user))
        else:
            found.update(_spellings(value))
    return sorted(found, key=len, reverse=True)


def _mask_userinfo(match: re.Match[str]) -> str:
    info = match["userinfo"]
    user, colon, _ = info.partition(":")
    shown = f"{user}:{_MASK}" if colon and _PLAIN_USER_RE.fullmatch(user) else _MASK
    return f"{match['scheme']}{shown}@"


def mask_url(url: str) -> str:
    """``url`` (one URL given as a value) with its userinfo and key-like query values
    masked: ``socks5://lab:***@host:1080``, whatever characters the password holds."""
    match = _VALUE_USERINFO_RE.match(url)
    if match is not None:
        user, colon, _ = match["userinfo"].partition(":")
        shown = f"{user}:{_MASK}" if colon and _PLAIN_USER_RE.fullmatch(user) else _MASK
        url = f"{url[: match.start('userinfo')]}{shown}{url[match.end('userinfo') :]}"
    return redacted_text(url)


def redact(text: str | None) -> str | None:
    """``text`` with every credential it may carry masked: the secrets the tool was
    handed (``remember``, ``SECRET_VARIABLES``), the userinfo of any URL (with or
    without a scheme, whatever its characters), the values of key-like query
    parameters (``api_key=``, ``key=``, ``token=``, ``mailto=``…), bearer tokens
    and GitHub tokens.  Any message that can reach stderr, a log, ``state.json``,
    a summary, a report or a commit passes through here, whatever its origin."""
    if not text:
        return text
    for secret in _known_secrets():
        if secret in text:
            text = text.replace(secret, _MASK)
    text = _USERINFO_RE.sub(_mask_userinfo, text)
    text = _SHORT_USERINFO_RE.sub(rf"\g<user>:{_MASK}@", text)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def redacted_text(text: object) -> str:
    """``str(text)`` with credentials masked (``redact`` for anything, never ``None``)."""
    return redact(str(text)) or ""
