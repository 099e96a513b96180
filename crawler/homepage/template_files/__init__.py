"""What each homepage template gets from ``init``, besides the workflow and ``scholar-stats.toml``
(``homepage/author_workflow.py``): one module per template, each a ``files(site)`` giving
(path, new text or None to remove, why) for what the template itself needs::

    acadhomepage   _includes/fetch_google_scholar_stats.html replaced by the snippet
                   (same include, same #total_cit / .show_paper_citations), the old
                   google_scholar_crawler workflow removed
    al-folio       _includes/scholar-stats.liquid, included from _layouts/default.liquid;
                   .github/workflows/update-citations.yml removed (the Action keeps
                   _data/citations.yml instead, input al-folio-citations)
    academicpages  the snippet in _includes/footer/custom.html, between markers
    plain          assets/js/scholar-stats.js, for the page to load

The snippet each page includes is ``page_script``'s.
"""

from __future__ import annotations

from collections.abc import Callable

from crawler.homepage.repository import Site
from crawler.homepage.template_files import academicpages, acadhomepage, al_folio, plain
from crawler.homepage.template_files.page_script import PlannedFile

FILES_OF: dict[str, Callable[[Site], list[PlannedFile]]] = {
    "acadhomepage": acadhomepage.files,
    "al-folio": al_folio.files,
    "academicpages": academicpages.files,
    "plain": plain.files,
}


def template_files(site: Site) -> list[PlannedFile]:
    """(path, new text or None to remove, why) for what the template itself needs."""
    return FILES_OF.get(site.template, plain.files)(site)
