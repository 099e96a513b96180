"""scholar-stats: fetch, guard, keep and publish Google Scholar citation numbers."""

__version__ = "1.1.0"
