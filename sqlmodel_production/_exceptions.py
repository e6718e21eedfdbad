"""The root of the package's exceptions (a leaf module, so every layer can import it)."""

from __future__ import annotations

__all__ = ["InvalidScope", "SQLModelProductionError"]


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
