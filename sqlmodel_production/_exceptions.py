"""The root of the package's exceptions (a leaf module, so every layer can import it)."""

from __future__ import annotations

__all__ = ["SQLModelProductionError"]


class SQLModelProductionError(Exception):
    """The root of every exception sqlmodel-production raises itself.

    Catch it to handle anything the library refuses or reports, whatever the
    layer; the tree is documented in `sqlmodel_production.errors`.
    """
