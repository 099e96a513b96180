"""Where an author's numbers come from: one interface, several sources.

A source turns an ``AuthorRef`` into an ``AuthorRecord`` whose ``source`` names
it.  ``open_source(name, settings)`` builds one; ``fetch_with_fallback`` walks a
chain of them, moving on only when a source is blocked or unavailable (never
when the profile does not exist).

==================  ==========================================  =======================
name                module                                      ID it needs
==================  ==========================================  =======================
scholar             crawler.sources.scholar                     Scholar ID
scholarly           crawler.sources.scholarly_source            Scholar ID
serpapi             crawler.sources.serpapi                     Scholar ID (+ SERPAPI_KEY)
openalex            crawler.sources.openalex                    OpenAlex ID or ORCID
semantic-scholar    crawler.sources.semantic_scholar            Semantic Scholar author ID
==================  ==========================================  =======================
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from crawler.errors import Blocked, FetchError, NotFound, ParseError, SourceUnavailable, UsageError
from crawler.net.options import HttpOptions

if TYPE_CHECKING:
    # A source's module loads httpx when it is opened; naming them does not.  The records'
    # module is named only: a command's help lists SOURCES without loading it.
    import httpx

    from crawler.models import AuthorRecord

# name -> (module, human label used in badges and reports)
SOURCES: dict[str, tuple[str, str]] = {
    "scholar": ("crawler.sources.scholar", "Google Scholar"),
    "scholarly": ("crawler.sources.scholarly_source", "Google Scholar via scholarly"),
    "serpapi": ("crawler.sources.serpapi", "Google Scholar via SerpApi"),
    "openalex": ("crawler.sources.openalex", "OpenAlex"),
    "semantic-scholar": ("crawler.sources.semantic_scholar", "Semantic Scholar"),
}
# Sources whose numbers are Google Scholar's own (a badge needs no source label).
SCHOLAR_NUMBERS = frozenset({"scholar", "scholarly", "serpapi"})
# Sources that read Scholar's own pages, so ``--base-url`` applies to them.
SCHOLAR_PAGES = frozenset({"scholar", "scholarly"})


def source_label(name: str) -> str:
    return SOURCES.get(name, ("", name))[1]


def check_chain(value: object) -> tuple[str, ...]:
    """``value`` (a source's name, or a list of them) as a source chain; else ``ValueError`` saying why."""
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list) or not names or not all(isinstance(name, str) for name in names):
        raise ValueError("must be a list of source names")
    unknown = [name for name in names if name not in SOURCES]
    if unknown:
        raise ValueError(f"unknown source {unknown[0]!r} (choose from {', '.join(SOURCES)})")
    return tuple(names)


@dataclass(frozen=True)
class AuthorRef:
    """An author as configured: the Scholar ID that names their data folder,
    plus the IDs other sources know them by (``openalex``, ``orcid``,
    ``semantic-scholar``)."""

    scholar_id: str
    label: str | None = None
    ids: Mapping[str, str] = field(default_factory=dict)
    sources: tuple[str, ...] = ()
    on_block: str | None = None
    """keep | bridge | replace for this author (crawler.policy.on_block); None: the configuration's."""
    stale_after_days: float | None = None


@dataclass(frozen=True)
class SourceSettings:
    http: HttpOptions = field(default_factory=HttpOptions)
    base_url: str | None = None
    """Overrides the source's public URL (tests, mirrors, replay servers)."""
    api_key: str | None = None
    """Overrides the key a source reads from its environment variable."""
    transport: httpx.BaseTransport | None = None
    """An httpx transport to route requests through (tests)."""

    def __post_init__(self) -> None:
        from crawler.net.redact import remember, remember_url

        # Whatever echoes a setting later (an error, state.json) finds its secrets masked.
        remember_url(self.base_url)
        remember(self.api_key)


class Source(Protocol):
    name: str

    def fetch(self, author: AuthorRef) -> AuthorRecord:
        """The author's complete record, or one of the errors of ``crawler.errors``."""
        ...

    def close(self) -> None: ...


def open_source(name: str, settings: SourceSettings) -> Source:
    """Build the source called ``name``; each module has ``open(settings) -> Source``."""
    if name not in SOURCES:
        raise UsageError(f"unknown source {name!r} (choose from {', '.join(SOURCES)})")
    module = importlib.import_module(SOURCES[name][0])
    factory: Callable[[SourceSettings], Source] = module.open_source
    return factory(settings)


# Failures after which the next source in a chain is tried.  NotFound is not
# one of them: a profile that does not exist will not exist elsewhere either.
FALLBACK_ON: tuple[type[Exception], ...] = (Blocked, SourceUnavailable, ParseError, FetchError)


class SourcePool:
    """Sources opened once per run and shared by every author, so that one
    client paces all requests to a host (politeness holds across authors)."""

    def __init__(self, settings_for: Callable[[str], SourceSettings]) -> None:
        self.settings_for = settings_for
        self._open: dict[str, Source] = {}

    def get(self, name: str) -> Source:
        if name not in self._open:
            self._open[name] = open_source(name, self.settings_for(name))
        return self._open[name]

    def close(self) -> None:
        for source in self._open.values():
            source.close()
        self._open.clear()

    def __enter__(self) -> SourcePool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass
class ChainResult:
    record: AuthorRecord
    failures: list[tuple[str, Exception]]

    @property
    def fell_back(self) -> bool:
        return bool(self.failures)


def fetch_with_fallback(
    author: AuthorRef,
    chain: Sequence[str],
    settings_for: Callable[[str], SourceSettings],
    *,
    pool: SourcePool | None = None,
) -> ChainResult:
    """Try each source of ``chain`` in turn; raise the first one's error if all fail."""
    failures: list[tuple[str, Exception]] = []
    own_pool = pool is None
    sources = SourcePool(settings_for) if pool is None else pool
    try:
        for name in chain:
            try:
                record = sources.get(name).fetch(author)
            except NotFound:
                raise
            except FALLBACK_ON as exc:
                # The caller reports the failure that ends the chain; only a fall
                # back to the next source is worth a line here.
                if name != chain[-1]:
                    # Loaded here, not with the module: a command's help lists SOURCES without logging.
                    import logging

                    logging.getLogger(__name__).warning(
                        "source %s failed for %s: %s; trying the next source", name, author.scholar_id, exc
                    )
                failures.append((name, exc))
                continue
            return ChainResult(record, failures)
    finally:
        if own_pool:
            sources.close()
    assert failures, "an empty source chain"
    raise failures[0][1]
