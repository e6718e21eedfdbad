"""`link_router`: endpoints for a many-to-many link that carries data (a hero's role on a mission)."""

import inspect
from collections.abc import Collection, Mapping, Sequence
from typing import Any, Literal

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
from sqlmodel_production.crud._links import LinkTable, Side
from sqlmodel_production.db._places import Place, Target, connection_of, place_of
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
    parent_public = parent_public or derive_schemas(parent).Public
    child_public = child_public or derive_schemas(child).Public
    links = LinkTable(
        link,
        parent=parent,
        child=child,
        parent_public=parent_public,
        child_public=child_public,
        scoped=scope.columns if scope is not None else (),
    )
    keys = [links.parent_key.name, links.child_key.name]
    if data is None:
        # PUT replaces the link's data: absent fields take their defaults.
        data = derive_schemas(link, exclude=keys, name=f"{link.__name__}Data").Create
    data_fields = {
        c.name: (link.model_fields[c.name].annotation, ...) for c in links.data_columns
    }
    suffix = "".join(c.name.title().replace("_", "") for c in links.data_columns)
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
    names = {"parent": parent.__name__, "child": child.__name__}
    parent_id, child_id = (f"{snake(name)}_id" for name in names.values())

    def scope_params(values: Mapping[str, Any]) -> dict[str, Any]:
        return links.scope_parameters(scope.of(values) if scope is not None else None)

    def require(reads: Place, side: Side, id: Any, values: Mapping[str, Any]) -> None:
        if not links.exists(reads, side, id, scope_params(values)):
            raise HTTPException(status_code=404, detail=f"{names[side]} not found")

    router = APIRouter(dependencies=list(dependencies))
    parent_param = key_parameter(parent_id, links.parent_pk)
    child_param = key_parameter(child_id, links.child_pk)
    item_path = f"{parent_prefix}/{{{parent_id}}}/{children}/{{{child_id}}}"
    routes = Routes(
        router, async_=async_, scope=scope, exclude=exclude, tags=tags or [parents]
    )

    @on_reads
    def read_parent(reads: Place, **values: Any) -> Any:
        params = scope_params(values)
        row = links.parent(reads, values[parent_id], params)
        if row is None:
            raise HTTPException(status_code=404, detail=f"{names['parent']} not found")
        rows = links.children(reads, values[parent_id], params)
        return json_response({**row, children: rows})

    routes.add(
        "read_parent",
        f"{parent_prefix}/{{{parent_id}}}",
        "GET",
        f"read_{snake(names['parent'])}",
        read_parent,
        [parent_param],
        response_model=parent_with_children,
        responses=NOT_FOUND,
    )

    @one_statement
    def link_rows(target: Target, **values: Any) -> Any:
        reads = place_of(target)
        require(reads, "parent", values[parent_id], values)
        require(reads, "child", values[child_id], values)
        body = values["link"].model_dump()
        connection = connection_of(target)
        found = links.link(connection, values[parent_id], values[child_id], body)
        return json_response(found)

    routes.add(
        "link",
        item_path,
        "PUT",
        f"link_{snake(names['child'])}",
        link_rows,
        [parent_param, child_param, inspect.Parameter("link", _KW, annotation=data)],
        response_model=link_public,
        responses={**NOT_FOUND, **BAD_BODY},
    )

    @one_statement
    def unlink(target: Target, **values: Any) -> Any:
        if links.guarded:  # both rows must be inside the scope, and not soft-deleted
            reads = place_of(target)
            require(reads, "parent", values[parent_id], values)
            require(reads, "child", values[child_id], values)
        if not links.unlink(connection_of(target), values[parent_id], values[child_id]):
            raise HTTPException(
                status_code=404,
                detail=f"{names['child']} is not linked to this {snake(names['parent'])}",
            )
        return json_response({"ok": True})

    routes.add(
        "unlink",
        item_path,
        "DELETE",
        f"unlink_{snake(names['child'])}",
        unlink,
        [parent_param, child_param],
        response_model=Deleted,
        responses=NOT_FOUND,
    )

    @on_reads
    def read_child_parents(reads: Place, **values: Any) -> Any:
        require(reads, "child", values[child_id], values)
        return json_response(
            links.parents(reads, values[child_id], scope_params(values))
        )

    routes.add(
        "read_child_parents",
        f"{child_prefix}/{{{child_id}}}/{parents}",
        "GET",
        f"read_{snake(names['child'])}_{parents}",
        read_child_parents,
        [child_param],
        response_model=list[parent_with_data],
        responses=NOT_FOUND,
        tags=tags or [children],
    )
    return router
