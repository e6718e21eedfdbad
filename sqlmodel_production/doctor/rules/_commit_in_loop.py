"""SMP010: `commit()` inside a loop."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

from sqlmodel_production.doctor._findings import Finding, Severity
from sqlmodel_production.doctor._project import ProjectIndex
from sqlmodel_production.doctor._rule import Rule
from sqlmodel_production.doctor._source import LoopNode, SourceFile
from sqlmodel_production.doctor._syntax import terminal

from ._orm import is_commit

_LOOPS = (ast.For, ast.AsyncFor, ast.While)
_PLAIN = frozenset(
    {
        "len",
        "str",
        "int",
        "float",
        "bool",
        "print",
        "setattr",
        "getattr",
        "hasattr",
        "isinstance",
        "range",
        "enumerate",
        "list",
        "dict",
        "set",
        "tuple",
        "sorted",
        "zip",
        "min",
        "max",
        "sum",
        "any",
        "all",
        "cast",
    }
)
_SQL_LIMIT = re.compile(r"\bLIMIT\b", re.IGNORECASE)
_STATEMENTS = frozenset({"select", "insert", "update", "delete", "text", "and_", "or_"})
# Methods on collections, rows and loggers that do no outside work.
_HARMLESS = frozenset(
    {
        "append",
        "extend",
        "add",
        "remove",
        "discard",
        "pop",
        "get",
        "items",
        "keys",
        "values",
        "copy",
        "format",
        "strip",
        "lower",
        "upper",
        "debug",
        "info",
        "warning",
        "warn",
        "error",
        "exception",
        "critical",
        "model_dump",
        "model_validate",
        "sqlmodel_update",
        "utcnow",
        "now",
        "isoformat",
        "all",
        "first",
        "one",
        "one_or_none",
        "scalar",
        "scalar_one",
        "scalar_one_or_none",
        "scalars",
        "fetchall",
        "fetchone",
        "fetchmany",
        "mappings",
        "unique",
    }
)
_EXITS = (ast.Return, ast.Break, ast.Raise)


class CommitInLoopRule(Rule):
    code = "SMP010"
    title = "Commit inside a loop"
    severity = Severity.INFO  # under 90 % precision on unseen projects (docs/doctor.md)
    rationale = (
        "Each commit is a round trip and a durable write (an fsync on the server): committing per "
        "item turns a batch of a thousand rows into a thousand transactions, and a failure halfway "
        "leaves half the batch stored. Add the objects in the loop and commit once after it. A "
        "retry loop that leaves right after its commit is not flagged, nor is a commit guarded by "
        "its own `try`/`except` in the loop (each item kept or rolled back on its own, on purpose), "
        "nor a loop that also calls other services (an API, a plugin, a mailer): there a commit per "
        "item is a checkpoint that later failures must not undo. A loop that opens its own "
        "session per iteration, or works on a page of rows per iteration (`.limit(...)`, "
        "`.in_(ids[i : i + size])`) and "
        "commits per batch, is not flagged either, nor a commit on every n-th item only "
        "(`if i % 100 == 0:`), nor a migration (it runs once, and a session bound to "
        "Alembic's connection commits nothing of its own). An info: on real projects most "
        "commits per item were checkpoints or small clean-ups, on purpose."
    )
    bad = """\
def import_heroes(session: Session, heroes: list[HeroCreate]) -> None:
    for hero in heroes:
        session.add(Hero.model_validate(hero))
        session.commit()
"""
    good = """\
def import_heroes(session: Session, heroes: list[HeroCreate]) -> None:
    for hero in heroes:
        session.add(Hero.model_validate(hero))
    session.commit()
