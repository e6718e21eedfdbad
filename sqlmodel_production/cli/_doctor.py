"""`sqlmodel-production doctor`: check a project against the production rules."""

from __future__ import annotations

import enum
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from . import app

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, TaskID

    from sqlmodel_production.doctor import Config, Runtime


class OutputFormat(enum.StrEnum):
    TEXT = "text"
    JSON = "json"
    SARIF = "sarif"


@app.command()
def doctor(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(
            metavar="PATH...", help="Files or folders to check.", show_default="."
        ),
    ] = None,
    app_spec: Annotated[
        str | None,
        typer.Option(
            "--app",
            metavar="MODULE:APP",
            help="Import the app for run-time checks: foreign key indexes in the metadata, pool sizes.",
        ),
    ] = None,
    database_url: Annotated[
        str | None,
        typer.Option(help="Compare the pool sizes with this server's max_connections."),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Worker processes sharing the server.",
            show_default="$WEB_CONCURRENCY or 1",
        ),
    ] = None,
    select: Annotated[
        str | None,
        typer.Option(
            metavar="CODES", help="Run only these codes or prefixes (comma separated)."
        ),
    ] = None,
    ignore: Annotated[
        str | None,
        typer.Option(
            metavar="CODES", help="Skip these codes or prefixes (comma separated)."
        ),
    ] = None,
    severity: Annotated[
        str | None,
        typer.Option(
            metavar="LEVEL",
            help="Exit with 1 for findings at or above this level: info, warning, error.",
            show_default="warning",
        ),
    ] = None,
    output_format: Annotated[
        OutputFormat, typer.Option("--format", help="Output format.")
    ] = OutputFormat.TEXT,
    explain: Annotated[
        str | None,
        typer.Option(
            metavar="CODE", help="Print a rule's rationale and examples, then exit."
        ),
    ] = None,
) -> None:
    """Check a SQLModel + FastAPI project against the production rules.

    Exits with 1 when there are findings at or above the chosen severity, 0 otherwise, 2 for usage errors.

    Settings come from the tool.sqlmodel-production.doctor table of pyproject.toml; silence a line with `# noqa: SMP001`.
    """
    from rich.console import Console

    from sqlmodel_production import __version__
    from sqlmodel_production.doctor import RULES_BY_CODE, DoctorUsageError, check
    from sqlmodel_production.doctor.internal import (
        render_explain,
        render_json,
        render_sarif,
        render_text,
    )

    console, errors = Console(), Console(stderr=True)
    if explain is not None:
        rule = RULES_BY_CODE.get(explain.strip().upper())
        if rule is None:
            _usage_error(errors, f"--explain: unknown rule code {explain!r}")
        render_explain(rule, console)
        return
    targets = paths or [Path(".")]
    progress = _Progress(errors)
    try:
        config = _config(targets, select, ignore, severity)
        runtime = _runtime(targets, config, app_spec, database_url, workers)
        report = check(targets, config, runtime=runtime, progress=progress)
    except DoctorUsageError as exc:
        _usage_error(errors, str(exc))
    finally:
        progress.close()
    if output_format is OutputFormat.JSON:
        typer.echo(render_json(report.findings))
    elif output_format is OutputFormat.SARIF:
        typer.echo(render_sarif(report.findings, config.rules, __version__))
    else:
        render_text(report, config.severity, console)
    if output_format is not OutputFormat.TEXT:
        for notice in report.notices:
            errors.print(
                f"Note: {notice}", soft_wrap=True, markup=False, highlight=False
            )
    if report.failing(config.severity):
        raise typer.Exit(1)


def _usage_error(errors: Console, message: str) -> NoReturn:
    errors.print(
        f"Error: {message}", style="red", soft_wrap=True, markup=False, highlight=False
    )
    raise typer.Exit(2)


def _config(
    targets: list[Path], select: str | None, ignore: str | None, severity: str | None
) -> Config:
    from sqlmodel_production.doctor import load_config
    from sqlmodel_production.doctor.internal import parse_codes, parse_severity

    config = load_config(targets[0])
    return config.override(
        select=None if select is None else parse_codes(select, option="--select"),
        ignore=None if ignore is None else parse_codes(ignore, option="--ignore"),
        severity=None
        if severity is None
        else parse_severity(severity, option="--severity"),
    )


def _runtime(
    targets: list[Path],
    config: Config,
    app_spec: str | None,
    database_url: str | None,
    workers: int | None,
) -> Runtime | None:
    if app_spec is None and database_url is None:
        return None
    from sqlmodel_production.doctor import DoctorUsageError, Runtime
    from sqlmodel_production.doctor.internal import Pool, import_app, server_limits

    roots = tuple(path.resolve() for path in targets)
    for path in targets:
        if not path.exists():
            raise DoctorUsageError(f"Path does not exist: {path}")
    environment = os.environ.get("WEB_CONCURRENCY", "")
    count = (
        workers or config.workers or (int(environment) if environment.isdigit() else 1)
    )
    runtime = Runtime(roots, workers=max(count, 1))
    if app_spec is not None:
        runtime.modules = import_app(app_spec, roots)
    if database_url is not None:
        from sqlmodel_production.db import DatabaseSettings
        from sqlmodel_production.doctor.internal import display_path

        runtime.limits = server_limits(database_url)
        # Used when no engine or `Database` exists at import (none, or made in a factory).
        settings = DatabaseSettings(database_url=database_url)
        runtime.pooler_setting = settings.database_pooler.value
        where = display_path(
            config.root / "pyproject.toml" if config.root else targets[0]
        )
        label = "DatabaseSettings (POOL_SIZE, MAX_OVERFLOW)"
        runtime.fallback_pools = [
            Pool(where, 1, label, settings.pool_size, settings.max_overflow)
        ]
    return runtime


class _Progress:
    """A transient progress bar on stderr, only on a terminal and only for many files."""

    threshold = 200

    def __init__(self, console: Console) -> None:
        self.console = console
        self.bar: Progress | None = None
        self.task: TaskID | None = None

    def __call__(self, done: int, total: int) -> None:
        if total < self.threshold or not self.console.is_terminal:
            return
        if self.bar is None:
            from rich.progress import Progress

            self.bar = Progress(console=self.console, transient=True)
            self.bar.start()
            self.task = self.bar.add_task("Checking files", total=total)
        assert self.task is not None
        self.bar.update(self.task, completed=done)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()
            self.bar = None
