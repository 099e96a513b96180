"""The homepage snippet: a dependency-free script that fills citation counts from ``gs_data.json``.

The script (``crawler/assets/scholar-stats.js``) is shipped with the package;
this module checks the options, works out the data URLs and writes them into
the script as JSON.  Every value that reaches the generated JavaScript goes
through :func:`js_literal`, so no option can break out of the string or the
``<script>`` element it sits in.

Default data URLs, tried in order (each one falls back to the next when it
fails, times out or serves something that is not a ``gs_data.json``)::

    https://cdn.jsdelivr.net/gh/OWNER/NAME@BRANCH[/AUTHOR]/gs_data.json
    https://raw.githubusercontent.com/OWNER/NAME/BRANCH[/AUTHOR]/gs_data.json

jsDelivr is first because it is fast and cached; it can also serve a copy up to
a week old or be down, which is what the second URL is for.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

from crawler.errors import UsageError
from crawler.models import TextEnum, normalize_scholar_id
from crawler.storage.store import DEFAULT_BRANCH

DEFAULT_TIMEOUT_MS = 5000
MIN_TIMEOUT_MS = 100
MAX_TIMEOUT_MS = 120_000
DATA_FILE = "gs_data.json"


class Format(TextEnum):
    """``html``: a <script> element with the script inlined; ``js``: the bare script."""

    HTML = "html"
    JS = "js"


FORMATS = tuple(f.value for f in Format)

# GitHub: owner 1-39 letters, digits or single hyphens (not first); repository letters, digits, '.', '_', '-'.
_OWNER_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$")
_REPO_NAME_RE = re.compile(r"^[A-Za-z0-9._-]{1,100}$")
# A narrower set than git allows, one that needs no escaping in either CDN's URL.
_BRANCH_RE = re.compile(r"^[A-Za-z0-9._/-]{1,200}$")

_CONFIG_RE = re.compile(r"/\*scholar-stats:config\*/.*?/\*end\*/", re.DOTALL)


@dataclass(frozen=True)
class EmbedOptions:
    urls: tuple[str, ...]
    timeout_ms: int = DEFAULT_TIMEOUT_MS


def check_repo(repo: str) -> str:
    """``OWNER/NAME`` of a GitHub repository, or ``UsageError``."""
    owner, sep, name = repo.strip().partition("/")
    if not sep or not _OWNER_RE.match(owner) or not _REPO_NAME_RE.match(name) or name in (".", ".."):
        raise UsageError(f"--repo must be OWNER/NAME of a GitHub repository, not {repo!r}")
    return f"{owner}/{name}"


def check_branch(branch: str) -> str:
    """A branch name that is safe to put into a jsDelivr or raw.githubusercontent.com URL."""
    bad = (
        not _BRANCH_RE.match(branch)
        or branch.startswith(("-", "/", "."))
        or branch.endswith(("/", ".", ".lock"))
        or ".." in branch
        or "//" in branch
        or "/." in branch
    )
    if bad:
        raise UsageError(
            f"--branch must be a git branch name of letters, digits, '.', '_', '-' and '/', not {branch!r}"
        )
    return branch


def check_url(url: str) -> str:
    """An http(s) URL, or a path on the homepage's own site (``/data/gs_data.json``)."""
    if not url or any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in url):
        raise UsageError(f"--url must be an http(s) URL without spaces, not {url!r}")
    try:
        parts = urlsplit(url)
    except ValueError:
        raise UsageError(f"--url must be an http(s) URL or a path on the same site, not {url!r}") from None
    if parts.scheme:
        if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
            raise UsageError(f"--url must be an http(s) URL or a path on the same site, not {url!r}")
    elif parts.netloc:
        # "//host/path" would silently follow the page's scheme; say which one.
        raise UsageError(f"--url needs a scheme (https://...), not {url!r}")
    return url


def data_urls(repo: str, *, branch: str = DEFAULT_BRANCH, author: str | None = None) -> tuple[str, ...]:
    """jsDelivr first, raw.githubusercontent.com second, for ``gs_data.json`` on ``branch`` of ``repo``."""
    repo = check_repo(repo)
    branch = check_branch(branch)
    path = DATA_FILE
    if author is not None:
        try:
            path = f"{normalize_scholar_id(author)}/{DATA_FILE}"
        except ValueError as exc:
            raise UsageError(f"--author: {exc}") from exc
    return (
        f"https://cdn.jsdelivr.net/gh/{repo}@{branch}/{path}",
        f"https://raw.githubusercontent.com/{repo}/{branch}/{path}",
    )


def make_options(
    *,
    repo: str | None = None,
    branch: str = DEFAULT_BRANCH,
    author: str | None = None,
    urls: Sequence[str] = (),
    timeout_ms: int = DEFAULT_TIMEOUT_MS,
) -> EmbedOptions:
    """Check the options; explicit ``urls`` replace the jsDelivr / raw.githubusercontent.com pair."""
    if not MIN_TIMEOUT_MS <= timeout_ms <= MAX_TIMEOUT_MS:
        raise UsageError(
            f"--timeout-ms must be between {MIN_TIMEOUT_MS} and {MAX_TIMEOUT_MS}, not {timeout_ms}"
        )
    if urls:
        return EmbedOptions(urls=tuple(check_url(u) for u in urls), timeout_ms=timeout_ms)
    if repo is None:
        raise UsageError("--repo OWNER/NAME is required (or give the data URLs with --url)")
    return EmbedOptions(urls=data_urls(repo, branch=branch, author=author), timeout_ms=timeout_ms)


def js_literal(value: Any) -> str:
    """``value`` as a JavaScript literal that is also safe inside an HTML ``<script>`` element.

    JSON is a JavaScript expression; escaping ``<``, ``>`` and ``&`` keeps
    ``</script>`` and ``<!--`` out, and ensure_ascii turns U+2028/U+2029 (line
    terminators in pre-2019 JavaScript strings) into escapes.
    """
    text = json.dumps(value, ensure_ascii=True, sort_keys=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def script_source() -> str:
    """The shipped script, with its default (empty) configuration."""
    return resources.files("crawler").joinpath("assets/scholar-stats.js").read_text(encoding="utf-8")


def render_js(options: EmbedOptions) -> str:
    """The script with ``options`` written into it, ready to save as a ``.js`` file."""
    source = script_source()
    config = js_literal({"urls": list(options.urls), "timeoutMs": options.timeout_ms})
    matches = _CONFIG_RE.findall(source)
    if len(matches) != 1:
        raise RuntimeError("scholar-stats.js must hold exactly one /*scholar-stats:config*/ marker")
    # A function as replacement: the config text is used as-is, backslashes included.
    return _CONFIG_RE.sub(lambda _m: config, source)


def render_html(options: EmbedOptions) -> str:
    """A ``<script>`` element with the script inlined, for a page's HTML."""
    js = render_js(options)
    if "</script" in js.lower() or "<!--" in js:
        raise RuntimeError("the script must not contain '</script' or '<!--'")
    return (
        "<!-- scholar-stats: citation counts from gs_data.json; regenerate with `scholar-stats embed` -->\n"
        f"<script>\n{js}</script>\n"
    )


def render(options: EmbedOptions, *, fmt: str = "html") -> str:
    if fmt == "html":
        return render_html(options)
    if fmt == "js":
        return render_js(options)
    raise UsageError(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}")
