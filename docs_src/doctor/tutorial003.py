import sqlalchemy as sa
from sqlmodel import create_engine


def has_table(url: str, name: str) -> bool:
    """A maintenance check run by hand: its SQL is what the operator wants to see."""
    engine = create_engine(url, echo=True)  # noqa: SMP003 (run by hand, never in the app)
    try:
        with engine.connect() as conn:
            return sa.inspect(conn).has_table(name)
    finally:
        engine.dispose()
