"""`crud_router`'s endpoints, one builder each, over one validated `Resource`."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import sqlalchemy as sa
from fastapi import Body, Header, HTTPException, params
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlmodel import SQLModel
from starlette.responses import Response

from sqlmodel_production._exceptions import BulkValidationError, StaleVersion
from sqlmodel_production.api._conditional import ANY, if_match_versions, none_match
from sqlmodel_production.api._conventions import (
    DEFAULT_CONVENTIONS,
    Conventions,
    outside_or_missing,
)
from sqlmodel_production.api._endpoints import (
    Logic,
    json_response,
    key_parameter,
    on_reads,
    one_statement,
)
from sqlmodel_production.api._hooks import WriteAction, WriteEvent, WriteHook
from sqlmodel_production.api._list import list_logic, list_parameters
from sqlmodel_production.api._nested import read_logic, read_model
from sqlmodel_production.api._responses import (
    BAD_BODY,
    CONFLICT,
    LIST_HEADERS,
    NOT_FOUND,
    Deleted,
    ErrorBody,
    etag_headers,
    snake,
)
from sqlmodel_production.api._routes import Routes
from sqlmodel_production.api._scope import RowScope, scope_of
from sqlmodel_production.api._stamp import RowStamp, stamp_of
from sqlmodel_production.crud import Repository
from sqlmodel_production.crud.internal import include_limits, locate_bulk_row
from sqlmodel_production.db.internal import Runner, SessionLike, connection_of
from sqlmodel_production.models import Schemas

__all__ = ["ENDPOINTS", "Resource", "link_created_rows"]

_KW = inspect.Parameter.KEYWORD_ONLY
_BULK_BODY = Body(min_length=1, max_length=1000)
_IF_MATCH = Header(
    description="The ETag you read (or a list of them, or `*`); a stale one is refused with 412"
)
_UNDOCUMENTED_IF_MATCH = Header(include_in_schema=False)
_IF_NONE_MATCH = Header(
    description="The ETag you hold: if it is still current, the answer is 304 without a body"
)


@dataclass(frozen=True)
class Resource:
    """One model's router: its options, checked once, and the names derived from them."""

    model: type[SQLModel]
    schemas: Schemas
    repository: Repository[Any]
    prefix: str
    label: str
    scope: RowScope | None
    stamp: RowStamp | None
    on_write: WriteHook | None
    order_by: Collection[str]
    max_limit: int
    include: Mapping[str, type[SQLModel]]
    include_limit: int | Mapping[str, int]
    created_status: int
    deleted_status: int
    require_if_match: bool
    deleted_rows: Sequence[params.Depends] | None
    conventions: Conventions = DEFAULT_CONVENTIONS

    def __post_init__(self) -> None:
        if self.deleted_rows is not None and self.repository.deleted_at is None:
            raise TypeError(
                f"deleted_rows needs soft delete: add the SoftDelete mixin to {self.model.__name__}"
            )

    @functools.cached_property
    def plural(self) -> str:
        """The collection's name, from the last segment of `prefix` (`/hero-teams` -> `hero_teams`)."""
        return self.prefix.rstrip("/").rsplit("/", 1)[-1].replace("-", "_")

    @functools.cached_property
    def singular(self) -> str:
        return snake(self.label)

    @property
    def id_name(self) -> str:
        return self.conventions.id_name or f"{self.singular}_id"

    @property
    def item_path(self) -> str:
        return f"{self.prefix}/{{{self.id_name}}}"

    @property
    def not_found(self) -> str:
        return f"{self.label} not found"

    @property
    def version(self) -> sa.Column[Any] | None:
        return self.repository.version

    @functools.cached_property
    def id_parameter(self) -> inspect.Parameter:
        return key_parameter(self.id_name, self.repository.pk)

    @functools.cached_property
    def public_list(self) -> Any:
        """The answer of the list endpoints: the rows, or the envelope of the conventions."""
        return self.conventions.list_model(self.label, self.schemas.Public)

    @property
    def deleted_not_found(self) -> str:
        """The 404 of the endpoints over soft-deleted rows."""
        return f"Deleted {self.not_found[0].lower()}{self.not_found[1:]}"

    @property
    def deleted_model(self) -> Any:
        """The answer model of a delete: the conventions' body, `Deleted`, or none for 204."""
        if self.deleted_status == 204:
            return None
        return self.conventions.deleted_model(self.label) or Deleted

    def deleted_answer(self) -> Response:
        """The answer of a delete: an empty 204, or the conventions' body."""
        if self.deleted_status == 204:
            return Response(status_code=204)
        return json_response(self.conventions.deleted_answer())

    def body(self, annotation: Any) -> inspect.Parameter:
        return inspect.Parameter(self.singular, _KW, annotation=annotation)

    def condition(self, name: str, header: Any) -> list[inspect.Parameter]:
        """The conditional-request header `name` of a versioned model's endpoint.

        Without versions, `If-Match` is still read, not documented: a write that
        names a version is refused (412), never applied without the check it asked for.
        """
        if self.version is None:
            if name != "if_match":
                return []
            header = _UNDOCUMENTED_IF_MATCH
        annotation = Annotated[str | None, header]
        return [inspect.Parameter(name, _KW, annotation=annotation, default=None)]

    def one_statement(self, logic: Logic) -> Logic:
        """Mark `logic` as one statement, unless a write hook must run in its transaction."""
        return logic if self.on_write is not None else one_statement(logic)

    def wrote(
        self,
        session: SessionLike,
        action: WriteAction,
        rows: Sequence[Mapping[str, Any]],
    ) -> None:
        """Hand what a route wrote to the write hook, in the write's transaction."""
        if self.on_write is not None:
            table = self.repository.table.name
            event = WriteEvent(action, table, tuple(rows), connection_of(session))
            self.on_write(event)

    def stamp_parameter(
        self, write: Literal["create", "update"]
    ) -> list[inspect.Parameter]:
        """The stamp's dependency, on an endpoint whose `write` stamps columns."""
        stamp = self.stamp
        if stamp is None or not (
            stamp.on_create if write == "create" else stamp.on_update
        ):
            return []
        return [stamp.parameter()]

    def precondition_responses(self) -> dict[int | str, Any]:
        """The answers of a write that takes `If-Match`."""
        if self.version is None:
            return {}
        found: dict[int | str, Any] = {
            412: {"model": ErrorBody, "description": "If-Match names an older version"}
        }
        if self.require_if_match:
            found[428] = {"model": ErrorBody, "description": "If-Match is required"}
        return found

    def accepted(self, values: Mapping[str, Any]) -> tuple[frozenset[int] | None, bool]:
        """The versions If-Match accepts (None: any), and whether the row must exist (`*`)."""
        required = self.require_if_match and self.version is not None
        pre = if_match_versions(values.get("if_match"), required=required)
        if self.version is None and pre.versions not in (ANY, None):
            detail = (
                f"{self.label} rows have no versions, so If-Match cannot name one; "
                "send the write without If-Match"
            )
            raise HTTPException(status_code=412, detail=detail)
        if pre.versions == ANY or pre.versions is None:
            return None, pre.versions == ANY
        return pre.versions, False

    def changed_by_someone(self) -> HTTPException:
        detail = f"{self.label} was changed by someone else; read it again"
        return HTTPException(status_code=412, detail=detail)

    def absent(
        self, session: SessionLike, values: Mapping[str, Any], must_exist: bool = False
    ) -> HTTPException:
        """The answer for a row the request cannot find: 404 (403 outside the scope, by the conventions)."""
        if must_exist:  # If-Match: * names a row that does not exist (RFC 9110)
            return HTTPException(status_code=412, detail=self.not_found)
        return outside_or_missing(
            self.repository,
            self.conventions,
            self.scope,
            session,
            values[self.id_name],
            self.not_found,
        )


