"""Sort keys from an allow-list: parsing, errors, and the order the databases return."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlmodel import Field, SQLModel

from sqlmodel_production import Database
from sqlmodel_production._exceptions import InvalidQuery
from sqlmodel_production.crud._ordering import Ordering, OrderKey
from tests.conftest import Target, run_on_connection
from tests.crud import QX_TABLE, ROWS, QxItem, python_order, qx_table


class QxPair(SQLModel, table=True):
    """A composite primary key, whose column names differ from nothing else."""

    left: int = Field(primary_key=True)
    right: int = Field(primary_key=True)
    rank: int | None = None


ORDERING = Ordering(QxItem, ("age", "name", "seen_at"), default=("-seen_at",))


def spec_of(keys: tuple[OrderKey, ...]) -> list[tuple[str, bool]]:
    return [(key.name, key.descending) for key in keys]


# --- parsing -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("-age,name", [("age", True), ("name", False), ("id", False)]),
        ("age", [("age", False), ("id", False)]),
        ("+age, -name ", [("age", False), ("name", True), ("id", False)]),
        (" age", [("age", False), ("id", False)]),  # "+age" in a URL decodes to " age"
        (
            "-id",
            [("id", True)],
        ),  # the primary key is always allowed, and ends the order
        ("name,-id", [("name", False), ("id", True)]),
        ("id,-age,name", [("id", False)]),  # nothing can follow a unique key
    ],
)
def test_parse_completes_the_order_with_the_primary_key(
    spec: str, expected: list[tuple[str, bool]]
) -> None:
    assert spec_of(ORDERING.parse(spec)) == expected


@pytest.mark.parametrize("spec", [None, ""])
def test_no_spec_gives_the_default_order(spec: str | None) -> None:
    assert spec_of(ORDERING.parse(spec)) == [("seen_at", True), ("id", False)]


def test_default_order_is_the_primary_key_when_none_is_given() -> None:
    assert spec_of(Ordering(QxItem, ("age",)).parse(None)) == [("id", False)]


def test_keys_carry_their_columns_and_nullability() -> None:
    age, name, seen_at, pk = ORDERING.parse("-age,name,seen_at")
    assert age.column is QX_TABLE.c.age and age.nullable and age.descending
    assert name.column is QX_TABLE.c.name and name.nullable
    assert seen_at.column is QX_TABLE.c.seen_at and not seen_at.nullable
    assert pk.column is QX_TABLE.c.id and not pk.nullable and not pk.descending


def test_composite_primary_key_is_appended_column_by_column() -> None:
    ordering = Ordering(QxPair, ("rank",))
    assert spec_of(ordering.parse("-rank")) == [
        ("rank", True),
        ("left", False),
        ("right", False),
    ]
    assert spec_of(ordering.parse("right")) == [("right", False), ("left", False)]
    assert spec_of(ordering.parse("-right,left,rank")) == [
        ("right", True),
        ("left", False),
    ]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("power", "cannot sort by 'power'; allowed: age, name, seen_at, id"),
        ("-code", "cannot sort by 'code'; allowed: age, name, seen_at, id"),
        ("age,,name", "empty sort key in 'age,,name'"),
        ("-", "empty sort key in '-'"),
        (",", "empty sort key in ','"),
        ("--age", "cannot sort by '-age'; allowed: age, name, seen_at, id"),
        ("id,power", "cannot sort by 'power'; allowed: age, name, seen_at, id"),
    ],
)
def test_a_bad_spec_is_an_invalid_query_naming_the_allowed_keys(
    spec: str, message: str
) -> None:
    with pytest.raises(InvalidQuery) as caught:
        ORDERING.parse(spec)
    assert (caught.value.param, caught.value.message) == ("order_by", message)


def test_parsed_specs_are_cached_and_errors_are_not() -> None:
    ordering = Ordering(QxItem, ("age", "name"))
    first = ordering.parse("-age,name")
    assert ordering.parse("-age,name") is first
    for _ in range(2):
        with pytest.raises(InvalidQuery):
            ordering.parse("power")


@pytest.mark.parametrize(
    ("allowed", "default", "message"),
    [
        (
            ("age", "power"),
            (),
            "QxItem has no column 'power'; its columns: id, age, name, code, seen_at",
        ),
        (
            ("age",),
            ("name",),
            "default order of QxItem: cannot sort by 'name'; allowed: age, id",
        ),
        (("age",), ("age", "-age"), "default order of QxItem: 'age' is named twice"),
    ],
)
def test_a_bad_configuration_fails_at_start_up(
    allowed: tuple[str, ...], default: tuple[str, ...], message: str
) -> None:
    with pytest.raises(ValueError) as caught:
        Ordering(QxItem, allowed, default)
    assert str(caught.value) == message


def test_not_a_table_model_fails_at_start_up() -> None:
    class QxPlain(SQLModel):
        age: int

    with pytest.raises(TypeError, match="QxPlain is not a table model"):
        Ordering(QxPlain, ("age",))


def test_a_string_is_not_taken_for_a_collection_of_keys() -> None:
    with pytest.raises(TypeError):
        Ordering(QxItem, "age")
    with pytest.raises(TypeError):
        Ordering(QxItem, ("age",), default="-age")


@pytest.mark.parametrize("dialect", ["postgresql", "mariadb", "sqlite"])
def test_only_nullable_keys_get_the_portable_nulls_last_term(dialect: str) -> None:
    keys = ORDERING.parse("-age,seen_at")
    statement = sa.select(QX_TABLE.c.id).order_by(*ORDERING.clauses(keys))
    sql = str(statement.compile(dialect=make_url(f"{dialect}://").get_dialect()()))
    assert sql.endswith(
        "ORDER BY qx_item.age IS NULL, qx_item.age DESC, qx_item.seen_at ASC, qx_item.id ASC"
    )


# --- on the databases --------------------------------------------------------------------

SPECS = [
    "",
    "-id",
    "age",
    "-age",
    "name",
    "-name",
    "age,-name",
    "-name,-age",
    "seen_at,-age",
    "-seen_at,name",
]


@pytest.mark.parametrize("spec", SPECS)
def test_databases_return_the_python_order_with_nulls_last(
    target: Target, database: Database, spec: str
) -> None:
    keys = ORDERING.parse(spec)

    def body(conn: sa.Connection) -> list[int]:
        with qx_table(conn):
            statement = sa.select(QX_TABLE.c.id).order_by(*ORDERING.clauses(keys))
            return list(conn.execute(statement).scalars())

    assert run_on_connection(database, target.async_, body) == python_order(
        ROWS, spec_of(keys)
    )


def test_a_key_named_again_is_left_out_the_first_one_decides() -> None:
    assert spec_of(ORDERING.parse("age,-age, name ,name")) == spec_of(
        ORDERING.parse("age,name")
    )
