"""Files replaced together (``Batch``): written or moved in first, fsynced in one pass,
then renamed into place; what a file moved in must still be (``Identity``)."""

from __future__ import annotations

import contextlib
import enum
import errno
import os
import stat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from crawler.errors import StorageError
from crawler.storage.atomic import (
    create_temp,
    describe_os_error,
    flush_to_disk,
    holds,
    remove_file,
    temp_name,
    write_all,
)

Identity = tuple[int, int, int, int]
"""What tells a file from another and from its own earlier content: device, inode, size and
modification time (``identity_of``).  A rename keeps all four; any write changes the time."""


def identity_of(info: os.stat_result) -> Identity:
    return info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns


class Moved(enum.Enum):
    MOVED = "moved"
    OTHER_FILE_SYSTEM = "on another file system"
    CHANGED = "not the file read any more"


class Batch:
    """Files replaced together: every new content goes first to a temporary name beside its
    place (a file written there, an existing file or a whole folder moved there by a
    rename), then the durable files are fsynced in one pass, then every temporary is
    renamed into place.

    A crash at any moment leaves each file old or new, never torn, as one
    ``atomic_write_bytes`` does.  The fsyncs come together, after all the writes and
    moves, rather than one between each two: on a journalled file system each fsync
    that follows a change of a folder commits the journal, and in one pass only the
    first does.  The caller fsyncs the folders once after ``commit`` (``sync_folders``),
    and has confined the paths to the data folder already.
    """

    def __init__(self) -> None:
        # temporary name, final name, files to fsync first, where what was moved in came from
        self._staged: list[tuple[str, str, tuple[str, ...], str | None]] = []
        self._folders: set[str] = set()

    def write(self, path: Path, data: bytes, *, durable: bool) -> None:
        """Stage ``data`` to replace ``path``."""
        tmp: str | None = None
        try:
            fd, tmp = create_temp(path)
            try:
                os.fchmod(fd, 0o644)
                write_all(fd, data)
            finally:
                os.close(fd)
        except OSError as exc:
            if tmp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
            raise StorageError(describe_os_error(exc, path)) from exc
        self._staged.append((tmp, os.fspath(path), (tmp,) if durable else (), None))

    def move(self, source: str, path: Path, expected: Identity, *, durable: bool) -> Moved:
        """Stage the file ``source`` itself (renamed, not copied) to replace ``path``, if it is
        still the file ``expected`` names.  Nothing is moved when it is on another file
        system (``EXDEV``), nor when it is not that file any more (it is put back)."""
        tmp = temp_name(path)
        try:
            try:
                os.rename(source, tmp)
            except FileNotFoundError:
                if not os.path.lexists(source):
                    return Moved.CHANGED
                path.parent.mkdir(parents=True, exist_ok=True)
                os.rename(source, tmp)
        except OSError as exc:
            if exc.errno == errno.EXDEV:
                return Moved.OTHER_FILE_SYSTEM
            raise StorageError(describe_os_error(exc, path)) from exc
        try:
            info = os.lstat(tmp)
            if not stat.S_ISREG(info.st_mode) or identity_of(info) != expected:
                _put_back(tmp, source)
                return Moved.CHANGED
            if stat.S_IMODE(info.st_mode) != 0o644:
                os.chmod(tmp, 0o644)
        except OSError as exc:
            raise StorageError(describe_os_error(exc, path)) from exc
        self._staged.append((tmp, os.fspath(path), (tmp,) if durable else (), source))
        return Moved.MOVED

    def move_private(self, source: str, path: Path, *, durable: bool) -> None:
        """Stage the file ``source`` of a private folder (one no other process names: the caller
        moved it there before it read and checked the file) to replace ``path``: it stays where it
        is until ``commit`` renames it into place, so that a merge stopped at any moment leaves it
        either there or in its place; given up, it stays there."""
        try:
            os.chmod(source, 0o644)
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(describe_os_error(exc, path)) from exc
        self._staged.append((source, os.fspath(path), (source,) if durable else (), source))

    def adopt_folder(
        self,
        folder: Path,
        target: Path,
        origin: Path,
        *,
        durable: Sequence[str] = (),
        dropped: Sequence[str] = (),
        modes: Sequence[str] = (),
    ) -> None:
        """Stage ``folder``, a private folder beside ``target`` (one no other process names: the caller
        moved it there before it read and checked what it holds), to become ``target``, which does not
        exist, by one rename.  The ``dropped`` files are removed first (and the folders they emptied),
        the ``modes`` files given the permissions of a file written here; the ``durable`` files and
        their folders are fsynced before the folder takes its name.  Given up (``discard``), the
        folder goes back to ``origin``, where it came from.
        """
        tmp = os.fspath(folder)
        try:
            for rel in dropped:
                os.unlink(f"{tmp}/{rel}")
            _remove_emptied(tmp, dropped, ())  # a folder still holding a file stays: rmdir refuses it
            for rel in modes:
                os.chmod(f"{tmp}/{rel}", 0o644)
        except OSError as exc:
            raise StorageError(describe_os_error(exc, target)) from exc
        files = tuple(f"{tmp}/{rel}" for rel in durable)
        self._folders.update([tmp, *(os.path.dirname(name) for name in files)])
        self._staged.append((tmp, os.fspath(target), files, os.fspath(origin)))

    def commit(self) -> None:
        """Fsync the durable files in one pass, then rename every temporary into place."""
        staged, self._staged = self._staged, []
        done, final = 0, ""
        try:
            flush_to_disk([name for _, _, files, _ in staged for name in files], sorted(self._folders))
            self._folders.clear()
            for tmp, final, _, _ in staged:
                os.replace(tmp, final)
                done += 1
        except OSError as exc:
            self._staged = staged[done:]
            self.discard()
            raise StorageError(describe_os_error(exc, Path(final))) from exc

    def discard(self) -> None:
        """Undo what is staged: files written removed, what was moved in put back where it was."""
        staged, self._staged = self._staged, []
        self._folders.clear()
        for tmp, _, _, source in staged:
            with contextlib.suppress(OSError):
                if source is None:
                    os.unlink(tmp)
                elif not os.path.lexists(source):
                    os.rename(tmp, source)


