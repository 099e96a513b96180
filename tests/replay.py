"""A local stand-in for scholar.google.com, for tests and benchmarks.

``ReplayServer`` is a real HTTP server (``http.server.ThreadingHTTPServer`` on
127.0.0.1, a free port) that answers ``/citations?user=ID&cstart=C&pagesize=P``
the way Google Scholar does, from pages built out of the real saved pages in
``tests/fixtures/scholar/``:

* ``add_profile(scholar_id, n)`` serves a generated profile of ``n``
  publications.  Its pages are the real ``cherukuri_en_20rows_showmore.html``
  page with its header, stats table and histogram markup kept, its numbers
  replaced by consistent ones (the stats total is the sum of the row
  citations) and the rows of ``tbody#gsc_a_b`` generated in the markup of real
  rows.  ``cstart``/``pagesize`` select the rows (Scholar caps ``pagesize`` at
  100 and defaults it to 20); ``#gsc_a_nn`` gives the range and
  ``#gsc_bpf_more`` is ``disabled`` on the last page, as on real pages.  The
  returned ``GeneratedProfile`` holds the values a correct client must find.
* ``add_fixture_page(scholar_id, filename)`` serves a saved page verbatim
  with the charset it declares (``bohlooli`` is ISO-8859-1).
* An unknown ID answers 404, as Scholar does for a user that does not exist.
* Failures, per scholar ID: ``queue(ID, *scenarios)`` answers the next
  requests for that ID with the given scenarios, one each, then normally
  ("429 then success" is ``queue(ID, RateLimited(1))``);
  ``set_scenario(ID, scenario)`` answers every later request with it.
* ``OtherProfile(ID)`` serves another profile's page from ``cstart=100`` on,
  a server mixing two profiles.
* ``requests`` lists every request received (path, query, headers), in order.

Only what a client can see is imitated; nothing here talks to the internet.
The ``/sorry/index`` page and the 404 page are small synthetic pages (no saved
copy of Google's exists in the fixtures); every other page is real markup.
"""

from __future__ import annotations

import collections
import contextlib
import functools
import html
import math
import multiprocessing
import random
import re
import socket
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, quote, urlsplit

FIXTURES_DIR = Path(__file__).parent / "fixtures" / "scholar"
TEMPLATE_PAGE = "cherukuri_en_20rows_showmore.html"
CAPTCHA_PAGE = "captcha_scholar_profile_request.html"
SIGNIN_PAGE = "signin_page_invalid_user.html"
TEMPLATE_ID = "amIMrIEAAAAJ"
TEMPLATE_NAME = "Bangar Raju Cherukuri"
SCHOLAR_MAX_PAGESIZE = 100
SCHOLAR_DEFAULT_PAGESIZE = 20
SIGNIN_PATH = "/v3/signin/identifier"
SORRY_PATH = "/sorry/index"
OFFHOST_SIGNIN = "https://accounts.google.com" + SIGNIN_PATH
# Years and since-year of the template page's histogram and stats table; kept so
# the markup around them stays the real one.
HISTOGRAM_YEARS = (2020, 2021, 2022, 2023, 2024, 2025, 2026)
SINCE_YEAR = 2021

NOT_FOUND_BODY = (
    b"<!doctype html><html><head><title>Error 404 (Not Found)</title></head>"
    b"<body><p><b>404.</b> That\xe2\x80\x99s an error.</p>"
    b"<p>The requested URL was not found on this server.</p></body></html>"
)
SORRY_BODY = (
    b"<html><head><title>https://scholar.google.com/citations</title></head><body>"
    b'<div id="infoDiv">Our systems have detected unusual traffic from your computer network. '
    b"This page checks to see if it's really you sending the requests, and not a robot.</div>"
    b'<form id="captcha-form" action="index" method="post"></form></body></html>'
)


# -- what was received ------------------------------------------------------


class ReceivedRequest(NamedTuple):
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    """Header names in lower case."""


# -- failure scenarios --------------------------------------------------------


@dataclass(frozen=True)
class Captcha:
    """Scholar's robot check (the real saved page), with HTTP 200."""


@dataclass(frozen=True)
class SigninRedirect:
    """302 to a Google Accounts sign-in page: on this server (``/v3/signin/identifier``,
    which answers 200 with the real saved sign-in page) or, with ``offhost``, to
    ``https://accounts.google.com/...`` (a client must not follow it)."""

    offhost: bool = False


@dataclass(frozen=True)
class SorryRedirect:
    """302 to ``/sorry/index?continue=...``, which answers 429."""


