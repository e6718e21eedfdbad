"""SMP003: `echo=True` on an engine outside tests."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from sqlmodel_production.doctor._findings import Finding, Severity
from sqlmodel_production.doctor._project import ProjectIndex
from sqlmodel_production.doctor._rule import Rule
from sqlmodel_production.doctor._source import SourceFile
from sqlmodel_production.doctor._syntax import constant


class EchoEnabledRule(Rule):
    code = "SMP003"
    title = "SQL echo enabled outside tests"
    severity = Severity.WARNING
    skip_tests = True
    rationale = (
        "`echo=True` logs every statement with its parameters: personal data and secrets end up in "
        "the logs, and every query pays for formatting and writing the log line. Leave it off in "
        "application code and read it from settings that are off in production; to see what runs, "
        "use a slow-query log or the query recorder in tests. Alembic migrations, whose SQL log "
        "is the record of what they changed, are not flagged."
    )
    bad = """\
engine = create_engine(DATABASE_URL, echo=True, pool_pre_ping=True)
"""
    good = """\
engine = create_engine(DATABASE_URL, echo=settings.echo, pool_pre_ping=True)
"""

    def check(self, file: SourceFile, project: ProjectIndex) -> Iterator[Finding]:
        if file.is_migration:
            return  # a migration's SQL log is its record, shown to whoever runs it
        for call in file.nodes(ast.Call):
            for item in call.keywords:
                if item.arg == "echo" and constant(item.value) in (True, "debug"):
                    yield self._echo(file, item.value)
        for assign in file.nodes(ast.Assign):
            for target in assign.targets:
                if (
                    isinstance(target, ast.Attribute)
                    and target.attr == "echo"
                    and constant(assign.value) in (True, "debug")
                ):
                    yield self._echo(file, assign.value)

    def _echo(self, file: SourceFile, node: ast.AST) -> Finding:
        return self.finding(
            file,
            node,
            "`echo=True` logs every SQL statement with its parameters: personal data ends up in the "
            "logs and every query pays for the logging.",
            "Remove `echo=True`, or read it from a setting that is off in production "
            "(`echo=settings.echo`).",
        )
