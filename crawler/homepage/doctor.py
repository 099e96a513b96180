"""``scholar-stats doctor``: why do my numbers not show?  One finding per problem, with what to do.

::

    workflow   a workflow runs scholar-stats; it is well formed, its publishing job may
               write contents, it names the author (secret or config), it pins a release;
               no old crawler (AcadHomepage's force-push, al-folio's updater) fights it
    data       the data branch (local or remote-tracking) or --data-dir holds gs_data.json
               and gs_data_shieldsio.json at its root; the newest snapshot's age; stale
               authors and why
    papers     every .show_paper_citations ID in the site's sources, and every al-folio
               BibTeX google_scholar_id, is in the data
    snippet    the page script reads this repository's data branch; #total_cit is there
               where AcadHomepage's page expects it

The site's files are only read.  Workflows are read with PyYAML (YAML 1.1, as
GitHub does); everything else with small regular expressions.
"""

from __future__ import annotations

import json
import re
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from crawler.errors import UsageError
from crawler.homepage import repository as sites
from crawler.homepage.findings import Report
from crawler.homepage.workflow_checks import check_workflows
from crawler.storage.readfile import MAX_OUTPUT_BYTES, read_bounded
from crawler.storage.store import DEFAULT_BRANCH, SNAPSHOT_NAME_RE

_PAPER_RE = re.compile(
    r"""<[a-z]+\b(?=[^>]*\bclass\s*=\s*["'][^"']*\bshow_paper_citations\b)[^>]*\bdata\s*=\s*(["'])(?P<ids>.*?)\1""",
    re.IGNORECASE | re.DOTALL,
)
_TOTAL_RE = re.compile(r"""\bid\s*=\s*["']total_cit["']""", re.IGNORECASE)
_BIB_ENTRY_RE = re.compile(
    r"@(?P<kind>\w+)\s*\{\s*(?P<key>[^,\s]+)\s*,(?P<body>.*?)(?=^\s*@\w+\s*\{|\Z)", re.DOTALL | re.MULTILINE
)
_BIB_GSID_RE = re.compile(r"""\bgoogle_scholar_id\s*=\s*[{"]\s*(?P<id>[^}"\s]+)\s*[}"]""", re.IGNORECASE)
_DATA_URL_RES = (
    re.compile(
        r"https://cdn\.jsdelivr\.net/gh/(?P<repo>[\w.-]+/[\w.-]+)@(?P<branch>[\w./-]+?)/(?:[\w-]{12}/)?gs_data\.json"
    ),
    re.compile(
        r"https://raw\.githubusercontent\.com/(?P<repo>[\w.-]+/[\w.-]+)/(?P<branch>[\w./-]+?)/(?:[\w-]{12}/)?gs_data\.json"
    ),
)


# --- the published data: a branch or a folder


class PublishedData:
    """The files of the data branch (read with git, nothing checked out) or of a data folder."""

    def __init__(
        self, label: str, files: dict[str, Path] | None = None, git: tuple[Path, str] | None = None
    ) -> None:
        self.label = label
        self._files = files or {}
        self._git = git
        self.is_folder = git is None
        """A data folder (as ``run`` writes it), not a branch (as ``publish`` does)."""
        self._names: list[str] | None = None

    @classmethod
    def from_folder(cls, folder: Path) -> PublishedData:
        files = {
            p.relative_to(folder).as_posix(): p
            for p in sorted(folder.rglob("*"))
            if p.is_file() and not p.is_symlink()
        }
        return cls(str(folder), files=files)

    @classmethod
    def from_branch(cls, root: Path, branch: str) -> PublishedData | None:
        """The branch, local first, else a remote-tracking one; None when there is neither."""
        refs = _git(
            root, "for-each-ref", "--format=%(refname)", f"refs/heads/{branch}", "refs/remotes/*/" + branch
        )
        names = (
            [r for r in refs.decode("utf-8", "replace").splitlines() if r.strip()] if refs is not None else []
        )
        if not names:
            return None
        return cls(names[0].removeprefix("refs/heads/").removeprefix("refs/remotes/"), git=(root, names[0]))

    def names(self) -> list[str]:
        if self._names is None:
            if self._git is not None:
                out = _git(self._git[0], "ls-tree", "-r", "-z", "--name-only", self._git[1]) or b""
                self._names = [n.decode("utf-8", "replace") for n in out.split(b"\0") if n]
            else:
                self._names = list(self._files)
        return self._names

    def read(self, name: str) -> bytes | None:
        if self._git is not None:
            if name not in self.names():
                return None
            return _git(self._git[0], "cat-file", "blob", f"{self._git[1]}:{name}")
        path = self._files.get(name)
        return read_bounded(path, limit=MAX_OUTPUT_BYTES, error=UsageError) if path is not None else None


