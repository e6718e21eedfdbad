"""The README's example runs and does what the README says."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"

CHECK = """
from fastapi.testclient import TestClient
from readme_example import Hero, app, database

with database.engine.begin() as conn:
    Hero.__table__.create(conn)
with TestClient(app) as client:
    created = client.post("/heroes/", json={"name": "Deadpond", "age": 48, "secret_name": "Dive"})
    assert created.json() == {"id": 1, "name": "Deadpond", "age": 48}, created.text
    assert client.post("/heroes/", json={"name": "Deadpond", "secret_name": "x"}).status_code == 409
    assert client.get("/heroes/", params={"age__gt": 40}).json() == [created.json()]
print("ok")
"""


def test_readme_opens_with_the_two_commands() -> None:
    first_block = re.search(r"```bash\n(.*?)```", README.read_text(), re.DOTALL)
    assert first_block is not None
    commands = [line.split("#")[0].strip() for line in first_block[1].splitlines()]
    assert commands == ["make demo", "make test"]


@pytest.mark.sqlite
def test_twenty_line_example(tmp_path: Path) -> None:
    section = README.read_text().split("## Twenty lines", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert code is not None and len(code[1].splitlines()) <= 25
    (tmp_path / "readme_example.py").write_text(code[1])
    (tmp_path / "check.py").write_text(CHECK)
    result = subprocess.run(
        [sys.executable, "-W", "error", "check.py"],
        cwd=tmp_path,
        env={
            "DATABASE_URL": f"sqlite:///{tmp_path}/readme.db",
            "PATH": "/usr/bin:/bin",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (result.returncode, result.stdout.strip()) == (0, "ok"), result.stderr
