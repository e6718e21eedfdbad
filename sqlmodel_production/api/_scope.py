"""`RowScope`: the rows one request may see, from a FastAPI dependency."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, ClassVar

from fastapi import Depends
from fastapi.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection

from sqlmodel_production._exceptions import InvalidScope
from sqlmodel_production.api._dependencies import opened_session
from sqlmodel_production.crud.internal import ScopeValues, scope_value
from sqlmodel_production.db.internal import (
    NEEDS_ROW_SECURITY,
    check_setting_name,
    row_settings,
    set_row_settings,
    setting_text,
)

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

    On PostgreSQL the database can enforce the scope too: with
    `database_settings`, every transaction of the router's requests first sets
    each column's values with `set_config(setting, values, true)`, which the
    row-level security policies of `migrations.row_security_policies` read
    (docs/tenancy.md). Hand-written endpoints get the same with
    `Depends(scope.in_database)`.

    Args:
        dependency: returns `{column: value}` for the current request.
        *columns: the scoped columns, exactly the keys the dependency returns.
        named_on_create: a create names the scoped columns in its body (they are
            required in the Create schema, and still cannot be changed).
        database_settings: `{column: setting}` (`{"org_id": "app.org_id"}`):
            the PostgreSQL settings to set in every transaction of a request;
            a database without row-level security refuses to start with them.

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
    database_settings: Mapping[str, str] = field(default_factory=dict)

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
        database_settings: Mapping[str, str] | None = None,
    ) -> None:
        if not columns:
            raise TypeError(
                "RowScope needs the scoped columns: RowScope(dependency, 'owner_id')"
            )
        settings = dict(database_settings or {})
        if unknown := sorted(set(settings) - set(columns)):
            raise ValueError(
                f"database_settings names {unknown}, which are not scoped columns "
                f"{sorted(columns)}"
            )
        for name in settings.values():
            check_setting_name(name)
        object.__setattr__(self, "dependency", dependency)
        object.__setattr__(self, "columns", tuple(columns))
        object.__setattr__(self, "named_on_create", named_on_create)
        object.__setattr__(self, "database_settings", settings)
        dependency_ = _database_dependency(self) if settings else None
        object.__setattr__(self, "_in_database", dependency_)

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

    def settings_of(self, scope: Mapping[str, Any]) -> dict[str, str]:
        """The database settings of a checked scope (`of`): each setting's text.

        One value or several are a PostgreSQL array literal (`{"7","9"}`),
        `RowScope.ALL` is `*`.
        """
        found = {}
        for column, setting in self.database_settings.items():
            value = scope[column]
            if isinstance(value, ScopeValues):
                found[setting] = setting_text(value.values)
            else:
                found[setting] = setting_text((value,))
        return found

    @property
    def in_database(self) -> Callable[..., AsyncIterator[Mapping[str, Any]]]:
        """A dependency that sets the scope in the database for the rest of the request.

        For hand-written endpoints on `SessionDep` / `AsyncSessionDep`: every
        transaction of the request sets the scope's `database_settings` (one
        that a dependency began on the request's session before, as soon as
        this runs), so the row-level security policies show a raw `SELECT`
        only the rows of the scope. It gives the checked scope.

        Example:
            ```python
            @app.get("/reports/open")
            def open_tasks(session: SessionDep, scope: Annotated[Mapping, Depends(org_scope.in_database)]):
                return session.exec(text("SELECT id, title FROM tasks")).mappings().all()
            ```

        Raises:
            ValueError: the scope has no `database_settings`.
        """
        dependency: Any = self.__dict__["_in_database"]
        if dependency is None:
            raise ValueError(
                f"RowScope({self.name}, ...) has no database_settings: give "
                "database_settings={column: 'app.setting'} to set the scope in the database"
            )
        return dependency  # type: ignore[no-any-return]

    @property
    def name(self) -> str:
        """The dependency's name, for messages."""
        return str(getattr(self.dependency, "__qualname__", self.dependency))


def scope_of(
    scope: RowScope | None, values: Mapping[str, Any]
) -> Mapping[str, Any] | None:
    """The scope an endpoint of a router with `scope` received; None for an unscoped router."""
    return scope.of(values) if scope is not None else None


def _database_dependency(
    scope: RowScope,
) -> Callable[..., AsyncIterator[Mapping[str, Any]]]:
    """`scope.in_database`: made once per scope, so FastAPI runs it once per request."""

    async def in_database(
        _connection: HTTPConnection, **values: Any
    ) -> AsyncIterator[Mapping[str, Any]]:
        # An async generator runs in the request's own task: the settings it
        # enters reach the endpoint, in the event loop or in a worker thread.
        checked = scope.of(values)
        with row_settings(scope.settings_of(checked)):
            await _set_in_opened_sessions(_connection)
            yield checked

    connection = inspect.Parameter(
        "_connection", inspect.Parameter.KEYWORD_ONLY, annotation=HTTPConnection
    )
    in_database.__signature__ = inspect.Signature([scope.parameter(), connection])  # type: ignore[attr-defined]
    in_database.__qualname__ = f"{scope.name}.in_database"
    setattr(in_database, NEEDS_ROW_SECURITY, True)
    return in_database


async def _set_in_opened_sessions(connection: HTTPConnection) -> None:
    """Set the row settings in the transaction a dependency began on the request's session, if one did."""
    opened = opened_session(connection, async_=True)
    if opened is not None and opened.in_transaction():
        await opened.run_sync(_set_in)
    opened = opened_session(connection, async_=False)
    if opened is not None and opened.in_transaction():
        # A sync session does its I/O in a worker thread, as its dependency did.
        await run_in_threadpool(_set_in, opened)


def _set_in(session: Any) -> None:
    set_row_settings(session.connection())
