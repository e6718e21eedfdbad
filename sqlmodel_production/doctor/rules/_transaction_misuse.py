"""SMP019: a unit of work of `transaction()` / `@transactional` managed by hand."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import TypeGuard

from sqlmodel_production.doctor._findings import Finding, Severity
from sqlmodel_production.doctor._project import ProjectIndex
from sqlmodel_production.doctor._rule import Rule
from sqlmodel_production.doctor._source import FunctionNode, SourceFile
from sqlmodel_production.doctor._syntax import method_name

_PACKAGE = "sqlmodel_production"
_ENDS = frozenset({"commit", "rollback"})
_WRITES = frozenset({"add", "add_all", "delete", "flush", "merge", "bulk_save_objects"})
_DML = frozenset({"insert", "update", "delete"})
_NESTED = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)


class TransactionMisuseRule(Rule):
    code = "SMP019"
    title = "Unit of work of transaction() managed by hand"
    severity = Severity.WARNING
    rationale = (
        "`transaction()` and `@transactional` begin, commit and retry a unit of work "
        "themselves. A `commit()` or `rollback()` inside it ends the transaction the retry "
        "loop owns: what came before it can no longer be retried together with what comes "
        "after, and the loop's own commit finds nothing to commit. Writes of the same session "
        "before `transaction(session)` (an `add`, a `flush`, an ORM `update`) could not be "
        "repeated by a retry, so `transaction()` refuses them at run time "
        "(`InvalidRequestError`); reads before it are fine. Let the unit of work commit, and "
        "commit earlier writes (or move them inside) before the loop."
    )
    bad = """\
@transactional
def rename(session: Session, hero_id: int, name: str) -> None:
    session.exec(select(Hero).where(Hero.id == hero_id)).one().name = name
    session.commit()
"""
    good = """\
@transactional
def rename(session: Session, hero_id: int, name: str) -> None:
    session.exec(select(Hero).where(Hero.id == hero_id)).one().name = name
"""

    def check(self, file: SourceFile, project: ProjectIndex) -> Iterator[Finding]:
        for function in file.functions:
            if any(self._is_ours(file, d) for d in function.decorator_list):
                for node in file.body_nodes(function):
                    if _ends_transaction(node):
                        yield self._inside(file, node, "`@transactional` function")
            for loop in file.body_nodes(function):
                session = self._retry_loop(file, loop)
                if session is None:
                    continue
                assert isinstance(loop, ast.For | ast.AsyncFor)
                for node in _loop_nodes(loop):
                    if _ends_transaction(node):
                        yield self._inside(
                            file, node, "unit of work of `transaction()`"
                        )
                if isinstance(session, ast.Name):
                    write = _write_before(file, function, loop, session.id)
                    if write is not None:
                        yield self.finding(
                            file,
                            loop,
                            f"`transaction({session.id})` follows writes of the same session "
                            f"(`{ast.unparse(write)}` at line {write.lineno}) that are not "
                            "committed: a retry could not repeat them, so it raises "
                            "`InvalidRequestError`.",
                            f"Commit them first (`{session.id}.commit()`), or move them into the "
                            "unit of work.",
                        )

    def _inside(self, file: SourceFile, node: ast.Call, where: str) -> Finding:
        call = ast.unparse(node)
        return self.finding(
            file,
            node,
            f"`{call}` inside a {where}: it ends the transaction the retry loop owns, so "
            "the work before it is no longer retried with the work after it.",
            "Remove it: the unit of work commits when it ends, and rolls back and retries on "
            "a deadlock or serialization failure.",
        )

    def _is_ours(self, file: SourceFile, decorator: ast.expr) -> bool:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        return _ours(file, target, "transactional")

    def _retry_loop(self, file: SourceFile, loop: ast.AST) -> ast.expr | None:
        """The session of `for attempt in transaction(session)`, if `loop` is one."""
        if not isinstance(loop, ast.For | ast.AsyncFor):
            return None
        call = loop.iter
        if not (isinstance(call, ast.Call) and call.args):
            return None
        return call.args[0] if _ours(file, call.func, "transaction") else None


def _ours(file: SourceFile, node: ast.expr, name: str) -> bool:
    """The package's `transaction` / `transactional`: imported from it, or a bare name
    neither imported nor defined in the file (a snippet)."""
    dotted = file.resolve(node) or ""
    if dotted == name:
        return all(function.name != name for function in file.functions)
    return dotted.startswith(_PACKAGE) and dotted.endswith("." + name)


def _ends_transaction(node: ast.AST) -> TypeGuard[ast.Call]:
    return (
        isinstance(node, ast.Call)
        and not node.args
        and method_name(node) in _ENDS
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Name | ast.Attribute)
    )


def _loop_nodes(loop: ast.For | ast.AsyncFor) -> Iterator[ast.AST]:
    pending: list[ast.AST] = list(loop.body)
    while pending:
        node = pending.pop()
        yield node
        if not isinstance(node, _NESTED):
            pending.extend(ast.iter_child_nodes(node))


def _write_before(
    file: SourceFile, function: FunctionNode, loop: ast.AST, session: str
) -> ast.Call | None:
    """The last uncommitted write of `session` before `loop` in the function, if any."""
    last: ast.Call | None = None
    for node in file.body_nodes(function):
        if node is loop:
            return last
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == session
        ):
            continue
        method = node.func.attr
        if method in {"commit", "rollback"}:
            last = None
        elif method in _WRITES or (
            method == "execute"
            and node.args
            and isinstance(node.args[0], ast.Call)
            and _dml(file, node.args[0])
        ):
            last = node
    return None


def _dml(file: SourceFile, statement: ast.Call) -> bool:
    node: ast.expr = statement
    while isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        node = node.func.value
    if isinstance(node, ast.Call):
        name = file.resolve(node.func) or ""
        return name.rpartition(".")[2] in _DML
    return False
