"""The shields.io endpoint schema (https://shields.io/badges/endpoint-badge): what makes a badge
object one shields.io accepts.  ``crawler.outputs.badges`` checks every badge it makes against it."""

from __future__ import annotations

from crawler.outputs.svg import STYLES

MIN_CACHE_SECONDS = 300  # shields.io caches an endpoint badge at least this long anyway
# shields.io validates the endpoint with Joi's number(), which refuses integers
# JavaScript cannot hold exactly (above Number.MAX_SAFE_INTEGER).
MAX_CACHE_SECONDS = 2**53 - 1

# The endpoint schema of shields.io (https://shields.io/badges/endpoint-badge).
_ENDPOINT_KEYS = (
    "schemaVersion",
    "label",
    "message",
    "color",
    "labelColor",
    "isError",
    "namedLogo",
    "logoSvg",
    "logoColor",
    "logoSize",
    "logoWidth",
    "logoPosition",  # accepted by shields.io for old badges; it does nothing
    "style",
    "cacheSeconds",
)
_NONEMPTY_STRING_KEYS = ("color", "labelColor", "namedLogo", "logoSvg", "logoColor", "logoSize", "style")


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def endpoint_problems(obj: object) -> list[str]:
    """What makes ``obj`` an invalid shields.io endpoint badge; ``[]`` when it is valid.

    Stricter than shields.io where it costs nothing: ``style`` must be one of
    the five styles and ``cacheSeconds`` at least 300 (shields.io raises lower
    values to 300 silently); like shields.io, at most 2^53-1.
    """
    if not isinstance(obj, dict):
        return [f"a badge must be a JSON object, not {type(obj).__name__}"]
    problems: list[str] = []
    for key in obj:
        if key not in _ENDPOINT_KEYS:
            problems.append(f"unknown key {key!r}")
    version = obj.get("schemaVersion")
    if "schemaVersion" not in obj:
        problems.append("schemaVersion is missing")
    elif not (_is_int(version) and version == 1):
        problems.append(f"schemaVersion must be 1, not {version!r}")
    if "label" not in obj:
        problems.append("label is missing")
    elif not isinstance(obj["label"], str):
        problems.append(f"label must be a string, not {obj['label']!r}")
    if "message" not in obj:
        problems.append("message is missing")
    elif not isinstance(obj["message"], str) or not obj["message"]:
        problems.append(f"message must be a non-empty string, not {obj['message']!r}")
    for key in _NONEMPTY_STRING_KEYS:
        if key in obj and (not isinstance(obj[key], str) or not obj[key]):
            problems.append(f"{key} must be a non-empty string, not {obj[key]!r}")
    if "isError" in obj and not isinstance(obj["isError"], bool):
        problems.append(f"isError must be true or false, not {obj['isError']!r}")
    if "namedLogo" in obj and "logoSvg" in obj:
        problems.append("namedLogo and logoSvg cannot both be given")
    for key in ("logoColor", "logoSize"):
        if key in obj and "namedLogo" not in obj:
            problems.append(f"{key} needs namedLogo")
    for key in ("logoWidth", "logoPosition"):
        if key in obj:
            value = obj[key]
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                problems.append(f"{key} must be a number, not {value!r}")
            if "namedLogo" not in obj and "logoSvg" not in obj:
                problems.append(f"{key} needs namedLogo or logoSvg")
    if "style" in obj and isinstance(obj["style"], str) and obj["style"] and obj["style"] not in STYLES:
        problems.append(f"style must be one of {', '.join(STYLES)}, not {obj['style']!r}")
    if "cacheSeconds" in obj:
        value = obj["cacheSeconds"]
        if not _is_int(value):
            problems.append(f"cacheSeconds must be an integer, not {value!r}")
        elif value < MIN_CACHE_SECONDS:
            problems.append(f"cacheSeconds must be at least {MIN_CACHE_SECONDS}, not {value}")
        elif value > MAX_CACHE_SECONDS:
            problems.append(f"cacheSeconds must be at most {MAX_CACHE_SECONDS}, not {value}")
    return problems
