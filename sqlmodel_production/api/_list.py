"""The list endpoint: its query parameters and its paging headers."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Collection, Iterator
from typing import Annotated, Any

from fastapi import Query
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel
from starlette.requests import HTTPConnection

from sqlmodel_production._compat import query_parameters, takes_several_values
from sqlmodel_production.api._conventions import DEFAULT_CONVENTIONS, Conventions
from sqlmodel_production.api._endpoints import Logic, json_response, on_reads
from sqlmodel_production.api._scope import RowScope, scope_of
from sqlmodel_production.crud import DeletedRows, Page, Repository
from sqlmodel_production.crud.internal import CURSOR_PATTERN, MAX_CURSOR_LENGTH
from sqlmodel_production.db.internal import Runner

__all__ = [
    "CURSOR_DESCRIPTION",
    "LIST_REQUEST",
    "MAX_OFFSET",
    "OFFSET_DESCRIPTION",
    "list_logic",
    "list_parameters",
    "order_by_pattern",
    "page_headers",
    "unknown_parameters",
]

MAX_OFFSET = 2**31 - 1
"""The largest `offset` a list accepts: every database can take it (deep pages want a cursor)."""
_KW = inspect.Parameter.KEYWORD_ONLY
OFFSET_DESCRIPTION = (
    "Rows to skip; only 0 with a cursor (a cursor with another offset is a 422)"
)
CURSOR_DESCRIPTION = (
    "The X-Next-Cursor header of the previous page of this list, with the same "
    "order_by and filters; not with an offset. A cursor the API did not send, or sent "
    "for another order, is a 422"
)
LIST_REQUEST = "_list_request"
"""The parameter of `list_parameters` that carries the request, for `unknown_parameters`."""


def list_parameters(
    repository: Repository[Any],
    *,
    max_limit: int,
    order_by: Collection[str],
    reserved: Collection[str],
    label: str,
    conventions: Conventions = DEFAULT_CONVENTIONS,
) -> list[inspect.Parameter]:
    """Paging, ordering and the allow-listed filters, as typed query parameters.

    Any other query parameter is refused with a 422 naming it (`unknown_parameters`),
    so that a misspelt or not allowed filter never silently lists every row.

    Raises:
        ValueError: a filter parameter would shadow a paging parameter or another
            parameter of the router (`reserved`).
    """
    names = [p.name for p in repository.filters.params]
    if clashes := (conventions.paging | set(reserved)) & set(names):
        raise ValueError(
            f"Filter parameters {', '.join(sorted(clashes))} of {label} clash with the "
            "list endpoint's own parameters; leave those fields out of `filters`"
        )
    offset, limit = conventions.offset_name, conventions.limit_name
    parameters = [
        _query(
            "offset",
            int,
            0,
            ge=0,
            le=MAX_OFFSET,
            description=OFFSET_DESCRIPTION,
            **_alias("offset", offset),
        ),
        _query("limit", int, max_limit, ge=1, le=max_limit, **_alias("limit", limit)),
        _query(
            "cursor",
            str | None,
            None,
            pattern=CURSOR_PATTERN,
            max_length=MAX_CURSOR_LENGTH,
            description=CURSOR_DESCRIPTION,
        ),
        _query(
            "count",
            bool,
            False,
            description="Send the number of matching rows in X-Total-Count",
        ),
    ]
    if order_by:
        allowed = ", ".join(sorted(order_by))
        description = f"Comma-separated keys, `-` for descending; allowed: {allowed}"
        parameters.append(
            _query(
                "order_by",
                str | None,
                None,
                pattern=order_by_pattern(order_by),
                description=description,
            )
        )
    parameters += [
        _query(p.name, p.annotation | None, None, description=p.description)
        for p in repository.filters.params
    ]
    # The request itself (FastAPI passes it without a dependency to solve), for
    # `unknown_parameters`.
    parameters.append(inspect.Parameter(LIST_REQUEST, _KW, annotation=HTTPConnection))
    return parameters


def order_by_pattern(keys: Collection[str]) -> str:
    """The shape of an `order_by` of `keys`: comma-separated, each with an optional `-` or `+`.

    Spaces around a key are allowed (a `+` in a URL arrives as one). A key named
    twice fits the pattern and is still a 422.
    """
    key = " *[-+]?(?:" + "|".join(re.escape(k) for k in sorted(keys)) + ") *"
    return f"^(?:{key}(?:,{key})*)?$"


def unknown_parameters(
    repository: Repository[Any], label: str
) -> Callable[[HTTPConnection], None]:
    """A check refusing query parameters the route does not declare, with a 422 naming each.

    What the route declares includes the query parameters of its (and its router's)
    dependencies, so an `api_key` a dependency reads passes. Worked out once per route.
    """
    declared_by_route: dict[int, tuple[Any, frozenset[str], frozenset[str]]] = {}
    by_field: dict[str, list[str]] = {}
    for p in repository.filters.params:
        by_field.setdefault(p.field.replace(".", "__"), []).append(p.name)

    def refuse_unknown_query_parameters(request: HTTPConnection) -> None:
        query = request.query_params
        if not query:
            return
        route = request.scope.get("route")
        found = declared_by_route.get(id(route))
        if found is None:
            names = dict(_query_names(route))
            several = frozenset(name for name, many in names.items() if many)
            found = declared_by_route[id(route)] = (route, frozenset(names), several)
        declared, several = found[1], found[2]
        unknown = [name for name in query if name not in declared]
        repeated = [
            name
            for name in dict.fromkeys(query)
            if name in declared and name not in several and len(query.getlist(name)) > 1
        ]
        if repeated and not unknown:
            raise RequestValidationError(
                [
                    {
                        "type": "repeated_parameter",
                        "loc": ("query", name),
                        "msg": f"{name!r} takes one value; it was given "
                        f"{len(query.getlist(name))}",
                        "input": query.getlist(name),
                    }
                    for name in repeated
                ]
            )
        if unknown:
            raise RequestValidationError(
                [
                    {
                        "type": "unknown_parameter",
                        "loc": ("query", name),
                        "msg": _unknown(name, declared, by_field, label),
                        "input": query[name],
                    }
                    for name in unknown
                ]
            )

    return refuse_unknown_query_parameters


def _unknown(
    name: str,
    declared: frozenset[str],
    by_field: dict[str, list[str]],
    label: str,
) -> str:
    field, _, op = name.rpartition("__")
    if name in by_field:  # `eq` of a field that does not allow it
        field = name
    if field in by_field:
        return (
            f"{label} cannot be filtered with {name!r}; the filters of "
            f"{field.replace('__', '.')}: {', '.join(by_field[field])}"
        )
    return f"unknown query parameter {name!r}; this list takes: {', '.join(sorted(declared))}"


def _query_names(route: object) -> Iterator[tuple[str, bool]]:
    """The name of every query parameter of a route, its dependencies' included, and whether it takes several values."""
    for name, annotation in query_parameters(route) or ():
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            # A query parameter model: its fields are the parameters.
            for field_name, info in annotation.model_fields.items():
                yield info.alias or field_name, takes_several_values(info.annotation)
        else:
            yield name, takes_several_values(annotation)


def list_logic(
    repository: Repository[Any],
    *,
    label: str | None = None,
    scope: RowScope | None = None,
    deleted: DeletedRows = "hide",
    conventions: Conventions = DEFAULT_CONVENTIONS,
) -> Logic:
    """One page of rows (inside the request's scope), the next cursor and the optional total in headers.

    A query parameter the route does not declare is a 422 naming it. `deleted`:
    which rows of a soft-delete model it lists (the live ones by default).
    """
    filter_names = [p.name for p in repository.filters.params]
    refuse_unknown = unknown_parameters(repository, label or repository.model.__name__)

    @on_reads
    def read_many(reads: Runner, **values: Any) -> Any:
        refuse_unknown(values[LIST_REQUEST])
        page = repository.list(
            reads,
            filters={name: values[name] for name in filter_names},
            # An empty `?cursor=` or `?order_by=` is the same as none.
            order_by=values.get("order_by") or None,
            offset=values["offset"],
            limit=values["limit"],
            cursor=values["cursor"] or None,
            with_total=values["count"] or conventions.list_envelope is not None,
            scope=scope_of(scope, values),
            deleted=deleted,
        )
        return json_response(
            conventions.list_body(page.rows, page.total), headers=page_headers(page)
        )

    return read_many


def page_headers(page: Page) -> dict[str, str]:
    """The headers of a list's page: `X-Next-Cursor` when more rows follow, `X-Total-Count` when counted."""
    headers = {}
    if page.next_cursor is not None:
        headers["X-Next-Cursor"] = page.next_cursor
    if page.total is not None:
        headers["X-Total-Count"] = str(page.total)
    return headers


def _alias(name: str, alias: str) -> dict[str, str]:
    return {} if alias == name else {"alias": alias}


def _query(
    name: str, annotation: Any, default: Any, **options: Any
) -> inspect.Parameter:
    return inspect.Parameter(
        name, _KW, annotation=Annotated[annotation, Query(**options)], default=default
    )
