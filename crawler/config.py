"""``scholar-stats.toml``: which authors to follow and how.

::

    data_dir = "data"               # where snapshots and outputs go
    sources = ["scholar"]           # default source chain for every author
    delay = 5                       # seconds between requests to one host (+ jitter)
    timeout = 20                    # seconds for one request
    deadline = 300                  # seconds for one author's whole fetch
    retries = 3
    # base_url = "https://scholar.google.com"   (env SCHOLAR_STATS_BASE_URL)
    # proxy = "socks5://127.0.0.1:9050"          (env SCHOLAR_STATS_PROXY)
    # proxy = ["socks5://a:1080", "socks5://b:1080"]   one per shard: K uses entry (K-1) mod len
    # delay = [5, 8]                                   the same, for run --shard K/N
    root_author = "amIMrIEAAAAJ"    # whose files `publish` puts at the branch root
    on_block = "keep"               # keep | bridge | replace: what a blocked day shows
    stale_after_days = 7            # then kept numbers get neutral badges

    [guard]
    max_citation_drop = 0.05
    max_publication_drop = 0.10
    max_rise_factor = 3

    [badge]                         # see docs/badges.md
    number_format = "comma"

    [[authors]]
    id = "amIMrIEAAAAJ"             # or the profile URL
    label = "Bangar Raju Cherukuri"
    sources = ["scholar", "openalex"]
    openalex = "A5023888391"
    on_block = "bridge"             # per author, over the top-level value

Every mistake is reported with the file, the line and the key, before any
request is made.  Every command resolves a setting the same way: its option,
else its environment variable, else this file, else the default (see
docs/configuration.md).
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crawler.errors import ConfigError, UsageError
from crawler.models import normalize_scholar_id
from crawler.net.options import (
    HttpOptions,
    check_base_url,
    check_environment_proxies,
    check_option,
    check_proxy,
)
from crawler.net.redact import remember_url
from crawler.outputs.badges import BadgeStyle
from crawler.policy.guard import GuardOptions
from crawler.policy.on_block import DEFAULT_POLICY, DEFAULT_STALE_AFTER_DAYS, POLICIES
from crawler.sources import SOURCES, AuthorRef
from crawler.storage.readfile import MAX_SETTINGS_BYTES, read_bounded

DEFAULT_CONFIG = "scholar-stats.toml"
DEFAULT_DATA_DIR = Path("data")

_TOP_KEYS = {
    "data_dir",
    "sources",
    "delay",
    "timeout",
    "deadline",
    "retries",
    "base_url",
    "proxy",
    "root_author",
    "guard",
    "badge",
    "authors",
    "on_block",
    "stale_after_days",
    "site",
    "site_title",
}
_AUTHOR_KEYS = {
    "id",
    "label",
    "sources",
    "openalex",
    "orcid",
    "semantic_scholar",
    "semantic-scholar",
    "on_block",
    "stale_after_days",
}


@dataclass(frozen=True)
class Config:
    authors: tuple[AuthorRef, ...]
    data_dir: Path = DEFAULT_DATA_DIR
    http: HttpOptions = field(default_factory=HttpOptions)
    base_url: str | None = None
    sources: tuple[str, ...] = ("scholar",)
    guard: GuardOptions = field(default_factory=GuardOptions)
    badge: BadgeStyle = field(default_factory=BadgeStyle)
    root_author: str | None = None
    path: Path | None = None
    on_block: str = DEFAULT_POLICY
    stale_after_days: float = DEFAULT_STALE_AFTER_DAYS
    site: bool = False
    """Keep the dashboard current in ``<data_dir>/site`` after every run (and before a publish)."""
    site_title: str | None = None
    proxies: tuple[str, ...] = ()
    """A ``proxy`` list: shard K of ``run --shard K/N`` uses entry (K-1) mod len (see crawler.shard)."""
    delays: tuple[float, ...] = ()
    """A ``delay`` list, used the same way."""

    def __post_init__(self) -> None:
        # A mirror's address may carry a password; whatever echoes it later finds it masked.
        remember_url(self.base_url)

    def chain_for(self, author: AuthorRef) -> tuple[str, ...]:
        return author.sources or self.sources

    def policy_for(self, author: AuthorRef) -> str:
        return author.on_block or self.on_block

    def stale_after_for(self, author: AuthorRef) -> float:
        return self.stale_after_days if author.stale_after_days is None else author.stale_after_days


class _Where:
    """Finds the line of a key in the file's text, for messages."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.lines = text.splitlines()

    def line_of(self, key: str, table: str | None = None, index: int = 0) -> int | None:
        start = 0
        if table is not None:
            header = re.compile(rf"^\s*\[\[?\s*{re.escape(table)}\s*\]\]?\s*(#.*)?$")
            seen = -1
            for number, line in enumerate(self.lines):
                if header.match(line):
                    seen += 1
                    if seen == index:
                        start = number
                        break
            else:
                return None
        pattern = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=")
        for number in range(start, len(self.lines)):
            line = self.lines[number]
            if number > start and table is not None and line.lstrip().startswith("["):
                break
            if table is None and line.lstrip().startswith("["):
                break
            if pattern.match(line):
                return number + 1
        return start + 1 if table is not None else None

    def error(self, message: str, key: str, table: str | None = None, index: int = 0) -> ConfigError:
        line = self.line_of(key, table, index)
        where = f"{self.path}:{line}" if line else str(self.path)
        name = f"{table}[{index}].{key}" if table == "authors" else (f"{table}.{key}" if table else key)
        return ConfigError(f"{where}: {name}: {message}")


