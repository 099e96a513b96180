"""Google Scholar through the ``scholarly`` package (an optional extra).

``pip install "scholar-stats[scholarly]"`` installs scholarly 1.7.11 with
``bibtexparser<2`` (scholarly imports bibtexparser's 1.x API).  It is imported
only when this source is used; without it the source is unavailable and a
fallback chain moves on.

The author is read with ``scholarly.fill(author, sections=['basics',
'indices', 'counts', 'publications'])`` and its dict mapped to our record.

How requests are made, in two modes:

* Routed (the default): scholarly's HTTP sessions are built on an httpx
  transport of ours, so every request goes through ``PoliteClient`` (delay,
  bounded retries, ``Retry-After``, the deadline, ``--proxy``), to the base
  URL (``SCHOLAR_STATS_BASE_URL``; scholarly itself hard-codes
  https://scholar.google.com, the transport rewrites it).  A CAPTCHA (as
  scholarly or our parser knows it), a redirect to ``/sorry/`` or to sign-in,
  a 403 or a 429 that outlasts its retries stops the fetch at once as
  ``Blocked``, a 404 as ``NotFound`` and a cut-off page as ``TruncatedPage``:
  scholarly would otherwise retry for minutes, open a browser for the CAPTCHA,
  or read a cut-off page as a shorter profile.
* scholarly's own proxy modes, chosen with ``SCHOLAR_STATS_SCHOLARLY_PROXY``:
  ``single`` (the ``--proxy`` URL, or ``HTTPS_PROXY``), ``scraperapi`` (key in
  ``SCRAPERAPI_KEY``), ``free`` (free-proxy lists) or ``tor`` (a running Tor:
  ``SCHOLAR_STATS_TOR_SOCKS_PORT`` 9050, ``SCHOLAR_STATS_TOR_CONTROL_PORT``
  9051, ``SCHOLAR_STATS_TOR_PASSWORD``).  They are set up by scholarly's
  ``ProxyGenerator`` and its own retry policy applies.  scholarly 1.7.11 passes
  ``proxies=`` to ``httpx.Client``, which httpx 0.28 removed: with httpx 0.28
  or later these modes fail with a ``TypeError``, reported here as
  ``SourceUnavailable`` with the way out (scholarly and ``httpx<0.28`` in a
  separate environment).  The routed mode works with any httpx.

scholarly keeps one navigator for the whole process; this source points it at
its own sessions for each fetch.

Errors: scholarly's ``MaxTriesExceededException`` ("Cannot Fetch from Google
Scholar") and ``DOSException`` -> ``Blocked``; a page scholarly cannot read ->
``ParseError``; anything else it raises -> ``FetchError``.

What the record lacks compared with the ``scholar`` source (in ``notes``):
scholarly does not report the year of the "since" column (``since_year`` is
``None``) nor the authors line of each publication.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpx

from crawler.errors import (
    Blocked,
    FetchError,
    NotFound,
    ParseError,
    ScholarStatsError,
    SourceUnavailable,
    TruncatedPage,
    UsageError,
)
from crawler.models import (
    SCHOLAR_ID_RE,
    AuthorRecord,
    Metrics,
    Profile,
    Publication,
    check_scholar_pub_id,
    utc_now,
)
from crawler.net.http import Deadline, HttpOptions, PoliteClient, build_client
from crawler.sources import AuthorRef, SourceSettings
from crawler.sources.scholar import base_url_from, refuse_block_redirects
from crawler.sources.scholar_page import parse_profile

log = logging.getLogger(__name__)

NAME = "scholarly"
EXTRA = 'pip install "scholar-stats[scholarly]"'
SCHOLAR_ORIGIN = "https://scholar.google.com"
PROXY_MODE_ENV = "SCHOLAR_STATS_SCHOLARLY_PROXY"
PROXY_MODES = ("none", "single", "scraperapi", "free", "tor")
SCRAPERAPI_KEY_ENV = "SCRAPERAPI_KEY"
TOR_SOCKS_PORT_ENV = "SCHOLAR_STATS_TOR_SOCKS_PORT"
TOR_CONTROL_PORT_ENV = "SCHOLAR_STATS_TOR_CONTROL_PORT"
TOR_PASSWORD_ENV = "SCHOLAR_STATS_TOR_PASSWORD"
SECTIONS = ["basics", "indices", "counts", "publications"]
HTTPX_ADVICE = (
    "scholarly's proxy modes pass proxies= to httpx.Client, which httpx 0.28 removed; "
    'install scholarly with "httpx<0.28" in a separate environment, or use the default '
    f"routed mode ({PROXY_MODE_ENV}=none) with --proxy"
)
# What scholarly itself looks for in a page to call it a CAPTCHA.
_CAPTCHA_MARKERS = (
    b'id="gs_captcha_ccl"',
    b'id="recaptcha"',
    b'id="captcha-form"',
    b'class="rc-doscaptcha-body"',
)
# Headers that described the body as sent; the body handed back is already decoded.
_HOP_HEADERS = frozenset({"content-encoding", "content-length", "transfer-encoding", "connection"})


class _Abort(BaseException):
    """Carries one of our errors out of scholarly.

    scholarly's retry loop catches every ``Exception`` (and sleeps, and may open
    a browser for a CAPTCHA); a ``BaseException`` passes through it, so our
    policy, not scholarly's, decides when to stop.
    """

    def __init__(self, error: ScholarStatsError) -> None:
        super().__init__(str(error))
        self.error = error


class ScholarTransport(httpx.BaseTransport):
    """The httpx transport under scholarly's sessions: our client, our base URL."""

    def __init__(self, client: PoliteClient, base_url: str) -> None:
        self.client = client
        self.base_url = base_url
        self.deadline: Deadline | None = None

    def target(self, url: httpx.URL) -> str:
        """``url`` moved from scholar.google.com to the configured base URL."""
        base = urlsplit(self.base_url)
        text = str(url)
        if base.netloc == urlsplit(SCHOLAR_ORIGIN).netloc and base.scheme == "https":
            return text
        parts = urlsplit(text)
        path = base.path.rstrip("/") + parts.path
        return urlunsplit((base.scheme, base.netloc, path, parts.query, ""))

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.deadline is None:
            self.deadline = self.client.deadline()
        url = self.target(request.url)
        try:
            response, body = self.client.get(
                url, deadline=self.deadline, redirect_policy=refuse_block_redirects
            )
        except ScholarStatsError as exc:
            raise _Abort(exc) from exc
        if any(marker in body for marker in _CAPTCHA_MARKERS):
            raise _Abort(Blocked("Google Scholar answered with a CAPTCHA", kind="captcha", url=url))
        try:
            parse_profile(body, content_type=response.headers.get("content-type"), url=url)
        except (Blocked, TruncatedPage) as exc:
            # Our parser knows block pages scholarly does not (it would fail on
            # them as on a changed layout) and cut-off pages it would read as
            # shorter profiles.
            raise _Abort(exc) from exc
        except ParseError:
            pass  # scholarly reads the page its own way and reports what it cannot read
        headers = [(k, v) for k, v in response.headers.multi_items() if k.lower() not in _HOP_HEADERS]
        return httpx.Response(response.status_code, headers=headers, content=body, request=request)

    def close(self) -> None:
        # scholarly closes its sessions (and so their transport) whenever it
        # starts afresh or drops a ProxyGenerator; the client lives as long as
        # the source, which closes it.
        pass


