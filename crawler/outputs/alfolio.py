"""al-folio's ``_data/citations.yml``, kept from the guarded snapshots.

al-folio (the Jekyll theme) draws a Google Scholar badge beside every BibTeX
entry that has a ``google_scholar_id``; its ``google_scholar_citations`` tag
reads the count from ``_data/citations.yml``, shaped like the file its own
``bin/update_scholar_citations.py`` writes (PyYAML, keys sorted)::

    metadata:
      last_updated: '2026-11-30'
    papers:
      USERID:PUBID:
        citations: 26986
        title: ...
        year: '1935'

The tag looks a paper up by ``USERID:PUBID``, then by any key ending in
``:PUBID``, so the keys are Scholar's ``author_pub_id`` as they are.

The numbers come from each author's newest snapshot whose numbers are Google
Scholar's (a fallback source's works have other keys and other counts), so a
blocked or refused day, which writes no snapshot, changes nothing here.
``last_updated`` is the day that snapshot was taken: the counts are as of then.
A count Scholar did not give is left out rather than written as 0, and so is an
unknown year; the tag then shows what it shows for an unknown paper.

A snapshot that does not list every paper (``import-html --allow-partial``)
updates the papers it shows; the others keep their last known counts, from the
newest complete Scholar snapshot, else from the existing file, with a warning.

Papers of authors not exported (keys whose user part is not one of theirs) are
kept as the file had them, so a hand-kept entry or a co-author's survives.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crawler.errors import StorageError, UsageError
from crawler.models import AuthorRecord
from crawler.net.redact import redacted_text
from crawler.sources import SCHOLAR_NUMBERS
from crawler.storage.store import AuthorStore

log = logging.getLogger(__name__)

DEFAULT_PATH = "_data/citations.yml"

Papers = dict[str, dict[str, Any]]


@dataclass(frozen=True)
class AlFolioCitations:
    text: str
    """The whole file, UTF-8 text ending in a newline."""
    changed: bool
    """False when the papers in the existing file are already these (the file is then kept as it is)."""
    summary: str
    """One line saying what changed, for a log or a commit message."""
    papers: int


def _papers_kept(record: AuthorRecord, store: AuthorStore, old_papers: Papers) -> Papers:
    """The papers an incomplete snapshot does not show, with their last known counts:
    from the newest complete Scholar snapshot, else from the existing file."""
    shown = {pub.author_pub_id for pub in record.publications}
    earlier = store.latest_from(SCHOLAR_NUMBERS, complete=True)
    if earlier is not None:
        known, where = papers_of(earlier), f"the complete snapshot of {_day(earlier)}"
    else:
        known, where = {k: v for k, v in old_papers.items() if _owner(k) == record.scholar_id}, "the file"
    kept = {k: v for k, v in known.items() if k not in shown}
    log.warning(
        "%s: the newest Google Scholar snapshot (%s) is incomplete; %d papers not on it keep "
        "their last known counts, from %s",
        record.scholar_id,
        _day(record),
        len(kept),
        where,
    )
    return kept


def _day(record: AuthorRecord) -> str:
    return record.fetched_at.date().isoformat() if record.fetched_at is not None else "an unknown day"


def papers_of(record: AuthorRecord) -> Papers:
    papers: Papers = {}
    for pub in record.publications:
        if pub.author_pub_id in papers:
            # Scholar lists a paper once; a repeated ID is counted once.
            continue
        entry: dict[str, Any] = {}
        if pub.citations is not None:
            entry["citations"] = pub.citations
        entry["title"] = pub.title
        if pub.year is not None:
            entry["year"] = str(pub.year)
        papers[pub.author_pub_id] = entry
    return papers


def read_existing(text: str | None, where: str) -> tuple[str | None, Papers]:
    """``last_updated`` and ``papers`` of an existing file; a file that is not al-folio's shape is refused."""
    if text is None or not text.strip():
        return None, {}
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" line {mark.line + 1}" if mark is not None else ""
        raise StorageError(f"{where}{line} is not YAML; fix or remove it (it is left as it is)") from exc
    if data is None:
        return None, {}
    if not isinstance(data, dict) or not isinstance(data.get("papers", {}), dict):
        raise StorageError(
            f"{where} is not al-folio's citations file (no 'papers' mapping); it is left as it is"
        )
    metadata = data.get("metadata")
    last = metadata.get("last_updated") if isinstance(metadata, dict) else None
    papers = data.get("papers") or {}
    return (str(last) if last is not None else None), {str(k): v for k, v in papers.items()}


