"""What each file of an author's folder is, and the check that a file from elsewhere (a
shard folder) is one: its size bound and its format.  ``layout_kind`` names the files
the data layout has; anything else is not ours to take."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from crawler.models import AuthorRecord, record_from_dict
from crawler.outputs.badges import BADGE_DIR, PUBS_DIR, SHIELDS_FILE
from crawler.outputs.gs_data import check_gs_data
from crawler.outputs.gs_history import HISTORY_FILE, History
from crawler.policy.match import MATCHES_DIR, OVERRIDES_FILE, pairs_from_dict
from crawler.storage.readfile import (
    MAX_BADGE_BYTES,
    MAX_OUTPUT_BYTES,
    MAX_SETTINGS_BYTES,
    MAX_SNAPSHOT_BYTES,
    MAX_STATE_BYTES,
    json_value,
)
from crawler.storage.stale import STATE_FILE, parse_state
from crawler.storage.store import OUTPUTS_MANIFEST, SERIES_DIR, SNAPSHOT_DIR, SNAPSHOT_NAME_RE


def _json(data: bytes) -> Any:
    return json_value(data)


def snapshot_record(data: bytes, scholar_id: str) -> AuthorRecord:
    """The record of a snapshot of ``scholar_id``; ``ValueError``, ``KeyError`` or ``TypeError`` when
    it is not one."""
    record = record_from_dict(_json(data))
    if record.scholar_id != scholar_id:
        raise ValueError(f"a snapshot of {record.scholar_id}, not of {scholar_id}")
    return record


def _check_snapshot(data: bytes, scholar_id: str) -> None:
    snapshot_record(data, scholar_id)


def _check_gs_data(data: bytes, scholar_id: str) -> None:
    value = _json(data)
    if not isinstance(value, dict) or value.get("scholar_id") != scholar_id:
        raise ValueError(f"not the gs_data.json of {scholar_id}")
    check_gs_data(value, scholar_id)


def _check_history(data: bytes, scholar_id: str) -> None:
    History.from_dict(_json(data), scholar_id)


# A badge as ``crawler.outputs.badges`` writes it (``endpoint_badge`` through ``json_bytes``), known
# by its bytes: the writer's keys in its order, each once, every string printable ASCII without an
# escape, a number without a leading zero.  What matches is a JSON object that the check below accepts;
# anything else (another spacing, a non-ASCII label, an escape) takes the check itself.
_STRING = rb'"[ !#-\[\]-~]*"'
_ENDPOINT_AS_WRITTEN = re.compile(
    (
        rb'\{\n  "schemaVersion": 1,\n  "label": <S>,\n  "message": <S>,\n  "color": <S>,\n'
        rb'(?:  "labelColor": <S>,\n)?(?:  "(?:namedLogo|logoSvg)": <S>,\n)?'
        rb'  "style": <S>,\n  "cacheSeconds": (?:0|[1-9][0-9]*)\n\}\n'
    ).replace(b"<S>", _STRING)
)


def endpoint_as_written(data: bytes) -> bool:
    """Whether ``data`` is an endpoint badge exactly as our writer lays it out (``_check_endpoint``
    passes all of these; reading them as JSON is only needed for the others)."""
    return _ENDPOINT_AS_WRITTEN.fullmatch(data) is not None


def _check_endpoint(data: bytes, scholar_id: str) -> None:
    if endpoint_as_written(data):
        return
    value = _json(data)
    if (
        not isinstance(value, dict)
        or value.get("schemaVersion") != 1
        or not isinstance(value.get("label"), str)
        or not isinstance(value.get("message"), str)
    ):
        raise ValueError("not a shields.io endpoint badge")


_SVG_START = '<svg xmlns="http://www.w3.org/2000/svg"'
_SVG_START_BYTES = _SVG_START.encode()
_SVG_ACTIVE = re.compile(rb"<(?:script|foreignobject)", re.IGNORECASE)  # on bytes: ASCII letters only


def svg_as_written(data: bytes) -> bool:
    """``_check_svg`` on ASCII bytes, as our SVG writer makes them, without decoding them: on ASCII,
    a search without case is ``str.lower``'s, and what ``bytes.rstrip`` leaves ending in ``>``
    ``str.rstrip`` leaves too.  ``False`` sends the file to the check itself."""
    return (
        data.isascii()
        and data.startswith(_SVG_START_BYTES)
        and data.rstrip().endswith(b"</svg>")
        and _SVG_ACTIVE.search(data) is None
    )


def _check_svg(data: bytes, scholar_id: str) -> None:
    if svg_as_written(data):
        return
    text = data.decode("utf-8")
    if (
        not text.startswith(_SVG_START)
        or not text.rstrip().endswith("</svg>")
        or "<script" in text.lower()
        or "<foreignobject" in text.lower()
    ):
        raise ValueError("not an SVG badge of ours")


def _check_state(data: bytes, scholar_id: str) -> None:
    parse_state(data, strict=True)


def _check_manifest(data: bytes, scholar_id: str) -> None:
    value = _json(data)
    if (
        not isinstance(value, dict)
        or not isinstance(value.get("fingerprint"), str)
        or not isinstance(value.get("files"), dict)
    ):
        raise ValueError("not an outputs manifest")


def _check_matches(data: bytes, scholar_id: str) -> None:
    pairs_from_dict(_json(data))


def _check_overrides(data: bytes, scholar_id: str) -> None:
    tomllib.loads(data.decode("utf-8"))


@dataclass(frozen=True)
class FileKind:
    """A kind of file in an author's folder: its bound and its check (``ValueError`` when it fails)."""

    limit: int
    check: Callable[[bytes, str], None]
    history: bool = False
    """A snapshot: only ever added, never replaced or removed."""