def _create(res: Resource, routes: Routes) -> None:
    repository, version = res.repository, res.version

    @res.one_statement
    def create(session: SessionLike, **values: Any) -> Any:
        row = repository.create(
            session,
            values[res.singular],
            scope=scope_of(res.scope, values),
            stamp=stamp_of(res.stamp, values, "create"),
        )
        res.wrote(session, "create", [row])
        headers = etag_headers(version, row)
        if res.created_status == 201:
            headers["Location"] = f"{res.prefix}/{row[repository.pk.name]}"
        return json_response(row, status_code=res.created_status, headers=headers)

    routes.add(
        "create",
        f"{res.prefix}/",
        "POST",
        f"create_{res.singular}",
        create,
        [res.body(res.schemas.Create), *res.stamp_parameter("create")],
        response_model=res.schemas.Public,
        status_code=res.created_status,
        responses={**CONFLICT, **BAD_BODY},
    )


def _list_parameters(res: Resource) -> list[inspect.Parameter]:
    return list_parameters(
        res.repository,
        max_limit=res.max_limit,
        order_by=res.order_by,
        reserved={"session", "if_match", res.id_name, res.singular, res.plural},
        label=res.label,
        conventions=res.conventions,
    )


def _list(res: Resource, routes: Routes) -> None:
    parameters = _list_parameters(res)
    routes.add(
        "list",
        f"{res.prefix}/",
        "GET",
        f"read_{res.plural}",
        list_logic(
            res.repository,
            label=res.label,
            scope=res.scope,
            conventions=res.conventions,
        ),
        parameters,
        response_model=res.public_list,
        responses=LIST_HEADERS,
    )


