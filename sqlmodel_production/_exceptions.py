"""Every exception the package defines, under one root (a leaf module, so every layer can import it).

The public face is `sqlmodel_production.errors`, which documents the tree.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "BulkValidationError",
    "InvalidQuery",
    "InvalidScope",
    "ReferenceNotFound",
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
    """A scoped write's foreign key names no live row inside the request's scope.

    Raised by `Repository.create`, `create_many` and `update` with a `scope`,
    for a foreign key whose target table carries the scoped columns: another
    tenant's project is as absent as a project that does not exist.
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
            f"{', '.join(columns)} of {table}{where} names no row inside the scope"
        )
        self.table = table
        self.columns = columns
        self.constraint = constraint
        self.row = row


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
