"""SMP009: an update that dumps its schema without `exclude_unset=True`."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from sqlmodel_production.doctor._findings import Finding, Severity
from sqlmodel_production.doctor._project import ProjectIndex
from sqlmodel_production.doctor._rule import Rule
from sqlmodel_production.doctor._source import SourceFile
from sqlmodel_production.doctor._syntax import (
    annotation_names,
    constant,
    is_dependency,
    keyword,
    parameters,
    route_decorator,
)

_DUMPS = frozenset({"model_dump", "dict"})


class DumpWithoutExcludeUnsetRule(Rule):
    code = "SMP009"
    title = "Update applied without exclude_unset"
    severity = Severity.ERROR
    rationale = (
        "An Update schema has every field optional with a default of `None`. `model_dump()` "
        "returns all of them, so a PATCH that sends only `age` writes `None` over `name` and "
        "every other column: data loss. `model_dump(exclude_unset=True)` returns only the fields "
        "the client actually sent."
    )
    bad = """\
@app.patch("/heroes/{hero_id}", response_model=HeroPublic)
def update_hero(*, session: SessionDep, hero_id: int, hero: HeroUpdate):
    db_hero = session.get(Hero, hero_id)
    if not db_hero:
        raise HTTPException(status_code=404, detail="Hero not found")
    db_hero.sqlmodel_update(hero.model_dump())
    session.add(db_hero)
    session.commit()
    session.refresh(db_hero)
    return db_hero
"""
    good = """\
@app.patch("/heroes/{hero_id}", response_model=HeroPublic)
def update_hero(*, session: SessionDep, hero_id: int, hero: HeroUpdate):
    db_hero = session.get(Hero, hero_id)
    if not db_hero:
        raise HTTPException(status_code=404, detail="Hero not found")
    db_hero.sqlmodel_update(hero.model_dump(exclude_unset=True))
    session.add(db_hero)
    session.commit()
    session.refresh(db_hero)
    return db_hero
"""

    def check(self, file: SourceFile, project: ProjectIndex) -> Iterator[Finding]:
        for function in file.functions:
            route = route_decorator(function)
            patch = route is not None and route[0] == "patch"
            updates = {
                param.arg
                for param, default in parameters(function)
                if not is_dependency(file, param, default)
                and any(
                    project.is_schema(name.id)
                    and (patch or "Update" in name.id or "Patch" in name.id)
                    for name in annotation_names(param.annotation)
                )
            }
            if not updates:
                continue
            for node in file.body_nodes(function):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr in _DUMPS
                    and isinstance(node.func.value, ast.Name)
                    and node.func.value.id in updates
                    and constant(keyword(node, "exclude_unset")) is not True
                ):
                    name, dump = node.func.value.id, node.func.attr
                    yield self.finding(
                        file,
                        node,
                        f"`{name}.{dump}()` returns every field of the update, the ones the client "
                        "did not send as `None`: applying it overwrites them.",
                        f"Use `{name}.{dump}(exclude_unset=True)`.",
                    )
