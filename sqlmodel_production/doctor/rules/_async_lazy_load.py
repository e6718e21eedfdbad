"""SMP014: an async session's object touching a lazy relationship (`MissingGreenlet`)."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from sqlmodel_production.doctor._findings import Finding, Severity
from sqlmodel_production.doctor._project import ProjectIndex
from sqlmodel_production.doctor._rule import Rule
from sqlmodel_production.doctor._source import SourceFile
from sqlmodel_production.doctor._syntax import annotation_names, parameters

from ._orm import eager_loaded, uses_async_session


class AsyncLazyLoadRule(Rule):
    code = "SMP014"
    title = "Lazy relationship read in async code"
    severity = Severity.ERROR
    rationale = (
        "With an `AsyncSession`, reading a relationship that is not loaded yet needs a query, and "
        'an attribute read cannot `await` it: SQLAlchemy raises `MissingGreenlet` ("greenlet_spawn '
        "has not been called; can't call await_only() here. Was IO attempted in an unexpected "
        'place?"), a 500. Load the relationship with the query (`selectinload`), await '
        '`obj.awaitable_attrs.name`, refresh it by name, or declare it `lazy="selectin"`.'
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
        if not project.lazy_relationships:
            return
        for function in file.functions:
            if not uses_async_session(file, function):
                continue
            schemas = {
                param.arg
                for param, _ in parameters(function)
                if any(
                    project.is_schema(name.id)
                    for name in annotation_names(param.annotation)
                )
            }
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
                if owner in schemas or owner in {"self", "cls"} or owner[:1].isupper():
                    continue
                if eager is None:
                    eager = eager_loaded(file, function)
                if node.attr in eager or (owner, node.attr) in reported:
                    continue
                reported.add((owner, node.attr))
                yield self.finding(
                    file,
                    node,
                    f"`{owner}.{node.attr}` reads a lazy relationship in async code: the implicit "
                    "query cannot be awaited, so it raises `MissingGreenlet` (a 500).",
                    f"Load it with the query (`.options(selectinload(Model.{node.attr}))`), or use "
                    f"`await {owner}.awaitable_attrs.{node.attr}`.",
                )
