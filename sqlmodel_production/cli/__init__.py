"""The `sqlmodel-production` command line.

Each command lives in its own module and registers itself on `app`; command
modules import their heavy dependencies (uvicorn, the reference app, rich)
inside the command function, so `--help` stays fast.
"""

from __future__ import annotations

import typer

app = typer.Typer(
    name="sqlmodel-production",
    help="Production tooling for SQLModel + FastAPI services.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    """Production tooling for SQLModel + FastAPI services."""


def main() -> None:
    """Entry point of the console script."""
    app()


# Command modules register themselves on `app` when imported.
from . import _demo, _doctor, _explain  # noqa: E402,F401

__all__ = ["app", "main"]
