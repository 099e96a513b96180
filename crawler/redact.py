"""Masking secrets: the one function every message passes through before it leaves.

``redact`` masks credentials in any text (URL userinfo with or without a
scheme, key-like query values and JSON fields, bearer and GitHub tokens)
before it reaches a log, a file, a commit or stderr.  The HTTP client
(``crawler.http``) masks every error it raises with it.
"""

from __future__ import annotations

import re

# Query parameters whose values never reach a log line or an error message.
SECRET_PARAMS = frozenset(
    {"api_key", "apikey", "key", "mailto", "token", "access_token", "password", "secret"}
)
_MASK = "***"
_SECRET_NAMES = "|".join(sorted(SECRET_PARAMS, key=len, reverse=True))
_REDACTIONS: tuple[tuple[re.Pattern[str], str], ...] = (
    # The userinfo of a URL: scheme://user:password@host, scheme://token@host.
    # A password may hold a raw "@": everything up to the last one before the host goes.
    (
        re.compile(r"(?P<scheme>\b[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<user>[^\s/?#@:'\"<>]*):[^\s/?#'\"<>]*@"),
        rf"\g<scheme>\g<user>:{_MASK}@",
    ),
    (re.compile(r"(?P<scheme>\b[a-zA-Z][a-zA-Z0-9+.-]*://)[^\s/?#@:'\"<>]+@"), rf"\g<scheme>{_MASK}@"),
    # user:password@host without a scheme (a proxy written the short way).
    (re.compile(r"(?P<user>(?<![\w/:.@-])[\w.+%-]+):[^\s/?#'\"<>]*@(?=[\w\[])"), rf"\g<user>:{_MASK}@"),
    # key=value in a query string or a message, and "key": "value" in JSON a server echoed.
    (re.compile(rf"(?i)(?P<name>(?<![\w-])(?:{_SECRET_NAMES}))=[^&\s'\"#<>]*"), rf"\g<name>={_MASK}"),
    (re.compile(rf"(?i)(?P<name>\"(?:{_SECRET_NAMES})\"\s*:\s*)\"[^\"]*\""), rf'\g<name>"{_MASK}"'),
    # Authorization values, and tokens whose shape gives them away (GitHub's).
    (re.compile(r"(?i)(?P<name>\b(?:bearer|basic|token)\s+)[A-Za-z0-9._~+/=-]{8,}"), rf"\g<name>{_MASK}"),
    (re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})"), _MASK),
)


def redact(text: str | None) -> str | None:
    """``text`` with every credential it may carry masked: the userinfo of any URL
    (with or without a scheme), the values of key-like query parameters
    (``api_key=``, ``key=``, ``token=``, ``mailto=``…), bearer tokens and GitHub
    tokens.  Any message that can reach stderr, a log, ``state.json``, a summary,
    a report or a commit passes through here, whatever its origin."""
    if not text:
        return text
    for pattern, replacement in _REDACTIONS:
        text = pattern.sub(replacement, text)
    return text


def redacted_text(text: object) -> str:
    """``str(text)`` with credentials masked (``redact`` for anything, never ``None``)."""
    return redact(str(text)) or ""
