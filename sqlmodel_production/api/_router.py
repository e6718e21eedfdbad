"""`crud_router`: the seed's CRUD endpoints for a model, from one call."""

import inspect
import re
from collections.abc import Collection, Mapping, Sequence
from typing import Annotated, Any, Literal

import sqlalchemy as sa
from fastapi import APIRouter, Body, Header, HTTPException, Query, params
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel, create_model
from sqlalchemy.orm import Session, selectinload
from sqlmodel import SQLModel
from starlette.responses import Response

from sqlmodel_production.api._endpoints import (
    BAD_BODY,
    HTTPError,
    json_response,
    key_parameter,
    make_endpoint,
)
from sqlmodel_production.crud._related import related_load
from sqlmodel_production.crud._repository import (
    BulkValidationError,
    Repository,
    StaleVersion,
)
from sqlmodel_production.models import Schemas, derive_schemas

__all__ = ["Endpoint", "HTTPError", "crud_router"]

Endpoint = Literal["create", "list", "read", "update", "delete", "bulk"]
_KW = inspect.Parameter.KEYWORD_ONLY
MAX_OFFSET = 2**31 - 1
"""The largest `offset` a list accepts: every database can take it (deep pages want a cursor)."""


class Conflict(HTTPError):
    """A 409: the write conflicts with a constraint (named) or a concurrent change."""

    code: str
    constraint: str | None = None
    fields: list[str] = []