@dataclass(frozen=True)
class RateLimited:
    """429, with ``Retry-After`` (seconds, or any header text) unless None."""

    retry_after: int | str | None = 1


@dataclass(frozen=True)
class ServerError:
    status: int = 503


@dataclass(frozen=True)
class Forbidden:
    """403."""


@dataclass(frozen=True)
class NotFoundPage:
    """404, as for a profile that does not exist (even if the ID is known here)."""


@dataclass(frozen=True)
class Slow:
    """Wait ``seconds`` before sending anything, then answer normally."""

    seconds: float


@dataclass(frozen=True)
class DripFeed:
    """Headers at once (with the full ``Content-Length``), then the body one
    byte every ``interval`` seconds."""

    interval: float = 0.05


@dataclass(frozen=True)
class TruncatedBody:
    """``Content-Length`` of the whole page, only its first ``fraction`` sent,
    then the connection is closed."""

    fraction: float = 0.5


@dataclass(frozen=True)
class CutPage:
    """Only the first ``fraction`` of the page, with a ``Content-Length`` that
    matches what is sent: a well-formed response carrying a cut-off page."""

    fraction: float = 0.5


@dataclass(frozen=True)
class ChangedMarkup:
    """The normal page with the stats table ``table#gsc_rsb_st`` renamed
    (``how="rename"``) or removed (``how="remove"``)."""

    how: str = "rename"


@dataclass(frozen=True)
class OtherProfile:
    """From ``cstart`` on, the pages of another profile served here (``scholar_id``)
    at the same ``cstart``: a server or cache that mixes two profiles.  Earlier
    pages are answered normally."""

    scholar_id: str
    from_cstart: int = 100


Scenario = (
    Captcha
    | SigninRedirect
    | SorryRedirect
    | RateLimited
    | ServerError
    | Forbidden
    | NotFoundPage
    | Slow
    | DripFeed
    | TruncatedBody
    | CutPage
    | ChangedMarkup
    | OtherProfile
)


# -- generated profiles -----------------------------------------------------


@dataclass(frozen=True)
class GeneratedPublication:
    author_pub_id: str
    """``USER:PUBID``, the ``citation_for_view`` value (as scholarly and AcadHomepage name it)."""
    title: str
    authors: str
    venue: str
    """As a parser reads it: includes the hidden ``, YYYY`` suffix when there is a year."""
    year: int | None
    citations: int
    """0 when the cell is empty (Scholar shows no number for uncited work)."""
    cites_id: str | None


@dataclass(frozen=True)
class GeneratedProfile:
    """The values a correct client extracts from a generated profile."""

    scholar_id: str
    name: str
    affiliation: str
    publications: tuple[GeneratedPublication, ...]
    citations: int
    citations_since: int
    h_index: int
    h_index_since: int
    i10_index: int
    i10_index_since: int
    since_year: int
    cites_per_year: Mapping[int, int] = field(default_factory=dict)

    @property
    def n_publications(self) -> int:
        return len(self.publications)

    def pages(self, pagesize: int = SCHOLAR_MAX_PAGESIZE) -> int:
        """Requests needed to list every publication (an empty profile still takes one)."""
        return max(1, math.ceil(self.n_publications / pagesize))


_ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
_WORDS_A = (
    "Adaptive",
    "Robust",
    "Scalable",
    "Bayesian",
    "Sparse",
    "Efficient",
    "Distributed",
    "Causal",
    "Stochastic",
    "Federated",
    "Quantum",
    "Thermal",
    "Ångström-scale",
    "Low-cost",
)
_WORDS_B = (
    "inference",
    "control",
    "estimation",
    "learning",
    "routing",
    "imaging",
    "sensing",
    "scheduling",
    "modelling",
    "retrieval",
    "compression",
    "verification",
)
_WORDS_C = (
    "wireless networks",
    "soft matter",
    "graph data",
    "power grids",
    "protein folding",
    "urban traffic",
    "climate records",
    "medical images",
    "software repositories",
    "river basins",
    "café supply chains",
    "spoken language",
)
_SURNAMES = (
    "Almeida",
    "Brown",
    "Chen",
    "Dubois",
    "Eriksson",
    "Fernández",
    "García",
    "Hansen",
    "Ivanova",
    "Jamshidi",
    "Kim",
    "López",
    "Müller",
    "Nakamura",
    "O'Brien",
    "Patel",
)
_JOURNALS = (
    "Journal of Applied Studies",
    "Transactions on Systems",
    "Physical Review Letters",
    "Proceedings of the Annual Conference",
    "Nature Communications",
    "Revista Brasileira",
)


