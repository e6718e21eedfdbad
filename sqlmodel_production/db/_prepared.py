"""Statements built once, compiled at most once per dialect: `Prepared` (pure: no I/O).

A `Prepared` statement is compiled once per dialect; at execution its
parameters and rows pass through the column types' processors, and nothing
else runs: no `Connection`, no `Result`, no cache key. `_driver` runs them;
what cannot run that way goes through a `Connection`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

__all__ = [
    "DIRECT_SAFE",
    "NO_PARAMS",
    "NativeDriver",
    "Prepared",
    "Row",
    "RunPrepared",
    "dicts",
    "direct_safe",
    "execute",
]

Row = dict[str, Any]
"""One row as the repository and the routes return it: a plain dict of column name to value.

Not an ORM object and not a schema instance: read `row["name"]`, not `row.name`
(mypy reports the latter), or validate it into the Public schema where one is needed."""
F = TypeVar("F", bound=Callable[..., Any])
DIRECT_SAFE = "__smp_direct_safe__"
"""The attribute `direct_safe` sets on a listener."""
NO_PARAMS: Mapping[str, Any] = {}


class Prepared:
    """A Core statement that returns rows, built once, compiled at most once per dialect.

    A SELECT, or an INSERT / UPDATE / DELETE ... RETURNING (run on a `PooledRunner`
    only by single-statement writes, in autocommit). Parameters are `bindparam`s
    named in the mapping given at execution. Where a dialect must render a
    parameter into the SQL text (an expanding `IN`, a literal `LIMIT`) or compute
    a column's Python-side default, the statement runs through a `Connection`.
    """

    __slots__ = ("_forms", "statement")

    def __init__(self, statement: sa.Select[Any] | sa.UpdateBase) -> None:
        self.statement = statement
        self._forms: dict[Dialect, _Compiled | None] = {}

    def form(self, dialect: Dialect) -> _Compiled | None:
        """The statement compiled for `dialect`, or None if it needs per-execution rendering."""
        try:
            return self._forms[dialect]
        except KeyError:
            form = _Compiled.compile(self.statement, dialect)
            self._forms[dialect] = form
            return form


class _Compiled:
    """A statement's SQL for one dialect, with its parameter order and type processors."""

    def __init__(
        self,
        sql: str,
        names: Sequence[str] | None,
        binds: dict[str, Any],
        defaults: dict[str, Any],
        columns: list[tuple[str, sa.types.TypeEngine[Any]]],
        dialect: Dialect,
    ) -> None:
        self.sql = sql
        self.names = names  # positional order; None for a dialect of named parameters
        self.binds = binds  # name -> bind processor, where the type has one
        self.defaults = defaults  # values given in the statement itself
        self.keys = [key for key, _ in columns]
        self._types = [type_ for _, type_ in columns]
        self._dialect = dialect
        self._processors: list[tuple[int, Callable[[Any], Any]]] | None = None

    @classmethod
    def compile(
        cls, statement: sa.Select[Any] | sa.UpdateBase, dialect: Dialect
    ) -> _Compiled | None:
        compiled: Any = statement.compile(dialect=dialect)
        if compiled.literal_execute_params or compiled.post_compile_params:
            return None
        if getattr(compiled, "insert_prefetch", None) or getattr(
            compiled, "update_prefetch", None
        ):
            return None  # Python-side defaults: the execution context computes them
        binds = {}
        defaults = {}
        for name, bind in compiled.binds.items():
            processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if processor is not None:
                binds[name] = processor
            if bind.value is not None or not bind.required:
                defaults[name] = bind.effective_value
        columns = [
            (str(key), column.type)
            for key, column in statement.exported_columns.items()
        ]
        names = list(compiled.positiontup) if compiled.positional else None
        return cls(compiled.string, names, binds, defaults, columns, dialect)

    def parameters(self, params: Mapping[str, Any]) -> Any:
        """The driver's parameters: a tuple in statement order, or a dict."""
        values = {**self.defaults, **params} if self.defaults else params
        if self.binds:
            values = {
                name: self.binds[name](value) if name in self.binds else value
                for name, value in values.items()
            }
        if self.names is None:
            return values
        return tuple(values[name] for name in self.names)

    @property
    def described(self) -> bool:
        """Whether the type of each result column is known (from a cursor or `describe`)."""
        return self._processors is not None

    def describe(self, type_codes: Sequence[Any]) -> None:
        """Learn the result columns' types: the driver's type code of each, as a cursor's description gives it."""
        processors: list[tuple[int, Callable[[Any], Any]]] = []
        for index, type_ in enumerate(self._types):
            coltype = type_codes[index] if index < len(type_codes) else None
            impl = type_.dialect_impl(self._dialect)
            processor = impl.result_processor(self._dialect, coltype)
            if processor is not None:
                processors.append((index, processor))
        self._processors = processors

    def rows(self, cursor: Any) -> list[Row]:
        """The cursor's rows as dicts keyed like `Result.mappings()`, values processed by type."""
        if self._processors is None:
            self.describe([column[1] for column in cursor.description or ()])
        return self.rows_of(cursor.fetchall())

    def rows_of(self, fetched: Iterable[Sequence[Any]]) -> list[Row]:
        """`fetched` rows (value sequences in column order) as dicts, values processed by type.

        Needs the result columns' types (`described`).
        """
        processors = self._processors
        keys = self.keys
        rows = [dict(zip(keys, row, strict=True)) for row in fetched]
        if processors:
            for row in rows:
                for index, process in processors:
                    key = keys[index]
                    row[key] = process(row[key])
        return rows


