"""What a run says of itself: each author's outcome and the run's summary (``run --summary``),
its credentials masked."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from crawler.errors import ExitCode
from crawler.models import TextEnum, format_time
from crawler.net.redact import redacted_text


class Status(TextEnum):
    """What became of one author in a run."""

    UPDATED = "updated"
    UNCHANGED = "unchanged"
    KEPT = "kept"
    """Google Scholar failed: the last numbers are shown, marked stale."""
    ESTIMATED = "estimated"
    """Google Scholar failed: an estimate grown by the fallback is shown (``bridge``)."""
    FAILED = "failed"
    REFUSED = "refused"


@dataclass
class AuthorOutcome:
    scholar_id: str
    status: Status
    exit_code: int = 0
    changed: bool = False
    citations: int | None = None
    source: str | None = None
    reason: str | None = None
    notes: list[str] = field(default_factory=list)
    snapshot: str | None = None
    policy: str = "keep"
    """on_block for this author: keep | bridge | replace."""
    shown: str | None = None
    """What the outputs show: scholar (fresh), kept (the last good numbers), estimate, fallback."""
    stale_since: str | None = None
    """When Google Scholar first failed, while it has not answered since."""
    stale_days: float | None = None
    scholar_as_of: str | None = None
    """When the newest snapshot of Google Scholar's own numbers was taken."""


def _redacted(outcome: dict[str, Any]) -> dict[str, Any]:
    """An outcome's texts with credentials masked, whoever filled them in."""
    return {
        key: redacted_text(value)
        if key == "reason" and value is not None
        else [redacted_text(note) for note in value]
        if key == "notes"
        else value
        for key, value in outcome.items()
    }


@dataclass
class RunSummary:
    started: datetime
    finished: datetime | None = None
    authors: list[AuthorOutcome] = field(default_factory=list)
    site: str | None = None
    """The dashboard's index, when the configuration keeps one (``site = true``)."""
    site_error: str | None = None

    @property
    def exit_code(self) -> int:
        """0 when all went well; else the code of the first author that failed;
        7 when every author got data but some only from a fallback source."""
        for outcome in self.authors:
            if outcome.exit_code not in (ExitCode.OK, ExitCode.FALLBACK_USED):
                return outcome.exit_code
        if any(o.exit_code == ExitCode.FALLBACK_USED for o in self.authors):
            return int(ExitCode.FALLBACK_USED)
        return int(ExitCode.OK)

    @property
    def changed(self) -> bool:
        return any(o.changed for o in self.authors)

    def to_dict(self) -> dict[str, Any]:
        data = {
            "started": format_time(self.started),
            "finished": format_time(self.finished) if self.finished else None,
            "exit_code": self.exit_code,
            "changed": self.changed,
            "authors": [_redacted(asdict(o)) for o in self.authors],
        }
        # Only when the configuration keeps a dashboard: the summary's keys are a contract.
        if self.site is not None or self.site_error is not None:
            data["site"] = self.site
            data["site_error"] = self.site_error
        return data