def h_index(counts: Iterable[int]) -> int:
    ordered = sorted(counts, reverse=True)
    return sum(1 for rank, count in enumerate(ordered, 1) if count >= rank)


def _distribute(total: int, weights: Sequence[float]) -> list[int]:
    """Split ``total`` into integers proportional to ``weights`` (largest remainder)."""
    if not weights:
        return []
    scale = sum(weights) or 1.0
    raw = [total * w / scale for w in weights]
    parts = [int(x) for x in raw]
    order = sorted(range(len(raw)), key=lambda i: raw[i] - parts[i], reverse=True)
    for i in order[: total - sum(parts)]:
        parts[i] += 1
    return parts


def generate_profile(
    scholar_id: str,
    n_publications: int,
    *,
    citations: int | Sequence[int] | None = None,
    seed: int = 0,
    name: str = TEMPLATE_NAME,
    affiliation: str = "Senior .NET Web Developer",
    shared: Sequence[GeneratedPublication] = (),
) -> GeneratedProfile:
    """Deterministic rows for a profile: same arguments, same profile.

    ``citations`` is None (generated counts), a total to spread over the rows,
    or one count per row (kept in the order given).  Rows are otherwise sorted by
    citations, most cited first, as Scholar lists them by default.

    ``shared`` are papers co-authored with other profiles: the same title, year
    and cluster ID (``cites_id``) on each, under this profile's own row ID, and
    counted in its totals like its other rows.
    """
    rng = random.Random(f"{scholar_id}:{n_publications}:{seed}")
    if isinstance(citations, int):
        weights = [rng.random() ** 4 for _ in range(n_publications)]
        counts = sorted(_distribute(citations, weights), reverse=True)
    elif citations is not None:
        counts = [int(c) for c in citations]
        if len(counts) != n_publications:
            raise ValueError(f"{len(counts)} citation counts for {n_publications} publications")
    else:
        counts = sorted((int(200 * rng.random() ** 4) for _ in range(n_publications)), reverse=True)

    seen: set[str] = set()
    pubs = []
    for index, count in enumerate(counts):
        pub_id = "".join(rng.choice(_ID_ALPHABET) for _ in range(12))
        while pub_id in seen:
            pub_id = "".join(rng.choice(_ID_ALPHABET) for _ in range(12))
        seen.add(pub_id)
        title = f"{rng.choice(_WORDS_A)} {rng.choice(_WORDS_B)} for {rng.choice(_WORDS_C)}"
        if index % 7 == 3:
            title += ' & beyond: a "critical" <review>'
        title += f" (part {index + 1})"
        authors = ", ".join(
            f"{rng.choice('ABCDEFGHJKLMNPRS')}{rng.choice(['', 'A', 'M'])} {rng.choice(_SURNAMES)}"
            for _ in range(rng.randint(1, 4))
        )
        # Real pages have rows without a year (about 1 in 10 on the saved ones).
        year = None if rng.random() < 0.08 else rng.randint(1998, 2025)
        volume = (
            f"{rng.choice(_JOURNALS)} {rng.randint(1, 60)} ({rng.randint(1, 12)}), "
            f"{rng.randint(1, 900)}-{rng.randint(901, 999)}"
        )
        venue = volume + (f", {year}" if year is not None else "")
        cites_id = str(rng.randrange(10**17, 10**19)) if count > 0 else None
        pubs.append(
            GeneratedPublication(f"{scholar_id}:{pub_id}", title, authors, venue, year, count, cites_id)
        )
    for paper in shared:
        pub_id = "".join(rng.choice(_ID_ALPHABET) for _ in range(12))
        pubs.append(replace(paper, author_pub_id=f"{scholar_id}:{pub_id}"))
    if shared:
        pubs.sort(key=lambda p: p.citations, reverse=True)
        counts = [p.citations for p in pubs]

    total = sum(counts)
    # Recent citations: a share of the total spread over the histogram years;
    # per-row recent counts scale each row by the same share.
    recent_share = 0.0 if total == 0 else 0.8
    per_year = _distribute(int(total * recent_share), [1, 2, 3, 4, 6, 9, 15])
    cites_per_year = dict(zip(HISTOGRAM_YEARS, per_year, strict=True))
    since = sum(v for y, v in cites_per_year.items() if y >= SINCE_YEAR)
    ratio = since / total if total else 0.0
    recent_counts = [int(c * ratio) for c in counts]
    return GeneratedProfile(
        scholar_id=scholar_id,
        name=name,
        affiliation=affiliation,
        publications=tuple(pubs),
        citations=total,
        citations_since=since,
        h_index=h_index(counts),
        h_index_since=h_index(recent_counts),
        i10_index=sum(1 for c in counts if c >= 10),
        i10_index_since=sum(1 for c in recent_counts if c >= 10),
        since_year=SINCE_YEAR,
        cites_per_year=cites_per_year,
    )


