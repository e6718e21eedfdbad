"""SMP013: a lazy relationship read in a loop without eager loading (likely N+1)."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from sqlmodel_production.doctor._findings import Finding, Severity
from sqlmodel_production.doctor._project import ProjectIndex
from sqlmodel_production.doctor._rule import Rule
from sqlmodel_production.doctor._source import COMPREHENSIONS, SourceFile

from ._orm import eager_loaded_by, uses_async_session
from ._receivers import Receivers


class RelationshipInLoopRule(Rule):
    code = "SMP013"
    title = "Lazy relationship read in a loop (N+1 queries)"
    severity = Severity.INFO  # under 90 % precision on unseen projects (docs/doctor.md)
    rationale = (
        "A relationship loads lazily by default: reading `hero.team` runs a SELECT the first time, "
        "for each hero. In a loop over a list that is one query for the list plus one per item, "
        "the N+1 problem: fast on ten test rows, slow on a real page. Load the relationship with "
        'the list (`.options(selectinload(Hero.team))`) or declare it `lazy="selectin"`. A read '
        "on the way out of the loop (in a `raise`, `return` or `break`, or a branch ending with "
        "one) runs once and is not flagged. An info: it cannot see the loader options a caller "
        "gave the query that loaded the list, nor that every item points at one parent the "
        "session already holds."
    )
    bad = """\
@app.get("/heroes/")
def read_heroes(*, session: SessionDep):
    heroes = session.exec(select(Hero).limit(100)).all()
    return [{"name": hero.name, "team": hero.team.name} for hero in heroes]
"""
    good = """\
@app.get("/heroes/")
def read_heroes(*, session: SessionDep):
    heroes = session.exec(select(Hero).options(selectinload(Hero.team)).limit(100)).all()
    return [{"name": hero.name, "team": hero.team.name} for hero in heroes]
"""

    def check(self, file: SourceFile, project: ProjectIndex) -> Iterator[Finding]:
        if not project.lazy_relationships or file.is_migration:
            return  # (a data migration runs once: its loops are not a production path)
        for function in file.functions:
            if uses_async_session(file, function):
                continue  # SMP014 reports these: there the read is an error, not a slowdown
            receivers: Receivers | None = None
            eager: set[str] | None = None
            for loop_target, body in _loops(file, function):
                reported: set[str] = set()
                for node in body:
                    for inner in ast.walk(node):
                        if not (
                            isinstance(inner, ast.Attribute)
                            and isinstance(inner.ctx, ast.Load)
                            and isinstance(inner.value, ast.Name)
                            and inner.value.id == loop_target
                            and inner.attr in project.lazy_relationships
                            and inner.attr not in reported
                        ):
                            continue
                        # Only an object known to be a mapped row with this relationship,
                        # lazy-loaded: not a schema or DTO with a field of the same name.
                        receivers = receivers or Receivers(file, function, project)
                        model = receivers.model_of(loop_target)
                        relationship = (
                            None
                            if model is None
                            else project.relationship(model, inner.attr)
                        )
                        if relationship is None or not relationship.lazy_loaded:
                            continue
                        if _at_most_once(file, inner, body):
                            continue
                        if eager is None:
                            eager = eager_loaded_by(
                                file, function, project, receivers.calls
                            )
                        if inner.attr in eager:
                            continue
                        assert model is not None
                        reported.add(inner.attr)
                        yield self.finding(
                            file,
                            inner,
                            f"`{loop_target}.{inner.attr}` is a lazy relationship read in a loop: one "
                            "extra query per item (N+1).",
                            f"Load it with the query: `.options(selectinload({model.name}.{inner.attr}))`, "
                            'or declare the relationship with `sa_relationship_kwargs={"lazy": "selectin"}`.',
                        )


def _at_most_once(file: SourceFile, node: ast.AST, body: list[ast.AST]) -> bool:
    """Read on the way out of the loop: in a `raise`, `return` or `break`, or in a branch
    that ends with one (`if taken: raise ValueError(item.owner.name)`)."""
    statements = set(body)
    current: ast.AST | None = node
    while current is not None:
        if isinstance(current, ast.Raise | ast.Return | ast.Break):
            return True
        parent = file.parents.get(current)
        if isinstance(parent, ast.If) and current in parent.body + parent.orelse:
            branch = parent.body if current in parent.body else parent.orelse
            if isinstance(branch[-1], ast.Raise | ast.Return | ast.Break):
                return True
        if current in statements:
            return False
        current = parent
    return False


def _loops(file: SourceFile, function: ast.AST) -> Iterator[tuple[str, list[ast.AST]]]:
    """Each loop variable with the code that runs once per item."""
    for node in file.body_nodes(function):
        if isinstance(node, ast.For | ast.AsyncFor) and isinstance(
            node.target, ast.Name
        ):
            yield node.target.id, list(node.body)
        elif isinstance(node, COMPREHENSIONS):
            elements = (
                [node.key, node.value] if isinstance(node, ast.DictComp) else [node.elt]
            )
            for position, generator in enumerate(node.generators):
                if isinstance(generator.target, ast.Name):
                    later = [g.iter for g in node.generators[position + 1 :]]
                    yield generator.target.id, [*elements, *generator.ifs, *later]
