"""Run FastAPI's full-stack template's own backend tests against its port onto sqlmodel-production.

`acceptance/full-stack-fastapi-template/` holds the template's backend at a pinned
commit (MIT, its licence beside it), ported as `docs/porting.md` says. This
script gives it a fresh PostgreSQL database, runs its Alembic migrations, then
its own tests, unchanged, and prints what they say. Exit status: pytest's.

    python acceptance/run_template.py              # the whole suite
    python acceptance/run_template.py -k items     # pytest's options pass through

Run it with a Python that has the template's dependencies and the package
(`make template-acceptance` makes that venv, `.venv-template`).
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg

BACKEND = Path(__file__).resolve().parent / "full-stack-fastapi-template" / "backend"
SERVER = os.environ.get("TEMPLATE_POSTGRES", "postgresql://postgres@127.0.0.1:5432")


def main(argv: list[str]) -> int:
    # The template's image builds its frontend into app/frontend; the tests need only the folder.
    (BACKEND / "app" / "frontend").mkdir(exist_ok=True)
    name = f"fst_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    env = {
        **os.environ,
        "DATABASE_URL": f"{SERVER}/{name}",
        "SECRET_KEY": secrets.token_urlsafe(32),
        "FIRST_SUPERUSER_PASSWORD": secrets.token_urlsafe(16),
        "FASTAPI_ENV": "development",  # as the template's scripts/test.sh runs them
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONPATH": str(BACKEND),  # the template installs its `app` package
    }
    try:
        for step in (
            [sys.executable, "app/tests_pre_start.py"],
            [sys.executable, "-m", "alembic", "upgrade", "head"],
            # The template's own pytest settings (none), not this repository's.
            [sys.executable, "-m", "pytest", "-c", "pyproject.toml", "tests/", "-p", "no:cacheprovider", *argv],
        ):
            code = subprocess.run(step, cwd=BACKEND, env=env).returncode
            if code:
                return code
        return 0
    finally:
        with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
