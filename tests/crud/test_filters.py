"""Filters from an allow-list: configuration, value checks, and the rows every database returns."""

from __future__ import annotations

import enum
import pickle
import re
import uuid
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Annotated, Any

import pytest
import sqlalchemy as sa
from annotated_types import Ge, Le
from pydantic import AwareDatetime
from sqlmodel import Field, SQLModel

from sqlmodel_production import Database
from sqlmodel_production._exceptions import InvalidQuery
from sqlmodel_production.crud._filters import (
    MAX_IN_VALUES,
    MAX_PATTERN_LENGTH,
    OPERATORS,
    FilterParam,
    FilterSet,
)
from sqlmodel_production.db import Backend
from sqlmodel_production.models import Text
from tests.conftest import Target, run_on_connection
from tests.crud import QX_TABLE, ROWS, QxItem, qx_table


class QxMood(enum.Enum):
    HAPPY = "happy"
    GRUMPY = "grumpy"


class QxKinds(SQLModel, table=True):
    """Never created: one column of each kind, for the default operators."""

    id: int = Field(primary_key=True)
    count: int
    maybe_count: int | None = None
    ratio: float
    amount: Decimal = Field(max_digits=10, decimal_places=2)
    day: date | None = None
    at: datetime
    naive_at: datetime = Field(sa_type=sa.DateTime)
    label: str
    maybe_label: str | None = None
    flag: bool
    token: uuid.UUID
    mood: QxMood


def names(filters: FilterSet) -> list[str]:
    return [param.name for param in filters.params]


# --- configuration -----------------------------------------------------------------------

ORDERED = ["eq", "ne", "lt", "le", "gt", "ge", "in"]


@pytest.mark.parametrize(
    ("field", "operators"),
    [
        ("count", ORDERED),
        ("maybe_count", [*ORDERED, "is_null"]),
        ("ratio", ORDERED),
        ("amount", ORDERED),
        ("day", [*ORDERED, "is_null"]),
        ("at", ORDERED),
        ("naive_at", ORDERED),
        ("label", ["eq", "ne", "in", "like", "ilike"]),
        ("maybe_label", ["eq", "ne", "in", "like", "ilike", "is_null"]),
        ("flag", ["eq", "ne"]),
        ("token", ["eq", "ne", "in"]),
        ("mood", ["eq", "ne", "in"]),
    ],
)
def test_default_operators_suit_the_column_type(
    field: str, operators: list[str]
) -> None:
    filters = FilterSet(QxKinds, [field])
    assert [param.op for param in filters.params] == operators
    assert names(filters) == [
        field if op == "eq" else f"{field}__{op}" for op in operators
    ]


INT32 = Annotated[int, Ge(-(2**31)), Le(2**31 - 1)]
"""An INTEGER column's filter value: its range, so that a larger number is a 422."""


def test_params_carry_the_type_fastapi_converts_to_and_a_description() -> None:
    filters = FilterSet(
        QxKinds,
        {
            "count": ("eq", "gt", "in"),
            "at": ("ge", "in"),
            "naive_at": ("lt",),
            "maybe_label": ("like", "is_null"),
            "token": ("in",),
        },
    )
    assert filters.params == (
        FilterParam("count", "count", "eq", INT32, "count equal to"),
        FilterParam("count__gt", "count", "gt", INT32, "count greater than"),
        FilterParam(
            "count__in",
            "count",
            "in",
            list[INT32],
            f"count one of these values (repeat the parameter, at most {MAX_IN_VALUES} values)",
        ),
        FilterParam("at__ge", "at", "ge", AwareDatetime, "at greater than or equal to"),
        FilterParam(
            "at__in",
            "at",
            "in",
            list[AwareDatetime],
            f"at one of these values (repeat the parameter, at most {MAX_IN_VALUES} values)",
        ),
        FilterParam("naive_at__lt", "naive_at", "lt", datetime, "naive_at less than"),
        FilterParam(
            "maybe_label__like",
            "maybe_label",
            "like",
            Text,
            "maybe_label matches this pattern: % any characters, _ one character, "
            "\\ escapes them; case sensitivity follows the database collation",
        ),
        FilterParam(
            "maybe_label__is_null",
            "maybe_label",
            "is_null",
            bool,
            "maybe_label is null (true) or is not null (false)",
        ),
        FilterParam(
            "token__in", "token", "in", list[uuid.UUID], filters.params[-1].description
        ),
    )


