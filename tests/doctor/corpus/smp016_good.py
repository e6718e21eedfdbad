from contextlib import ExitStack

from sqlmodel import Session, create_engine
from sqlmodel.ext.asyncio.session import AsyncSession

engine = create_engine(DATABASE_URL, pool_pre_ping=True)


def get_session():
    with Session(engine) as session:
        yield session


async def get_async_session():
    async with AsyncSession(async_engine) as session:
        yield session


def count_heroes() -> int:
    session = Session(engine)
    try:
        return len(session.exec(select(Hero.id)).all())
    finally:
        session.close()


def enter_later() -> None:
    session = Session(engine)
    with session:
        session.exec(select(Hero)).all()


def make_session() -> Session:
    session = Session(engine)
    return session


def stacked(stack: ExitStack) -> Session:
    return stack.enter_context(Session(engine))


def ping() -> None:
    with engine.connect() as connection:
        connection.exec_driver_sql("SELECT 1")


class Repository:
    def __init__(self) -> None:
        self.session = Session(engine)


def upgrade() -> None:
    # Alembic's connection: the session checks nothing out of a pool.
    session = Session(bind=op.get_bind())
    session.execute(text("UPDATE hero SET age = 0 WHERE age IS NULL"))


def is_database_up() -> bool:
    # A probe that drops the connection at once: the pool takes it back on the spot.
    try:
        engine.connect()
        return True
    except Exception:
        return False


# Adapted from pypi/warehouse `6b62157` (Apache-2.0): a command-line command runs once in
# a process of its own; its exit closes the connection, and nothing shares that pool.
@sponsors.command()
@click.pass_obj
def populate_db(config) -> None:
    session = Session(bind=config.registry["sqlalchemy.engine"])
    for hero in session.exec(select(Hero)).all():
        hero.name = hero.name.strip()
    session.commit()