# -- page building ------------------------------------------------------------

_TBODY_OPEN = '<tbody id="gsc_a_b">'
_RANGE_RE = re.compile(r'<span id="gsc_a_nn">[^<]*</span>')
_MORE_BUTTON = '<button type="button" id="gsc_bpf_more" '
_STATS_RE = re.compile(r'<table id="gsc_rsb_st">.*?</table>', re.S)
_STD_RE = re.compile(r'<td class="gsc_rsb_std">\d*</td>')
_HIST_RE = re.compile(r'<div class="gsc_md_hist_b">.*?</div>', re.S)
_HIST_AXIS_RE = re.compile(r'<div class="gsc_g_hist_xl">.*?</div></div>', re.S)
_CHARSET_RE = re.compile(rb"charset=([A-Za-z0-9_-]+)")
_CANONICAL_ID_RE = re.compile(rb'rel="canonical" href="[^"]*user=([A-Za-z0-9_-]{12})')


def read_fixture(filename: str, fixtures_dir: Path = FIXTURES_DIR) -> bytes:
    return (fixtures_dir / filename).read_bytes()


def declared_charset(body: bytes) -> str:
    match = _CHARSET_RE.search(body[:4096])
    return match.group(1).decode("ascii") if match else "UTF-8"


def fixture_scholar_id(filename: str, fixtures_dir: Path = FIXTURES_DIR) -> str:
    """The profile ID a saved page names in its canonical link."""
    match = _CANONICAL_ID_RE.search(read_fixture(filename, fixtures_dir))
    if not match:
        raise ValueError(f"{filename} names no profile")
    return match.group(1).decode("ascii")


@functools.lru_cache(maxsize=4)
def _template(fixtures_dir: Path) -> tuple[str, str]:
    """The template page split around the rows of ``tbody#gsc_a_b``."""
    text = read_fixture(TEMPLATE_PAGE, fixtures_dir).decode("utf-8")
    start = text.index(_TBODY_OPEN) + len(_TBODY_OPEN)
    end = text.index("</tbody>", start)
    head, tail = text[:start], text[end:]
    for needle, where in ((_STATS_RE, head), (_HIST_RE, head), (_RANGE_RE, tail)):
        if not needle.search(where):
            raise RuntimeError(f"template page {TEMPLATE_PAGE} lacks {needle.pattern}")
    if _MORE_BUTTON not in tail:
        raise RuntimeError(f"template page {TEMPLATE_PAGE} lacks the show-more button")
    return head, tail


def _stats_table(table: str, profile: GeneratedProfile) -> str:
    values = iter(
        (
            profile.citations,
            profile.citations_since,
            profile.h_index,
            profile.h_index_since,
            profile.i10_index,
            profile.i10_index_since,
        )
    )
    return _STD_RE.sub(lambda _m: f'<td class="gsc_rsb_std">{next(values)}</td>', table)


def _histogram(profile: GeneratedProfile) -> tuple[str, str]:
    """Bars in the template's markup; years with zero citations get no bar, as on Scholar."""
    top = max(profile.cites_per_year.values(), default=0)
    step = max(1, math.ceil(top / 4))
    spans, bars = [], []
    n = len(HISTOGRAM_YEARS)
    for i, year in enumerate(HISTOGRAM_YEARS):
        right = 32 * (n - 1 - i)
        spans.append(f'<span class="gsc_g_t" style="right:{right + 3}px">{year}</span>')
        value = profile.cites_per_year.get(year, 0)
        if value:
            height = max(1, round(154 * value / (4 * step)))
            bars.append(
                f'<a href="javascript:void(0)" class="gsc_g_a" style="right:{right + 8}px;'
                f'top:{160 - height}px;height:{height}px;z-index:{n - i}">'
                f'<span class="gsc_g_al">{value}</span></a>'
            )
    axis = "".join(f'<div class="gsc_g_xtl" style="top:{153 - 40 * k}px;">{k * step}</div>' for k in range(5))
    return (
        f'<div class="gsc_md_hist_b">{"".join(spans)}{"".join(bars)}</div>',
        f'<div class="gsc_g_hist_xl">{axis}</div></div>',
    )


