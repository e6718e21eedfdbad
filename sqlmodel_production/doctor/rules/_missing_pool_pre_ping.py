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
# No pool, or SQLite's own (one connection for an in-memory database, one per thread).
_UNPOOLED = frozenset({"NullPool", "StaticPool", "SingletonThreadPool"})


class MissingPoolPrePingRule(Rule):
    code = "SMP004"
    title = "Engine without pool_pre_ping"
    severity = Severity.INFO
    skip_tests = True
    rationale = (
        "Pooled connections die silently: the database restarts or fails over, a proxy or the "
        "server's idle timeout closes them. Without `pool_pre_ping=True` the pool hands such a "
        "connection to the next request, which fails with a connection error instead of "
        "reconnecting. The ping costs one round trip per checkout and saves those errors. An "
        "engine made and dropped within one function (a migration run, a start-up probe) is not "
        "flagged: none of its connections sits idle long enough; nor is the fallback engine an "
        "`except` clause makes when its `try`'s engine call fails (that call is checked), nor "
        "an engine on SQLite (its URL, its pool class, or a branch that asks for SQLite), nor "
        "any engine of a project that runs on SQLite alone (its code names no other database "
        "and its dependency files list no server driver). Reported as info: on public "
        "projects outside the corpus, half of its findings were engines that hold no idle "
        "connection for long (made per call by a helper, used once at start-up, run by a "
        "one-shot command, or never used), which it cannot yet tell apart from an "
        "application's long-lived pool."
    )
    bad = """\
engine = create_engine(DATABASE_URL)
"""
    good = """\
engine = create_engine(DATABASE_URL, pool_pre_ping=True)
"""

    def check(self, file: SourceFile, project: ProjectIndex) -> Iterator[Finding]:
        if project.sqlite_only:
            return  # a file has no server to restart nor idle timeout to close it
        local = {function.name for function in file.functions}
        for call in file.nodes(ast.Call):
            ping = keyword(call, "pool_pre_ping")
            if constant(ping) is False:
                if not _sqlite(file, call):
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
            if _sqlite(file, call):
                continue  # a file needs no ping
            if _short_lived(file, call):
                continue  # a migration run or a start-up probe: no connection sits idle
            if _fallback(file, call):
                continue  # the `try`'s engine is the one that counts
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


def _fallback(file: SourceFile, call: ast.Call) -> bool:
    """An engine made in an `except` clause whose `try` makes one too: the fallback for a
    pool that refuses the first call's options (`except TypeError:` on SQLite)."""
    for _, parent in file.steps_up(call):
        attempt = file.parents.get(parent)
        if (
            isinstance(parent, ast.ExceptHandler)
            and isinstance(attempt, ast.Try | ast.TryStar)
            and any(
                isinstance(node, ast.Call)
                and terminal(file.resolve(node.func)) in _FACTORIES
                for statement in attempt.body
                for node in ast.walk(statement)
            )
        ):
            return True
    return False


def _short_lived(file: SourceFile, call: ast.Call) -> bool:
    """An engine made inside a function and never handed out of it.

    It lives for one call (an Alembic `run_migrations_online`, a readiness probe), so no
    pooled connection waits long enough to go stale.
    """
    function = file.enclosing_function(call)
    if function is None:
        return False
    parent = file.parents.get(call)
    if isinstance(parent, ast.withitem):
        return True
    # `async with create_async_engine(url).begin() as conn:` - used once, then dropped.
    if isinstance(parent, ast.Attribute):
        method = file.parents.get(parent)
        if method is not None and isinstance(file.parents.get(method), ast.withitem):
            return True
    if not (
        isinstance(parent, ast.Assign)
        and len(parent.targets) == 1
        and isinstance(parent.targets[0], ast.Name)
    ):
        return False
    name = parent.targets[0].id
    for node in file.body_nodes(function):
        if isinstance(node, ast.Global | ast.Nonlocal) and name in node.names:
            return False
        if isinstance(node, ast.Return | ast.Yield | ast.YieldFrom) and any(
            isinstance(inner, ast.Name) and inner.id == name for inner in ast.walk(node)
        ):
            return False
        if (
            isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Name)
            and node.value.id == name
        ):
            return False  # stored elsewhere (`self.engine = engine`)
    return True


def _sqlite(file: SourceFile, call: ast.Call) -> bool:
    """An engine on SQLite: a `sqlite` URL (literal, f-string, or a name bound to one in
    this module), SQLite's own `check_same_thread` connect argument, or an engine made by
    a function that says it is SQLite's (`def aio_sqlite_engine(url)`)."""
    function = file.enclosing_function(call)
    if function is not None and "sqlite" in function.name.lower():
        return True
    if _in_sqlite_branch(file, call):
        return True
    connect_args = keyword(call, "connect_args")
    if isinstance(connect_args, ast.Dict) and any(
        constant(key) == "check_same_thread" for key in connect_args.keys
    ):
        return True
    url = call.args[0] if call.args else keyword(call, "url")
    return url is not None and _starts_with_sqlite(file, url, depth=0)


def _in_sqlite_branch(file: SourceFile, call: ast.Call) -> bool:
    """Made in the branch of an `if` that asks for SQLite (`if is_memory_sqlite(url):`)."""
    return any(
        isinstance(parent, ast.If)
        and child in parent.body
        and "sqlite" in ast.unparse(parent.test).lower()
        for child, parent in file.steps_up(call)
    )


def _starts_with_sqlite(file: SourceFile, node: ast.expr, depth: int) -> bool:
    if depth > 3:
        return False
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str) and node.value.startswith("sqlite")
    if isinstance(node, ast.JoinedStr):
        return bool(node.values) and _starts_with_sqlite(file, node.values[0], depth)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _starts_with_sqlite(file, node.left, depth + 1)
    if isinstance(node, ast.Call):  # `get_sqlite_dsn(path)`: a helper that says so
        return "sqlite" in terminal(file.resolve(node.func)).lower()
    if isinstance(node, ast.Name):
        values = [
            assign.value
            for assign in file.nodes(ast.Assign)
            if any(isinstance(t, ast.Name) and t.id == node.id for t in assign.targets)
        ]
        return bool(values) and all(
            _starts_with_sqlite(file, value, depth + 1) for value in values
        )
    return False
