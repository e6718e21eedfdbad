"""SMP016: a session or connection opened without a context manager (connection leak)."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from sqlmodel_production.doctor._findings import Finding, Severity
from sqlmodel_production.doctor._project import ProjectIndex
from sqlmodel_production.doctor._rule import Rule
from sqlmodel_production.doctor._source import SourceFile
from sqlmodel_production.doctor._syntax import (
    keyword,
    method_name,
    name_of,
    receiver_name,
    terminal,
)

_SESSIONS = frozenset({"Session", "AsyncSession"})
_FACTORIES = frozenset({"sessionmaker", "async_sessionmaker"})
_CONNECTS = frozenset({"connect", "raw_connection"})


class UnmanagedSessionRule(Rule):
    code = "SMP016"
    title = "Session or connection opened without a context manager"
    severity = Severity.INFO
    #: A test's leak shows up in the test run; fixtures close after their `yield`.
    skip_tests = True
    rationale = (
        "A session or connection holds a pooled connection until it is closed. Opened without "
        "`with`, an exception before the `close()` call (or a forgotten `close()`) leaves it "
        'checked out; under load the pool runs dry ("QueuePool limit reached") or the server '
        'refuses clients ("too many connections"). Open them with `with`/`async with`, or '
        "close them in a `finally`. A session bound to a connection its caller holds "
        "(`Session(bind=op.get_bind())`, `Session(bind=session.connection())`, a listener's "
        "`connection: Connection`) is not flagged, nor is a model the project calls `Session`, "
        "nor a call to a `scoped_session` registry (it returns the current session), "
        "nor test code, nor a command-line command's (`@cli.command()`: its process exits when "
        "it ends, closing the connection), nor a synchronous "
        "`engine.connect()` whose result is dropped on the spot (a probe: the pool takes its "
        "connection back at once). Reported as info: on public projects outside the corpus "
        "most of its findings were connections held open on purpose (an advisory lock kept "
        "for the process's life, a start-up probe) or opened by one-shot commands."
    )
    bad = """\
def count_heroes() -> int:
    session = Session(engine)
    count = len(session.exec(select(Hero.id)).all())
    session.close()
    return count
"""
    good = """\
def count_heroes() -> int:
    with Session(engine) as session:
        return len(session.exec(select(Hero.id)).all())
"""

    def check(self, file: SourceFile, project: ProjectIndex) -> Iterator[Finding]:
        factories = _session_factories(file)
        for call in file.nodes(ast.Call):
            if (
                not _opens(file, project, call, factories)
                or _on_a_connection(file, call)
                or _in_a_command(file, call)
            ):
                continue
            user = file.parents[call]
            if isinstance(user, ast.Expr):
                # Dropped at once (a `try: engine.connect()` probe): CPython frees it on the
                # spot and the pool takes its connection back; a session never connected.
                continue
            if isinstance(user, ast.Await):
                user = file.parents[user]
            if isinstance(user, ast.Attribute | ast.Expr):
                pass
            elif isinstance(user, ast.Assign | ast.AnnAssign):
                targets = (
                    user.targets if isinstance(user, ast.Assign) else [user.target]
                )
                if not all(isinstance(target, ast.Name) for target in targets):
                    continue
                scope = file.enclosing_function(call)
                if scope is not None and all(
                    _managed(file, scope, target.id)
                    for target in targets
                    if isinstance(target, ast.Name)
                ):
                    continue
            else:
                continue
            opened = ast.unparse(call)
            yield self.finding(
                file,
                call,
                f"`{opened}` is opened without a context manager: if anything raises before it is "
                "closed, its connection stays checked out of the pool (a leak).",
                f"Open it with `with {opened} as ...:` (`async with` for async), or close it in a "
                "`finally`.",
            )


def _in_a_command(file: SourceFile, call: ast.Call) -> bool:
    """Inside a command-line command (`@cli.command()`, `@app.command()` of Click, Typer or
    Flask): it runs once in a process of its own, whose exit closes the connection, and
    nothing else shares that pool."""
    function = file.enclosing_function(call)
    while function is not None:
        for decorator in function.decorator_list:
            target = decorator.func if isinstance(decorator, ast.Call) else decorator
            if name_of(target) in _COMMANDS:
                return True
        function = file.enclosing_function(function)
    return False


_COMMANDS = frozenset({"command", "group", "callback"})


def _session_factories(file: SourceFile) -> set[str]:
    names: set[str] = set()
    for assign in file.nodes(ast.Assign):
        value = assign.value
        if (
            isinstance(value, ast.Call)
            and terminal(file.resolve(value.func)) in _FACTORIES
        ):
            names.update(
                target.id for target in assign.targets if isinstance(target, ast.Name)
            )
    return names


def _scoped(file: SourceFile, project: ProjectIndex, func: ast.expr) -> bool:
    """A name bound to the project's `scoped_session(...)` (here, or imported from the
    project), not a library's `Session` of the same name."""
    return (
        isinstance(func, ast.Name)
        and func.id in project.scoped_sessions
        and not project.imported_from_elsewhere(file, func.id)
    )


