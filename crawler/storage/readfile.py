"""Reading a file of bounded size: a regular file only, never through a link, never more than its kind.

Every file scholar-stats reads from a data folder, a shard folder or a homepage
repository comes through here.  Such a file may be anything another machine or
another person left there: a link to ``/dev/zero`` (read until memory runs
out), a FIFO (``open`` waits for a writer forever), a 3 GB file.  So a file is::

    opened    without following a link (O_NOFOLLOW) and without waiting (O_NONBLOCK)
    checked   fstat of what was opened: a regular file, no larger than its kind allows
    read      at most that many bytes, even if it grows in between

and anything else is a one-line ``StorageError`` (or the error class the caller
names) that says what the file is.  Links are followed only for a file the user
named on the command line (``follow=True``), and even then what they lead to
must be a regular file of bounded size.

The bounds, one per kind of file, are far above what any real profile writes
(docs/run.md, "Files the tool reads, and their bounds").
"""

from __future__ import annotations

import errno
import json
import logging
import os
import stat
from collections.abc import Sequence
from pathlib import Path
from typing import Any, BinaryIO

from crawler.errors import ScholarStatsError, StorageError

log = logging.getLogger(__name__)

KiB = 1024
MiB = 1024 * KiB

MAX_SNAPSHOT_BYTES = 32 * MiB
"""A snapshot (``snapshots/*.json``, a fallback's series): the largest real profile
(about 5,000 publications) writes under 3 MiB."""
MAX_OUTPUT_BYTES = 32 * MiB
"""A JSON output of an author (``gs_data.json``, ``gs_history.json``, ``matches/*.json``,
``.outputs.json``): the same order as a snapshot."""
MAX_BADGE_BYTES = 1 * MiB
"""A badge (``*_shieldsio.json``, ``badges/**``): a few hundred bytes."""
MAX_STATE_BYTES = 256 * KiB
"""``state.json``, the stale marker: a time and a one-line reason."""
MAX_SETTINGS_BYTES = 4 * MiB
"""A settings file: ``scholar-stats.toml``, ``matches.toml``, the dashboard's marker."""
MAX_HOMEPAGE_FILE_BYTES = 8 * MiB
"""A file of a homepage repository read by ``init`` and ``doctor`` (``_config.yml``,
``_data/socials.yml``, layouts, scripts, ``papers.bib``)."""
MAX_PAGE_BYTES = 20 * MiB
"""A saved profile page (``import-html``, ``parse``): the same bound as a fetched
response's body (``crawler.net.inflate.MAX_BODY_BYTES``)."""

_READ_PIECE = 64 * KiB
# Where files can be opened relative to an open folder, without following a link
# (everywhere but Windows); elsewhere ``read_starts`` leaves every file to ``open_regular``.
_OPENS_AT = os.open in os.supports_dir_fd and all(
    hasattr(os, flag) for flag in ("O_NOFOLLOW", "O_DIRECTORY", "O_CLOEXEC")
)

_KINDS = {
    stat.S_IFDIR: "a folder",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFIFO: "a FIFO",
    stat.S_IFSOCK: "a socket",
    stat.S_IFLNK: "a symbolic link",
}


def what_is(mode: int) -> str:
    """``a FIFO``, ``a folder``, ... for a file mode that is not a regular file's."""
    return _KINDS.get(stat.S_IFMT(mode), "not a regular file")


def _refuse(error: type[ScholarStatsError], path: Path | str, why: str) -> ScholarStatsError:
    return error(f"{path} {why}; not read")


def open_regular(
    path: Path | str,
    *,
    limit: int,
    follow: bool = False,
    error: type[ScholarStatsError] = StorageError,
) -> tuple[int, int]:
    """An open descriptor of ``path`` and its size, if it is a regular file of at most ``limit`` bytes.

    Raises ``FileNotFoundError`` (``NotADirectoryError``) when there is nothing there (callers decide
    what a missing file means) and ``error`` for everything else.  The caller
    closes the descriptor.
    """
    fd, info = open_regular_stat(path, limit=limit, follow=follow, error=error)
    return fd, info.st_size


def open_regular_stat(
    path: Path | str,
    *,
    limit: int,
    follow: bool = False,
    error: type[ScholarStatsError] = StorageError,
) -> tuple[int, os.stat_result]:
    """``open_regular``, with the ``fstat`` of the file opened (which file it is, for a merge)."""
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    if not follow:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags)
    except (FileNotFoundError, NotADirectoryError):
        raise
    except OSError as exc:
        if exc.errno == errno.ELOOP and not follow:
            raise _refuse(error, path, "is a symbolic link, which is not followed") from None
        if exc.errno == errno.ENXIO:
            # A socket, or a FIFO on some systems, cannot even be opened.
            raise _refuse(error, path, "is not a regular file") from None
        raise error(f"cannot read {path}: {exc.strerror or exc}") from exc
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise _refuse(error, path, f"is {what_is(info.st_mode)}, not a regular file")
        if info.st_size > limit:
            raise _refuse(
                error, path, f"is {info.st_size} bytes, more than the {limit} a file of its kind may be"
            )
        # Back to ordinary blocking reads: a regular file never blocks anyway.
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd, info


