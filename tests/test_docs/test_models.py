"""docs/models.md: derived schemas, mixins and field helpers, as the samples use them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session

from docs_src.models import tutorial001, tutorial002, tutorial003
from sqlmodel_production import Backend, Database
from tests.conftest import Target, run_on_connection
from tests.test_docs._helpers import in_session, tables


def test_tutorial001_schemas_are_named_and_shaped_like_hand_written_ones() -> None:
    create, public, update = tutorial001.derive_schemas(
        tutorial001.Character, write_only={"secret_name"}
    )
    assert (create, public, update) == (
        tutorial001.CharacterCreate,
        tutorial001.CharacterPublic,
        tutorial001.CharacterUpdate,
    )  # cached: the same classes again
    assert [s.__name__ for s in (create, public, update)] == [
        "CharacterCreate",
        "CharacterPublic",
        "CharacterUpdate",
    ]
    assert list(create.model_fields) == ["name", "age", "secret_name"]
    assert list(public.model_fields) == ["id", "name", "age"]
    assert list(update.model_fields) == ["name", "age", "secret_name"]


@pytest.mark.parametrize(
    "schema, data, field",
    [
        ("CharacterCreate", {"id": 5, "name": "A", "secret_name": "s"}, "id"),
        ("CharacterCreate", {"name": "A", "secret_name": "s" * 256}, "secret_name"),
        ("CharacterCreate", {"name": None, "secret_name": "s"}, "name"),
        ("CharacterUpdate", {"name": None}, "name"),
        ("CharacterUpdate", {"name": "A" * 101}, "name"),
        ("CharacterUpdate", {"id": 5}, "id"),
    ],
)
def test_tutorial001_write_schemas_refuse_bad_input(
    schema: str, data: dict[str, object], field: str
) -> None:
    with pytest.raises(ValidationError) as raised:
        getattr(tutorial001, schema).model_validate(data)
    assert [error["loc"] for error in raised.value.errors()] == [(field,)]


def test_tutorial001_update_changes_only_the_fields_sent(
    target: Target, database: Database
) -> None:
    def body(session: Session) -> tuple[object, ...]:
        created = tutorial001.create_hero(
            session,
            tutorial001.CharacterCreate(name="Deadpond", secret_name="Dive Wilson"),
        )
        assert created.id is not None
        aged = tutorial001.update_hero(
            session, created.id, tutorial001.CharacterUpdate(age=30)
        )
        renamed = tutorial001.update_hero(
            session, created.id, tutorial001.CharacterUpdate(secret_name="Wade")
        )
        row = session.get(tutorial001.Character, created.id)
        assert row is not None
        with pytest.raises(LookupError):
            tutorial001.update_hero(session, 9999, tutorial001.CharacterUpdate(age=1))
        return created.model_dump(), aged.model_dump(), renamed, row.secret_name

    with tables(database, tutorial001.Character):
        created, aged, renamed, secret = in_session(database, target.async_, body)
    assert created == {"id": created["id"], "name": "Deadpond", "age": None}  # type: ignore[index]
    assert aged == {**created, "age": 30}  # type: ignore[dict-item]
    assert renamed == tutorial001.CharacterPublic(**aged)  # type: ignore[arg-type]
    assert secret == "Wade"


def test_tutorial002_mixins_on_the_database(target: Target, database: Database) -> None:
    def body(session: Session) -> None:
        article = tutorial002.publish(session, "Hello")
        tutorial002.publish(session, "World")
        assert article.id is not None
        assert article.version == 1
        created_at = article.created_at
        assert created_at is not None and created_at.tzinfo is UTC
        assert abs((datetime.now(UTC) - created_at).total_seconds()) < 60
        assert article.updated_at == created_at
        assert article.deleted_at is None
        article.title = "Hello again"
        session.add(article)
        session.commit()
        session.refresh(article)
        assert article.version == 2
        assert article.created_at == created_at
        tutorial002.trash(session, article.id)  # the same object: the identity map
        assert article.is_deleted
        assert tutorial002.live_titles(session) == ["World"]
        session.refresh(article)  # the UPDATE expired the database-set updated_at
        assert article.version == 3
        assert article.updated_at is not None and article.updated_at >= created_at
        with pytest.raises(LookupError):
            tutorial002.trash(session, 9999)

    with tables(database, tutorial002.Article):
        in_session(database, target.async_, body)


def test_tutorial002_a_stale_update_is_refused(
    backend: Backend, database: Database
) -> None:
    with tables(database, tutorial002.Article):
        with database.session() as first:
            article_id = tutorial002.publish(first, "Draft").id
        with database.session() as mine, database.session() as theirs:
            my_copy = mine.get(tutorial002.Article, article_id)
            mine.commit()  # ends the read; the loaded version (1) stays
            their_copy = theirs.get(tutorial002.Article, article_id)
            assert my_copy is not None and their_copy is not None
            their_copy.title = "Theirs"
            theirs.add(their_copy)
            theirs.commit()
            my_copy.title = "Mine"
            mine.add(my_copy)
            with pytest.raises(StaleDataError):
                mine.commit()
        with database.session() as session:
            assert tutorial002.live_titles(session) == ["Theirs"]


def test_tutorial003_foreign_keys_are_indexed_and_clocks_are_utc(
    target: Target, database: Database
) -> None:
    def body(conn: sa.Connection) -> None:
        inspector = sa.inspect(conn)
        indexed = {
            tuple(index["column_names"]) for index in inspector.get_indexes("recruits")
        }
        assert {("squad_id",), ("mentor_id",)} <= indexed
        on_delete = {
            fk["constrained_columns"][0]: fk["options"].get("ondelete")
            for fk in inspector.get_foreign_keys("recruits")
        }
        assert on_delete == {"squad_id": "CASCADE", "mentor_id": "SET NULL"}
        squad = tutorial003.Squad.__table__  # type: ignore[attr-defined]
        conn.execute(sa.insert(squad).values(name="Preventers"))
        long_ago = datetime(2000, 1, 1, tzinfo=UTC)
        conn.execute(sa.update(squad).values(updated_at=long_ago))
        assert conn.execute(sa.select(squad.c.updated_at)).scalar_one() == long_ago
        conn.execute(tutorial003.touch_squads)
        touched = conn.execute(sa.select(squad.c.updated_at)).scalar_one()
        assert touched.tzinfo is UTC
        assert abs((datetime.now(UTC) - touched).total_seconds()) < 60
        conn.commit()

    with tables(database, tutorial003.Squad, tutorial003.Recruit):
        run_on_connection(database, target.async_, body)