def _import_scholarly() -> Any:
    try:
        import scholarly as package
    except ImportError as exc:
        raise SourceUnavailable(f"the scholarly source needs the optional extra: {EXTRA} ({exc})") from exc
    return package


def routed_proxy_generator(package: Any, transport: httpx.BaseTransport, options: HttpOptions) -> Any:
    """A scholarly ``ProxyGenerator`` whose sessions all go through ``transport``."""

    class RoutedProxyGenerator(package.ProxyGenerator):
        def __init__(self) -> None:
            self._transport = transport
            super().__init__()

        def _new_session(self, **kwargs: Any) -> httpx.Client:
            # scholarly calls this after every failure to start afresh; the
            # session it makes is always ours.
            old = getattr(self, "_session", None)
            if old is not None:
                old.close()
            self.got_403 = False
            self._session = httpx.Client(
                transport=self._transport, headers=dict(options.headers), follow_redirects=True
            )
            self._webdriver = None
            return self._session

    return RoutedProxyGenerator()


def proxy_mode_from_env() -> str:
    mode = (os.environ.get(PROXY_MODE_ENV) or "none").strip().lower()
    if mode not in PROXY_MODES:
        raise UsageError(f"{PROXY_MODE_ENV}={mode!r} is not one of {', '.join(PROXY_MODES)}")
    return mode


