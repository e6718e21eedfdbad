"""Tests of the repository layer; the table and rows below are shared by its query-building tests."""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from sqlmodel_production.models import UTCDateTime


class QxItem(SQLModel, table=True):
    """A nullable int, a nullable string, a mixed-case string, a datetime and an int key."""

    __tablename__ = "qx_item"

    id: int = Field(primary_key=True)
    age: int | None = None
    name: str | None = Field(default=None, max_length=20)
    code: str = Field(max_length=20)
    seen_at: datetime = Field(sa_type=UTCDateTime)


QX_TABLE: sa.Table = QxItem.__table__  # type: ignore[attr-defined]
BASE_TIME = datetime(2024, 3, 1, 12, tzinfo=UTC)
# Lower-case ASCII letters only: every backend's collation sorts them as Python does.
NAMES = ("alpha", "bravo", "charlie", "delta", None)
# Mixed case and LIKE wildcards as data, for the pattern filters.
CODES = ("Ab", "ab", "AB", "x%y", "x_y", "xy")


def _row(i: int) -> dict[str, Any]:
    return {
        "id": i,
        "age": None if i % 5 == 0 else (i * 7) % 9,  # 12 NULLs, 0..8 repeated
        "name": NAMES[(i // 2) % 5],
        "code": f"{CODES[i % 6]}{i % 3}",
        "seen_at": BASE_TIME + timedelta(hours=i % 9, microseconds=i % 4),
    }


ROWS: tuple[dict[str, Any], ...] = tuple(_row(i) for i in range(1, 61))


@contextmanager
def qx_table(conn: sa.Connection) -> Iterator[None]:
    """Create `qx_item` holding `ROWS` (inserted out of order), and drop it afterwards."""
    SQLModel.metadata.create_all(conn, tables=[QX_TABLE])
    conn.commit()
    try:
        shuffled = list(ROWS)
        random.Random(3).shuffle(shuffled)  # the physical order must not look sorted
        conn.execute(sa.insert(QX_TABLE), shuffled)
        conn.commit()
        yield
    finally:
        conn.rollback()
        SQLModel.metadata.drop_all(conn, tables=[QX_TABLE])
        conn.commit()


def python_order(
    rows: Sequence[dict[str, Any]], spec: Sequence[tuple[str, bool]]
) -> list[int]:
    """The ids of `rows` sorted by (field, descending) pairs, NULLs last both ways, then by id."""
    result = sorted(rows, key=lambda row: row["id"])
    for name, descending in reversed(spec):
        # (False, None) never meets (False, value): NULLs only tie with NULLs.
        result.sort(
            key=lambda row: (row[name] is not None, row[name]), reverse=descending
        )
        result.sort(key=lambda row: row[name] is None)  # stable: NULLs last, both ways
    return [row["id"] for row in result]