def _owner(key: str) -> str:
    return key.split(":", 1)[0]


def _describe(old: Papers, new: Papers) -> str:
    added = [k for k in new if k not in old]
    removed = [k for k in old if k not in new]
    changed = [k for k in new if k in old and old[k] != new[k]]
    if not (added or removed or changed):
        return "no change"
    parts = []
    counts = [k for k in changed if (old[k] or {}).get("citations") != new[k].get("citations")]
    if counts:
        shown = ", ".join(
            f"{new[k].get('title', k)!s:.40} {old[k].get('citations', '?')}→{new[k].get('citations', '?')}"
            for k in counts[:3]
        )
        more = f" and {len(counts) - 3} more" if len(counts) > 3 else ""
        parts.append(f"{len(counts)} count{'s' if len(counts) != 1 else ''} changed ({shown}{more})")
    if len(changed) > len(counts):
        n = len(changed) - len(counts)
        parts.append(f"{n} title{'s' if n != 1 else ''} or year{'s' if n != 1 else ''} changed")
    if added:
        parts.append(f"{len(added)} paper{'s' if len(added) != 1 else ''} added")
    if removed:
        parts.append(f"{len(removed)} paper{'s' if len(removed) != 1 else ''} removed")

    def total(papers: Papers) -> int:
        return sum(int(v.get("citations") or 0) for v in papers.values() if isinstance(v, dict))

    return f"{'; '.join(parts)}; citations in the file {total(old)} → {total(new)}"


# Line breaks YAML knows besides \n and \r: written raw inside a quoted scalar they
# are folded on reading (NEL comes back as a space), so they are written escaped.
_YAML_BREAKS = ("\x85", "\u2028", "\u2029")


def dump(last_updated: str, papers: Mapping[str, Any]) -> str:
    import yaml

    def represent_str(dumper: Any, value: str) -> Any:
        style = '"' if any(ch in value for ch in _YAML_BREAKS) else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

    # A dumper of its own, so the safe one everybody shares is left as it is.
    dumper: Any = type("AlFolioDumper", (yaml.SafeDumper,), {})
    dumper.add_representer(str, represent_str)
    # The same writer and settings as al-folio's own script (sorted keys, long
    # lines kept whole), with UTF-8 titles rather than \u escapes.
    return str(
        yaml.dump(
            {"metadata": {"last_updated": last_updated}, "papers": dict(papers)},
            Dumper=dumper,
            sort_keys=True,
            width=1000,
            allow_unicode=True,
            default_flow_style=False,
        )
    )


def build(
    data_dir: Path, scholar_ids: Sequence[str], existing: str | None, *, where: str = DEFAULT_PATH
) -> AlFolioCitations:
    """The file for these authors, given the existing file's text (or None)."""
    old_date, old_papers = read_existing(existing, where)
    records = []
    for scholar_id in scholar_ids:
        record = AuthorStore(data_dir, scholar_id).latest_from(SCHOLAR_NUMBERS)
        if record is None:
            raise UsageError(
                f"no Google Scholar snapshot of {scholar_id} in {data_dir} yet: run `scholar-stats run` first"
            )
        records.append(record)
    ours = {record.scholar_id for record in records}
    papers: Papers = {k: v for k, v in old_papers.items() if _owner(k) not in ours}
    for record in records:
        if not record.complete:
            # A partial import (import-html --allow-partial) shows some papers: the rest keep
            # their last known counts rather than vanishing (al-folio would show 0 for them).
            papers.update(_papers_kept(record, AuthorStore(data_dir, record.scholar_id), old_papers))
        papers.update(papers_of(record))
    papers = dict(sorted(papers.items()))
    if existing is not None and old_papers == papers:
        return AlFolioCitations(existing, False, "no change", len(papers))
    dates = [r.fetched_at for r in records if r.fetched_at is not None]
    last_updated = max(dates).date().isoformat() if dates else (old_date or "")
    # The summary goes into a commit message (the Action's al-folio step): titles are Scholar's text.
    return AlFolioCitations(
        dump(last_updated, papers), True, redacted_text(_describe(old_papers, papers)), len(papers)
    )
