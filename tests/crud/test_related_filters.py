"""Filters through relationships, the `q` search, exact `eq` on text, and the operator table."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from sqlmodel_production import Database
from sqlmodel_production._exceptions import InvalidQuery
from sqlmodel_production.crud import Repository
from sqlmodel_production.crud._filters import (
    MAX_PATTERN_LENGTH,
    FilterParam,
    FilterSet,
    escape_like,
)
from sqlmodel_production.crud._operators import OPERATOR_TABLE, Kind, Operator
from sqlmodel_production.db import Backend
from sqlmodel_production.models import Text
from sqlmodel_production.testing import assert_queries
from tests.conftest import Target, run_on_connection
from tests.crud._books import FbAuthor, FbBook, WoPost, books_tables

BOOK = FbBook.__table__  # type: ignore[attr-defined]
AUTHOR = FbAuthor.__table__  # type: ignore[attr-defined]

FILTERS = FilterSet(
    FbBook,
    {
        "title": ("eq", "ne", "in"),
        "price": ("ge", "le"),
        "author.name": ("eq", "ne", "in", "ilike"),
        "tags.name": ("eq", "in"),
        "author.books.title": ("eq",),
    },
    search=["title", "author.name"],
)


# --- configuration -----------------------------------------------------------------------


def test_related_fields_are_parameters_with_double_underscores() -> None:
    params = {p.name: p for p in FILTERS.params}
    assert params["author__name__ilike"] == FilterParam(
        "author__name__ilike",
        "author.name",
        "ilike",
        Text,
        OPERATOR_TABLE["ilike"].description.format("author.name"),
    )
    assert params["tags__name__in"].annotation == list[Text]
    assert params["author__books__title"].description == "author.books.title equal to"
    assert params["q"] == FilterParam(
        "q",
        "title, author.name",
        "search",
        Text,
        "Text to search for, ignoring case, anywhere in: title, author.name "
        f"(at most {MAX_PATTERN_LENGTH} characters)",
    )
    # Only the model's own fields must be public; related ones are the router's choice.
    assert FILTERS.own_fields == {"title", "price"}


def test_related_fields_get_the_default_operators_of_their_type() -> None:
    filters = FilterSet(FbBook, ["author.name", "author.id"])
    assert [p.name for p in filters.params] == [
        "author__name",
        "author__name__ne",
        "author__name__in",
        "author__name__like",
        "author__name__ilike",
        *(
            f"author__id{op}"
            for op in ("", "__ne", "__lt", "__le", "__gt", "__ge", "__in")
        ),
    ]


@pytest.mark.parametrize(
    ("allowed", "search", "message"),
    [
        (
            ["writer.name"],
            (),
            "FbBook has no relationship 'writer' (filter 'writer.name'); "
            "its relationships: author, tags",
        ),
        (["author.nick"], (), "FbAuthor has no column 'nick'; its columns: id, name"),
        (
            {"author.name": ("gt", "is_null")},
            (),
            "'is_null' on FbBook.author.name, which is NOT NULL: it could never match",
        ),
        ((), ["price"], "search needs string fields; FbBook.price holds int"),
        ((), ["author.id"], "search needs string fields; FbBook.author.id holds int"),
        (
            {"title": ("eq",), "q": ("eq",)},
            ["title"],
            "FbBook has no column 'q'; its columns: id, title, price, author_id",
        ),
    ],
)
def test_a_bad_relationship_or_search_fails_at_start_up(
    allowed: Any, search: Any, message: str
) -> None:
    with pytest.raises(ValueError) as caught:
        FilterSet(FbBook, allowed, search=search)
    assert str(caught.value) == message


def test_search_text_is_checked() -> None:
    assert FILTERS.clauses({"q": "   "}) == []
    with pytest.raises(InvalidQuery) as caught:
        FILTERS.clauses({"q": "x" * (MAX_PATTERN_LENGTH + 1)})
    assert (caught.value.param, caught.value.message) == (
        "q",
        f"give at most {MAX_PATTERN_LENGTH} characters to search for",
    )
    assert len(FILTERS.clauses({"q": "x" * MAX_PATTERN_LENGTH})) == 1


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        ("100%", "100\\%"),
        ("a_b", "a\\_b"),
        ("c:\\x", "c:\\\\x"),
        ("%_\\", "\\%\\_\\\\"),
    ],
)
def test_escape_like_makes_every_character_literal(text: str, pattern: str) -> None:
    assert escape_like(text) == pattern


def test_a_new_operator_is_one_entry_of_the_table(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    starts = Operator(
        "startswith",
        "{} starts with",
        "value",
        lambda target, value: target.column.startswith(value, autoescape=True),
        kinds=frozenset({Kind.STRING}),
        default=frozenset(),
    )
    monkeypatch.setitem(OPERATOR_TABLE, "startswith", starts)
    filters = FilterSet(
        FbBook, {"title": ("startswith",), "author.name": ("startswith",)}
    )
    assert filters.params[0] == FilterParam(
        "title__startswith", "title", "startswith", Text, "title starts with"
    )
    assert filters.params[1].name == "author__name__startswith"
    # Not a default operator, and refused where its kinds say so.
    assert "title__startswith" not in [
        p.name for p in FilterSet(FbBook, ["title"]).params
    ]
    with pytest.raises(
        ValueError, match="'startswith' needs a string column; FbBook.price"
    ):
        FilterSet(FbBook, {"price": ("startswith",)})
    clause = filters.clauses({"title__startswith": "Small_"})[0]
    assert sa.select(BOOK.c.id).where(clause).compile().params == {
        "title_1": "Small/_"  # the entry's builder escapes with /
    }


# --- on the databases --------------------------------------------------------------------


def ids(conn: sa.Connection, values: dict[str, Any]) -> list[int]:
    statement = sa.select(BOOK.c.id).where(*FILTERS.clauses(values)).order_by(BOOK.c.id)
    return list(conn.execute(statement).scalars())


CASES: list[tuple[dict[str, Any], list[int]]] = [
    # eq / ne / in on text are exact: case and trailing spaces count on every backend.
    ({"author__name": "Terry Pratchett"}, [1, 3]),
    ({"author__name": "terry pratchett"}, [4]),
    ({"author__name": "Terry Pratchett "}, [8, 9]),
    ({"author__name__in": ["terry pratchett", "Neil Gaiman"]}, [2, 4, 6]),
    # A book matches when its author matches: a book without one never does.
    ({"author__name__ne": "Terry Pratchett"}, [2, 4, 5, 6, 8, 9]),
    ({"author__name__ilike": "TERRY%"}, [1, 3, 4, 8, 9]),
    ({"title": "mort"}, []),
    ({"title": "Mort"}, [3]),
    ({"title__ne": "Mort", "price__le": 8}, [6, 7]),
    ({"title__in": ["Mort", "coraline"]}, [3]),
    # To-many: each book once, however many of its tags match.
    ({"tags__name": "fantasy"}, [1, 2, 3, 5]),
    ({"tags__name__in": ["fantasy", "comic"]}, [1, 2, 3, 5, 8, 9]),
    ({"tags__name__in": ["fantasy", "comic"], "price__le": 10}, [1, 3, 5]),
    # Two relationships deep: books by an author who also wrote "Mort".
    ({"author__books__title": "Mort"}, [1, 3]),
    # The search: any listed field contains the text, ignoring case.
    ({"q": "disc"}, [4]),
    ({"q": "PRATCHETT"}, [1, 3, 4, 8, 9]),
    ({"q": "  gods "}, [8, 9]),
    # `%`, `_` and `\` are literal: "100%" is not "100 then anything".
    ({"q": "100%"}, [5, 7]),
    ({"q": "small_"}, [8]),
    ({"q": "guin\\"}, [5]),
    ({"q": "n\\%"}, []),
    (
        {"q": "gods", "tags__name": "comic", "author__name__ilike": "%pratchett "},
        [8, 9],
    ),
]


def test_related_filters_and_search_select_each_row_once(
    target: Target, database: Database
) -> None:
    def body(conn: sa.Connection) -> list[list[int]]:
        with books_tables(conn):
            return [ids(conn, values) for values, _ in CASES]

    results = run_on_connection(database, target.async_, body)
    for (values, expected), got in zip(CASES, results, strict=True):
        assert got == expected, values


def test_cursor_pages_under_relationship_filters_are_stable_and_one_query_each(
    target: Target, database: Database
) -> None:
    books = Repository(
        FbBook,
        filters={"tags.name": ("in",), "author.name": ("ilike",)},
        search=["title"],
        order_by=["price", "title"],
    )
    filters = {"tags__name__in": ["fantasy", "comic", "old"], "q": "o"}

    def body(conn: sa.Connection) -> tuple[list[int], list[int], int | None]:
        with books_tables(conn):
            whole = books.list(conn, filters=filters, order_by="-price", limit=100)
            walked: list[int] = []
            cursor = None
            while True:
                with assert_queries(1):
                    page = books.list(
                        conn, filters=filters, order_by="-price", limit=2, cursor=cursor
                    )
                walked += [row["id"] for row in page.rows]
                if page.next_cursor is None:
                    break
                cursor = page.next_cursor
            total = books.list(conn, filters=filters, limit=1, with_total=True).total
            return [row["id"] for row in whole.rows], walked, total

    whole, walked, total = run_on_connection(database, target.async_, body)
    # Tags of "o" books: 1 (2 tags), 2 (3 tags), 3, 5, 6, 8, 9; by price descending, then id.
    assert whole == [2, 8, 9, 1, 5, 3, 6]
    assert walked == whole
    assert total == 7


def test_eq_on_text_is_exact_on_the_model_itself(
    target: Target, database: Database
) -> None:
    authors = FilterSet(FbAuthor, {"name": ("eq", "ne", "in")})

    def body(conn: sa.Connection) -> list[list[int]]:
        with books_tables(conn):
            return [
                sorted(
                    conn.execute(
                        sa.select(AUTHOR.c.id).where(*authors.clauses(values))
                    ).scalars()
                )
                for values in (
                    {"name": "Terry Pratchett"},
                    {"name": "TERRY PRATCHETT"},
                    {"name__ne": "Terry Pratchett"},
                    {"name__in": ["Terry Pratchett ", "neil gaiman"]},
                )
            ]

    assert run_on_connection(database, target.async_, body) == [
        [1],
        [],
        [2, 3, 4, 5],
        [3],
    ]


@pytest.mark.only(Backend.MARIADB)
def test_exact_eq_still_finds_rows_through_the_index_on_mariadb(
    target: Target, database: Database
) -> None:
    authors = FilterSet(FbAuthor, {"name": ("eq", "in")})

    def body(conn: sa.Connection) -> list[str | None]:
        with books_tables(conn):
            conn.execute(
                sa.insert(AUTHOR), [{"name": f"author {i}"} for i in range(500)]
            )
            conn.commit()
            conn.exec_driver_sql("ANALYZE TABLE fb_author")
            keys = []
            for values in ({"name": "Terry Pratchett"}, {"name__in": ["a", "b"]}):
                statement = sa.select(AUTHOR.c.id).where(*authors.clauses(values))
                sql = str(
                    statement.compile(conn, compile_kwargs={"literal_binds": True})
                )
                assert "BINARY" in sql
                plan = conn.exec_driver_sql("EXPLAIN " + sql).mappings().one()
                keys.append(plan["key"])
            return keys

    assert run_on_connection(database, target.async_, body) == [
        "ix_fb_author_name",
        "ix_fb_author_name",
    ]


@pytest.mark.parametrize("field", ["password_hash", "api_token"])
def test_a_write_only_related_column_cannot_be_filtered_or_searched(field: str) -> None:
    """Else a client could guess a secret one character at a time with `__like`."""
    message = f"WoUser.{field} is write-only"
    with pytest.raises(ValueError, match=message):
        FilterSet(WoPost, {f"author.{field}": ("like",)})
    with pytest.raises(ValueError, match=message):
        FilterSet(WoPost, (), search=[f"author.{field}"])
    assert FilterSet(WoPost, {"author.name": ("like",)}, search=["author.name"])
