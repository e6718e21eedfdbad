"""SMP010: `commit()` inside a loop."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from sqlmodel_production.doctor._findings import Finding, Severity
from sqlmodel_production.doctor._project import ProjectIndex
from sqlmodel_production.doctor._rule import Rule
from sqlmodel_production.doctor._source import SourceFile

from ._orm import is_commit

_LOOPS = (ast.For, ast.AsyncFor, ast.While)
_EXITS = (ast.Return, ast.Break, ast.Raise)


class CommitInLoopRule(Rule):
    code = "SMP010"
    title = "Commit inside a loop"
    severity = Severity.WARNING
    rationale = (
        "Each commit is a round trip and a durable write (an fsync on the server): committing per "
        "item turns a batch of a thousand rows into a thousand transactions, and a failure halfway "
        "leaves half the batch stored. Add the objects in the loop and commit once after it. A "
        "retry loop that leaves right after its commit is not flagged, nor is a commit guarded by "
        "its own `try`/`except` in the loop (each item kept or rolled back on its own, on purpose)."
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
        for call in file.nodes(ast.Call):
            if is_commit(call) and _in_repeating_loop(file, call):
                session = ast.unparse(call.func).removesuffix(".commit")
                yield self.finding(
                    file,
                    call,
                    f"`{session}.commit()` runs once per iteration: one transaction and one "
                    "durable write per item, and a failure halfway leaves the batch half stored.",
                    f"Commit once after the loop (`{session}.add_all(...)` then `{session}.commit()`).",
                )


def _in_repeating_loop(file: SourceFile, call: ast.Call) -> bool:
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
            return True
        if (
            isinstance(parent, ast.Try | ast.TryStar)
            and parent.handlers
            and child in parent.body
        ):
            return False
        for block in _blocks_after(parent, child):
            if any(isinstance(statement, _EXITS) for statement in block):
                return False
        child, parent = parent, file.parents.get(parent)
    return False


def _blocks_after(parent: ast.AST, child: ast.AST) -> Iterator[list[ast.stmt]]:
    """The statements that run after `child` in the blocks of `parent` holding it."""
    for name in ("body", "orelse", "finalbody"):
        block = getattr(parent, name, None)
        if isinstance(block, list) and child in block:
            yield block[block.index(child) + 1 :]
            if isinstance(parent, ast.Try | ast.TryStar) and name == "body":
                yield parent.orelse
                yield parent.finalbody
