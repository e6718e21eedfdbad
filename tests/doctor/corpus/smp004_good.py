import sqlalchemy as sa
from sqlalchemy.pool import NullPool, StaticPool
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import create_engine

from sqlmodel_production import DatabaseSettings
from sqlmodel_production import create_engine as tuned_engine

engine = create_engine(DATABASE_URL, pool_pre_ping=True)
files = sa.create_engine("sqlite:///app.db")
unpooled = sa.create_engine(DATABASE_URL, poolclass=NullPool)
configured = sa.create_engine(DATABASE_URL, **options)
ours = tuned_engine(DatabaseSettings())


sqlite_url = f"sqlite:///{FILE_NAME}"
local_engine = create_engine(sqlite_url)
test_engine = create_engine(TEST_URL, connect_args={"check_same_thread": False})


def wait_for_database(url: str) -> None:
    # A start-up probe: the engine lives for this call only.
    probe = create_engine(url)
    with probe.connect() as connection:
        connection.exec_driver_sql("SELECT 1")
    probe.dispose()


# An engine built by a function that says it is SQLite's (the pattern of
# Arize-ai/phoenix's src/phoenix/db/engines.py, written anew).
def aio_sqlite_engine(url: sa.URL):
    return create_async_engine(url=url, pool_size=4, pool_pre_ping=False)


# privacyidea's pattern: the fallback when the pool refuses `pool_size` (SQLite's).
def registry_engine(url: str):
    try:
        return create_engine(url, pool_size=5, pool_pre_ping=True)
    except TypeError:
        return create_engine(url)


# bluesky/tiled's pattern: the in-memory SQLite branch keeps one connection (StaticPool).
def open_pool(uri: str):
    if is_memory_sqlite(uri):
        return create_async_engine(uri, poolclass=StaticPool)
    return create_async_engine(uri, pool_size=5, pool_pre_ping=True)


def open_pool_for_tests(uri: str):
    if uri.startswith("sqlite"):
        return create_async_engine(uri)
    return create_async_engine(uri, pool_pre_ping=True)


# RamiAwar/dataline's pattern: the URL comes from a helper that says it is SQLite's.
app_engine = create_async_engine(get_sqlite_dsn_async("dataline.db"))
