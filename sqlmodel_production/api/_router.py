"""`crud_router`: the CRUD endpoints of a model, from one call."""

from collections.abc import Collection, Mapping, Sequence
from typing import Any, Literal

from fastapi import APIRouter, params
from sqlmodel import SQLModel

from sqlmodel_production.api._body_limit import MAX_BODY_SIZE
from sqlmodel_production.api._conventions import DEFAULT_CONVENTIONS, Conventions
from sqlmodel_production.api._crud_routes import ENDPOINTS, Resource, link_created_rows
from sqlmodel_production.api._fast_route import generated_route
from sqlmodel_production.api._hooks import WriteHook
from sqlmodel_production.api._routes import Routes
from sqlmodel_production.api._scope import RowScope
from sqlmodel_production.api._stamp import RowStamp
from sqlmodel_production.crud import ChildAction, Repository
from sqlmodel_production.crud.internal import INCLUDE_LIMIT
from sqlmodel_production.models import Schemas, derive_schemas

__all__ = ["Endpoint", "crud_router"]

Endpoint = Literal[
    "create",
    "list",
    "read",
    "update",
    "delete",
    "bulk",
    "deleted",
    "read_deleted",
    "restore",
    "purge",
]


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
    stamp: RowStamp | None = None,
    on_write: WriteHook | None = None,
    deleted_rows: Sequence[params.Depends] | None = None,
    on_delete: Mapping[str, ChildAction] | None = None,
    conventions: Conventions = DEFAULT_CONVENTIONS,
) -> APIRouter:
    """A router with create, list, read, update, delete and bulk create for `model`.

    Defaults follow SQLModel's FastAPI tutorial: `POST /heroes/` answers the Public
    shape, `GET /heroes/` takes `offset` and `limit` (at most `max_limit`),
    a missing row is `404 {"detail": "Hero not found"}`, `DELETE` answers
    `{"ok": true}`. Database errors become 409 / 422 / 503 once
    `install_error_handlers(app)` is called.

    How the endpoints use sessions: docs/crud.md.

    Args:
        model: the table model (single-column primary key).
        prefix: the collection path, e.g. `"/heroes"`.
        schemas: hand-written `Schemas(Create, Public, Update)`; derived from the model when omitted.
        write_only: fields never returned (passed to `derive_schemas`).
        async_: async endpoints (on `AsyncSession`s), or sync ones (on `Session`s).
        name: the model's name in messages and operation ids; the class name by default.
        tags: OpenAPI tags; the last segment of `prefix` by default.
        filters: fields (and operators) the list filters on, own (`"age"`) or related
            (`"author.name"`); any other query parameter is a 422.
        search: string fields (own or related) the list's `q` searches, ignoring case.
        order_by: fields clients may order the list by (`order_by=-age,name`).
        default_order: the list's order when the client gives none.
        max_limit: the largest page.
        include: relationships the read endpoint returns, each with its schema: `{"team": TeamPublic}`.
        include_limit: the most rows an included to-many relationship returns, for
            all or by relationship; a cut list is named in `X-Include-Truncated`.
        exclude: endpoints not to create.
        dependencies: dependencies of every endpoint (for example auth).
        route_dependencies: dependencies of some endpoints only.
        created_status: 201 to answer creates with `201 Created` and a `Location`.
        deleted_status: 204 to answer deletes with an empty `204 No Content`.
        max_body_size: the largest body in bytes (2 MiB); a larger one is a 413, unparsed.
        require_if_match: answer PATCH and DELETE of a `Versioned` model without `If-Match` with 428.
        scope: the rows a request may see and write (`RowScope`); outside it, a 404.
        stamp: columns writes take from a dependency, never from the client (`RowStamp`).
        on_write: called with each write (`WriteEvent`) in the write's transaction (an
            audit table, an outbox); if it raises, the write is rolled back.
        deleted_rows: for a `SoftDelete` model, the dependencies (an admin check) of the
            endpoints over soft-deleted rows: list, read one, purge and restore; None: none.
        on_delete: for a `SoftDelete` model, what `DELETE` does to live children, by
            relationship: `"cascade"` (soft-deletes them too) or `"refuse"` (a 409).
        conventions: the shape clients expect where it is not the package's
            (`Conventions`: a list envelope, `PUT`, names, 403 outside the scope).

    Example:
        ```python
        app.include_router(crud_router(Hero, prefix="/heroes", write_only={"secret_name"}))
        ```
    """
    schemas, repository = _schemas_and_repository(
        model,
        schemas,
        write_only=write_only,
        scope=scope,
        stamp=stamp,
        filters=filters,
        order_by=order_by,
        default_order=default_order,
        search=search,
        on_delete=on_delete,
    )
    resource = Resource(
        model=model,
        schemas=schemas,
        repository=repository,
        prefix=prefix,
        label=name or model.__name__,
        scope=scope,
        stamp=stamp,
        on_write=on_write,
        order_by=order_by,
        max_limit=max_limit,
        include=include or {},
        include_limit=include_limit,
        created_status=created_status,
        deleted_status=deleted_status,
        require_if_match=require_if_match,
        deleted_rows=deleted_rows,
        conventions=conventions,
    )
    return _router(
        resource,
        async_=async_,
        tags=tags,
        dependencies=dependencies,
        route_dependencies=route_dependencies,
        exclude=exclude,
        max_body_size=max_body_size,
    )


def _schemas_and_repository(
    model: type[SQLModel],
    schemas: Schemas | None,
    *,
    write_only: Collection[str],
    scope: RowScope | None,
    stamp: RowStamp | None,
    filters: Mapping[str, Collection[str]] | Collection[str],
    order_by: Collection[str],
    default_order: Sequence[str],
    search: Collection[str],
    on_delete: Mapping[str, ChildAction] | None,
) -> tuple[Schemas, Repository[Any]]:
    """The router's schemas (the scoped and stamped columns read-only, or create-only) and the repository serving them."""
    named = scope.columns if scope and scope.named_on_create else ()
    read_only = [
        *(c for c in (scope.columns if scope else ()) if c not in named),
        *(stamp.columns if stamp else ()),
    ]
    if stamp is not None:
        stamp.check(model.__table__, model.__name__)  # type: ignore[attr-defined]
        if clash := [c for c in stamp.columns if scope and c in scope.columns]:
            raise ValueError(
                f"RowStamp and RowScope both write {', '.join(clash)}: give it to one of them"
            )
    schemas = schemas or derive_schemas(
        model, write_only=write_only, read_only=read_only, create_only=named
    )
    repository = Repository(
        model,
        public=schemas.Public,
        filters=filters,
        order_by=order_by,
        default_order=default_order,
        search=search,
        on_delete=on_delete,
    )
    return schemas, repository


def _router(
    resource: Resource,
    *,
    async_: bool,
    tags: Sequence[str] | None,
    dependencies: Sequence[params.Depends],
    route_dependencies: Mapping[Endpoint, Sequence[params.Depends]] | None,
    exclude: Collection[Endpoint],
    max_body_size: int,
) -> APIRouter:
    """The router of `resource`, with each endpoint's builder run on it."""
    router = APIRouter(
        tags=list(tags or [resource.plural.replace("_", " ")]),
        dependencies=list(dependencies),
        route_class=generated_route(max_body_size),
    )
    routes = Routes(
        router,
        async_=async_,
        scope=resource.scope,
        exclude=exclude,
        dependencies=route_dependencies or {},
    )
    for add_endpoint in ENDPOINTS:
        add_endpoint(resource, routes)
    link_created_rows(routes, resource)
    return router
