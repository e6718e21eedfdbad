"""`RowScope`: the rows one request may see, from a FastAPI dependency."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends

from sqlmodel_production._exceptions import InvalidScope

__all__ = ["InvalidScope", "RowScope", "scope_of"]

SCOPE = "_scope"
"""The generated endpoints' parameter that receives the scope."""


@dataclass(frozen=True, init=False)
class RowScope:
    """The rows a request may see and write: column values from a dependency.

    The dependency runs for every request of the router (with FastAPI's usual
    dependency injection: it can take the current user, a header, ...) and
    returns the values of `columns` for this request. Every statement the routes
    run carries them: lists, counts, reads, nested reads, updates and deletes see
    only rows inside the scope (a row outside is a 404, as if absent), creates
    are stamped with them, and clients can neither send nor change them (they
    are read-only in the derived schemas).

    Args:
        dependency: returns `{column: value}` for the current request.
        *columns: the scoped columns, exactly the keys the dependency returns.

    Example:
        ```python
        async def owner(user: User = Depends(current_user)) -> dict[str, int]:
            return {"owner_id": user.id}

        app.include_router(crud_router(Loan, prefix="/loans", scope=RowScope(owner, "owner_id")))
        ```
    """

    dependency: Callable[..., Mapping[str, Any]]
    columns: tuple[str, ...]

    def __init__(
        self, dependency: Callable[..., Mapping[str, Any]], *columns: str
    ) -> None:
        if not columns:
            raise TypeError(
                "RowScope needs the scoped columns: RowScope(dependency, 'owner_id')"
            )
        object.__setattr__(self, "dependency", dependency)
        object.__setattr__(self, "columns", tuple(columns))

    def parameter(self) -> inspect.Parameter:
        """The endpoint parameter through which FastAPI hands the scope over."""
        return inspect.Parameter(
            SCOPE,
            inspect.Parameter.KEYWORD_ONLY,
            annotation=Annotated[Mapping[str, Any], Depends(self.dependency)],
        )

    def of(self, values: Mapping[str, Any]) -> Mapping[str, Any]:
        """The scope the endpoint received, checked against `columns`.

        Raises:
            InvalidScope: the dependency returned something else than one value
                (not None) for each scoped column.
        """
        scope: Any = values[SCOPE]
        if not isinstance(scope, Mapping) or set(scope) != set(self.columns):
            shown = sorted(scope) if isinstance(scope, Mapping) else repr(scope)
            raise InvalidScope(
                f"{self.name} returned {shown}, not a mapping of the scoped "
                f"columns {sorted(self.columns)} to one value each"
            )
        for column, value in scope.items():
            if (
                value is None
                or isinstance(value, Collection)
                and not isinstance(value, str | bytes)
            ):
                raise InvalidScope(
                    f"{self.name} returned {type(value).__name__} for {column!r}: "
                    "give one value (never None, whose rows would be everyone's)"
                )
        return scope

    @property
    def name(self) -> str:
        """The dependency's name, for messages."""
        return str(getattr(self.dependency, "__qualname__", self.dependency))


def scope_of(
    scope: RowScope | None, values: Mapping[str, Any]
) -> Mapping[str, Any] | None:
    """The scope an endpoint of a router with `scope` received; None for an unscoped router."""
    return scope.of(values) if scope is not None else None
