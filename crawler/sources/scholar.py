"""Google Scholar itself: the profile pages, 100 publications a page.

A profile with N publications costs ceil(N/100) requests (at least one): page 1
is ``citations?user=ID&hl=en&pagesize=100`` and ``&cstart=100``, ``200``, ...
follow only while the page's "Show more" button is enabled.  No page is asked
for twice.  Cookies are kept across the pages of one profile (one client per
source), and every request goes through ``PoliteClient`` (delay, retries,
deadline).
"""

from __future__ import annotations

import logging
import os
from dataclasses import replace
from urllib.parse import urlsplit

from crawler.errors import Blocked, NotFound, ParseError
from crawler.models import AuthorRecord, Publication, repeated_note, utc_now
from crawler.net import progress
from crawler.net.http import Deadline, PoliteClient, build_client
from crawler.sources import AuthorRef, SourceSettings
from crawler.sources.scholar_page import ProfilePage, page_to_record, parse_profile, whose

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://scholar.google.com"
BASE_URL_ENV = "SCHOLAR_STATS_BASE_URL"
PAGE_SIZE = 100
# Scholar lists at most a few thousand articles; a page count past this means a loop.
MAX_PAGES = 100


def base_url_from(settings: SourceSettings) -> str:
    return (settings.base_url or os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL).rstrip("/")


def refuse_block_redirects(from_url: str, location: str) -> None:
    """Redirects to a sign-in wall or to ``/sorry/`` mean Google is blocking us:
    stop at once instead of following them off to another host."""
    target = urlsplit(location)
    origin = urlsplit(from_url)
    if "/sorry/" in target.path or target.path.startswith("/sorry"):
        raise Blocked("Google redirected to its /sorry/ page (unusual traffic)", kind="sorry", url=location)
    if "accounts.google." in target.netloc or "/signin" in target.path or "ServiceLogin" in target.path:
        raise Blocked(
            "Google redirected to its sign-in page instead of the profile", kind="sign-in", url=location
        )
    if target.netloc and target.netloc != origin.netloc:
        raise Blocked(f"redirected off {origin.netloc} to {target.netloc}", kind="redirect", url=location)


class ScholarSource:
    name = "scholar"

    def __init__(self, client: PoliteClient, base_url: str) -> None:
        self.client = client
        self.base_url = base_url

    def close(self) -> None:
        self.client.close()

    def fetch_page(self, scholar_id: str, cstart: int, deadline: Deadline) -> ProfilePage:
        params: dict[str, str | int] = {"user": scholar_id, "hl": "en", "pagesize": PAGE_SIZE}
        if cstart:
            params["cstart"] = cstart
        url = f"{self.base_url}/citations"
        try:
            response, body = self.client.get(
                url, params=params, deadline=deadline, redirect_policy=refuse_block_redirects
            )
        except NotFound as exc:
            raise NotFound(
                f"no Google Scholar profile with ID {scholar_id}", url=exc.url, status=exc.status
            ) from exc
        return parse_profile(body, content_type=response.headers.get("content-type"), url=str(response.url))

    def _not_the_profile(self, page: ProfilePage, scholar_id: str, cstart: int) -> ParseError:
        """The error for a page that is not only the profile asked for."""
        return ParseError(
            (
                f"asked for {scholar_id}, but the page at cstart={cstart} {whose(page)}; "
                "nothing of the fetch was kept"
            ),
            url=f"{self.base_url}/citations?user={scholar_id}" + (f"&cstart={cstart}" if cstart else ""),
        )

    def fetch(self, author: AuthorRef) -> AuthorRecord:
        scholar_id = author.scholar_id
        deadline = self.client.deadline()
        first = self.fetch_page(scholar_id, 0, deadline)
        if len(first.named_ids) != 1:
            raise self._not_the_profile(first, scholar_id, 0)
        if first.profile.scholar_id != scholar_id:
            # Another person's profile: reading the rest of it would only cost
            # requests.  The record says whose it is and that it is partial; the
            # guard refuses it.
            log.warning(
                "asked for %s, Scholar served the profile of %s", scholar_id, first.profile.scholar_id
            )
            return page_to_record(first, complete=False).with_fetched_at(utc_now())
        publications: list[Publication] = list(first.publications)
        repeated: list[str] = list(first.repeated)
        seen = {p.author_pub_id for p in publications}
        page, cstart, pages = first, 0, 1
        progress.report("page", scholar_id=scholar_id, page=pages, publications=len(publications))
        while page.has_more:
            if not page.publications or pages >= MAX_PAGES:
                # "Show more" enabled on an empty page: following it would loop.
                raise ParseError(
                    f"page at cstart={cstart} had {len(page.publications)} rows but says more follow",
                    url=self.base_url,
                )
            # Step by the rows actually served: a server that ignores pagesize=100
            # (Scholar's default is 20) is still read completely, page by page.
            cstart += len(page.publications)
            pages += 1
            page = self.fetch_page(scholar_id, cstart, deadline)
            if page.named_ids != {scholar_id}:
                # Rows of someone else merged into this profile would reach its
                # badges; a later page is checked as strictly as the first.
                raise self._not_the_profile(page, scholar_id, cstart)
            repeated.extend(page.repeated)
            before = len(publications)
            for pub in page.publications:
                if pub.author_pub_id not in seen:
                    seen.add(pub.author_pub_id)
                    publications.append(pub)
            if len(publications) == before and page.has_more:
                # A server that ignores cstart repeats a page forever; asking again will not help.
                raise ParseError(
                    f"page at cstart={cstart} repeats publications already seen but says more follow",
                    url=self.base_url,
                )
            log.info("%s: %d publications so far", scholar_id, len(publications))
            progress.report("page", scholar_id=scholar_id, page=pages, publications=len(publications))
        record = page_to_record(first, tuple(publications), complete=True)
        notes = (*first.notes, *repeated_note(tuple(dict.fromkeys(repeated))))
        return replace(record, notes=notes).with_fetched_at(utc_now())


def open_source(settings: SourceSettings) -> ScholarSource:
    client = PoliteClient(build_client(settings.http, transport=settings.transport), settings.http)
    return ScholarSource(client, base_url_from(settings))
