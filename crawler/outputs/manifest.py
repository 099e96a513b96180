"""What an author's outputs were last built from, so a run that finds nothing new skips them.

Building the outputs of an author with hundreds of publications means reading
back every badge to see whether it would change.  After a build, the author
folder keeps a small manifest (``.outputs.json``): a fingerprint of what the
outputs depend on (the record, the badge style, the code that renders them)
and the size of every file built.  When the snapshot has not changed, the
fingerprint matches and every file is still there with its size, the outputs
are known to be right and are not read.

Outputs are renamed into place without an fsync each; a power cut can leave a
new file empty, which the recorded size catches, and the next run rebuilds it.
The manifest is a local cache: ``publish`` leaves it out, and a missing or
unreadable one only means the next run compares the files the slow way.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path

from crawler.errors import StorageError
from crawler.models import AuthorRecord, record_to_dict
from crawler.outputs.badges import BadgeStyle
from crawler.storage.readfile import MAX_OUTPUT_BYTES, json_value, read_bounded
from crawler.storage.store import OUTPUTS_MANIFEST, json_bytes, write_if_changed

MANIFEST = OUTPUTS_MANIFEST
# The modules whose code decides the bytes of the outputs: a new version of any
# of them must rebuild (and so compare) every file once.
_RENDERERS = ("gs_data.py", "gs_history.py", "badges.py", "svg.py", "manifest.py", "group_numbers.py")


@functools.cache
def _renderer_digest() -> bytes:
    digest = hashlib.sha256()
    folder = Path(__file__).parent
    for name in _RENDERERS:
        digest.update((folder / name).read_bytes())
    return digest.digest()


def inputs_fingerprint(style: BadgeStyle, inputs: str) -> str:
    """A fingerprint of outputs built from ``inputs`` (a text that names everything else they
    depend on) with ``style``, by the renderers' code."""
    digest = hashlib.sha256(_renderer_digest())
    digest.update(repr(style).encode("utf-8"))
    digest.update(inputs.encode("utf-8"))
    return digest.hexdigest()


def fingerprint(record: AuthorRecord, style: BadgeStyle, view: str = "") -> str:
    """``view``: how the numbers are to be read (stale, estimated), which the record does not say."""
    digest = hashlib.sha256(_renderer_digest())
    digest.update(repr(style).encode("utf-8"))
    digest.update(view.encode("utf-8"))
    # record_to_dict's key order is fixed, so no sort_keys (which doubles the cost).
    digest.update(json.dumps(record_to_dict(record)).encode("ascii"))
    return digest.hexdigest()


def outputs_current(author_dir: Path, print_: str) -> bool:
    """Whether the manifest says the outputs were built for ``print_`` and every file is still whole.

    ``author_dir`` is an author's folder, or the data folder for the group's files."""
    try:
        manifest = json_value(read_bounded(author_dir / MANIFEST, limit=MAX_OUTPUT_BYTES))
        if manifest.get("fingerprint") != print_:
            return False
        return _sizes_match(os.fspath(author_dir) + os.sep, manifest["files"])
    except (OSError, ValueError, TypeError, KeyError, AttributeError, StorageError):
        return False


# Looked up from an open folder, a file's name is one step for the kernel instead of the
# whole path's: a no-op day stats every output of every author (600 files an author).
_STAT_AT = os.stat in os.supports_dir_fd and hasattr(os, "O_DIRECTORY")


def _sizes_match(base: str, files: Mapping[str, int]) -> bool:
    """Whether every file ``base + name`` of ``files`` exists (links followed) with its size.

    Raises ``OSError`` or ``ValueError`` where ``os.stat`` of the whole path would."""
    if not _STAT_AT:
        return all(os.stat(base + name).st_size == size for name, size in files.items())
    # The manifest's names are sorted, so each folder's files come together: one folder open at a time.
    folder, fd = "", -1
    try:
        for name, size in files.items():
            where, _, leaf = name.rpartition("/")
            if not leaf:
                # A name that is a folder ("", "badges/"): stat'ed whole, as it is written.
                if os.stat(base + name).st_size != size:
                    return False
                continue
            if fd < 0 or where != folder:
                if fd >= 0:
                    os.close(fd)
                    fd = -1
                fd = os.open(base + where, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
                folder = where
            if os.stat(leaf, dir_fd=fd).st_size != size:
                return False
    finally:
        if fd >= 0:
            os.close(fd)
    return True


def record_outputs(
    author_dir: Path, print_: str, files: Mapping[str, int] | Mapping[Path, int], *, jail: Path
) -> None:
    """Write the manifest for outputs just built (after their folders were fsynced): name -> size."""
    prefix = len(os.fspath(author_dir)) + 1
    sizes = {os.fspath(path)[prefix:].replace(os.sep, "/"): size for path, size in files.items()}
    manifest = {"fingerprint": print_, "files": dict(sorted(sizes.items()))}
    write_if_changed(author_dir / MANIFEST, json_bytes(manifest), jail=jail, durable=False)
