"""The base class of every doctor rule."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import TYPE_CHECKING, ClassVar

from ._findings import Finding, Severity
from ._project import ProjectIndex
from ._source import SourceFile

if TYPE_CHECKING:
    from ._runtime import Runtime

__all__ = ["Rule"]


class Rule:
    """A check with a stable code, a rationale and a bad and a good example.

    Static rules override `check` and read the syntax tree only; run-time rules
    override `check_runtime` and see the imported app and the database server.
    """

    code: ClassVar[str]
    title: ClassVar[str]
    severity: ClassVar[Severity]
    rationale: ClassVar[str]
    bad: ClassVar[str]
    good: ClassVar[str]
    #: Test code may break this rule on purpose (an `echo=True` engine in a test, ...).
    skip_tests: ClassVar[bool] = False

    @property
    def name(self) -> str:
        """The class name without its `Rule` suffix (the SARIF rule name)."""
        return type(self).__name__.removesuffix("Rule")

    def check(self, file: SourceFile, project: ProjectIndex) -> Iterator[Finding]:
        """Findings in one parsed file."""
        return iter(())

    def check_runtime(
        self, runtime: Runtime, project: ProjectIndex | None = None
    ) -> Iterator[Finding]:
        """Findings in the imported app or on the database server (`project`: what the
        source says, where the app alone cannot tell)."""
        return iter(())

    def finding(
        self, file: SourceFile | str, node: ast.AST | int, message: str, fix: str
    ) -> Finding:
        """A finding of this rule at a node (or a 1-based line) of a file."""
        path = file if isinstance(file, str) else file.path
        if isinstance(node, int):
            line, column = node, 1
        else:
            line, column = (
                getattr(node, "lineno", 1),
                getattr(node, "col_offset", 0) + 1,
            )
        return Finding(path, line, column, self.code, self.severity, message, fix)
