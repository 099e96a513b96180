"""History export at lab scale: time, memory and disk of ``scholar-stats export``.

    python bench/bench_export.py                         # 50 authors x 3,650 snapshots x 300 publications
    python bench/bench_export.py --authors 5 --snapshots 365 --publications 100   # a quick look

1. Generates a data folder in a temporary directory (removed afterwards unless
   ``--keep``): daily snapshots over ten years with citations that grow, written
   byte for byte as ``crawler.storage.store`` writes them (``json_bytes(record_to_dict(r))``;
   the first snapshot of each author is checked against that).  Generation is
   split over ``--workers`` processes.
2. Runs ``scholar-stats export`` in a child process, writing to a file in the
   same temporary directory: ``--what metrics`` from a cold page cache (the
   folder's pages dropped with ``posix_fadvise(DONTNEED)`` first) and a warm
   one, ``--what years --all``, ``--what metrics --freq monthly`` (each
   ``--repeat`` times, median reported), and ``--what publications`` once,
   cold.  For each: wall time, CPU time, peak memory of the whole process tree
   (PSS and RSS, sampled every 20 ms), and the output's size.
3. Prints the folder's size on disk and a Markdown table on stdout; exits 1 if
   the metrics export misses its target (under 10 s and under 500 MB).

``--against-floor RUNS`` measures instead ``export --what metrics`` (warm page
cache) beside its floor, ``bench/floor_export_metrics.py`` (every snapshot's
totals read the shortest way), and ``python -c pass``, one after the other,
``RUNS`` times each in turn (after one untimed turn that warms the caches and
writes the bytecode cache, as an install does), and with ``--before CHECKOUT``
the same export of another checkout: median wall and CPU time (user + system of
each child, steadier than wall time on a shared machine) and the ratios to the
floor; exits 1 if the export takes more than twice its floor's wall time.

    python bench/bench_export.py --authors 50 --snapshots 365 --against-floor 25

``--pool-vs-one`` runs each export twice, side by side: as the command runs it
("command": worker processes where it starts them) and in one process ("one":
the export's ``default_workers`` replaced by 1 in the child), so the table
shows whether the pool pays on this machine.

The disk space needed is checked first (``shutil.disk_usage``).  The folder is
never committed: it lives in ``--tmp`` (default: the system's temporary folder).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from crawler.models import AuthorRecord, Metrics, Profile, Publication, format_time, record_to_dict
from crawler.storage.store import json_bytes, snapshot_name

START = datetime(2016, 1, 1, 6, 0, 0, tzinfo=UTC)
# Bytes per publication in a snapshot and per row of the CSV, measured on generated data;
# used only to check the disk has room before writing.
SNAPSHOT_BYTES_PER_PUB = 440
CSV_BYTES_PER_ROW = 150
METRICS_SECONDS_TARGET = 10.0
METRICS_MB_TARGET = 500.0

WORDS = (
    "learning",
    "deep",
    "neural",
    "networks",
    "graph",
    "attention",
    "scalable",
    "robust",
    "adaptive",
    "efficient",
    "analysis",
    "citation",
    "bibliometric",
    "survey",
    "model",
    "models",
    "data",
    "driven",
    "inference",
    "causal",
    "bayesian",
    "sparse",
    "quantum",
    "optical",
    "laser",
    "surface",
    "wetting",
    "nanofluids",
    "boiling",
    "heat",
    "transfer",
    "copper",
    "microfluidic",
    "protein",
    "folding",
    "genome",
    "single-cell",
    "clustering",
    "retrieval",
    "language",
    "vision",
    "multimodal",
    "federated",
    "privacy",
    "secure",
    "blockchain",
    "energy",
    "grid",
    "battery",
    "climate",
    "ocean",
    "soil",
    "urban",
    "mobility",
    "health",
)
ACCENTED = ("é", "ü", "ñ", "ç", "ø", "—", "–", "’")


def scholar_id(index: int) -> str:
    return f"bench{index:03d}AAAJ"


def _title(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(6, 14))]
    words[0] = words[0].capitalize()
    roll = rng.random()
    if roll < 0.15:
        words.insert(rng.randint(1, len(words) - 1), rng.choice(words) + ",")
    elif roll < 0.22:
        index = rng.randint(0, len(words) - 1)
        words[index] = f'"{words[index]}"'
    elif roll < 0.30:
        index = rng.randint(0, len(words) - 1)
        words[index] = words[index] + rng.choice(ACCENTED)
    return " ".join(words)


def _authors(rng: random.Random) -> str:
    return ", ".join(
        f"{rng.choice('ABCDEFGHJKLMNPRSTW')}{rng.choice('ABCDEFGHJKLMNPRSTW ').strip()} "
        f"{rng.choice(WORDS).capitalize()}"
        for _ in range(rng.randint(1, 6))
    )


def _pub_id(rng: random.Random, owner: str) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
    return owner + ":" + "".join(rng.choice(alphabet) for _ in range(12))


def _h_index(counts: list[int], at_least: int | None = None) -> int:
    ranked = sorted(counts, reverse=True)
    if at_least is not None:
        return sum(1 for c in ranked if c >= at_least)
    return sum(1 for i, c in enumerate(ranked, start=1) if c >= i)


class _Renderer:
    """Renders one author's snapshots as ``json_bytes(record_to_dict(...))`` would, faster.

    Each publication's fixed lines are rendered once; a snapshot only puts its
    citation numbers between them.
    """

    def __init__(self, pubs: list[Publication]) -> None:
        self.parts: list[tuple[str, str, str]] = []
        for pub in pubs:
            head = (
                "    {\n"
                f'      "author_pub_id": {json.dumps(pub.author_pub_id, ensure_ascii=False)},\n'
                f'      "title": {json.dumps(pub.title, ensure_ascii=False)},\n'
                f'      "authors": {json.dumps(pub.authors, ensure_ascii=False)},\n'
                f'      "venue": {json.dumps(pub.venue, ensure_ascii=False)},\n'
                f'      "year": {json.dumps(pub.year)},\n'
                '      "citations": '
            )
            with_cites = f',\n      "cites_id": {json.dumps(pub.cites_id)}\n    }}'
            without = ',\n      "cites_id": null\n    }'
            self.parts.append((head, with_cites, without))

    def render(self, header: dict[str, object], citations: list[int]) -> bytes:
        header = {**header, "publication_count": len(citations)}
        text = json.dumps(header, indent=2, ensure_ascii=False)
        assert text.endswith('"publications": []\n}')
        blocks = [
            head + str(count) + (with_cites if count else without)
            for (head, with_cites, without), count in zip(self.parts, citations, strict=True)
        ]
        body = ",\n".join(blocks)
        return (text[: -len("[]\n}")] + "[\n" + body + "\n  ]\n}\n").encode("utf-8")


def generate_author(args: tuple[Path, int, int, int]) -> int:
    """Write one author's snapshots; return the bytes written."""
    root, index, snapshots, n_pubs = args
    rng = random.Random(index)
    sid = scholar_id(index)
    folder = root / sid / "snapshots"
    folder.mkdir(parents=True, exist_ok=True)
    pubs = [
        Publication(
            author_pub_id=_pub_id(rng, sid),
            title=_title(rng),
            authors=_authors(rng),
            venue=f"{rng.choice(WORDS).capitalize()} {rng.choice(WORDS).capitalize()} Journal "
            f"{rng.randint(1, 60)} ({rng.randint(1, 12)}), {rng.randint(1, 900)}-{rng.randint(901, 999)}, "
            f"{rng.randint(1995, 2025)}",
            year=rng.randint(1995, 2025) if rng.random() > 0.05 else None,
            citations=0,
            cites_id=str(rng.randint(10**18, 10**19 - 1)),
        )
        for _ in range(n_pubs)
    ]
    weights = [rng.paretovariate(1.2) for _ in pubs]
    citations = [int(w * 5) for w in weights]
    per_year: dict[int, int] = {2015: sum(citations)}
    profile = Profile(
        scholar_id=sid,
        name=f"{rng.choice(WORDS).capitalize()} {rng.choice(WORDS).capitalize()}",
        affiliation="Department of Bench Marks, University of Somewhere",
        interests=("bibliometrics", "benchmarks"),
        email_domain="example.edu",
        homepage=None,
        picture_url=None,
    )
    renderer = _Renderer(pubs)
    written = 0
    for day in range(snapshots):
        when = START + timedelta(days=day, seconds=rng.randint(0, 3600))
        for _ in range(rng.randint(1, 12)):
            pick = rng.choices(range(n_pubs), weights=weights)[0]
            gained = rng.randint(1, 3)
            citations[pick] += gained
            per_year[when.year] = per_year.get(when.year, 0) + gained
        since_year = when.year - 5
        total = sum(citations)
        record = AuthorRecord(
            profile=profile,
            metrics=Metrics(
                citations=total,
                citations_since=sum(c for y, c in per_year.items() if y >= since_year),
                h_index=_h_index(citations),
                h_index_since=max(_h_index(citations) - 3, 0),
                i10_index=_h_index(citations, 10),
                i10_index_since=max(_h_index(citations, 10) - 5, 0),
                since_year=since_year,
            ),
            cites_per_year=tuple(sorted(per_year.items())),
            publications=(),
            source="scholar",
            fetched_at=when,
        )
        header = record_to_dict(record)
        data = renderer.render(header, citations)
        if day == 0:
            full = AuthorRecord(
                profile=profile,
                metrics=record.metrics,
                cites_per_year=record.cites_per_year,
                publications=tuple(
                    Publication(
                        p.author_pub_id, p.title, p.authors, p.venue, p.year, c, p.cites_id if c else None
                    )
                    for p, c in zip(pubs, citations, strict=True)
                ),
                source="scholar",
                fetched_at=when,
            )
            if data != json_bytes(record_to_dict(full)):
                raise SystemExit(f"generated snapshot of {sid} differs from json_bytes(record_to_dict(...))")
        (folder / snapshot_name(when)).write_bytes(data)
        written += len(data)
    return written


