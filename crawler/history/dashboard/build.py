"""Write the static dashboard: ``index.html``, one page per author, their exports, and the assets.

Layout of the output folder::

    index.html                   every author as a card; the group's totals over time
    <scholar_id>/index.html      the author's page
    <scholar_id>/metrics.csv     the rows of ``export --what metrics --author <scholar_id>`` (and .json)
    <scholar_id>/publications.csv  the page's publication table (and .json)
    <scholar_id>/years.csv       the per-year histogram of the newest snapshot
    assets/dashboard.css, assets/dashboard.js
    .scholar-stats-site          the files this folder got from the last build

In the data folder (``<data>/site``, the default) it is published with the
data: ``publish`` takes a ``site`` folder that holds the marker.

Nothing is fetched when a page is viewed: the pages link only to each
other, the exports and ``assets/``, and say so to the browser in a
Content-Security-Policy.  Files whose content would not change are not
written; files of an earlier build that this one did not make (an author
who left) are removed, and nothing else.  A folder that is not empty and was
not made by this command is refused, so ``--out .`` cannot overwrite a
homepage.

Each author is read and written by a worker process (as ``export`` does);
the main process only gathers the cards and draws the index.  What draws
the pages is loaded only when a page is to be drawn: a build with nothing
new to draw loads neither the template engine nor the readers.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import logging
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from crawler.errors import ScholarStatsError, StorageError, UsageError
from crawler.history.dashboard.fingerprints import (
    MARKER_FORMAT,
    author_fingerprint,
    card_from_json,
    card_to_json,
    site_version,
    snapshot_names,
)
from crawler.history.snapshots import resolve_authors
from crawler.models import SCHOLAR_ID_RE, utc_now
from crawler.storage.atomic import atomic_write_bytes
from crawler.storage.readfile import MAX_OUTPUT_BYTES, MAX_SETTINGS_BYTES, json_value, read_bounded
from crawler.storage.store import SITE_MARKER, BadSnapshot, remove_file, sync_folders, write_if_changed

log = logging.getLogger(__name__)

MARKER = SITE_MARKER
ASSETS = ("dashboard.css", "dashboard.js")
_ASSETS = Path(__file__).resolve().parent / "assets"
DEFAULT_TITLE = "Citations"
# Above this many snapshots in all, authors are read by worker processes.
PARALLEL_MIN_SNAPSHOTS = 2000
# While authors are drawn, the cyclic garbage collector runs after this many new objects
# (Python's default: 700).
GC_THRESHOLD = 50_000
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "base-uri 'none'; form-action 'none'"
)


@dataclass
class SiteResult:
    out: Path
    authors: list[str] = field(default_factory=list)
    written: list[str] = field(default_factory=list)
    """Files (relative to ``out``) whose content changed."""
    removed: list[str] = field(default_factory=list)
    bad: list[BadSnapshot] = field(default_factory=list)
    largest_page: int = 0
    """Bytes of the largest author page."""


@dataclass(frozen=True)
class _AuthorJob:
    data_dir: Path
    out: Path
    scholar_id: str
    as_of: datetime
    title: str
    quiet: bool


# -- templates -------------------------------------------------------------------------

_ENV: Any = None


def _env() -> Any:
    global _ENV
    if _ENV is None:
        import jinja2

        from crawler.history.dashboard import charts

        _ENV = jinja2.Environment(
            loader=jinja2.PackageLoader("crawler.history.dashboard", "templates"),
            bytecode_cache=_template_cache(jinja2),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        _ENV.filters["number"] = charts.number
        _ENV.filters["signed"] = charts.signed
        _ENV.filters["day"] = lambda text: (text or "")[:10]
        _ENV.filters["trend"] = lambda value: (
            "up" if value is not None and value > 0 else "down" if value is not None and value < 0 else ""
        )
    return _ENV


def _template_cache(jinja2: Any) -> Any:
    """Compiled templates kept between runs in the user's cache folder (``$XDG_CACHE_HOME``, else
    ``~/.cache``), under ``scholar-stats/templates/<jinja2's version>``: compiling them is a tenth
    of a small site's build.  jinja2 checks each against its template's text and Python's version;
    one that cannot be read or written is compiled as without a cache."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(base):
        base = os.path.join(os.path.expanduser("~"), ".cache")
        if not os.path.isabs(base):
            return None
    folder = Path(base) / "scholar-stats" / "templates" / jinja2.__version__

    class Cache(jinja2.BytecodeCache):  # type: ignore[misc]
        def load_bytecode(self, bucket: Any) -> None:
            if not _private_folder(folder):
                return  # compiled anew: code is loaded only from a folder no one else can write
            try:
                bucket.bytecode_from_string(
                    read_bounded(folder / f"{bucket.key}.cache", limit=MAX_SETTINGS_BYTES)
                )
            except Exception:  # unpickling a damaged file raises about anything: compiled anew
                bucket.reset()

        def dump_bytecode(self, bucket: Any) -> None:
            try:
                folder.mkdir(mode=0o700, parents=True, exist_ok=True)
                if not _private_folder(folder):
                    return
                atomic_write_bytes(
                    folder / f"{bucket.key}.cache", bucket.bytecode_to_string(), jail=folder, durable=False
                )
            except (OSError, ScholarStatsError) as exc:
                log.debug("compiled template not kept in %s: %s", folder, exc)

    return Cache()


