from logging.config import fileConfig

from alembic import context
from app import models  # noqa: F401  (the table models, so autogenerate sees them)
from sqlmodel import SQLModel

from sqlmodel_production import DatabaseSettings
from sqlmodel_production.db import sync_url
from sqlmodel_production.migrations import alembic_options, migration_engine

config = context.config
if config.config_file_name is not None:
    fileConfig(config.config_file_name)

# DATABASE_URL ... from the environment or .env, as the application reads them.
settings = DatabaseSettings()


def run_migrations_offline() -> None:
    """Write the SQL of the migrations instead of running it (`alembic upgrade head --sql`)."""
    context.configure(
        url=sync_url(settings.database_url),
        target_metadata=SQLModel.metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        **alembic_options(),
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run the migrations on the database, one connection, in a transaction."""
    engine = migration_engine(settings)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=SQLModel.metadata,
            **alembic_options(),
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
