"""Run-time rules: foreign keys in the imported metadata, pool sizes against the real servers."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sqlmodel_production.cli import app
from sqlmodel_production.db import Backend, sync_url
from sqlmodel_production.doctor import Config, Finding, Runtime, check
from sqlmodel_production.doctor._runtime import import_app, server_limits
from sqlmodel_production.doctor.rules import RULES_BY_CODE, PoolSizingRule
from tests._topology import at_port, require

DECLARATIVE = """\
from sqlalchemy import ForeignKey
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Team(Base):
    __tablename__ = "team"
    id: Mapped[int] = mapped_column(primary_key=True)


class Hero(Base):
    __tablename__ = "hero"
    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("team.id"))
    mentor_id: Mapped[int | None] = mapped_column(ForeignKey("hero.id"), index=True)


app = object()
"""


def write_module(folder: Path, source: str) -> str:
    """Write an app module with a name no other test uses; return `module:app`."""
    name = f"doctor_app_{uuid.uuid4().hex[:8]}"
    (folder / f"{name}.py").write_text(source)
    return f"{name}:app"


def runtime_findings(runtime: Runtime) -> list[Finding]:
    return list(RULES_BY_CODE["SMP005"].check_runtime(runtime))


def test_metadata_foreign_keys_without_index(tmp_path: Path) -> None:
    # Plain SQLAlchemy models: the static rule reads them, and the metadata shows the
    # same key, reported once (at the static finding's column).
    spec = write_module(tmp_path, DECLARATIVE)
    roots = (tmp_path.resolve(),)
    runtime = Runtime(roots, modules=import_app(spec, roots))
    report = check([tmp_path], Config(select=frozenset({"SMP005"})), runtime=runtime)
    assert [(Path(f.path).name, f.line, f.code) for f in report.findings] == [
        (f"{spec.partition(':')[0]}.py", 17, "SMP005")
    ]
    static = check([tmp_path], Config(select=frozenset({"SMP005"}))).findings
    assert static == report.findings
    assert static[0].message.startswith("Foreign key `Hero.team_id` has no index")
    # Without the source (a module outside the checked paths), the metadata still tells.
    runtime_only = [f for f in runtime_findings(runtime) if f.code == "SMP005"]
    assert runtime_only[0].message.startswith(
        "Foreign key `hero(team_id)` has no index in the metadata"
    )


def test_metadata_check_of_a_sqlmodel_app_through_the_command(tmp_path: Path) -> None:
    # In a fresh interpreter, so the models do not join this process's SQLModel metadata.
    (tmp_path / "fields.py").write_text(
        textwrap.dedent(
            """\
            from sqlmodel import Field


            def team_key():
                return Field(default=None, foreign_key="team.id")
            """
        )
    )
    (tmp_path / "service.py").write_text(
        textwrap.dedent(
            """\
            from fastapi import FastAPI
            from sqlmodel import Field, SQLModel

            from fields import team_key


            class Team(SQLModel, table=True):
                id: int | None = Field(default=None, primary_key=True)


            class Hero(SQLModel, table=True):
                id: int | None = Field(default=None, primary_key=True)
                team_id: int | None = team_key()
                rival_id: int | None = Field(default=None, foreign_key="hero.id")


            app = FastAPI()
            """
        )
    )
    command = [sys.executable, "-m", "sqlmodel_production", "doctor", "."]
    options = ["--select", "SMP005", "--format", "json"]
    static = subprocess.run(
        [*command, *options], cwd=tmp_path, capture_output=True, text=True
    )
    assert [(f["path"], f["line"]) for f in json.loads(static.stdout)] == [
        ("service.py", 14)
    ]
    run = subprocess.run(
        [*command, *options, "--app", "service:app"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    findings = json.loads(run.stdout)
    # The rival key is found twice (statically and in the metadata) and reported once.
    assert [(f["path"], f["line"]) for f in findings] == [
        ("service.py", 13),
        ("service.py", 14),
    ]
    assert "hero(team_id)" in findings[0]["message"]
    assert run.returncode == 1


def test_unimportable_app_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "broken_app_for_doctor.py").write_text("raise RuntimeError('boom')\n")
    result = CliRunner().invoke(
        app, ["doctor", ".", "--app", "broken_app_for_doctor:app"]
    )
    assert result.stderr == (
        "Error: Cannot import 'broken_app_for_doctor' for --app: RuntimeError: boom\n"
    )
    assert result.exit_code == 2


def sqlite_is_never_short_of_connections(database_url: str, folder: Path) -> None:
    """SQLite has no server and no max_connections: any pool, seen or not, passes."""
    source = f"from sqlalchemy import create_engine\n\nengine = create_engine({database_url!r}, pool_size=900, max_overflow=900)\napp = object()\n"
    spec = write_module(folder, source)
    roots = (folder.resolve(),)
    runtime = Runtime(roots, import_app(spec, roots), workers=100)
    runtime.limits = server_limits(database_url)
    assert runtime.limits is None
    assert [(p.size, p.overflow) for p in runtime.pools()] == [(900, 900)]
    assert list(PoolSizingRule().check_runtime(runtime)) == []


def driver_url(database_url: str) -> str:
    return sync_url(database_url).render_as_string(hide_password=False)


def test_server_limits_are_read_from_the_server(
    backend: Backend, database_url: str
) -> None:
    limits = server_limits(database_url)
    if backend is Backend.SQLITE:
        assert limits is None
        return
    assert limits is not None
    assert limits.backend == backend.value
    assert limits.max_connections >= 10
    assert 0 <= limits.reserved < limits.max_connections
    if backend is Backend.POSTGRESQL:
        assert limits.reserved >= 1  # superuser_reserved_connections defaults to 3


def test_pool_sizing_examples_against_the_real_server(
    backend: Backend, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The rule's own examples: (10 + 5) per worker is too much, (5 + 5) fits, for the
    # largest worker count that the good example allows on this server.
    rule = PoolSizingRule()
    limits = server_limits(database_url)
    workers = 4 if limits is None else limits.available // 10
    monkeypatch.chdir(tmp_path)
    prelude = f"from sqlalchemy import create_engine\n\nDATABASE_URL = {driver_url(database_url)!r}\napp = object()\n"
    outcomes = {}
    for kind, example in (("bad", rule.bad), ("good", rule.good)):
        folder = tmp_path / kind
        folder.mkdir()
        spec = write_module(folder, prelude + example)
        result = CliRunner().invoke(
            app,
            [
                "doctor",
                str(folder),
                "--select",
                "SMP017",
                "--format",
                "json",
                "--app",
                spec,
                "--database-url",
                database_url,
                "--workers",
                str(workers),
            ],
        )
        assert result.exit_code in (0, 1), result.stderr
        outcomes[kind] = json.loads(result.stdout)
    if limits is None:  # SQLite has no connection limit to check
        assert outcomes == {"bad": [], "good": []}
        return
    (finding,) = outcomes["bad"]
    assert finding["line"] == 6  # the `engine = create_engine(...)` line
    assert finding["message"].startswith(
        f"{workers} worker(s) x (10 + 5) pooled connections = {workers * 15}, but the "
        f"{backend.value} server accepts {limits.available} (max_connections "
        f"{limits.max_connections} - {limits.reserved} reserved)"
    )
    assert outcomes["good"] == []


def test_pool_sizing_counts_every_pool_and_database_object(
    backend: Backend, database_url: str, tmp_path: Path
) -> None:
    limits = server_limits(database_url)
    if limits is None:
        return sqlite_is_never_short_of_connections(database_url, tmp_path)
    half = limits.available // 2 + 1
    source = f"""\
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from sqlmodel_production import Database, DatabaseSettings