def generate(root: Path, authors: int, snapshots: int, publications: int, workers: int) -> int:
    jobs = [(root, i, snapshots, publications) for i in range(authors)]
    with multiprocessing.Pool(workers) as pool:
        return sum(pool.imap_unordered(generate_author, jobs))


def folder_arguments(description: str | None) -> argparse.ArgumentParser:
    """A parser with the options that size, place and keep the generated folder."""
    parser = argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--authors", type=int, default=50)
    parser.add_argument("--snapshots", type=int, default=3650, help="snapshots per author (one a day)")
    parser.add_argument("--publications", type=int, default=300, help="publications per snapshot")
    parser.add_argument(
        "--workers", type=int, default=os.cpu_count() or 1, help="processes generating the folder"
    )
    parser.add_argument("--tmp", type=Path, default=None, help="where to make the temporary folder")
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="measure this folder (made by --keep) instead of making one",
    )
    parser.add_argument("--keep", action="store_true", help="keep the generated folder")
    return parser


def prepare_folder(data: Path, args: argparse.Namespace) -> tuple[float | None, int, int]:
    """Generate the folder ``data`` as ``args`` ask, unless ``--data-dir`` names one.

    Returns the seconds generation took (``None``: not generated), the bytes on disk and the files.
    """
    generation = None
    if args.data_dir is None:
        print(
            f"generating {args.authors} x {args.snapshots} x {args.publications} in {data} ...",
            file=sys.stderr,
        )
        start = time.perf_counter()
        generate(data, args.authors, args.snapshots, args.publications, args.workers)
        generation = time.perf_counter() - start
    return generation, disk_usage(data), sum(len(f) for _, _, f in os.walk(data))


