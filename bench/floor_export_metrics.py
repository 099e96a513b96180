"""The floor of `export --what metrics`: every snapshot's totals as CSV, read the shortest way.

    python bench/floor_export_metrics.py DATA_DIR OUT.csv

For each author folder and each file in its `snapshots/` folder, in name
order: the first 4 KiB read, the part before `"publications"` parsed with
`json.loads`, one CSV row written (date, scholar_id, name, the six metrics,
since_year, publication_count, source).  No check of any field, no window, no
period, no report of a bad file.  `bench_site.py` times it beside
`scholar-stats export --what metrics` on the same folder.
"""

from __future__ import annotations

import csv
import json
import os
import sys

KEY = b'\n  "publications": '
METRICS = (
    "citations",
    "citations_since",
    "since_year",
    "h_index",
    "h_index_since",
    "i10_index",
    "i10_index_since",
)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python bench/floor_export_metrics.py DATA_DIR OUT.csv", file=sys.stderr)
        return 2
    data_dir, out = argv
    with open(out, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(("date", "scholar_id", "name", *METRICS, "publications", "source"))
        for author in sorted(os.listdir(data_dir)):
            folder = os.path.join(data_dir, author, "snapshots")
            if not os.path.isdir(folder):
                continue
            for name in sorted(os.listdir(folder)):
                fd = os.open(os.path.join(folder, name), os.O_RDONLY)
                try:
                    head = os.read(fd, 4096)
                finally:
                    os.close(fd)
                data = json.loads(head[: head.find(KEY)].rstrip(b",") + b"\n}")
                metrics = data["metrics"]
                writer.writerow(
                    (
                        data["fetched_at"],
                        data["scholar_id"],
                        data["profile"]["name"],
                        *(metrics[key] for key in METRICS),
                        data["publication_count"],
                        data["source"],
                    )
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
