"""What a merge did (``MergeSummary``), and the error of an author no shard brought."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from crawler.errors import ExitCode, ScholarStatsError


class ShardMissing(ScholarStatsError):
    """No shard brought this author's folder (its shard failed or was not downloaded)."""

    exit_code = ExitCode.ERROR


@dataclass
class MergeSummary:
    merged: list[str] = field(default_factory=list)
    """Authors whose folder came from a shard."""
    stale: list[str] = field(default_factory=list)
    """Authors whose data is stale: their shard failed for them, or no shard brought them."""
    missing: list[str] = field(default_factory=list)
    """Expected authors no shard brought; their last good data is kept and marked stale."""
    kept: list[str] = field(default_factory=list)
    """Stale authors whose outputs here are not their shard's: shown again as kept (stale)."""
    into: Path = Path()
    written: list[Path] = field(default_factory=list)
    moved_files: int = 0
    """Files of the author folders moved in whole (``move``), not listed in ``written``."""
    removed: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    """One line for each file of a shard that was not merged: not in the data layout, or failing its check."""
