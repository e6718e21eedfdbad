"""`RowStamp`: columns the routes write from a dependency, never from the client."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import Depends

__all__ = ["RowStamp", "stamp_of"]

STAMP = "_stamp"
"""The generated endpoints' parameter that receives the stamp's value."""


@dataclass(frozen=True, init=False)
class RowStamp:
    """Who created or last changed a row: columns written from a dependency's value.

    The dependency runs for every create and update of the router (with
    FastAPI's dependency injection: it can take the current user) and returns
    one value, written into the `on_create` columns of each created row and
    into the `on_update` columns of each changed one. Clients can neither send
    nor change these columns: they are read-only in the derived schemas. An
    empty `PATCH {}` changes nothing and stamps nothing.

    Args:
        dependency: returns the value for the current request (a user's id).
        on_create: the columns a create writes it to.
        on_update: the columns an update writes it to.

    Example:
        ```python
        async def user_id(user: User = Depends(current_user)) -> int:
            return user.id

        stamp = RowStamp(user_id, on_create=["created_by", "updated_by"], on_update=["updated_by"])
        app.include_router(crud_router(Task, prefix="/tasks", stamp=stamp))
        ```
    """

    dependency: Callable[..., Any]
    on_create: tuple[str, ...]
    on_update: tuple[str, ...]

    def __init__(
        self,
        dependency: Callable[..., Any],
        *,
        on_create: Collection[str] = (),
        on_update: Collection[str] = (),
    ) -> None:
        if not on_create and not on_update:
            raise TypeError(
                "RowStamp needs the columns to write: "
                "RowStamp(dependency, on_create=['created_by'], on_update=['updated_by'])"
            )
        object.__setattr__(self, "dependency", dependency)
        object.__setattr__(self, "on_create", tuple(on_create))
        object.__setattr__(self, "on_update", tuple(on_update))

    @property
    def columns(self) -> tuple[str, ...]:
        """Every column the stamp writes."""
        return tuple(dict.fromkeys((*self.on_create, *self.on_update)))

    def check(self, table: Any, owner: str) -> None:
        """Refuse, when a router is built, a stamp naming columns `table` lacks.

        Raises:
            ValueError: a column named is not one of `table` (`owner` names it).
        """
        if unknown := [c for c in self.columns if c not in table.c]:
            raise ValueError(
                f"RowStamp names columns {owner} does not have: {', '.join(unknown)}"
            )

    def parameter(self) -> inspect.Parameter:
        """The endpoint parameter through which FastAPI hands the value over."""
        return inspect.Parameter(
            STAMP,
            inspect.Parameter.KEYWORD_ONLY,
            annotation=Annotated[Any, Depends(self.dependency)],
        )

    def values(
        self, values: Mapping[str, Any], write: Literal["create", "update"]
    ) -> dict[str, Any]:
        """The column values a `write` of this request stamps."""
        columns = self.on_create if write == "create" else self.on_update
        return dict.fromkeys(columns, values[STAMP]) if columns else {}


def stamp_of(
    stamp: RowStamp | None,
    values: Mapping[str, Any],
    write: Literal["create", "update"],
) -> dict[str, Any] | None:
    """What an endpoint of a router with `stamp` writes on a `write`; None without a stamp."""
    return stamp.values(values, write) if stamp is not None else None