def scholarly_proxy_generator(package: Any, mode: str, settings: SourceSettings) -> Any:
    """A ``ProxyGenerator`` set up in one of scholarly's own proxy modes."""
    generator = package.ProxyGenerator()
    try:
        if mode == "single":
            url = settings.http.proxy or os.environ.get("HTTPS_PROXY") or os.environ.get("https_proxy")
            if not url:
                raise UsageError(f"{PROXY_MODE_ENV}=single needs a proxy: --proxy URL or HTTPS_PROXY")
            works = generator.SingleProxy(http=url, https=url)
        elif mode == "scraperapi":
            key = settings.api_key or os.environ.get(SCRAPERAPI_KEY_ENV)
            if not key:
                raise SourceUnavailable(f"{PROXY_MODE_ENV}=scraperapi needs {SCRAPERAPI_KEY_ENV}")
            works = generator.ScraperAPI(key)
        elif mode == "free":
            works = generator.FreeProxies()
        else:
            result = generator.Tor_External(
                tor_sock_port=int(os.environ.get(TOR_SOCKS_PORT_ENV) or 9050),
                tor_control_port=int(os.environ.get(TOR_CONTROL_PORT_ENV) or 9051),
                tor_password=os.environ.get(TOR_PASSWORD_ENV) or None,
            )
            works = bool(result.get("proxy_works")) if isinstance(result, Mapping) else bool(result)
    except TypeError as exc:
        if "proxies" in str(exc):
            raise SourceUnavailable(
                f"scholarly's {mode!r} proxy mode cannot run with this httpx: {HTTPX_ADVICE}"
            ) from exc
        raise
    except ScholarStatsError:
        raise
    except Exception as exc:
        raise SourceUnavailable(f"scholarly could not set up its {mode!r} proxy: {exc}") from exc
    if not works:
        raise SourceUnavailable(
            f"scholarly could not set up its {mode!r} proxy (it reported that the proxy does not work)"
        )
    return generator


@dataclass
class ScholarlySource:
    settings: SourceSettings
    name: str = NAME

    def __post_init__(self) -> None:
        self.base_url = base_url_from(self.settings)
        self._transport: ScholarTransport | None = None

    def close(self) -> None:
        if self._transport is not None:
            self._transport.client.close()
            self._transport = None

    @contextmanager
    def _navigator(self, package: Any) -> Iterator[ScholarTransport | None]:
        """Point scholarly's process-wide navigator at this source's sessions."""
        mode = proxy_mode_from_env()
        if mode == "none":
            if self._transport is None:
                # One client for every author of a run, so pacing holds across them.
                client = PoliteClient(
                    build_client(self.settings.http, transport=self.settings.transport), self.settings.http
                )
                self._transport = ScholarTransport(client, self.base_url)
            transport = self._transport
            generator = routed_proxy_generator(package, transport, self.settings.http)
            package.scholarly.use_proxy(generator, generator)
            yield transport
        else:
            generator = scholarly_proxy_generator(package, mode, self.settings)
            package.scholarly.use_proxy(generator, generator)
            yield None

    def fetch(self, author: AuthorRef) -> AuthorRecord:
        scholar_id = author.scholar_id
        if not SCHOLAR_ID_RE.match(scholar_id):
            raise UsageError(
                f"scholarly needs a Google Scholar ID (12 characters, e.g. amIMrIEAAAAJ), not {scholar_id!r}"
            )
        package = _import_scholarly()
        from scholarly._proxy_generator import DOSException, MaxTriesExceededException
        from scholarly.data_types import AuthorSource

        with self._navigator(package) as transport:
            if transport is not None:
                transport.deadline = transport.client.deadline()
            # The shape scholarly's own ``search_author_id`` starts from, without
            # the extra request it makes to fill the basics twice.
            start: dict[str, Any] = {
                "container_type": "Author",
                "filled": [],
                "scholar_id": scholar_id,
                "source": AuthorSource.AUTHOR_PROFILE_PAGE,
            }
            try:
                filled = package.scholarly.fill(start, sections=list(SECTIONS))
            except _Abort as abort:
                error = abort.error
                if isinstance(error, NotFound):
                    raise NotFound(
                        f"no Google Scholar profile with ID {scholar_id}", url=error.url, status=error.status
                    ) from error
                raise error from None
            except (MaxTriesExceededException, DOSException) as exc:
                raise Blocked(f"scholarly gave up: {exc or type(exc).__name__}", kind="scholarly") from exc
            except TypeError as exc:
                if "proxies" in str(exc):
                    raise SourceUnavailable(f"scholarly cannot run with this httpx: {HTTPX_ADVICE}") from exc
                raise ParseError(f"scholarly could not read the profile of {scholar_id}: {exc}") from exc
            except (AttributeError, IndexError, KeyError, ValueError) as exc:
                raise ParseError(
                    f"scholarly could not read the profile of {scholar_id} ({type(exc).__name__}: {exc})"
                ) from exc
            except Exception as exc:
                raise FetchError(f"scholarly failed: {type(exc).__name__}: {exc}") from exc
        return record_from_author(scholar_id, filled, base_url=self.base_url).with_fetched_at(utc_now())


