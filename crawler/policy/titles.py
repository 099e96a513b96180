"""Whether two sources' records name one paper: titles and DOIs made comparable, and a score
with its reason (``crawler.policy.match`` decides with it)."""

from __future__ import annotations

import difflib
import html
import re
import unicodedata
from dataclasses import dataclass

from crawler.models import Publication

MIN_CONFIDENCE = 0.85
WEAK_CONFIDENCE = 0.6


SIMILAR_RATIO = 0.93


_TAG_RE = re.compile(r"</?[A-Za-z][A-Za-z0-9:-]*(?:\s[^<>]*)?/?>")


_TEX_COMMAND_RE = re.compile(r"\\[A-Za-z]+")


_NOT_WORD_RE = re.compile(r"[^0-9a-z]+")


_SUBTITLE_RE = re.compile(r"\s*(?::|\s[-–—]\s|[?!]\s|\.\s)")


_TRUNCATED_RE = re.compile(r"(?:\.\.\.|…)\s*$")


_DOI_RE = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)?(10\.\d{4,9}/\S+)$", re.IGNORECASE)


# A shorter title explains a longer one only when it says enough by itself.
_MIN_PREFIX_WORDS = 3


_MIN_PREFIX_CHARS = 20


def _plain(title: str) -> str:
    """The title as text: entities decoded (twice, for double-escaped feeds), markup
    and TeX commands dropped, so ``BaFe<sub>2</sub>`` and ``$\\mathrm{BaFe}_2$`` read ``BaFe2``."""
    text = html.unescape(html.unescape(title))
    text = _TAG_RE.sub("", text)
    text = _TEX_COMMAND_RE.sub("", text)
    return re.sub(r"[${}_^]", "", text)


def normalize_title(title: str) -> str:
    """Lower-case ASCII words separated by single spaces: accents, case, punctuation,
    entities and inline markup make no difference."""
    text = unicodedata.normalize("NFKD", _plain(title))
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    return _NOT_WORD_RE.sub(" ", text).strip()


def main_title(title: str) -> str:
    """The normalised title before its subtitle (``Title: subtitle``, ``Title - subtitle``)."""
    parts = _SUBTITLE_RE.split(_plain(title).strip(), maxsplit=1)
    return normalize_title(parts[0])


def normalize_doi(value: str | None) -> str | None:
    if not value:
        return None
    match = _DOI_RE.match(value.strip())
    return match.group(1).lower() if match else None


@dataclass(frozen=True)
class TitleKey:
    """What the matcher compares of one publication, computed once."""

    pub: Publication
    title: str
    main: str
    words: frozenset[str]
    truncated: bool
    doi: str | None

    @classmethod
    def of(cls, pub: Publication) -> TitleKey:
        title = normalize_title(pub.title)
        return cls(
            pub,
            title,
            main_title(pub.title),
            frozenset(title.split()),
            bool(_TRUNCATED_RE.search(pub.title.strip())),
            normalize_doi(pub.doi),
        )


def _prefix_match(short: TitleKey, long: TitleKey) -> str | None:
    """``subtitle`` or ``truncated`` when ``short`` is ``long`` cut at a boundary that explains it."""
    if len(short.title.split()) < _MIN_PREFIX_WORDS or len(short.title) < _MIN_PREFIX_CHARS:
        return None
    if not long.title.startswith(short.title + " "):
        return None
    if short.truncated:
        return "truncated"
    if long.main == short.title:
        return "subtitle"
    return None


def score(
    scholar: Publication | TitleKey, other: Publication | TitleKey, *, same_keys: bool = False
) -> tuple[float, str] | None:
    """The confidence that ``other`` is ``scholar``, and on what evidence; ``None`` when it is not.

    ``same_keys``: the other source keys works as Scholar does (SerpApi), so an
    equal key is proof.
    """
    s = scholar if isinstance(scholar, TitleKey) else TitleKey.of(scholar)
    o = other if isinstance(other, TitleKey) else TitleKey.of(other)
    if same_keys and s.pub.author_pub_id == o.pub.author_pub_id:
        return 1.0, "id"
    if s.doi and o.doi:
        return (1.0, "doi") if s.doi == o.doi else None
    if not s.title or not o.title:
        return None
    if s.title == o.title:
        confidence, how = 1.0, "title"
    else:
        how_prefix = _prefix_match(s, o) or _prefix_match(o, s)
        if how_prefix:
            confidence, how = 0.9, how_prefix
        else:
            shared = len(s.words & o.words) / max(len(s.words), len(o.words))
            if shared < 0.6:
                return None
            ratio = difflib.SequenceMatcher(None, s.title, o.title, autojunk=False).ratio()
            if ratio < WEAK_CONFIDENCE:
                return None
            # Below SIMILAR_RATIO a pair is never kept, only listed as weak.
            confidence, how = (
                (ratio if ratio >= SIMILAR_RATIO else min(ratio, MIN_CONFIDENCE - 0.01)),
                "similar",
            )
    ys, yo = s.pub.year, o.pub.year
    if ys is not None and yo is not None:
        if abs(ys - yo) > 1:
            return None
        if ys != yo:
            confidence *= 0.95
    elif ys is not None or yo is not None:
        confidence *= 0.95
    return round(confidence, 3), how
