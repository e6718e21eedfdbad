"""A request's row scope as transaction-local settings, for row-level security policies (PostgreSQL).

While a scoped request is served (`row_settings`, entered by its endpoint or by
`RowScope.in_database`), every transaction an engine of the package begins
first runs `SELECT set_config(name, value, true)` for each setting: the values
live exactly as long as the transaction, so they hold behind PgBouncer in
transaction mode and never reach the next client of a server connection. The
policies `migrations.row_security_policies` writes read them.

A context variable carries the settings, so transactions in a worker thread
(sync endpoints) and in SQLAlchemy's greenlet (async ones) find them. While it
is set nothing runs in autocommit (`autocommits` says no): a statement outside
a transaction would run without the settings and, under the policies, see no
row at all.

The text of a setting is the scope's values as a PostgreSQL array literal
(`{"7"}`, `{"7","9"}`), or `*` for every row (`RowScope.ALL`).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine

from sqlmodel_production._compat import dependency_calls, expand_included_routers

__all__ = [
    "ALL_ROWS",
    "NEEDS_ROW_SECURITY",
    "check_setting_name",
    "refuse_without_row_security",
    "row_settings",
    "row_settings_active",
    "set_row_settings",
    "setting_text",
    "watch_row_settings",
]

ALL_ROWS = "*"
"""The text of a setting that allows every row (`RowScope.ALL`)."""

NEEDS_ROW_SECURITY = "__smp_row_security__"
"""Set on an endpoint, or a dependency, that serves requests with row settings."""

_SETTINGS: ContextVar[tuple[tuple[str, str], ...] | None] = ContextVar(
    "sqlmodel_production.row_settings", default=None
)

# A custom setting is a dotted name (`app.org_id`): PostgreSQL refuses one without a dot.
_SETTING_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*)+")


def check_setting_name(name: str) -> str:
    """`name`, if PostgreSQL takes it as a custom setting (`app.org_id`).

    Raises:
        ValueError: it is not a dotted name of letters, digits and underscores.
    """
    if not isinstance(name, str) or not _SETTING_NAME.fullmatch(name):
        raise ValueError(
            f"{name!r} is not a custom setting name: give a dotted name such as 'app.org_id'"
        )
    return name


def setting_text(values: Collection[Any] | None) -> str:
    """The text of a setting for a scope column's values; None: every row (`*`)."""
    if values is None:
        return ALL_ROWS
    quoted = sorted(
        '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'
        for value in values
    )
    return "{" + ",".join(quoted) + "}"


@contextmanager
def row_settings(settings: Mapping[str, str]) -> Iterator[None]:
    """Every transaction begun while this is entered first sets `settings` (name -> text)."""
    token = _SETTINGS.set(tuple(settings.items()))
    try:
        yield
    finally:
        _SETTINGS.reset(token)


def row_settings_active() -> bool:
    """Whether the work being done must set row settings in each of its transactions."""
    return _SETTINGS.get() is not None


@functools.lru_cache(maxsize=16)
def _set_config(count: int) -> sa.TextClause:
    calls = ", ".join(f"set_config(:n{i}, :v{i}, true)" for i in range(count))
    return sa.text(f"SELECT {calls}")


def set_row_settings(connection: sa.Connection) -> None:
    """Set the active row settings in `connection`'s transaction, if any are active.

    Every transaction begun while they are active gets them from the engine's
    `begin` listener; this is for a transaction that began before they were
    known (a dependency queried the request's session first).
    """
    settings = _SETTINGS.get()
    if settings is None:
        return
    params: dict[str, str] = {}
    for index, (name, text) in enumerate(settings):
        params[f"n{index}"], params[f"v{index}"] = name, text
    connection.execute(_set_config(len(settings)), params)


def _refuse(connection: sa.Connection) -> None:
    if _SETTINGS.get() is not None:
        backend = connection.dialect.name
        raise RuntimeError(
            f"Row-level security needs PostgreSQL; this database is {backend}, "
            f"{_UNSUPPORTED}"
        )


_UNSUPPORTED = (
    "which has no row-level security policies: remove database_settings= from the "
    "RowScope (the router's scope still applies) (docs/tenancy.md)"
)


def watch_row_settings(engine: Engine, supported: bool) -> None:
    """Set the row settings at the start of each transaction on `engine`, or refuse them where unsupported."""
    event.listen(engine, "begin", set_row_settings if supported else _refuse)


def refuse_without_row_security(app: Any, backend: str, supported: bool) -> None:
    """Refuse to start an app with row settings on a database without row-level security.

    Looks at the app's routes (those of included routers too): an endpoint, or
    a dependency of one, marked `NEEDS_ROW_SECURITY`.

    Raises:
        RuntimeError: some route needs row settings, and `supported` is False.
    """
    if supported:
        return
    paths = [
        getattr(route, "path", "?")
        for route in expand_included_routers(getattr(app, "routes", ()))
        if _needs(route)
    ]
    if paths:
        raise RuntimeError(
            f"Row-level security needs PostgreSQL; this database is {backend}, "
            f"{_UNSUPPORTED}; routes: {', '.join(paths)}"
        )


def _needs(route: Any) -> bool:
    calls = [getattr(route, "endpoint", None), *(dependency_calls(route) or ())]
    return any(getattr(call, NEEDS_ROW_SECURITY, False) for call in calls)
