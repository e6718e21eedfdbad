# Origin: polarsource/polar, server/polar/checkout/schemas.py, server/polar/kit/db/postgres.py,
# server/polar/models/organization.py, server/polar/integrations/github_repository_benefit/
# service.py, server/polar/oauth2/mcp_client.py, server/scripts/{db,touch_customer_search_vector,
# migrate_organizations_members}.py at c6c3645e639ee8eeaa05aa0835cf8e39e330382f.
# Licence: Apache-2.0. Reduced and merged; SQLAlchemy models written as SQLModel tables.
from pydantic import BaseModel
from sqlalchemy import BigInteger, Column, create_engine, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import Field, SQLModel

from .settings import engine, get_sync_postgres_dsn, settings

# Sessions keep their objects' values on commit.
sessionmaker = async_sessionmaker(engine, expire_on_commit=False)


class Organization(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=255)
    # No client-side default: the INSERT leaves it out and the database writes 0.
    total_balance: int | None = Field(
        sa_column=Column(BigInteger, nullable=True, server_default="0")
    )


class Customer(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    search_vector: str | None = Field(default=None, max_length=255)


class CheckoutBase(BaseModel):
    id: str
    # The payment's client secret is the client's (quiet).
    client_secret: str


class CheckoutPublicConfirmed(CheckoutBase):
    # Handed to the customer once the checkout is confirmed (quiet).
    customer_session_token: str


async def link_account(session: AsyncSession, oauth_account: Organization) -> None:
    # A savepoint's commit expires nothing (quiet).
    nested = await session.begin_nested()
    try:
        session.add(oauth_account)
        await nested.commit()
        await session.flush()
    except IntegrityError:
        await nested.rollback()
    print(oauth_account.name)


async def create_client(session: AsyncSession) -> None:
    # Nothing expired, and `name` is the client's own value (quiet).
    organization = Organization(name="Polar MCP Client")
    session.add(organization)
    await session.commit()
    print(organization.name)


async def open_organization(session: AsyncSession) -> int | None:
    organization = Organization(name="Acme")
    session.add(organization)
    await session.commit()
    # Filled in by the database, and fetched by the INSERT itself: SQLAlchemy 2.0 reads server
    # defaults back with RETURNING (eager_defaults="auto"; checked on PostgreSQL, SQLite and
    # MariaDB), so the kept object holds it (quiet; an earlier version flagged it).
    return organization.total_balance


def grant_read_user_permissions() -> None:
    # A one-off engine: created, used and dropped in one call (quiet).
    engine = create_engine(get_sync_postgres_dsn())
    with engine.connect() as conn:
        conn.execute(text(f"GRANT USAGE ON SCHEMA public TO {settings.READ_USER}"))


async def touch_search_vectors(session: AsyncSession, batch_size: int) -> None:
    # One transaction per page of rows, on purpose (quiet).
    while True:
        batch_ids = (
            await session.execute(
                text("SELECT id FROM customers WHERE search_vector IS NULL LIMIT :n"),
                {"n": batch_size},
            )
        ).scalars().all()
        if not batch_ids:
            break
        await session.execute(
            update(Customer).values(search_vector=None).where(Customer.id.in_(batch_ids))
        )
        await session.commit()


async def migrate_members(organizations: list[Organization]) -> None:
    # Each organization in its own session, so that progress survives a failure (quiet).
    for org in organizations:
        async with sessionmaker() as session:
            session.add(Organization(name=org.name))
            await session.commit()
