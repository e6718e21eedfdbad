import sqlalchemy as sa
from sqlalchemy.pool import NullPool
from sqlmodel import create_engine

from sqlmodel_production import DatabaseSettings
from sqlmodel_production import create_engine as tuned_engine

engine = create_engine(DATABASE_URL, pool_pre_ping=True)
files = sa.create_engine("sqlite:///app.db")
unpooled = sa.create_engine(DATABASE_URL, poolclass=NullPool)
configured = sa.create_engine(DATABASE_URL, **options)
ours = tuned_engine(DatabaseSettings())