URL = {driver_url(database_url)!r}
primary = create_engine(URL, pool_size={half}, max_overflow=0)
replica = Database(DatabaseSettings(database_url=URL, pool_size={half}, max_overflow=1))
unpooled = create_engine(URL, poolclass=NullPool)
unbounded = None
app = object()
"""
    spec = write_module(tmp_path, source)
    roots = (tmp_path.resolve(),)
    runtime = Runtime(roots, modules=import_app(spec, roots), workers=1, limits=limits)
    assert sorted(
        (p.label.rpartition(".")[2], p.size, p.overflow) for p in runtime.pools()
    ) == [
        ("primary", half, 0),
        ("replica", half, 1),
    ]
    (finding,) = PoolSizingRule().check_runtime(runtime)
    assert finding.line == 8  # the larger pool: the replica
    assert f"1 worker(s) x (({half} + 0) + ({half} + 1)) pooled connections = " in (
        finding.message
    )
    assert arithmetic_holds(finding.message)
    assert "(the pools' pool_size + max_overflow, added up)" in finding.fix
    assert (
        PoolSizingRule().check_runtime(Runtime(roots, runtime.modules, limits=None))
        is not None
    )
    assert (
        list(
            PoolSizingRule().check_runtime(Runtime(roots, runtime.modules, limits=None))
        )
        == []
    )


def test_unbounded_overflow_is_always_too_much(
    backend: Backend, database_url: str, tmp_path: Path
) -> None:
    limits = server_limits(database_url)
    if limits is None:
        return sqlite_is_never_short_of_connections(database_url, tmp_path)
    source = f"from sqlalchemy import create_engine\n\nengine = create_engine({driver_url(database_url)!r}, max_overflow=-1)\napp = object()\n"
    spec = write_module(tmp_path, source)
    roots = (tmp_path.resolve(),)
    runtime = Runtime(roots, modules=import_app(spec, roots), limits=limits)
    (finding,) = PoolSizingRule().check_runtime(runtime)
    assert finding.line == 3
    assert "has an unbounded overflow (`max_overflow=-1`)" in finding.message


def test_pool_sizing_without_an_app_uses_the_settings(
    backend: Backend, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    limits = server_limits(database_url)
    if limits is None:
        return sqlite_is_never_short_of_connections(database_url, tmp_path)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "app.py").write_text("x = 1\n")
    monkeypatch.setenv("POOL_SIZE", "10")
    monkeypatch.setenv("MAX_OVERFLOW", "10")
    args = ["doctor", ".", "--database-url", database_url, "--format", "json"]
    fits = CliRunner().invoke(app, [*args, "--workers", str(limits.available // 20)])
    assert json.loads(fits.stdout) == []
    over = CliRunner().invoke(
        app, [*args, "--workers", str(limits.available // 20 + 1)]
    )
    (finding,) = json.loads(over.stdout)
    assert (finding["code"], finding["path"], finding["line"]) == ("SMP017", ".", 1)
    assert over.exit_code == 1


def test_unreachable_server_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "app.py").write_text("x = 1\n")
    url = "postgresql://nobody@127.0.0.1:1/none?connect_timeout=2"
    result = CliRunner().invoke(app, ["doctor", ".", "--database-url", url])
    assert result.stderr.startswith(
        "Error: Cannot read max_connections from --database-url: "
    )
    assert result.exit_code == 2


def arithmetic_holds(message: str) -> bool:
    """Whether "N worker(s) x EXPRESSION pooled connections = TOTAL" computes TOTAL."""
    match = re.match(
        r"(\d+) worker\(s\) x ([\d()+ ]+) pooled connections = (\d+)", message
    )
    assert match is not None, message
    workers, expression, total = match.groups()
    return int(workers) * eval(expression, {"__builtins__": {}}) == int(total)


@pytest.mark.parametrize(
    "engines",
    [
        "",
        # FastAPI's full-stack template keeps `engine = database.engine` beside the
        # Database: one pool, not two.
        "engine = database.engine\nasync_engine = database.async_engine\n",
    ],
    ids=["database", "with-its-engines"],
)
def test_documented_command_counts_a_database_on_the_default_url(
    backend: Backend,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    engines: str,
) -> None:
    # `database = Database()` with DATABASE_URL unset is SQLite at import; in production
    # it reads the server's URL, so `--app ... --database-url URL --workers N` counts it.
    limits = server_limits(database_url)
    if limits is None:
        return sqlite_is_never_short_of_connections(database_url, tmp_path)
    monkeypatch.chdir(tmp_path)
    for name in ("DATABASE_URL", "POOL_SIZE", "MAX_OVERFLOW"):
        monkeypatch.delenv(name, raising=False)
    source = f"""\
