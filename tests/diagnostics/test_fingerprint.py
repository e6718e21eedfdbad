from __future__ import annotations

import pytest

from sqlmodel_production.diagnostics import fingerprint


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        ("SELECT * FROM hero WHERE id = 42", "SELECT * FROM hero WHERE id = ?"),
        (
            "SELECT * FROM hero WHERE name = 'O''Brien'",
            "SELECT * FROM hero WHERE name = ?",
        ),
        (
            "SELECT a FROM t WHERE x = ? AND y = ?",
            "SELECT a FROM t WHERE x = ? AND y = ?",
        ),
        ("SELECT a FROM t WHERE x = %s", "SELECT a FROM t WHERE x = ?"),
        ("SELECT a FROM t WHERE x = %(x_1)s", "SELECT a FROM t WHERE x = ?"),
        (
            "SELECT a FROM t WHERE x = $1::INTEGER",
            "SELECT a FROM t WHERE x = ?::INTEGER",
        ),
        ("SELECT a FROM t WHERE x = :x_1", "SELECT a FROM t WHERE x = ?"),
        ("SELECT a FROM t WHERE id IN (1, 2, 3)", "SELECT a FROM t WHERE id IN (...)"),
        ("SELECT a FROM t WHERE id IN (%s, %s)", "SELECT a FROM t WHERE id IN (...)"),
        (
            "INSERT INTO t (a, b) VALUES (?, ?), (?, ?), (?, ?)",
            "INSERT INTO t (a, b) VALUES (...)",
        ),
        ("SELECT a\n  FROM t -- why\n WHERE b = 1.5e3", "SELECT a FROM t WHERE b = ?"),
        ("SELECT t2.a_1 FROM t2 /* hint */ LIMIT 10", "SELECT t2.a_1 FROM t2 LIMIT ?"),
        ("SAVEPOINT sa_savepoint_1", "SAVEPOINT sa_savepoint_1"),
    ],
)
def test_fingerprint_strips_values_keeps_shape(statement: str, expected: str) -> None:
    assert fingerprint(statement) == expected


def test_same_shape_same_fingerprint_different_shape_different() -> None:
    a = fingerprint("SELECT * FROM hero WHERE id = 1")
    assert a == fingerprint("SELECT * FROM hero WHERE id = 2")
    assert a != fingerprint("SELECT * FROM team WHERE id = 1")
