"""What the repository returns is typed: mypy reports a row read as an object."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

SNIPPET = textwrap.dedent(
    """
    from sqlalchemy.orm import Session
    from sqlmodel import Field, SQLModel

    from sqlmodel_production.crud import Repository, Row


    class TyHero(SQLModel, table=True):
        id: int | None = Field(default=None, primary_key=True)
        name: str


    def names(session: Session) -> list[str]:
        heroes = Repository(TyHero)
        row: Row | None = heroes.read(session, 1)
        assert row is not None
        good: str = row["name"]
        page = heroes.list(session)
        return [good, page.rows[0].name]
    """
)


def test_mypy_reports_attribute_access_on_a_row(tmp_path: Path) -> None:
    path = tmp_path / "snippet.py"
    path.write_text(SNIPPET)
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    errors = [line for line in done.stdout.splitlines() if ": error:" in line]
    assert len(errors) == 1, done.stdout
    assert 'snippet.py:19: error: "dict[str, Any]" has no attribute "name"' in errors[0]