@dataclass(frozen=True)
class _ProfilePages:
    profile: GeneratedProfile
    head: str
    tail: str

    @classmethod
    def build(cls, profile: GeneratedProfile, fixtures_dir: Path) -> _ProfilePages:
        head, tail = _template(fixtures_dir)
        head = _STATS_RE.sub(lambda m: _stats_table(m.group(0), profile), head, count=1)
        hist, axis = _histogram(profile)
        head = _HIST_RE.sub(lambda _m: hist, head, count=1)
        head = _HIST_AXIS_RE.sub(lambda _m: axis, head, count=1)
        head = head.replace("Cited by 425", f"Cited by {profile.citations}")
        name = html.escape(profile.name, quote=True)
        head = head.replace(TEMPLATE_NAME, name).replace(
            "Senior .NET Web Developer", html.escape(profile.affiliation, quote=True)
        )
        head = head.replace(TEMPLATE_ID, profile.scholar_id)
        tail = tail.replace(TEMPLATE_ID, profile.scholar_id)
        return cls(profile, head, tail)

    def render(self, *, cstart: int, pagesize: int, hl: str, changed: str | None = None) -> bytes:
        pubs = self.profile.publications
        rows = pubs[cstart : cstart + pagesize] if cstart >= 0 else ()
        sid = self.profile.scholar_id
        hl_attr = html.escape(hl, quote=True)
        parts = [self.head]
        if not rows:
            # What Scholar sends past the last row (and for an empty profile).
            parts.append(
                '<tr class="gsc_a_tr"><td class="gsc_a_e" colspan="3">'
                "There are no articles in this profile.</td></tr>"
            )
        for pub in rows:
            year = "" if pub.year is None else str(pub.year)
            hidden_year = "" if pub.year is None else f'<span class="gs_oph">, {year}</span>'
            venue = pub.venue[: -len(f", {year}")] if pub.year is not None else pub.venue
            if pub.cites_id:
                cites = (
                    f'<a href="https://scholar.google.com/scholar?oi=bibs&amp;hl={hl_attr}&amp;'
                    f'cites={pub.cites_id}" class="gsc_a_ac gs_ibl">{pub.citations}</a>'
                )
            else:
                cites = '<a href="" class="gsc_a_ac gs_ibl"></a>'
            parts.append(
                '<tr class="gsc_a_tr"><td class="gsc_a_t"><a href="/citations?view_op=view_citation'
                f'&amp;hl={hl_attr}&amp;user={sid}&amp;citation_for_view={pub.author_pub_id}" '
                f'class="gsc_a_at">{html.escape(pub.title, quote=False)}</a>'
                f'<div class="gs_gray">{html.escape(pub.authors, quote=False)}</div>'
                f'<div class="gs_gray">{html.escape(venue, quote=False)}{hidden_year}</div></td>'
                f'<td class="gsc_a_c">{cites}</td>'
                f'<td class="gsc_a_y"><span class="gsc_a_h gsc_a_hc gs_ibl">{year}</span></td></tr>'
            )
        more = cstart + pagesize < len(pubs)
        range_text = f"Articles {cstart + 1}&ndash;{cstart + len(rows)}" if rows else ""
        tail = _RANGE_RE.sub(lambda _m: f'<span id="gsc_a_nn">{range_text}</span>', self.tail, count=1)
        if not more:
            tail = tail.replace(_MORE_BUTTON, _MORE_BUTTON + "disabled ", 1)
        parts.append(tail)
        page = "".join(parts)
        if changed is not None:
            page = change_markup(page, changed)
        return page.encode("utf-8")


def change_markup(page: str, how: str) -> str:
    """The page with its stats table renamed or removed (a layout Scholar might switch to)."""
    if how == "rename":
        return page.replace('<table id="gsc_rsb_st">', '<table id="gsc_rsb_stats">', 1)
    if how == "remove":
        return _STATS_RE.sub("", page, count=1)
    raise ValueError(f"unknown markup change {how!r}")


# -- the server -----------------------------------------------------------------


class _Response(NamedTuple):
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def _html(
    status: int, body: bytes, charset: str = "UTF-8", extra: Sequence[tuple[str, str]] = ()
) -> _Response:
    return _Response(status, [("Content-Type", f"text/html; charset={charset}"), *extra], body)


