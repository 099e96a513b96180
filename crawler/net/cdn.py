"""jsDelivr's cache of the data branch: dropped after a push so pages see the new files at once.

A failure here is a warning, never an error: the push already happened and
the cache expires by itself.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable
from pathlib import PurePosixPath
from urllib.parse import quote, urlsplit

import httpx

log = logging.getLogger(__name__)

JSDELIVR_PURGE_URL = "https://purge.jsdelivr.net"
PURGE_URL_ENV = "SCHOLAR_STATS_JSDELIVR_PURGE_URL"


def repo_slug(url: str) -> str | None:
    """OWNER/REPO from a remote URL (the last two parts of its path, ``.git`` dropped)."""
    text = url.strip()
    scp = re.match(r"^[\w.-]+@[\w.-]+:(?!//)(.+)$", text)
    try:
        path = scp.group(1) if scp else urlsplit(text).path if "://" in text else text
    except ValueError:
        return None
    parts = [p for p in PurePosixPath(path.replace("\\", "/")).parts if p not in ("/", "")]
    if len(parts) < 2:
        return None
    owner, name = parts[-2], parts[-1]
    if name.endswith(".git"):
        name = name[: -len(".git")]
    if not owner or not name:
        return None
    return f"{owner}/{name}"


def purge_jsdelivr(
    slug: str,
    branch: str,
    files: Iterable[str],
    *,
    base_url: str | None = None,
    client: httpx.Client | None = None,
) -> tuple[str, ...]:
    """Ask jsDelivr to drop its cached copies; return the URLs purged.  Failures are warnings only."""
    base = (base_url or os.environ.get(PURGE_URL_ENV) or JSDELIVR_PURGE_URL).rstrip("/")
    purged: list[str] = []
    own = client is None
    http = client or httpx.Client(timeout=httpx.Timeout(10.0), follow_redirects=True)
    try:
        for name in files:
            url = f"{base}/gh/{slug}@{quote(branch, safe='')}/{quote(name)}"
            try:
                response = http.get(url)
            except httpx.HTTPError as exc:
                log.warning("CDN purge failed for %s: %s", url, exc)
                continue
            if response.is_success:
                purged.append(url)
            else:
                log.warning("CDN purge failed for %s: HTTP %s", url, response.status_code)
    finally:
        if own:
            http.close()
    return tuple(purged)
