"""Every exception the package defines, under one root (a leaf module, so every layer can import it).

Two are defined beside the findings they carry: `DetachedObjectError` (a
`DetachedAccess`) and `NPlusOneError` (a `RepeatedLoad`), in `diagnostics`.

The public face is `sqlmodel_production.errors`, which documents the tree.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import exc as sa_exc
from sqlalchemy.exc import MissingGreenlet

__all__ = [
    "AsyncLazyLoadError",
    "BulkValidationError",
    "ConnectionLeakError",
    "ConnectionLeakWarning",
    "ConnectionLost",
    "DoctorUsageError",
    "InvalidQuery",
    "InvalidScope",
    "NPlusOneWarning",
    "OutsideScope",
    "ReferenceNotFound",
    "RepeatedQueryWarning",
    "SQLModelProductionError",
    "StaleVersion",
]


class SQLModelProductionError(Exception):
    """The root of every exception sqlmodel-production raises itself.

    Catch it to handle anything the library refuses or reports, whatever the
    layer; the tree is documented in `sqlmodel_production.errors`.
    """


class InvalidScope(SQLModelProductionError):
    """A `RowScope`'s dependency returned no usable scope (None, `{}`, a missing
    column, None or several values for a column).

    A bug of the app, not of the request: `install_error_handlers` answers 500
    with this message (it names the dependency and the columns, never values)
    and nothing is read or written.
    """


class ReferenceNotFound(SQLModelProductionError):
    """A write's foreign key names no live row inside the request's scope.

    Raised by `Repository.create`, `create_many` and `update`, for a foreign
    key whose target table carries the scoped columns (with a `scope`) or soft
    delete: another tenant's project, and a soft-deleted one, are as absent
    as a project that does not exist.
    `install_error_handlers` answers it exactly as the database's own missing
    reference (422, the field in `loc`), so that the two cannot be told apart.

    Attributes:
        table: the table written to.
        columns: the foreign key columns at fault.
        constraint: the foreign key constraint's declared name, if it has one.
        row: the index of the row at fault in a bulk create.
    """

    def __init__(
        self,
        table: str,
        columns: tuple[str, ...],
        *,
        constraint: str | None = None,
        row: int | None = None,
    ) -> None:
        where = "" if row is None else f" (row {row})"
        super().__init__(
            f"{', '.join(columns)} of {table}{where} names no live row inside the scope"
        )
        self.table = table
        self.columns = columns
        self.constraint = constraint
        self.row = row


class OutsideScope(SQLModelProductionError, ValueError):
    """A row to create names a value of a scoped column that the request's scope does not give.

    Raised by `Repository.create` (and, one per row, inside `create_many`'s
    `BulkValidationError`) when a row names its tenant itself: a user in orgs 7
    and 9 creating a row in org 8. `install_error_handlers` answers 422, the
    column in `loc`; nothing is written.

    Attributes:
        column: the scoped column.
        row: the index of the row at fault in a bulk create.
    """

    def __init__(self, column: str, *, row: int | None = None) -> None:
        where = "" if row is None else f" (row {row})"
        super().__init__(f"{column}{where} is not a value of the request's scope")
        self.column = column
        self.row = row

    def error(self) -> dict[str, Any]:
        """The pydantic-style error (`loc` from the row's index, if any)."""
        loc = [self.column] if self.row is None else [self.row, self.column]
        return {"type": "outside_scope", "loc": loc, "msg": _OUTSIDE_SCOPE}


_OUTSIDE_SCOPE = "Not a value of your scope: give one of the values you may write"


class LiveChildren(SQLModelProductionError):
    """A soft delete refused: the row still has live children in a relationship whose rule is `"refuse"`.

    Raised by `Repository.delete` for `on_delete={"tasks": "refuse"}` while the
    project has live tasks; nothing was changed. `install_error_handlers`
    answers it 409, as a row still referenced, naming the relationship.

    Attributes:
        table: the parent's table.
        relationship: the relationship that has live children.
        constraint: the children's foreign key constraint's declared name, if any.
    """

    def __init__(
        self, table: str, relationship: str, *, constraint: str | None = None
    ) -> None:
        super().__init__(
            f"the {table} row still has live {relationship}; delete them first"
        )
        self.table = table
        self.relationship = relationship
        self.constraint = constraint


class BulkValidationError(SQLModelProductionError, ValueError):
    """Some rows of a bulk create are invalid; nothing was written.

    Attributes:
        errors: pydantic-style errors whose `loc` starts with the row's index.
    """

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(f"{len(errors)} invalid field(s) in the rows to create")
        self.errors = errors


class StaleVersion(SQLModelProductionError):
    """The row's version is not the one the client read: someone else changed it."""

    def __init__(self, current: int | None) -> None:
        super().__init__("the row was changed by someone else")
        self.current = current


class InvalidQuery(SQLModelProductionError, ValueError):
    """A client's query parameter is not acceptable (the API answers 422).

    Attributes:
        param: the query parameter at fault, e.g. `"order_by"`, `"cursor"`, `"age__in"`.
        message: what is wrong with it, for the client; never SQL, never row values.
    """

    def __init__(self, param: str, message: str) -> None:
        super().__init__(f"{param}: {message}")
        self.param = param
        self.message = message

    def __reduce__(self) -> tuple[type[InvalidQuery], tuple[str, str]]:
        # Exceptions pickle as `cls(*self.args)`; ours has two arguments, not one.
        return type(self), (self.param, self.message)


class ConnectionLost(SQLModelProductionError, sa_exc.OperationalError):
    """The connection to the database failed: at connect, at checkout, during a statement or a commit.

    Raised in place of the driver's error (kept as `orig`) by engines made with
    `create_engine` / `create_async_engine`, whatever form the driver gave it:
    an SQLSTATE of class 08 or 57P0x, a MariaDB client error 2002-2013, or a
    plain `OSError`. The pool has dropped the connection; the API answers 503
    with `Retry-After`.

    Attributes:
        outcome_unknown: True when the connection died during `COMMIT`, or
            during a write in autocommit (its own commit): the change may or
            may not have been saved, so read before writing it again.
    """

    def __init__(
        self,
        statement: str | None,
        params: Any,
        orig: BaseException,
        *,
        outcome_unknown: bool = False,
    ) -> None:
        super().__init__(statement, params, orig, connection_invalidated=True)
        self.outcome_unknown = outcome_unknown

    def __reduce__(self) -> Any:
        return _rebuild_connection_lost, (
            self.statement,
            self.params,
            self.orig,
            self.outcome_unknown,
        )


def _rebuild_connection_lost(
    statement: str | None, params: Any, orig: BaseException, outcome_unknown: bool
) -> ConnectionLost:
    return ConnectionLost(statement, params, orig, outcome_unknown=outcome_unknown)


class AsyncLazyLoadError(SQLModelProductionError, MissingGreenlet):
    """A relationship was touched on an `AsyncSession` without being loaded.

    A subclass of SQLAlchemy's `MissingGreenlet`, with a message that says which
    relationship, where, and how to load it.
    """


class NPlusOneWarning(UserWarning):
    """A relationship was lazy-loaded in a loop (`Mode.WARN`)."""


class RepeatedQueryWarning(UserWarning):
    """The same query ran many times from one line (a softer finding than N+1)."""


class ConnectionLeakError(SQLModelProductionError):
    """A connection was not returned to the pool (raised in `Mode.RAISE`)."""


class ConnectionLeakWarning(UserWarning):
    """A connection was not returned to the pool, or held too long."""


class DoctorUsageError(SQLModelProductionError):
    """Bad configuration, an unknown rule code, an app that cannot be imported, ..."""
