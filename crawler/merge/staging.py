"""Where ``merge --move`` keeps an author's folder while it reads it: a private folder inside
the data folder, reached by one rename out of the shard before any of its files is read::

    SHARD/ID ──rename──► DATA/.merging.<pid>-<n>.tmp/ID     (its ``.shard`` file names SHARD)
                         read and checked there ──► DATA/ID  taken whole (one rename)
                                               ──► DATA/ID/… its files one by one
                         what is left (refused, already held) ──rename──► SHARD/ID

A shard folder is a downloaded artifact that something else may still change while merge reads
it.  Once the folder has its private name in the data folder, which merge holds locked, no path
outside leads to it: what was read is what is moved in, without checking each file again after
the move (a file with a second name elsewhere, a hard link, is written anew, never moved).

A merge killed on the way leaves ``DATA/.merging.*.tmp``: the next merge, under the same lock,
puts each folder there back into the shard folder its ``.shard`` names (``recover``), or says
where it is when it cannot (that shard folder is gone, or holds that author again).  Nothing in
it is lost, and ``publish`` leaves hidden ``.tmp`` names out.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
from pathlib import Path

from crawler.errors import StorageError
from crawler.models import SCHOLAR_ID_RE
from crawler.storage.atomic import atomic_write_bytes, describe_os_error, temp_name
from crawler.storage.readfile import read_bounded
from crawler.storage.store import locked

STAGING_RE = re.compile(r"^\.merging\.\d+-\d+\.tmp$")
SHARD_NOTE = ".shard"
"""The file of a staging folder naming the shard folder its author folders came from."""
_MAX_NOTE_BYTES = 64 * 1024


class Staging:
    """The author folders one merge has taken out of their shards, until they are moved in or put back."""

    def __init__(self, into: Path) -> None:
        self.into = into
        self._roots: dict[Path, Path | None] = {}  # shard folder -> its staging folder (None: not here)
        self.staged: list[tuple[Path, Path]] = []  # (staged folder, the shard's folder it came from)

    def stage(self, shard_dir: Path, scholar_id: str) -> Path | None:
        """Move ``shard_dir/scholar_id`` into this merge's private place, and say where it is now;
        ``None`` when it cannot be moved there by a rename (another file system): it is then read
        and copied where it is."""
        root = self._root(shard_dir)
        if root is None:
            return None
        origin, staged = shard_dir / scholar_id, root / scholar_id
        try:
            os.rename(origin, staged)
        except OSError as exc:
            if exc.errno == errno.EXDEV:
                self._roots[shard_dir] = None
                _remove_root(root)
                return None
            raise StorageError(describe_os_error(exc, origin)) from exc
        self.staged.append((staged, origin))
        return staged

    def _root(self, shard_dir: Path) -> Path | None:
        if shard_dir in self._roots:
            return self._roots[shard_dir]
        root: Path | None = None
        try:
            if os.stat(shard_dir).st_dev == os.stat(self.into).st_dev:
                root = Path(temp_name(self.into / "merging"))
                os.mkdir(root)
        except OSError as exc:
            raise StorageError(describe_os_error(exc, self.into)) from exc
        if root is not None:
            # Named before anything is moved there: a merge killed after the move finds where it goes back.
            atomic_write_bytes(
                root / SHARD_NOTE, os.fsencode(shard_dir.absolute()), jail=self.into, durable=False
            )
        self._roots[shard_dir] = root
        return root

    def put_back(self) -> None:
        """Every staged folder still here (what a merge left of it) goes back into its shard folder; one
        whose name there is taken again is removed (what is left is the shard's, never ours: refused or
        already held).  The staging folders go."""
        for staged, origin in self.staged:
            if not os.path.lexists(staged):
                continue  # moved in whole
            try:
                if os.path.lexists(origin):
                    raise FileExistsError(origin)
                os.rename(staged, origin)
            except OSError:
                shutil.rmtree(staged, ignore_errors=True)
        for root in self._roots.values():
            if root is not None:
                _remove_root(root)
        self.staged.clear()
        self._roots.clear()


def recover(into: Path) -> list[str]:
    """Put back into their shard folders the author folders a merge killed on the way left in
    ``into``'s staging folders (under the data folder's lock, which that merge no longer holds);
    one line for each, saying where it went or why it stays."""
    if not _staging_folders(into):
        return []
    with locked(into):
        return [line for root in _staging_folders(into) for line in _recover(root)]


def _staging_folders(into: Path) -> list[Path]:
    try:
        with os.scandir(into) as entries:
            return sorted(
                Path(e.path) for e in entries if STAGING_RE.match(e.name) and e.is_dir(follow_symlinks=False)
            )
    except (FileNotFoundError, NotADirectoryError):
        return []
    except OSError as exc:
        raise StorageError(f"cannot list {into}: {exc.strerror or exc}") from exc


def _recover(root: Path) -> list[str]:
    lines: list[str] = []
    try:
        shard: Path | None = Path(os.fsdecode(read_bounded(root / SHARD_NOTE, limit=_MAX_NOTE_BYTES)))
    except (OSError, StorageError):
        shard = None
    left = False
    for folder in sorted(root.iterdir()):
        if folder.name == SHARD_NOTE:
            continue
        why = _put_back_one(folder, shard)
        left = left or why is not None
        lines.append(
            f"{folder} was left by a merge stopped on the way; "
            + (f"put back into {shard}" if why is None else f"left there: {why}")
        )
    if not left:
        _remove_root(root)
    return lines


def _remove_root(root: Path) -> None:
    """A staging folder, once it holds nothing but its note."""
    with contextlib.suppress(OSError):
        os.unlink(root / SHARD_NOTE)
        os.rmdir(root)


def _put_back_one(folder: Path, shard: Path | None) -> str | None:
    """Why ``folder`` cannot go back into ``shard``, or ``None`` once it is there."""
    if shard is None:
        return "which shard folder it came from is not known"
    if not SCHOLAR_ID_RE.match(folder.name) or not folder.is_dir() or folder.is_symlink():
        return "not an author's folder"
    if not shard.is_dir():
        return f"{shard} is gone"
    if os.path.lexists(shard / folder.name):
        return f"{shard} holds {folder.name} again"
    try:
        os.rename(folder, shard / folder.name)
    except OSError as exc:
        return exc.strerror or str(exc)
    return None
