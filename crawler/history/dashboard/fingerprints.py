"""What each page of the dashboard was built from, kept in the site's marker file, so that a build
reads and draws again only the authors whose files changed.

An author's page depends only on that author's files: its numbers and time
axis are counted back from its newest snapshot, not from the day of the
build.  Its fingerprint is a hash of the names of its snapshot files (a
snapshot is never rewritten under the same name), the bytes of its
``state.json`` (the stale marker changes only when its news does), the
site's title and the dashboard's own version: its code, templates and
assets.  File times are left out on purpose: a fresh clone of a data branch
gives every file a new one.

The marker keeps, for each author, the fingerprint, the files its page is
made of, and its card on the index (``card_to_json``), so the index can be
drawn again without reading the author.
"""

from __future__ import annotations

import bisect
import hashlib
import os
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from crawler import __version__
from crawler.storage.readfile import MAX_SETTINGS_BYTES, MAX_STATE_BYTES, read_bounded
from crawler.storage.stale import STATE_FILE
from crawler.storage.store import SNAPSHOT_DIR, SNAPSHOT_SUFFIX, snapshot_name

# What a marker of this layout says it is; a marker without it holds no fingerprints.
MARKER_FORMAT = 2
_HERE = Path(__file__).resolve().parent
_VERSION: str | None = None


def site_version() -> str:
    """A hash of the dashboard's code, templates and assets, and of the package's version:
    a page drawn by another version is drawn again."""
    global _VERSION
    if _VERSION is None:
        digest = hashlib.blake2b(__version__.encode("utf-8"), digest_size=16)
        for folder in (_HERE, _HERE / "templates", _HERE / "assets"):
            for name in sorted(os.listdir(folder)):
                path = folder / name
                if path.suffix in (".py", ".html", ".css", ".js") and path.is_file():
                    digest.update(name.encode("utf-8") + b"\0")
                    digest.update(read_bounded(path, limit=MAX_SETTINGS_BYTES))
        _VERSION = digest.hexdigest()
    return _VERSION


def snapshot_names(data_dir: Path, scholar_id: str) -> list[str]:
    """The names in the author's snapshot folder (unsorted, unchecked: only for a fingerprint)."""
    try:
        names = os.listdir(os.path.join(data_dir, scholar_id, SNAPSHOT_DIR))
    except OSError:
        return []
    return [n for n in names if n.endswith(SNAPSHOT_SUFFIX) and not n.startswith(".")]


def author_fingerprint(
    data_dir: Path, scholar_id: str, names: Sequence[str], *, title: str, as_of: datetime
) -> str | None:
    """The fingerprint of what the author's page is made of; ``None`` when it cannot be trusted
    (a snapshot newer than ``as_of``, which the page leaves out, so the page is drawn each time)."""
    cap = snapshot_name(as_of)[:16]
    ordered = sorted(names)
    # Names that are not times (reported by the reader) count only as names.  The names that
    # begin with a digit sort together, before ":"; the last of them is the newest time.
    newest = bisect.bisect_left(ordered, ":") - 1
    if newest >= 0 and ordered[newest][:1].isdigit() and ordered[newest][:16] > cap:
        return None
    digest = hashlib.blake2b(digest_size=20)
    for part in (site_version(), title, scholar_id):
        digest.update(part.encode("utf-8") + b"\0")
    digest.update("\n".join(ordered).encode("utf-8") + b"\0")
    try:
        digest.update(read_bounded(Path(data_dir) / scholar_id / STATE_FILE, limit=MAX_STATE_BYTES))
    except FileNotFoundError:
        digest.update(b"no state")
    except (OSError, ValueError):
        # An unreadable marker is shown as such; the page is drawn again each time.
        return None
    return digest.hexdigest()


# -- the card of the index, kept in the marker ---------------------------------------------


def _deltas(values: Sequence[int | None]) -> list[int | None]:
    """Each number as its difference from the previous number (``None`` kept), as ``charts.deltas``."""
    out: list[int | None] = []
    base = 0
    for value in values:
        if value is None:
            out.append(None)
            continue
        out.append(value - base)
        base = value
    return out


def _sums(values: Sequence[int | None]) -> list[int | None]:
    """The numbers ``_deltas`` made differences of (``None`` kept)."""
    out: list[int | None] = []
    total = 0
    for value in values:
        if value is None:
            out.append(None)
            continue
        total += value
        out.append(total)
    return out


def card_to_json(card: Mapping[str, Any]) -> dict[str, Any]:
    """The card as JSON values: times (whole seconds) as differences, the changes as lists."""
    value = dict(card)
    value["cards"] = [{**m, "changes": [[d, c] for d, c in m["changes"].items()]} for m in card["cards"]]
    for key in ("spark", "series"):
        value[key] = {
            "t": _deltas([int(t) for t, _ in card[key]]),
            "v": _deltas([v for _, v in card[key]]),
        }
    return value


def _opt_ints(values: Sequence[Any]) -> bool:
    return all(v is None or type(v) is int for v in values)


def card_from_json(value: Any, scholar_id: str) -> dict[str, Any] | None:
    """The card ``card_to_json`` made of ``scholar_id``, or ``None`` when it is not one (the
    marker is data, not to trust: the author is then read again)."""
    try:
        card = dict(value)
        metrics = [{**m, "changes": {int(d): c for d, c in m["changes"]}} for m in value["cards"]]
        if not all(
            _opt_ints([m["value"], m["since"], *m["changes"].values()]) and isinstance(m["label"], str)
            for m in metrics
        ):
            return None
        card["cards"] = metrics
        for key in ("spark", "series"):
            times, values = value[key]["t"], value[key]["v"]
            if len(times) != len(values) or not all(type(t) is int for t in times) or not _opt_ints(values):
                return None
            card[key] = [(float(t or 0), v) for t, v in zip(_sums(times), _sums(values), strict=True)]
        texts = ("name", "date", "source", "stale_words", "profile_url")
        if card["scholar_id"] != scholar_id or not all(isinstance(card[k], str | None) for k in texts):
            return None
        if not isinstance(card["name"], str) or type(card["as_of"]) not in (float, int, type(None)):
            return None
    except (KeyError, TypeError, ValueError, AttributeError):
        return None
    return card
