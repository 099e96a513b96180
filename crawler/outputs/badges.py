"""Badges: shields.io endpoint JSON and self-contained SVG for an author's numbers.

Files written in an author's folder (see ``crawler.storage.store``)::

    gs_data_shieldsio.json            total citations, the file AcadHomepage reads
    badges/citations.json|.svg        total citations
    badges/h-index.json|.svg
    badges/i10-index.json|.svg
    badges/publications.json|.svg     number of publications in the record
    badges/pubs/<author_pub_id>.json|.svg   citations of one publication

A number the source did not provide gets no badge, and a badge written by an
earlier run for it is removed: a badge never shows "0" for "unknown", nor a
number left over from another day.  The ``badges/pubs`` folder mirrors the
record: badges of publications no longer in it are removed.

Numbers that do not come from Google Scholar say where they come from in the
label ("citations (OpenAlex)"), unless the style turns that off, and never
carry the Google Scholar logo.  An estimate reads "≈ 431"; numbers kept
through a long block turn ``stale_color`` (see ``crawler.policy.on_block``).
"""

from __future__ import annotations

import functools
import logging
import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from crawler.models import AuthorRecord
from crawler.outputs.badge_style import NUMBER_FORMATS as NUMBER_FORMATS
from crawler.outputs.badge_style import BadgeLabels as BadgeLabels
from crawler.outputs.badge_style import BadgeStyle as BadgeStyle
from crawler.outputs.endpoint_schema import endpoint_problems as endpoint_problems
from crawler.outputs.svg import render_svg
from crawler.sources import SCHOLAR_NUMBERS, source_label
from crawler.storage.atomic import (
    confine,
    json_bytes,
    remove_file,
    write_all_if_changed,
    write_new_folder,
)

log = logging.getLogger(__name__)

SHIELDS_FILE = "gs_data_shieldsio.json"
BADGE_DIR = "badges"
PUBS_DIR = "pubs"

# An author_pub_id becomes a file name; anything that could leave the folder
# or hide the file is refused.
_SAFE_ID_RE = re.compile(r"^[A-Za-z0-9_:-][A-Za-z0-9_.:-]{0,199}$")


_SHORT_UNITS = ((10**9, "B"), (10**6, "M"), (10**3, "k"))


def format_number(n: int, fmt: str) -> str:
    """``n`` as a badge shows it.

    ``plain`` 1234, ``comma`` 1,234, ``short`` 1.2k / 12k / 1.2M.  ``short``
    keeps one decimal below ten units and none from ten up, and always rounds
    down, so a badge never shows more than the real count: 1,999 is "1.9k",
    999,950 is "999k", 1,000,000 is "1M".
    """
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"format_number needs an int, not {n!r}")
    if n < 0:
        raise ValueError(f"a count is never negative: {n}")
    if fmt == "plain":
        return str(n)
    if fmt == "comma":
        return f"{n:,}"
    if fmt != "short":
        raise ValueError(f"unknown number format {fmt!r} (choose from {', '.join(NUMBER_FORMATS)})")
    for unit, suffix in _SHORT_UNITS:
        if n >= unit:
            # Integer arithmetic: no float can round 999_999 up to "1000k".
            tenths = n * 10 // unit
            if tenths < 100 and tenths % 10:
                return f"{tenths // 10}.{tenths % 10}{suffix}"
            return f"{n // unit}{suffix}"
    return str(n)


def endpoint_badge(label: str, message: str, style: BadgeStyle) -> dict[str, Any]:
    """A shields.io endpoint badge object, keys in a fixed order.

    Raises ``ValueError`` rather than return an object shields.io would refuse
    (an empty message, for one).
    """
    badge: dict[str, Any] = {"schemaVersion": 1, "label": label, "message": message, "color": style.color}
    if style.label_color:
        badge["labelColor"] = style.label_color
    if style.logo:
        badge["logoSvg" if style.logo_is_svg else "namedLogo"] = style.logo
    badge["style"] = style.style
    badge["cacheSeconds"] = style.cache_seconds
    problems = endpoint_problems(badge)
    if problems:
        raise ValueError(f"invalid badge {label!r}: {'; '.join(problems)}")
    return badge


