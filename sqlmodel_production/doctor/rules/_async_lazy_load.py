"""SMP014: an async session's object touching a lazy relationship (`MissingGreenlet`)."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from sqlmodel_production.doctor._findings import Finding, Severity
from sqlmodel_production.doctor._project import ProjectIndex
from sqlmodel_production.doctor._rule import Rule
from sqlmodel_production.doctor._source import SourceFile

from ._orm import eager_loaded_by, uses_async_session
from ._receivers import Receivers


class AsyncLazyLoadRule(Rule):
    code = "SMP014"
    title = "Lazy relationship read in async code"
    #: An info until measured at 90 % precision or more: on the evaluation sets none of its
    #: decided findings was true (an object the caller had loaded, or had just made).
    severity = Severity.INFO
    #: A test that touches a lazy relationship fails on its own, loudly.
    skip_tests = True
    rationale = (
        "With an `AsyncSession`, reading a relationship that is not loaded yet needs a query, and "
        'an attribute read cannot `await` it: SQLAlchemy raises `MissingGreenlet` ("greenlet_spawn '
        "has not been called; can't call await_only() here. Was IO attempted in an unexpected "
        'place?"), a 500. Load the relationship with the query (`selectinload`), refresh it by '
        'name (`await session.refresh(obj, ["name"])`), or declare it `lazy="selectin"`; '
        "`await obj.awaitable_attrs.name` works only on classes with SQLAlchemy's `AsyncAttrs` "
        "mixin, which SQLModel tables do not have. Test code is not checked: there the "
        "error fails the test that meets it. An info: it cannot see what the callers of a "
        "function did to the objects they pass in (loaded the relationship, or made the object "
        "that moment), and on public projects outside the corpus none of its findings judged "
        "was true."
    )
    bad = """\
@app.get("/heroes/{hero_id}/team")
async def read_hero_team(*, session: AsyncSessionDep, hero_id: int):
    hero = await session.get(Hero, hero_id)
    if hero is None:
        raise HTTPException(status_code=404, detail="Hero not found")
    return hero.team
"""
    good = """\
@app.get("/heroes/{hero_id}/team")
async def read_hero_team(*, session: AsyncSessionDep, hero_id: int):
    hero = await session.get(Hero, hero_id, options=[selectinload(Hero.team)])
    if hero is None:
        raise HTTPException(status_code=404, detail="Hero not found")
    return hero.team
"""

    def check(self, file: SourceFile, project: ProjectIndex) -> Iterator[Finding]:
        if not project.lazy_relationships or file.is_migration:
            return  # (a data migration runs once: its loops are not a production path)
        for function in file.functions:
            if not uses_async_session(file, function):
                continue
            receivers: Receivers | None = None
            eager: set[str] | None = None
            reported: set[tuple[str, str]] = set()
            for node in file.body_nodes(function):
                if not (
                    isinstance(node, ast.Attribute)
                    and isinstance(node.ctx, ast.Load)
                    and isinstance(node.value, ast.Name)
                    and node.attr in project.lazy_relationships
                ):
                    continue
                owner = node.value.id
                if (owner, node.attr) in reported:
                    continue
                receivers = receivers or Receivers(file, function, project)
                model = receivers.model_of(owner)
                relationship = (
                    None if model is None else project.relationship(model, node.attr)
                )
                if relationship is None or not relationship.lazy_loaded:
                    continue
                if eager is None:
                    eager = eager_loaded_by(file, function, project, receivers.calls)
                if node.attr in eager:
                    continue
                assert model is not None
                reported.add((owner, node.attr))
                # `awaitable_attrs` exists only on classes with SQLAlchemy's AsyncAttrs mixin.
                awaitable = "AsyncAttrs" in {
                    base.rpartition(".")[2]
                    for name in [model.name, *project.ancestors(model.name)]
                    for base in (
                        project.models[name].bases
                        if name in project.models
                        else model.bases
                    )
                }
                also = (
                    f", or `await {owner}.awaitable_attrs.{node.attr}`"
                    if awaitable
                    else ""
                )
                yield self.finding(
                    file,
                    node,
                    f"`{owner}.{node.attr}` reads a lazy relationship in async code: the implicit "
                    "query cannot be awaited, so it raises `MissingGreenlet` (a 500).",
                    f"Load it with the query (`.options(selectinload({model.name}.{node.attr}))`), "
                    f'or explicitly: `await session.refresh({owner}, ["{node.attr}"])`{also}.',
                )
