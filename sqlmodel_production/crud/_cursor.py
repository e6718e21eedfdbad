"""Keyset pagination: an opaque cursor holding the last row's sort values, and the WHERE clause after it.

A keyset page costs the same at any depth (no OFFSET scan) and neither skips nor repeats
rows when rows are inserted or deleted between pages. The cursor is URL-safe base64 of
compact JSON: a signature of the order (model, keys, directions) then one value per key.
It is not secret nor signed - it only holds values the client was sent - but it is
checked strictly: a cursor that does not decode to values of the right types for this
order is refused, never handed to the database.
"""

from __future__ import annotations

import base64
import binascii
import enum
import hashlib
import json
import uuid
from collections.abc import Callable, Mapping
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa

from sqlmodel_production._exceptions import InvalidQuery
from sqlmodel_production.crud._columns import column_python_type, is_aware_column
from sqlmodel_production.crud._ordering import OrderKey

__all__ = [
    "CURSOR",
    "CURSOR_PATTERN",
    "MAX_CURSOR_LENGTH",
    "decode_cursor",
    "encode_cursor",
    "keyset_clause",
]

CURSOR = "cursor"
"""The query parameter that carries the cursor."""

MAX_CURSOR_LENGTH = 4096
"""The longest cursor accepted, in characters."""

CURSOR_PATTERN = r"^(?:[A-Za-z0-9_-]{4})*(?:[A-Za-z0-9_-]{2,3})?$"
"""The shape of every cursor `encode_cursor` makes: URL-safe base64 without padding."""

_INT64 = 2**63
_MICROSECOND = timedelta(microseconds=1)

# Values JSON cannot hold exactly travel as [tag, text].
_DECODERS: dict[str, Callable[[str], Any]] = {
    "dt": datetime.fromisoformat,
    "d": date.fromisoformat,
    "t": time.fromisoformat,
    "u": uuid.UUID,
    "n": Decimal,
    "td": lambda text: timedelta(microseconds=int(text)),
}


def encode_cursor(keys: tuple[OrderKey, ...], row: Mapping[Any, Any]) -> str:
    """The cursor pointing just after `row` in the order of `keys`.

    Args:
        keys: the order, from `Ordering.parse`.
        row: the last row of the page, with a value for every key's name (a dict,
            or a `RowMapping` such as `result.mappings()` gives).

    Raises:
        TypeError: a value of a type a cursor cannot hold; supported: None, bool,
            int, float, str, Decimal, UUID, date, time, datetime (aware or naive), timedelta, Enum.
        KeyError: the row lacks a key's value (select the sort columns).
    """
    items: list[Any] = [_signature(keys)]
    for key in keys:
        try:
            value = row[key.name]
        except KeyError:
            raise KeyError(
                f"the row has no value for the sort key {key.name!r}"
            ) from None
        items.append(_encode_value(key, value))
    text = json.dumps(items, separators=(",", ":"), ensure_ascii=False)
    return base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode("ascii")


def decode_cursor(keys: tuple[OrderKey, ...], cursor: str) -> tuple[Any, ...]:
    """The sort values a cursor holds, one per key, checked against the keys' columns.

    Raises:
        InvalidQuery: not a cursor of this order: garbage, altered, too long, or made
            for another order or model.
    """
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise InvalidQuery(CURSOR, "the cursor is too long")
    try:
        raw = base64.b64decode(
            cursor + "=" * (-len(cursor) % 4), altchars=b"-_", validate=True
        )
        items = json.loads(raw.decode())
    except (binascii.Error, UnicodeDecodeError, ValueError, RecursionError):
        raise InvalidQuery(CURSOR, "not a valid cursor") from None
    if (
        not isinstance(items, list)
        or len(items) != len(keys) + 1
        or items[0] != _signature(keys)
    ):
        raise InvalidQuery(CURSOR, "this cursor belongs to another order or endpoint")
    return tuple(
        _decode_value(key, item) for key, item in zip(keys, items[1:], strict=True)
    )