def _private_folder(folder: Path) -> bool:
    """Whether ``folder`` is a real folder (not a link) of the user running the build, which
    neither its group nor others may write: compiled templates are code, and are loaded only
    from such a folder."""
    try:
        info = os.lstat(folder)
    except OSError:
        return False
    private = stat.S_ISDIR(info.st_mode) and info.st_uid == os.geteuid() and not info.st_mode & 0o022
    if not private:
        log.debug("compiled templates not kept in %s: not a private folder of this user", folder)
    return private


def _compile_templates() -> None:
    """Compile every template now, in the process the workers are forked from,
    so that they inherit the compiled templates instead of each compiling them."""
    env = _env()
    for name in env.list_templates(extensions=["html"]):
        env.get_template(name)


def _render(template: str, **context: Any) -> bytes:
    page: str = _env().get_template(template).render(csp=CSP, **context)
    return page.encode("utf-8")


# -- one author --------------------------------------------------------------------------


def _write(out: Path, relative: str, data: bytes, written: list[str]) -> None:
    # Derived files: renamed into place without an fsync each, one per folder after (sync_folders).
    # The output folder is the jail: a link inside it leading out is never written through.
    if write_if_changed(out / relative, data, jail=out, durable=False):
        written.append(relative)


def _load_drawing() -> None:
    """Load what reads and draws an author: in the process the workers are forked from, before
    they are, so that they share it instead of each loading it."""
    import crawler.history.dashboard.author_page
    import crawler.history.dashboard.exports
    import crawler.history.dashboard.timeline  # noqa: F401


def _author_job(job: _AuthorJob) -> tuple[dict[str, Any], list[str], list[str], list[BadSnapshot], int]:
    from crawler.history.dashboard.author_page import author_card, author_context
    from crawler.history.dashboard.exports import author_exports
    from crawler.history.dashboard.timeline import load_author

    history = load_author(job.data_dir, job.scholar_id, as_of=job.as_of, quiet=job.quiet)
    page = _render("author.html", root="../", **author_context(history, job.title))
    written: list[str] = []
    files = [f"{job.scholar_id}/index.html"]
    _write(job.out, files[0], page, written)
    for name, data in author_exports(history).items():
        files.append(f"{job.scholar_id}/{name}")
        _write(job.out, files[-1], data, written)
    sync_folders([job.out / job.scholar_id])
    return author_card(history), files, written, history.bad, len(page)


# -- the index and the folder -----------------------------------------------------------


def _check_out(out: Path) -> dict[str, Any]:
    """The marker of the previous build; refuses a folder that holds anything else."""
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} is a file, not a folder")
    marker = out / MARKER
    if not out.exists():
        return {}
    try:
        # The marker keeps every author's card: up to the size of an output file.
        previous = json_value(read_bounded(marker, limit=MAX_OUTPUT_BYTES, error=UsageError))
    except FileNotFoundError:
        if any(out.iterdir()):
            raise UsageError(
                f"--out {out} is not empty and was not made by `scholar-stats site` (no {MARKER}); "
                "choose a new or empty folder"
            ) from None
        return {}
    except (OSError, ValueError) as exc:
        raise StorageError(f"cannot read {marker}: {exc}") from exc
    return previous if isinstance(previous, dict) else {}


def _strings(value: Any) -> list[str]:
    return [f for f in value if isinstance(f, str)] if isinstance(value, list) else []


