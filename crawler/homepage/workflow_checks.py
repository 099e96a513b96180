"""``doctor``'s checks of a site's workflows: the ones that run scholar-stats (valid, pinned,
naming an author, allowed to push), and the ones that would undo them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crawler.homepage import repository as sites
from crawler.homepage.author_workflow import ACTION_REPO
from crawler.homepage.findings import Report
from crawler.storage.store import DEFAULT_BRANCH

_SHA_RE = re.compile(r"^[0-9a-f]{40}$")


_RELEASE_RE = re.compile(r"^v\d+(\.\d+){0,2}$")


@dataclass(frozen=True)
class Runner:
    """What doctor learned from the workflow that runs scholar-stats."""

    path: str
    branch: str
    al_folio: bool


def _load_yaml(text: str) -> tuple[Any, str | None]:
    import yaml

    try:
        return yaml.safe_load(text), None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        return None, f"{where}{getattr(exc, 'problem', None) or exc}"


def _shape_problem(doc: Any) -> str | None:
    """What keeps ``doc`` from being a workflow GitHub runs (the parts of its schema that matter here)."""
    if not isinstance(doc, dict):
        return "not a mapping"
    # PyYAML reads YAML 1.1, where a bare `on` is the boolean true.
    if "on" not in doc and True not in doc:
        return "no `on:` (what starts it)"
    jobs = doc.get("jobs")
    if not isinstance(jobs, dict) or not jobs:
        return "no `jobs:`"
    for name, job in jobs.items():
        if not isinstance(job, dict):
            return f"job {name} is not a mapping"
        if "uses" not in job and "runs-on" not in job:
            return f"job {name} has no `runs-on:`"
        steps = job.get("steps", [])
        if "uses" not in job and (not isinstance(steps, list) or not steps):
            return f"job {name} has no steps"
        for index, step in enumerate(steps if isinstance(steps, list) else []):
            if not isinstance(step, dict) or ("uses" in step) == ("run" in step):
                return f"job {name}, step {index + 1}: needs exactly one of `uses:` or `run:`"
            if "with" in step and not isinstance(step["with"], dict):
                return f"job {name}, step {index + 1}: `with:` is not a mapping"
        permissions = job.get("permissions", doc.get("permissions"))
        if permissions is not None and not (
            permissions in ("read-all", "write-all", {})
            or (
                isinstance(permissions, dict)
                and all(v in ("read", "write", "none") for v in permissions.values())
            )
        ):
            return f"job {name}: `permissions:` is not read-all, write-all or a map of read/write/none"
    return None


def _our_steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    steps = job.get("steps")
    if not isinstance(steps, list):
        return []
    return [
        s
        for s in steps
        if isinstance(s, dict)
        and (
            str(s.get("uses", "")).lower().startswith(f"{ACTION_REPO}@")
            or "scholar-stats publish" in str(s.get("run", ""))
        )
    ]


def _can_write_contents(doc: dict[str, Any], job: dict[str, Any]) -> bool:
    permissions = job["permissions"] if "permissions" in job else doc.get("permissions")
    if permissions == "write-all":
        return True
    return isinstance(permissions, dict) and permissions.get("contents") == "write"


def _check_action_step(step: dict[str, Any], relative: str, report: Report) -> tuple[str, bool]:
    """One step that uses the Action: pinned, naming an author; the branch it publishes to and
    whether it keeps al-folio's file."""
    uses = str(step.get("uses", ""))
    with_ = step.get("with") or {}
    ref = uses.partition("@")[2]
    if not (_SHA_RE.match(ref) or _RELEASE_RE.match(ref)):
        report.add(
            "workflow", f"{uses} follows a moving ref: pin a release (@v1, @vX.Y.Z or a commit SHA)", relative
        )
    author = str(with_.get("scholar-id", "")) + str(with_.get("config", ""))
    if not author.strip():
        report.add(
            "workflow",
            "the step names no author: add `scholar-id: ${{ secrets.GOOGLE_SCHOLAR_ID }}` (or `config:`)",
            relative,
        )
    secret = re.search(r"secrets\.([A-Za-z_][A-Za-z0-9_]*)", str(with_.get("scholar-id", "")))
    if secret:
        report.facts.setdefault("secrets", []).append(secret.group(1))
    return str(with_.get("branch") or DEFAULT_BRANCH), str(
        with_.get("al-folio-citations", "")
    ).lower() == "true"


def _check_workflow(doc: dict[str, Any], relative: str, report: Report) -> list[Runner]:
    """The jobs of one valid workflow that run scholar-stats, each checked."""
    runners = []
    for name, job in doc["jobs"].items():
        steps = _our_steps(job)
        if not steps:
            continue
        if not _can_write_contents(doc, job):
            report.add(
                "workflow",
                f"job {name} cannot push the data branch: give it `permissions: contents: write`",
                relative,
            )
        branch, al_folio = DEFAULT_BRANCH, False
        for step in steps:
            if step.get("uses"):
                branch, al_folio = _check_action_step(step, relative, report)
        runners.append(Runner(relative, branch, al_folio))
    return runners


def _check_other_updaters(root: Path, runners: list[Runner], report: Report) -> None:
    """Other workflows that would undo ours: AcadHomepage's crawler, al-folio's own updater."""
    for old in sites.old_crawler_workflows(root):
        report.add(
            "workflow",
            (
                "AcadHomepage's crawler still runs and force-pushes the data branch, wiping its history: "
                "remove it (`scholar-stats init` does)"
            ),
            old,
        )
    if any(r.al_folio for r in runners) and (root / sites.ALFOLIO_CITATIONS_WORKFLOW).exists():
        report.add(
            "workflow",
            (
                "al-folio's own citation updater also writes _data/citations.yml: "
                "remove it (`scholar-stats init` does)"
            ),
            sites.ALFOLIO_CITATIONS_WORKFLOW,
        )


def check_workflows(root: Path, report: Report) -> list[Runner]:
    folder = root / sites.WORKFLOWS
    runners: list[Runner] = []
    broken = False
    paths = (
        sorted(p for p in folder.glob("*") if p.suffix in (".yml", ".yaml") and p.is_file())
        if folder.is_dir()
        else []
    )
    for path in paths:
        relative = f"{sites.WORKFLOWS}/{path.name}"
        text = sites.read_text(path) or ""
        if "scholar-stats" not in text:
            continue
        doc, error = _load_yaml(text)
        problem = error or _shape_problem(doc)
        if not problem:
            runners.extend(_check_workflow(doc, relative, report))
        elif ACTION_REPO in text or "scholar-stats publish" in text:
            broken = True
            report.add(
                "workflow",
                f"not a valid workflow ({problem}): GitHub will not run it; "
                "fix it or run `scholar-stats init` again",
                relative,
            )
    if not runners and not broken:
        report.add("workflow", "no workflow runs scholar-stats: run `scholar-stats init`", sites.WORKFLOWS)
    _check_other_updaters(root, runners, report)
    report.facts["workflows"] = [r.path for r in runners]
    return runners