def _git(root: Path, *args: str) -> bytes | None:
    proc = subprocess.run(["git", "-C", str(root), *args], capture_output=True, check=False)
    return proc.stdout if proc.returncode == 0 else None


# --- the data


def check_data(data: PublishedData, report: Report, now: datetime) -> dict[str, Any] | None:
    """Root files, newest snapshot, stale markers; returns the root gs_data.json when readable."""
    names = set(data.names())
    report.facts["data"] = data.label
    gs_data: dict[str, Any] | None = None
    prefix = ""
    authors = sorted(n.split("/")[0] for n in names if n.count("/") == 1 and n.endswith("/gs_data.json"))
    if data.is_folder and "gs_data.json" not in names:
        if authors:
            # The folder `run` writes: data/<ID>/gs_data.json.  `publish` puts the first author's
            # files (in this order, unless --root-author) at the root of the branch.
            prefix = authors[0] + "/"
            report.facts["root_author"] = authors[0]
        elif not names:
            report.add(
                "data", f"{data.label} is empty: run `scholar-stats run --data-dir {data.label}` first"
            )
    for name in ("gs_data.json", "gs_data_shieldsio.json"):
        if prefix + name in names:
            continue
        if prefix:
            message = (
                f"{name} is missing in {data.label}/{prefix[:-1]}: `publish` puts that author's files "
                "at the root of the branch, where the page reads them; run again"
            )
        elif data.is_folder:
            message = (
                f"{name} is missing in {data.label} and in its author folders: "
                f"run `scholar-stats run --data-dir {data.label}`"
            )
        else:
            message = (
                f"{name} is missing at the root of {data.label}: the page reads it there; "
                "run the workflow (publish puts it there)"
            )
        report.add("data", message)
    raw = data.read(prefix + "gs_data.json")
    if raw is not None:
        try:
            loaded = json.loads(raw)
        except ValueError:
            report.add("data", f"{prefix}gs_data.json in {data.label} is not JSON: publish again")
        else:
            if isinstance(loaded, dict) and isinstance(loaded.get("publications"), dict):
                gs_data = loaded
            else:
                report.add("data", f"gs_data.json in {data.label} has no publications: publish again")
    snapshots = sorted(
        (n.rsplit("/", 1)[1], n)
        for n in names
        if n.count("/") == 2
        and n.split("/")[1] == "snapshots"
        and SNAPSHOT_NAME_RE.match(n.rsplit("/", 1)[1])
    )
    if snapshots:
        newest = snapshots[-1][0]
        when = datetime.strptime(newest[:16], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        report.facts["newest_snapshot"] = snapshots[-1][1]
        report.facts["newest_snapshot_age_days"] = round((now - when).total_seconds() / 86400, 1)
    elif names:
        report.add(
            "data", f"no snapshots in {data.label}: history is not kept; is it published by scholar-stats?"
        )
    for name in sorted(n for n in names if n.count("/") == 1 and n.endswith("/state.json")):
        try:
            state = json.loads(data.read(name) or b"")
        except ValueError:
            continue
        if isinstance(state, dict) and state.get("stale"):
            author = name.split("/")[0]
            reason = str(state.get("reason") or state.get("error") or "unknown")
            report.add("data", f"{author} is stale since {state.get('stale_since', '?')}: {reason}", name)
    return gs_data


# --- the site's sources


def _line_of(text: str, index: int) -> int:
    return text.count("\n", 0, index) + 1


def _known(pub_id: str, publications: dict[str, Any], author: str | None) -> bool:
    if pub_id in publications:
        return True
    if author and f"{author}:{pub_id}" in publications:
        return True
    # al-folio's bib.liquid, last: any key containing the ID.
    return ":" not in pub_id and any(key.endswith(f":{pub_id}") for key in publications)


_LIQUID_OUTPUT_RE = re.compile(r"\{\{(?P<expr>.*?)\}\}", re.DOTALL)
_SITE_VARIABLE_RE = re.compile(r"^\s*(?P<name>site(?:\.[A-Za-z_][\w-]*)+)\s*$")


def _site_value(root: Path, name: str) -> str | None:
    """What Jekyll gives ``site.KEY`` (``_config.yml``) or ``site.data.FILE.KEY`` (``_data/FILE.yml``);
    only top-level keys, read as init reads them.
    """
    parts = name.split(".")[1:]
    if len(parts) == 1:
        return sites.yaml_scalar(sites.read_text(root / "_config.yml") or "", parts[0])
    if len(parts) == 3 and parts[0] == "data":
        for suffix in (".yml", ".yaml"):
            text = sites.read_text(root / "_data" / f"{parts[1]}{suffix}")
            if text is not None:
                return sites.yaml_scalar(text, parts[2])
    return None


def _expands_empty(root: Path, expression: str) -> str | None:
    """The site variable of a Liquid output that expands to nothing (no filter but ``default``
    is understood; anything else is given the benefit of the doubt)."""
    head, *filters = expression.split("|")
    names = [head]
    for item in filters:
        key, _, argument = item.partition(":")
        if key.strip() != "default":
            return None
        names.append(argument)
    found = [_SITE_VARIABLE_RE.match(n) for n in names]
    if not all(found):
        return None  # entry.*, page.*, a literal: not the site's to say
    return None if any(_site_value(root, m.group("name")) for m in found if m) else "{{" + expression + "}}"


def check_empty_ids(root: Path, texts: dict[str, str], report: Report) -> None:
    """Paper elements whose ID is built from a site variable that is not set: they show nothing."""
    for relative, text in texts.items():
        for match in _PAPER_RE.finditer(text):
            for output in _LIQUID_OUTPUT_RE.finditer(match.group("ids")):
                empty = _expands_empty(root, output.group("expr"))
                if empty is None:
                    continue
                hint = (
                    " (al-folio keeps the ID in _data/socials.yml: use site.data.socials.scholar_userid)"
                    if "scholar_userid" in empty and "site.data.socials" not in empty
                    else ""
                )
                report.add(
                    "papers",
                    f"{empty} expands empty: the site does not set it, so this element shows nothing{hint}",
                    f"{relative}:{_line_of(text, match.start())}",
                )


def check_papers(root: Path, texts: dict[str, str], gs_data: dict[str, Any], report: Report) -> None:
    publications = gs_data.get("publications") or {}
    author = str(gs_data.get("scholar_id") or "") or None
    unknown: dict[str, str] = {}
    for relative, text in texts.items():
        for match in _PAPER_RE.finditer(text):
            for pub_id in (part.strip() for part in match.group("ids").split(",")):
                if pub_id and "{{" not in pub_id and pub_id not in publications:
                    unknown.setdefault(pub_id, f"{relative}:{_line_of(text, match.start())}")
    for pub_id, where in unknown.items():
        report.add(
            "papers",
            (
                f"paper ID {pub_id} is not in the data: a typo, or a paper Scholar merged "
                "(find its ID on your profile)"
            ),
            where,
        )
    bib_folder = root / "_bibliography"
    for bib in sorted(bib_folder.glob("*.bib")) if bib_folder.is_dir() else []:
        text = sites.read_text(bib) or ""
        for entry in _BIB_ENTRY_RE.finditer(text):
            found = _BIB_GSID_RE.search(entry.group("body"))
            if found and not _known(found.group("id"), publications, author):
                report.add(
                    "papers",
                    (
                        f"BibTeX entry {entry.group('key')}: google_scholar_id {found.group('id')} "
                        "is not in the data (a typo, or a merged paper)"
                    ),
                    f"{bib.relative_to(root).as_posix()}:{_line_of(text, entry.start())}",
                )


def check_snippet(site: sites.Site, texts: dict[str, str], branch: str, report: Report) -> None:
    found: list[tuple[str, str, str]] = []
    for relative, text in texts.items():
        if "scholarStats" not in text:
            continue
        for pattern in _DATA_URL_RES:
            found += [(relative, m.group("repo"), m.group("branch")) for m in pattern.finditer(text)]
    for relative, repo, used in sorted(set(found)):
        if site.repo and repo.lower() != site.repo.lower():
            report.add(
                "snippet",
                (
                    f"the page script reads {repo}, not this repository ({site.repo}): "
                    f"run `scholar-stats init` (or `embed --repo {site.repo}`)"
                ),
                relative,
            )
        if used != branch:
            report.add(
                "snippet",
                f"the page script reads branch {used}, but the data is published to {branch}: regenerate it",
                relative,
            )
    include = texts.get(sites.ACAD_INCLUDE, "")
    if site.template == "acadhomepage" and "$.getJSON" in include:
        report.add(
            "snippet",
            (
                "AcadHomepage's own script is still in place (it stops at the first unknown paper): "
                "run `scholar-stats init`"
            ),
            sites.ACAD_INCLUDE,
        )
    elif not found and site.template != "al-folio":
        report.add(
            "snippet",
            (
                "no page script reads the data: "
                "run `scholar-stats init` (or paste `scholar-stats embed`'s output)"
            ),
        )
    if site.template in ("academicpages", "plain") and not any(
        sites.has_number_element(t) for t in texts.values()
    ):
        report.add(
            "snippet",
            (
                "no element on the site shows a number: the page script fills "
                '<span id="total_cit"></span> (the total), id="h_index", id="i10_index" and '
                '<span class="show_paper_citations" data="SCHOLAR_ID:PAPER_ID"></span>; '
                "put them where the numbers should appear (docs/homepage.md)"
            ),
        )
    if site.template == "acadhomepage" and not any(_TOTAL_RE.search(t) for t in texts.values()):
        report.add(
            "snippet",
            (
                "no element with id total_cit: "
                "AcadHomepage's page shows the total in <span id='total_cit'></span>"
            ),
        )
    report.facts["snippets"] = sorted({r for r, _, _ in found})


def diagnose(
    root: Path, *, data_dir: Path | None = None, branch: str | None = None, now: datetime | None = None
) -> Report:
    report = Report()
    site = sites.inspect(root)
    report.facts.update({"template": site.template, "repository": site.repo})
    runners = check_workflows(root, report)
    branch = branch or (runners[0].branch if runners else DEFAULT_BRANCH)
    report.facts["branch"] = branch
    if data_dir is not None:
        data: PublishedData | None = PublishedData.from_folder(data_dir)
    else:
        data = PublishedData.from_branch(root, branch)
        if data is None:
            report.add(
                "data",
                (
                    f"no branch {branch} here or on a remote: run the workflow once, "
                    f"then `git fetch origin {branch}`"
                ),
            )
    gs_data = check_data(data, report, now or datetime.now(UTC)) if data is not None else None
    texts = {}
    for path in sites.source_files(root):
        text = sites.read_text(path)
        if text is not None and len(text) < 4_000_000:
            texts[path.relative_to(root).as_posix()] = text
    check_empty_ids(root, texts, report)
    if gs_data is not None:
        check_papers(root, texts, gs_data, report)
    check_snippet(site, texts, branch, report)
    return report
