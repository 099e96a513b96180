"""Writing files safely: all at once, only on change, never outside the data folder.

Every file is written to a temporary file in the same folder and renamed over
the old one, so a process killed at any moment leaves each file either old or
new.  ``durable`` writes (snapshots, the source of truth) are also fsynced,
file then folder; derived files skip the per-file fsync and are synced a folder
at a time (``sync_folders``).  A file whose content would not change is not
touched.

The data folder is a jail: every writer passes it as ``jail``, and a write,
rename or removal whose way there goes through a symbolic link leading out of
it is refused (``confine``).  Links that stay inside are followed.
``crawler.storage.store`` offers all of this with the data folder's layout.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import itertools
import os
import re
import shutil
import stat
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO

from crawler.errors import StorageError

# Offered here too, beside the writers that write that form.
from crawler.storage.json_form import indented_json as indented_json
from crawler.storage.json_form import json_bytes as json_bytes

# What atomic_write_bytes leaves behind when a run is killed between creating and renaming it.
TEMP_NAME_RE = re.compile(r"^\..+\.tmp$")


def describe_os_error(exc: OSError, path: Path) -> str:
    if exc.errno == errno.ENOSPC:
        return f"disk full while writing {path}"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"cannot write {path}: permission denied"
    return f"cannot write {path}: {exc.strerror or exc}"


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def confine(path: Path, jail: Path | None, *, whole: bool = False) -> None:
    """Refuse ``path`` when a symbolic link on its way from ``jail`` leads out of the jail.

    Only the folders on the way are checked, not the last name: a rename or an
    unlink replaces or removes a link itself, never what it points to.  With
    ``whole`` the last name is checked too (a folder whose files are listed and
    removed).  ``jail=None`` is for files the user named (``--out``).
    """
    if jail is None:
        return
    # Plain strings and one lstat per folder: this runs before each of a lab's 30,000 writes.
    jail_abs = os.path.abspath(jail)
    target = os.path.abspath(path)
    if not _inside(target, jail_abs):
        raise StorageError(f"{path} is outside the data folder {jail}")
    parts = target[len(jail_abs) :].strip(os.sep).split(os.sep) if target != jail_abs else []
    current = jail_abs
    for n, part in enumerate(parts if whole else parts[:-1]):
        current = current + os.sep + part
        try:
            is_link = stat.S_ISLNK(os.lstat(current).st_mode)
        except OSError:
            return  # nothing there yet: nothing below it can be a link either
        if is_link:
            leads_to = os.path.realpath(current)
            if not _inside(leads_to, os.path.realpath(jail_abs)):
                raise StorageError(
                    f"{Path(jail, *parts[: n + 1])} is a symbolic link to {leads_to}, "
                    f"outside the data folder {jail}; "
                    "refusing to write through it (remove the link or make it a folder)"
                )


def atomic_write_bytes(path: Path, data: bytes, *, jail: Path | None = None, durable: bool = True) -> None:
    """Replace ``path`` with ``data`` all at once (temporary file, rename).

    ``durable`` also fsyncs the file before the rename and the folder after it,
    so the new content survives a power cut; derived files that can be rebuilt
    skip that (see :func:`sync_folders`).
    """
    # Plain descriptor calls, not atomic_writer's buffered file: a lab run writes
    # 30,000 small files this way and the file object costs more than the write.
    with _replacing(Path(path), jail, durable) as fd:
        try:
            write_all(fd, data)
            if durable:
                os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def _replacing(path: Path, jail: Path | None, durable: bool) -> Iterator[int]:
    """A new temporary file beside ``path``, for the block to fill and close; renamed over
    ``path`` when the block ends, removed when it raises."""
    confine(path, jail)
    tmp_name: str | None = None
    try:
        fd, tmp_name = create_temp(path)
        os.fchmod(fd, 0o644)
        yield fd
        os.replace(tmp_name, path)
        tmp_name = None
        if durable:
            _fsync_dir(path.parent)
    except OSError as exc:
        raise StorageError(describe_os_error(exc, path)) from exc
    finally:
        if tmp_name is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp_name)


_temp_counter = itertools.count()


def create_temp(path: Path) -> tuple[int, str]:
    """A new temporary file beside ``path`` (``.<name>.<pid>-<n>.tmp``), its folder made if need be.

    Named by process and counter rather than by ``mkstemp``'s random tries:
    cheaper, and ``O_EXCL`` still refuses a name that exists.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0)
    made_folder = False
    for _ in range(100):
        name = temp_name(path)
        try:
            return os.open(name, flags, 0o644), name
        except FileExistsError:
            continue  # left by a killed process that had our pid
        except FileNotFoundError:
            if made_folder:
                raise
            path.parent.mkdir(parents=True, exist_ok=True)
            made_folder = True
    raise FileExistsError(errno.EEXIST, "no free temporary name", os.fspath(path.parent))