def read_fd(fd: int, size: int, *, limit: int, path: Path | str, error: type[ScholarStatsError]) -> bytes:
    """At most ``limit`` bytes of an open file of ``size`` bytes (its fstat); ``error`` if it
    holds more than ``limit`` (it grew since).  Each read asks for what is left to
    read, never more than one byte past the bound: ``os.read`` allocates what it is asked for."""
    pieces: list[bytes] = []
    total = 0
    while True:
        try:
            # Exactly what is left and one byte more while the file is as fstat saw it
            # (os.read allocates what it is asked for: 64 KiB for a 300-byte badge tripled
            # the cost of reading a lab's 40,000 of them), pieces once it has grown.
            want = size + 1 - total if total <= size else _READ_PIECE
            piece = os.read(fd, min(want, limit + 1 - total))
            if total == 0 and len(piece) == size < want:
                return piece  # the whole file as fstat saw it, at its end: no read to find the end
        except OSError as exc:
            raise error(f"cannot read {path}: {exc.strerror or exc}") from exc
        if not piece:
            break
        pieces.append(piece)
        total += len(piece)
        if total > limit:
            raise _refuse(error, path, f"holds more than the {limit} bytes a file of its kind may be")
    return b"".join(pieces)


def read_bounded(
    path: Path | str,
    *,
    limit: int,
    follow: bool = False,
    error: type[ScholarStatsError] = StorageError,
) -> bytes:
    """The bytes of the regular file ``path``, at most ``limit`` of them (see the module docstring).

    ``FileNotFoundError`` when nothing is there; ``error`` for a link (unless
    ``follow``), a FIFO, a device, a folder, a file larger than ``limit``, or
    one that cannot be read.
    """
    fd, size = open_regular(path, limit=limit, follow=follow, error=error)
    try:
        return read_fd(fd, size, limit=limit, path=path, error=error)
    finally:
        os.close(fd)


def read_bounded_or_none(
    path: Path | str,
    *,
    limit: int,
    follow: bool = False,
    error: type[ScholarStatsError] = StorageError,
) -> bytes | None:
    """``read_bounded``, with ``None`` where there is no file (or no folder on the way)."""
    try:
        return read_bounded(path, limit=limit, follow=follow, error=error)
    except (FileNotFoundError, NotADirectoryError):
        return None


def read_starts(folder: Path | str, names: Sequence[str], size: int, *, limit: int) -> list[bytes | None]:
    """The first ``size`` bytes of each file ``names`` of ``folder`` that is a regular file of at
    most ``limit`` bytes; ``None`` for any other (a link, a FIFO, a folder, a larger file, one that
    is gone or cannot be read), whose reader then opens it with ``open_regular`` to say why.

    The checks are ``open_regular``'s, in fewer system calls, for reading thousands of snapshot
    headers: the folder is opened once and each file relative to it (no walk of the whole path
    per file), ``O_NOFOLLOW | O_NONBLOCK`` at the open, one fstat, one read.  The descriptor is
    not put back to blocking: a read of a regular file never waits on ``O_NONBLOCK`` (and one
    that failed for it would be ``None``, read again the careful way).
    """
    if not _OPENS_AT:
        return [None] * len(names)
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        folder_fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError:
        return [None] * len(names)
    out: list[bytes | None] = []
    append, open_at, fstat, read, close = out.append, os.open, os.fstat, os.read, os.close
    is_regular = stat.S_ISREG
    try:
        for name in names:
            try:
                fd = open_at(name, flags, dir_fd=folder_fd)
            except OSError:
                append(None)
                continue
            try:
                info = fstat(fd)
                append(read(fd, size) if is_regular(info.st_mode) and info.st_size <= limit else None)
            except OSError:
                append(None)
            finally:
                close(fd)
    finally:
        os.close(folder_fd)
    return out


