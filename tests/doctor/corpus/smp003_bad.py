from sqlalchemy import create_engine
from sqlalchemy.ext.asyncio import create_async_engine

engine = create_engine(DATABASE_URL, echo=True, pool_pre_ping=True)  # expect: SMP003
async_engine = create_async_engine(
    DATABASE_URL,
    echo="debug",  # expect: SMP003
    pool_pre_ping=True,
)
engine.echo = True  # expect: SMP003
