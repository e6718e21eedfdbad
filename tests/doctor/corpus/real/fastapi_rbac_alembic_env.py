# Origin: mnaimfaizy/fastapi_rbac, backend/alembic/env.py
# at 990b9d1f12c04ac0e45947e6283564de9e8e68a9. Licence: MIT. Reduced.
# An Alembic environment: the SQL log is the migration's record, and the engine lives for one
# run, so neither the echo nor the missing pre-ping is a problem (quiet).
from alembic import context
from sqlalchemy.ext.asyncio import create_async_engine

db_url = context.config.get_main_option("sqlalchemy.url")


def do_run_migrations(connection) -> None:
    context.configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()


async def run_async_migrations() -> None:
    connectable = create_async_engine(db_url, echo=True, future=True)
    async with connectable.connect() as connection:
        await connection.run_sync(do_run_migrations)