def _read(res: Resource, routes: Routes) -> None:
    logic = read_logic(
        res.repository,
        res.include,
        id_name=res.id_name,
        not_found=res.not_found,
        limits=include_limits(res.include, res.include_limit),
        scope=res.scope,
        conventions=res.conventions,
    )
    not_modified = {
        304: {"description": "Not modified: If-None-Match names the current ETag"}
    }
    routes.add(
        "read",
        res.item_path,
        "GET",
        f"read_{res.singular}",
        _answering_not_modified(logic),
        [res.id_parameter, *res.condition("if_none_match", _IF_NONE_MATCH)],
        response_model=read_model(res.model, res.schemas.Public, res.include),
        responses={**NOT_FOUND, **(not_modified if res.version is not None else {})},
    )


def _update(res: Resource, routes: Routes) -> None:
    repository, scoped = res.repository, res.scope.columns if res.scope else ()

    @res.one_statement
    def update(session: SessionLike, **values: Any) -> Any:
        data = values[res.singular].model_dump(exclude_unset=True)
        if sent := sorted(set(data) & set(scoped)):
            detail = f"{', '.join(sent)} cannot be changed"
            raise HTTPException(status_code=422, detail=detail)
        versions, must_exist = res.accepted(values)
        try:
            row = repository.update(
                session,
                values[res.id_name],
                data,
                version=versions,
                scope=scope_of(res.scope, values),
                stamp=stamp_of(res.stamp, values, "update"),
            )
        except StaleVersion:
            raise res.changed_by_someone() from None
        if row is None:
            raise res.absent(session, values, must_exist)
        if data:
            res.wrote(session, "update", [row])
        return json_response(row, headers=etag_headers(res.version, row))

    methods = res.conventions.update_methods
    for method in methods:
        name = f"update_{res.singular}"
        if len(methods) > 1 and method == "PUT":
            name = f"update_{res.singular}_put"
        routes.add(
            "update",
            res.item_path,
            method,
            name,
            update,
            [
                res.id_parameter,
                res.body(res.schemas.Update),
                *res.condition("if_match", _IF_MATCH),
                *res.stamp_parameter("update"),
            ],
            response_model=res.schemas.Public,
            responses={
                **NOT_FOUND,
                **CONFLICT,
                **BAD_BODY,
                **res.precondition_responses(),
            },
        )


def _delete(res: Resource, routes: Routes) -> None:
    def delete(session: SessionLike, **values: Any) -> Any:
        versions, must_exist = res.accepted(values)
        try:
            deleted = res.repository.delete(
                session,
                values[res.id_name],
                scope=scope_of(res.scope, values),
                version=versions,
            )
        except StaleVersion:
            raise res.changed_by_someone() from None
        if not deleted:
            raise res.absent(session, values, must_exist)
        res.wrote(session, "delete", [{res.repository.pk.name: values[res.id_name]}])
        return res.deleted_answer()

    children = bool(res.repository.children)
    routes.add(
        "delete",
        res.item_path,
        "DELETE",
        f"delete_{res.singular}",
        # With rules for children: the row locked, then the delete (and its
        # cascades): one transaction, never autocommit.
        delete if children else res.one_statement(delete),
        [res.id_parameter, *res.condition("if_match", _IF_MATCH)],
        status_code=res.deleted_status,
        responses={**res.precondition_responses(), **NOT_FOUND, **CONFLICT},
        response_model=res.deleted_model,
    )


def _bulk(res: Resource, routes: Routes) -> None:
    repository, plural = res.repository, res.plural

    def create_many(session: Session, **values: Any) -> Any:
        try:
            rows = repository.create_many(
                session,
                values[plural],
                scope=scope_of(res.scope, values),
                stamp=stamp_of(res.stamp, values, "create"),
            )
        except BulkValidationError as exc:
            errors = [{**e, "loc": ("body", *e["loc"])} for e in exc.errors]
            raise RequestValidationError(errors) from None
        except DBAPIError as exc:
            metadata = repository.table.metadata
            locate_bulk_row(exc, values[plural], metadata, session.connection())
            raise
        res.wrote(session, "create", rows)
        return json_response(rows, status_code=res.created_status)

    rows: Any = list[res.schemas.Create]  # type: ignore[name-defined]
    routes.add(
        "bulk",
        f"{res.prefix}/bulk",
        "POST",
        f"create_{plural}",
        create_many,
        [
            inspect.Parameter(plural, _KW, annotation=Annotated[rows, _BULK_BODY]),
            *res.stamp_parameter("create"),
        ],
        response_model=res.public_list,
        status_code=res.created_status,
        responses={**CONFLICT, **BAD_BODY},
    )