def _put_back(moved: str, source: str) -> None:
    """A file moved in that is not the one expected goes back where it was (or, when that
    name is taken again, is removed: it is the shard's, never ours)."""
    try:
        if os.path.lexists(source):
            raise FileExistsError(source)
        os.rename(moved, source)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(moved)


@dataclass
class Taking:
    """How files from a folder that is not ours (a shard's) reach the data folder ``into``:
    each written anew (the default), or, with ``move``, the file itself renamed into place
    once every check has passed on what was read of it: from the private folder it was read
    in (``private``), or else if it is still the file read.  A shard folder is a downloaded
    artifact, used once: a file moved out of it is no longer there, so nothing is shared
    with it.  A file on another file system, or changed since it was read, is written
    anew from the bytes read and checked.  Everything is staged in one ``Batch``."""

    into: Path
    written: list[Path]
    removed: list[Path]
    move: bool = False
    batch: Batch = field(default_factory=Batch)
    other_file_system: bool = False
    doomed: list[Path] = field(default_factory=list)
    folders: set[str] = field(default_factory=set)
    """Folders of files moved in with their folder, to be fsynced at the end."""

    def put(
        self,
        source: Path,
        path: Path,
        data: bytes,
        read: Identity | None,
        durable: bool,
        private: bool = False,
    ) -> None:
        """Stage ``path`` to hold ``data`` (read from ``source`` as ``read``, ``None`` when it
        is not the file's own bytes) unless it already does.  A file of a ``private`` folder
        (``Batch.move_private``) is the one read: it is moved without another look."""
        if holds(path, data):
            return
        self.written.append(path)
        if self.move and read is not None and private:
            self.batch.move_private(os.fspath(source), path, durable=durable)
            return
        if self.move and read is not None and not self.other_file_system:
            moved = self.batch.move(os.fspath(source), path, read, durable=durable)
            if moved is Moved.MOVED:
                return
            self.other_file_system = moved is Moved.OTHER_FILE_SYSTEM
        self.batch.write(path, data, durable=durable)

    def commit(self) -> None:
        """Put what is staged in place, then remove what is doomed (the outputs a shard no
        longer has): a write that fails (a full disk) leaves every old one in place."""
        self.batch.commit()
        doomed, self.doomed = self.doomed, []
        self.removed.extend(p for p in doomed if remove_file(p, jail=self.into, durable=False))


def _remove_emptied(root: str, dropped: Sequence[str], kept: Iterable[str]) -> None:
    """Remove the folders below ``root`` that held only ``dropped`` files (a folder written
    whole under a temporary name and cut short), deepest first; folders of ``kept`` stay."""
    needed = {rel.rsplit("/", i)[0] for rel in kept for i in range(1, rel.count("/") + 1)}
    emptied = {rel.rsplit("/", i)[0] for rel in dropped for i in range(1, rel.count("/") + 1)} - needed
    for rel in sorted(emptied, key=lambda rel: rel.count("/"), reverse=True):
        with contextlib.suppress(OSError):  # something else is still there: it stays
            os.rmdir(f"{root}/{rel}")
