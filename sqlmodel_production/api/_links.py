"""`link_router`: endpoints for a many-to-many link that carries data (a hero's role on a mission)."""

import inspect
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from fastapi import APIRouter, HTTPException, params
from pydantic import create_model
from sqlmodel import SQLModel

from sqlmodel_production.api._body_limit import MAX_BODY_SIZE
from sqlmodel_production.api._endpoints import (
    json_response,
    key_parameter,
    on_reads,
    one_statement,
)
from sqlmodel_production.api._fast_route import generated_route
from sqlmodel_production.api._list import (
    LIST_REQUEST,
    list_parameters,
    page_headers,
    unknown_parameters,
)
from sqlmodel_production.api._nested import TRUNCATED
from sqlmodel_production.api._responses import (
    BAD_BODY,
    LIST_HEADERS,
    NOT_FOUND,
    Deleted,
    snake,
)
from sqlmodel_production.api._routes import Routes
from sqlmodel_production.api._scope import RowScope
from sqlmodel_production.api._stamp import RowStamp, stamp_of
from sqlmodel_production.crud.internal import INCLUDE_LIMIT, LinkScope, LinkTable, Side
from sqlmodel_production.db.internal import (
    Runner,
    SessionLike,
    connection_of,
    runner_of,
)
from sqlmodel_production.models import derive_schemas

__all__ = ["LinkEndpoint", "link_router"]

LinkEndpoint = Literal[
    "read_parent", "link", "unlink", "read_parent_children", "read_child_parents"
]
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
    stamp: RowStamp | None = None,
    limit: int = INCLUDE_LIMIT,
    max_body_size: int = MAX_BODY_SIZE,
) -> APIRouter:
    """Endpoints for the rows of a link table between `parent` and `child`.

    With `HeroMissionLink(hero_id, mission_id, role)`, `parent=Mission`,
    `child=Hero`:

    - `GET /missions/{mission_id}`: the mission with its heroes, each with its role;
    - `PUT /missions/{mission_id}/heroes/{hero_id}` with `{"role": ...}`: link, or
      change the role of an existing link (one statement, never a duplicate);
    - `DELETE /missions/{mission_id}/heroes/{hero_id}`: unlink;
    - `GET /heroes/{hero_id}/missions`: the hero's missions, each with its role,
      a page at a time (`offset`, `limit`, `cursor`, `count`, as `crud_router`'s
      lists; any other query parameter is a 422).

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
        stamp: link columns `PUT` writes from a dependency, never from the client
            (`RowStamp`): `on_create` ones when the link is made (`added_by`),
            `on_update` ones whenever it is written.
        limit: the most linked rows a read returns (100 by default), by key: a
            parent read's cut list is named in the `X-Include-Truncated` header,
            and the largest page of the child's list of parents.
        max_body_size: the largest `PUT` body, in bytes; a larger one is
            answered 413 before it is parsed. 2 MiB by default.
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
        limit=limit,
    )
    stamped = stamp.columns if stamp is not None else ()
    if stamp is not None:
        stamp.check(links.table, link.__name__)
    if data is None:
        # PUT replaces the link's data: absent fields take their defaults.
        keys = [links.parent_key.name, links.child_key.name, *stamped]
        data = derive_schemas(link, exclude=keys, name=f"{link.__name__}Data").Create
    res = _Link(
        links=links,
        names={"parent": parent.__name__, "child": child.__name__},
        publics={"parent": parent_public, "child": child_public},
        data=data,
        parent_prefix=parent_prefix,
        child_prefix=child_prefix,
        scope=scope,
        stamp=stamp,
    )
    router = APIRouter(
        dependencies=list(dependencies), route_class=generated_route(max_body_size)
    )
    routes = Routes(
        router, async_=async_, scope=scope, exclude=exclude, tags=tags or [res.parents]
    )
    _read_parent(res, routes)
    _link(res, routes)
    _unlink(res, routes)
    _read_linked(res, routes, "child", tags=tags or [res.parents])
    _read_linked(res, routes, "parent", tags=tags or [res.children])
    return router


@dataclass(frozen=True)
class _Link:
    """One link table's router: its statements, names and schemas, derived once."""

    links: LinkTable
    names: Mapping[Side, str]
    publics: Mapping[Side, type[SQLModel]]
    data: type[SQLModel]
    parent_prefix: str
    child_prefix: str
    scope: RowScope | None
    stamp: RowStamp | None
    _with_data: dict[Side, type[SQLModel]] = field(default_factory=dict)

    @property
    def parents(self) -> str:
        return self.parent_prefix.rstrip("/").rsplit("/", 1)[-1]

    @property
    def children(self) -> str:
        return self.child_prefix.rstrip("/").rsplit("/", 1)[-1]

    def id_name(self, side: Side) -> str:
        return f"{snake(self.names[side])}_id"

    def id_parameter(self, side: Side) -> inspect.Parameter:
        pk = self.links.parent_pk if side == "parent" else self.links.child_pk
        return key_parameter(self.id_name(side), pk)

    @property
    def item_path(self) -> str:
        parent, child = self.id_name("parent"), self.id_name("child")
        return f"{self.parent_prefix}/{{{parent}}}/{self.children}/{{{child}}}"

    def with_data(self, side: Side) -> type[SQLModel]:
        """A side's Public schema with the link's data fields (one class per side)."""
        found = self._with_data.get(side)
        if found is not None:
            return found
        link = self.links.model
        fields = {
            c.name: (link.model_fields[c.name].annotation, ...)
            for c in self.links.data_columns
        }
        suffix = "".join(
            c.name.title().replace("_", "") for c in self.links.data_columns
        )
        self._with_data[side] = create_model(  # type: ignore[call-overload]
            f"{self.names[side]}With{suffix}", __base__=self.publics[side], **fields
        )
        return self._with_data[side]

    def scope_params(self, values: Mapping[str, Any]) -> LinkScope:
        scope = self.scope.of(values) if self.scope is not None else None
        return self.links.scoped(scope)

    def require(
        self,
        reads: Runner,
        side: Side,
        values: Mapping[str, Any],
        scope: LinkScope,
        *,
        locked: bool = False,
    ) -> None:
        """A 404 naming the side unless its row of the request exists inside the scope (`locked`: until the transaction ends)."""
        id = values[self.id_name(side)]
        if not self.links.exists(reads, side, id, scope, locked=locked):
            raise HTTPException(status_code=404, detail=f"{self.names[side]} not found")


