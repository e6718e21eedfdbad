"""Following a value through a function and into the functions of the project it is
handed to: what the rules that ask "does this value reach X?" share (pure)."""

from __future__ import annotations

import ast

from sqlmodel_production.doctor._project import ProjectIndex
from sqlmodel_production.doctor._source import FunctionNode, SourceFile
from sqlmodel_production.doctor._syntax import name_of, terminal

__all__ = ["DEPTH", "called", "loads", "receivers"]

#: How many calls deep a value is followed into the project's functions.
DEPTH = 3


def loads(file: SourceFile, function: ast.AST, name: str) -> list[ast.Name]:
    """The reads of `name` in the function, those in its lambdas included
    (`run(lambda: service.list(page_size=page_size))`)."""
    found: list[ast.Name] = []
    for node in file.body_nodes(function):
        if isinstance(node, ast.Name) and node.id == name:
            if isinstance(node.ctx, ast.Load):
                found.append(node)
        elif isinstance(node, ast.Lambda) and name not in {
            arg.arg for arg in ast.walk(node.args) if isinstance(arg, ast.arg)
        }:
            found.extend(loads(file, node, name))
    return found


# `run_in_threadpool(read, path, offset)` calls `read(path, offset)`.
_RUNNERS = frozenset({"run_in_threadpool", "to_thread", "run_sync"})


def called(call: ast.Call) -> str:
    """`seek` for `fp.seek(offset)`, `read` for `read(offset)`."""
    return name_of(call.func)


def receivers(
    file: SourceFile, project: ProjectIndex, call: ast.Call, argument: ast.AST
) -> list[tuple[SourceFile, FunctionNode, str]]:
    """The project functions the call hands `argument` (a positional argument or a
    keyword) to, each with its parameter's name: those of the call's name that take it."""
    args = list(call.args)
    target = call.func
    if called(call) in _RUNNERS and args:
        target, args = args[0], args[1:]
    # A protocol's or an abstract class's declaration does nothing with the value: the
    # implementations decide.
    # The calling function itself is no candidate: an endpoint `list_steps` that calls
    # `Service.list_steps(...)` hands the value on, it does not recurse.
    # A method call (`dao.list_versions(...)`) goes to a method where the project has one
    # of that name, a plain call to a function.
    caller = file.enclosing_function(call)
    candidates = [
        (other, callee)
        for other, callee in project.functions.get(_function_name(file, target), [])
        if not _declaration_only(callee) and callee is not caller
    ]
    wanted = isinstance(target, ast.Attribute)
    if any(_is_method(other, callee) == wanted for other, callee in candidates):
        candidates = [
            (other, callee)
            for other, callee in candidates
            if _is_method(other, callee) == wanted
        ]
    found: list[tuple[SourceFile, FunctionNode, str]] = []
    for other, callee in candidates:
        names = [arg.arg for arg in [*callee.args.posonlyargs, *callee.args.args]]
        if names[:1] in (["self"], ["cls"]) and isinstance(target, ast.Attribute):
            names = names[1:]
        if isinstance(argument, ast.keyword) and argument.arg is not None:
            found.append((other, callee, argument.arg))
        elif argument in args and args.index(argument) < len(names):
            found.append((other, callee, names[args.index(argument)]))
    return found


def _function_name(file: SourceFile, target: ast.expr) -> str:
    """The name a call's target is defined under: `get_alerts` for `get_alerts_db` imported
    as `from db import get_alerts as get_alerts_db`."""
    if isinstance(target, ast.Name):
        return terminal(file.resolve(target)) or target.id
    return name_of(target)


def _is_method(file: SourceFile, function: FunctionNode) -> bool:
    return isinstance(file.parents.get(function), ast.ClassDef)


def _declaration_only(function: FunctionNode) -> bool:
    """A body of only a docstring, `...`, `pass` or `raise NotImplementedError`."""
    for statement in function.body:
        if isinstance(statement, ast.Pass):
            continue
        if isinstance(statement, ast.Expr) and isinstance(
            statement.value, ast.Constant
        ):
            continue  # a docstring or `...`
        if isinstance(statement, ast.Raise) and "NotImplementedError" in ast.unparse(
            statement
        ):
            continue
        return False
    return True
