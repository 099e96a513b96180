"""The errors scholar-stats raises, and the exit code each one maps to.

::

    ScholarStatsError                      exit 1 (anything else)
    ├── UsageError                         exit 2  bad option, malformed Scholar ID
    │   └── ConfigError                    exit 2  bad scholar-stats.toml (file, line, key)
    ├── FetchError                         exit 1  network trouble that retries did not fix
    │   ├── Blocked                        exit 3  CAPTCHA, sign-in wall, /sorry/, 403, 429
    │   ├── NotFound                       exit 4  the profile does not exist
    │   ├── DeadlineExceeded               exit 1  the whole fetch ran past its deadline
    │   └── SourceUnavailable              exit 3  a source that cannot be used now (no key, extra missing)
    ├── ParseError                         exit 5  a page that is not understood
    │   ├── NotAProfile                    exit 5  a page that is some other page
    │   └── TruncatedPage                  exit 5  empty or cut-off body
    ├── GuardRefused                       exit 6  an incomplete or implausible record was kept out
    ├── StorageError                       exit 8  unwritable folder, full disk, corrupt snapshot, lock held
    └── PublishError                       exit 9  git refused to commit or push

Exit code 7 is not an error: ``run`` returns it when an author's numbers came
from a fallback source because the primary one failed.

Every error carries what was seen (URL, HTTP status, file) so that the one-line
message a user reads says what happened and where.  Foreign exceptions (httpx,
OSError, tomllib) are translated where they are caught, ``raise ... from exc``.
"""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    OK = 0
    ERROR = 1
    USAGE = 2
    BLOCKED = 3
    NOT_FOUND = 4
    NOT_UNDERSTOOD = 5
    GUARD_REFUSED = 6
    FALLBACK_USED = 7
    STORAGE = 8
    PUBLISH = 9


# What each code means, once: the short form goes into ``--help``, the long one
# is the README's table (a test holds the two together).
EXIT_CODE_MEANINGS: dict[ExitCode, tuple[str, str]] = {
    ExitCode.OK: ("success", 'success (for `publish`, also "nothing to publish")'),
    ExitCode.ERROR: (
        "other failure",
        "any other failure (network trouble that retries did not fix, deadline passed)",
    ),
    ExitCode.USAGE: (
        "usage error or bad configuration",
        "usage error: bad option, malformed Scholar ID, bad configuration file (named with its line and key)",
    ),
    ExitCode.BLOCKED: (
        "blocked or rate-limited",
        "blocked or rate-limited (CAPTCHA, sign-in wall, `/sorry/`, 403, 429 after retries), "
        "or a source that cannot be used now",
    ),
    ExitCode.NOT_FOUND: ("profile not found", "profile not found"),
    ExitCode.NOT_UNDERSTOOD: (
        "page not understood",
        "a page that is not understood (changed markup, truncated body, some other page)",
    ),
    ExitCode.GUARD_REFUSED: (
        "guard refused a new record",
        "the guard refused a new record (incomplete, sharp drop, wrong profile); the last good data is kept",
    ),
    ExitCode.FALLBACK_USED: (
        "numbers came from a fallback source",
        "`run`: numbers came from a fallback source because the primary one failed",
    ),
    ExitCode.STORAGE: (
        "storage error",
        "storage error: unwritable or full data folder, another run holds the lock",
    ),
    ExitCode.PUBLISH: ("publish error", "publish error: git refused to commit or push"),
}


def exit_codes_help(codes: tuple[ExitCode, ...] = tuple(ExitCode)) -> str:
    """``0 success; 1 other failure; ...``: the exit codes in one line of help."""
    return "; ".join(f"{int(code)} {EXIT_CODE_MEANINGS[code][0]}" for code in codes)


class ScholarStatsError(Exception):
    """Base of every error scholar-stats raises on purpose."""

    exit_code: ExitCode = ExitCode.ERROR

    def __init__(self, message: str, *, url: str | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.url = url
        self.status = status

    def __str__(self) -> str:
        parts = [self.message]
        if self.status is not None:
            parts.append(f"HTTP {self.status}")
        if self.url:
            parts.append(self.url)
        return parts[0] if len(parts) == 1 else f"{parts[0]} ({', '.join(parts[1:])})"


class UsageError(ScholarStatsError):
    exit_code = ExitCode.USAGE


class ConfigError(UsageError):
    """A configuration file that cannot be used; the message names file, line and key."""


class FetchError(ScholarStatsError):
    """Talking to a source failed in a way retrying did not fix."""


class Blocked(FetchError):
    """The source refuses to serve us right now (CAPTCHA, sign-in wall, 403, 429)."""

    exit_code = ExitCode.BLOCKED
    advice = "wait a few hours, run from another network, or use a proxy (--proxy URL or HTTPS_PROXY)"

    def __init__(
        self,
        message: str,
        *,
        kind: str,
        url: str | None = None,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, url=url, status=status)
        self.kind = kind
        self.retry_after = retry_after

    def __str__(self) -> str:
        return f"{super().__str__()}; {self.advice}"


class NotFound(FetchError):
    exit_code = ExitCode.NOT_FOUND


class DeadlineExceeded(FetchError):
    """The whole fetch took longer than its deadline."""


class SourceUnavailable(FetchError):
    """A source that cannot be used now: no API key, an optional extra not installed."""

    exit_code = ExitCode.BLOCKED


class ParseError(ScholarStatsError):
    """A page whose markup is not understood (changed layout, missing stats table)."""

    exit_code = ExitCode.NOT_UNDERSTOOD


class NotAProfile(ParseError):
    """A page that is some other page than a Scholar profile."""


class TruncatedPage(ParseError):
    """An empty or cut-off body."""


class GuardRefused(ScholarStatsError):
    """A new record that may not replace the last good one."""

    exit_code = ExitCode.GUARD_REFUSED


class StorageError(ScholarStatsError):
    exit_code = ExitCode.STORAGE


class PublishError(ScholarStatsError):
    exit_code = ExitCode.PUBLISH