def print_setting(args: argparse.Namespace, files: int, on_disk: int, generation: float | None) -> None:
    """The machine and the folder, above a table of figures."""
    print(
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"load average at the end {os.getloadavg()[0]:.1f} (other work on the machine slows wall times)"
    )
    print(
        f"Folder: {args.authors} authors x {args.snapshots} snapshots x {args.publications} publications: "
        f"{files:,} snapshot files, {on_disk / 2**30:.2f} GiB on disk"
        + (f" (generated in {generation:.0f} s)" if generation is not None else "")
    )
    print()


def no_room(args: argparse.Namespace, need: float, tmp_root: Path) -> bool:
    """Whether the folder to generate would not fit (said on stderr)."""
    free = shutil.disk_usage(args.data_dir or tmp_root).free
    if args.data_dir is None and free < need * 1.1:
        print(
            f"error: need about {need / 1e9:.1f} GB free in {tmp_root}, have {free / 1e9:.1f} GB "
            "(use --authors/--snapshots for a smaller folder)",
            file=sys.stderr,
        )
        return True
    return False


def disk_usage(root: Path) -> int:
    """Bytes the folder takes on disk (allocated blocks, as ``du`` counts)."""
    total = 0
    for folder, _dirs, files in os.walk(root):
        for name in files:
            total += os.lstat(os.path.join(folder, name)).st_blocks * 512
    return total


def evict(root: Path) -> None:
    """Drop the folder's files from the page cache, so the next read comes from the disk.

    ``posix_fadvise(DONTNEED)`` needs no privilege but only drops clean pages,
    hence the ``sync`` first.
    """
    os.sync()
    for folder, _dirs, files in os.walk(root):
        for name in files:
            fd = os.open(os.path.join(folder, name), os.O_RDONLY)
            try:
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)


