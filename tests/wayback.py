"""A saved page as the Wayback Machine replays it, for tests of backfill from the archive.

The Internet Archive serves a capture with its own markup around the page:
playback scripts in ``<head>`` ending in ``__wm.wombat("<original url>",
"<timestamp>", ...)``, a toolbar between ``<!-- BEGIN WAYBACK TOOLBAR INSERT -->``
and ``<!-- END WAYBACK TOOLBAR INSERT -->`` right after ``<body>`` (with links
to the captures before and after this one), every link and image rewritten to
``/web/<timestamp>[im_]/<original url>``, and a ``FILE ARCHIVED ON`` comment
after ``</html>``.  ``capture`` adds all of that to a real page, the way
https://web.archive.org/web/<timestamp>/<url> serves it; ``browser_saved=True``
adds what a browser's "Save page as" writes on top (its ``saved from url``
comment).
"""

from __future__ import annotations

import re
from datetime import datetime

_LINK_RE = re.compile(rb'(\s(?:href|src)=")([^"]*)(")', re.IGNORECASE)

HEAD = (
    '<script type="text/javascript" src="/_static/js/bundle-playback.js?v=1WaXNDFE" charset="utf-8">'
    "</script>\n"
    '<script type="text/javascript" src="/_static/js/wombat.js?v=txqj7nKC" charset="utf-8"></script>\n'
    '<script type="text/javascript">\n  __wm.init("https://web.archive.org/web");\n'
    '  __wm.wombat("{url}","{ts}","https://web.archive.org/","web","/_static/",\n\t      "{epoch}");\n'
    "</script>\n"
    '<link rel="stylesheet" type="text/css" href="/_static/css/banner-styles.css?v=S1zqJCYt" />\n'
    "<!-- End Wayback Rewrite JS Include -->\n"
)

TOOLBAR = (
    "<!-- BEGIN WAYBACK TOOLBAR INSERT -->\n"
    '<div id="wm-ipp-base" lang="en" style="display:none;direction:ltr;"><div id="wm-ipp">'
    '<form target="_top" method="get" action="/web/submit" name="wmtb" id="wmtb">'
    '<input type="text" name="url" id="wmtbURL" value="{url}"/>'
    '<input type="hidden" name="type" value="replay" /><input type="hidden" name="date" value="{ts}" />'
    "</form>"
    '<a href="https://web.archive.org/web/{before}/{url}" title="{before}">Previous capture</a>'
    '<a href="https://web.archive.org/web/{after}/{url}" title="{after}">Next capture</a>'
    '<a href="https://web.archive.org/web/*/{url}">captures</a>'
    "</div></div>\n"
    '<script type="text/javascript">__wm.bt(650,27,25,2,"web","{url}","{ts}",1996,"/_static/",[], false);'
    "</script>\n<!-- END WAYBACK TOOLBAR INSERT -->\n"
)

TRAILER = (
    "\n<!--\n     FILE ARCHIVED ON {archived} AND RETRIEVED FROM THE\n"
    "     INTERNET ARCHIVE ON 10:00:00 Dec 07, 2026.\n"
    "     JAVASCRIPT APPENDED BY WAYBACK MACHINE, COPYRIGHT INTERNET ARCHIVE.\n\n"
    "     ALL OTHER CONTENT MAY ALSO BE PROTECTED BY COPYRIGHT (17 U.S.C.\n"
    "     SECTION 108(a)(3)).\n-->\n<!--\nplayback timings (ms):\n  captures_list: 0.57\n"
    "  exclusion.robots: 0.016\n  esindex: 0.009\n  load_resource: 119.366\n-->\n"
)


def capture(
    page: bytes,
    *,
    url: str,
    timestamp: str,
    before: str = "20140101000000",
    after: str = "20160101000000",
    browser_saved: bool = False,
) -> bytes:
    """``page`` as the Wayback Machine replays its capture of ``url`` at ``timestamp``."""
    when = datetime.strptime(timestamp, "%Y%m%d%H%M%S")
    origin = re.match(r"https?://[^/]+", url)
    assert origin is not None, url

    def rewrite(match: re.Match[bytes]) -> bytes:
        value = match.group(2)
        flag = b"im_" if match.group(1).strip().lower().startswith(b"src") else b""
        if value.startswith((b"http://", b"https://")):
            value = b"https://web.archive.org/web/" + timestamp.encode() + flag + b"/" + value
        elif value.startswith(b"/") and not value.startswith(b"//"):
            value = b"/web/" + timestamp.encode() + flag + b"/" + origin.group(0).encode() + value
        return match.group(1) + value + match.group(3)

    body = _LINK_RE.sub(rewrite, page)
    fields = {"url": url, "ts": timestamp, "before": before, "after": after, "epoch": "1423398896"}
    head = HEAD.format(**fields).encode()
    toolbar = TOOLBAR.format(**fields).encode()
    body = re.sub(rb"(<head[^>]*>)", lambda m: m.group(1) + head, body, count=1, flags=re.IGNORECASE)
    body = re.sub(rb"(<body[^>]*>)", lambda m: m.group(1) + toolbar, body, count=1, flags=re.IGNORECASE)
    body += TRAILER.format(archived=when.strftime("%H:%M:%S %b %d, %Y")).encode()
    if browser_saved:
        saved = f"https://web.archive.org/web/{timestamp}/{url}"
        comment = f"\n<!-- saved from url=({len(saved):04d}){saved} -->\n".encode()
        doctype = re.match(rb"\s*<!doctype[^>]*>", body, re.IGNORECASE)
        cut = doctype.end() if doctype else 0
        body = body[:cut] + comment + body[cut:]
    return body