def badge_label(base: str, record: AuthorRecord, style: BadgeStyle) -> str:
    """``base``, followed by where the number comes from when that is not Google Scholar."""
    if not style.source_in_label or record.source in SCHOLAR_NUMBERS:
        return base
    where = source_label(record.source)
    return f"{base} ({where})" if base else where


def badge_svg(label: str, message: str, style: BadgeStyle) -> str:
    return render_svg(
        label,
        message,
        color=style.color,
        label_color=style.label_color,
        style=style.style,
        logo_svg=style.logo if style.logo_is_svg else None,
    )


@dataclass
class _Writer:
    """Where badges go: the data folder they must stay in, and what was written.

    Badges are derived files (rebuilt from the snapshot), so they are renamed
    into place without an fsync each; the caller fsyncs their folders once.
    ``fresh`` is a folder that does not exist yet: what goes in it is written
    into a temporary folder renamed into place once (``write_new_folder``),
    which costs the file system one rename instead of one per badge.  Paths are
    plain strings until a file is written: a lab's run queues 30,000 of them.
    """

    jail: Path
    fresh: str | None = None
    written: list[Path] = field(default_factory=list)
    produced: dict[str, int] = field(default_factory=dict)
    confined: set[str] = field(default_factory=set)
    pending: list[tuple[str, bytes]] = field(default_factory=list)
    doomed: list[tuple[str, str]] = field(default_factory=list)

    def _confine(self, path: str) -> None:
        # Hundreds of badges share three folders: each folder's way is checked once.
        folder = path.rpartition(os.sep)[0]
        if folder not in self.confined:
            confine(Path(path), self.jail)
            self.confined.add(folder)

    def put(self, path: str, data: bytes) -> None:
        """Queue ``path`` to hold ``data``; ``flush`` writes what is queued."""
        self.produced[path] = len(data)
        self._confine(path)
        self.pending.append((path, data))

    def flush(self) -> list[Path]:
        """Write what is queued, then remove what is doomed: a write that fails
        (a full disk) leaves every old badge in place."""
        pending, self.pending = self.pending, []
        fresh, inside = self.fresh, []
        if fresh is not None:
            prefix = fresh + os.sep
            inside = [(p[len(prefix) :], d) for p, d in pending if p.startswith(prefix)]
            pending = [(p, d) for p, d in pending if not p.startswith(prefix)]
        self.written.extend(write_all_if_changed([(Path(p), d) for p, d in pending], durable=False))
        if fresh is not None and inside:
            names = [(name.replace(os.sep, "/"), data) for name, data in inside]
            self.written.extend(write_new_folder(Path(fresh), names, jail=self.jail))
        doomed, self.doomed = self.doomed, []
        for path, why in doomed:
            if remove_file(Path(path), durable=False):
                log.info("removed %s: %s", path, why)
        return self.written

    def remove(self, path: str, why: str) -> None:
        """Queue ``path`` for removal once the writes are done."""
        self._confine(path)
        self.doomed.append((path, why))


APPROXIMATE = "≈ "


def _put_pair(
    stem: str, label: str, value: int | None, style: BadgeStyle, out: _Writer, prefix: str = ""
) -> None:
    """Write ``stem.json`` and ``stem.svg`` for ``value``, or remove both when it is unknown."""
    json_path, svg_path = stem + ".json", stem + ".svg"
    if value is None:
        for path in (json_path, svg_path):
            out.remove(path, "the number is no longer provided")
        return
    endpoint, svg = _badge_pair(label, prefix + format_number(value, style.number_format), style)
    out.put(json_path, endpoint)
    out.put(svg_path, svg)


@functools.lru_cache(maxsize=4096)
def _badge_pair(label: str, message: str, style: BadgeStyle) -> tuple[bytes, bytes]:
    """The bytes of one badge's two files.

    Cached: an author's publication badges share label and style, and their
    counts repeat (many papers have 0, 1, 2... citations), so a lab's
    thousands of badges need only a few hundred renderings.
    """
    return json_bytes(endpoint_badge(label, message, style)), badge_svg(label, message, style).encode("utf-8")


SCHOLAR_LOGO = "googlescholar"


