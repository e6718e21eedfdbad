"""`RowScope`: the rows one request may see, from a FastAPI dependency."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar

from fastapi import Depends

from sqlmodel_production._exceptions import InvalidScope
from sqlmodel_production.crud.internal import ScopeValues, scope_value

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

    For each column the dependency returns one value, several (a list or a set:
    a user in several orgs sees the rows of each), or `RowScope.ALL` (every
    row: a super-admin). A create writes one value per column: with
    `named_on_create=True` the client names it in the body (one of the
    request's values, any value with `RowScope.ALL`; another is a 422 naming
    the column); otherwise the scope's one value, or the stamp several or all
    give (`RowScope.any_of(7, 9, stamp=7)`, `RowScope.all(stamp=user.id)`);
    with neither, a create is refused (`InvalidScope`).

    Args:
        dependency: returns `{column: value}` for the current request.
        *columns: the scoped columns, exactly the keys the dependency returns.
        named_on_create: a create names the scoped columns in its body (they are
            required in the Create schema, and still cannot be changed).

    Example:
        ```python
        async def owner(user: User = Depends(current_user)) -> dict[str, int]:
            return {"owner_id": user.id}

        app.include_router(crud_router(Loan, prefix="/loans", scope=RowScope(owner, "owner_id")))
        ```
    """

    dependency: Callable[..., Mapping[str, Any]]
    columns: tuple[str, ...]
    named_on_create: bool

    ALL: ClassVar[ScopeValues] = ScopeValues()
    """Every value of a column: no condition on it (a super-admin); a create names its value."""

    @staticmethod
    def all(*, stamp: Any) -> ScopeValues:
        """Every value of a column; a create writes `stamp`."""
        return ScopeValues(stamp=stamp)

    @staticmethod
    def any_of(*values: Any, stamp: Any = None) -> ScopeValues:
        """Any of `values`; a create writes the one it names, else `stamp` (one of them)."""
        if stamp is None:
            return ScopeValues(frozenset(values))
        return ScopeValues(frozenset(values), stamp=stamp)

    def __init__(
        self,
        dependency: Callable[..., Mapping[str, Any]],
        *columns: str,
        named_on_create: bool = False,
    ) -> None:
        if not columns:
            raise TypeError(
                "RowScope needs the scoped columns: RowScope(dependency, 'owner_id')"
            )
        object.__setattr__(self, "dependency", dependency)
        object.__setattr__(self, "columns", tuple(columns))
        object.__setattr__(self, "named_on_create", named_on_create)

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
            InvalidScope: the dependency returned something else than one value,
                several values or `RowScope.ALL` (never None) for each scoped column.
        """
        scope: Any = values[SCOPE]
        if not isinstance(scope, Mapping) or set(scope) != set(self.columns):
            shown = sorted(scope) if isinstance(scope, Mapping) else repr(scope)
            raise InvalidScope(
                f"{self.name} returned {shown}, not a mapping of the scoped "
                f"columns {sorted(self.columns)} to their values"
            )
        checked = {}
        for column, value in scope.items():
            if value is None:
                raise InvalidScope(
                    f"{self.name} returned None for {column!r}: give a value, several, "
                    "or RowScope.ALL (never None, whose rows would be everyone's)"
                )
            try:
                checked[column] = scope_value(value)
            except InvalidScope as exc:
                raise InvalidScope(
                    f"{self.name} returned an unusable value for {column!r}: {exc}"
                ) from None
        return checked

    @property
    def name(self) -> str:
        """The dependency's name, for messages."""
        return str(getattr(self.dependency, "__qualname__", self.dependency))


def scope_of(
    scope: RowScope | None, values: Mapping[str, Any]
) -> Mapping[str, Any] | None:
    """The scope an endpoint of a router with `scope` received; None for an unscoped router."""
    return scope.of(values) if scope is not None else None
