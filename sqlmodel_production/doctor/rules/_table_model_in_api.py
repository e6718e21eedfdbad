"""SMP001: a table model used as a request body or a response model."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from sqlmodel_production.doctor._findings import Finding, Severity
from sqlmodel_production.doctor._project import ProjectIndex
from sqlmodel_production.doctor._rule import Rule
from sqlmodel_production.doctor._source import SourceFile
from sqlmodel_production.doctor._syntax import (
    annotation_names,
    is_dependency,
    keyword,
    parameters,
    route_decorator,
)
from sqlmodel_production.doctor.rules._flow import DEPTH, called, loads, receivers


class TableModelInApiRule(Rule):
    code = "SMP001"
    title = "Table model used as a request body or response model"
    severity = Severity.ERROR
    rationale = (
        "A table model is the database row: as a request body it lets clients set the primary key "
        "and every other column (mass assignment), and as a response model it sends every column, "
        "including the ones added later, such as password hashes. Separate the table model from "
        "the API schemas (Base, Create, Public, Update) so that each endpoint accepts and returns "
        "exactly the fields it means to. A table model taken as a body is reported where the "
        "body is seen stored whole (added or merged into a session, validated into a row, "
        "dumped or splatted, by the endpoint or a function of the project it hands the body "
        "to); one read field by field, or used to find a row by its id, sets no column the "
        "client chose."
    )
    bad = """\
class Hero(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100)
    secret_name: str = Field(max_length=255)


@app.post("/heroes/", response_model=Hero)
def create_hero(*, session: SessionDep, hero: Hero):
    session.add(hero)
    session.commit()
    session.refresh(hero)
    return hero
"""
    good = """\
class HeroBase(SQLModel):
    name: str = Field(max_length=100)


class Hero(HeroBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    secret_name: str = Field(max_length=255)


class HeroCreate(HeroBase):
    secret_name: str


class HeroPublic(HeroBase):
    id: int


@app.post("/heroes/", response_model=HeroPublic)
def create_hero(*, session: SessionDep, hero: HeroCreate):
    db_hero = Hero.model_validate(hero)
    session.add(db_hero)
    session.commit()
    session.refresh(db_hero)
    return db_hero
"""

    def check(self, file: SourceFile, project: ProjectIndex) -> Iterator[Finding]:
        for function in file.functions:
            route = route_decorator(function)
            if route is None:
                continue
            declared = keyword(route[1], "response_model")
            source: ast.expr | None
            if declared is not None:
                source, where = declared, "`response_model`"
            else:
                source, where = (
                    function.returns,
                    "the return annotation (FastAPI's response model)",
                )
            for name in annotation_names(source):
                if project.is_table_in(file, name.id):
                    yield self.finding(
                        file,
                        name,
                        f"`{name.id}` is a table model used as {where}: every column it has, now "
                        "or later, is sent to clients.",
                        f"Declare a `{name.id}Public` schema with the fields clients may see and "
                        f"use `response_model={name.id}Public`.",
                    )
            for param, default in parameters(function):
                if is_dependency(file, param, default) or not _stored(
                    file, project, function, param.arg
                ):
                    continue
                for name in annotation_names(param.annotation):
                    if project.is_table_in(file, name.id):
                        yield self.finding(
                            file,
                            param,
                            f"`{param.arg}: {name.id}` takes a table model as the request body: "
                            "clients can set its primary key and every other column.",
                            f"Accept a `{name.id}Create` (or `{name.id}Update`) schema without the "
                            f"id and build the row with `{name.id}.model_validate({param.arg})`.",
                        )


def _stored(
    file: SourceFile,
    project: ProjectIndex,
    function: ast.AST,
    name: str,
    depth: int = 0,
) -> bool:
    """Whether the body is seen reaching a row whole: added or merged into a session,
    copied onto a row (`row.sqlmodel_update(body)`, `body.model_dump()`, `**body`), or
    handed to a function of the project that does so. A body only read field by field
    (`body.url`), used to look a row up by its id or echoed back sets no column."""
    for node in loads(file, function, name):
        child: ast.AST = node
        parent = file.parents.get(node)
        if isinstance(parent, ast.Attribute):
            if parent.attr in _COPIES:
                return True
            continue  # one field read: the handler picks what it uses
        while isinstance(parent, ast.keyword | ast.Starred | ast.List | ast.Tuple):
            child, parent = parent, file.parents.get(parent)
        if (
            isinstance(parent, ast.Dict)
            and child in parent.values
            and parent.keys[parent.values.index(child)] is None
        ):
            return True  # `{**body}`: every field copied
        if not isinstance(parent, ast.Call) or child is parent.func:
            continue
        splat = isinstance(child, ast.Starred) or (
            isinstance(child, ast.keyword) and child.arg is None
        )
        if called(parent) in _STORES or splat:
            return True
        if depth < DEPTH and any(
            _stored(other, project, callee, parameter, depth + 1)
            for other, callee, parameter in receivers(file, project, parent, child)
        ):
            return True
    return False


# Calls that put a whole object into the database or onto a row.
_STORES = frozenset(
    {
        "add",
        "add_all",
        "merge",
        "sqlmodel_update",
        "model_validate",
        "from_orm",
        "parse_obj",
        "bulk_save_objects",
    }
)
# Reads of every field at once.
_COPIES = frozenset({"model_dump", "dict", "__dict__", "model_dump_json", "json"})
