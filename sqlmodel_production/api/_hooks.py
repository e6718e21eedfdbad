"""Write hooks: what a generated route wrote, handed over inside the write's transaction."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import sqlalchemy as sa

__all__ = ["WriteAction", "WriteEvent", "WriteHook"]

WriteAction = Literal["create", "update", "delete", "restore", "purge"]


@dataclass(frozen=True)
class WriteEvent:
    """One write of a generated route, as the router's `on_write` hook receives it.

    Attributes:
        action: what the route did.
        table: the table written.
        rows: the Public columns of each row created, updated or restored, as
            the write statement returned them (a bulk create: every row); for a
            delete (or soft delete) and a purge, the primary key of the row.
        connection: the write's connection, in its transaction: statements the
            hook runs on it (an audit row, an outbox message) commit with the
            write, and an exception the hook raises rolls the write back.
    """

    action: WriteAction
    table: str
    rows: tuple[Mapping[str, Any], ...]
    connection: sa.Connection


WriteHook = Callable[[WriteEvent], None]
"""A plain function, called once per write inside its transaction (in an async router,
in SQLAlchemy's greenlet: it runs statements on `event.connection` as sync code)."""
