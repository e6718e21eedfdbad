from sqlmodel import Session, create_engine
from sqlalchemy.orm import sessionmaker

engine = create_engine(DATABASE_URL, pool_pre_ping=True)
SessionLocal = sessionmaker(engine)
global_session = Session(engine)  # expect: SMP016


def count_heroes() -> int:
    session = Session(engine)  # expect: SMP016
    count = len(session.exec(select(Hero.id)).all())
    session.close()
    return count


def ping() -> None:
    connection = engine.connect()  # expect: SMP016
    connection.exec_driver_sql("SELECT 1")


def names() -> list[str]:
    return Session(engine).exec(select(Hero.name)).all()  # expect: SMP016


def factory_made() -> None:
    db = SessionLocal()  # expect: SMP016
    db.exec(select(Hero)).all()


async def is_database_up(async_engine: AsyncEngine) -> bool:
    # An async connection dropped unclosed cannot be given back by the garbage collector.
    try:
        await async_engine.connect()  # expect: SMP016
        return True
    except Exception:
        return False