from fastapi import FastAPI

from sqlmodel_production import Database

database = Database()
{engines}app = FastAPI(lifespan=database.lifespan)
"""
    spec = write_module(tmp_path, source)
    workers = limits.available // 20 + 1  # (15 + 5) per worker, one worker too many
    args = ["doctor", ".", "--format", "json", "--app", spec, "--database-url"]
    result = CliRunner().invoke(app, [*args, database_url, "--workers", str(workers)])
    (finding,) = json.loads(result.stdout)
    assert (finding["code"], finding["line"]) == ("SMP017", 5)
    assert finding["message"].startswith(
        f"{workers} worker(s) x (15 + 5) pooled connections = {workers * 20}, but the "
        f"{backend.value} server accepts {limits.available}"
    )
    assert arithmetic_holds(finding["message"])
    assert result.exit_code == 1
    fits = CliRunner().invoke(app, [*args, database_url, "--workers", str(workers - 1)])
    assert (fits.exit_code, json.loads(fits.stdout)) == (0, [])


def test_an_explicit_sqlite_database_is_not_counted(
    backend: Backend, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    limits = server_limits(database_url)
    if limits is None:
        return sqlite_is_never_short_of_connections(database_url, tmp_path)
    monkeypatch.chdir(tmp_path)
    source = """\