class ReplayServer:
    """Google Scholar on 127.0.0.1 (see the module docstring)."""

    def __init__(self, fixtures_dir: Path = FIXTURES_DIR) -> None:
        self.fixtures_dir = fixtures_dir
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._profiles: dict[str, _ProfilePages] = {}
        self._fixture_pages: dict[str, tuple[bytes, str]] = {}
        self._queues: dict[str, collections.deque[Scenario]] = {}
        self._sticky: dict[str, Scenario] = {}
        self._requests: list[ReceivedRequest] = []
        self._connections: set[socket.socket] = set()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.url = ""
        self.latency = 0.0
        """Seconds every request waits before it is answered (a network far away, for benchmarks)."""

    # -- life cycle --------------------------------------------------------

    def start(self) -> ReplayServer:
        replay = self

        class Handler(_Handler):
            server_state = replay

        httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        httpd.daemon_threads = True
        httpd.block_on_close = False
        httpd.handle_error = lambda request, client_address: None  # type: ignore[method-assign]
        self._httpd = httpd
        self.url = f"http://127.0.0.1:{httpd.server_port}"
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="replay-server", daemon=True
        )
        self._thread.start()
        return self

    def close(self) -> None:
        self._stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> ReplayServer:
        return self.start() if self._httpd is None else self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- content -----------------------------------------------------------

    def add_profile(self, scholar_id: str, n_publications: int, **options: Any) -> GeneratedProfile:
        """Serve a generated profile (``options`` as ``generate_profile`` takes them); returns the
        values a client must extract."""
        profile = generate_profile(scholar_id, n_publications, **options)
        pages = _ProfilePages.build(profile, self.fixtures_dir)
        with self._lock:
            self._profiles[scholar_id] = pages
            self._fixture_pages.pop(scholar_id, None)
        return profile

    def add_fixture_page(self, scholar_id: str | None, filename: str) -> str:
        """Serve a saved page verbatim for every request about ``scholar_id``
        (default: the ID the page names).  Returns the ID."""
        body = read_fixture(filename, self.fixtures_dir)
        sid = scholar_id or fixture_scholar_id(filename, self.fixtures_dir)
        with self._lock:
            self._fixture_pages[sid] = (body, declared_charset(body))
            self._profiles.pop(sid, None)
        return sid

    def queue(self, scholar_id: str, *scenarios: Scenario) -> None:
        """Answer the next requests about ``scholar_id`` with these scenarios, one each."""
        with self._lock:
            self._queues.setdefault(scholar_id, collections.deque()).extend(scenarios)

    def set_scenario(self, scholar_id: str, scenario: Scenario | None) -> None:
        """Answer every request about ``scholar_id`` with ``scenario`` once its queue is empty
        (None: answer normally again)."""
        with self._lock:
            if scenario is None:
                self._sticky.pop(scholar_id, None)
            else:
                self._sticky[scholar_id] = scenario

    # -- what was received ------------------------------------------------

    @property
    def requests(self) -> list[ReceivedRequest]:
        with self._lock:
            return list(self._requests)

    def profile_requests(self, scholar_id: str | None = None) -> list[ReceivedRequest]:
        """The ``/citations`` requests received (about ``scholar_id`` if given)."""
        return [
            r
            for r in self.requests
            if r.path == "/citations" and (scholar_id is None or r.query.get("user") == scholar_id)
        ]

    def reset(self) -> None:
        """Forget the requests received and every queued or set scenario (profiles stay)."""
        with self._lock:
            self._requests.clear()
            self._queues.clear()
            self._sticky.clear()

    def profile_url(self, scholar_id: str, **params: str | int) -> str:
        query = "&".join(
            f"{k}={quote(str(v))}" for k, v in {"user": scholar_id, "hl": "en", **params}.items()
        )
        return f"{self.url}/citations?{query}"

    # -- used by the handler ----------------------------------------------

    def _record(self, request: ReceivedRequest) -> None:
        with self._lock:
            self._requests.append(request)

    def _track(self, conn: socket.socket, add: bool) -> None:
        with self._lock:
            if add:
                self._connections.add(conn)
            else:
                self._connections.discard(conn)

    def _next_scenario(self, scholar_id: str) -> Scenario | None:
        with self._lock:
            waiting = self._queues.get(scholar_id)
            if waiting:
                return waiting.popleft()
            return self._sticky.get(scholar_id)

    def _profile_response(self, query: Mapping[str, str], changed: str | None = None) -> _Response:
        sid = query.get("user", "")
        with self._lock:
            pages = self._profiles.get(sid)
            fixture = self._fixture_pages.get(sid)
        if pages is not None:
            cstart = _int(query.get("cstart"), 0)
            pagesize = min(
                max(_int(query.get("pagesize"), SCHOLAR_DEFAULT_PAGESIZE), 1), SCHOLAR_MAX_PAGESIZE
            )
            body = pages.render(cstart=cstart, pagesize=pagesize, hl=query.get("hl", "en"), changed=changed)
            return _html(200, body)
        if fixture is not None:
            body, charset = fixture
            if changed is not None:
                body = change_markup(body.decode("latin-1"), changed).encode("latin-1")
            return _html(200, body, charset)
        return _html(404, NOT_FOUND_BODY)

    def _wait(self, seconds: float) -> bool:
        """Sleep, but wake when the server stops; True if it is stopping."""
        return self._stopping.wait(seconds)


