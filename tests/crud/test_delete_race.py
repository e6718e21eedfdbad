"""A parent's soft delete and a child's create at the same moment, on the real servers.

Two connections interleave on PostgreSQL and MariaDB: whichever writes first,
no live child is left under a deleted parent. The delete locks its row before
it looks at the children; the create locks the parent it names (`FOR SHARE`)
in its own INSERT. SQLite's writers take turns, so it has no such moment.
"""

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Field, Relationship, SQLModel

from sqlmodel_production import Database
from sqlmodel_production.crud import Repository
from sqlmodel_production.db import Backend
from sqlmodel_production.errors import LiveChildren, ReferenceNotFound
from sqlmodel_production.models import SoftDelete

pytestmark = pytest.mark.only(Backend.POSTGRESQL, Backend.MARIADB)


class DrProject(SoftDelete, table=True):
    __tablename__ = "dr_project"
    id: int | None = Field(default=None, primary_key=True)
    tasks: list["DrTask"] = Relationship()


class DrTask(SoftDelete, table=True):
    __tablename__ = "dr_task"
    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=20)
    project_id: int | None = Field(default=None, foreign_key="dr_project.id")


TABLES = [DrProject.__table__, DrTask.__table__]  # type: ignore[attr-defined]
TASKS = Repository(DrTask)
RULES = {
    "refuse": Repository(DrProject, on_delete={"tasks": "refuse"}),
    "cascade": Repository(DrProject, on_delete={"tasks": "cascade"}),
}
WAITING = {
    Backend.POSTGRESQL: "SELECT count(*) FROM pg_stat_activity "
    "WHERE wait_event_type = 'Lock' AND datname = current_database()",
    Backend.MARIADB: "SELECT count(*) FROM information_schema.innodb_lock_waits",
}


@pytest.fixture
def engine(backend: Backend, database: Database) -> Iterator[sa.Engine]:
    """The sync engine: the interleaving is the servers', which one driver per server shows."""
    with database.engine.begin() as conn:
        SQLModel.metadata.drop_all(conn, tables=TABLES)
        SQLModel.metadata.create_all(conn, tables=TABLES)
        conn.execute(sa.insert(DrProject.__table__), [{"id": 1}])  # type: ignore[attr-defined]
    yield database.engine
    with database.engine.begin() as conn:
        SQLModel.metadata.drop_all(conn, tables=TABLES)


def _in_a_thread(
    engine: sa.Engine, backend: Backend, work: Callable[[sa.Connection], Any]
) -> Callable[[], Any]:
    """Start `work` on a connection of its own; once it waits for a lock (or is done), a function that gives its outcome."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        with engine.connect() as conn:
            try:
                outcome["result"] = work(conn)
                conn.commit()
            except Exception as exc:  # the outcome under test
                outcome["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    with engine.connect() as watcher:
        for _ in range(200):  # until it waits for the other's lock, or is done
            if (
                not thread.is_alive()
                or watcher.exec_driver_sql(WAITING[backend]).scalar()
            ):
                break
            time.sleep(0.05)

    def result() -> Any:
        thread.join(timeout=30)
        if "error" in outcome:
            return outcome["error"]
        return outcome.get("result")

    return result


def _live_tasks(engine: sa.Engine) -> list[int]:
    with engine.connect() as conn:
        return list(
            conn.execute(
                sa.select(DrTask.__table__.c.id).where(  # type: ignore[attr-defined]
                    DrTask.__table__.c.deleted_at.is_(None)  # type: ignore[attr-defined]
                )
            ).scalars()
        )


@pytest.mark.parametrize("rule", ["refuse", "cascade"])
def test_a_create_after_the_delete_finds_no_parent(
    engine: sa.Engine, backend: Backend, rule: str
) -> None:
    with engine.connect() as deleting:
        assert RULES[rule].delete(deleting, 1)
        create = _in_a_thread(
            engine,
            backend,
            lambda conn: TASKS.create(conn, {"title": "late", "project_id": 1}),
        )
        deleting.commit()
    assert isinstance(create(), ReferenceNotFound)
    assert _live_tasks(engine) == []


@pytest.mark.parametrize("rule", ["refuse", "cascade"])
def test_a_delete_after_the_create_sees_the_child(
    engine: sa.Engine, backend: Backend, rule: str
) -> None:
    with engine.connect() as creating:
        task = TASKS.create(creating, {"title": "early", "project_id": 1})
        delete = _in_a_thread(engine, backend, lambda conn: RULES[rule].delete(conn, 1))
        creating.commit()
    outcome = delete()
    if rule == "refuse":
        assert isinstance(outcome, LiveChildren)
        assert _live_tasks(engine) == [task["id"]]
    else:
        assert outcome is True
        assert _live_tasks(engine) == []
