"""`sqlmodel-production explain`: say what a database error means and how to fix it."""

from __future__ import annotations

import sys

import typer

from . import app


@app.command()
def explain(
    text: str = typer.Argument(
        ...,
        help="The error: a traceback, its last line, an SQLAlchemy error code or a SQLSTATE; - reads standard input.",
    ),
) -> None:
    """Explain a database error: which known problem it is, why it happens, the fix."""
    from sqlmodel_production.diagnostics import explain_error
    from sqlmodel_production.diagnostics.internal import render_explanations

    if text == "-":
        text = sys.stdin.read()
    explanations = explain_error(text)
    if not explanations:
        typer.echo(
            "No known problem recognized. Paste the whole traceback, or its last line, "
            "or an error code (3o7r) or SQLSTATE (40P01).",
            err=True,
        )
        raise typer.Exit(1)
    typer.echo(render_explanations(explanations))
