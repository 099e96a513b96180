"""Snapshots from what users already have: a git history of ``gs_data.json``, saved profile pages.

Both end in ``import_records``, which treats each imported record as ``run``
treats a fetched one, but at its own time in the past:

* it is skipped when the data folder already says the same thing at that
  time (a snapshot at the same second with the same content, or the snapshot
  just before it has the same content), so importing twice adds nothing;
* it passes the guard (``crawler.policy.guard.check``) against the snapshot
  immediately before it in time, not the newest;
* it is written atomically by ``AuthorStore.write_snapshot`` under the data
  folder's lock;
* when it ends up the newest snapshot, the outputs (``gs_data.json``, badges)
  are rebuilt from it with ``crawler.outputs.write.write_outputs``.

Versions of ``gs_data.json`` are read by ``crawler.outputs.gs_data.record_from_gs_data``,
next to its writer.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from crawler.branch.git import Git, git_reason
from crawler.errors import GuardRefused, ParseError, ScholarStatsError, UsageError
from crawler.history import DEFAULT_PATH
from crawler.history.periods import parse_date
from crawler.history.snapshots import read_record_or_none
from crawler.models import (
    AuthorRecord,
    format_time,
)
from crawler.outputs.badges import BadgeStyle
from crawler.outputs.gs_data import record_from_gs_data
from crawler.outputs.write import write_outputs
from crawler.policy.guard import GuardOptions, check, same_content
from crawler.storage.readfile import MAX_OUTPUT_BYTES, MAX_PAGE_BYTES, json_value, read_bounded
from crawler.storage.store import DEFAULT_BRANCH, AuthorStore, locked, snapshot_refs

log = logging.getLogger(__name__)

_C_LOCALE = {"LC_ALL": "C"}


# -- importing records --------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """A record to import and where it came from (a commit, a file), for messages."""

    label: str
    record: AuthorRecord


@dataclass
class ImportOutcome:
    imported: list[Path] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    """Already in the data folder (same content at that time)."""
    refused: list[str] = field(default_factory=list)
    """Kept out by the guard, with the reason."""
    invalid: list[str] = field(default_factory=list)
    """Not a usable file (a git version that is not an author object)."""
    notes: list[str] = field(default_factory=list)
    outputs: list[Path] = field(default_factory=list)
    outputs_rebuilt: bool = False


def _already_there(store: AuthorStore, record: AuthorRecord) -> tuple[str | None, AuthorRecord | None]:
    """Why ``record`` is already in the folder (or ``None``), and the snapshot just before its time."""
    assert record.fetched_at is not None
    when = record.fetched_at.replace(microsecond=0)
    refs = snapshot_refs(store.data_dir, store.scholar_id)
    for ref in refs:
        if ref.time == when:
            existing = read_record_or_none(ref, quiet=True)
            if existing is not None and same_content(existing, record):
                return f"already imported as {ref.path.name}", existing
    previous = None
    for ref in reversed([r for r in refs if r.time <= when]):
        previous = read_record_or_none(ref)
        if previous is not None:
            if same_content(previous, record):
                return f"same content as {ref.path.name}", previous
            break
    return None, previous


def import_records(
    data_dir: Path,
    candidates: Sequence[Candidate],
    *,
    scholar_id: str,
    guard: GuardOptions | None = None,
    badge: BadgeStyle | None = None,
    accept_drop: bool = False,
    allow_partial: bool = False,
) -> ImportOutcome:
    """Add ``candidates`` (each with its ``fetched_at``) as snapshots, oldest first, under the lock.

    With ``allow_partial`` an incomplete record (a saved page whose "Show
    more" was still enabled) is stored, marked incomplete, and its smaller
    publication count does not count as a drop.
    """
    guard = guard or GuardOptions()
    outcome = ImportOutcome()
    store = AuthorStore(data_dir, scholar_id)
    written: dict[Path, AuthorRecord] = {}
    ordered = sorted(candidates, key=lambda c: c.record.fetched_at or datetime.min.replace(tzinfo=UTC))
    with locked(data_dir):
        for candidate in ordered:
            record = candidate.record
            if record.fetched_at is None:
                raise ValueError(f"{candidate.label}: an imported record needs a time")
            record = record.with_fetched_at(record.fetched_at.astimezone(UTC).replace(microsecond=0))
            reason, previous = _already_there(store, record)
            if reason is not None:
                log.info("%s: skipped, %s", candidate.label, reason)
                outcome.skipped.append(f"{candidate.label}: {reason}")
                continue
            partial = allow_partial and not record.complete
            try:
                notes = check(
                    previous,
                    record,
                    expected_id=scholar_id,
                    options=guard,
                    accept_drop=accept_drop,
                    partial=partial,
                )
            except GuardRefused as exc:
                log.warning("%s: refused: %s", candidate.label, exc)
                outcome.refused.append(f"{candidate.label}: {exc}")
                continue
            outcome.notes.extend(f"{candidate.label}: {n}" for n in notes)
            path = store.write_snapshot(record)
            written[path] = record
            outcome.imported.append(path)
            log.info("%s: imported as %s", candidate.label, path.name)
        refs = snapshot_refs(data_dir, scholar_id)
        newest = refs[-1].path if refs else None
        if newest is not None and newest in written:
            outcome.outputs = write_outputs(store, written[newest], badge or BadgeStyle())
            outcome.outputs_rebuilt = True
    return outcome


# -- git ------------------------------------------------------------------------------


@dataclass(frozen=True)
class GitVersion:
    sha: str
    time: datetime


def open_repository(repo: Path) -> Git:
    """The repository the user named to read history from; its failures are usage errors."""
    repo = Path(repo)
    if not repo.is_dir():
        raise UsageError(f"no such folder: {repo}")
    return Git.open(repo, error=UsageError, purpose="for import-git", hint="")


def _resolve_branch(git: Git, branch: str, where: Path) -> str:
    """The commit of ``branch``: the local branch, else ``origin/<branch>`` (a fresh clone has only that)."""
    for candidate in (branch, f"origin/{branch}"):
        sha = git.rev_parse(candidate)
        if sha is not None:
            return sha
    raise UsageError(f"no branch {branch} (nor origin/{branch}) in {where}")


def git_versions(
    repo: Path, branch: str = DEFAULT_BRANCH, path: str = DEFAULT_PATH
) -> tuple[Git, list[GitVersion]]:
    """The repository, and the commits on ``branch`` that changed ``path``, oldest first, with
    their committer time (UTC).
    """
    git = open_repository(repo)
    rev = _resolve_branch(git, branch, repo)
    result = git.run("log", "--reverse", "--format=%H %ct", rev, "--", path, env=_C_LOCALE, check=False)
    if result.returncode != 0:
        raise UsageError(f"git log failed in {repo}: {git_reason(result.stderr)}")
    versions = []
    for line in result.stdout.decode().splitlines():
        sha, _, stamp = line.partition(" ")
        if sha and stamp.strip().isdigit():
            versions.append(GitVersion(sha, datetime.fromtimestamp(int(stamp), UTC)))
    return git, versions


def git_file(git: Git, sha: str, path: str, *, limit: int = MAX_OUTPUT_BYTES) -> bytes | None:
    """``path`` as committed in ``sha``; ``None`` when that commit deleted it.

    A version larger than ``limit`` is a ``ValueError`` saying so, and is never
    read (``cat-file -s`` first): a repository is someone else's to fill.
    """
    size = git.run("cat-file", "-s", f"{sha}:{path}", env=_C_LOCALE, check=False)
    if size.returncode != 0:
        return None
    if int(size.stdout.strip() or 0) > limit:
        raise ValueError(
            f"{sha[:12]}:{path} is {int(size.stdout)} bytes, more than the {limit} a file of its kind may be"
        )
    result = git.run("show", f"{sha}:{path}", env=_C_LOCALE, check=False)
    return result.stdout if result.returncode == 0 else None


def git_candidates(
    repo: Path,
    *,
    scholar_id: str,
    branch: str = DEFAULT_BRANCH,
    path: str = DEFAULT_PATH,
    outcome: ImportOutcome,
) -> list[Candidate]:
    """One candidate per usable committed version; unusable ones are warned about and listed
    in ``outcome.invalid``.
    """
    git, versions = git_versions(repo, branch, path)
    if not versions:
        raise UsageError(f"{path} was never committed on {branch} in {repo}")
    candidates = []
    for version in versions:
        label = f"{version.sha[:12]}:{path}"
        try:
            body = git_file(git, version.sha, path)
            if body is None:
                log.info("%s: deleted in this commit; skipped", label)
                continue
            record = record_from_gs_data(json_value(body), scholar_id)
        except ValueError as exc:
            # json.JSONDecodeError and UnicodeDecodeError are ValueErrors too.
            log.warning(
                "%s (commit %s): not a gs_data.json author object: %s; skipped", path, version.sha, exc
            )
            outcome.invalid.append(f"{label}: {exc}")
            continue
        candidates.append(
            Candidate(
                f"commit {version.sha[:12]} ({format_time(version.time)})",
                record.with_fetched_at(version.time),
            )
        )
    if not candidates:
        raise UsageError(
            f"none of the {len(versions)} committed versions of {path} on {branch} in {repo} "
            "is a gs_data.json author object"
        )
    return candidates


def import_git(
    data_dir: Path,
    repo: Path,
    *,
    scholar_id: str,
    branch: str = DEFAULT_BRANCH,
    path: str = DEFAULT_PATH,
    guard: GuardOptions | None = None,
    badge: BadgeStyle | None = None,
    accept_drop: bool = False,
) -> ImportOutcome:
    """Every committed version of ``path`` on ``branch`` as a snapshot dated by its commit
    (see the module docstring).
    """
    outcome = ImportOutcome()
    candidates = git_candidates(repo, scholar_id=scholar_id, branch=branch, path=path, outcome=outcome)
    result = import_records(
        data_dir, candidates, scholar_id=scholar_id, guard=guard, badge=badge, accept_drop=accept_drop
    )
    result.invalid = outcome.invalid
    return result


# -- saved pages ------------------------------------------------------------------------


def _name_file(exc: ScholarStatsError, name: str) -> None:
    """Put the file's name in front of the error's message; class and exit code stay the parser's."""
    exc.message = f"{name}: {exc.message}"
    exc.args = (exc.message,)


def html_candidates(
    files: Sequence[Path], *, scholar_id: str, date: str | datetime | None = None
) -> list[Candidate]:
    """One record per saved profile page, dated by ``date``, else by the page's own date (a
    Wayback Machine capture's time, SingleFile's saved date), else by the file's modification time.

    Every file is read and checked before anything is imported: a page that is
    not a profile raises the parser's error (``Blocked`` exit 3, ``ParseError``
    exit 5) and a page of another author ``GuardRefused``, each naming the file.
    """
    from crawler.sources.scholar_page import page_to_record, parse_profile, whose

    if date is not None and len(files) > 1:
        raise UsageError(
            "--date dates a single FILE; without it each file is dated by the page's own date "
            "(a Wayback Machine capture's, SingleFile's) or else its modification time"
        )
    when_given = parse_date(date, option="--date") if date is not None else None
    candidates = []
    for file in files:
        path = Path(file)
        try:
            body = read_bounded(path, limit=MAX_PAGE_BYTES, follow=True, error=UsageError)
            mtime = datetime.fromtimestamp(path.stat().st_mtime, UTC)
        except OSError as exc:
            raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from exc
        try:
            page = parse_profile(body)
        except ScholarStatsError as exc:
            _name_file(exc, str(path))
            raise
        if len(page.named_ids) > 1:
            raise ParseError(f"{path}: the page {whose(page)}; nothing was imported")
        if page.profile.scholar_id != scholar_id:
            raise GuardRefused(
                f"{path}: the page is the profile of {page.profile.scholar_id or 'nobody'}, not {scholar_id}"
            )
        record = page_to_record(page)
        if not record.complete:
            record = replace(
                record,
                notes=(
                    *record.notes,
                    (
                        f"imported from a saved page that shows {len(record.publications)} publications "
                        "with 'Show more' still enabled"
                    ),
                ),
            )
        if when_given is not None:
            when = when_given
        elif page.captured_at is not None:
            when = page.captured_at
            log.info("%s: dated %s by the page itself", path, format_time(when))
        else:
            when = mtime
            log.info(
                "%s: dated %s by the file's modification time", path, format_time(when.replace(microsecond=0))
            )
        candidates.append(Candidate(str(path), record.with_fetched_at(when.replace(microsecond=0))))
    return candidates


def import_html(
    data_dir: Path,
    files: Sequence[Path],
    *,
    scholar_id: str,
    date: str | datetime | None = None,
    guard: GuardOptions | None = None,
    badge: BadgeStyle | None = None,
    accept_drop: bool = False,
    allow_partial: bool = False,
) -> ImportOutcome:
    """Saved profile pages as snapshots (see ``html_candidates`` and ``import_records``)."""
    candidates = html_candidates(files, scholar_id=scholar_id, date=date)
    if not allow_partial:
        for candidate in candidates:
            if not candidate.record.complete:
                raise GuardRefused(
                    f"{candidate.label}: the page shows {len(candidate.record.publications)} publications "
                    "and its 'Show more' button is still enabled, so the list is incomplete; "
                    "click 'Show more' until it is disabled before saving, or pass --allow-partial"
                )
    return import_records(
        data_dir,
        candidates,
        scholar_id=scholar_id,
        guard=guard,
        badge=badge,
        accept_drop=accept_drop,
        allow_partial=allow_partial,
    )