@dataclass(frozen=True)
class NativeDriver:
    """A driver's own API for `Prepared` statements, where it takes fewer round trips than SQLAlchemy's adapter.

    Both functions take the DB-API connection (SQLAlchemy's adapter, whose
    `driver_connection` is the driver's) and raise the DB-API error the adapter
    would raise.
    """

    describe: Callable[[Any, str], Sequence[Any]]
    """(connection, sql) -> the type code of each result column, as a cursor's description gives it."""
    fetch: Callable[[Any, str, Any], Sequence[Sequence[Any]]]
    """(connection, sql, parameters) -> the rows, each a sequence of values in column order."""


def dicts(result: sa.Result[Any]) -> list[Row]:
    """Every row of `result` as a dict keyed like `Result.mappings()`.

    Zipping the keys with each row takes about a quarter of the time of
    `dict(RowMapping)`, which looks every key up through the result's metadata.
    """
    keys = tuple(result.keys())
    return [dict(zip(keys, row, strict=True)) for row in result.all()]


def execute(statement: Prepared | sa.Select[Any]) -> Any:
    return statement.statement if isinstance(statement, Prepared) else statement


def direct_safe(listener: F) -> F:
    """Mark a `before/after_cursor_execute` listener that `PooledRunner` may call itself.

    It is called with `conn=None`, a plain object as `context` (attributes
    may be set on it between the two calls) and, for a statement sent through
    the driver's own API (asyncpg's `fetch`), `cursor=None`. A
    `before_cursor_execute` listener must be registered with `retval=True` and
    return `(statement, parameters)`: SQLAlchemy wraps any other in a function
    of its own, which is unmarked. An engine with any unmarked listener runs
    every statement through a `Connection`, so that listener sees each one as
    usual.

    A marked `handle_error` listener is called, for a statement that failed on
    the driver, with a plain object carrying what SQLAlchemy's
    `ExceptionContext` would: `original_exception`, `sqlalchemy_exception`,
    `execution_context` (the same plain object as `context`), `statement`,
    `parameters`, `engine` and `is_disconnect`; its return value is ignored.
    """
    setattr(listener, DIRECT_SAFE, True)
    return listener


RunPrepared = Callable[[sa.Connection, Prepared, Mapping[str, Any]], list[Row]]
"""Runs a `Prepared` statement on a connection, in its transaction (`_driver.run_prepared`)."""
