"""Self-contained SVG badges that look like shields.io's, drawn without it.

A badge is two boxes, label on the left and message on the right, with
white text carrying a faint shadow.  Nothing in the file refers to anything
outside it (no fonts, images or stylesheets to fetch), so a homepage can
serve it as a plain file and it renders the same offline.

Text widths are estimated from a table of Verdana advance widths at 11px
(the face and size shields.io draws with): close enough that the text sits
inside its box, not exact to the pixel.  The same input always gives the same
bytes.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass

STYLES = ("flat", "flat-square", "plastic", "for-the-badge", "social")

# The colour names shields.io understands, with the values it draws them in.
# Where a name is also a CSS colour ("green", "red"), shields.io's value wins.
NAMED_COLORS: dict[str, str] = {
    "brightgreen": "#4c1",
    "green": "#97ca00",
    "yellowgreen": "#a4a61d",
    "yellow": "#dfb317",
    "orange": "#fe7d37",
    "red": "#e05d44",
    "blue": "#007ec6",
    "grey": "#555",
    "gray": "#555",
    "lightgrey": "#9f9f9f",
    "lightgray": "#9f9f9f",
    "success": "#4c1",
    "important": "#fe7d37",
    "critical": "#e05d44",
    "informational": "#007ec6",
    "inactive": "#9f9f9f",
    # Not a name but the hex AcadHomepage's badge uses; listed so it reads as one.
    "9cf": "#9cf",
}
DEFAULT_LABEL_COLOR = "#555"

_HEX_RE = re.compile(r"^#?(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})$")
_FUNC_RE = re.compile(r"^(?:rgb|rgba|hsl|hsla)\(\s*[0-9.%,/\s-]+\)$")
_CSS_NAME_RE = re.compile(r"^[a-zA-Z]{3,30}$")


def svg_color(value: str) -> str:
    """The fill value for a badge colour: a shields.io name, hex (with or without
    ``#``), ``rgb()``/``hsl()``, or a CSS colour name.

    Raises ``ValueError`` for anything else, so no stray quote or markup can
    reach an SVG attribute.
    """
    text = value.strip()
    named = NAMED_COLORS.get(text.lower())
    if named:
        return named
    if _HEX_RE.match(text):
        return text if text.startswith("#") else f"#{text}"
    if _FUNC_RE.match(text) or _CSS_NAME_RE.match(text):
        return text
    raise ValueError(
        f"not a badge colour: {value!r} (use a shields.io name such as blue or brightgreen, "
        "a hex value such as 9cf or #007ec6, rgb(...), hsl(...) or a CSS colour name)"
    )


def _brightness(fill: str) -> float | None:
    """Perceived brightness 0..1 of a hex fill; ``None`` when it is not hex."""
    if not fill.startswith("#") or not _HEX_RE.match(fill):
        return None
    digits = fill[1:]
    if len(digits) in (3, 4):
        digits = "".join(c * 2 for c in digits[:3])
    r, g, b = (int(digits[i : i + 2], 16) for i in (0, 2, 4))
    return (0.299 * r + 0.587 * g + 0.114 * b) / 255


# Advance widths of Verdana at 11px, in pixels (font units * 11 / 2048, rounded).
# Approximate values; they only have to keep text inside its box.
_WIDTHS_11PX: dict[str, float] = {
    " ": 3.87, "!": 4.32, '"': 5.06, "#": 9.0, "$": 6.99, "%": 11.94, "&": 7.97, "'": 2.96,
    "(": 4.97, ")": 4.97, "*": 6.99, "+": 9.0, ",": 4.0, "-": 5.05, ".": 4.0, "/": 5.05,
    "0": 6.99, "1": 6.99, "2": 6.99, "3": 6.99, "4": 6.99, "5": 6.99, "6": 6.99, "7": 6.99,
    "8": 6.99, "9": 6.99, ":": 5.05, ";": 5.05, "<": 9.0, "=": 9.0, ">": 9.0, "?": 6.0,
    "@": 11.0, "A": 7.52, "B": 7.55, "C": 7.68, "D": 8.47, "E": 6.95, "F": 6.33, "G": 8.52,
    "H": 8.27, "I": 4.63, "J": 4.94, "K": 7.64, "L": 6.15, "M": 9.29, "N": 8.23, "O": 8.75,
    "P": 6.67, "Q": 8.75, "R": 7.67, "S": 7.52, "T": 6.64, "U": 8.05, "V": 7.52, "W": 10.96,
    "X": 7.55, "Y": 6.63, "Z": 7.54, "[": 4.97, "\\": 5.05, "]": 4.97, "^": 9.0, "_": 6.99,
    "`": 6.99, "a": 6.57, "b": 6.86, "c": 5.73, "d": 6.86, "e": 6.5, "f": 3.88, "g": 6.86,
    "h": 6.98, "i": 3.0, "j": 3.73, "k": 6.45, "l": 3.0, "m": 10.73, "n": 6.98, "o": 6.7,
    "p": 6.86, "q": 6.86, "r": 4.71, "s": 5.73, "t": 4.33, "u": 6.98, "v": 6.45, "w": 9.0,
    "x": 6.45, "y": 6.45, "z": 5.74, "{": 6.99, "|": 5.05, "}": 6.99, "~": 9.0,
}  # fmt: skip
_FALLBACK_11PX = _WIDTHS_11PX["o"]
_EM_11PX = 11.0
# Verdana Bold runs about an eighth wider than the regular face.
_BOLD_FACTOR = 1.12


def _char_width(char: str) -> float:
    width = _WIDTHS_11PX.get(char)
    if width is not None:
        return width
    import unicodedata  # loaded by the first character outside the table, not by every start

    if unicodedata.combining(char):
        return 0.0
    if unicodedata.east_asian_width(char) in ("W", "F"):
        return _EM_11PX
    # An accented letter is about as wide as its base letter.
    base = unicodedata.normalize("NFD", char)[:1]
    return _WIDTHS_11PX.get(base, _FALLBACK_11PX)


def text_width(text: str, *, size: float = 11.0, bold: bool = False, letter_spacing: float = 0.0) -> float:
    """Estimated width in pixels of ``text`` set in Verdana at ``size`` px."""
    width = sum(_char_width(c) for c in text) * size / 11.0
    if bold:
        width *= _BOLD_FACTOR
    return width + letter_spacing * len(text)


# XML 1.0 forbids most control characters even as references; drop them.
_XML_FORBIDDEN_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_escape(text: str) -> str:
    """Text that is safe both as element content and inside a double- or single-quoted attribute."""
    text = _XML_FORBIDDEN_RE.sub("", text)
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("'", "&apos;")
    )


def _num(value: float) -> str:
    """A coordinate with at most one decimal, without a trailing ``.0``."""
    text = f"{round(value, 1):.1f}"
    return text[:-2] if text.endswith(".0") else text


@dataclass(frozen=True)
class _Geometry:
    height: int
    font_size: float
    pad: int
    text_y: float
    radius: int
    bold_label: bool
    bold_message: bool
    letter_spacing: float
    upper: bool


_GEOMETRY = {
    "flat": _Geometry(20, 11, 5, 14, 3, False, False, 0, False),
    "flat-square": _Geometry(20, 11, 5, 14, 0, False, False, 0, False),
    "plastic": _Geometry(18, 11, 5, 13, 4, False, False, 0, False),
    "for-the-badge": _Geometry(28, 10, 12, 18, 0, False, True, 1.0, True),
    "social": _Geometry(20, 11, 6, 14, 2, True, False, 0, False),
}

_FONT = 'font-family="Verdana,Geneva,DejaVu Sans,sans-serif" text-rendering="geometricPrecision"'


def _text_colors(fill: str) -> tuple[str, str]:
    """(text, shadow) colours that stay readable on ``fill``."""
    brightness = _brightness(fill)
    if brightness is not None and brightness > 0.69:
        return "#333", "#ccc"
    return "#fff", "#010101"


def _shadowed_text(x: float, geo: _Geometry, text: str, fill: str, *, bold: bool) -> str:
    color, shadow = _text_colors(fill)
    weight = ' font-weight="bold"' if bold else ""
    esc = xml_escape(text)
    return (
        f'<text x="{_num(x)}" y="{_num(geo.text_y + 1)}" fill="{shadow}" fill-opacity=".3"{weight} '
        f'aria-hidden="true">{esc}</text>'
        f'<text x="{_num(x)}" y="{_num(geo.text_y)}" fill="{color}"{weight}>{esc}</text>'
    )


def _logo_image(logo_svg: str, x: float, geo: _Geometry) -> str:
    # Embedded as a data: URI so the badge still needs nothing from outside.
    data = base64.b64encode(logo_svg.encode("utf-8")).decode("ascii")
    y = (geo.height - 14) / 2
    return (
        f'<image x="{_num(x)}" y="{_num(y)}" width="14" height="14" href="data:image/svg+xml;base64,{data}"/>'
    )


def render_svg(
    label: str,
    message: str,
    *,
    color: str,
    label_color: str | None = None,
    style: str = "flat",
    logo_svg: str | None = None,
) -> str:
    """An SVG badge reading ``label | message``; an empty label draws the message alone.

    ``color`` and ``label_color`` take what ``svg_color`` accepts (``None`` is
    shields.io's grey); ``style`` is one of ``STYLES``; ``logo_svg`` is an
    optional SVG document drawn as a 14px logo before the label.
    """
    if style not in _GEOMETRY:
        raise ValueError(f"unknown badge style {style!r} (choose from {', '.join(STYLES)})")
    geo = _GEOMETRY[style]
    fill = svg_color(color)
    label_fill = svg_color(label_color) if label_color else DEFAULT_LABEL_COLOR
    title = f"{label}: {message}" if label else message
    shown_label = label.upper() if geo.upper else label
    shown_message = message.upper() if geo.upper else message

    logo_w = 14 + 3 if logo_svg else 0
    has_label = bool(label) or bool(logo_svg)

    def box(text: str, bold: bool) -> int:
        w = text_width(text, size=geo.font_size, bold=bold, letter_spacing=geo.letter_spacing)
        return round(w) + 2 * geo.pad

    label_w = box(shown_label, geo.bold_label) + logo_w if has_label else 0
    if has_label and not label:
        label_w = logo_w + 2 * geo.pad - 3
    message_w = box(shown_message, geo.bold_message)

    if style == "social":
        body, total_w = _social_body(geo, shown_label, shown_message, label_w, message_w, logo_svg, logo_w)
    else:
        body, total_w = _plain_body(
            style, geo, shown_label, shown_message, label_w, message_w, fill, label_fill, logo_svg, logo_w
        )

    esc_title = xml_escape(title)
    spacing = f' letter-spacing="{_num(geo.letter_spacing)}"' if geo.letter_spacing else ""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{total_w}" height="{geo.height}" '
        f'role="img" aria-label="{esc_title}">'
        f"<title>{esc_title}</title>"
        f"{body[0]}"
        f'<g text-anchor="middle" {_FONT} font-size="{_num(geo.font_size)}"{spacing}>{body[1]}</g>'
        "</svg>\n"
    )


def _plain_body(
    style: str,
    geo: _Geometry,
    label: str,
    message: str,
    label_w: int,
    message_w: int,
    fill: str,
    label_fill: str,
    logo_svg: str | None,
    logo_w: int,
) -> tuple[tuple[str, str], int]:
    total_w = label_w + message_w
    h = geo.height
    shapes = []
    if style == "flat":
        shapes.append(
            '<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/>'
            '<stop offset="1" stop-opacity=".1"/></linearGradient>'
        )
    elif style == "plastic":
        shapes.append(
            '<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#fff" stop-opacity=".7"/>'
            '<stop offset=".1" stop-color="#aaa" stop-opacity=".1"/><stop offset=".9" stop-opacity=".3"/>'
            '<stop offset="1" stop-opacity=".5"/></linearGradient>'
        )
    clip = ""
    if geo.radius:
        shapes.append(
            f'<clipPath id="r"><rect width="{total_w}" height="{h}" rx="{geo.radius}" '
            'fill="#fff"/></clipPath>'
        )
        clip = ' clip-path="url(#r)"'
    rects = ""
    if label_w:
        rects += f'<rect width="{label_w}" height="{h}" fill="{label_fill}"/>'
    rects += f'<rect x="{label_w}" width="{message_w}" height="{h}" fill="{fill}"/>'
    if style in ("flat", "plastic"):
        rects += f'<rect width="{total_w}" height="{h}" fill="url(#s)"/>'
    shapes.append(f"<g{clip}>{rects}</g>")
    if logo_svg:
        shapes.append(_logo_image(logo_svg, geo.pad, geo))

    texts = ""
    if label:
        texts += _shadowed_text(logo_w + (label_w - logo_w) / 2, geo, label, label_fill, bold=geo.bold_label)
    texts += _shadowed_text(label_w + message_w / 2, geo, message, fill, bold=geo.bold_message)
    return ("".join(shapes), texts), total_w


def _social_body(
    geo: _Geometry,
    label: str,
    message: str,
    label_w: int,
    message_w: int,
    logo_svg: str | None,
    logo_w: int,
) -> tuple[tuple[str, str], int]:
    # GitHub-button look: a light label button and a count bubble beside it,
    # joined by a small arrow; both drawn with a grey border.
    gap = 6
    h = geo.height
    message_x = label_w + gap if label_w else 0
    total_w = message_x + message_w + 1
    shapes = [
        '<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#fcfcfc" stop-opacity="0"/>'
        '<stop offset="1" stop-opacity=".1"/></linearGradient>'
    ]
    if label_w:
        shapes.append(
            f'<rect x=".5" y=".5" width="{label_w}" height="{h - 1}" rx="{geo.radius}" fill="#fcfcfc" '
            'stroke="#d5d5d5"/>'
            f'<rect x=".5" y=".5" width="{label_w}" height="{h - 1}" rx="{geo.radius}" fill="url(#s)"/>'
        )
    shapes.append(
        f'<rect x="{_num(message_x + 0.5)}" y=".5" width="{message_w}" height="{h - 1}" rx="{geo.radius}" '
        'fill="#fafafa" stroke="#d5d5d5"/>'
    )
    if label_w:
        ax = message_x + 0.5
        shapes.append(f'<path d="M{_num(ax)} 6.5l-3 3v1l3 3" fill="#fafafa" stroke="#d5d5d5"/>')
        shapes.append(f'<path d="M{_num(ax + 0.5)} 7v6" stroke="#fafafa"/>')
    if logo_svg:
        shapes.append(_logo_image(logo_svg, geo.pad, geo))

    texts = ""
    if label:
        texts += _social_text(logo_w + (label_w - logo_w) / 2, geo, label, bold=True)
    texts += _social_text(message_x + message_w / 2, geo, message, bold=False)
    return ("".join(shapes), texts), total_w


def _social_text(x: float, geo: _Geometry, text: str, *, bold: bool) -> str:
    weight = ' font-weight="bold"' if bold else ""
    esc = xml_escape(text)
    return (
        f'<text x="{_num(x)}" y="{_num(geo.text_y + 1)}" fill="#fff"{weight} aria-hidden="true">{esc}</text>'
        f'<text x="{_num(x)}" y="{_num(geo.text_y)}" fill="#333"{weight}>{esc}</text>'
    )
