from sqlmodel import func, select

from sqlmodel_production import Database

from .tutorial001 import Note


def count_notes(database: Database) -> int:
    # A streaming replica within REPLICA_MAX_LAG, else the primary: never an error for one.
    with database.read_only_session() as session:
        return session.exec(select(func.count()).select_from(Note)).one()


async def count_notes_async(database: Database) -> int:
    async with database.async_read_only_session() as session:
        return (await session.exec(select(func.count()).select_from(Note))).one()
