"""What the doctor reports: a `Finding` with its `Severity` (pure data)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any


class Severity(enum.StrEnum):
    """How bad a finding is; the exit code counts findings at or above a threshold."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"

    @property
    def rank(self) -> int:
        return _RANKS[self]

    @property
    def sarif_level(self) -> str:
        """The SARIF 2.1.0 `level` of this severity."""
        return "note" if self is Severity.INFO else self.value


_RANKS = {Severity.INFO: 0, Severity.WARNING: 1, Severity.ERROR: 2}


@dataclass(frozen=True, order=True)
class Finding:
    """One place where the checked code breaks a rule.

    `line` and `column` are 1-based, as editors and SARIF count them.
    """

    path: str
    line: int
    column: int
    code: str
    severity: Severity
    message: str
    fix: str

    def as_dict(self) -> dict[str, Any]:
        """The JSON form: `code`, `severity`, `path`, `line`, `column`, `message`, `fix`."""
        return {
            "code": self.code,
            "severity": self.severity.value,
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "message": self.message,
            "fix": self.fix,
        }
