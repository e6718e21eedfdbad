from sqlalchemy import create_engine

engine = create_engine(DATABASE_URL, echo=False, pool_pre_ping=True)
verbose = create_engine(DATABASE_URL, echo=settings.echo, pool_pre_ping=True)
