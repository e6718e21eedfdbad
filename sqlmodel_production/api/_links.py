"""`link_router`: endpoints for a many-to-many link that carries data (a hero's role on a mission)."""

import inspect
from collections.abc import Collection, Mapping, Sequence
from typing import Any, Literal

import sqlalchemy as sa
from fastapi import APIRouter, HTTPException, params
from pydantic import create_model
from sqlmodel import SQLModel

from sqlmodel_production.api._endpoints import (
    json_response,
    key_parameter,
    on_reads,
    one_statement,
)
from sqlmodel_production.api._responses import BAD_BODY, NOT_FOUND, Deleted, snake
from sqlmodel_production.api._routes import Routes
from sqlmodel_production.api._scope import RowScope
from sqlmodel_production.crud._insert import upsert
from sqlmodel_production.crud._repository import Repository
from sqlmodel_production.db._places import Place, Target, connection_of, place_of
from sqlmodel_production.db._prepared import Prepared
from sqlmodel_production.models import derive_schemas

__all__ = ["LinkEndpoint", "link_router"]

LinkEndpoint = Literal["read_parent", "link", "unlink", "read_child_parents"]
_KW = inspect.Parameter.KEYWORD_ONLY


def link_router(
    link: type[SQLModel],
    *,
    parent: type[SQLModel],
    child: type[SQLModel],
    parent_prefix: str,
    child_prefix: str,
    parent_public: type[SQLModel] | None = None,
    child_public: type[SQLModel] | None = None,
    data: type[SQLModel] | None = None,
    async_: bool = True,
    tags: list[str] | None = None,
    exclude: Collection[LinkEndpoint] = (),
    dependencies: Sequence[params.Depends] = (),
    scope: RowScope | None = None,
) -> APIRouter:
    """Endpoints for the rows of a link table between `parent` and `child`.

    With `HeroMissionLink(hero_id, mission_id, role)`, `parent=Mission`,
    `child=Hero`:

    - `GET /missions/{mission_id}`: the mission with its heroes, each with its role;
    - `PUT /missions/{mission_id}/heroes/{hero_id}` with `{"role": ...}`: link, or
      change the role of an existing link (one statement, never a duplicate);
    - `DELETE /missions/{mission_id}/heroes/{hero_id}`: unlink;
    - `GET /heroes/{hero_id}/missions`: the hero's missions, each with its role.

    An unknown parent or child is a 404 naming it. Two queries per read, whatever
    the number of linked rows. Exclude `"read"` from the parent's `crud_router`
    so that this router serves `GET /missions/{mission_id}`.

    Args:
        link: the link table model.
        parent: the table model whose rows list their linked children (`Mission`).
        child: the other linked table model (`Hero`).
        parent_prefix: the parent's collection path (`"/missions"`).
        child_prefix: the child's collection path (`"/heroes"`).
        parent_public: the parent's Public schema; derived when omitted.
        child_public: the child's Public schema; derived when omitted.
        data: the body of `PUT` (the link's own fields); derived when omitted.
        async_: async or sync endpoints.
        tags: OpenAPI tags; the parent's by default.
        exclude: endpoints not to create.
        dependencies: dependencies of every endpoint.
        scope: the rows a request may see (`RowScope`), applied to the parent and
            the child tables that have its columns: a parent or child outside it
            is a 404, and reads list only linked rows inside it. Soft-deleted
            parents and children (`SoftDelete`) are as absent as missing ones.
    """
    table: sa.Table = link.__table__  # type: ignore[attr-defined]
    parent_table: sa.Table = parent.__table__  # type: ignore[attr-defined]
    child_table: sa.Table = child.__table__  # type: ignore[attr-defined]
    parent_key = _foreign_key(table, parent_table)
    child_key = _foreign_key(table, child_table)
    (parent_pk,) = parent_table.primary_key.columns
    (child_pk,) = child_table.primary_key.columns
    parent_public = parent_public or derive_schemas(parent).Public
    child_public = child_public or derive_schemas(child).Public
    data_columns = [
        c for c in table.columns if c is not parent_key and c is not child_key
    ]
    if data is None:
        # PUT replaces the link's data: absent fields take their defaults.
        keys = [parent_key.name, child_key.name]
        data = derive_schemas(link, exclude=keys, name=f"{link.__name__}Data").Create
    data_fields = {
        c.name: (link.model_fields[c.name].annotation, ...) for c in data_columns
    }
    suffix = "".join(c.name.title().replace("_", "") for c in data_columns)
    child_with_data = create_model(  # type: ignore[call-overload]
        f"{child.__name__}With{suffix}",
        __base__=child_public,
        **data_fields,
    )
    parent_with_data = create_model(  # type: ignore[call-overload]
        f"{parent.__name__}With{suffix}",
        __base__=parent_public,
        **data_fields,
    )
    link_public = derive_schemas(link).Public
    parents = parent_prefix.rstrip("/").rsplit("/", 1)[-1]
    children = child_prefix.rstrip("/").rsplit("/", 1)[-1]
    parent_with_children = create_model(  # type: ignore[call-overload]
        f"{parent_public.__name__}With{children.title()}",
        __base__=parent_public,
        **{children: (list[child_with_data], [])},
    )
    parent_name, child_name = parent.__name__, child.__name__
    parent_id, child_id = f"{snake(parent_name)}_id", f"{snake(child_name)}_id"
    # Scope and soft delete, per side, as the side's crud_router applies them.
    sides = {
        parent_name: Repository(parent, public=parent_public),
        child_name: Repository(child, public=child_public),
    }
    scoped = scope.columns if scope is not None else ()
    on_side = {
        name: tuple(c for c in scoped if c in repo.table.c)
        for name, repo in sides.items()
    }
    if missing := [
        c for c in scoped if not any(c in cols for cols in on_side.values())
    ]:
        raise ValueError(
            f"The scope's {', '.join(missing)} is a column of neither {parent_name} nor {child_name}"
        )
    parent_where = sides[parent_name].criteria(on_side[parent_name])
    child_where = sides[child_name].criteria(on_side[child_name])

    def scope_params(values: Mapping[str, Any]) -> dict[str, Any]:
        if scope is None:
            return {}
        given = scope.of(values)
        found: dict[str, Any] = {}
        for name, repo in sides.items():
            found.update(repo.scope_parameters({c: given[c] for c in on_side[name]}))
        return found

    guarded = bool(parent_where or child_where)
    parent_columns = [
        parent_table.c[n] for n in parent_public.model_fields if n in parent_table.c
    ]
    child_columns = [
        child_table.c[n] for n in child_public.model_fields if n in child_table.c
    ]

    read_parent_statement = Prepared(
        sa.select(*parent_columns).where(parent_pk == sa.bindparam("id"), *parent_where)
    )
    children_statement = Prepared(
        sa.select(*child_columns, *data_columns)
        .join(table, child_key == child_pk)
        .where(parent_key == sa.bindparam("id"), *child_where)
        .order_by(child_pk)
    )
    parents_statement = Prepared(
        sa.select(*parent_columns, *data_columns)
        .join(table, parent_key == parent_pk)
        .where(child_key == sa.bindparam("id"), *parent_where)
        .order_by(parent_pk)
    )
    exists = {
        parent_name: Prepared(
            sa.select(parent_pk).where(parent_pk == sa.bindparam("id"), *parent_where)
        ),
        child_name: Prepared(
            sa.select(child_pk).where(child_pk == sa.bindparam("id"), *child_where)
        ),
    }
    unlink_statement = sa.delete(table).where(
        parent_key == sa.bindparam("parent"), child_key == sa.bindparam("child")
    )

    def require(reads: Place, name: str, id: Any, values: Mapping[str, Any]) -> None:
        if reads.first(exists[name], {"id": id, **scope_params(values)}) is None:
            raise HTTPException(status_code=404, detail=f"{name} not found")

    router = APIRouter(dependencies=list(dependencies))
    parent_param = key_parameter(parent_id, parent_pk)
    child_param = key_parameter(child_id, child_pk)
    item_path = f"{parent_prefix}/{{{parent_id}}}/{children}/{{{child_id}}}"

    routes = Routes(
        router, async_=async_, scope=scope, exclude=exclude, tags=tags or [parents]
    )

    @on_reads
    def read_parent(reads: Place, **values: Any) -> Any:
        params = {"id": values[parent_id], **scope_params(values)}
        row = reads.first(read_parent_statement, params)
        if row is None:
            raise HTTPException(status_code=404, detail=f"{parent_name} not found")
        rows = reads.all(children_statement, params)
        return json_response({**row, children: rows})

    routes.add(
        "read_parent",
        f"{parent_prefix}/{{{parent_id}}}",
        "GET",
        f"read_{snake(parent_name)}",
        read_parent,
        [parent_param],
        response_model=parent_with_children,
        responses=NOT_FOUND,
    )

    @one_statement
    def link_rows(target: Target, **values: Any) -> Any:
        reads = place_of(target)
        require(reads, parent_name, values[parent_id], values)
        require(reads, child_name, values[child_id], values)
        body = values["link"].model_dump()
        row = {
            parent_key.name: values[parent_id],
            child_key.name: values[child_id],
            **body,
        }
        row = link.model_validate(row).model_dump(
            include={c.name for c in table.columns}
        )
        found = upsert(
            connection_of(target),
            table,
            row,
            on=[parent_key.name, child_key.name],
            returning=list(table.columns),
        )
        return json_response(found)

    routes.add(
        "link",
        item_path,
        "PUT",
        f"link_{snake(child_name)}",
        link_rows,
        [parent_param, child_param, inspect.Parameter("link", _KW, annotation=data)],
        response_model=link_public,
        responses={**NOT_FOUND, **BAD_BODY},
    )

    @one_statement
    def unlink(target: Target, **values: Any) -> Any:
        if guarded:  # both rows must be inside the scope, and not soft-deleted
            reads = place_of(target)
            require(reads, parent_name, values[parent_id], values)
            require(reads, child_name, values[child_id], values)
        result = connection_of(target).execute(
            unlink_statement, {"parent": values[parent_id], "child": values[child_id]}
        )
        if result.rowcount == 0:
            raise HTTPException(
                status_code=404,
                detail=f"{child_name} is not linked to this {snake(parent_name)}",
            )
        return json_response({"ok": True})

    routes.add(
        "unlink",
        item_path,
        "DELETE",
        f"unlink_{snake(child_name)}",
        unlink,
        [parent_param, child_param],
        response_model=Deleted,
        responses=NOT_FOUND,
    )

    @on_reads
    def read_child_parents(reads: Place, **values: Any) -> Any:
        require(reads, child_name, values[child_id], values)
        params = {"id": values[child_id], **scope_params(values)}
        return json_response(reads.all(parents_statement, params))

    routes.add(
        "read_child_parents",
        f"{child_prefix}/{{{child_id}}}/{parents}",
        "GET",
        f"read_{snake(child_name)}_{parents}",
        read_child_parents,
        [child_param],
        response_model=list[parent_with_data],
        responses=NOT_FOUND,
        tags=tags or [children],
    )
    return router


def _foreign_key(table: sa.Table, target: sa.Table) -> sa.Column[Any]:
    found = [fk.parent for fk in table.foreign_keys if fk.column.table is target]
    if len(found) != 1:
        raise ValueError(
            f"{table.name} needs exactly one foreign key to {target.name}; found {len(found)}"
        )
    return found[0]