SNAPSHOT = FileKind(MAX_SNAPSHOT_BYTES, _check_snapshot, history=True)
_TOP_FILES = {
    "gs_data.json": FileKind(MAX_OUTPUT_BYTES, _check_gs_data),
    SHIELDS_FILE: FileKind(MAX_BADGE_BYTES, _check_endpoint),
    HISTORY_FILE: FileKind(MAX_OUTPUT_BYTES, _check_history),
    STATE_FILE: FileKind(MAX_STATE_BYTES, _check_state),
    OUTPUTS_MANIFEST: FileKind(MAX_OUTPUT_BYTES, _check_manifest),
    OVERRIDES_FILE: FileKind(MAX_SETTINGS_BYTES, _check_overrides),
}
_BADGE_JSON = FileKind(MAX_BADGE_BYTES, _check_endpoint)
_BADGE_SVG = FileKind(MAX_BADGE_BYTES, _check_svg)
_MATCHES = FileKind(MAX_OUTPUT_BYTES, _check_matches)
_BADGE_KINDS = {"json": _BADGE_JSON, "svg": _BADGE_SVG}
_BADGE_FOLDERS = frozenset({BADGE_DIR, f"{BADGE_DIR}/{PUBS_DIR}"})
# A badge's file name is a badge name or an author_pub_id (crawler.outputs.badges);
# a source's folder name is a source's name.
_FILE_STEM_RE = re.compile(r"^[A-Za-z0-9_:-][A-Za-z0-9_.:-]{0,199}$")
_SOURCE_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def layout_kind(rel: str) -> FileKind | None:
    """What the file ``rel`` of an author's folder is in the data layout (``crawler.storage.store``);
    ``None`` for a file ``run`` never writes there."""
    folder, _, name = rel.rpartition("/")
    if folder in _BADGE_FOLDERS:
        # First: nearly every file of a folder is a publication's badge.
        stem, _, suffix = name.rpartition(".")
        return _BADGE_KINDS.get(suffix) if _FILE_STEM_RE.match(stem) else None
    parts = rel.split("/")
    if len(parts) == 1:
        return _TOP_FILES.get(name)
    if parts[:-1] == [SNAPSHOT_DIR] or (
        len(parts) == 4
        and parts[0] == SERIES_DIR
        and _SOURCE_NAME_RE.match(parts[1])
        and parts[2] == SNAPSHOT_DIR
    ):
        return SNAPSHOT if SNAPSHOT_NAME_RE.match(name) else None
    if len(parts) == 2 and parts[0] == MATCHES_DIR:
        return _MATCHES if name.endswith(".json") and _SOURCE_NAME_RE.match(name[:-5]) else None
    return None


def is_history(rel: str) -> bool:
    kind = layout_kind(rel)
    return kind is not None and kind.history
