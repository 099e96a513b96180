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
from collections.abc import Callable, Mapping, Sequence
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
from crawler.outputs.badge_style import BadgeStyle
from crawler.policy.guard import GuardOptions
from crawler.policy.on_block import (
    DEFAULT_POLICY,
    DEFAULT_STALE_AFTER_DAYS,
    check_policy,
    check_stale_after_days,
)
from crawler.sources import AuthorRef, check_chain
from crawler.storage.readfile import MAX_SETTINGS_BYTES, read_bounded
from crawler.storage.settings_file import DEFAULT_CONFIG as DEFAULT_CONFIG
from crawler.storage.settings_file import DEFAULT_DATA_DIR as DEFAULT_DATA_DIR
from crawler.storage.settings_file import find_config as find_config


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
        """The line of ``key`` at the top of the file, or in the ``index``-th ``[table]`` or
        ``[[table]]`` (else that table's header line); None when not found."""
        start = 0
        if table is not None:
            header = re.compile(rf"^\s*\[\[?\s*{re.escape(table)}\s*\]\]?\s*(#.*)?$")
            headers = [number for number, line in enumerate(self.lines) if header.match(line)]
            if index >= len(headers):
                return None
            start = headers[index] + 1
        pattern = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=")
        for number in range(start, len(self.lines)):
            if self.lines[number].lstrip().startswith("["):
                break
            if pattern.match(self.lines[number]):
                return number + 1
        return start if table is not None else None

    def error(self, message: str, key: str, table: str | None = None, index: int = 0) -> ConfigError:
        line = self.line_of(key, table, index)
        where = f"{self.path}:{line}" if line else str(self.path)
        name = f"{table}[{index}].{key}" if table == "authors" else (f"{table}.{key}" if table else key)
        return ConfigError(f"{where}: {name}: {message}")


class _Misfit(ValueError):
    """A value a key cannot take: the message, and where the key is (for ``_Where.error``)."""

    def __init__(self, message: str, key: str, table: str | None = None, index: int = 0) -> None:
        super().__init__(message)
        self.message, self.key, self.table, self.index = message, key, table, index


@dataclass(frozen=True)
class _Key:
    """One key of a table of the file: the type it must have (and what to say when it has
    another), and the check that turns its value into the setting (``ValueError`` saying why not)."""

    name: str
    kind: type | tuple[type, ...] = object
    wrong_kind: str = ""
    check: Callable[[Any], Any] = lambda value: value
    missing: str | None = None
    """What to say when the key is absent; None: it may be."""


def _walk(
    data: Mapping[str, Any], keys: Sequence[_Key], table: str | None = None, index: int = 0
) -> dict[str, Any]:
    """Each key of ``data`` checked by its row of ``keys``, in the rows' order: the settings found."""
    known = {key.name for key in keys}
    for name in data:
        if name not in known:
            raise _Misfit(f"unknown key (known: {', '.join(sorted(known))})", name, table, index)
    found: dict[str, Any] = {}
    for key in keys:
        if key.name not in data:
            if key.missing is not None:
                raise _Misfit(key.missing, key.name, table, index)
            continue
        value = data[key.name]
        try:
            if not isinstance(value, key.kind):
                raise ValueError(key.wrong_kind.format(value=value))
            found[key.name] = key.check(value)
        except _Misfit:
            raise
        except ValueError as exc:
            raise _Misfit(str(exc), key.name, table, index) from exc
    return found


def _stripped(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"each entry must be a non-empty string, not {value!r}")
    return value.strip()


