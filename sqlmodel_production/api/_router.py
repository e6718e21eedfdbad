"""`crud_router`: the CRUD endpoints of a model, from one call."""

import functools
import inspect
from collections.abc import Collection, Mapping, Sequence
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Header, HTTPException, Query, params
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlmodel import SQLModel
from starlette.responses import Response

from sqlmodel_production.api._body_limit import MAX_BODY_SIZE, body_limited_route
from sqlmodel_production.api._conditional import ANY, if_match_versions, none_match
from sqlmodel_production.api._endpoints import (
    Logic,
    json_response,
    key_parameter,
    make_endpoint,
    on_reads,
    one_statement,
)
from sqlmodel_production.api._errors import locate_bulk_row
from sqlmodel_production.api._list import MAX_OFFSET, list_logic, list_parameters
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
from sqlmodel_production.api._scope import RowScope, scope_of
from sqlmodel_production.crud._related import INCLUDE_LIMIT, include_limits
from sqlmodel_production.crud._repository import (
    BulkValidationError,
    Repository,
    StaleVersion,
    Target,
)
from sqlmodel_production.db._places import Place
from sqlmodel_production.models import Schemas, derive_schemas

__all__ = ["Endpoint", "crud_router"]

Endpoint = Literal[
    "create", "list", "read", "update", "delete", "bulk", "deleted", "restore"
]
_KW = inspect.Parameter.KEYWORD_ONLY
_BULK_BODY = Body(min_length=1, max_length=1000)


