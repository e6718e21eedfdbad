"""Sorting from an allow-list: `?order_by=-age,name` -> ORDER BY terms, total and portable.

The primary key always ends the order, so that every order is total (pages never
overlap nor skip rows) and a keyset cursor can point between any two rows. NULLs sort
last in both directions on every backend.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlmodel import SQLModel

from sqlmodel_production._exceptions import InvalidQuery
from sqlmodel_production.crud._columns import model_column, model_mapper
from sqlmodel_production.db.internal import sort_value

__all__ = ["ORDER_BY", "OrderKey", "Ordering"]

ORDER_BY = "order_by"
"""The query parameter that names the sort keys."""

_CACHE_SIZE = 256


@dataclass(frozen=True)
class OrderKey:
    """One term of an order.

    Attributes:
        name: the model field.
        column: its table column.
        descending: sort from the largest value to the smallest.
        nullable: the column may hold NULL (sorted after every value).
    """

    name: str
    column: sa.Column[Any]
    descending: bool
    nullable: bool

    @property
    def value(self) -> sa.ColumnElement[Any]:
        """The column as the database orders and compares it (`sort_value`)."""
        return sort_value(self.column)


class Ordering:
    """The sort keys a list endpoint accepts, and how they become ORDER BY terms.

    Args:
        model: the table model.
        allowed: the fields a client may sort by, besides the primary key.
        default: the order when the client names none, as keys such as `"-age"`;
            empty for the primary key alone.

    Raises:
        ValueError: a field that is not a column, or a bad default (a programming
            error, reported at start-up).

    Example:
        ```python
        ordering = Ordering(Hero, ("name", "age"), default=("name",))
        keys = ordering.parse("-age,name")  # age descending, name, then id
        statement = select(Hero).order_by(*ordering.clauses(keys))
        ```
    """

    def __init__(
        self,
        model: type[SQLModel],
        allowed: Collection[str],
        default: Sequence[str] = (),
    ) -> None:
        if isinstance(allowed, str) or isinstance(default, str):
            raise TypeError(
                "allowed and default sort keys must be collections, not a string"
            )
        self.model = model
        mapper = model_mapper(model)
        table: sa.Table = model.__table__  # type: ignore[attr-defined]
        # The primary key's fields, by attribute name (their column names may differ).
        self.primary_key: tuple[OrderKey, ...] = tuple(
            OrderKey(mapper.get_property_by_column(column).key, column, False, False)
            for column in table.primary_key.columns
        )
        # The primary key is always allowed: it ends every order anyway.
        self.allowed: dict[str, sa.Column[Any]] = {
            name: model_column(model, name) for name in allowed
        } | {
            key.name: key.column for key in self.primary_key if key.name not in allowed
        }
        self._parse = functools.lru_cache(maxsize=_CACHE_SIZE)(self._parse_uncached)
        try:
            self.default = self._keys(default)
        except InvalidQuery as exc:
            raise ValueError(
                f"default order of {model.__name__}: {exc.message}"
            ) from None

    def parse(self, spec: str | None) -> tuple[OrderKey, ...]:
        """The keys a client's `order_by` names, completed by the primary key.

        Args:
            spec: comma-separated fields, each optionally prefixed by `-` (descending)
                or `+`; `None` or empty for the default order.

        Raises:
            InvalidQuery: an unknown or empty key. A key named again is left out
                (`age,-age` is `age`).
        """
        if not spec:
            return self.default
        return self._parse(spec)

    def clauses(self, keys: tuple[OrderKey, ...]) -> list[sa.ColumnElement[Any]]:
        """The ORDER BY terms of `keys`, NULLs last in both directions on every backend.

        MariaDB has no `NULLS LAST`, and the backends disagree on where NULLs go by
        default, so a nullable column is preceded by `(column IS NULL)`: false sorts first.
        """
        terms: list[sa.ColumnElement[Any]] = []
        for key in keys:
            if key.nullable:
                terms.append(key.column.is_(None))
            terms.append(key.value.desc() if key.descending else key.value.asc())
        return terms

    def _parse_uncached(self, spec: str) -> tuple[OrderKey, ...]:
        # A key named again adds nothing (the first one decides), so that every
        # `order_by` the OpenAPI pattern allows is accepted.
        return self._keys(spec.split(","), repeats=True)

    def _keys(
        self, tokens: Sequence[str], *, repeats: bool = False
    ) -> tuple[OrderKey, ...]:
        keys: list[OrderKey] = []
        for token in tokens:
            # A `+` in a URL arrives as a space: " age" is "+age" (spaces only, as
            # the OpenAPI pattern says).
            token = token.strip(" ")
            descending = token.startswith("-")
            name = token[1:] if token[:1] in ("-", "+") else token
            if not name:
                raise InvalidQuery(ORDER_BY, f"empty sort key in {','.join(tokens)!r}")
            column = self.allowed.get(name)
            if column is None:
                choices = ", ".join(self.allowed)
                raise InvalidQuery(
                    ORDER_BY, f"cannot sort by {name!r}; allowed: {choices}"
                )
            if any(key.name == name for key in keys):
                if repeats:
                    continue
                raise InvalidQuery(ORDER_BY, f"{name!r} is named twice")
            keys.append(OrderKey(name, column, descending, bool(column.nullable)))
        pk_left = {key.name for key in self.primary_key}
        for index, key in enumerate(keys):
            pk_left.discard(key.name)
            if not pk_left:
                # The primary key is unique: keys after it could never change the order.
                return tuple(keys[: index + 1])
        keys.extend(key for key in self.primary_key if key.name in pk_left)
        return tuple(keys)