def _deleted_rows(res: Resource, routes: Routes) -> None:
    """The soft-deleted rows' list, read, purge and restore, for the `deleted_rows` dependencies."""
    if res.deleted_rows is None:
        return
    repository, dependencies = res.repository, list(res.deleted_rows)

    routes.add(
        "deleted",
        f"{res.prefix}/deleted/",
        "GET",
        f"read_deleted_{res.plural}",
        list_logic(
            repository,
            label=res.label,
            scope=res.scope,
            deleted="only",
            conventions=res.conventions,
        ),
        _list_parameters(res),
        response_model=res.public_list,
        responses=LIST_HEADERS,
        dependencies=dependencies,
    )

    deleted_item = f"{res.prefix}/deleted/{{{res.id_name}}}"

    @on_reads
    def read_deleted(reads: Runner, **values: Any) -> Any:
        scope = scope_of(res.scope, values)
        row = repository.read_deleted(reads, values[res.id_name], scope=scope)
        if row is None:
            raise HTTPException(status_code=404, detail=res.deleted_not_found)
        return json_response(row, headers=etag_headers(res.version, row))

    routes.add(
        "read_deleted",
        deleted_item,
        "GET",
        f"read_deleted_{res.singular}",
        read_deleted,
        [res.id_parameter],
        response_model=res.schemas.Public,
        responses=NOT_FOUND,
        dependencies=dependencies,
    )

    @res.one_statement
    def purge(session: SessionLike, **values: Any) -> Any:
        scope = scope_of(res.scope, values)
        if not repository.purge(session, values[res.id_name], scope=scope):
            raise HTTPException(status_code=404, detail=res.deleted_not_found)
        res.wrote(session, "purge", [{repository.pk.name: values[res.id_name]}])
        return res.deleted_answer()

    routes.add(
        "purge",
        deleted_item,
        "DELETE",
        f"purge_{res.singular}",
        purge,
        [res.id_parameter],
        status_code=res.deleted_status,
        response_model=res.deleted_model,
        responses={**NOT_FOUND, **CONFLICT},
        dependencies=dependencies,
    )

    @res.one_statement
    def restore(session: SessionLike, **values: Any) -> Any:
        scope = scope_of(res.scope, values)
        row = repository.restore(session, values[res.id_name], scope=scope)
        if row is None:
            raise HTTPException(status_code=404, detail=res.deleted_not_found)
        res.wrote(session, "restore", [row])
        return json_response(row, headers=etag_headers(res.version, row))

    routes.add(
        "restore",
        f"{res.item_path}/restore",
        "POST",
        f"restore_{res.singular}",
        restore,
        [res.id_parameter],
        response_model=res.schemas.Public,
        responses=NOT_FOUND,
        dependencies=dependencies,
    )


ENDPOINTS: tuple[Callable[[Resource, Routes], None], ...] = (
    _create,
    _list,
    _read,
    _update,
    _delete,
    _bulk,
    _deleted_rows,
)
"""The builders of `crud_router`'s endpoints, in the order they are added."""


def link_created_rows(routes: Routes, res: Resource) -> None:
    """Document OpenAPI links from the create answer to the item endpoints (for clients and stateful tests)."""
    found = {r.name: r for r in routes.router.routes if isinstance(r, APIRoute)}
    create = found.get(f"create_{res.singular}")
    if create is None:
        return
    links = {
        route.name: {
            "operationId": route.unique_id,
            "parameters": {res.id_name: f"$response.body#/{res.repository.pk.name}"},
        }
        for route in found.values()
        if "{" + res.id_name + "}" in route.path
    }
    if links:
        create.responses.setdefault(create.status_code or 200, {})["links"] = links


def _answering_not_modified(logic: Logic) -> Logic:
    """`logic`, answering 304 when the request's `If-None-Match` names the row's ETag."""

    @functools.wraps(logic)
    def read(target: Any, **values: Any) -> Any:
        if_none_match = values.pop("if_none_match", None)
        response = logic(target, **values)
        etag = response.headers.get("etag")
        if none_match(if_none_match, etag):
            return Response(status_code=304, headers={"ETag": etag})
        return response

    return read