@pytest.mark.parametrize(
    ("allowed", "error", "message"),
    [
        (
            ["power"],
            ValueError,
            "QxItem has no column 'power'; its columns: id, age, name, code, seen_at",
        ),
        (
            {"age": ("gt", "between")},
            ValueError,
            "unknown filter operator 'between' for QxItem.age; operators: "
            + ", ".join(OPERATORS),
        ),
        (
            {"age": ("like",)},
            ValueError,
            "'like' needs a string column; QxItem.age holds int",
        ),
        (
            {"seen_at": ("ilike",)},
            ValueError,
            "'ilike' needs a string column; QxItem.seen_at holds datetime",
        ),
        (
            {"code": ("is_null",)},
            ValueError,
            "'is_null' on QxItem.code, which is NOT NULL: it could never match",
        ),
        (
            "age",
            TypeError,
            "allowed filters must be a collection of fields, not the string 'age'",
        ),
        (
            {"age": "gt"},
            TypeError,
            "operators of 'age' must be a collection, not the string 'gt'",
        ),
    ],
)
def test_a_bad_configuration_fails_at_start_up(
    allowed: Any, error: type[Exception], message: str
) -> None:
    with pytest.raises(error) as caught:
        FilterSet(QxItem, allowed)
    assert str(caught.value) == message


def test_like_on_an_enum_column_fails_at_start_up() -> None:
    with pytest.raises(
        ValueError, match="'like' needs a string column; QxKinds.mood holds QxMood"
    ):
        FilterSet(QxKinds, {"mood": ("like",)})


def test_not_a_table_model_fails_at_start_up() -> None:
    class QxPlain(SQLModel):
        age: int

    with pytest.raises(TypeError, match="QxPlain is not a table model"):
        FilterSet(QxPlain, ["age"])


# --- values ------------------------------------------------------------------------------

FILTERS = FilterSet(QxItem, ["age", "name", "code", "seen_at"])


def test_values_not_given_add_no_clause() -> None:
    assert FILTERS.clauses({}) == []
    assert FILTERS.clauses({"age": None, "name__ilike": None, "age__in": None}) == []


def test_an_unknown_key_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="not filters of QxItem: age__between, limit"):
        FILTERS.clauses({"age": 1, "limit": 10, "age__between": 3})


@pytest.mark.parametrize(
    ("values", "param", "message"),
    [
        ({"age__in": []}, "age__in", "give at least one value"),
        (
            {"age__in": list(range(MAX_IN_VALUES + 1))},
            "age__in",
            f"give at most {MAX_IN_VALUES} values, not {MAX_IN_VALUES + 1}",
        ),
        (
            {"name__like": "a" * (MAX_PATTERN_LENGTH + 1)},
            "name__like",
            f"give a pattern of at most {MAX_PATTERN_LENGTH} characters",
        ),
        (
            {"name__ilike": "ab\\"},
            "name__ilike",
            "a backslash must be followed by %, _ or another backslash",
        ),
        (
            {"name__like": "a\\b%"},
            "name__like",
            "a backslash must be followed by %, _ or another backslash",
        ),
        (
            {"name__like": "a\\\\\\"},
            "name__like",
            "a backslash must be followed by %, _ or another backslash",
        ),
        (
            {"seen_at__gt": datetime(2024, 1, 1)},
            "seen_at__gt",
            "give a time zone, e.g. 2024-01-31T12:00:00Z",
        ),
        (
            {"seen_at__in": [ROWS[0]["seen_at"], datetime(2024, 1, 1)]},
            "seen_at__in",
            "give a time zone, e.g. 2024-01-31T12:00:00Z",
        ),
    ],
)
def test_values_the_database_must_not_see_are_invalid_queries(
    values: dict[str, Any], param: str, message: str
) -> None:
    with pytest.raises(InvalidQuery) as caught:
        FILTERS.clauses(values)
    assert (caught.value.param, caught.value.message) == (param, message)


def test_limits_are_inclusive() -> None:
    assert len(FILTERS.clauses({"age__in": list(range(MAX_IN_VALUES))})) == 1
    assert len(FILTERS.clauses({"name__like": "a" * MAX_PATTERN_LENGTH})) == 1
    assert len(FILTERS.clauses({"name__like": "\\\\\\%\\_", "age": 1})) == 2


def test_invalid_query_names_its_parameter_and_pickles() -> None:
    error = InvalidQuery("age__in", "give at least one value")
    assert isinstance(error, ValueError)
    assert str(error) == "age__in: give at least one value"
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.param, copy.message) == ("age__in", "give at least one value")


# --- on the databases --------------------------------------------------------------------

Row = dict[str, Any]
SEEN = sorted({row["seen_at"] for row in ROWS})


def like(pattern: str, *, ignore_case: bool) -> Callable[[Any], bool]:
    """The Python meaning of a LIKE pattern with backslash escapes."""
    regex = ""
    chars = iter(pattern)
    for char in chars:
        if char == "\\":
            regex += re.escape(next(chars))
        else:
            regex += {"%": ".*", "_": "."}.get(char) or re.escape(char)
    compiled = re.compile(regex, re.DOTALL | (re.IGNORECASE if ignore_case else 0))
    return lambda value: value is not None and compiled.fullmatch(value) is not None