def _remove_old(out: Path, old: list[str], keep: set[str]) -> list[str]:
    removed = []
    root = os.path.abspath(out)
    for relative in old:
        if relative in keep:
            continue
        path = out / relative
        # Only files inside the folder: the marker is data, not a list to trust.
        if not os.path.abspath(path).startswith(root + os.sep):
            continue
        # remove_file refuses a way through a link leading out of the folder (the jail).
        if remove_file(path, jail=out, durable=False):
            removed.append(relative)
            with contextlib.suppress(OSError):
                if path.parent != out and not path.parent.is_symlink():
                    path.parent.rmdir()
    return removed


@dataclass
class _Plan:
    """What a build does with each author: kept as the previous build drew it, or read and drawn."""

    fingerprints: dict[str, str | None] = field(default_factory=dict)
    kept: dict[str, tuple[dict[str, Any], list[str]]] = field(default_factory=dict)
    """Cards and files of the authors whose fingerprint did not change."""
    jobs: list[_AuthorJob] = field(default_factory=list)
    snapshots: int = 0
    """Snapshot files of the authors to read."""


def _plan(
    data_dir: Path, out: Path, ids: list[str], previous: dict[str, Any], as_of: datetime, title: str
) -> _Plan:
    old = previous.get("authors") if previous.get("format") == MARKER_FORMAT else None
    old = old if isinstance(old, dict) else {}
    plan = _Plan()
    for scholar_id in ids:
        names = snapshot_names(data_dir, scholar_id)
        fingerprint = (
            author_fingerprint(data_dir, scholar_id, names, title=title, as_of=as_of) if names else None
        )
        plan.fingerprints[scholar_id] = fingerprint
        entry = old.get(scholar_id)
        if fingerprint is not None and isinstance(entry, dict) and entry.get("fingerprint") == fingerprint:
            card = card_from_json(entry.get("card"), scholar_id)
            files = _strings(entry.get("files"))
            ours = all(f.startswith(f"{scholar_id}/") and ".." not in f for f in files)
            # A page removed by hand since is drawn again.
            if card is not None and files and ours and all(os.path.isfile(out / f) for f in files):
                plan.kept[scholar_id] = (card, files)
                continue
        plan.snapshots += len(names)
        plan.jobs.append(_AuthorJob(data_dir, out, scholar_id, as_of, title, False))
    return plan


def _index_key(plan: _Plan, ids: list[str], title: str) -> str | None:
    """What the index is drawn from: every author's fingerprint and the title (``None``: unknown)."""
    parts = [site_version(), title]
    for scholar_id in ids:
        fingerprint = plan.fingerprints[scholar_id]
        if fingerprint is None:
            return None
        parts.append(f"{scholar_id}={fingerprint}")
    return hashlib.blake2b("\n".join(parts).encode("utf-8"), digest_size=20).hexdigest()


def _marker_bytes(index_key: str | None, files: list[str], authors: dict[str, dict[str, Any]]) -> bytes:
    """The marker, one author a line (a day with one new snapshot changes one line)."""
    lines = [
        "{",
        f'  "format": {MARKER_FORMAT},',
        f'  "version": {json.dumps(site_version())},',
        f'  "index": {json.dumps(index_key)},',
        f'  "files": {json.dumps(sorted(files), indent=None)},',
        '  "authors": {',
    ]
    entries = [
        f"    {json.dumps(a)}: {json.dumps(authors[a], separators=(',', ':'), sort_keys=True)}"
        for a in sorted(authors)
    ]
    lines.append(",\n".join(entries))
    lines += ["  }", "}", ""]
    return "\n".join(line for line in lines if line).encode("utf-8") + b"\n"


