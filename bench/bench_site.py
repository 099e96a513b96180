"""The dashboard at lab scale: ``scholar-stats site`` beside ``export --what metrics`` on the same data.

    python bench/bench_site.py                      # 50 authors x 3,650 snapshots x 300 publications
    python bench/bench_site.py --data-dir DIR       # a folder kept by bench_export.py --keep (or this --keep)
    python bench/bench_site.py --authors 5 --snapshots 365 --publications 100   # a quick look

1. Generates the data folder as ``bench_export.py`` does (daily snapshots,
   byte for byte what ``run`` writes), unless ``--data-dir`` names one.
2. Runs, in child processes, ``export --what metrics --out FILE`` and
   ``site --out DIR`` (into a new folder each time: the whole site written),
   one after the other, first each from a cold page cache, then ``--repeat``
   times each from a warm one, so that both see the same machine.  For each:
   wall time, CPU time, peak memory of the process tree.
3. Beside them, in the same turns, their floors (``bench/floor_export_metrics.py``:
   every snapshot's totals read the shortest way and written as CSV;
   ``bench/floor_site.py``: one HTML page with an SVG chart per author, from
   every snapshot's totals and the newest snapshot whole), ``site`` again into
   the folder it just wrote (a day with nothing new), and with ``--before
   CHECKOUT`` the same commands of another checkout (``PYTHONPATH``).
4. Prints a Markdown table, the ratio of the medians, each command against its
   floor, the largest author page and the site's size; exits 1 if a target is
   missed: ``site`` within three times its floor (warm, wall time), ``site``
   again with nothing new under a second per 50 authors, no author page over
   1 MB.  (``site`` against ``export --what metrics`` is printed too.)

Sizes from one author with one snapshot to a lab's ten years:

    python bench/bench_site.py --authors 1 --snapshots 1 --no-cold
    python bench/bench_site.py --authors 50 --snapshots 365 --no-cold
    python bench/bench_site.py --authors 5 --snapshots 3650 --no-cold

The folder is about 20 GB for the full size; the free space is checked first.
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_export import (
    SNAPSHOT_BYTES_PER_PUB,
    Measure,
    evict,
    folder_arguments,
    measure,
    no_room,
    prepare_folder,
    print_setting,
)

from crawler.models import format_time

FLOOR_TARGET = 3.0
AGAIN_SECONDS_PER_50_AUTHORS = 1.0
PAGE_BYTES_TARGET = 1_000_000


def _row(label: str, cache: str, results: list[Measure]) -> str:
    times = sorted(r.seconds for r in results)
    spread = f" ({times[0]:.2f}-{times[-1]:.2f})" if len(times) > 1 else ""
    failed = "" if all(r.status == 0 for r in results) else " (failed)"
    return (
        f"| {label}{failed} | {cache} | {len(results)} | {statistics.median(times):.2f}{spread} | "
        f"{statistics.median(r.cpu_seconds for r in results):.2f} | {max(r.pss_mib for r in results):.0f} |"
    )


def main(argv: list[str] | None = None) -> int:
    parser = folder_arguments(__doc__)
    parser.add_argument("--repeat", type=int, default=3, help="warm runs of each command (median reported)")
    parser.add_argument("--no-cold", action="store_true", help="skip the cold-cache runs")
    parser.add_argument("--before", metavar="CHECKOUT", help="another checkout whose commands are timed too")
    args = parser.parse_args(argv)

    tmp_root = args.tmp or Path(tempfile.gettempdir())
    need = args.authors * args.snapshots * (args.publications * SNAPSHOT_BYTES_PER_PUB + 2048)
    if no_room(args, need, tmp_root):
        return 2
    # The bytecode cache is written by the first, untimed runs, as an install writes it: with
    # PYTHONDONTWRITEBYTECODE every run would compile our modules again.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    work = Path(tempfile.mkdtemp(prefix="scholar-stats-bench-site-", dir=tmp_root))
    data = args.data_dir or work / "data"
    try:
        generation, on_disk, files = prepare_folder(data, args)
        # -P: the working folder is not put first on the path, so PYTHONPATH decides
        # which checkout runs (--before).
        exe = [sys.executable, "-P", "-m", "crawler"]
        out_csv, out_site = work / "metrics.csv", work / "site"
        export_cmd = [*exe, "export", "--data-dir", str(data), "--what", "metrics", "--out", str(out_csv)]
        site_cmd = [*exe, "site", "--data-dir", str(data), "--out", str(out_site)]

        bench = Path(__file__).resolve().parent
        floors = {
            "export floor": [sys.executable, str(bench / "floor_export_metrics.py"), str(data), str(out_csv)],
            "site floor": [sys.executable, str(bench / "floor_site.py"), str(data), str(out_site)],
        }

        def run(command: list[str], cold: bool, env: dict[str, str] = env, fresh: bool = True) -> Measure:
            if fresh:
                shutil.rmtree(out_site, ignore_errors=True)
            out_csv.unlink(missing_ok=True)
            if cold:
                evict(data)
            print(f"{' '.join(command[1:4])} ({'cold' if cold else 'warm'}) ...", file=sys.stderr)
            return measure(command, env)

        others: dict[str, tuple[list[str], dict[str, str], bool]] = {
            "export floor": (floors["export floor"], env, True),
            "site floor": (floors["site floor"], env, True),
            # A day with nothing new: the folder the previous `site` wrote, built again.
            "site again": (site_cmd, env, False),
        }
        if args.before:
            before_env = {**env, "PYTHONPATH": args.before}
            others["export (before)"] = (export_cmd, before_env, True)
            others["site (before)"] = (site_cmd, before_env, True)
            others["site again (before)"] = (site_cmd, before_env, False)

        results: dict[tuple[str, str], list[Measure]] = {}
        if not args.no_cold:
            for name, command in (("export", export_cmd), ("site", site_cmd)):
                results[(name, "cold")] = [run(command, True)]
        # One run of each to warm the cache, then the measured runs, alternating.
        run(export_cmd, False)
        run(site_cmd, False)
        for _ in range(args.repeat):
            for name, command in (("export", export_cmd), ("site", site_cmd)):
                results.setdefault((name, "warm"), []).append(run(command, False))
            for name, (command, command_env, fresh) in others.items():
                if not fresh:
                    run(command, False, command_env)  # the site it builds again
                results.setdefault((name, "warm"), []).append(run(command, False, command_env, fresh))
        # The pages measured below are the current checkout's.
        run(site_cmd, False)

        pages = sorted(out_site.glob("*/index.html"), key=lambda p: p.stat().st_size)
        largest = pages[-1].stat().st_size if pages else 0
        site_bytes = sum(p.stat().st_size for p in out_site.rglob("*") if p.is_file())
        index_bytes = (out_site / "index.html").stat().st_size if (out_site / "index.html").exists() else 0

        print_setting(args, files, on_disk, generation)
        print("| command | page cache | runs | time (s), median (min-max) | CPU (s) | peak PSS (MiB) |")
        print("|---|---|---:|---:|---:|---:|")
        labels = {"export": "`export --what metrics`", "site": "`site`"}
        for (name, cache), measured in sorted(results.items(), key=lambda kv: (kv[0][1] != "cold", kv[0][0])):
            print(_row(labels.get(name, name), cache, measured))
        print("\n| command (warm) | × its floor, wall | × its floor, CPU |")
        print("|---|---:|---:|")
        for name in sorted(n for (n, c) in results if c == "warm" and "floor" not in n):
            floor = "export floor" if name.startswith("export") else "site floor"
            if (floor, "warm") not in results:
                continue
            wall = statistics.median(m.seconds for m in results[(name, "warm")])
            cpu = statistics.median(m.cpu_seconds for m in results[(name, "warm")])
            floor_wall = statistics.median(m.seconds for m in results[(floor, "warm")])
            floor_cpu = statistics.median(m.cpu_seconds for m in results[(floor, "warm")])
            print(f"| {labels.get(name, name)} | {wall / floor_wall:.2f}× | {cpu / floor_cpu:.2f}× |")
        floor_ratio = None
        if ("site", "warm") in results and ("site floor", "warm") in results:
            floor_ratio = statistics.median(m.seconds for m in results[("site", "warm")]) / statistics.median(
                m.seconds for m in results[("site floor", "warm")]
            )
        again = statistics.median(m.seconds for m in results[("site again", "warm")]) if args.repeat else 0.0
        authors = sum(1 for p in data.iterdir() if (p / "snapshots").is_dir())
        again_target = AGAIN_SECONDS_PER_50_AUTHORS * max(1.0, authors / 50)
        for cache in ("cold", "warm"):
            if (("export", cache) in results) and (("site", cache) in results):
                export_s = statistics.median(m.seconds for m in results[("export", cache)])
                site_s = statistics.median(m.seconds for m in results[("site", cache)])
                export_cpu = statistics.median(m.cpu_seconds for m in results[("export", cache)])
                site_cpu = statistics.median(m.cpu_seconds for m in results[("site", cache)])
                print(
                    f"\n{cache}: site / export = {site_s / export_s:.2f} (wall), "
                    f"{site_cpu / export_cpu:.2f} (CPU)"
                )
        print(
            f"\nSite: {len(pages)} author pages, largest {largest / 1e6:.2f} MB "
            f"({pages[-1].parent.name if pages else '-'}), "
            f"index.html {index_bytes / 1e6:.2f} MB, {site_bytes / 2**20:.1f} MiB in all (with the exports)"
        )
        failed = any(m.status for ms in results.values() for m in ms)
        missed = (
            failed
            or floor_ratio is None
            or floor_ratio > FLOOR_TARGET
            or again > again_target
            or largest > PAGE_BYTES_TARGET
        )
        print(
            f"Targets (site at most {FLOOR_TARGET:.0f}x its floor, warm: "
            f"{floor_ratio if floor_ratio is not None else float('nan'):.2f}x; site again under "
            f"{again_target:.1f} s: {again:.2f} s; no author page over 1 MB): "
            f"{'missed' if missed else 'met'}."
        )
        print(f"Measured {format_time(datetime.now(UTC))}.")
        return 1 if missed else 0
    finally:
        if args.keep and args.data_dir is None:
            print(f"kept {data}", file=sys.stderr)
            shutil.rmtree(out_site, ignore_errors=True)
        else:
            shutil.rmtree(work if args.data_dir is None else out_site.parent, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