def temp_name(path: Path) -> str:
    """A temporary name beside ``path``: ``.<name>.<pid>-<n>.tmp``."""
    return f"{path.parent}{os.sep}.{path.name}.{os.getpid()}-{next(_temp_counter)}.tmp"


@contextlib.contextmanager
def atomic_writer(path: Path, *, jail: Path | None = None, durable: bool = True) -> Iterator[IO[bytes]]:
    """A file to write ``path``'s new content into as a stream; it replaces ``path``
    all at once when the block ends, and never when the block raises."""
    with _replacing(Path(path), jail, durable) as fd, os.fdopen(fd, "wb") as handle:
        yield handle
        handle.flush()
        if durable:
            os.fsync(handle.fileno())


def sync_folders(folders: Iterable[str | Path]) -> None:
    """One fsync per folder, after a batch of non-durable writes into it, for the renames
    (one ``syncfs`` for many folders, ``flush_to_disk``)."""
    flush_to_disk((), sorted({os.fspath(folder) for folder in folders}))


# Every fsync also flushes the disk's own cache (a few milliseconds on a virtual disk,
# whatever there is to write); past this many, one syncfs(2) per file system, which
# writes out everything of it once, costs less.
SYNCFS_FROM = 16


def flush_to_disk(files: Sequence[str | Path], folders: Sequence[str | Path]) -> None:
    """Make the content of ``files`` and the names in ``folders`` durable: an fsync each, or,
    for many on Linux, one ``syncfs`` of each file system they are on."""
    if len(files) + len(folders) >= SYNCFS_FROM and _syncfs(
        {os.path.dirname(name) for name in files} | {os.fspath(folder) for folder in folders}
    ):
        return
    for name in files:
        fsync_file(name)
    for folder in folders:
        _fsync_dir(Path(folder))


