"""SMP004: an engine without `pool_pre_ping=True`."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from sqlmodel_production.doctor._findings import Finding, Severity
from sqlmodel_production.doctor._project import ProjectIndex
from sqlmodel_production.doctor._rule import Rule
from sqlmodel_production.doctor._source import SourceFile
from sqlmodel_production.doctor._syntax import constant, keyword, terminal

_FACTORIES = frozenset({"create_engine", "create_async_engine"})
_LIBRARIES = frozenset({"sqlalchemy", "sqlmodel"})
_UNPOOLED = frozenset({"NullPool"})


class MissingPoolPrePingRule(Rule):
    code = "SMP004"
    title = "Engine without pool_pre_ping"
    severity = Severity.WARNING
    skip_tests = True
    rationale = (
        "Pooled connections die silently: the database restarts or fails over, a proxy or the "
        "server's idle timeout closes them. Without `pool_pre_ping=True` the pool hands such a "
        "connection to the next request, which fails with a connection error instead of "
        "reconnecting. The ping costs one round trip per checkout and saves those errors."
    )
    bad = """\
engine = create_engine(DATABASE_URL)
"""
    good = """\
engine = create_engine(DATABASE_URL, pool_pre_ping=True)
"""

    def check(self, file: SourceFile, project: ProjectIndex) -> Iterator[Finding]:
        local = {function.name for function in file.functions}
        for call in file.nodes(ast.Call):
            ping = keyword(call, "pool_pre_ping")
            if constant(ping) is False:
                yield self._missing(file, ping or call)
                continue
            qualified = file.resolve(call.func)
            name = terminal(qualified)
            if name not in _FACTORIES or ping is not None:
                continue
            if qualified == name:
                if name in local:
                    continue
            elif qualified is None or qualified.partition(".")[0] not in _LIBRARIES:
                continue
            if any(item.arg is None for item in call.keywords):
                continue  # **options may carry it
            if terminal(file.resolve(keyword(call, "poolclass") or call)) in _UNPOOLED:
                continue  # a fresh connection per checkout is never stale
            url = constant(call.args[0]) if call.args else ...
            if isinstance(url, str) and url.startswith("sqlite"):
                continue  # a file needs no ping
            yield self._missing(file, call)

    def _missing(self, file: SourceFile, node: ast.AST) -> Finding:
        return self.finding(
            file,
            node,
            "This engine does not test pooled connections before use: after a database restart, a "
            "failover or an idle timeout, the next request fails with a connection error instead "
            "of reconnecting.",
            "Pass `pool_pre_ping=True` to the engine.",
        )