def _read_parent(res: _Link, routes: Routes) -> None:
    parent_id, links = res.id_name("parent"), res.links

    @on_reads
    def read_parent(reads: Runner, **values: Any) -> Any:
        params = res.scope_params(values)
        row = links.parent(reads, values[parent_id], params)
        if row is None:
            raise HTTPException(
                status_code=404, detail=f"{res.names['parent']} not found"
            )
        rows, cut = links.children(reads, values[parent_id], params)
        headers = {TRUNCATED: res.children} if cut else None
        return json_response({**row, res.children: rows}, headers=headers)

    parent_public = res.publics["parent"]
    with_children = create_model(  # type: ignore[call-overload]
        f"{parent_public.__name__}With{res.children.title()}",
        __base__=parent_public,
        **{res.children: (list[res.with_data("child")], [])},  # type: ignore[misc]
    )
    routes.add(
        "read_parent",
        f"{res.parent_prefix}/{{{parent_id}}}",
        "GET",
        f"read_{snake(res.names['parent'])}",
        read_parent,
        [res.id_parameter("parent")],
        response_model=with_children,
        responses=NOT_FOUND,
    )


def _link(res: _Link, routes: Routes) -> None:
    parent_id, child_id = res.id_name("parent"), res.id_name("child")

    # With rows to check (a scope, soft delete, references in the data), the
    # checks and the write are one transaction, the checked rows locked in it.
    checked = res.links.guarded or bool(res.links.references)

    def link_rows(target: SessionLike, **values: Any) -> Any:
        reads, scope = runner_of(target), res.scope_params(values)
        res.require(reads, "parent", values, scope, locked=True)
        res.require(reads, "child", values, scope, locked=True)
        body = values["link"].model_dump()
        row = res.links.link(
            connection_of(target),
            values[parent_id],
            values[child_id],
            body,
            on_create=stamp_of(res.stamp, values, "create"),
            on_update=stamp_of(res.stamp, values, "update"),
            scope=scope.given,
        )
        return json_response(row)

    routes.add(
        "link",
        res.item_path,
        "PUT",
        f"link_{snake(res.names['child'])}",
        link_rows if checked else one_statement(link_rows),
        [
            res.id_parameter("parent"),
            res.id_parameter("child"),
            inspect.Parameter("link", _KW, annotation=res.data),
            *([res.stamp.parameter()] if res.stamp is not None else []),
        ],
        response_model=derive_schemas(res.links.model).Public,
        responses={**NOT_FOUND, **BAD_BODY},
    )


