"""`Conventions`: how a generated router's endpoints look to clients that already expect another shape."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from fastapi import HTTPException
from pydantic import BaseModel, create_model

__all__ = ["DEFAULT_CONVENTIONS", "Conventions", "outside_or_missing"]

Method = Literal["PATCH", "PUT"]


@dataclass(frozen=True)
class Conventions:
    """The shape of a router's endpoints, where an app's clients expect one of their own.

    The defaults are the package's (SQLModel's tutorial): a list is a bare array
    with its count in `X-Total-Count`, updates are `PATCH`, a delete answers
    `{"ok": true}`, the path parameter is `{model}_id`, pages take `offset` and
    `limit`, and a row outside the request's scope is a 404. One object can be
    shared by every router of an app; it is checked when the router is built.

    Args:
        list_envelope: the names of the rows and the count in a list's body,
            e.g. `("data", "count")` for `{"data": [...], "count": 7}`; the count
            is then always computed (the filters', not the page's).
        update_methods: the update endpoint's methods; `PUT` updates partially,
            as `PATCH` does (only the fields sent change).
        deleted_body: a successful delete's body (with `deleted_status=200`),
            e.g. `{"message": "Item deleted successfully"}`, or an instance of
            your own model, whose schema OpenAPI then shows
            (`Message(message="Item deleted successfully")`).
        id_name: the path parameter's name, e.g. `"id"`.
        offset_name: the list's offset parameter, e.g. `"skip"`.
        limit_name: the list's page size parameter.
        outside_scope: the status of a row that exists outside the request's
            scope: 404, as if absent (the default: nothing is disclosed), or 403
            with `outside_scope_detail` (it discloses that the row exists).
        outside_scope_detail: the 403's detail.
        list_schema: the OpenAPI name of the list envelope's schema, `{label}`
            standing for the router's name (`"{label}sPublic"`: `ItemsPublic`).
        deleted_schema: the OpenAPI name of `deleted_body`'s schema (`"Message"`).

    Example:
        ```python
        TEMPLATE = Conventions(
            list_envelope=("data", "count"),
            update_methods=("PUT",),
            deleted_body={"message": "Item deleted successfully"},
            id_name="id",
            offset_name="skip",
            outside_scope=403,
        )
        app.include_router(crud_router(Item, prefix="/items", conventions=TEMPLATE))
        ```

    Raises:
        ValueError: a name is not an identifier, two names are the same, no
            update method, or a status other than 403 and 404.
    """

    list_envelope: tuple[str, str] | None = None
    update_methods: tuple[Method, ...] = ("PATCH",)
    deleted_body: Mapping[str, Any] | BaseModel | None = None
    id_name: str | None = None
    offset_name: str = "offset"
    limit_name: str = "limit"
    outside_scope: Literal[403, 404] = 404
    outside_scope_detail: str = "Not enough permissions"
    list_schema: str = "{label}List"
    deleted_schema: str = "{label}Deleted"

    def __post_init__(self) -> None:
        names = [self.offset_name, self.limit_name]
        if self.list_envelope is not None:
            if len(self.list_envelope) != 2:
                raise ValueError(
                    "list_envelope names the rows and the count: ('data', 'count')"
                )
            names += list(self.list_envelope)
        if self.id_name is not None:
            names.append(self.id_name)
        for name in names:
            if not isinstance(name, str) or not name.isidentifier():
                raise ValueError(f"Conventions: {name!r} is not a valid name")
        if self.list_envelope is not None and len(set(self.list_envelope)) != 2:
            raise ValueError("list_envelope needs two different names")
        if self.offset_name == self.limit_name:
            raise ValueError("offset_name and limit_name must differ")
        methods = self.update_methods
        if (
            not methods
            or len(set(methods)) != len(methods)
            or not set(methods) <= {"PATCH", "PUT"}
        ):
            raise ValueError(
                f"update_methods: PATCH, PUT or both, once each; not {methods!r}"
            )
        if self.outside_scope not in (403, 404):
            raise ValueError(f"outside_scope is 403 or 404, not {self.outside_scope!r}")
        if self.deleted_body is not None and not isinstance(
            self.deleted_body, Mapping | BaseModel
        ):
            raise ValueError(
                "deleted_body is a mapping ({'message': 'Deleted'}) or a model instance"
            )

    @property
    def paging(self) -> frozenset[str]:
        """The list's own parameter names, which filters may not reuse."""
        return frozenset(
            {self.offset_name, self.limit_name, "cursor", "count", "order_by"}
        )

    def list_model(self, label: str, public: type[BaseModel]) -> Any:
        """The list's answer: the Public rows, or the envelope holding them and the count."""
        if self.list_envelope is None:
            return list[public]  # type: ignore[valid-type]
        rows, count = self.list_envelope
        fields: dict[str, Any] = {rows: (list[public], ...), count: (int, ...)}  # type: ignore[valid-type]
        return create_model(self.list_schema.format(label=label), **fields)

    def list_body(self, rows: list[Any], total: int | None) -> Any:
        if self.list_envelope is None:
            return rows
        return {self.list_envelope[0]: rows, self.list_envelope[1]: total}

    def deleted_answer(self) -> dict[str, Any]:
        """A successful delete's body."""
        if isinstance(self.deleted_body, BaseModel):
            return self.deleted_body.model_dump(mode="json")
        return dict(self.deleted_body or {"ok": True})

    def deleted_model(self, label: str) -> type[BaseModel] | None:
        """The model of `deleted_body`; None for the default `{"ok": true}`."""
        if self.deleted_body is None:
            return None
        if isinstance(self.deleted_body, BaseModel):
            return type(self.deleted_body)
        fields: dict[str, Any] = {
            key: (type(value), value) for key, value in self.deleted_body.items()
        }
        return create_model(self.deleted_schema.format(label=label), **fields)


DEFAULT_CONVENTIONS = Conventions()
"""The package's own conventions."""


def outside_or_missing(
    repository: Any,
    conventions: Conventions,
    scope: Any,
    target: Any,
    id: Any,
    not_found: str,
) -> HTTPException:
    """A 404 for a row the request cannot see; a 403 if the conventions say so and it exists outside the scope."""
    if (
        conventions.outside_scope == 403
        and scope is not None
        and repository.read(target, id) is not None
    ):
        return HTTPException(status_code=403, detail=conventions.outside_scope_detail)
    return HTTPException(status_code=404, detail=not_found)
