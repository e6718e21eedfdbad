"""Run Alembic's commands on a project in a fresh interpreter, as its CLI would.

`python tests/test_docs/_alembic_run.py PROJECT STEPS_JSON`, where each step is
`["init", template, env_py, models_py]` (`alembic init -t template migrations`, then
the project's `env.py` and `app/models.py` copied in), `["models", models_py]` (the
models changed: the next run sees them), `["revision", url, message]`
(`alembic revision --autogenerate -m message`), `["upgrade", url]`, `["downgrade", url]` (to base), `["upgrade-sql", url]`
(`alembic upgrade head --sql`) or `["check", url]`. Prints one JSON object a step:
`{"step": ..., "error": None or the message}`; the first failing step ends the run.
A fresh interpreter, because autogenerate compares every table of `SQLModel.metadata`,
and the test process holds other tests' tables.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import sys
from pathlib import Path

from alembic import command
from alembic.config import Config


def run(project: Path, steps: list[list[str]]) -> None:
    os.chdir(project)
    sys.path.insert(0, str(project))
    config_file = str(project / "alembic.ini")
    for step in steps:
        kind, *args = step
        output = io.StringIO()
        config = Config(config_file, stdout=output)
        error = None
        try:
            if kind == "init":
                template, env_py, models_py = args
                command.init(config, str(project / "migrations"), template=template)
                shutil.copy(env_py, project / "migrations" / "env.py")
                (project / "app").mkdir()
                (project / "app" / "__init__.py").touch()
                shutil.copy(models_py, project / "app" / "models.py")
            elif kind == "models":
                shutil.copy(args[0], project / "app" / "models.py")
            else:
                os.environ["DATABASE_URL"] = args[0]
                if kind == "revision":
                    command.revision(config, message=args[1], autogenerate=True)
                elif kind == "upgrade":
                    command.upgrade(config, "head")
                elif kind == "downgrade":
                    command.downgrade(config, "base")
                elif kind == "upgrade-sql":
                    with contextlib.redirect_stdout(output):
                        command.upgrade(config, "head", sql=True)
                elif kind == "check":
                    command.check(config)
                else:
                    raise ValueError(f"unknown step {kind!r}")
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
        sys.stdout.write(
            json.dumps({"step": step, "error": error, "output": output.getvalue()})
            + "\n"
        )
        sys.stdout.flush()
        if error is not None:
            return


if __name__ == "__main__":
    run(Path(sys.argv[1]), json.loads(sys.argv[2]))