def _opens(
    file: SourceFile, project: ProjectIndex, call: ast.Call, factories: set[str]
) -> bool:
    name = terminal(file.resolve(call.func))
    if _scoped(file, project, call.func):
        return False  # the registry's current session, removed by its owner
    if isinstance(call.func, ast.Name) and call.func.id in factories:
        return True
    if isinstance(call.func, ast.Name) and name in _SESSIONS:
        # Another library's `Session` (aioboto3, requests) holds no database connection,
        # nor does a project's model of that name (a chat `Session` table).
        origin = file.imports.get(call.func.id)
        if project.resolve_model(file, call.func.id) is not None:
            return False
        return (
            origin is None
            or origin.startswith(("sqlmodel", "sqlalchemy"))
            or project.is_own_import(origin)
        )
    if isinstance(call.func, ast.Attribute):
        if call.func.attr in _CONNECTS:
            return "engine" in receiver_name(call).lower()
        return name in _SESSIONS and (file.resolve(call.func) or "").startswith(
            ("sqlmodel", "sqlalchemy")
        )
    return False


def _on_a_connection(file: SourceFile, call: ast.Call) -> bool:
    """A session bound to a connection its caller holds (`Session(bind=op.get_bind())`).

    Such a session checks nothing out of a pool: the connection's owner closes it.
    """
    bind = keyword(call, "bind") or (call.args[0] if call.args else None)
    if isinstance(bind, ast.Name):
        name = bind.id
        scope = file.enclosing_function(call) or file.tree
        for node in file.body_nodes(scope):
            if (
                isinstance(node, ast.Assign)
                and any(isinstance(t, ast.Name) and t.id == name for t in node.targets)
                and node.lineno < call.lineno
            ):
                bind = node.value
    if bind is None:
        return False
    if method_name(bind) in {"get_bind", "connection"}:
        return True  # `op.get_bind()`, `session.connection()`: the caller's connection
    # A parameter annotated `Connection` (an event listener's, a helper's).
    function = file.enclosing_function(call)
    if isinstance(bind, ast.Name) and function is not None:
        for arg in [
            *function.args.posonlyargs,
            *function.args.args,
            *function.args.kwonlyargs,
        ]:
            if arg.arg == bind.id and arg.annotation is not None:
                return terminal(file.resolve(arg.annotation)) in {
                    "Connection",
                    "AsyncConnection",
                }
    return False


def _managed(file: SourceFile, scope: ast.AST, name: str) -> bool:
    """Whether the function closes `name` in a `finally`, enters it with `with`, or hands it on."""
    for node in file.body_nodes(scope):
        if isinstance(node, ast.With | ast.AsyncWith):
            values = [item.context_expr for item in node.items]
        elif isinstance(node, ast.Return | ast.Yield):
            values = [node.value] if node.value is not None else []
        else:
            values = []
        if any(isinstance(value, ast.Name) and value.id == name for value in values):
            return True
        if isinstance(node, ast.Try | ast.TryStar):
            for statement in node.finalbody:
                for inner in ast.walk(statement):
                    if (
                        isinstance(inner, ast.Call)
                        and isinstance(inner.func, ast.Attribute)
                        and inner.func.attr == "close"
                        and isinstance(inner.func.value, ast.Name)
                        and inner.func.value.id == name
                    ):
                        return True
    return False