def _syncfs(folders: Iterable[str]) -> bool:
    """``syncfs`` once for each file system holding one of ``folders``; ``False`` where the C
    library has no ``syncfs`` (not Linux) or it fails, for the caller to fsync one by one."""
    syncfs = _libc_syncfs()
    if syncfs is None:
        return False
    done: set[int] = set()
    for folder in folders:
        try:
            fd = os.open(folder, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        except OSError:
            continue  # gone or unreadable: nothing of it to flush
        try:
            device = os.fstat(fd).st_dev
            if device not in done:
                if syncfs(fd) != 0:
                    return False
                done.add(device)
        finally:
            os.close(fd)
    return True


@functools.cache
def _libc_syncfs() -> Callable[[int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    try:
        function: Callable[[int], int] = ctypes.CDLL(None, use_errno=True).syncfs
    except (OSError, AttributeError):
        return None
    return function


def write_if_changed(path: Path, data: bytes, *, jail: Path | None = None, durable: bool = True) -> bool:
    """Write ``data`` unless ``path`` already holds exactly it; return whether it wrote."""
    path = Path(path)
    confine(path, jail)
    if holds(path, data):
        return False
    atomic_write_bytes(path, data, durable=durable)
    return True


def holds(path: Path, data: bytes) -> bool:
    """Whether ``path`` is a regular file holding exactly ``data``.

    Only a regular file of the same size is read, and only that many bytes: a
    link, a FIFO (whose ``open`` would wait forever) or a huge file planted
    where an output goes is simply replaced by the rename.
    """
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except (FileNotFoundError, NotADirectoryError):
        return False
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENXIO):
            return False
        raise StorageError(f"cannot read {path}: {exc.strerror or exc}") from exc
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size != len(data):
            return False
        os.set_blocking(fd, True)
        held = bytearray()
        while len(held) <= len(data):
            piece = os.read(fd, len(data) + 1 - len(held))
            if not piece:
                break
            held += piece
        return held == data
    except OSError as exc:
        raise StorageError(f"cannot read {path}: {exc.strerror or exc}") from exc
    finally:
        os.close(fd)


def fsync_file(path: str | Path) -> None:
    """Flush a file already written (and closed) to the disk."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_all_if_changed(items: Sequence[tuple[Path, bytes]], *, durable: bool = False) -> list[Path]:
    """``write_if_changed`` for each ``(path, data)``, in order; the paths written.

    The caller has confined the paths to the data folder (``confine``) already.
    One after the other: a pool of writer threads was measured (docs/benchmarks.md)
    and was slower on an idle machine, the GIL handing over between threads
    costing more than the file system waits they overlap.
    """
    return [path for path, data in items if write_if_changed(path, data, durable=durable)]


def write_new_folder(folder: Path, items: Sequence[tuple[str, bytes]], *, jail: Path | None) -> list[Path]:
    """Make ``folder``, which does not exist yet, holding ``items`` (``(name, data)``, a name
    relative to the folder, ``/``-separated): the paths written.

    The files are written straight into a hidden temporary folder beside it
    (``.<name>.<pid>-<n>.tmp``, what ``remove_temp_files`` clears after a kill),
    which is renamed into place once all are in: one rename instead of one per
    file, and the folder is seen whole or not at all.  Derived files only: no
    fsync here, the caller syncs the folders once (``sync_folders``).
    """
    folder = Path(folder)
    confine(folder, jail, whole=True)
    tmp: str | None = None
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = temp_name(folder)
        os.mkdir(tmp)
        _fill_new_folder(tmp, items)
        # rename(2) onto a folder that appeared meanwhile fails rather than mixes the two.
        os.rename(tmp, folder)
        tmp = None
    except OSError as exc:
        raise StorageError(describe_os_error(exc, folder)) from exc
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    return [folder / name for name, _ in items]


_FOLDER_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0)
# Where a file can be opened relative to an open folder (everywhere but Windows).
_BY_FOLDER = os.open in os.supports_dir_fd and hasattr(os, "O_DIRECTORY")


def _fill_new_folder(tmp: str, items: Sequence[tuple[str, bytes]]) -> None:
    """Write ``items`` into the folder ``tmp``, just made: each file opened by its name in a
    descriptor of its folder (the kernel does not walk the whole path again for each of
    hundreds of files), and set to mode 0644 only when the umask took some of it away
    (the first file says; under the usual umask no file needs an ``fchmod``)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0)
    folders: dict[str, int | None] = {}
    chmod: bool | None = None
    try:
        folders[""] = os.open(tmp, _FOLDER_FLAGS) if _BY_FOLDER else None
        for name, data in items:
            parent, _, base = name.rpartition("/")
            if parent not in folders:
                os.makedirs(f"{tmp}/{parent}", exist_ok=True)
                folders[parent] = (
                    os.open(f"{tmp}/{parent}", _FOLDER_FLAGS | os.O_NOFOLLOW) if _BY_FOLDER else None
                )
            where = folders[parent]
            fd = (
                os.open(base, flags, 0o644, dir_fd=where)
                if where is not None
                else os.open(f"{tmp}/{name}", flags, 0o644)
            )
            try:
                if chmod is None:
                    chmod = stat.S_IMODE(os.fstat(fd).st_mode) != 0o644
                if chmod:
                    os.fchmod(fd, 0o644)
                write_all(fd, data)
            finally:
                os.close(fd)
    finally:
        for folder_fd in folders.values():
            if folder_fd is not None:
                os.close(folder_fd)


def write_all(fd: int, data: bytes) -> None:
    """Write ``data`` whole to ``fd``: one ``os.write`` may take only part of it."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def remove_temp_files(folder: Path, *, jail: Path | None = None) -> list[Path]:
    """Remove the temporary files and folders (``write_new_folder``'s) a killed run left in
    ``folder`` (not below it).

    Only call this while holding the data folder's lock: then no other run can
    be halfway through writing one of them.
    """
    confine(folder, jail, whole=True)
    removed: list[Path] = []
    try:
        # Names first, Path objects only for what goes: a badge folder holds hundreds of files.
        with os.scandir(folder) as entries:
            found = [
                (Path(entry.path), entry.is_dir(follow_symlinks=False))
                for entry in entries
                if TEMP_NAME_RE.match(entry.name) and (entry.is_file() or entry.is_dir(follow_symlinks=False))
            ]
    except (FileNotFoundError, NotADirectoryError):
        return removed
    except OSError as exc:
        raise StorageError(f"cannot list {folder}: {exc.strerror or exc}") from exc
    for path, is_folder in found:
        if is_folder:
            _remove_folder(path)
            removed.append(path)
        elif remove_file(path, jail=jail):
            removed.append(path)
    return removed


def _remove_folder(path: Path) -> None:
    """A temporary folder and what it holds; a link inside is removed, never followed."""
    try:
        shutil.rmtree(path)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise StorageError(f"cannot remove {path}: {exc.strerror or exc}") from exc


def remove_file(path: Path, *, jail: Path | None = None, durable: bool = True) -> bool:
    confine(path, jail)
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise StorageError(f"cannot remove {path}: {exc.strerror or exc}") from exc
    if durable:
        _fsync_dir(path.parent)
    return True
