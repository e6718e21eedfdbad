"""Keyset cursors: exact round trips, strict refusal of bad cursors, and full walks on every database."""

from __future__ import annotations

import base64
import enum
import json
import re
import uuid
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from sqlmodel_production import Database
from sqlmodel_production._exceptions import InvalidQuery
from sqlmodel_production.crud._cursor import (
    MAX_CURSOR_LENGTH,
    decode_cursor,
    encode_cursor,
    keyset_clause,
)
from sqlmodel_production.crud._filters import FilterSet
from sqlmodel_production.crud._ordering import Ordering
from sqlmodel_production.models import UTCDateTime
from tests.conftest import Target, run_on_connection
from tests.crud import QX_TABLE, ROWS, QxItem, python_order, qx_table

PAGE_SIZE = 7


class QxColor(enum.Enum):
    RED = "red"
    BLUE = "blue"


class QxTyped(SQLModel, table=True):
    """Never created: a column of every type a cursor must carry."""

    id: int = Field(primary_key=True)
    ratio: float | None = None
    flag: bool | None = None
    label: str | None = None
    at_utc: datetime | None = Field(default=None, sa_type=UTCDateTime)
    at_naive: datetime | None = Field(default=None, sa_type=sa.DateTime)
    day: date | None = None
    clock: time | None = None
    token: uuid.UUID | None = None
    amount: Decimal | None = Field(default=None, max_digits=12, decimal_places=4)
    color: QxColor | None = None


TYPED_FIELDS = (
    "ratio",
    "flag",
    "label",
    "at_utc",
    "at_naive",
    "day",
    "clock",
    "token",
    "amount",
    "color",
)
TYPED = Ordering(QxTyped, TYPED_FIELDS)
TYPED_KEYS = TYPED.parse(",".join(TYPED_FIELDS))
ITEMS = Ordering(QxItem, ("age", "name", "seen_at"))

TYPED_ROW: dict[str, Any] = {
    "id": 2**62,
    "ratio": 0.1 + 0.2,
    "flag": False,
    "label": 'ünï/cødé "quoted" %_',
    "at_utc": datetime(2024, 2, 29, 23, 59, 59, 999999, tzinfo=UTC),
    "at_naive": datetime(2024, 1, 1, 0, 0, 0, 1),
    "day": date(1999, 12, 31),
    "clock": time(8, 30, 0, 250),
    "token": uuid.UUID("12345678-1234-5678-1234-567812345678"),
    "amount": Decimal("-12.3400"),
    "color": QxColor.BLUE,
}


