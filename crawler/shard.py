"""Shards: one configuration split over N runners, and their data folders merged back.

A lab or a department follows hundreds of profiles; one runner fetching them
politely takes hours and is blocked long before the end.  ``run --shard K/N``
fetches only shard K's authors; each shard runs on its own machine (a GitHub
Actions matrix job) and ``merge`` puts their data folders back together::

    config ─► assign(ids, N) ─► shard 1 … shard N  (run --shard K/N, each its own folder)
                                      │
              merge(shard folders, into=data) ◄─┘  each author from exactly one shard;
                                                   an author no shard brought keeps its
                                                   last good data, marked stale

How ``merge`` trusts a shard folder (it does not): ``crawler.merge``.

Assignment.  Every author ranks the N shards by a hash of its Scholar ID and the
shard number (rendezvous hashing); authors, taken in the order of a hash of
their ID, each go to the first shard of their ranking that still has room, a
shard holding floor(authors / N) or one more.  So the assignment does not depend on
the order of the authors in the file, shard sizes differ by at most one, and an
author added to or removed from the list moves a few others (about 3 of 500,
6 at most in our measurements: docs/labs.md, bench/shard_assignment.py).  Pure
rendezvous would never move anyone but leaves shards of 500 authors 23 apart
on average, up to 36: the longest shard taking up to twice as long as the
shortest.  Nothing depends on an author staying in one shard: each shard
restores its authors' history before it runs.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from crawler.config import Config
from crawler.errors import UsageError
from crawler.sources import AuthorRef

log = logging.getLogger(__name__)

_SHARD_RE = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")
MAX_SHARDS = 256
"""GitHub Actions runs at most 256 jobs from one matrix."""


# -- which shard fetches whom --------------------------------------------------


@dataclass(frozen=True)
class Shard:
    index: int
    """1-based."""
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def parse_shard(text: str) -> Shard:
    """``"K/N"`` with 1 ≤ K ≤ N ≤ 256; ``UsageError`` otherwise."""
    match = _SHARD_RE.match(text or "")
    if match is None:
        raise UsageError(f"--shard takes K/N, e.g. 2/10 (shard 2 of 10), not {text!r}")
    index, count = int(match.group(1)), int(match.group(2))
    if not 1 <= count <= MAX_SHARDS:
        raise UsageError(f"--shard {text}: the number of shards must be between 1 and {MAX_SHARDS}")
    if not 1 <= index <= count:
        raise UsageError(f"--shard {text}: shards are numbered 1 to {count}")
    return Shard(index, count)


def _hash(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")


def assign(scholar_ids: Iterable[str], count: int) -> dict[str, int]:
    """The 1-based shard of each ID (see the module docstring)."""
    ids = sorted(set(scholar_ids), key=lambda sid: (_hash(sid), sid))
    # Every shard holds ``base`` authors, and ``extra`` of them one more.
    base, extra = divmod(len(ids), count)
    load = [0] * (count + 1)
    bigger = 0
    shards: dict[str, int] = {}
    for sid in ids:
        ranking = sorted(range(1, count + 1), key=lambda k: (_hash(f"{sid}/{k}"), k), reverse=True)
        shard = next(k for k in ranking if load[k] < base or (load[k] == base and bigger < extra))
        if load[shard] == base:
            bigger += 1
        load[shard] += 1
        shards[sid] = shard
    return shards


def select(authors: Sequence[AuthorRef], shard: Shard) -> tuple[AuthorRef, ...]:
    """The authors of ``shard``, in their configured order."""
    shards = assign((a.scholar_id for a in authors), shard.count)
    return tuple(a for a in authors if shards[a.scholar_id] == shard.index)


def for_shard(config: Config, shard: Shard) -> Config:
    """``config`` narrowed to one shard: its authors, and its entry of the ``proxy`` and ``delay`` lists."""
    http = config.http
    if config.proxies:
        http = dataclasses.replace(http, proxy=config.proxies[(shard.index - 1) % len(config.proxies)])
    if config.delays:
        http = dataclasses.replace(http, delay=config.delays[(shard.index - 1) % len(config.delays)])
    return dataclasses.replace(config, authors=select(config.authors, shard), http=http)


# -- merging shard folders -----------------------------------------------------
