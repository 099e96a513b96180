"""academicpages' file: the snippet in ``_includes/footer/custom.html``, its slot for custom
scripts, between markers, so that a second ``init`` replaces the block instead of adding one."""

from __future__ import annotations

import re

from crawler.homepage import repository as sites
from crawler.homepage.repository import Site
from crawler.homepage.template_files.page_script import PlannedFile, snippet

BEGIN = "<!-- scholar-stats:begin (written by scholar-stats init; run it again to update) -->"
END = "<!-- scholar-stats:end -->"
_BLOCK_RE = re.compile(re.escape(BEGIN) + r".*?" + re.escape(END) + r"\n?", re.DOTALL)


def _insert_block(text: str, block: str, *, before: str | None) -> str:
    wrapped = f"{BEGIN}\n{block}{END}\n"
    if _BLOCK_RE.search(text):
        return _BLOCK_RE.sub(lambda _m: wrapped, text, count=1)
    if before and before in text:
        index = text.index(before)
        return text[:index] + wrapped + text[index:]
    return text + ("" if not text or text.endswith("\n") else "\n") + wrapped


def files(site: Site) -> list[PlannedFile]:
    footer = sites.read_text(site.root / sites.ACADEMICPAGES_FOOTER) or ""
    updated = _insert_block(footer, snippet(site), before="<!-- end custom footer snippets -->")
    return [(sites.ACADEMICPAGES_FOOTER, updated, "the page script, in the slot for custom scripts")]
