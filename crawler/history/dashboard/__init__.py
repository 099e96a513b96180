"""The static citation dashboard that ``scholar-stats site`` writes (see ``site.py``)."""

from __future__ import annotations

from pathlib import Path

from crawler.history.dashboard.build import SiteResult, build_site
from crawler.storage.store import SITE_FOLDER


def update_site(data_dir: Path, *, title: str | None = None) -> SiteResult:
    """The dashboard of every author in ``data_dir``, in its ``site`` folder (published with the data)."""
    return build_site(data_dir, Path(data_dir) / SITE_FOLDER, title=title)


__all__ = ["SITE_FOLDER", "SiteResult", "build_site", "update_site"]
