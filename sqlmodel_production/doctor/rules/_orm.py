"""Questions about ORM usage that several rules share (pure)."""

from __future__ import annotations

import ast

from sqlmodel_production.doctor._project import ProjectIndex
from sqlmodel_production.doctor._source import FunctionNode, SourceFile
from sqlmodel_production.doctor._syntax import annotation_names, method_name, terminal

__all__ = [
    "callee",
    "eager_loaded",
    "eager_loaded_by",
    "is_commit",
    "uses_async_session",
]

_LOADERS = frozenset(
    {"selectinload", "joinedload", "subqueryload", "immediateload", "contains_eager"}
)
_ASYNC_SESSION_CALLS = frozenset(
    {
        "exec",
        "execute",
        "get",
        "scalars",
        "scalar",
        "refresh",
        "commit",
        "flush",
        "stream",
        "run_sync",
    }
)


def callee(file: SourceFile, call: ast.Call) -> str:
    """The called name: `selectinload` for `selectinload(...)` and `x.selectinload(...)`."""
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return terminal(file.resolve(call.func))


def is_commit(node: ast.AST) -> bool:
    """A `session.commit()` call (awaited or not)."""
    return (
        isinstance(node, ast.Call) and not node.args and method_name(node) == "commit"
    )


def eager_loaded(file: SourceFile, scope: ast.AST) -> set[str]:
    """Relationship names loaded eagerly in a function or at module level.

    Counts loader options (`selectinload(Team.heroes)`, `joinedload("team")`) and
    `session.refresh(obj, ["heroes"])`.
    """
    names: set[str] = set()
    for tree in (scope, file.tree):
        for node in file.body_nodes(tree):
            if not isinstance(node, ast.Call):
                continue
            name = callee(file, node)
            if name in _LOADERS:
                arguments: list[ast.AST] = [*node.args]
            elif name == "refresh":
                arguments = [*node.args[1:], *(k.value for k in node.keywords)]
            else:
                continue
            for argument in arguments:
                for inner in ast.walk(argument):
                    if isinstance(inner, ast.Attribute):
                        names.add(inner.attr)
                    elif isinstance(inner, ast.Constant) and isinstance(
                        inner.value, str
                    ):
                        names.add(inner.value)
    return names


def eager_loaded_by(
    file: SourceFile, function: FunctionNode, project: ProjectIndex, calls: set[str]
) -> set[str]:
    """`eager_loaded` of a function and of the project functions it took objects from
    (a repository's `list_teams()` that loads `Team.heroes` with `selectinload`)."""
    names = eager_loaded(file, function)
    # Through the functions those call in turn (a service's `list_users()` returning a
    # DAO's query), a few levels deep.
    pending, seen = [(name, 0) for name in calls], set(calls)
    while pending:
        name, depth = pending.pop()
        for other_file, other in project.functions.get(name, []):
            names |= eager_loaded(other_file, other)
            if depth >= _CALL_DEPTH:
                continue
            for node in other_file.body_nodes(other):
                callee = _callee(node)
                if callee is not None and callee not in seen:
                    seen.add(callee)
                    pending.append((callee, depth + 1))
    return names


_CALL_DEPTH = 2


def _callee(node: ast.AST) -> str | None:
    """The name a call calls (`get_users` for `UserDao.get_users(...)`)."""
    if not isinstance(node, ast.Call):
        return None
    if isinstance(node.func, ast.Attribute):
        return node.func.attr
    return node.func.id if isinstance(node.func, ast.Name) else None


def uses_async_session(file: SourceFile, function: FunctionNode) -> bool:
    """An `async def` that awaits session methods or takes an `AsyncSession`."""
    if not isinstance(function, ast.AsyncFunctionDef):
        return False
    for arg in [*function.args.args, *function.args.kwonlyargs]:
        annotation = arg.annotation
        if annotation is not None and any(
            "AsyncSession" in name.id for name in _names_in(annotation)
        ):
            return True
    return any(
        isinstance(node, ast.Await) and method_name(node) in _ASYNC_SESSION_CALLS
        for node in file.body_nodes(function)
    )


def _names_in(annotation: ast.AST) -> list[ast.Name]:
    found = list(annotation_names(annotation))
    found.extend(node for node in ast.walk(annotation) if isinstance(node, ast.Name))
    return found
