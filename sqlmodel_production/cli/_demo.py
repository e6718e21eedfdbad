"""`sqlmodel-production demo`: serve the reference Heroes service."""

from __future__ import annotations

from typing import Annotated

import typer

from . import app


@app.command()
def demo(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    sample_data: Annotated[
        bool,
        typer.Option(
            "--sample-data",
            help="Add a few heroes, teams and a mission when the database is empty.",
        ),
    ] = False,
    sync: Annotated[
        bool,
        typer.Option(
            "--sync",
            help="Serve the sync endpoints (Session) instead of the async ones.",
        ),
    ] = False,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            help="Worker processes (uvicorn's); each has its own pools: size them with "
            "POOL_SIZE so that workers x (POOL_SIZE + MAX_OVERFLOW) fits the server.",
        ),
    ] = 1,
    shutdown_timeout: Annotated[
        int,
        typer.Option(
            envvar="SHUTDOWN_TIMEOUT",
            min=0,
            help="Seconds a worker waits, after SIGTERM, for the requests in flight and "
            "open keep-alive connections before it cancels what is left and exits. Keep "
            "it below the orchestrator's grace period (30 s in Kubernetes).",
        ),
    ] = 10,
) -> None:
    """Serve the reference Heroes service on DATABASE_URL (a SQLite file by default).

    Creates the tables if they do not exist. On SIGTERM or Ctrl+C the requests
    in flight finish and the pools are closed before the process exits; after
    `--shutdown-timeout` seconds, what is still running is cancelled (its client
    sees the connection close, never a success without its write).
    """
    import uvicorn

    from sqlmodel_production.db import Database
    from sqlmodel_production.demo.app import create_app
    from sqlmodel_production.demo.sample_data import add_sample_data, create_tables

    database = Database()
    create_tables(database)
    if sample_data:
        with database.session() as session:
            added = add_sample_data(session)
        typer.echo(
            "Added sample data."
            if added
            else "Sample data skipped: the database has rows already."
        )
    database.engine.dispose()
    typer.echo(f"Database: {database.engine_url.render_as_string(hide_password=True)}")
    typer.echo(
        f"Serving the {'sync' if sync else 'async'} endpoints; docs at http://{host}:{port}/docs"
    )
    if workers > 1:
        # Each worker process imports the app itself, and reads the same environment.
        factory = "sqlmodel_production.demo.app:" + (
            "sync_app" if sync else "async_app"
        )
        uvicorn.run(
            factory,
            factory=True,
            workers=workers,
            host=host,
            port=port,
            log_level="info",
            timeout_graceful_shutdown=shutdown_timeout,
        )
        return
    uvicorn.run(
        create_app(database, async_=not sync),
        host=host,
        port=port,
        log_level="info",
        timeout_graceful_shutdown=shutdown_timeout,
    )
