"""How the shard assignment behaves on a lab-sized list: sizes and moves.

    python bench/shard_assignment.py [--authors 500] [--shards 10] [--lists 20] [--changes 20]

For ``--lists`` random lists of ``--authors`` Scholar IDs, compares the
assignment ``run --shard`` uses (``crawler.shard.assign``: rendezvous hashing
with each shard holding its share) with pure rendezvous hashing (each author in
the shard that ranks first for it, whatever the others): the spread of shard
sizes (largest minus smallest), and how many other authors change shard when
one author is added to or removed from the list (``--changes`` of each per list).
Prints a Markdown table.  No network, no files.
"""

from __future__ import annotations

import argparse
import random
import statistics
import string
from collections import Counter
from collections.abc import Callable, Sequence

from crawler.shard import _hash, assign

ALPHABET = string.ascii_letters + string.digits + "_-"
Assign = Callable[[Sequence[str], int], dict[str, int]]


def rendezvous(ids: Sequence[str], count: int) -> dict[str, int]:
    return {sid: max(range(1, count + 1), key=lambda k: (_hash(f"{sid}/{k}"), k)) for sid in ids}


def scholar_id(rng: random.Random) -> str:
    return "".join(rng.choice(ALPHABET) for _ in range(8)) + "AAAJ"


def moved(before: dict[str, int], after: dict[str, int]) -> int:
    return sum(before[sid] != after[sid] for sid in before.keys() & after.keys())


def measure(how: Assign, args: argparse.Namespace) -> tuple[list[int], list[int], list[int]]:
    rng = random.Random(13)
    spreads, adds, removes = [], [], []
    for _ in range(args.lists):
        ids = [scholar_id(rng) for _ in range(args.authors)]
        before = how(ids, args.shards)
        sizes = Counter(before.values())
        spreads.append(
            max(sizes[k] for k in range(1, args.shards + 1))
            - min(sizes[k] for k in range(1, args.shards + 1))
        )
        for _ in range(args.changes):
            adds.append(moved(before, how([*ids, scholar_id(rng)], args.shards)))
            gone = rng.choice(ids)
            removes.append(moved(before, how([sid for sid in ids if sid != gone], args.shards)))
    return spreads, adds, removes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--authors", type=int, default=500)
    parser.add_argument("--shards", type=int, default=10)
    parser.add_argument("--lists", type=int, default=20)
    parser.add_argument("--changes", type=int, default=20)
    args = parser.parse_args()
    print(
        f"{args.lists} random lists of {args.authors} authors in {args.shards} shards; "
        f"{args.changes} additions and {args.changes} removals per list\n"
    )
    print(
        "| assignment | size spread: mean (max) | others moved when one is added: mean (max) | "
        "when one is removed: mean (max) |"
    )
    print("|---|---|---|---|")
    for name, how in (("bounded (what `run --shard` uses)", assign), ("pure rendezvous", rendezvous)):
        spreads, adds, removes = measure(how, args)
        cells = [f"{statistics.mean(v):.1f} ({max(v)})" for v in (spreads, adds, removes)]
        print(f"| {name} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