def values_of(row: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(row[key.name] for key in TYPED_KEYS)


def forge(items: list[Any]) -> str:
    """A cursor with any content, made as the real ones are."""
    text = json.dumps(items, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode()


def items_of(cursor: str) -> list[Any]:
    padded = cursor + "=" * (-len(cursor) % 4)
    items: list[Any] = json.loads(base64.urlsafe_b64decode(padded))
    return items


def assert_invalid_cursor(keys: Any, cursor: str) -> InvalidQuery:
    with pytest.raises(InvalidQuery) as caught:
        decode_cursor(keys, cursor)
    assert caught.value.param == "cursor"
    return caught.value


# --- round trips -------------------------------------------------------------------------


def test_every_supported_type_round_trips_exactly() -> None:
    cursor = encode_cursor(TYPED_KEYS, TYPED_ROW)
    assert re.fullmatch(r"[A-Za-z0-9_-]+", cursor)  # URL-safe, no padding
    decoded = decode_cursor(TYPED_KEYS, cursor)
    assert decoded == values_of(TYPED_ROW)
    assert [type(value) for value in decoded] == [
        type(value) for value in values_of(TYPED_ROW)
    ]
    by_name = dict(zip((key.name for key in TYPED_KEYS), decoded, strict=True))
    assert (
        str(by_name["amount"]) == "-12.3400"
    )  # the exponent survives, not only the value
    assert by_name["at_utc"].utcoffset() == timedelta(0)
    assert by_name["at_naive"].tzinfo is None


def test_nulls_and_other_offsets_round_trip() -> None:
    row = dict.fromkeys(TYPED_FIELDS) | {"id": -5}
    assert decode_cursor(TYPED_KEYS, encode_cursor(TYPED_KEYS, row)) == values_of(row)
    offset = timezone(timedelta(hours=-3, minutes=-30))
    row |= {"at_utc": datetime(2024, 1, 1, tzinfo=offset), "ratio": 3.0, "flag": True}
    decoded = decode_cursor(TYPED_KEYS, encode_cursor(TYPED_KEYS, row))
    assert decoded == values_of(row)
    assert decoded[TYPED_FIELDS.index("at_utc")].utcoffset() == offset.utcoffset(None)
    assert type(decoded[0]) is float


def test_a_value_of_an_unsupported_type_is_a_programming_error() -> None:
    with pytest.raises(TypeError, match="a cursor cannot hold 'label' of type bytes"):
        encode_cursor(TYPED_KEYS, TYPED_ROW | {"label": b"raw"})


def test_a_row_without_a_sort_value_is_a_programming_error() -> None:
    keys = ITEMS.parse("age")
    with pytest.raises(KeyError, match="the row has no value for the sort key 'age'"):
        encode_cursor(keys, {"id": 1})


# --- refusals ----------------------------------------------------------------------------


def test_a_cursor_of_another_order_is_refused() -> None:
    row = {"id": 3, "age": 4, "name": "bravo", "seen_at": ROWS[0]["seen_at"]}
    cursor = encode_cursor(ITEMS.parse("age"), row)
    assert decode_cursor(ITEMS.parse("age"), cursor) == (4, 3)
    for other in ("-age", "name", "age,name", "-id"):
        error = assert_invalid_cursor(ITEMS.parse(other), cursor)
        assert error.message == "this cursor belongs to another order or endpoint"


def test_a_cursor_of_another_model_with_the_same_keys_is_refused() -> None:
    cursor = encode_cursor(TYPED.parse("-id"), {"id": 7})
    assert decode_cursor(TYPED.parse("-id"), cursor) == (7,)
    assert_invalid_cursor(ITEMS.parse("-id"), cursor)


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "!!!!",
        "a",  # not base64
        "YWJj ZA",  # a space in the middle
        "YWJj+ZA",  # the standard alphabet, not the URL-safe one
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),  # not UTF-8
        base64.urlsafe_b64encode(b"not json").decode(),
        base64.urlsafe_b64encode(b"[" * 3000).decode(),  # nested beyond the parser
        forge({"sig": 1}),  # type: ignore[arg-type]
        forge([]),
        "A" * (MAX_CURSOR_LENGTH + 1),
    ],
)
def test_garbage_is_refused(cursor: str) -> None:
    assert_invalid_cursor(ITEMS.parse("age"), cursor)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("ratio", "0.5"),  # a string for a float
        ("ratio", True),
        ("flag", 1),  # an int for a bool
        ("label", 5),
        ("label", ["dt", "2024-01-01T00:00:00"]),
        ("at_utc", ["dt", "2024-01-01T00:00:00"]),  # naive, for an aware column
        ("at_utc", ["d", "2024-01-01"]),
        ("at_utc", "2024-01-01T00:00:00+00:00"),  # untagged
        ("at_utc", ["dt", "yesterday"]),
        ("day", ["dt", "2024-01-01T00:00:00"]),  # a datetime for a date
        ("token", ["u", "not-a-uuid"]),
        ("token", ["x", "12345678-1234-5678-1234-567812345678"]),  # unknown tag
        ("token", ["u", "12345678-1234-5678-1234-567812345678", "extra"]),
        ("amount", ["n", "twelve"]),
        ("amount", 12.5),  # untagged: a float, not the exact Decimal
        ("color", ["e", "GREEN"]),
        ("color", "BLUE"),
        ("clock", {"t": "08:30"}),
        ("id", 2**63),  # beyond BIGINT
        ("id", None),  # the primary key is never NULL
        ("id", "1"),
    ],
)
def test_altered_values_are_refused_before_reaching_the_database(
    field: str, value: Any
) -> None:
    items = items_of(encode_cursor(TYPED_KEYS, TYPED_ROW))
    assert decode_cursor(TYPED_KEYS, forge(items)) == values_of(
        TYPED_ROW
    )  # the forge is faithful
    index = 1 + [key.name for key in TYPED_KEYS].index(field)
    items[index] = value
    error = assert_invalid_cursor(TYPED_KEYS, forge(items))
    assert error.message == f"the cursor's value for {field!r} is not valid"


def test_a_cursor_with_a_value_too_many_or_too_few_is_refused() -> None:
    items = items_of(encode_cursor(ITEMS.parse("age"), {"id": 1, "age": 2}))
    assert_invalid_cursor(ITEMS.parse("age"), forge([*items, 3]))
    assert_invalid_cursor(ITEMS.parse("age"), forge(items[:-1]))


def test_keyset_clause_needs_one_value_per_key() -> None:
    with pytest.raises(ValueError, match="2 keys but 1 values"):
        keyset_clause(ITEMS.parse("age"), (1,))


# --- walking every page on the databases -------------------------------------------------

SPECS = [
    "",
    "-id",
    "age",
    "-age",
    "name",
    "-name",
    "age,-name",
    "-name,-age",
    "-age,name",
    "seen_at,-age",
    "-seen_at,name",
]