def keyset_clause(
    keys: tuple[OrderKey, ...], values: tuple[Any, ...]
) -> sa.ColumnElement[bool]:
    """The rows strictly after `values` in the order of `keys`, NULLs last in both directions.

    Expanded lexicographically, `a > x OR (a = x AND (b > y OR (b = y AND id > z)))`,
    with a leading `a >= x` the database can answer from an index, rather than a
    row-value comparison that MariaDB and SQLite cannot mix with directions. A NULL
    sort value is tied with the other NULLs only, after every value.

    Raises:
        ValueError: `values` does not have one value per key.
    """
    if len(values) != len(keys) or not keys:
        raise ValueError(f"{len(keys)} keys but {len(values)} values")
    clause = _after(keys[-1], values[-1])
    for key, value in zip(reversed(keys[:-1]), reversed(values[:-1]), strict=True):
        if value is None:
            # Only NULLs tie with NULL, and nothing sorts after them.
            clause = sa.and_(key.column.is_(None), clause)
        else:
            clause = sa.or_(_after(key, value), sa.and_(key.value == value, clause))
    first, value = keys[0], values[0]
    if len(keys) > 1 and value is not None:
        # Implied by the expansion; stated so that an index on the first key bounds the scan.
        bound = first.value <= value if first.descending else first.value >= value
        if first.nullable:
            bound = sa.or_(bound, first.column.is_(None))
        clause = sa.and_(bound, clause)
    return clause


def _after(key: OrderKey, value: Any) -> sa.ColumnElement[bool]:
    """Rows whose `key` sorts strictly after `value`."""
    if value is None:
        return sa.false()
    after = key.value < value if key.descending else key.value > value
    return sa.or_(after, key.column.is_(None)) if key.nullable else after


def _signature(keys: tuple[OrderKey, ...]) -> str:
    order = ",".join(
        f"{key.column.table.name}.{'-' if key.descending else ''}{key.name}"
        for key in keys
    )
    digest = hashlib.blake2s(f"v1:{order}".encode(), digest_size=6).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii")


def _encode_value(key: OrderKey, value: Any) -> Any:
    if isinstance(value, enum.Enum):  # before str and int: an Enum may be either
        return ["e", value.name]
    if value is None or isinstance(value, bool | int | str | float):
        return value
    if isinstance(value, datetime):  # before date: a datetime is a date
        return ["dt", value.isoformat()]
    if isinstance(value, date):
        return ["d", value.isoformat()]
    if isinstance(value, time):
        return ["t", value.isoformat()]
    if isinstance(value, uuid.UUID):
        return ["u", str(value)]
    if isinstance(value, Decimal):
        return ["n", str(value)]
    if isinstance(value, timedelta):
        return ["td", str(value // _MICROSECOND)]
    raise TypeError(f"a cursor cannot hold {key.name!r} of type {type(value).__name__}")


def _decode_value(key: OrderKey, item: Any) -> Any:
    invalid = InvalidQuery(CURSOR, f"the cursor's value for {key.name!r} is not valid")
    if item is None:
        if not key.nullable:
            raise invalid
        return None
    expected = column_python_type(key.column)
    if isinstance(item, list):
        if (
            len(item) != 2
            or not isinstance(item[0], str)
            or not isinstance(item[1], str)
        ):
            raise invalid
        tag, text = item
        if tag == "e" and expected is not None and issubclass(expected, enum.Enum):
            try:
                return expected[text]
            except KeyError:
                raise invalid from None
        decoder = _DECODERS.get(tag)
        if decoder is None:
            raise invalid
        try:
            value = decoder(text)
        except (ValueError, InvalidOperation, OverflowError):
            raise invalid from None
    elif isinstance(item, dict):
        raise invalid
    else:
        value = item
    if not _fits(value, expected, key.column):
        raise invalid
    return value


def _fits(value: Any, expected: type[Any] | None, column: sa.Column[Any]) -> bool:
    """Whether the database can be given `value` for `column` without an error."""
    if isinstance(value, bool) or expected is bool:
        return expected in (bool, None) and isinstance(value, bool)
    if isinstance(value, int) and not -_INT64 <= value < _INT64:
        return False  # beyond every backend's BIGINT
    if expected is None:
        return True
    if expected is float:
        return isinstance(value, int | float)
    if expected is date:
        return isinstance(value, date) and not isinstance(value, datetime)
    if expected is datetime and isinstance(value, datetime):
        return value.utcoffset() is not None or not is_aware_column(column)
    return isinstance(value, expected)
