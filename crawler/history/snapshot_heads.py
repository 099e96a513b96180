"""The first 4 KiB of many snapshots, where a snapshot's header is: from the page cache or a cold disk.

From the page cache a folder's files are read one after the other, the folder
opened once (``storage.readfile.read_starts``).  When a batch of reads shows
the disk is cold, the rest are read by a few threads at once, read-ahead
switched off: each read then waits for the device, and the waits overlap.
``crawler.history.snapshots`` parses what is read.
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Sequence
from time import perf_counter

from crawler.errors import StorageError
from crawler.storage.readfile import MAX_SNAPSHOT_BYTES, first_page_cached, open_regular, read_starts
from crawler.storage.store import SnapshotRef

HEAD_BYTES = 4096
_READ_THREADS = 8
_READ_BATCH = 64
# Slower than this per file, reads are coming from the disk, not the page cache.
_COLD_READ_SECONDS = 40e-6
_FADVISE_RANDOM: int | None = getattr(os, "POSIX_FADV_RANDOM", None)


def open_snapshot(file: str, *, cold: bool = True) -> int:
    """``file`` opened if it is a regular file within the snapshot bound (``StorageError`` otherwise).

    ``cold``: the disk is thought cold, so read-ahead is switched off (from the
    page cache that call would cost a system call per file and save nothing).
    """
    fd, _ = open_regular(file, limit=MAX_SNAPSHOT_BYTES)
    if cold and _FADVISE_RANDOM is not None:
        # No read-ahead: the header is all we want, and from a cold disk the
        # kernel would otherwise fetch the first 16-128 KiB of every file.
        with contextlib.suppress(OSError):
            os.posix_fadvise(fd, 0, 0, _FADVISE_RANDOM)
    return fd


def read_head(ref: SnapshotRef, *, cold: bool = True) -> bytes:
    """The first 4 KiB of a snapshot (``OSError`` if it cannot be read)."""
    fd = open_snapshot(ref.file, cold=cold)
    try:
        return os.read(fd, HEAD_BYTES)
    finally:
        os.close(fd)


def _careful_batch(part: Sequence[SnapshotRef], cold: bool = False) -> list[bytes | Exception]:
    out: list[bytes | Exception] = []
    for ref in part:
        try:
            out.append(read_head(ref, cold=cold))
        except (OSError, StorageError) as exc:
            out.append(exc)
    return out


def _warm_batch(part: Sequence[SnapshotRef]) -> list[bytes | Exception]:
    """``read_head`` of each, the folder opened once (``read_starts``) when all are in one folder."""
    folder, sep, _ = part[0].file.rpartition(os.sep)
    prefix = folder + sep
    cut = len(prefix)
    names = [ref.file[cut:] for ref in part]
    if not sep or not all(
        r.file.startswith(prefix) and os.sep not in n for r, n in zip(part, names, strict=True)
    ):
        return _careful_batch(part)
    heads: list[bytes | Exception] = []
    for ref, head in zip(part, read_starts(folder, names, HEAD_BYTES, limit=MAX_SNAPSHOT_BYTES), strict=True):
        # None: not a regular file within the bound, or unreadable: opened again the
        # careful way, which says what it is.
        heads.append(head if head is not None else _careful_batch([ref])[0])
    return heads


def read_heads(refs: Sequence[SnapshotRef]) -> list[bytes | Exception]:
    """``read_head`` of each; from a cold disk, by a few threads at once.

    From a cold disk each read waits for the device, and those waits overlap
    when several reads are in flight (``os.read`` releases the GIL): several
    times faster.  From the page cache threads only add switching, so files
    are read in batches, one thread, until a batch is slow and the next file
    is not in the page cache (``first_page_cached``): then the disk is cold.
    """

    heads: list[bytes | Exception] = []
    for start in range(0, len(refs), _READ_BATCH):
        part = refs[start : start + _READ_BATCH]
        began = perf_counter()
        heads.extend(_warm_batch(part))
        if (perf_counter() - began) / len(part) > _COLD_READ_SECONDS:
            rest = refs[start + _READ_BATCH :]
            if not rest or first_page_cached(rest[0].file):
                # Nothing left, or slow yet the next file is in the page cache: on a loaded
                # machine the process waited for a CPU, not the disk; threads would only add switching.
                continue
            parts = [rest[i : i + _READ_BATCH] for i in range(0, len(rest), _READ_BATCH)]
            # Loaded here: from the page cache no thread is started.
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(_READ_THREADS) as pool:
                for done in pool.map(functools.partial(_careful_batch, cold=True), parts):
                    heads.extend(done)
            break
    return heads
