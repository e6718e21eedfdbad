import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import create_engine

engine = create_engine(DATABASE_URL)  # expect: SMP004
other = sa.create_engine(DATABASE_URL, pool_size=10)  # expect: SMP004
async_engine = create_async_engine(DATABASE_URL, pool_pre_ping=False)  # expect: SMP004
settings = DatabaseSettings(pool_pre_ping=False)  # expect: SMP004


def registry_engine(url: str):
    try:
        return create_engine(url, pool_size=5)  # expect: SMP004
    except TypeError:
        return create_engine(url)


def open_pool(uri: str):
    if uri.startswith("sqlite"):
        return create_async_engine(uri, pool_pre_ping=True)
    return create_async_engine(uri, pool_size=5)  # expect: SMP004
