"""The one JSON form of every file the data folder holds: indented, UTF-8, a trailing newline;
written by ``crawler.storage.atomic``'s writers (which offer it too)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from json.encoder import encode_basestring
from typing import Any


def json_bytes(value: Any) -> bytes:
    """The one JSON form of every file we write: indented, UTF-8, trailing newline."""
    return (indented_json(value) + "\n").encode("utf-8")


_INFINITY = float("inf")


def _float_text(value: float) -> str:
    if value != value:
        return "NaN"
    if value == _INFINITY:
        return "Infinity"
    if value == -_INFINITY:
        return "-Infinity"
    return float.__repr__(value)


def _key_text(key: object) -> str:
    """A key as json writes it: a string as it is, a number or true/false/null as its JSON text."""
    if isinstance(key, str):
        return key
    if isinstance(key, float):
        return _float_text(key)
    if key is True:
        return "true"
    if key is False:
        return "false"
    if key is None:
        return "null"
    if isinstance(key, int):
        return int.__repr__(key)
    raise _Refused


class _Refused(Exception):
    """A value json would refuse (or hand to ``default``): ``json.dumps`` itself says what."""


def _indented(value: Any, parts: list[str], newline: str, depth: int) -> None:
    # The checks in json.encoder's order: a str subclass (an enum's word) is its text, a
    # bool is true/false before it is an int, an int subclass is written as an int.
    if isinstance(value, str):
        parts.append(encode_basestring(value))
    elif value is None:
        parts.append("null")
    elif value is True:
        parts.append("true")
    elif value is False:
        parts.append("false")
    elif isinstance(value, int):
        parts.append(int.__repr__(value))
    elif isinstance(value, float):
        parts.append(_float_text(value))
    elif isinstance(value, (list, tuple, dict)):
        if not value:
            parts.append("{}" if isinstance(value, dict) else "[]")
            return
        if depth > _MAX_DEPTH:
            raise _Refused
        _container(value, parts, newline, depth)
    else:
        raise _Refused


def _container(
    value: list[Any] | tuple[Any, ...] | dict[Any, Any], parts: list[str], newline: str, depth: int
) -> None:
    """A non-empty list or object, one item a line; plain strings, integers and nulls (the
    bulk of every file) written here, anything else by ``_indented``."""
    inner = newline + "  "
    keyed = isinstance(value, dict)
    items: Iterable[tuple[Any, Any]] = value.items() if isinstance(value, dict) else enumerate(value)
    lead, close = ("{" + inner, newline + "}") if keyed else ("[" + inner, newline + "]")
    for key, item in items:
        if keyed:
            lead += encode_basestring(key if type(key) is str else _key_text(key)) + ": "
        kind = type(item)
        if kind is str:
            parts.append(lead + encode_basestring(item))
        elif kind is int:
            parts.append(lead + int.__repr__(item))
        elif item is None:
            parts.append(lead + "null")
        else:
            parts.append(lead)
            _indented(item, parts, inner, depth + 1)
        lead = "," + inner
    parts.append(close)


# Deeper than any file of ours; a deeper (or circular) value is left to json.dumps and its errors.
_MAX_DEPTH = 100


def indented_json(value: Any) -> str:
    """``json.dumps(value, indent=2, ensure_ascii=False)``, the same text, about three times faster.

    The standard library indents with its pure-Python encoder (its C encoder
    does not indent); every snapshot, ``gs_data.json`` and ``fetch``'s output is
    indented JSON, and a 999-publication record took 25 ms to encode.  A value
    json would refuse, or one deeper than any file of ours (a circular one), is
    handed to ``json.dumps``, which raises its own error.
    """
    parts: list[str] = []
    try:
        _indented(value, parts, "\n", 0)
    except _Refused:
        return json.dumps(value, indent=2, ensure_ascii=False)
    return "".join(parts)