from sqlmodel_production import Database, DatabaseSettings

cache = Database(DatabaseSettings(database_url="sqlite:///cache.db", pool_size=900))
app = object()
"""
    spec = write_module(tmp_path, source)
    roots = (tmp_path.resolve(),)
    runtime = Runtime(roots, modules=import_app(spec, roots), workers=8, limits=limits)
    assert runtime.pools() == []
    assert list(PoolSizingRule().check_runtime(runtime)) == []


def test_an_app_whose_pools_are_made_in_a_factory_uses_the_settings(
    backend: Backend, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No engine exists at import: the pool sizes come from DatabaseSettings, as without --app.
    limits = server_limits(database_url)
    if limits is None:
        return sqlite_is_never_short_of_connections(database_url, tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("POOL_SIZE", "10")
    monkeypatch.setenv("MAX_OVERFLOW", "10")
    source = """\
from sqlmodel_production import Database


def create_app():
    return Database()


app = object()
"""
    spec = write_module(tmp_path, source)
    workers = limits.available // 20 + 1
    result = CliRunner().invoke(
        app,
        ["doctor", ".", "--format", "json", "--app", spec]
        + ["--database-url", database_url, "--workers", str(workers)],
    )
    (finding,) = json.loads(result.stdout)
    assert (finding["code"], finding["path"], finding["line"]) == ("SMP017", ".", 1)
    assert f"{workers} worker(s) x (10 + 10)" in finding["message"]


@pytest.mark.only(Backend.POSTGRESQL)
def test_pool_sizing_behind_pgbouncer_counts_against_max_client_conn(
    backend: Backend, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    require("pgbouncer")
    pooled = at_port(database_url, 6432)
    limits = server_limits(pooled)
    assert limits is not None and limits.pooler == "pgbouncer"
    assert limits.available == 400  # docs_src/scaling/pgbouncer.ini's max_client_conn
    monkeypatch.chdir(tmp_path)
    (tmp_path / "app.py").write_text("x = 1\n")
    monkeypatch.setenv("POOL_SIZE", "15")
    monkeypatch.setenv("MAX_OVERFLOW", "5")
    monkeypatch.setenv("DATABASE_POOLER", "pgbouncer")
    args = ["doctor", ".", "--database-url", pooled, "--format", "json"]
    # 20 workers x 20 = 400 fit PgBouncer, though not the server's 97 behind it.
    assert json.loads(CliRunner().invoke(app, [*args, "--workers", "20"]).stdout) == []
    (finding,) = json.loads(CliRunner().invoke(app, [*args, "--workers", "21"]).stdout)
    assert "PgBouncer accepts 400 (max_client_conn)" in finding["message"]
    monkeypatch.delenv("DATABASE_POOLER")
    (finding,) = json.loads(CliRunner().invoke(app, [*args, "--workers", "1"]).stdout)
    assert finding["code"] == "SMP017"
    assert (
        "reaches PgBouncer, but DATABASE_POOLER is not `pgbouncer`"
        in finding["message"]
    )