def _read_kib(path: str, key: str) -> int:
    try:
        with open(path, encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith(key):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            ppid = _read_kib(f"/proc/{entry}/status", "PPid:")
            children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


@dataclass
class Measure:
    seconds: float
    cpu_seconds: float
    pss_mib: float
    rss_mib: float
    status: int


def measure(command: list[str], env: dict[str, str]) -> Measure:
    """Run ``command``: wall time, CPU time of it and its children, and its tree's peak memory.

    PSS (proportional set size) counts a page shared by forked workers once in
    total; the RSS sum counts it in every process that maps it.  Both are
    sampled every 20 ms.  CPU time (user + system, from ``wait4``) hardly
    depends on what else the machine is doing; wall time does.
    """
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=err, env=env)
        peak_pss = peak_rss = 0
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            pids = _tree(proc.pid)
            peak_pss = max(peak_pss, sum(_read_kib(f"/proc/{p}/smaps_rollup", "Pss:") for p in pids))
            peak_rss = max(peak_rss, sum(_read_kib(f"/proc/{p}/status", "VmRSS:") for p in pids))
            time.sleep(0.02)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            err.seek(0)
            print(
                f"{' '.join(command)} failed ({proc.returncode}): {err.read().decode(errors='replace')}",
                file=sys.stderr,
            )
    return Measure(
        seconds, usage.ru_utime + usage.ru_stime, peak_pss / 1024, peak_rss / 1024, proc.returncode
    )


FLOOR_TARGET = 2.0


def against_floor(data: Path, work: Path, runs: int, before: str | None) -> int:
    """``export --what metrics`` beside its floor and ``python -c pass``, in turn; print the table."""
    # The bytecode cache is written in the first, untimed turn, as an install writes it.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    out = work / "export.csv"
    floor = Path(__file__).resolve().parent / "floor_export_metrics.py"
    export = [sys.executable, "-P", "-m", "crawler", "export", "--data-dir", str(data), "--what", "metrics"]
    commands: dict[str, tuple[list[str], dict[str, str]]] = {
        "`export --what metrics`": ([*export, "--out", str(out)], env),
        "floor (`bench/floor_export_metrics.py`)": ([sys.executable, str(floor), str(data), str(out)], env),
        "`python -c pass`": ([sys.executable, "-c", "pass"], env),
    }
    if before:
        commands["`export --what metrics`, before"] = (
            [*export, "--out", str(out)],
            {**env, "PYTHONPATH": before},
        )
    walls: dict[str, list[float]] = {name: [] for name in commands}
    cpus: dict[str, list[float]] = {name: [] for name in commands}
    loads = [os.getloadavg()[0]]
    for turn in range(runs + 1):
        for name, (command, command_env) in commands.items():
            start = time.perf_counter()
            proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, env=command_env)
            _, status, usage = os.wait4(proc.pid, 0)
            if os.waitstatus_to_exitcode(status) != 0:
                raise SystemExit(f"{' '.join(command)} failed")
            if turn:
                walls[name].append(time.perf_counter() - start)
                cpus[name].append(usage.ru_utime + usage.ru_stime)
        loads.append(os.getloadavg()[0])
    floor_name = "floor (`bench/floor_export_metrics.py`)"
    floor_wall, floor_cpu = statistics.median(walls[floor_name]), statistics.median(cpus[floor_name])
    print(f"{runs} turns; load average (1 min) from {min(loads):.1f} to {max(loads):.1f}\n")
    print("| process | median (s) | min (s) | CPU, median (s) | median × floor | CPU × floor |")
    print("|---|---:|---:|---:|---:|---:|")
    for name in commands:
        wall, cpu = statistics.median(walls[name]), statistics.median(cpus[name])
        print(
            f"| {name} | {wall:.3f} | {min(walls[name]):.3f} | {cpu:.3f} | "
            f"{wall / floor_wall:.2f}× | {cpu / floor_cpu:.2f}× |"
        )
    ratio = statistics.median(walls["`export --what metrics`"]) / floor_wall
    met = ratio <= FLOOR_TARGET
    print(
        f"\n`export --what metrics`: {ratio:.2f}× its floor's wall time (target ≤ {FLOOR_TARGET:g}×): "
        f"{'met' if met else 'MISSED'}"
    )
    print(f"Measured {format_time(datetime.now(UTC))}.")
    return 0 if met else 1


# The export command with its worker processes turned off: the pool's alternative.
ONE_PROCESS = (
    "import sys; import crawler.history.export as export; "
    "export.default_workers = lambda what='metrics': 1; "
    "from crawler.cli import main; main(sys.argv[1:], prog_name='scholar-stats')"
)


