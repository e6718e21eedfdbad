# Origin: tyvekzhang/fastapi-sqlmodel-starter, src/main/app/common/schema/schema.py and
# src/main/app/factory/sqlsession_factory.py at b7aabf7401d7a4e233ce697a7757b492ee5eaaf1.
# Licence: MIT. Reduced.
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.orm import sessionmaker
from sqlmodel import SQLModel

from .config import configs


# The login's answer (quiet).
class Token(SQLModel):
    access_token: str
    token_type: str
    refresh_token: str


@asynccontextmanager
async def db_session(db_url=None):
    # An engine per call: nothing pooled goes stale (no pre-ping needed), but every statement
    # of every call is logged.
    if db_url is None:
        db_url = configs.sqlalchemy_database_url
    engine = create_async_engine(db_url, echo=True)  # expect: SMP003
    async_session = sessionmaker(bind=engine, class_=AsyncSession, autocommit=False)
    async with async_session() as session:
        yield session
    await engine.dispose()
