"""Row settings: their text, no autocommit while they are active, set in each transaction or refused."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from sqlmodel_production import Database
from sqlmodel_production.db import Backend
from sqlmodel_production.db.internal import (
    autocommits,
    pooled_runner,
    row_settings,
    row_settings_active,
    setting_text,
)
from tests.conftest import Target, run_on_connection


def test_setting_text_is_an_array_literal_or_all() -> None:
    assert setting_text([7]) == '{"7"}'
    assert setting_text({9, 7}) == '{"7","9"}'
    assert setting_text(["a,b", 'say "hi"', "back\\slash"]) == (
        '{"a,b","back\\\\slash","say \\"hi\\""}'
    )
    assert setting_text(None) == "*"


def test_active_only_inside_and_nothing_autocommits_there() -> None:
    engine = sa.create_engine("postgresql+psycopg://u@127.0.0.1/db")
    assert autocommits(engine)
    with row_settings({"app.org_id": '{"1"}'}):
        assert row_settings_active()
        assert not autocommits(engine)
    assert not row_settings_active()
    engine.dispose()


SHOW = sa.text(
    "SELECT current_setting('app.org_id', true), current_setting('app.team', true)"
)


@pytest.mark.only(Backend.POSTGRESQL)
def test_each_transaction_sets_them_and_none_outlives_it(
    target: Target, database: Database
) -> None:
    def check(conn: sa.Connection) -> None:
        with row_settings(
            {"app.org_id": setting_text(["a,b", '"q"']), "app.team": "*"}
        ):
            with conn.begin():
                shown = conn.execute(SHOW).one()
                arrays = conn.execute(
                    sa.text("SELECT current_setting('app.org_id')::text[]")
                ).scalar()
        assert tuple(shown) == ('{"\\"q\\"","a,b"}', "*")
        assert arrays == ['"q"', "a,b"]
        with conn.begin():
            assert tuple(conn.execute(SHOW).one()) in ((None, None), ("", ""))

    run_on_connection(database, target.async_, check)


@pytest.mark.only(Backend.POSTGRESQL)
def test_a_pooled_read_runs_in_a_transaction_that_sets_them(
    backend: Backend, database: Database
) -> None:
    with row_settings({"app.org_id": '{"5"}'}):
        with pooled_runner(database.engine) as runner:
            found = runner.first(
                sa.select(sa.func.current_setting("app.org_id", True).label("s"))
            )
    assert found == {"s": '{"5"}'}


@pytest.mark.only(Backend.MARIADB, Backend.SQLITE)
def test_a_database_without_row_level_security_refuses_them(
    target: Target, database: Database
) -> None:
    def begin(conn: sa.Connection) -> None:
        with row_settings({"app.org_id": '{"1"}'}):
            with pytest.raises(
                RuntimeError, match="Row-level security needs PostgreSQL"
            ):
                conn.begin()
        with conn.begin():  # without them, as ever
            conn.execute(sa.text("SELECT 1"))

    run_on_connection(database, target.async_, begin)