def crud_router(
    model: type[SQLModel],
    *,
    prefix: str,
    schemas: Schemas | None = None,
    write_only: Collection[str] = (),
    async_: bool = True,
    name: str | None = None,
    tags: Sequence[str] | None = None,
    filters: Mapping[str, Collection[str]] | Collection[str] = (),
    search: Collection[str] = (),
    order_by: Collection[str] = (),
    default_order: Sequence[str] = (),
    max_limit: int = 100,
    include: Mapping[str, type[SQLModel]] | None = None,
    include_limit: int | Mapping[str, int] = INCLUDE_LIMIT,
    exclude: Collection[Endpoint] = (),
    dependencies: Sequence[params.Depends] = (),
    route_dependencies: Mapping[Endpoint, Sequence[params.Depends]] | None = None,
    created_status: Literal[200, 201] = 200,
    deleted_status: Literal[200, 204] = 200,
    require_if_match: bool = False,
    max_body_size: int = MAX_BODY_SIZE,
    scope: RowScope | None = None,
    deleted_rows: Sequence[params.Depends] | None = None,
) -> APIRouter:
    """A router with create, list, read, update, delete and bulk create for `model`.

    Defaults follow SQLModel's FastAPI tutorial: `POST /heroes/` answers the Public
    shape, `GET /heroes/` takes `offset` and `limit` (at most `max_limit`),
    a missing row is `404 {"detail": "Hero not found"}`, `DELETE` answers
    `{"ok": true}`. Database errors become 409 / 422 / 503 once
    `install_error_handlers(app)` is called.

    The endpoints do not depend on `SessionDep` / `AsyncSessionDep` themselves
    (FastAPI's generator dependencies cost more than a read): reads and, on
    PostgreSQL, single-statement writes run on a pooled connection. A route
    dependency that asks for the session gets the one the endpoint then uses
    (its work commits with the endpoint's), and an override of `get_session` /
    `get_async_session` is honoured, called with the request if it asks for it.

    Args:
        model: the table model (single-column primary key).
        prefix: the collection path, e.g. `"/heroes"`.
        schemas: hand-written `Schemas(Create, Public, Update)`; derived from the model when omitted.
        write_only: fields never returned (passed to `derive_schemas`).
        async_: async endpoints (on `AsyncSession`s), or sync ones (on `Session`s).
        name: the model's name in messages and operation ids; the class name by default.
        tags: OpenAPI tags; the last segment of `prefix` by default.
        filters: fields (and operators) clients may filter the list on, the
            model's own (`"age"`) or related ones (`"author.name"`, as
            `?author__name__ilike=terry%`, matched with EXISTS: no row twice); any
            other query parameter is a 422. Allow only related fields clients may read.
        search: string fields (own or related) the list's `q` parameter searches,
            ignoring case; none: no `q`.
        order_by: fields clients may order the list by (`order_by=-age,name`).
        default_order: the list's order when the client gives none.
        max_limit: the largest page.
        include: relationships the read endpoint returns, each with its schema:
            `{"team": TeamPublic}` or `{"heroes": HeroPublic}`; loaded eagerly.
        include_limit: the most rows an included to-many relationship returns
            (100 by default), for all, or by relationship (`{"heroes": 20}`); a cut
            list is named in the `X-Include-Truncated` header.
        exclude: endpoints not to create.
        dependencies: dependencies of every endpoint (for example auth).
        route_dependencies: dependencies of some endpoints only.
        created_status: 201 to answer creates with `201 Created` and a `Location`.
        deleted_status: 204 to answer deletes with an empty `204 No Content`.
        max_body_size: the largest request body (create, update, bulk), in bytes;
            a larger one is answered 413 before it is parsed. 2 MiB by default.
        require_if_match: for a versioned model (`Versioned`), answer PATCH and
            DELETE without `If-Match` with `428 Precondition Required`.
        scope: the rows a request may see and write (`RowScope`: an owner, a
            tenant); a row outside it is a 404 on every endpoint.
        deleted_rows: for a model with soft delete (`SoftDelete`), the
            dependencies (an admin check) of two more endpoints:
            `GET {prefix}/deleted/` lists soft-deleted rows and
            `POST {prefix}/{id}/restore` restores one. None: no such endpoints;
            the other endpoints never show soft-deleted rows either way.

    Example:
        ```python
        app.include_router(crud_router(Hero, prefix="/heroes", write_only={"secret_name"}))
        ```
    """
    scoped = scope.columns if scope is not None else ()
    schemas = schemas or derive_schemas(model, write_only=write_only, read_only=scoped)
    Create, Public, Update = schemas
    # Runtime classes used as annotations of the generated endpoints.
    list_of_create: Any = list[Create]  # type: ignore[valid-type]
    list_of_public: Any = list[Public]  # type: ignore[valid-type]
    repository = Repository(
        model,
        public=Public,
        filters=filters,
        order_by=order_by,
        default_order=default_order,
        search=search,
    )
    label = name or model.__name__
    singular = snake(label)
    plural = prefix.rstrip("/").rsplit("/", 1)[-1].replace("-", "_")
    id_name = f"{singular}_id"
    not_found = f"{label} not found"
    item_path = f"{prefix}/{{{id_name}}}"
    version = repository.version
    router = APIRouter(
        tags=list(tags or [plural.replace("_", " ")]),
        dependencies=list(dependencies),
        route_class=body_limited_route(max_body_size),
    )
    extra = route_dependencies or {}

    def add(
        endpoint: Endpoint,
        path: str,
        method: str,
        func_name: str,
        logic: Any,
        parameters: list[inspect.Parameter],
        **options: Any,
    ) -> None:
        if endpoint in exclude:
            return
        if scope is not None:
            parameters = [*parameters, scope.parameter()]
        func = make_endpoint(
            logic, parameters, async_=async_, name=func_name, write=method != "GET"
        )
        router.add_api_route(
            path,
            func,
            methods=[method],
            name=func_name,
            dependencies=[*extra.get(endpoint, ()), *options.pop("dependencies", ())],
            **options,
        )

    id_param = key_parameter(id_name, repository.pk)

    def condition_params(name: str, header: Any) -> list[inspect.Parameter]:
        """The conditional-request header `name` of a versioned model's endpoint; none otherwise."""
        if version is None:
            return []
        return [
            inspect.Parameter(
                name, _KW, annotation=Annotated[str | None, header], default=None
            )
        ]

    @one_statement
    def create(session: Target, **values: Any) -> Any:
        row = repository.create(
            session, values[singular], scope=scope_of(scope, values)
        )
        headers = etag_headers(version, row)
        if created_status == 201:
            headers["Location"] = f"{prefix}/{row[repository.pk.name]}"
        return json_response(row, status_code=created_status, headers=headers)

    add(
        "create",
        f"{prefix}/",
        "POST",
        f"create_{singular}",
        create,
        [inspect.Parameter(singular, _KW, annotation=Create)],
        response_model=Public,
        status_code=created_status,
        responses={**CONFLICT, **BAD_BODY},
    )

    parameters = list_parameters(
        repository,
        max_limit=max_limit,
        order_by=order_by,
        reserved={"session", "if_match", id_name, singular, plural},
        label=label,
    )
    add(
        "list",
        f"{prefix}/",
        "GET",
        f"read_{plural}",
        list_logic(repository, label=label, scope=scope),
        parameters,
        response_model=list_of_public,
        responses=LIST_HEADERS,
    )

    add(
        "read",
        item_path,
        "GET",
        f"read_{singular}",
        _not_modified(
            read_logic(
                repository,
                include or {},
                id_name=id_name,
                not_found=not_found,
                limits=include_limits(include or {}, include_limit),
                scope=scope,
            )
        ),
        [id_param, *condition_params("if_none_match", _IF_NONE_MATCH)],
        response_model=read_model(model, Public, include or {}),
        responses={
            **NOT_FOUND,
            **(
                {
                    304: {
                        "description": "Not modified: If-None-Match names the current ETag"
                    }
                }
                if version is not None
                else {}
            ),
        },
    )

    update_params = [
        id_param,
        inspect.Parameter(singular, _KW, annotation=Update),
        *condition_params("if_match", _IF_MATCH),
    ]
    update_responses: dict[int | str, Any] = {**NOT_FOUND, **CONFLICT, **BAD_BODY}
    if version is not None:
        update_responses[412] = {
            "model": ErrorBody,
            "description": "If-Match names an older version",
        }
        if require_if_match:
            update_responses[428] = {
                "model": ErrorBody,
                "description": "If-Match is required",
            }

    def accepted(values: Mapping[str, Any]) -> tuple[frozenset[int] | None, bool]:
        """The versions If-Match accepts (None: any), and whether the row must exist (`*`)."""
        pre = if_match_versions(
            values.get("if_match"), required=require_if_match and version is not None
        )
        if pre.versions == ANY or pre.versions is None:
            return None, pre.versions == ANY
        return pre.versions, False

    def changed_by_someone() -> HTTPException:
        detail = f"{label} was changed by someone else; read it again"
        return HTTPException(status_code=412, detail=detail)

    def absent(must_exist: bool) -> HTTPException:
        if must_exist:  # If-Match: * names a row that does not exist (RFC 9110)
            return HTTPException(status_code=412, detail=not_found)
        return HTTPException(status_code=404, detail=not_found)

    @one_statement
    def update(session: Target, **values: Any) -> Any:
        data = values[singular].model_dump(exclude_unset=True)
        sent = sorted(set(data) & set(scoped))
        if sent:
            detail = f"{', '.join(sent)} cannot be changed"
            raise HTTPException(status_code=422, detail=detail)
        versions, must_exist = accepted(values)
        try:
            row = repository.update(
                session,
                values[id_name],
                data,
                version=versions,
                scope=scope_of(scope, values),
            )
        except StaleVersion:
            raise changed_by_someone() from None
        if row is None:
            raise absent(must_exist)
        return json_response(row, headers=etag_headers(version, row))

    add(
        "update",
        item_path,
        "PATCH",
        f"update_{singular}",
        update,
        update_params,
        response_model=Public,
        responses=update_responses,
    )

    @one_statement
    def delete(session: Target, **values: Any) -> Any:
        versions, must_exist = accepted(values)
        try:
            deleted = repository.delete(
                session,
                values[id_name],
                scope=scope_of(scope, values),
                version=versions,
            )
        except StaleVersion:
            raise changed_by_someone() from None
        if not deleted:
            raise absent(must_exist)
        if deleted_status == 204:
            return Response(status_code=204)
        return json_response({"ok": True})

    add(
        "delete",
        item_path,
        "DELETE",
        f"delete_{singular}",
        delete,
        [id_param, *condition_params("if_match", _IF_MATCH)],
        status_code=deleted_status,
        responses={
            **{k: v for k, v in update_responses.items() if k in (412, 428)},
            **NOT_FOUND,
            **CONFLICT,
        },
        response_model=None if deleted_status == 204 else Deleted,
    )

    def create_many(session: Session, **values: Any) -> Any:
        try:
            rows = repository.create_many(
                session, values[plural], scope=scope_of(scope, values)
            )
        except BulkValidationError as exc:
            errors = [{**e, "loc": ("body", *e["loc"])} for e in exc.errors]
            raise RequestValidationError(errors) from None
        except DBAPIError as exc:
            locate_bulk_row(
                exc, values[plural], repository.table.metadata, session.connection()
            )
            raise
        return json_response(rows, status_code=created_status)

    add(
        "bulk",
        f"{prefix}/bulk",
        "POST",
        f"create_{plural}",
        create_many,
        [
            inspect.Parameter(
                plural, _KW, annotation=Annotated[list_of_create, _BULK_BODY]
            )
        ],
        response_model=list_of_public,
        status_code=created_status,
        responses={**CONFLICT, **BAD_BODY},
    )
    if deleted_rows is not None:
        if repository.deleted_at is None:
            raise TypeError(
                f"deleted_rows needs soft delete: add the SoftDelete mixin to {model.__name__}"
            )

        @on_reads
        def read_deleted(reads: Place, **values: Any) -> Any:
            page = repository.list(
                reads,
                offset=values["offset"],
                limit=values["limit"],
                scope=scope_of(scope, values),
                deleted="only",
            )
            return json_response(page.rows)

        add(
            "deleted",
            f"{prefix}/deleted/",
            "GET",
            f"read_deleted_{plural}",
            read_deleted,
            [
                inspect.Parameter(
                    "offset",
                    _KW,
                    annotation=Annotated[int, Query(ge=0, le=MAX_OFFSET)],
                    default=0,
                ),
                inspect.Parameter(
                    "limit",
                    _KW,
                    annotation=Annotated[int, Query(ge=1, le=max_limit)],
                    default=max_limit,
                ),
            ],
            response_model=list_of_public,
            dependencies=list(deleted_rows),
        )

        @one_statement
        def restore(session: Target, **values: Any) -> Any:
            row = repository.restore(
                session, values[id_name], scope=scope_of(scope, values)
            )
            if row is None:
                raise HTTPException(
                    status_code=404,
                    detail=f"Deleted {not_found[0].lower()}{not_found[1:]}",
                )
            return json_response(row, headers=etag_headers(version, row))

        add(
            "restore",
            f"{item_path}/restore",
            "POST",
            f"restore_{singular}",
            restore,
            [id_param],
            response_model=Public,
            responses=NOT_FOUND,
            dependencies=list(deleted_rows),
        )
    _link_created_rows(
        router, create=f"create_{singular}", pk=repository.pk.name, id_name=id_name
    )
    return router


def _link_created_rows(
    router: APIRouter, *, create: str, pk: str, id_name: str
) -> None:
    """Document OpenAPI links from the create answer to the item endpoints (for clients and stateful tests)."""
    routes = {
        route.name: route for route in router.routes if isinstance(route, APIRoute)
    }
    if create not in routes:
        return
    links = {
        route.name: {
            "operationId": route.unique_id,
            "parameters": {id_name: f"$response.body#/{pk}"},
        }
        for route in routes.values()
        if "{" + id_name + "}" in route.path
    }
    if links:
        route = routes[create]
        route.responses.setdefault(route.status_code or 200, {})["links"] = links


_IF_MATCH = Header(
    description="The ETag you read (or a list of them, or `*`); a stale one is refused with 412"
)
_IF_NONE_MATCH = Header(
    description="The ETag you hold: if it is still current, the answer is 304 without a body"
)


def _not_modified(logic: Logic) -> Logic:
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