def _policy(where: _Where, value: Any, key: str, table: str | None = None, index: int = 0) -> str:
    if value not in POLICIES:
        raise where.error(f"must be one of {', '.join(POLICIES)}, not {value!r}", key, table, index)
    return str(value)


def _days(where: _Where, value: Any, key: str, table: str | None = None, index: int = 0) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 3650:
        raise where.error(f"must be a number of days from 0 to 3650, not {value!r}", key, table, index)
    return float(value)


def _string(where: _Where, value: Any, key: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise where.error(f"each entry must be a non-empty string, not {value!r}", key)
    return value.strip()


def _per_shard(where: _Where, data: Mapping[str, Any], key: str, entry: Any) -> tuple[Any, ...]:
    """A key given as a list, one value per shard (``run --shard K/N`` uses entry (K-1) mod len)."""
    value = data.get(key)
    if not isinstance(value, list):
        return ()
    if not value:
        raise where.error("an empty list; give one value, or one per shard", key)
    return tuple(entry(item) for item in value)


def _checked(where: _Where, key: str, value: Any) -> Any:
    try:
        checked = check_option(key, value)
    except ValueError as exc:
        raise where.error(str(exc), key) from exc
    return checked if key == "retries" else float(checked)


def _proxy(where: _Where, value: Any) -> str:
    try:
        return str(check_proxy(_string(where, value, "proxy")))
    except ValueError as exc:
        raise where.error(str(exc), "proxy") from exc


def _base_url(where: _Where, value: Any) -> str:
    try:
        return check_base_url(_string(where, value, "base_url"))
    except ValueError as exc:
        raise where.error(str(exc), "base_url") from exc


def _chain(where: _Where, value: Any, key: str, table: str | None = None, index: int = 0) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise where.error("must be a list of source names", key, table, index)
    unknown = [v for v in value if v not in SOURCES]
    if unknown:
        raise where.error(
            f"unknown source {unknown[0]!r} (choose from {', '.join(SOURCES)})", key, table, index
        )
    return tuple(value)


def _dataclass_from(where: _Where, cls: type, table: str, data: Any) -> Any:
    if not isinstance(data, Mapping):
        raise where.error("must be a table", table)
    names = {f.name for f in dataclasses.fields(cls)}
    for key in data:
        if key not in names:
            raise where.error(f"unknown key (known: {', '.join(sorted(names))})", key, table)
    try:
        return cls(**data)
    except (TypeError, ValueError) as exc:
        # The message names the field; find which key of the table that is
        # ("badge label 'x'" is about ``labels``).
        text = str(exc)
        key = next(
            (c for c in data if c in text),
            next((c for c in data if c.rstrip("s") in text), next(iter(data), table)),
        )
        raise where.error(text, key, table) from exc


def _author(where: _Where, index: int, entry: Any) -> AuthorRef:
    if not isinstance(entry, Mapping):
        raise where.error("each [[authors]] entry must be a table", "id", "authors", index)
    for key in entry:
        if key not in _AUTHOR_KEYS:
            raise where.error(
                f"unknown key (known: {', '.join(sorted(_AUTHOR_KEYS))})", key, "authors", index
            )
    if "id" not in entry:
        raise where.error("missing (the Google Scholar ID or profile URL)", "id", "authors", index)
    raw = entry["id"]
    if not isinstance(raw, str):
        raise where.error(f"must be a string, not {raw!r}", "id", "authors", index)
    try:
        scholar_id = normalize_scholar_id(raw)
    except ValueError as exc:
        raise where.error(str(exc), "id", "authors", index) from exc
    ids = {}
    for key in ("openalex", "orcid", "semantic_scholar", "semantic-scholar"):
        if key in entry:
            if not isinstance(entry[key], str) or not entry[key].strip():
                raise where.error("must be a non-empty string", key, "authors", index)
            ids[key.replace("_", "-")] = entry[key].strip()
    label = entry.get("label")
    if label is not None and not isinstance(label, str):
        raise where.error("must be a string", "label", "authors", index)
    sources = _chain(where, entry["sources"], "sources", "authors", index) if "sources" in entry else ()
    on_block = (
        _policy(where, entry["on_block"], "on_block", "authors", index) if "on_block" in entry else None
    )
    stale = entry.get("stale_after_days")
    stale_after = _days(where, stale, "stale_after_days", "authors", index) if stale is not None else None
    return AuthorRef(
        scholar_id=scholar_id,
        label=label,
        ids=ids,
        sources=sources,
        on_block=on_block,
        stale_after_days=stale_after,
    )


_TOML_POSITION_RE = re.compile(r"\s*\(at line (\d+), column (\d+)\)$|\s*\(at end of document\)$")


def _toml_error_position(exc: Exception, text: str) -> tuple[int | None, str]:
    """The line and the bare message of a TOML syntax error.

    Python 3.14 gives them as attributes; before, only the text says
    "... (at line 3, column 7)" or "... (at end of document)".
    """
    line = getattr(exc, "lineno", None)
    message = str(getattr(exc, "msg", None) or exc)
    match = _TOML_POSITION_RE.search(message)
    if match:
        if line is None:
            line = int(match.group(1)) if match.group(1) else max(1, len(text.splitlines()))
        message = message[: match.start()]
    return line, message


def read_config_file(path: Path) -> Config:
    try:
        raw = read_bounded(path, limit=MAX_SETTINGS_BYTES, follow=True, error=ConfigError)
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: no such configuration file") from exc
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    text = raw.decode("utf-8", errors="replace")
    where = _Where(path, text)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line, message = _toml_error_position(exc, text)
        location = f"{path}:{line}" if line else str(path)
        raise ConfigError(f"{location}: not valid TOML: {message}") from exc
    for key in data:
        if key not in _TOP_KEYS:
            raise where.error(f"unknown key (known: {', '.join(sorted(_TOP_KEYS))})", key)
    http_kwargs: dict[str, Any] = {}
    delays = _per_shard(where, data, "delay", lambda value: _checked(where, "delay", value))
    if delays:
        http_kwargs["delay"] = delays[0]
    elif "delay" in data:
        http_kwargs["delay"] = _checked(where, "delay", data["delay"])
    for key in ("timeout", "deadline", "retries"):
        if key in data:
            http_kwargs[key] = _checked(where, key, data[key])
    if "site" in data and not isinstance(data["site"], bool):
        raise where.error(f"must be true or false, not {data['site']!r}", "site")
    proxies = _per_shard(where, data, "proxy", lambda value: _proxy(where, value))
    for key in ("base_url", "proxy", "root_author", "site_title"):
        if key in data and not isinstance(data[key], str) and not (key == "proxy" and proxies):
            raise where.error(
                "must be a string" + (" or a list of strings, one per shard" if key == "proxy" else ""), key
            )
    if proxies:
        http_kwargs["proxy"] = proxies[0]
    elif "proxy" in data:
        http_kwargs["proxy"] = _proxy(where, data["proxy"])
    authors_raw = data.get("authors", [])
    if not isinstance(authors_raw, list):
        raise where.error("must be an array of tables ([[authors]])", "authors")
    authors = tuple(_author(where, i, entry) for i, entry in enumerate(authors_raw))
    seen: dict[str, int] = {}
    for index, ref in enumerate(authors):
        if ref.scholar_id in seen:
            raise where.error(
                f"{ref.scholar_id} is listed twice (also authors[{seen[ref.scholar_id]}].id)",
                "id",
                "authors",
                index,
            )
        seen[ref.scholar_id] = index
    if "data_dir" in data and not isinstance(data["data_dir"], str):
        raise where.error("must be a string (a folder)", "data_dir")
    data_dir = Path(data["data_dir"]) if "data_dir" in data else DEFAULT_DATA_DIR
    if not data_dir.is_absolute():
        data_dir = path.parent / data_dir
    root_author = data.get("root_author")
    if root_author is not None:
        try:
            root_author = normalize_scholar_id(root_author)
        except ValueError as exc:
            raise where.error(str(exc), "root_author") from exc
    return Config(
        authors=authors,
        data_dir=data_dir,
        http=HttpOptions(**http_kwargs),
        base_url=_base_url(where, data["base_url"]) if "base_url" in data else None,
        sources=_chain(where, data["sources"], "sources") if "sources" in data else ("scholar",),
        guard=_dataclass_from(where, GuardOptions, "guard", data["guard"])
        if "guard" in data
        else GuardOptions(),
        badge=_dataclass_from(where, BadgeStyle, "badge", data["badge"]) if "badge" in data else BadgeStyle(),
        root_author=root_author,
        path=path,
        on_block=_policy(where, data["on_block"], "on_block") if "on_block" in data else DEFAULT_POLICY,
        stale_after_days=(
            _days(where, data["stale_after_days"], "stale_after_days")
            if "stale_after_days" in data
            else DEFAULT_STALE_AFTER_DAYS
        ),
        site=data.get("site", False),
        site_title=data.get("site_title"),
        proxies=proxies,
        delays=delays,
    )


def find_config(path: Path | None) -> Path | None:
    """The configuration file in force: ``path`` (the option or its environment
    variable) when given, else ``./scholar-stats.toml`` when it exists."""
    if path is not None:
        return path
    default = Path(DEFAULT_CONFIG)
    return default if default.is_file() else None


def read_settings(path: Path | None) -> Config:
    """The configuration file's settings (``find_config``), or the defaults when
    there is none; authors are not required, for commands that need none."""
    found = find_config(path)
    return read_config_file(found) if found is not None else Config(authors=())


def resolve_data_dir(config_path: Path | None, data_dir: Path | None) -> Path:
    """The data folder: the option (or its environment variable), else the config's, else ``data``."""
    return data_dir if data_dir is not None else read_settings(config_path).data_dir


def load_config(
    path: Path | None,
    *,
    authors: Sequence[str] = (),
    data_dir: Path | None = None,
    base_url: str | None = None,
    sources: Sequence[str] = (),
    http: Mapping[str, Any] | None = None,
    on_block: str | None = None,
    stale_after_days: float | None = None,
    guard: Mapping[str, Any] | None = None,
) -> Config:
    """The configuration: the file (``find_config``), then command-line values over it.

    ``authors`` replaces the file's list; an author the file names keeps its
    entry there (label, IDs at other sources, source chain)."""
    config = read_settings(path)
    if authors:
        refs: list[AuthorRef] = []
        for raw in authors:
            try:
                ref = AuthorRef(normalize_scholar_id(raw))
            except ValueError as exc:
                raise UsageError(str(exc)) from exc
            if all(r.scholar_id != ref.scholar_id for r in refs):
                refs.append(ref)
        known = {a.scholar_id: a for a in config.authors}
        config = dataclasses.replace(config, authors=tuple(known.get(r.scholar_id, r) for r in refs))
    if not config.authors:
        if config.path is not None:
            raise ConfigError(
                f"{config.path}: no author to follow: add an [[authors]] entry or pass --author SCHOLAR_ID"
            )
        raise UsageError(
            "no author to follow: pass --author SCHOLAR_ID or a --config file with [[authors]] entries"
        )
    changes: dict[str, Any] = {}
    if data_dir is not None:
        changes["data_dir"] = data_dir
    if base_url:
        try:
            changes["base_url"] = check_base_url(base_url)
        except ValueError as exc:
            raise UsageError(f"--base-url: {exc}") from None
    if sources:
        unknown = [s for s in sources if s not in SOURCES]
        if unknown:
            raise UsageError(f"unknown source {unknown[0]!r} (choose from {', '.join(SOURCES)})")
        changes["sources"] = tuple(sources)
        changes["authors"] = tuple(dataclasses.replace(a, sources=()) for a in config.authors)
    if on_block is not None or stale_after_days is not None:
        # Given on the command line, they hold for every author.
        if on_block is not None:
            if on_block not in POLICIES:
                raise UsageError(f"--on-block must be one of {', '.join(POLICIES)}, not {on_block!r}")
            changes["on_block"] = on_block
        if stale_after_days is not None:
            changes["stale_after_days"] = float(stale_after_days)
        changes["authors"] = tuple(
            dataclasses.replace(
                a,
                on_block=None if on_block is not None else a.on_block,
                stale_after_days=None if stale_after_days is not None else a.stale_after_days,
            )
            for a in changes.get("authors", config.authors)
        )
    if http:
        given = {k: v for k, v in http.items() if v is not None}
        try:
            changes["http"] = dataclasses.replace(config.http, **given)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        # A value on the command line is for every shard: it replaces the file's list.
        if "proxy" in given:
            changes["proxies"] = ()
        if "delay" in given:
            changes["delays"] = ()
    guard_given = {k: v for k, v in (guard or {}).items() if v is not None}
    if guard_given:
        try:
            changes["guard"] = dataclasses.replace(config.guard, **guard_given)
        except ValueError as exc:
            raise UsageError(str(exc)) from exc
    config = dataclasses.replace(config, **changes) if changes else config
    if config.http.proxy is None:
        # httpx reads these itself; a bad one must stop the run here, not in the middle.
        check_environment_proxies()
    return config