def build_site(
    data_dir: Path,
    out: Path,
    *,
    title: str | None = None,
    authors: tuple[str, ...] | list[str] = (),
    as_of: datetime | None = None,
    workers: int | None = None,
) -> SiteResult:
    """Write the dashboard of ``authors`` (default: every author in ``data_dir``) to ``out``.

    Each author's page counts its changes over 30 and 365 days back from its
    newest snapshot; ``as_of`` (default: now) leaves out snapshots taken after
    it.  An author whose files did not change since the previous build into
    ``out`` is neither read nor drawn again (``fingerprints``).  Raises
    ``UsageError`` for an unknown author or an ``out`` that is not ours,
    ``StorageError`` when a file cannot be written.
    """
    data_dir, out = Path(data_dir), Path(out)
    as_of = (as_of or utc_now()).astimezone(UTC)
    title = title or DEFAULT_TITLE
    ids = resolve_authors(data_dir, authors)
    odd = [a for a in ids if not SCHOLAR_ID_RE.match(a)]
    for folder in odd:
        log.warning("%s: not a Scholar ID (12 letters, digits, - or _); no page made", folder)
    ids = [a for a in ids if SCHOLAR_ID_RE.match(a)]
    previous = _check_out(out)
    result = SiteResult(out=out, authors=ids)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StorageError(f"cannot make {out}: {exc.strerror or exc}") from exc
    plan = _plan(data_dir, out, ids, previous, as_of, title)
    with _fewer_collections():
        cards, entries = _draw_authors(plan, workers, result)
    files = [f for entry in entries.values() for f in entry["files"]]
    newest = [c["as_of"] for c in cards.values() if c["as_of"] is not None]
    index_as_of = datetime.fromtimestamp(max(newest), UTC) if newest else as_of
    index_key = _index_key(plan, ids, title)
    if index_key is None or index_key != previous.get("index") or not (out / "index.html").is_file():
        ordered = sorted(
            (cards[a] for a in ids),
            key=lambda c: (
                -(c["cards"][0]["value"] or 0) if c["cards"] else 0,
                c["name"].casefold(),
                c["scholar_id"],
            ),
        )
        from crawler.history.dashboard.index_page import index_context

        page = _render("index.html", root="", **index_context(ordered, title, index_as_of))
        _write(out, "index.html", page, result.written)
    files.append("index.html")
    same_version = previous.get("version") == site_version()
    for name in ASSETS:
        files.append(f"assets/{name}")
        if same_version and (out / files[-1]).is_file():
            continue
        # Beside this module, as site_version reads them (importlib.resources costs more to import).
        data = read_bounded(_ASSETS / name, limit=MAX_SETTINGS_BYTES)
        _write(out, files[-1], data, result.written)
    result.removed = _remove_old(out, _strings(previous.get("files")), set(files))
    _write(out, MARKER, _marker_bytes(index_key, files, entries), result.written)
    sync_folders([out, out / "assets"])
    return result


@contextlib.contextmanager
def _fewer_collections() -> Iterator[None]:
    """Drawing a page makes some hundred thousand short-lived objects and hardly a cycle, freed as
    they go out of use; with the default threshold the collector runs over and over to find
    nothing (a tenth of the CPU time).  Workers forked meanwhile inherit the threshold."""
    before = gc.get_threshold()
    gc.set_threshold(GC_THRESHOLD, *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)


def _draw_authors(
    plan: _Plan, workers: int | None, result: SiteResult
) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """Every author's card and marker entry: kept ones from the marker, the others read and drawn."""
    cards: dict[str, dict[str, Any]] = {}
    entries: dict[str, dict[str, Any]] = {}
    for scholar_id, (card, files) in plan.kept.items():
        cards[scholar_id] = card
        entries[scholar_id] = {
            "fingerprint": plan.fingerprints[scholar_id],
            "files": files,
            "card": card_to_json(card),
        }
    if not plan.jobs:
        return cards, entries
    many = plan.snapshots >= PARALLEL_MIN_SNAPSHOTS and len(plan.jobs) > 1
    n_workers = (workers or _default_workers()) if many else 1
    jobs = [replace(job, quiet=n_workers > 1) for job in plan.jobs]
    _compile_templates()
    _load_drawing()
    for card, author_files, written, bad, size in _run_jobs(jobs, n_workers):
        if n_workers > 1:
            for item in bad:
                log.warning("corrupt snapshot %s: %s; skipped", item.path, item.reason)
        result.bad.extend(bad)
        scholar_id = card["scholar_id"]
        cards[scholar_id] = card
        entries[scholar_id] = {
            "fingerprint": plan.fingerprints[scholar_id],
            "files": author_files,
            "card": card_to_json(card),
        }
        result.written.extend(written)
        result.largest_page = max(result.largest_page, size)
    return cards, entries


def _default_workers() -> int:
    from crawler.history.export import default_workers

    return default_workers("metrics")


def _run_jobs(jobs: list[_AuthorJob], workers: int) -> Iterator[Any]:
    """Each author's job, in order; by worker processes when there are several.  One process
    does not load the export's pool (nor the group's totals beside it)."""
    if workers <= 1:
        return map(_author_job, jobs)
    from crawler.history.export import run_jobs

    return run_jobs(_author_job, jobs, workers)
