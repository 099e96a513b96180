"""The static citation dashboard that ``scholar-stats site`` writes (see ``site.py``)."""

from __future__ import annotations

from crawler.outputs.dashboard.site import SiteResult, build_site

__all__ = ["SiteResult", "build_site"]