_NOT_FOUND: dict[int | str, Any] = {
    404: {"model": HTTPError, "description": "Not found"}
}
_CONFLICT: dict[int | str, Any] = {
    409: {
        "model": Conflict,
        "description": "Conflicts with a unique key, a reference or a newer version",
    }
}


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
    order_by: Collection[str] = (),
    default_order: Sequence[str] = (),
    max_limit: int = 100,
    include: Mapping[str, type[SQLModel]] | None = None,
    exclude: Collection[Endpoint] = (),
    dependencies: Sequence[params.Depends] = (),
    route_dependencies: Mapping[Endpoint, Sequence[params.Depends]] | None = None,
    created_status: Literal[200, 201] = 200,
    deleted_status: Literal[200, 204] = 200,
) -> APIRouter:
    """A router with create, list, read, update, delete and bulk create for `model`.

    Defaults follow the seed's contract: `POST /heroes/` answers the Public
    shape, `GET /heroes/` takes `offset` and `limit` (at most `max_limit`),
    a missing row is `404 {"detail": "Hero not found"}`, `DELETE` answers
    `{"ok": true}`. Database errors become 409 / 422 / 503 once
    `install_error_handlers(app)` is called.

    Args:
        model: the table model (single-column primary key).
        prefix: the collection path, e.g. `"/heroes"`.
        schemas: hand-written `Schemas(Create, Public, Update)`; derived from the model when omitted.
        write_only: fields never returned (passed to `derive_schemas`).
        async_: async endpoints on `AsyncSessionDep`, or sync ones on `SessionDep`.
        name: the model's name in messages and operation ids; the class name by default.
        tags: OpenAPI tags; the last segment of `prefix` by default.
        filters: fields (and operators) clients may filter the list on.
        order_by: fields clients may order the list by (`order_by=-age,name`).
        default_order: the list's order when the client gives none.
        max_limit: the largest page.
        include: relationships the read endpoint returns, each with its schema:
            `{"team": TeamPublic}` or `{"heroes": HeroPublic}`; loaded eagerly.
        exclude: endpoints not to create.
        dependencies: dependencies of every endpoint (for example auth).
        route_dependencies: dependencies of some endpoints only.
        created_status: 201 to answer creates with `201 Created` and a `Location`.
        deleted_status: 204 to answer deletes with an empty `204 No Content`.

    Example:
        ```python
        app.include_router(crud_router(Hero, prefix="/heroes", write_only={"secret_name"}))
        ```
    """
    schemas = schemas or derive_schemas(model, write_only=write_only)
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
    )
    label = name or model.__name__
    singular = _snake(label)
    plural = prefix.rstrip("/").rsplit("/", 1)[-1].replace("-", "_")
    id_name = f"{singular}_id"
    not_found = f"{label} not found"
    item_path = f"{prefix}/{{{id_name}}}"
    versioned = repository.version is not None
    router = APIRouter(
        tags=list(tags or [plural.replace("_", " ")]), dependencies=list(dependencies)
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
        func = make_endpoint(
            logic, parameters, async_=async_, name=func_name, write=method != "GET"
        )
        router.add_api_route(
            path,
            func,
            methods=[method],
            name=func_name,
            dependencies=list(extra.get(endpoint, ())),
            **options,
        )

    id_param = key_parameter(id_name, repository.pk)

    def find(session: Session, id: Any) -> dict[str, Any]:
        row = repository.read(session, id)
        if row is None:
            raise HTTPException(status_code=404, detail=not_found)
        return row

    def etag(row: Mapping[str, Any]) -> dict[str, str]:
        if not versioned:
            return {}
        assert repository.version is not None
        return {"ETag": f'"{row[repository.version.name]}"'}

    # --- create ------------------------------------------------------------------------

    def create(session: Session, **values: Any) -> Any:
        row = repository.create(session, values[singular])
        headers = etag(row)
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
        responses={**_CONFLICT, **BAD_BODY},
    )

    # --- list --------------------------------------------------------------------------

    list_params = [
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
        inspect.Parameter(
            "cursor",
            _KW,
            annotation=Annotated[
                str | None,
                Query(
                    description="Opaque cursor from the previous page's X-Next-Cursor header"
                ),
            ],
            default=None,
        ),
        inspect.Parameter(
            "count",
            _KW,
            annotation=Annotated[
                bool,
                Query(description="Send the number of matching rows in X-Total-Count"),
            ],
            default=False,
        ),
    ]
    if order_by:
        allowed = ", ".join(sorted(order_by))
        list_params.append(
            inspect.Parameter(
                "order_by",
                _KW,
                annotation=Annotated[
                    str | None,
                    Query(
                        description=f"Comma-separated keys, `-` for descending; allowed: {allowed}"
                    ),
                ],
                default=None,
            )
        )
    filter_names = [p.name for p in repository.filters.params]
    taken = {
        "offset",
        "limit",
        "cursor",
        "count",
        "order_by",
        "session",
        "if_match",
        id_name,
        singular,
        plural,
    }
    if clashes := taken & set(filter_names):
        raise ValueError(
            f"Filter parameters {', '.join(sorted(clashes))} of {label} clash with the "
            "list endpoint's own parameters; leave those fields out of `filters`"
        )
    list_params += [
        inspect.Parameter(
            p.name,
            _KW,
            annotation=Annotated[p.annotation | None, Query(description=p.description)],
            default=None,
        )
        for p in repository.filters.params
    ]

    def read_many(session: Session, **values: Any) -> Any:
        page = repository.list(
            session,
            filters={name: values[name] for name in filter_names},
            order_by=values.get("order_by"),
            offset=values["offset"],
            limit=values["limit"],
            cursor=values["cursor"],
            with_total=values["count"],
        )
        headers = {}
        if page.next_cursor is not None:
            headers["X-Next-Cursor"] = page.next_cursor
        if page.total is not None:
            headers["X-Total-Count"] = str(page.total)
        return json_response(page.rows, headers=headers)

    add(
        "list",
        f"{prefix}/",
        "GET",
        f"read_{plural}",
        read_many,
        list_params,
        response_model=list_of_public,
        responses={
            200: {
                "headers": {
                    "X-Next-Cursor": {
                        "description": "Cursor of the next page (absent on the last)",
                        "schema": {"type": "string"},
                    },
                    "X-Total-Count": {
                        "description": "Matching rows, when count=true",
                        "schema": {"type": "integer"},
                    },
                }
            }
        },
    )

    # --- read --------------------------------------------------------------------------

    read_model: type[BaseModel] = Public
    if include:
        read_model = create_model(  # type: ignore[call-overload]
            f"{Public.__name__}With{''.join(k.title() for k in include)}",
            __base__=Public,
            **{
                key: (_included(model, key, schema), _included_default(model, key))
                for key, schema in include.items()
            },
        )
        loads = [related_load(model, key, schema) for key, schema in include.items()]
        if all(load is not None for load in loads):
            # One statement per relationship, no identity map, no second validation.
            read_with_keys = sa.select(
                *repository.columns,
                *{c for load in loads if load for c in load.keys}
                - set(repository.columns),
            ).where(repository.pk == sa.bindparam("pk"))
            public_names = [c.name for c in repository.columns]

            def read_one(session: Session, **values: Any) -> Any:
                connection = session.connection()
                found = (
                    connection.execute(read_with_keys, {"pk": values[id_name]})
                    .mappings()
                    .first()
                )
                if found is None:
                    raise HTTPException(status_code=404, detail=not_found)
                data = {name: found[name] for name in public_names}
                for load in loads:
                    assert load is not None
                    data[load.name] = load(connection, found)
                return json_response(data, headers=etag(data))

        else:
            loaders = [selectinload(getattr(model, key)) for key in include]

            def read_one(session: Session, **values: Any) -> Any:
                obj = session.get(model, values[id_name], options=loaders)
                if obj is None:
                    raise HTTPException(status_code=404, detail=not_found)
                data = read_model.model_validate(obj).model_dump(mode="json")
                return json_response(data, headers=etag(data))

    else:

        def read_one(session: Session, **values: Any) -> Any:
            row = find(session, values[id_name])
            return json_response(row, headers=etag(row))

    add(
        "read",
        item_path,
        "GET",
        f"read_{singular}",
        read_one,
        [id_param],
        response_model=read_model,
        responses=_NOT_FOUND,
    )

    # --- update ------------------------------------------------------------------------

    update_params = [id_param, inspect.Parameter(singular, _KW, annotation=Update)]
    if versioned:
        update_params.append(
            inspect.Parameter(
                "if_match",
                _KW,
                annotation=Annotated[
                    str | None,
                    Header(
                        description="The ETag you read; a stale one is refused with 412"
                    ),
                ],
                default=None,
            )
        )

    def update(session: Session, **values: Any) -> Any:
        id = values[id_name]
        data = values[singular].model_dump(exclude_unset=True)
        version = _version(values.get("if_match"))
        try:
            row = repository.update(session, id, data, version=version)
        except StaleVersion:
            raise HTTPException(
                status_code=412,
                detail=f"{label} was changed by someone else; read it again",
            ) from None
        if row is None:
            raise HTTPException(status_code=404, detail=not_found)
        return json_response(row, headers=etag(row))

    update_responses: dict[int | str, Any] = {**_NOT_FOUND, **_CONFLICT, **BAD_BODY}
    if versioned:
        update_responses[412] = {
            "model": HTTPError,
            "description": "If-Match names an older version",
        }
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

    # --- delete ------------------------------------------------------------------------

    def delete(session: Session, **values: Any) -> Any:
        if not repository.delete(session, values[id_name]):
            raise HTTPException(status_code=404, detail=not_found)
        if deleted_status == 204:
            return Response(status_code=204)
        return json_response({"ok": True})

    add(
        "delete",
        item_path,
        "DELETE",
        f"delete_{singular}",
        delete,
        [id_param],
        status_code=deleted_status,
        responses={**_NOT_FOUND, **_CONFLICT},
        **(
            {"response_model": None}
            if deleted_status == 204
            else {"response_model": Deleted}
        ),
    )

    # --- bulk create -------------------------------------------------------------------

    def create_many(session: Session, **values: Any) -> Any:
        try:
            rows = repository.create_many(session, values[plural])
        except BulkValidationError as exc:
            raise RequestValidationError(
                [{**e, "loc": ("body", *e["loc"])} for e in exc.errors]
            ) from None
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
        responses={**_CONFLICT, **BAD_BODY},
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
        f"{route.name}": {
            "operationId": route.unique_id,
            "parameters": {id_name: f"$response.body#/{pk}"},
        }
        for route in routes.values()
        if "{" + id_name + "}" in route.path
    }
    if links:
        route = routes[create]
        response = route.responses.setdefault(route.status_code or 200, {})
        response["links"] = links


class Deleted(BaseModel):
    """The seed's answer to a delete: `{"ok": true}`."""

    ok: bool


_BULK_BODY = Body(min_length=1, max_length=1000)


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _version(if_match: str | None) -> int | None:
    if if_match is None:
        return None
    tag = if_match.strip().removeprefix("W/").strip('"')
    if not tag.isdigit():
        raise HTTPException(
            status_code=412, detail="If-Match must be an ETag this API sent"
        )
    return int(tag)


def _included(model: type[SQLModel], key: str, schema: type[SQLModel]) -> Any:
    relationship = getattr(model, key).property
    if relationship.uselist:
        return list[schema]  # type: ignore[valid-type]
    return schema | None


def _included_default(model: type[SQLModel], key: str) -> Any:
    return [] if getattr(model, key).property.uselist else None
