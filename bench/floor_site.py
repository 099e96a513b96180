"""The floor of `scholar-stats site`: one HTML page with an SVG chart per author, read the shortest way.

    python bench/floor_site.py DATA_DIR OUT_DIR

For each author folder: every snapshot's first 4 KiB read and the part before
`"publications"` parsed (its total citations), the newest snapshot read whole
and parsed, and one page written: the name, the newest totals, an SVG
polyline of the totals over time and a table of the newest publications.  No
check of any field, no template engine, no exports, no index.
`bench_site.py` times it beside `scholar-stats site` on the same folder.
"""

from __future__ import annotations

import html
import json
import os
import sys

KEY = b'\n  "publications": '


def page(name: str, totals: list[int], newest: dict[str, object]) -> str:
    top = max(totals) or 1
    step = 800 / max(len(totals) - 1, 1)
    points = " ".join(f"{i * step:.0f},{200 - 200 * t // top}" for i, t in enumerate(totals))
    rows = "".join(
        f"<tr><td>{html.escape(str(p['title']))}</td><td>{p['year']}</td><td>{p['citations']}</td></tr>"
        for p in newest["publications"]  # type: ignore[attr-defined]
    )
    return (
        f"<!doctype html><meta charset=utf-8><title>{html.escape(name)}</title><h1>{html.escape(name)}</h1>"
        f"<p>{totals[-1]} citations</p>"
        f'<svg viewBox="0 0 800 200"><polyline fill=none stroke=black points="{points}"/></svg>'
        f"<table>{rows}</table>\n"
    )


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python bench/floor_site.py DATA_DIR OUT_DIR", file=sys.stderr)
        return 2
    data_dir, out = argv
    for author in sorted(os.listdir(data_dir)):
        folder = os.path.join(data_dir, author, "snapshots")
        if not os.path.isdir(folder):
            continue
        names = sorted(os.listdir(folder))
        totals = []
        for name in names:
            fd = os.open(os.path.join(folder, name), os.O_RDONLY)
            try:
                head = os.read(fd, 4096)
            finally:
                os.close(fd)
            totals.append(json.loads(head[: head.find(KEY)].rstrip(b",") + b"\n}")["metrics"]["citations"])
        with open(os.path.join(folder, names[-1]), "rb") as handle:
            newest = json.loads(handle.read())
        os.makedirs(os.path.join(out, author), exist_ok=True)
        with open(os.path.join(out, author, "index.html"), "w", encoding="utf-8") as handle:
            handle.write(page(newest["profile"]["name"], totals, newest))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
