"""The bulk-insert benchmark's plumbing: every way inserts every row, each round is kept.

No timing is asserted: only that the rounds alternate, every round counted its
rows (`_timed` raises if the table holds another number) and the cell shown is
one of them.
"""

from __future__ import annotations

import pytest

from bench._bulk import _median, run_bulk
from bench._data import load
from sqlmodel_production.db import Backend


@pytest.mark.only(Backend.POSTGRESQL)
def test_each_way_inserts_its_rows_every_round(
    backend: Backend, database_url: str
) -> None:
    load(database_url, 10)  # the teams the rows refer to
    result = run_bulk(database_url, rows=300, per_row=20, rounds=3)
    ways = {"copy": 300, "create_many": 300, "create_many_async": 300}
    ways["commit_per_row"] = 20
    assert set(result) == set(ways)
    for key, rows in ways.items():
        cell = result[key]
        assert cell["rows"] == rows
        assert len(cell["rounds"]) == 3
        assert round(cell["rows_per_s"]) in cell["rounds"]


def test_the_median_round_is_shown_with_all_rounds() -> None:
    cells = [
        {"rows": 5, "seconds": s, "rows_per_s": 5 / s} for s in (1.0, 5.0, 2.0, 4.0)
    ]
    median = _median(cells)
    assert median["seconds"] == 4.0  # rows/s 5, 1, 2.5, 1.25: the lower middle
    assert median["rounds"] == [5, 1, 2, 1]
