"""The README's example runs and does what the README says."""

from __future__ import annotations

import contextlib
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa

from sqlmodel_production.db import Backend, sync_url

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"

CHECK = """
from fastapi.testclient import TestClient
from readme_example import Hero, app, database

try:
    with TestClient(app) as client:
        hero = {"name": "Deadpond", "age": 48, "secret_name": "Dive Wilson"}
        created = client.post("/heroes/", json=hero)
        assert created.status_code == 200, created.text
        assert created.json() == {"id": 1, "name": "Deadpond", "age": 48}
        assert client.get("/heroes/1").json() == created.json()
        duplicate = client.post("/heroes/", json={"name": "Deadpond", "secret_name": "x"})
        assert duplicate.status_code == 409, duplicate.text
        assert client.get("/heroes/", params={"age__gt": 40}).json() == [created.json()]
finally:
    Hero.__table__.drop(database.engine)
    database.engine.dispose()
print("ok")
"""


def test_readme_opens_with_the_two_commands() -> None:
    first_block = re.search(r"```bash\n(.*?)```", README.read_text(), re.DOTALL)
    assert first_block is not None
    commands = [line.split("#")[0].strip() for line in first_block[1].splitlines()]
    assert commands == ["make demo", "make test"]


@contextlib.contextmanager
def _own_database(backend: Backend, database_url: str) -> Iterator[str]:
    """A database of the example's own: its `hero` is no other test's `hero`."""
    if backend is Backend.SQLITE:
        yield database_url
        return
    name = f"smp_readme_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(sync_url(database_url), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"CREATE DATABASE {name}")
        yield (
            sa.make_url(database_url)
            .set(database=name)
            .render_as_string(hide_password=False)
        )
    finally:
        with admin.connect() as conn:
            force = " WITH (FORCE)" if backend is Backend.POSTGRESQL else ""
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}{force}")
        admin.dispose()


def test_twenty_line_example(
    backend: Backend, database_url: str, tmp_path: Path
) -> None:
    """The snippet as written, its table made by its own create_all, on each database."""
    section = README.read_text().split("## Twenty lines", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert code is not None and len(code[1].splitlines()) <= 25
    (tmp_path / "readme_example.py").write_text(code[1])
    (tmp_path / "check.py").write_text(CHECK)
    with _own_database(backend, database_url) as url:
        result = subprocess.run(
            [sys.executable, "-W", "error", "check.py"],
            cwd=tmp_path,
            env={"DATABASE_URL": url, "PATH": "/usr/bin:/bin"},
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert (result.returncode, result.stdout.strip()) == (0, "ok"), result.stderr