def walk(
    conn: sa.Connection, spec: str, where: list[sa.ColumnElement[bool]]
) -> tuple[list[int], int]:
    """Every page by cursor: the ids in order, and how many cursors held a NULL."""
    keys = ITEMS.parse(spec)
    base = (
        sa.select(QX_TABLE)
        .where(*where)
        .order_by(*ITEMS.clauses(keys))
        .limit(PAGE_SIZE + 1)
    )
    ids: list[int] = []
    null_cursors = 0
    cursor: str | None = None
    for _ in range(len(ROWS)):  # bounded: a broken clause must not loop forever
        statement = base
        if cursor is not None:
            values = decode_cursor(keys, cursor)
            null_cursors += None in values
            statement = base.where(keyset_clause(keys, values))
        rows = conn.execute(statement).mappings().all()
        page = rows[:PAGE_SIZE]
        ids.extend(row["id"] for row in page)
        if len(rows) <= PAGE_SIZE:
            return ids, null_cursors
        cursor = encode_cursor(keys, page[-1])
    raise AssertionError(f"no last page after {len(ROWS)} pages: {ids}")


def offset_pages(
    conn: sa.Connection, spec: str, where: list[sa.ColumnElement[bool]]
) -> list[int]:
    keys = ITEMS.parse(spec)
    base = (
        sa.select(QX_TABLE.c.id)
        .where(*where)
        .order_by(*ITEMS.clauses(keys))
        .limit(PAGE_SIZE)
    )
    ids: list[int] = []
    for offset in range(0, len(ROWS) + PAGE_SIZE, PAGE_SIZE):
        ids.extend(conn.execute(base.offset(offset)).scalars())
    return ids


@pytest.mark.parametrize("spec", SPECS)
def test_walking_by_cursor_returns_every_row_once_in_order(
    target: Target, database: Database, spec: str
) -> None:
    def body(conn: sa.Connection) -> tuple[list[int], int, list[int]]:
        with qx_table(conn):
            return *walk(conn, spec, []), offset_pages(conn, spec, [])

    by_cursor, null_cursors, by_offset = run_on_connection(
        database, target.async_, body
    )
    keys = ITEMS.parse(spec)
    expected = python_order(ROWS, [(key.name, key.descending) for key in keys])
    assert len(expected) == len(ROWS) == 60
    assert by_cursor == expected
    assert by_offset == expected
    if any(key.nullable for key in keys[:1]):
        assert null_cursors > 0, (
            "no page ended on a NULL: the NULL branch went untested"
        )


def test_walking_filtered_rows(target: Target, database: Database) -> None:
    filters = FilterSet(QxItem, ["age", "name", "seen_at"])
    where = filters.clauses({"name__ne": "bravo", "seen_at__ge": ROWS[2]["seen_at"]})

    def body(conn: sa.Connection) -> tuple[list[int], list[int]]:
        with qx_table(conn):
            return walk(conn, "-age,name", where)[0], offset_pages(
                conn, "-age,name", where
            )

    by_cursor, by_offset = run_on_connection(database, target.async_, body)
    kept = [
        row
        for row in ROWS
        if row["name"] != "bravo" and row["seen_at"] >= ROWS[2]["seen_at"]
    ]
    expected = python_order(kept, [("age", True), ("name", False)])
    assert 20 < len(expected) < len(ROWS)
    assert by_cursor == by_offset == expected


def test_a_cursor_survives_inserts_before_and_after_it(
    target: Target, database: Database
) -> None:
    """Keyset pages point between values, not at positions: new rows neither repeat nor vanish."""
    keys = ITEMS.parse("age")

    def body(conn: sa.Connection) -> list[int]:
        with qx_table(conn):
            base = sa.select(QX_TABLE.c.id, QX_TABLE.c.age).order_by(
                *ITEMS.clauses(keys)
            )
            first = conn.execute(base.limit(PAGE_SIZE)).mappings().all()
            cursor = encode_cursor(keys, first[-1])
            before = {
                "id": 101,
                "age": -1,
                "code": "new",
                "seen_at": ROWS[0]["seen_at"],
            }
            after = {
                "id": 102,
                "age": None,
                "code": "new",
                "seen_at": ROWS[0]["seen_at"],
            }
            conn.execute(sa.insert(QX_TABLE), [before, after])
            rest = base.where(keyset_clause(keys, decode_cursor(keys, cursor)))
            return [row["id"] for row in first] + list(conn.execute(rest).scalars())

    ids = run_on_connection(database, target.async_, body)
    assert ids == python_order(ROWS, [("age", False)]) + [102]
