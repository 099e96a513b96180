"""al-folio's files: ``_includes/scholar-stats.liquid``, included from ``_layouts/default.liquid``;
al-folio's own ``update-citations.yml`` workflow removed (the Action keeps ``_data/citations.yml``
instead, input ``al-folio-citations``)."""

from __future__ import annotations

from crawler.homepage import repository as sites
from crawler.homepage.repository import Site
from crawler.homepage.template_files.page_script import PlannedFile, snippet

ALFOLIO_INCLUDE = "_includes/scholar-stats.liquid"
ALFOLIO_LAYOUT = "_layouts/default.liquid"


def files(site: Site) -> list[PlannedFile]:
    root = site.root
    planned: list[PlannedFile] = []
    planned.append((ALFOLIO_INCLUDE, snippet(site), "the page script (fills #total_cit and friends)"))
    layout = sites.read_text(root / ALFOLIO_LAYOUT)
    include = "{% include scholar-stats.liquid %}"
    if layout is not None and include not in layout:
        marker = "</body>"
        if marker in layout:
            index = layout.rindex(marker)
            updated = layout[:index] + f"  {include}\n  " + layout[index:]
        else:
            updated = layout + ("" if layout.endswith("\n") else "\n") + include + "\n"
        planned.append((ALFOLIO_LAYOUT, updated, "load the page script"))
    if (root / sites.ALFOLIO_CITATIONS_WORKFLOW).exists():
        planned.append(
            (
                sites.ALFOLIO_CITATIONS_WORKFLOW,
                None,
                "al-folio's own citation updater would overwrite _data/citations.yml",
            )
        )
    return planned
