"""The floor of a merge: copy every file of some shard folders into one folder, nothing else.

    python bench/floor_copy.py SHARD_DIR... DEST

Each regular file below each shard folder is read and written under the same
relative name in DEST (folders made as needed): no checks, no temporary file,
no rename, no fsync.  `bench_shards.py` times it beside `scholar-stats merge`
of the same folders.
"""

from __future__ import annotations

import os
import sys


def copy_tree(source: str, dest: str) -> int:
    copied = 0
    for folder, _, names in os.walk(source):
        target = os.path.join(dest, os.path.relpath(folder, source))
        os.makedirs(target, exist_ok=True)
        for name in names:
            with open(os.path.join(folder, name), "rb") as src, open(os.path.join(target, name), "wb") as dst:
                dst.write(src.read())
            copied += 1
    return copied


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    *sources, dest = argv
    print(sum(copy_tree(source, dest) for source in sources))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
