"""AcadHomepage's files: its own include, ``_includes/fetch_google_scholar_stats.html``, replaced by
the snippet (same ``#total_cit`` and ``.show_paper_citations``), loaded from
``_includes/scripts.html``; the workflow of its ``google_scholar_crawler`` removed."""

from __future__ import annotations

from crawler.homepage import repository as sites
from crawler.homepage.repository import Site
from crawler.homepage.template_files.page_script import PlannedFile, snippet

ACADHOMEPAGE_SCRIPTS = "_includes/scripts.html"


def files(site: Site) -> list[PlannedFile]:
    root = site.root
    planned: list[PlannedFile] = []
    planned.append((sites.ACAD_INCLUDE, snippet(site), "the page script, reading the published gs_data.json"))
    scripts = sites.read_text(root / ACADHOMEPAGE_SCRIPTS)
    if scripts is not None and "fetch_google_scholar_stats.html" not in scripts:
        planned.append(
            (
                ACADHOMEPAGE_SCRIPTS,
                scripts
                + ("" if scripts.endswith("\n") else "\n")
                + "{% include fetch_google_scholar_stats.html %}\n",
                "load the page script",
            )
        )
    for path in sites.old_crawler_workflows(root):
        planned.append((path, None, "AcadHomepage's crawler workflow, replaced by scholar-stats.yml"))
    return planned
