"""What ``doctor`` found: one finding per problem, with where it is and what to do, and the
facts the checks share."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Finding:
    check: str
    message: str
    """What is wrong and what to do, one line."""
    where: str | None = None


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)

    def add(self, check: str, message: str, where: str | None = None) -> None:
        self.findings.append(Finding(check, message, where))

    def to_json(self) -> str:
        return (
            json.dumps(
                {
                    "ok": not self.findings,
                    "findings": [asdict(f) for f in self.findings],
                    "facts": self.facts,
                },
                indent=2,
                sort_keys=True,
                ensure_ascii=False,
            )
            + "\n"
        )

    def lines(self) -> Iterator[str]:
        for finding in self.findings:
            where = f" ({finding.where})" if finding.where else ""
            yield f"{finding.check}: {finding.message}{where}"
