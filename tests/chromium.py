"""The real headless Chromium that the browser tests drive through playwright.

``launched()`` starts it (skipping the test where it is not installed, failing
on CI where it must be); the ``browser`` fixture in ``conftest.py`` shares one
per test module.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def chromium_or_skip() -> None:
    if CHROMIUM.exists():
        return
    reason = f"headless Chromium not found at {CHROMIUM} (apt-get install -y chromium)"
    if os.environ.get("CI"):
        pytest.fail(reason + "; on CI the browser tests must run")
    pytest.skip(reason)


@contextlib.contextmanager
def launched() -> Iterator[Any]:
    """A running headless Chromium, closed afterwards."""
    chromium_or_skip()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        try:
            yield browser
        finally:
            browser.close()


def local_page(context: Any, *, warnings: bool = True) -> tuple[Any, list[str], list[str]]:
    """A page of ``context`` that may reach 127.0.0.1 only (any other request is aborted), and
    the lists it fills: every request's URL, and every console error (and warning, with
    ``warnings``) or uncaught exception."""
    requests: list[str] = []
    errors: list[str] = []
    kinds = ("error", "warning") if warnings else ("error",)

    def route(r: Any) -> None:
        requests.append(r.request.url)
        if urlsplit(r.request.url).hostname == "127.0.0.1":
            r.continue_()
        else:
            r.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.on("console", lambda m: errors.append(m.text) if m.type in kinds else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return page, requests, errors
