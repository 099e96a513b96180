"""The HTTP options every source shares, and the checks on them.

Kept apart from ``crawler.net.http`` so that reading a configuration (``site``,
``export``, every command's ``--help``) does not load httpx: only a proxy
URL, when one is given, is handed to httpx to be checked.  ``crawler.net.http``
offers all of these under their old names.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from crawler.errors import UsageError

DEFAULT_USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)
DEFAULT_HEADERS = {
    "User-Agent": DEFAULT_USER_AGENT,
    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "Accept-Language": "en-US,en;q=0.9",
}
PROXY_SCHEMES = ("http", "https", "socks5", "socks5h")
# The standard variables httpx reads when no proxy is given (trust_env).
PROXY_VARIABLES = ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY")
MAX_REDIRECTS = 5
# A Retry-After longer than this is not waited for: the source is treated as blocked.
MAX_RETRY_AFTER = 120.0


# The sane range of each numeric option; ``nan``, ``inf`` and anything outside
# are refused, from the command line and the configuration file alike.
OPTION_LIMITS: dict[str, tuple[float, float]] = {
    "delay": (0, 3600),
    "timeout": (0.1, 3600),
    "deadline": (0.1, 86400),
    "retries": (0, 10),
}


def check_option(name: str, value: object) -> float | int:
    """``value`` if it is a fit value for the option ``name``; else ``ValueError`` saying what fits."""
    low, high = OPTION_LIMITS[name]
    integer = name == "retries"
    kind = "a whole number" if integer else "a number"
    fits = (
        isinstance(value, int if integer else (int, float))
        and not isinstance(value, bool)
        and math.isfinite(value)
        and low <= value <= high
    )
    if not fits:
        raise ValueError(f"must be {kind} ≥ {low:g} and ≤ {high:g}, not {value!r}")
    return value  # type: ignore[return-value]


@dataclass(frozen=True)
class HttpOptions:
    delay: float = 5.0
    """Minimum seconds between two requests to the same host."""
    jitter: float = 0.5
    """Random extra delay, as a fraction of ``delay`` (0.5 means up to +50 %)."""
    timeout: float = 20.0
    """Seconds allowed for one request (connect, each read)."""
    deadline: float = 300.0
    """Seconds allowed for the whole fetch of one author, retries and delays included."""
    retries: int = 3
    """Retries after the first attempt, for timeouts, connection errors, 5xx and 429."""
    proxy: str | None = None
    headers: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_HEADERS))

    def __post_init__(self) -> None:
        for name in OPTION_LIMITS:
            check_option(name, getattr(self, name))
        if self.proxy is not None:
            check_proxy(self.proxy)


def check_proxy(url: str) -> str:
    """``url`` if it is a proxy URL httpx can use; else ``ValueError`` saying why, the password masked."""
    # Masking is loaded where a URL is checked: the options' defaults (every command's help) need none.
    from crawler.net.redact import mask_url, redact, remember_url, userinfo

    if isinstance(url, str):
        remember_url(url)
    shown = mask_url(url) if isinstance(url, str) else ""
    if not isinstance(url, str) or not url.strip():
        raise ValueError("must be a proxy URL such as socks5://host:1080")
    if "://" not in url:
        raise ValueError(f"{shown} is not a proxy URL: it needs a scheme, e.g. socks5://{shown}")
    info = userinfo(url)
    if info and any(ch in info for ch in "/?#"):
        # urllib (and httpx) would end the host at the first of them and read the rest as a path.
        raise ValueError(
            f"{shown}: the user name or password holds '/', '?' or '#': percent-encode them (%2F, %3F, %23)"
        )
    try:
        parts = urlsplit(url.strip())
    except ValueError as exc:
        raise ValueError(f"{shown}: not a valid URL ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme not in PROXY_SCHEMES:
        raise ValueError(
            f"{shown}: {scheme!r} proxies are not supported (use http://, https://, socks5:// or socks5h://)"
        )
    try:
        parts.port  # noqa: B018 - reading it is the check
    except ValueError:
        raise ValueError(f"{shown}: the port is not a number from 1 to 65535") from None
    if not parts.hostname:
        raise ValueError(f"{shown}: no host")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError(f"{shown}: a proxy URL has no path, query or fragment")
    import httpx  # only where a proxy is configured: the options themselves need no HTTP stack

    try:
        httpx.Proxy(url.strip())
    except (ValueError, httpx.InvalidURL) as exc:
        raise ValueError(f"{shown}: {redact(str(exc))}") from None
    return url.strip()


def check_base_url(url: str) -> str:
    """``url`` if it is an http(s) address a source can be moved to (a mirror, a replay
    server); else ``ValueError`` saying why, its credentials masked."""
    from crawler.net.redact import mask_url, redact, remember_url, userinfo

    if not isinstance(url, str) or not url.strip():
        raise ValueError("must be an http:// or https:// URL")
    remember_url(url)
    shown = mask_url(url)
    info = userinfo(url)
    if info and any(ch in info for ch in "/?#"):
        raise ValueError(
            f"{shown}: the user name or password holds '/', '?' or '#': percent-encode them (%2F, %3F, %23)"
        )
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 - reading it is the check
    except ValueError as exc:
        raise ValueError(f"{shown}: not a valid URL ({exc})") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise ValueError(f"{shown}: must be an http:// or https:// URL")
    if not parts.hostname:
        raise ValueError(f"{shown}: no host")
    import httpx

    try:
        httpx.URL(url.strip())
    except (ValueError, httpx.InvalidURL) as exc:
        raise ValueError(f"{shown}: {redact(str(exc))}") from None
    return url.strip()


def check_environment_proxies(environ: Mapping[str, str] | None = None) -> None:
    """``UsageError`` for a proxy variable httpx would choke on (it reads them when no proxy is given)."""
    environ = os.environ if environ is None else environ
    for name in PROXY_VARIABLES:
        for variable in (name, name.lower()):
            value = environ.get(variable)
            if not value:
                continue
            # httpx reads a value without a scheme as http://.
            url = value if "://" in value else f"http://{value}"
            try:
                check_proxy(url)
            except ValueError as exc:
                raise UsageError(f"environment variable {variable}: {exc}") from None
