"""Doctor settings from `[tool.sqlmodel-production.doctor]` in the project's pyproject.toml."""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from sqlmodel_production._exceptions import DoctorUsageError

from ._findings import Severity
from ._rule import Rule
from .rules import RULES

__all__ = ["Config", "find_pyproject", "load_config", "parse_codes"]

_KEYS = frozenset({"select", "ignore", "severity", "exclude", "workers"})


@dataclass(frozen=True)
class Config:
    """Which rules run, on which files, and which severity fails the check.

    Args:
        select: codes or code prefixes to run (`SMP01` runs SMP010-SMP019); all when empty.
        ignore: codes or code prefixes never to run; wins over `select`.
        severity: findings at or above it make the exit code 1.
        exclude: glob patterns of paths (relative to `root`) not to check.
        workers: worker processes per deployment, for the pool-sizing check.
        root: the folder holding the pyproject.toml the settings came from.
    """

    select: frozenset[str] = frozenset()
    ignore: frozenset[str] = frozenset()
    severity: Severity = Severity.WARNING
    exclude: tuple[str, ...] = ()
    workers: int | None = None
    root: Path | None = None
    rules: tuple[Rule, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        chosen = tuple(
            rule
            for rule in RULES
            if (not self.select or _matches(rule.code, self.select))
            and not _matches(rule.code, self.ignore)
        )
        object.__setattr__(self, "rules", chosen)

    def override(self, **changes: Any) -> Config:
        """A copy with the given settings replaced (command-line options win over the file)."""
        return replace(
            self, **{key: value for key, value in changes.items() if value is not None}
        )


def _matches(code: str, patterns: Iterable[str]) -> bool:
    return any(code.startswith(pattern) for pattern in patterns)


def parse_codes(value: str | Iterable[str], *, option: str) -> frozenset[str]:
    """Codes or prefixes from `"SMP001,SMP01"` or a list, each matching at least one rule.

    Raises:
        DoctorUsageError: a code matches no rule.
    """
    items = value.split(",") if isinstance(value, str) else list(value)
    codes = frozenset(str(item).strip().upper() for item in items if str(item).strip())
    known = [rule.code for rule in RULES]
    for code in sorted(codes):
        if not any(rule.startswith(code) for rule in known):
            raise DoctorUsageError(
                f"{option}: unknown rule code {code!r}; codes run from {known[0]} to {known[-1]}"
            )
    return codes


def parse_severity(value: str, *, option: str) -> Severity:
    """A `Severity` from its name.

    Raises:
        DoctorUsageError: not one of info, warning, error.
    """
    try:
        return Severity(value.lower())
    except ValueError:
        names = ", ".join(severity.value for severity in Severity)
        raise DoctorUsageError(
            f"{option}: {value!r} is not a severity; use one of: {names}"
        ) from None


def find_pyproject(start: Path) -> Path | None:
    """The nearest pyproject.toml in `start` or above it."""
    current = start.resolve()
    if current.is_file():
        current = current.parent
    for folder in (current, *current.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def load_config(start: Path) -> Config:
    """Read the doctor's table from the pyproject.toml nearest to `start`.

    Raises:
        DoctorUsageError: the file is not valid TOML or the table has unknown keys or bad values.
    """
    pyproject = find_pyproject(start)
    if pyproject is None:
        return Config()
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise DoctorUsageError(f"{pyproject}: {exc}") from exc
    table = data.get("tool", {}).get("sqlmodel-production", {}).get("doctor", {})
    where = f"{pyproject} [tool.sqlmodel-production.doctor]"
    if not isinstance(table, dict):
        raise DoctorUsageError(f"{where} must be a table")
    unknown = sorted(set(table) - _KEYS)
    if unknown:
        raise DoctorUsageError(
            f"{where}: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(_KEYS))}"
        )
    exclude = table.get("exclude", [])
    workers = table.get("workers")
    if not isinstance(exclude, list) or not all(
        isinstance(item, str) for item in exclude
    ):
        raise DoctorUsageError(f"{where}: exclude must be a list of glob patterns")
    if workers is not None and (not isinstance(workers, int) or workers < 1):
        raise DoctorUsageError(f"{where}: workers must be a positive integer")
    for key in ("select", "ignore"):
        if not isinstance(table.get(key, []), list):
            raise DoctorUsageError(f"{where}: {key} must be a list of rule codes")
    return Config(
        select=parse_codes(table.get("select", []), option=f"{where} select"),
        ignore=parse_codes(table.get("ignore", []), option=f"{where} ignore"),
        severity=parse_severity(
            str(table.get("severity", "warning")), option=f"{where} severity"
        ),
        exclude=tuple(exclude),
        workers=workers,
        root=pyproject.parent,
    )