def cases(backend: Backend) -> list[tuple[dict[str, Any], Callable[[Row], bool]]]:
    # LIKE follows the collation: case-sensitive on PostgreSQL only (utf8mb4_unicode_ci, SQLite ASCII).
    like_ignores_case = backend is not Backend.POSTGRESQL

    def known(name: str, test: Callable[[Any], bool]) -> Callable[[Row], bool]:
        return lambda row: row[name] is not None and test(row[name])

    return [
        ({"age": 3}, lambda r: r["age"] == 3),
        ({"age__ne": 3}, lambda r: r["age"] != 3),  # NULLs are "not 3"
        ({"name__ne": "bravo"}, lambda r: r["name"] != "bravo"),
        ({"age__lt": 3}, known("age", lambda v: v < 3)),
        ({"age__le": 3}, known("age", lambda v: v <= 3)),
        ({"age__gt": 3}, known("age", lambda v: v > 3)),
        ({"age__ge": 3}, known("age", lambda v: v >= 3)),
        ({"age__in": [0, 4, 99]}, lambda r: r["age"] in (0, 4, 99)),
        ({"age__is_null": True}, lambda r: r["age"] is None),
        ({"age__is_null": False}, lambda r: r["age"] is not None),
        ({"name__is_null": True}, lambda r: r["name"] is None),
        ({"name": "charlie"}, lambda r: r["name"] == "charlie"),
        ({"name__in": ["alpha", "delta"]}, lambda r: r["name"] in ("alpha", "delta")),
        ({"seen_at": SEEN[3]}, lambda r: r["seen_at"] == SEEN[3]),
        ({"seen_at__ne": SEEN[3]}, lambda r: r["seen_at"] != SEEN[3]),
        ({"seen_at__lt": SEEN[5]}, lambda r: r["seen_at"] < SEEN[5]),
        ({"seen_at__le": SEEN[5]}, lambda r: r["seen_at"] <= SEEN[5]),
        ({"seen_at__gt": SEEN[5]}, lambda r: r["seen_at"] > SEEN[5]),
        ({"seen_at__ge": SEEN[5]}, lambda r: r["seen_at"] >= SEEN[5]),
        ({"seen_at__in": SEEN[:2]}, lambda r: r["seen_at"] in SEEN[:2]),
        # Another zone, the same instants: compared as instants, not as wall-clock text.
        (
            {"seen_at__ge": SEEN[5].astimezone(timezone(timedelta(hours=-5)))},
            lambda r: r["seen_at"] >= SEEN[5],
        ),
        ({"code__ilike": "ab%"}, known("code", like("ab%", ignore_case=True))),
        ({"code__ilike": "%B1"}, known("code", like("%B1", ignore_case=True))),
        (
            {"code__like": "ab%"},
            known("code", like("ab%", ignore_case=like_ignores_case)),
        ),
        (
            {"code__like": "A_2"},
            known("code", like("A_2", ignore_case=like_ignores_case)),
        ),
        (
            {"code__like": "x\\%%"},
            known("code", like("x\\%%", ignore_case=True)),
        ),  # a literal %
        (
            {"code__like": "x\\_%"},
            known("code", like("x\\_%", ignore_case=True)),
        ),  # a literal _
        (
            {"code__like": "x_y%"},
            known("code", like("x_y%", ignore_case=True)),
        ),  # _ is a wildcard
        ({"code__ilike": "%"}, lambda r: True),
        ({"name__ilike": "%A"}, known("name", like("%a", ignore_case=True))),
        (
            {"age__ge": 2, "age__lt": 7, "name__ilike": "%a%", "seen_at__gt": SEEN[1]},
            lambda r: (
                r["age"] is not None
                and 2 <= r["age"] < 7
                and like("%a%", ignore_case=True)(r["name"])
                and r["seen_at"] > SEEN[1]
            ),
        ),
    ]


def test_each_operator_selects_the_rows_python_selects(
    target: Target, database: Database
) -> None:
    checks = cases(target.backend)

    def body(conn: sa.Connection) -> list[list[int]]:
        with qx_table(conn):
            return [
                sorted(
                    conn.execute(
                        sa.select(QX_TABLE.c.id).where(*FILTERS.clauses(values))
                    ).scalars()
                )
                for values, _ in checks
            ]

    results = run_on_connection(database, target.async_, body)
    for (values, predicate), got in zip(checks, results, strict=True):
        expected = [row["id"] for row in ROWS if predicate(row)]
        assert got == expected, values
        assert 0 < len(expected) or values == {}, (
            f"{values} selects nothing: a weak case"
        )
    # Every operator was exercised against the database.
    used = {name.partition("__")[2] or "eq" for values, _ in checks for name in values}
    assert used == set(OPERATORS)


def test_like_case_sensitivity_follows_the_database(
    target: Target, database: Database
) -> None:
    """Documents the one backend difference: `like` is case-sensitive on PostgreSQL only."""

    def body(conn: sa.Connection) -> int:
        with qx_table(conn):
            where = FILTERS.clauses({"code__like": "AB%"})
            return len(conn.execute(sa.select(QX_TABLE.c.id).where(*where)).all())

    upper_only = sum(row["code"].startswith("AB") for row in ROWS)
    any_case = sum(row["code"].lower().startswith("ab") for row in ROWS)
    assert upper_only < any_case
    expected = upper_only if target.backend is Backend.POSTGRESQL else any_case
    assert run_on_connection(database, target.async_, body) == expected