def _unlink(res: _Link, routes: Routes) -> None:
    parent_id, child_id = res.id_name("parent"), res.id_name("child")
    not_linked = (
        f"{res.names['child']} is not linked to this {snake(res.names['parent'])}"
    )

    @one_statement
    def unlink(target: SessionLike, **values: Any) -> Any:
        if (
            res.links.guarded
        ):  # both rows must be inside the scope, and not soft-deleted
            reads, scope = runner_of(target), res.scope_params(values)
            res.require(reads, "parent", values, scope)
            res.require(reads, "child", values, scope)
        connection = connection_of(target)
        if not res.links.unlink(connection, values[parent_id], values[child_id]):
            raise HTTPException(status_code=404, detail=not_linked)
        return json_response({"ok": True})

    routes.add(
        "unlink",
        res.item_path,
        "DELETE",
        f"unlink_{snake(res.names['child'])}",
        unlink,
        [res.id_parameter("parent"), res.id_parameter("child")],
        response_model=Deleted,
        responses=NOT_FOUND,
    )


def _read_linked(res: _Link, routes: Routes, listed: Side, *, tags: list[str]) -> None:
    """One side's rows linked to a row of the other, paged as crud lists are.

    `GET /teams/{team_id}/heroes` (a parent's children, past the parent read's
    first ones) and `GET /heroes/{hero_id}/teams` (a child's parents).
    """
    other: Side = "child" if listed == "parent" else "parent"
    other_id = res.id_name(other)
    rows = res.links.repository(listed)
    plural = res.parents if listed == "parent" else res.children
    prefix = res.child_prefix if listed == "parent" else res.parent_prefix
    label = f"The {snake(res.names[other])}'s {plural}"
    refuse_unknown = unknown_parameters(rows, label)

    @on_reads
    def read_linked(reads: Runner, **values: Any) -> Any:
        refuse_unknown(values[LIST_REQUEST])
        scope = res.scope_params(values)
        res.require(reads, other, values, scope)
        page = res.links.page(
            reads,
            listed,
            values[other_id],
            scope,
            offset=values["offset"],
            limit=values["limit"],
            # An empty `?cursor=` is the same as none.
            cursor=values["cursor"] or None,
            with_total=values["count"],
        )
        return json_response(page.rows, headers=page_headers(page))

    paging = list_parameters(
        rows,
        max_limit=res.links.limit,
        order_by=(),
        reserved={other_id},
        label=label,
    )
    routes.add(
        f"read_{other}_{listed}{'s' if listed == 'parent' else 'ren'}",
        f"{prefix}/{{{other_id}}}/{plural}",
        "GET",
        f"read_{snake(res.names[other])}_{plural}",
        read_linked,
        [res.id_parameter(other), *paging],
        response_model=list[res.with_data(listed)],  # type: ignore[misc]
        responses={**NOT_FOUND, **LIST_HEADERS},
        tags=tags,
    )