def main(argv: list[str] | None = None) -> int:
    parser = folder_arguments(__doc__)
    parser.add_argument("--skip-publications", action="store_true", help="measure metrics and years only")
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs of each metrics and years export (median reported)"
    )
    parser.add_argument(
        "--pool-vs-one", action="store_true", help="each export also in one process, side by side"
    )
    parser.add_argument(
        "--against-floor",
        type=int,
        metavar="RUNS",
        help="only `export --what metrics` beside its floor, RUNS turns (see the docstring)",
    )
    parser.add_argument("--before", metavar="CHECKOUT", help="with --against-floor: another checkout too")
    args = parser.parse_args(argv)
    if args.against_floor:
        args.skip_publications = True

    n_snapshots = args.authors * args.snapshots
    need = n_snapshots * (args.publications * SNAPSHOT_BYTES_PER_PUB + 2048)
    if not args.skip_publications:
        need += n_snapshots * args.publications * CSV_BYTES_PER_ROW
    tmp_root = args.tmp or Path(tempfile.gettempdir())
    if no_room(args, need, tmp_root):
        return 2

    work = Path(tempfile.mkdtemp(prefix="scholar-stats-bench-", dir=tmp_root))
    data = args.data_dir or work / "data"
    try:
        generation, on_disk, files = prepare_folder(data, args)
        if args.against_floor:
            print_setting(args, files, on_disk, generation)
            return against_floor(data, work, args.against_floor, args.before)
        env = dict(os.environ)
        exe = [sys.executable, "-m", "crawler", "export", "--data-dir", str(data)]
        one_process = [sys.executable, "-c", ONE_PROCESS, "export", "--data-dir", str(data)]
        variants = [("command", exe), ("one", one_process)] if args.pool_vs_one else [("command", exe)]
        runs = [
            ("metrics", "cold", ["--what", "metrics"]),
            ("metrics", "warm", ["--what", "metrics"]),
            ("years --all", "warm", ["--what", "years", "--all"]),
            ("metrics --freq monthly", "warm", ["--what", "metrics", "--freq", "monthly"]),
        ]
        if not args.skip_publications:
            runs.append(("publications", "cold", ["--what", "publications"]))
        rows = []
        for label, cache, extra in runs:
            for variant, command in variants:
                out = work / "export.csv"
                repeat = 1 if label == "publications" else args.repeat
                results = []
                for _ in range(repeat):
                    if cache == "cold":
                        evict(data)
                    print(f"export --what {label} ({cache}, {variant}) ...", file=sys.stderr)
                    results.append(measure([*command, *extra, "--out", str(out)], env))
                size = out.stat().st_size if out.exists() else 0
                with out.open("rb") as fh:
                    records = sum(chunk.count(b"\r\n") for chunk in iter(lambda fh=fh: fh.read(1 << 24), b""))
                out.unlink(missing_ok=True)
                rows.append((label, cache, variant, results, size, records))

        print_setting(args, files, on_disk, generation)
        print(
            "| export | page cache | processes | runs | time (s), median (min-max) | "
            "CPU (s) | peak PSS (MiB) | "
            "peak RSS sum (MiB) | output (MiB) | CSV lines |"
        )
        print("|---|---|---|---:|---:|---:|---:|---:|---:|---:|")
        for label, cache, variant, results, size, records in rows:
            times = sorted(r.seconds for r in results)
            spread = f" ({times[0]:.1f}-{times[-1]:.1f})" if len(times) > 1 else ""
            failed = "" if all(r.status == 0 for r in results) else " (failed)"
            print(
                f"| `--what {label}`{failed} | {cache} | {variant} | {len(results)} | "
                f"{statistics.median(times):.1f}{spread} | "
                f"{statistics.median(r.cpu_seconds for r in results):.1f} | "
                f"{max(r.pss_mib for r in results):.0f} | "
                f"{max(r.rss_mib for r in results):.0f} | {size / 2**20:.1f} | {records:,} |"
            )
        metrics_rows = [r for r in rows if r[0] == "metrics" and r[2] == "command"]
        missed = [
            r
            for r in metrics_rows
            if statistics.median(m.seconds for m in r[3]) >= METRICS_SECONDS_TARGET
            or max(m.pss_mib for m in r[3]) >= METRICS_MB_TARGET
            or any(m.status for m in r[3])
        ]
        print()
        print(
            f"Target for `--what metrics`: under {METRICS_SECONDS_TARGET:.0f} s and "
            f"{METRICS_MB_TARGET:.0f} MB: "
            + ("met" if not missed else "missed (" + ", ".join(r[1] for r in missed) + ")")
        )
        print(f"Measured {format_time(datetime.now(UTC))}.")
        return 1 if missed else 0
    finally:
        if args.keep and args.data_dir is None:
            print(f"kept {data}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