def _text(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    text = " ".join(value.split())
    return text or None


def _joined(base: str, href: str | None) -> str | None:
    """``href`` made absolute; None when there is none or urllib refuses it ("http://[")."""
    if not href:
        return None
    try:
        return urljoin(base, href)
    except ValueError:
        return None


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    text = value.strip() if isinstance(value, str) else ""
    # isdigit() alone would let "²" through to int(); thousands of digits are no count either.
    if text.isascii() and text.isdigit() and len(text) <= 18:
        return int(text)
    return None


def record_from_author(
    scholar_id: str, author: Mapping[str, Any], *, base_url: str = SCHOLAR_ORIGIN
) -> AuthorRecord:
    """Our record from scholarly's filled author dict."""
    name = _text(author.get("name"))
    if name is None:
        raise ParseError(f"scholarly returned no name for {scholar_id}")
    email = _text(author.get("email_domain"))
    picture = _text(author.get("url_picture"))
    profile = Profile(
        scholar_id=scholar_id,
        name=name,
        affiliation=_text(author.get("affiliation")),
        interests=tuple(t for t in (_text(i) for i in author.get("interests") or ()) if t),
        email_domain=(email.lstrip("@") or None) if email else None,
        homepage=_text(author.get("homepage")),
        # scholarly keeps the src as the page gives it: relative to the page.
        picture_url=_joined(base_url + "/", picture),
    )
    if "citedby" in author:
        metrics = Metrics(
            citations=_int(author.get("citedby")),
            citations_since=_int(author.get("citedby5y")),
            h_index=_int(author.get("hindex")),
            h_index_since=_int(author.get("hindex5y")),
            i10_index=_int(author.get("i10index")),
            i10_index_since=_int(author.get("i10index5y")),
        )
    else:
        # Without a stats table scholarly writes 0 for the indices: not provided is not zero.
        metrics = Metrics()
    per_year = author.get("cites_per_year") or {}
    cites_per_year = tuple(
        sorted(
            (year, count)
            for year, count in ((_int(y), _int(c)) for y, c in per_year.items())
            if year is not None and count is not None
        )
    )
    publications: list[Publication] = []
    seen: set[str] = set()
    for pub in author.get("publications") or ():
        pub_id = _text(pub.get("author_pub_id"))
        if pub_id is None or pub_id in seen:
            continue
        try:
            check_scholar_pub_id(pub_id)
        except ValueError as exc:
            raise ParseError(f"scholarly's publication: {exc}") from None
        seen.add(pub_id)
        bib = pub.get("bib") or {}
        cites = pub.get("cites_id")
        publications.append(
            Publication(
                author_pub_id=pub_id,
                title=_text(bib.get("title")) or "",
                authors=None,
                venue=_text(bib.get("citation")),
                year=_int(bib.get("pub_year")),
                citations=_int(pub.get("num_citations")),
                cites_id=",".join(cites) if isinstance(cites, list) and cites else _text(cites),
            )
        )
    notes = (
        "scholarly does not report the year of the 'since' column",
        "scholarly does not report the authors of each publication",
    )
    return AuthorRecord(
        profile=profile,
        metrics=metrics,
        cites_per_year=cites_per_year,
        publications=tuple(publications),
        complete=True,
        source=NAME,
        notes=notes,
    )


def open_source(settings: SourceSettings) -> ScholarlySource:
    return ScholarlySource(settings)