class ReplayProcess:
    """A ``ReplayServer`` in a process of its own, for benchmarks: Google Scholar does not run
    in the process that asks it, nor wait for that process's interpreter lock, and neither does
    this one.  Profiles, latency, ``reset`` and ``profile_requests`` are handed over a pipe;
    scenarios are left to the in-process server, which tests use."""

    def __init__(self, fixtures_dir: Path = FIXTURES_DIR) -> None:
        self.fixtures_dir = fixtures_dir
        self.url = ""
        self._latency = 0.0
        self._conn: Connection | None = None
        self._process: multiprocessing.process.BaseProcess | None = None

    def start(self) -> ReplayProcess:
        # spawn, not fork: the child starts from a clean interpreter whatever threads this one runs.
        context = multiprocessing.get_context("spawn")
        here, there = context.Pipe()
        self._process = context.Process(
            target=_serve_replay, args=(there, self.fixtures_dir), name="replay-process", daemon=True
        )
        self._process.start()
        there.close()
        self._conn = here
        self.url = here.recv()
        return self

    def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(OSError):
                self._conn.send(None)
            self._conn.close()
            self._conn = None
        if self._process is not None:
            self._process.join(timeout=5)
            if self._process.is_alive():
                self._process.kill()
            self._process = None

    def __enter__(self) -> ReplayProcess:
        return self.start() if self._conn is None else self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        assert self._conn is not None, "the replay process is not started"
        self._conn.send((name, args, kwargs))
        ok, value = self._conn.recv()
        if not ok:
            raise value
        return value

    @property
    def latency(self) -> float:
        """Seconds every request waits before it is answered (``ReplayServer.latency``)."""
        return self._latency

    @latency.setter
    def latency(self, seconds: float) -> None:
        self._call("latency", seconds)
        self._latency = seconds

    def add_profile(self, scholar_id: str, n_publications: int, **options: Any) -> GeneratedProfile:
        profile: GeneratedProfile = self._call("add_profile", scholar_id, n_publications, **options)
        return profile

    def profile_requests(self, scholar_id: str | None = None) -> list[ReceivedRequest]:
        received: list[ReceivedRequest] = self._call("profile_requests", scholar_id)
        return received

    def reset(self) -> None:
        self._call("reset")


def _serve_replay(conn: Connection, fixtures_dir: Path) -> None:
    """The replay process: a ``ReplayServer``, and the calls the pipe brings, until ``None``."""
    with ReplayServer(fixtures_dir) as server, conn:
        conn.send(server.url)
        while (call := conn.recv()) is not None:
            name, args, kwargs = call
            try:
                if name == "latency":
                    server.latency = args[0]
                    result = None
                else:
                    result = getattr(server, name)(*args, **kwargs)
            except Exception as exc:  # handed back to the caller, who raises it
                conn.send((False, exc))
            else:
                conn.send((True, result))


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value not in (None, "") else default
    except ValueError:
        return default


