"""Which Python a file needs when the running interpreter cannot parse it (pure)."""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass

__all__ = ["NewerSyntax", "newer_syntax"]


@dataclass(frozen=True)
class NewerSyntax:
    """Syntax that a later Python accepts, found where the parser stopped."""

    version: tuple[int, int]
    feature: str

    @property
    def needs(self) -> str:
        return f"Python {self.version[0]}.{self.version[1]}"


# Newest first. Each pattern sees only the line the parser stopped at; a pattern ending in
# `$` sees it up to and including the column the parser stopped at.
_FEATURES: tuple[tuple[tuple[int, int], str, re.Pattern[str]], ...] = (
    (
        (3, 14),
        "`except A, B:` without parentheses, PEP 758",
        re.compile(r"^\s*except\*?\s+(?!\()[^:#]*,(?![^:#]*\bas\b)[^:#]*:"),
    ),
    (
        (3, 14),
        "template strings `t'...'`, PEP 750",
        re.compile(r"(?<![\w.])(?:[tT][rR]?|[rR][tT])[\"']$"),
    ),
    (
        (3, 13),
        "type parameter defaults `[T = int]`, PEP 696",
        re.compile(r"^\s*(?:(?:async\s+)?def|class|type)\s+\w+\s*\[[^\]]*="),
    ),
    (
        (3, 12),
        "the `type` statement, PEP 695",
        re.compile(r"^\s*type\s+\w+\s*(?:\[.*\])?\s*="),
    ),
    (
        (3, 12),
        "type parameter lists `def f[T]()` / `class C[T]`, PEP 695",
        re.compile(r"^\s*(?:(?:async\s+)?def|class)\s+\w+\s*\["),
    ),
    (
        (3, 12),
        "f-strings that reuse their quotes or hold a backslash, PEP 701",
        re.compile(
            r"(?<![\w.])[rRbB]?[fF][rR]?(?P<q>\"|')[^\n]*\{[^}\n]*(?:(?P=q)|\\)"
        ),
    ),
    (
        (3, 12),
        "f-strings whose replacement fields span lines, PEP 701",
        re.compile(r"(?<![\w.])[rRbB]?[fF][rR]?[\"'][^\"'\n]*\{[^}\n]*(?![^\n])"),
    ),
)


def newer_syntax(
    text: str,
    line: int | None,
    column: int | None,
    running: tuple[int, int] | None = None,
) -> NewerSyntax | None:
    """The newer syntax where parsing failed (1-based `line` and `column`), if it explains it.

    Only syntax newer than `running` (the current interpreter by default) counts: on a
    Python that has the feature, the error is a plain syntax error.
    """
    current = running or (sys.version_info[0], sys.version_info[1])
    lines = text.splitlines()
    if line is None or not 1 <= line <= len(lines):
        return None
    source = lines[line - 1]
    upto = source[: column or 0]
    for version, feature, pattern in _FEATURES:
        if version > current and pattern.search(
            upto if pattern.pattern.endswith("$") else source
        ):
            return NewerSyntax(version, feature)
    return None