"""

    def check(self, file: SourceFile, project: ProjectIndex) -> Iterator[Finding]:
        if file.is_migration:
            return  # runs once, inside the migration's own transaction
        for call in file.nodes(ast.Call):
            if not is_commit(call):
                continue
            loop = _repeating_loop(file, call)
            if (
                loop is not None
                and _database_only(file, loop, call)
                and not _per_iteration_session(loop, call)
                and not _pages(loop)
                and not _retries(file, loop)
            ):
                session = ast.unparse(call.func).removesuffix(".commit")
                yield self.finding(
                    file,
                    call,
                    f"`{session}.commit()` runs once per iteration: one transaction and one "
                    "durable write per item, and a failure halfway leaves the batch half stored.",
                    f"Commit once after the loop (`{session}.add_all(...)` then `{session}.commit()`).",
                )


def _repeating_loop(file: SourceFile, call: ast.Call) -> LoopNode | None:
    """Whether `call` sits in a loop body that goes on to the next iteration after it.

    A commit inside a `try` with handlers within the loop commits each item on its own on
    purpose (one failing item must not undo the others): not flagged.
    """
    child: ast.AST = call
    parent = file.parents.get(child)
    while parent is not None and not isinstance(
        parent,
        ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda | ast.Module,
    ):
        if isinstance(parent, _LOOPS) and child in parent.body:
            after = parent.body[parent.body.index(child) + 1 :]
            if any(isinstance(statement, _EXITS) for statement in after):
                return None
            return parent
        if (
            isinstance(parent, ast.Try | ast.TryStar)
            and parent.handlers
            and child in parent.body
        ):
            return None
        if isinstance(parent, ast.If) and child in parent.body and _every_nth(parent):
            return None  # `if i % 100 == 0: commit()`: a batch of 100, on purpose
        for block in _blocks_after(parent, child):
            if any(isinstance(statement, _EXITS) for statement in block):
                return None
        child, parent = parent, file.parents.get(parent)
    return None


def _every_nth(branch: ast.If) -> bool:
    """`if i % 100 == 0:`: the branch runs on every n-th iteration only."""
    return any(
        isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod)
        for node in ast.walk(branch.test)
    )


def _database_only(file: SourceFile, loop: LoopNode, commit: ast.Call) -> bool:
    """Whether an iteration does nothing but database work before its commit.

    A loop that also calls other services (an HTTP API, a plugin, a mailer) commits what
    each item achieved so that later failures do not undo it: a checkpoint, not a batch.
    """
    session = _root(commit.func)
    for statement in loop.body:
        for node in ast.walk(statement):
            if isinstance(node, ast.Call) and not _local_call(file, node, session):
                return False
    return True


def _per_iteration_session(loop: LoopNode, commit: ast.Call) -> bool:
    """The session is opened inside the loop (`with Session(engine) as session:`): each
    iteration is its own unit of work by construction."""
    session = _root(commit.func)
    return any(
        isinstance(node, ast.With | ast.AsyncWith)
        and any(
            isinstance(item.optional_vars, ast.Name)
            and item.optional_vars.id == session
            for item in node.items
        )
        for statement in loop.body
        for node in ast.walk(statement)
    )


def _retries(file: SourceFile, loop: LoopNode) -> bool:
    """`for attempt in transaction(session)`: the package's retry loop, one transaction
    for all its attempts (SMP019 reports a commit inside it)."""
    return (
        isinstance(loop, ast.For | ast.AsyncFor)
        and isinstance(loop.iter, ast.Call)
        and (file.resolve(loop.iter.func) or "").startswith("sqlmodel_production")
    )


def _pages(loop: LoopNode) -> bool:
    """The loop works on a page of rows per iteration (`.limit(...)`, `LIMIT` in SQL text,
    `.in_(ids[i : i + size])`): a commit per batch keeps transactions and locks short, on
    purpose."""
    return any(
        (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and (
                node.func.attr == "limit"
                or (  # `.in_(ids[i : i + size])`
                    node.func.attr == "in_"
                    and len(node.args) == 1
                    and isinstance(node.args[0], ast.Subscript)
                    and isinstance(node.args[0].slice, ast.Slice)
                )
            )
        )
        or (isinstance(node, ast.Constant) and _SQL_LIMIT.search(str(node.value)))
        for statement in loop.body
        for node in ast.walk(statement)
    )


def _local_call(file: SourceFile, call: ast.Call, session: str | None) -> bool:
    func = call.func
    root = _root(func)
    # The session, a model or a class (`Hero(...)`, `Hero.name.in_(...)`), or SQL being
    # built (`select(Hero).where(...).limit(...)`, `func.count()`).
    if root is not None and (
        root == session or root[:1].isupper() or root in _STATEMENTS or root == "func"
    ):
        return True
    if isinstance(func, ast.Name):
        return func.id in _PLAIN or terminal(file.resolve(func)) in _STATEMENTS
    if isinstance(func, ast.Attribute) and func.attr == "get":
        return isinstance(
            func.value, ast.Name
        )  # `row.get(...)`, not `plugin.instance.get`
    return isinstance(func, ast.Attribute) and func.attr in _HARMLESS


def _root(node: ast.AST) -> str | None:
    while isinstance(node, ast.Attribute | ast.Call | ast.Subscript):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def _blocks_after(parent: ast.AST, child: ast.AST) -> Iterator[list[ast.stmt]]:
    """The statements that run after `child` in the blocks of `parent` holding it."""
    for name in ("body", "orelse", "finalbody"):
        block = getattr(parent, name, None)
        if isinstance(block, list) and child in block:
            yield block[block.index(child) + 1 :]
            if isinstance(parent, ast.Try | ast.TryStar) and name == "body":
                yield parent.orelse
                yield parent.finalbody