class _Handler(BaseHTTPRequestHandler):
    server_state: ReplayServer
    protocol_version = "HTTP/1.1"
    server_version = "GSE"
    sys_version = ""

    def setup(self) -> None:
        super().setup()
        self.server_state._track(self.connection, True)

    def finish(self) -> None:
        with contextlib.suppress(OSError):
            super().finish()
        self.server_state._track(self.connection, False)

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        try:
            self._dispatch()
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            self.close_connection = True

    # -- routing -----------------------------------------------------------

    def _dispatch(self) -> None:
        state = self.server_state
        if state.latency > 0:
            time.sleep(state.latency)
        parts = urlsplit(self.path)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        state._record(ReceivedRequest(parts.path, query, {k.lower(): v for k, v in self.headers.items()}))
        if parts.path == SIGNIN_PATH:
            return self._send(_html(200, read_fixture(SIGNIN_PAGE, state.fixtures_dir)))
        if parts.path == SORRY_PATH:
            return self._send(_html(429, SORRY_BODY))
        if parts.path != "/citations" or not query.get("user"):
            return self._send(_html(404, NOT_FOUND_BODY))
        scenario = state._next_scenario(query["user"])
        if scenario is None:
            return self._send(state._profile_response(query))
        self._play(scenario, query)

    def _here(self) -> str:
        host = self.headers.get("Host")
        return f"http://{host}{self.path}" if host else self.server_state.url + self.path

    def _play(self, scenario: Scenario, query: Mapping[str, str]) -> None:
        state = self.server_state
        if isinstance(scenario, Captcha):
            self._send(_html(200, read_fixture(CAPTCHA_PAGE, state.fixtures_dir)))
        elif isinstance(scenario, SigninRedirect):
            if scenario.offhost:
                target = "https://scholar.google.com" + self.path
                location = f"{OFFHOST_SIGNIN}?continue={quote(target, safe='')}"
            else:
                location = f"{SIGNIN_PATH}?continue={quote(self._here(), safe='')}"
            self._send(_html(302, b"", extra=[("Location", location)]))
        elif isinstance(scenario, SorryRedirect):
            location = f"{SORRY_PATH}?continue={quote(self._here(), safe='')}&q=EhAgAQ"
            self._send(_html(302, b"", extra=[("Location", location)]))
        elif isinstance(scenario, RateLimited):
            extra = [] if scenario.retry_after is None else [("Retry-After", str(scenario.retry_after))]
            self._send(_html(429, SORRY_BODY, extra=extra))
        elif isinstance(scenario, ServerError):
            self._send(_html(scenario.status, b"<html><body>Server Error</body></html>"))
        elif isinstance(scenario, Forbidden):
            self._send(_html(403, b"<html><body>Forbidden</body></html>"))
        elif isinstance(scenario, NotFoundPage):
            self._send(_html(404, NOT_FOUND_BODY))
        elif isinstance(scenario, Slow):
            if not state._wait(scenario.seconds):
                self._send(state._profile_response(query))
            else:
                self.close_connection = True
        elif isinstance(scenario, DripFeed):
            response = state._profile_response(query)
            self._send_head(response, len(response.body))
            for i in range(len(response.body)):
                self.wfile.write(response.body[i : i + 1])
                self.wfile.flush()
                if state._wait(scenario.interval):
                    break
            self.close_connection = True
        elif isinstance(scenario, TruncatedBody):
            response = state._profile_response(query)
            self._send_head(response, len(response.body))
            self.wfile.write(response.body[: int(len(response.body) * scenario.fraction)])
            self.wfile.flush()
            self.close_connection = True
        elif isinstance(scenario, CutPage):
            response = state._profile_response(query)
            self._send(response._replace(body=response.body[: int(len(response.body) * scenario.fraction)]))
        elif isinstance(scenario, ChangedMarkup):
            self._send(state._profile_response(query, changed=scenario.how))
        elif isinstance(scenario, OtherProfile):
            if _int(query.get("cstart"), 0) >= scenario.from_cstart:
                query = {**query, "user": scenario.scholar_id}
            self._send(state._profile_response(query))
        else:  # pragma: no cover - a new scenario class without a branch here
            raise TypeError(f"unknown scenario {scenario!r}")

    def _send_head(self, response: _Response, length: int) -> None:
        self.send_response(response.status)
        for name, value in response.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(length))
        self.end_headers()

    def _send(self, response: _Response) -> None:
        self._send_head(response, len(response.body))
        self.wfile.write(response.body)
        self.wfile.flush()


__all__ = [
    "Captcha",
    "ChangedMarkup",
    "CutPage",
    "DripFeed",
    "Forbidden",
    "GeneratedProfile",
    "GeneratedPublication",
    "NotFoundPage",
    "OtherProfile",
    "RateLimited",
    "ReceivedRequest",
    "ReplayProcess",
    "ReplayServer",
    "Scenario",
    "ServerError",
    "SigninRedirect",
    "Slow",
    "SorryRedirect",
    "TruncatedBody",
    "fixture_scholar_id",
    "generate_profile",
]
