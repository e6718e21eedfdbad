"""The list endpoint: its query parameters and its paging headers."""

from __future__ import annotations

import inspect
from collections.abc import Collection
from typing import Annotated, Any

from fastapi import Query

from sqlmodel_production.api._endpoints import Logic, json_response, on_reads
from sqlmodel_production.api._scope import RowScope
from sqlmodel_production.crud._repository import Repository
from sqlmodel_production.db._places import Place

__all__ = ["MAX_OFFSET", "PAGING", "list_logic", "list_parameters"]

MAX_OFFSET = 2**31 - 1
"""The largest `offset` a list accepts: every database can take it (deep pages want a cursor)."""
PAGING = frozenset({"offset", "limit", "cursor", "count", "order_by"})
"""The list endpoint's own parameter names; filters may not reuse them."""
_KW = inspect.Parameter.KEYWORD_ONLY


def list_parameters(
    repository: Repository[Any],
    *,
    max_limit: int,
    order_by: Collection[str],
    reserved: Collection[str],
    label: str,
) -> list[inspect.Parameter]:
    """Paging, ordering and the allow-listed filters, as typed query parameters.

    Raises:
        ValueError: a filter parameter would shadow a paging parameter or another
            parameter of the router (`reserved`).
    """
    names = [p.name for p in repository.filters.params]
    if clashes := (PAGING | set(reserved)) & set(names):
        raise ValueError(
            f"Filter parameters {', '.join(sorted(clashes))} of {label} clash with the "
            "list endpoint's own parameters; leave those fields out of `filters`"
        )
    parameters = [
        _query("offset", int, 0, ge=0, le=MAX_OFFSET),
        _query("limit", int, max_limit, ge=1, le=max_limit),
        _query(
            "cursor",
            str | None,
            None,
            description="Opaque cursor from the previous page's X-Next-Cursor header",
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
        parameters.append(_query("order_by", str | None, None, description=description))
    parameters += [
        _query(p.name, p.annotation | None, None, description=p.description)
        for p in repository.filters.params
    ]
    return parameters


def list_logic(repository: Repository[Any], scope: RowScope | None = None) -> Logic:
    """One page of rows (inside the request's scope), the next cursor and the optional total in headers."""
    filter_names = [p.name for p in repository.filters.params]

    @on_reads
    def read_many(reads: Place, **values: Any) -> Any:
        page = repository.list(
            reads,
            filters={name: values[name] for name in filter_names},
            # An empty `?cursor=` or `?order_by=` is the same as none.
            order_by=values.get("order_by") or None,
            offset=values["offset"],
            limit=values["limit"],
            cursor=values["cursor"] or None,
            with_total=values["count"],
            scope=scope.of(values) if scope is not None else None,
        )
        headers = {}
        if page.next_cursor is not None:
            headers["X-Next-Cursor"] = page.next_cursor
        if page.total is not None:
            headers["X-Total-Count"] = str(page.total)
        return json_response(page.rows, headers=headers)

    return read_many


def _query(
    name: str, annotation: Any, default: Any, **options: Any
) -> inspect.Parameter:
    return inspect.Parameter(
        name, _KW, annotation=Annotated[annotation, Query(**options)], default=default
    )
