"""Which names of a function are SQLAlchemy sessions (pure)."""

from __future__ import annotations

import ast

from sqlmodel_production.doctor._source import FunctionNode, SourceFile
from sqlmodel_production.doctor._syntax import terminal

__all__ = ["session_names"]

_SESSION_CLASSES = frozenset({"Session", "AsyncSession", "scoped_session"})


def session_names(file: SourceFile, function: FunctionNode) -> set[str]:
    """Names known to hold a session: a parameter annotated with a session type (or a
    `SessionDep`-style alias), `Session(...)` / `AsyncSession(...)`, or the target of
    `with Session(engine) as s` / `async with session_factory() as s`."""
    names: set[str] = set()
    for arg in [
        *function.args.posonlyargs,
        *function.args.args,
        *function.args.kwonlyargs,
    ]:
        if arg.annotation is not None and _session_annotation(file, arg.annotation):
            names.add(arg.arg)
    for node in file.body_nodes(function):
        if isinstance(node, ast.With | ast.AsyncWith):
            for item in node.items:
                if isinstance(item.optional_vars, ast.Name) and _makes_session(
                    file, item.context_expr, entered=True
                ):
                    names.add(item.optional_vars.id)
        elif (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
            and _makes_session(file, node.value)
        ):
            names.add(node.targets[0].id)
    return names


def _session_annotation(file: SourceFile, annotation: ast.expr) -> bool:
    for node in ast.walk(annotation):
        name = (
            terminal(file.resolve(node))
            if isinstance(node, ast.Name | ast.Attribute)
            else ""
        )
        if name in _SESSION_CLASSES or (
            name.endswith(("SessionDep", "SessionDependency"))
        ):
            return True
    return False


def _makes_session(file: SourceFile, value: ast.expr, *, entered: bool = False) -> bool:
    """`Session(engine)`, `SessionLocal()`, `sessionmaker(...)()`; entered by a `with`,
    any call named for a session (`get_session()` as a context manager) too."""
    if isinstance(value, ast.Await):
        value = value.value
    if not isinstance(value, ast.Call):
        return False
    func = value.func
    if isinstance(func, ast.Call):
        return "sessionmaker" in terminal(file.resolve(func.func)).lower()
    name = terminal(file.resolve(func))
    if name in _SESSION_CLASSES:
        return True
    lowered = name.lower()
    return "session" in lowered and (entered or not lowered.startswith("get_"))