def read_files_at(
    folder: Path | str, names: Sequence[str], limits: Sequence[int]
) -> list[tuple[bytes, os.stat_result] | None]:
    """The bytes and the ``fstat`` of each file ``names`` (``/``-separated, below ``folder``) that is a
    regular file of at most its ``limits`` bytes, read whole; ``None`` for any other (a link, a FIFO,
    a larger file, one that grew, is gone or cannot be read), whose reader then opens it with
    ``open_regular`` to say why.

    ``read_starts``' way for whole files, to read the hundreds of files of an author's folder: each
    folder on the way is opened once, relative to the one above it and without following a link,
    and each file relative to its folder: one open, one fstat, one read (of one byte more than
    fstat's size, which finds the end), one close.
    """
    if not _OPENS_AT:
        return [None] * len(names)
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC
    folders: dict[str, int | None] = {}
    out: list[tuple[bytes, os.stat_result] | None] = []
    append, open_at, fstat, read, close = out.append, os.open, os.fstat, os.read, os.close
    is_regular = stat.S_ISREG
    try:
        folders[""] = _open_folder(os.fspath(folder), None)
        for name, limit in zip(names, limits, strict=True):
            where, _, base = name.rpartition("/")
            folder_fd = folders[where] if where in folders else _open_folders(folders, where)
            if folder_fd is None:
                append(None)
                continue
            try:
                fd = open_at(base, flags, dir_fd=folder_fd)
            except OSError:
                append(None)
                continue
            try:
                info = fstat(fd)
                size = info.st_size
                data = read(fd, size + 1) if is_regular(info.st_mode) and size <= limit else None
                append((data, info) if data is not None and len(data) == size else None)
            except OSError:
                append(None)
            finally:
                close(fd)
    finally:
        for opened in folders.values():
            if opened is not None:
                os.close(opened)
    return out


def _open_folder(name: str, parent: int | None) -> int | None:
    try:
        return os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=parent)
    except OSError:
        return None


def _open_folders(folders: dict[str, int | None], where: str) -> int | None:
    """The descriptor of the folder ``where`` (below the one of ``""``), each folder on the way opened
    once relative to the one above it; ``None`` when one is not a folder (a link) or cannot be opened."""
    above, _, name = where.rpartition("/")
    parent = folders[above] if above in folders else _open_folders(folders, above)
    folders[where] = None if parent is None else _open_folder(name, parent)
    return folders[where]


def first_page_cached(path: Path | str) -> bool | None:
    """Whether a read of the regular file ``path``'s first bytes would come from the page cache
    rather than wait for the disk (a read with ``RWF_NOWAIT`` of one byte); ``None`` where that
    cannot be told: no such flag here, a link (not followed), not a regular file, an error."""
    nowait: int | None = getattr(os, "RWF_NOWAIT", None)
    if nowait is None or not _OPENS_AT:
        return None
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        os.preadv(fd, [bytearray(1)], 0, nowait)
        return True
    except BlockingIOError:
        return False
    except OSError:
        return None
    finally:
        os.close(fd)


def read_stream_bounded(
    stream: BinaryIO, *, limit: int, name: str, error: type[ScholarStatsError] = StorageError
) -> bytes:
    """At most ``limit`` bytes of a binary stream (standard input); ``error`` if it holds more."""
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise error(f"{name} holds more than the {limit} bytes a file of its kind may be; not read")
    return data


def json_value(data: bytes | str) -> Any:
    """``json.loads``, with a value nested deeper than Python's recursion limit (``[[[[…``,
    a few hundred KiB) a ``ValueError`` like any other JSON that does not read."""
    try:
        return json.loads(data)
    except RecursionError as exc:
        raise ValueError("JSON nested too deeply") from exc


# -- reading a folder that came from elsewhere, never outside it --------------


def walk_inside(folder: Path, ignored: list[str] | None = None, *, shown: Path | None = None) -> list[str]:
    """Relative paths (``/``-separated) of the regular files below ``folder``, sorted.

    Symbolic links are reported and left out, never followed; so are FIFOs,
    devices and sockets, which are never opened; ``ignored`` collects their paths.
    The lines name them below ``shown`` when given (the folder's name for the user).
    """
    named = os.fspath(folder if shown is None else shown)
    found: list[str] = []
    pending = [(os.fspath(folder), "")]
    try:
        while pending:
            path, prefix = pending.pop()
            with os.scandir(path) as entries:
                for entry in entries:
                    rel = prefix + entry.name
                    if entry.is_symlink():
                        log.warning("%s/%s is a symbolic link; ignored", named, rel)
                        if ignored is not None:
                            ignored.append(rel)
                    elif entry.is_dir(follow_symlinks=False):
                        pending.append((entry.path, rel + "/"))
                    elif entry.is_file(follow_symlinks=False):
                        found.append(rel)
                    else:
                        log.warning("%s/%s is not a regular file; ignored", named, rel)
                        if ignored is not None:
                            ignored.append(rel)
    except OSError as exc:
        raise StorageError(f"cannot list {folder}: {exc.strerror or exc}") from exc
    return sorted(found)
