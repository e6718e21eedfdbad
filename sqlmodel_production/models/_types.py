"""`UTCDateTime` and `utcnow()`: UTC timestamps that read back the same on every backend."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

from sqlmodel_production.db.internal import current_utc, profile_of

__all__ = ["UTCDateTime", "integer_range", "utcnow"]


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """A datetime column that stores UTC and always returns an aware UTC `datetime`.

    PostgreSQL stores `TIMESTAMP WITH TIME ZONE`; MariaDB (`DATETIME(6)`, as its
    profile compiles every datetime) and SQLite have no time zone, so the value is
    stored as naive UTC and marked UTC again when read. Naive values are refused on the way in: their zone is a guess.
    """

    # The public path, which Alembic writes into migrations: `sqlmodel_production.models.UTCDateTime()`.
    __module__ = "sqlmodel_production.models"

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def __repr__(self) -> str:
        # What Alembic writes into a migration after the module: it takes no arguments.
        return "UTCDateTime()"

    def process_bind_param(
        self, value: datetime | None, dialect: Dialect
    ) -> datetime | None:
        if value is None:
            return None
        if value.utcoffset() is None:
            raise ValueError(
                f"naive datetime {value.isoformat()} for a UTCDateTime column; "
                "pass an aware one, e.g. datetime.now(UTC)"
            )
        value = value.astimezone(UTC)
        return (
            value if profile_of(dialect.name).time_zones else value.replace(tzinfo=None)
        )

    def process_result_value(
        self, value: datetime | None, dialect: Dialect
    ) -> datetime | None:
        if value is None:
            return None
        if value.utcoffset() is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class utcnow(current_utc):
    """The database's current UTC time, with microseconds where the backend has them.

    Renders `now()` on PostgreSQL (a `timestamptz`, start of the transaction),
    `UTC_TIMESTAMP(6)` on MariaDB (independent of the session time zone) and
    `strftime('%Y-%m-%d %H:%M:%f000', 'now')` on SQLite (UTC, milliseconds, written
    with six digits as SQLAlchemy writes bound values: SQLite compares them as text,
    so a value read back and sent again must match itself).
    Usable as a `server_default`, an `onupdate` and in statements:
    `update(Hero).values(updated_at=utcnow())`. Each backend's profile renders it.
    """

    __module__ = "sqlmodel_production.models"

    type = UTCDateTime()
    inherit_cache = True


# The range of each integer column type: checked at the edge, a larger number is a 422
# from validation, not an overflow in the driver or an "out of range" from the server.
_INTEGER_RANGES = (
    (sa.SmallInteger, 2**15),
    (sa.BigInteger, 2**63),
    (sa.Integer, 2**31),
)


def integer_range(type_: sa.types.TypeEngine[Any]) -> tuple[int, int] | None:
    """The smallest and largest value an integer column type holds on every backend; None for other types.

    Example:
        `integer_range(sa.Integer())` is `(-2147483648, 2147483647)`.
    """
    for integer_type, limit in _INTEGER_RANGES:
        if isinstance(type_, integer_type):
            return -limit, limit - 1
    return None