def style_for(record: AuthorRecord, style: BadgeStyle, *, neutral: bool = False) -> BadgeStyle:
    """``style`` as it applies to ``record``: no Google Scholar logo on another
    source's numbers, the neutral colour for numbers kept through a long block."""
    changes: dict[str, Any] = {}
    if (
        record.source not in SCHOLAR_NUMBERS
        and style.logo is not None
        and style.logo.strip().lower() == SCHOLAR_LOGO
    ):
        changes["logo"] = None
    if neutral:
        changes["color"] = style.stale_color
    return replace(style, **changes) if changes else style


def write_badges(
    author_dir: Path,
    record: AuthorRecord,
    style: BadgeStyle,
    *,
    jail: Path | None = None,
    produced: dict[str, int] | None = None,
    approximate: bool = False,
    neutral: bool = False,
) -> list[Path]:
    """Write every badge of ``record`` into ``author_dir``; return the files whose content changed.

    Files already holding the right bytes are not touched; badges of numbers
    the record does not provide, and of publications it no longer lists, are
    removed (and not listed in the result).  Nothing is written through a
    symbolic link leading out of ``jail``, the data folder (by default the
    folder holding ``author_dir``).  ``produced`` receives every badge file
    the record has, written or not, with its size.  ``approximate`` marks every
    number as an estimate ("≈ 431"); ``neutral`` draws the badges in ``stale_color``.
    """
    style = style_for(record, style, neutral=neutral)
    prefix = APPROXIMATE if approximate else ""
    author = os.fspath(author_dir)
    badge_dir = author + os.sep + BADGE_DIR
    pubs_dir = badge_dir + os.sep + PUBS_DIR
    # A folder not there yet (an author's first run) is made whole, in one rename.
    fresh = next((folder for folder in (badge_dir, pubs_dir) if not os.path.lexists(folder)), None)
    out = _Writer(jail if jail is not None else Path(author_dir).parent, fresh=fresh)
    m = record.metrics
    labels = style.labels

    shields_path = author + os.sep + SHIELDS_FILE
    if m.citations is None:
        out.remove(shields_path, "total citations are no longer provided")
    else:
        label = badge_label(labels.citations, record, style)
        message = prefix + format_number(m.citations, style.number_format)
        out.put(shields_path, json_bytes(endpoint_badge(label, message, style)))

    # An empty publication list may as well mean "not provided" as "none":
    # either way there is no count worth a badge.
    n_publications = len(record.publications) or None
    for name, value, base in (
        ("citations", m.citations, labels.citations),
        ("h-index", m.h_index, labels.h_index),
        ("i10-index", m.i10_index, labels.i10_index),
        ("publications", n_publications, labels.publications),
    ):
        _put_pair(badge_dir + os.sep + name, badge_label(base, record, style), value, style, out, prefix)

    keep: set[str] = set()
    pub_label = badge_label(labels.publication, record, style)
    pubs_stem = pubs_dir + os.sep
    for pub in record.publications:
        pub_id = pub.author_pub_id
        if not _SAFE_ID_RE.match(pub_id):
            log.warning("no badge for publication %r: its ID cannot be a file name", pub_id)
            continue
        if pub_id in keep or pub.citations is None:
            continue
        keep.add(pub_id)
        _put_pair(pubs_stem + pub_id, pub_label, pub.citations, style, out, prefix)

    if fresh is None and os.path.isdir(pubs_dir):
        # (A fresh folder is not there to list.)  Names first: the folder holds hundreds of badges.
        with os.scandir(pubs_dir) as entries:
            names = sorted(e.name for e in entries if e.is_file() and not e.name.startswith("."))
        for name in names:
            stem, dot, suffix = name.rpartition(".")
            if dot and suffix in ("json", "svg") and stem not in keep:
                out.remove(pubs_stem + name, "publication no longer in the record")
    if produced is not None:
        produced.update(out.produced)
    return out.flush()


def write_badge_pair(
    stem: Path, label: str, value: int | None, style: BadgeStyle, *, jail: Path
) -> list[Path]:
    """``stem.json`` and ``stem.svg`` for one number (removed when it is unknown); the files written."""
    out = _Writer(jail)
    _put_pair(os.fspath(stem), label, value, style, out)
    return out.flush()
