"""A run's writes done in the background while the next author's requests wait on the network.

A lab's first run writes hundreds of files per author (badges above all), and
a request to Scholar mostly waits; one writer thread stores an author's record
and writes its outputs while the run fetches the next author.  At most
``ahead`` authors wait for it, so a slow disk holds the run back instead of
piling up records in memory, and outcomes come back in the order the authors
were given.  One thread, not a pool: each author's files are written by one
writer, one author after the other, as they were in a run without it.
"""

from __future__ import annotations

import collections
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Generic, TypeVar

_T = TypeVar("_T")

# A few authors: enough to keep the disk busy through a burst of fast pages,
# few enough that what waits in memory stays small.
AHEAD = 3


class BackgroundWriter(Generic[_T]):
    """Runs each job given to ``submit`` on one writer thread, in order; its results come back,
    in the same order, from ``submit`` (those already done) and ``finish`` (all the rest).

    A job should catch its own errors and return them in its result: an exception it
    raises is raised again, on the caller's thread, when its result comes back.
    """

    def __init__(self, ahead: int = AHEAD) -> None:
        self._ahead = ahead
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="scholar-stats-writer")
        self._pending: collections.deque[tuple[str, Future[_T]]] = collections.deque()

    def __enter__(self) -> BackgroundWriter[_T]:
        return self

    def __exit__(self, *exc: object) -> None:
        # Interrupted: what is being written is finished, what waits is dropped.
        self._pool.shutdown(wait=True, cancel_futures=exc[0] is not None)

    def holds(self, key: str) -> bool:
        """Whether a job given under ``key`` has not come back yet."""
        return any(k == key for k, _ in self._pending)

    def submit(self, key: str, job: Callable[[], _T]) -> Iterator[_T]:
        """Queue ``job``; the results of the jobs that are done, oldest first, waiting for the
        oldest when ``ahead`` jobs are queued already."""
        done = list(self._done(wait_for=len(self._pending) + 1 - self._ahead))
        self._pending.append((key, self._pool.submit(job)))
        return iter(done)

    def finish(self) -> Iterator[_T]:
        """Every result not returned yet, oldest first, once each job is done."""
        return self._done(wait_for=len(self._pending))

    def _done(self, *, wait_for: int) -> Iterator[_T]:
        waited = 0
        while self._pending and (waited < wait_for or self._pending[0][1].done()):
            _, future = self._pending.popleft()
            waited += 1
            yield future.result()
