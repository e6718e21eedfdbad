import sqlalchemy as sa
from sqlmodel import create_engine


def has_table(url: str, name: str) -> bool:
    """A one-shot maintenance check: it opens one new connection and exits."""
    engine = create_engine(url)  # noqa: SMP004 (one fresh connection, nothing to ping)
    try:
        with engine.connect() as conn:
            return sa.inspect(conn).has_table(name)
    finally:
        engine.dispose()
