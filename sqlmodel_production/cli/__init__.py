"""The `sqlmodel-production` command line."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="sqlmodel-production",
    help="Production tooling for SQLModel + FastAPI services.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def main() -> None:
    """Entry point of the console script."""
    _register_commands()
    app()


def _register_commands() -> None:
    # Each command module is imported only here, so `import sqlmodel_production.cli` stays cheap.
    from . import _demo  # noqa: F401


__all__ = ["app", "main"]
