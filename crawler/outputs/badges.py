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
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from crawler.models import AuthorRecord
from crawler.outputs.endpoint_schema import MAX_CACHE_SECONDS, MIN_CACHE_SECONDS
from crawler.outputs.endpoint_schema import endpoint_problems as endpoint_problems
from crawler.outputs.svg import STYLES, render_svg, svg_color
from crawler.sources import SCHOLAR_NUMBERS, source_label
from crawler.storage.atomic import (
    confine,
    json_bytes,
    remove_file,
    write_all_if_changed,
    write_new_folder,
)

log = logging.getLogger(__name__)

NUMBER_FORMATS = ("plain", "comma", "short")
SHIELDS_FILE = "gs_data_shieldsio.json"
BADGE_DIR = "badges"
PUBS_DIR = "pubs"

# An author_pub_id becomes a file name; anything that could leave the folder
# or hide the file is refused.
_SAFE_ID_RE = re.compile(r"^[A-Za-z0-9_:-][A-Za-z0-9_.:-]{0,199}$")


@dataclass(frozen=True)
class BadgeLabels:
    """The left-hand text of each badge; ``publication`` is the per-paper badge."""

    citations: str = "citations"
    h_index: str = "h-index"
    i10_index: str = "i10-index"
    publications: str = "publications"
    publication: str = "citations"

    def __post_init__(self) -> None:
        for f in fields(self):
            if not isinstance(getattr(self, f.name), str):
                raise ValueError(f"badge label {f.name} must be a string")


@dataclass(frozen=True)
class BadgeStyle:
    """How badges look; the ``[badge]`` table of the configuration maps onto it."""

    number_format: str = "plain"
    color: str = "9cf"
    label_color: str | None = None
    logo: str | None = "googlescholar"
    """A shields.io/simple-icons logo name (``namedLogo``), or an SVG document
    (``logoSvg``, anything starting with ``<``); ``None`` or ``""`` for none."""
    style: str = "flat"
    cache_seconds: int = 3600
    labels: BadgeLabels = field(default_factory=BadgeLabels)
    source_in_label: bool = True
    stale_color: str = "lightgrey"
    """The colour of badges whose numbers are kept through a block longer than ``stale_after_days``."""

    def __post_init__(self) -> None:
        if self.number_format not in NUMBER_FORMATS:
            raise ValueError(
                f"badge number_format must be one of {', '.join(NUMBER_FORMATS)}, not {self.number_format!r}"
            )
        if self.style not in STYLES:
            raise ValueError(f"badge style must be one of {', '.join(STYLES)}, not {self.style!r}")
        if isinstance(self.cache_seconds, bool) or not isinstance(self.cache_seconds, int):
            raise ValueError(f"badge cache_seconds must be an integer, not {self.cache_seconds!r}")
        if self.cache_seconds < MIN_CACHE_SECONDS:
            raise ValueError(
                f"badge cache_seconds must be at least {MIN_CACHE_SECONDS} (shields.io's minimum), "
                f"not {self.cache_seconds}"
            )
        if self.cache_seconds > MAX_CACHE_SECONDS:
            raise ValueError(
                f"badge cache_seconds must be at most {MAX_CACHE_SECONDS} "
                "(2^53-1, the largest shields.io accepts), "
                f"not {self.cache_seconds}"
            )
        _check_color("color", self.color)
        _check_color("stale_color", self.stale_color)
        if self.label_color is not None:
            if self.label_color == "":
                object.__setattr__(self, "label_color", None)
            else:
                _check_color("label_color", self.label_color)
        if self.logo is not None:
            if not isinstance(self.logo, str):
                raise ValueError(f"badge logo must be a string, not {self.logo!r}")
            if not self.logo.strip():
                object.__setattr__(self, "logo", None)
        if isinstance(self.labels, Mapping):
            # A configuration file's ``labels = { ... }`` table arrives as a dict.
            object.__setattr__(self, "labels", _labels_from_table(self.labels))
        elif not isinstance(self.labels, BadgeLabels):
            raise ValueError(f"badge labels must be a table of label texts, not {self.labels!r}")
        if not isinstance(self.source_in_label, bool):
            raise ValueError(f"badge source_in_label must be true or false, not {self.source_in_label!r}")

    @property
    def logo_is_svg(self) -> bool:
        return self.logo is not None and self.logo.lstrip().startswith("<")

    @classmethod
    def from_table(cls, table: Mapping[str, Any]) -> BadgeStyle:
        """Build a style from a ``[badge]`` table; ``ValueError`` names the key that is wrong.

        Keys may use ``-`` or ``_``.  ``labels`` is a table whose keys are
        ``citations``, ``h-index``, ``i10-index``, ``publications`` and
        ``publication``.
        """
        known = {f.name for f in fields(cls)}
        kwargs: dict[str, Any] = {}
        for raw_key, value in table.items():
            key = str(raw_key).replace("-", "_")
            if key not in known:
                raise ValueError(f"unknown key {raw_key!r} in [badge] (known: {', '.join(sorted(known))})")
            if key == "labels":
                kwargs[key] = _labels_from_table(value)
            else:
                kwargs[key] = value
        return cls(**kwargs)


def _check_color(key: str, value: object) -> None:
    if not isinstance(value, str):
        raise ValueError(f"badge {key} must be a string, not {value!r}")
    try:
        svg_color(value)
    except ValueError as exc:
        raise ValueError(f"badge {key}: {exc}") from None


def _labels_from_table(table: object) -> BadgeLabels:
    if not isinstance(table, Mapping):
        raise ValueError(f"badge labels must be a table of label texts, not {table!r}")
    known = {f.name for f in fields(BadgeLabels)}
    kwargs: dict[str, str] = {}
    for raw_key, value in table.items():
        key = str(raw_key).replace("-", "_")
        if key not in known:
            names = ", ".join(sorted(n.replace("_", "-") for n in known))
            raise ValueError(f"unknown badge label {raw_key!r} (known: {names})")
        if not isinstance(value, str):
            raise ValueError(f"badge label {raw_key!r} must be a string, not {value!r}")
        kwargs[key] = value
    return BadgeLabels(**kwargs)


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
