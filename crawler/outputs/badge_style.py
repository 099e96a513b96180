"""How badges look: the ``[badge]`` table of the configuration, checked.

Kept apart from the writer (``crawler.outputs.badges``) so that reading the
configuration, which holds a ``BadgeStyle``, loads neither the badge writer
nor the file writing behind it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from crawler.outputs.endpoint_schema import MAX_CACHE_SECONDS, MIN_CACHE_SECONDS
from crawler.outputs.svg import STYLES, svg_color

NUMBER_FORMATS = ("plain", "comma", "short")


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