def _per_shard(check: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """A key that may be given as a list, one value per shard (``run --shard K/N`` uses entry
    (K-1) mod len): a tuple of checked values then, else the one value checked."""

    def per_shard(value: Any) -> Any:
        if not isinstance(value, list):
            return check(value)
        if not value:
            raise ValueError("an empty list; give one value, or one per shard")
        return tuple(check(item) for item in value)

    return per_shard


def _table_of(cls: type, table: str) -> Callable[[Mapping[str, Any]], Any]:
    """A table (``[guard]``, ``[badge]``) read into the dataclass ``cls``, which checks its fields."""

    def check(data: Mapping[str, Any]) -> Any:
        names = {f.name for f in dataclasses.fields(cls)}
        for key in data:
            if key not in names:
                raise _Misfit(f"unknown key (known: {', '.join(sorted(names))})", key, table)
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
            raise _Misfit(text, key, table) from exc

    return check


def _nonblank(value: str) -> str:
    if not value.strip():
        raise ValueError("must be a non-empty string")
    return value.strip()


_IDS = ("openalex", "orcid", "semantic_scholar", "semantic-scholar")
# An [[authors]] entry, key by key, in the order they are checked.
_AUTHOR_KEYS: tuple[_Key, ...] = (
    _Key("id", str, "must be a string, not {value!r}", normalize_scholar_id,
         missing="missing (the Google Scholar ID or profile URL)"),
    *(_Key(name, str, "must be a non-empty string", _nonblank) for name in _IDS),
    _Key("label", str, "must be a string"),
    _Key("sources", check=check_chain),
    _Key("on_block", check=check_policy),
    _Key("stale_after_days", check=check_stale_after_days),
)  # fmt: skip


def _author(index: int, entry: Any) -> AuthorRef:
    if not isinstance(entry, Mapping):
        raise _Misfit("each [[authors]] entry must be a table", "id", "authors", index)
    found = _walk(entry, _AUTHOR_KEYS, "authors", index)
    return AuthorRef(
        scholar_id=found["id"],
        label=found.get("label"),
        ids={name.replace("_", "-"): found[name] for name in _IDS if name in found},
        sources=found.get("sources", ()),
        on_block=found.get("on_block"),
        stale_after_days=found.get("stale_after_days"),
    )


def _authors(entries: list[Any]) -> tuple[AuthorRef, ...]:
    authors = tuple(_author(index, entry) for index, entry in enumerate(entries))
    seen: dict[str, int] = {}
    for index, ref in enumerate(authors):
        if ref.scholar_id in seen:
            also = f"also authors[{seen[ref.scholar_id]}].id"
            raise _Misfit(f"{ref.scholar_id} is listed twice ({also})", "id", "authors", index)
        seen[ref.scholar_id] = index
    return authors


# The keys of scholar-stats.toml, in the order they are checked: the first mistake is the one reported.
_FILE_KEYS: tuple[_Key, ...] = (
    _Key("delay", check=_per_shard(lambda value: float(check_option("delay", value)))),
    _Key("timeout", check=lambda value: float(check_option("timeout", value))),
    _Key("deadline", check=lambda value: float(check_option("deadline", value))),
    _Key("retries", check=lambda value: check_option("retries", value)),
    _Key("site", bool, "must be true or false, not {value!r}"),
    _Key("proxy", (str, list), "must be a string or a list of strings, one per shard",
         _per_shard(lambda value: check_proxy(_stripped(value)))),
    _Key("base_url", str, "must be a string", lambda value: check_base_url(_stripped(value))),
    _Key("root_author", str, "must be a string", normalize_scholar_id),
    _Key("site_title", str, "must be a string"),
    _Key("authors", list, "must be an array of tables ([[authors]])", _authors),
    _Key("data_dir", str, "must be a string (a folder)", Path),
    _Key("sources", check=check_chain),
    _Key("guard", Mapping, "must be a table", _table_of(GuardOptions, "guard")),
    _Key("badge", Mapping, "must be a table", _table_of(BadgeStyle, "badge")),
    _Key("on_block", check=check_policy),
    _Key("stale_after_days", check=check_stale_after_days),
)  # fmt: skip
_HTTP_KEYS = ("delay", "timeout", "deadline", "retries", "proxy")


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


def _read_toml(path: Path) -> tuple[str, dict[str, Any]]:
    """The file's text and its tables; ``ConfigError`` when it cannot be read or is no TOML."""
    import tomllib  # here: without a configuration file, no command needs the TOML reader

    try:
        raw = read_bounded(path, limit=MAX_SETTINGS_BYTES, follow=True, error=ConfigError)
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: no such configuration file") from exc
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    text = raw.decode("utf-8", errors="replace")
    try:
        return text, tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line, message = _toml_error_position(exc, text)
        location = f"{path}:{line}" if line else str(path)
        raise ConfigError(f"{location}: not valid TOML: {message}") from exc


def read_config_file(path: Path) -> Config:
    text, data = _read_toml(path)
    try:
        found = _walk(data, _FILE_KEYS)
    except _Misfit as exc:
        raise _Where(path, text).error(exc.message, exc.key, exc.table, exc.index) from exc
    http = {name: found.pop(name) for name in _HTTP_KEYS if name in found}
    # A list gives one value per shard; the first is the one a run without --shard uses.
    per_shard = {name: value for name, value in http.items() if isinstance(value, tuple)}
    http.update((name, value[0]) for name, value in per_shard.items())
    data_dir = found.pop("data_dir", DEFAULT_DATA_DIR)
    return Config(
        authors=found.pop("authors", ()),
        data_dir=data_dir if data_dir.is_absolute() else path.parent / data_dir,
        http=HttpOptions(**http),
        path=path,
        proxies=per_shard.get("proxy", ()),
        delays=per_shard.get("delay", ()),
        **found,
    )


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
        known = {a.scholar_id: a for a in config.authors}
        config = dataclasses.replace(config, authors=tuple(known.get(i, AuthorRef(i)) for i in _ids(authors)))
    if not config.authors:
        if config.path is not None:
            raise ConfigError(
                f"{config.path}: no author to follow: add an [[authors]] entry or pass --author SCHOLAR_ID"
            )
        raise UsageError(
            "no author to follow: pass --author SCHOLAR_ID or a --config file with [[authors]] entries"
        )
    given = {
        "data_dir": data_dir,
        "base_url": base_url or None,
        "sources": list(sources) or None,
        "on_block": on_block,
        "stale_after_days": stale_after_days,
    }
    config = _options_over(config, {name: value for name, value in given.items() if value is not None})
    config = _tables_over(config, http or {}, guard or {})
    if config.http.proxy is None:
        # httpx reads these itself; a bad one must stop the run here, not in the middle.
        check_environment_proxies()
    return config


def _ids(authors: Sequence[str]) -> list[str]:
    """The Scholar IDs of ``--author`` values, each once, in their order."""
    ids: list[str] = []
    for raw in authors:
        try:
            scholar_id = normalize_scholar_id(raw)
        except ValueError as exc:
            raise UsageError(str(exc)) from exc
        if scholar_id not in ids:
            ids.append(scholar_id)
    return ids


@dataclass(frozen=True)
class _Option:
    """A setting an option (or its environment variable) gives over the file's."""

    check: Callable[[Any], Any]
    message: str = "{}"
    """How a ``ValueError`` of the check reads."""
    replaces: Mapping[str, Any] = field(default_factory=dict)
    """Each author's own setting the option replaces: given on the command line, it holds for every author."""


# In the order they are checked: the first mistake is the one reported.
_OPTIONS: dict[str, _Option] = {
    "data_dir": _Option(Path),
    "base_url": _Option(check_base_url, "--base-url: {}"),
    "sources": _Option(check_chain, replaces={"sources": ()}),
    "on_block": _Option(check_policy, "--on-block {}", replaces={"on_block": None}),
    "stale_after_days": _Option(float, replaces={"stale_after_days": None}),
}


def _options_over(config: Config, given: Mapping[str, Any]) -> Config:
    if not given:
        return config
    changes: dict[str, Any] = {}
    replaced: dict[str, Any] = {}
    for name, value in given.items():
        option = _OPTIONS[name]
        try:
            changes[name] = option.check(value)
        except ValueError as exc:
            raise UsageError(option.message.format(exc)) from None
        replaced.update(option.replaces)
    if replaced:
        changes["authors"] = tuple(dataclasses.replace(a, **replaced) for a in config.authors)
    return dataclasses.replace(config, **changes)


def _tables_over(config: Config, http: Mapping[str, Any], guard: Mapping[str, Any]) -> Config:
    """The HTTP options and the guard's given on the command line, each over the file's."""
    http = {name: value for name, value in http.items() if value is not None}
    guard = {name: value for name, value in guard.items() if value is not None}
    changes: dict[str, Any] = {}
    try:
        if http:
            changes["http"] = dataclasses.replace(config.http, **http)
        if guard:
            changes["guard"] = dataclasses.replace(config.guard, **guard)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    # A value on the command line is for every shard: it replaces the file's list.
    changes.update(
        {shards: () for name, shards in (("proxy", "proxies"), ("delay", "delays")) if name in http}
    )
    return dataclasses.replace(config, **changes) if changes else config
