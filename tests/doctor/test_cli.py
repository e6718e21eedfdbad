"""`sqlmodel-production doctor` through Typer's runner, at a fixed width, with exact output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from sqlmodel_production import __version__
from sqlmodel_production.cli import app

ENGINE = (
    "from sqlalchemy import create_engine\n\nengine = create_engine(URL, echo=True)\n"
)
PLAIN = {"COLUMNS": "100", "NO_COLOR": None, "FORCE_COLOR": None, "TERM": "dumb"}

TEXT = """\
app.py
  3:10 SMP004 [info] This engine does not test pooled connections before use: after a \
database restart, a failover or an idle timeout, the next request fails with a connection error \
instead of reconnecting.
    fix: Pass `pool_pre_ping=True` to the engine.
  3:34 SMP003 [warning] `echo=True` logs every SQL statement with its parameters: personal data \
ends up in the logs and every query pays for the logging.
    fix: Remove `echo=True`, or read it from a setting that is off in production \
(`echo=settings.echo`).

Found 2 problems (1 warning, 1 info) in 1 file; 1 at or above warning.
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "app.py").write_text(ENGINE)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def doctor(*args: str, **env: str | None) -> Result:
    return CliRunner().invoke(app, ["doctor", *args], env={**PLAIN, **env})


def test_text_output_is_grouped_by_file_and_plain_when_piped(project: Path) -> None:
    result = doctor("app.py")
    assert result.stdout == TEXT
    assert result.exit_code == 1


def test_text_output_is_colored_on_a_terminal(project: Path) -> None:
    result = doctor("app.py", FORCE_COLOR="1", TERM="xterm-256color")
    assert "\x1b[36mSMP004\x1b[0m" in result.stdout
    assert "\x1b[33mSMP003\x1b[0m" in result.stdout
    assert "\x1b[1;31mFound 2 problems" in result.stdout
    assert _strip_ansi(result.stdout) == TEXT


def test_default_path_is_the_working_directory(project: Path) -> None:
    (project / "clean.py").write_text("x = 1\n")
    result = doctor("--select", "SMP003")
    assert result.stdout.endswith(
        "Found 1 problem (1 warning) in 2 files; 1 at or above warning.\n"
    )


def test_clean_project_exits_0(project: Path) -> None:
    (project / "app.py").write_text("x = 1\n")
    result = doctor(".")
    assert result.stdout == "No problems found in 1 file.\n"
    assert result.exit_code == 0


ENDPOINTS = """\
from fastapi import FastAPI
from sqlmodel import Session, select

from app.models import Hero, HeroPublic

app = FastAPI()


@app.get("/heroes/", response_model=list[HeroPublic])
def read_heroes(session: Session):
    return session.exec(select(Hero)).all()
"""

NOT_READ = (
    "Note: Endpoints use models that are not among the files read: Hero (app.models), "
    "HeroPublic (app.models). The rules about models (lengths, foreign keys, "
    "relationships, secrets in schemas) did not check them: run the doctor on the whole "
    "project (`sqlmodel-production doctor .`).\n"
)


def test_models_not_among_the_files_read_are_named(project: Path) -> None:
    (project / "api.py").write_text(ENDPOINTS)
    result = doctor("api.py", COLUMNS="400")
    assert result.stdout == NOT_READ + "No problems found in 1 file.\n"
    assert result.exit_code == 0
    # Machine formats keep their shape; the note goes to standard error.
    result = doctor("api.py", "--format", "json", COLUMNS="400")
    assert json.loads(result.stdout) == []
    assert result.stderr == NOT_READ
    # With the models among the files read, nothing to say.
    (project / "models.py").write_text(
        "from sqlmodel import SQLModel\n\n\nclass Hero(SQLModel):\n    pass\n\n\n"
        "class HeroPublic(SQLModel):\n    pass\n"
    )
    assert doctor("api.py", "models.py").stdout == "No problems found in 2 files.\n"


DEPENDENCY_ALIAS = """\
from typing import Annotated

from fastapi import Depends, FastAPI

from app.deps import CurrentUser

app = FastAPI()


@app.get("/me")
def read_me(user: CurrentUser):
    return {"ok": True}
"""


def test_an_alias_defined_in_a_file_read_is_not_a_missing_model(project: Path) -> None:
    """`CurrentUser = Annotated[User, Depends(...)]` in a file that was read is no model."""
    (project / "api.py").write_text(DEPENDENCY_ALIAS)
    (project / "deps.py").write_text(
        "from typing import Annotated\n\nfrom fastapi import Depends\n\n\n"
        "class User:\n    pass\n\n\ndef current_user() -> User:\n    return User()\n\n\n"
        "CurrentUser = Annotated[User, Depends(current_user)]\n"
    )
    assert doctor("api.py", "deps.py").stdout == "No problems found in 2 files.\n"
    assert "CurrentUser (app.deps)" in doctor("api.py", COLUMNS="400").stdout


def test_severity_threshold_decides_the_exit_code(project: Path) -> None:
    result = doctor("app.py", "--severity", "error")
    assert result.stdout.endswith(
        "Found 2 problems (1 warning, 1 info) in 1 file; none at or above error.\n"
    )
    assert result.exit_code == 0
    assert doctor("app.py", "--severity", "info").exit_code == 1


def test_config_file_is_read_and_options_win(project: Path) -> None:
    (project / "pyproject.toml").write_text(
        '[tool.sqlmodel-production.doctor]\nignore = ["SMP004"]\nseverity = "error"\n'
    )
    result = doctor("app.py", "--format", "json")
    assert [f["code"] for f in json.loads(result.stdout)] == ["SMP003"]
    assert result.exit_code == 0
    assert doctor("app.py", "--severity", "warning").exit_code == 1


def test_json_is_a_list_of_findings(project: Path) -> None:
    result = doctor("app.py", "--format", "json", "--select", "SMP003")
    assert json.loads(result.stdout) == [
        {
            "code": "SMP003",
            "severity": "warning",
            "path": "app.py",
            "line": 3,
            "column": 34,
            "message": "`echo=True` logs every SQL statement with its parameters: personal data "
            "ends up in the logs and every query pays for the logging.",
            "fix": "Remove `echo=True`, or read it from a setting that is off in production "
            "(`echo=settings.echo`).",
        }
    ]
    assert result.exit_code == 1


def test_sarif_has_what_github_code_scanning_requires(project: Path) -> None:
    result = doctor("app.py", "--format", "sarif")
    log = json.loads(result.stdout)
    assert log["version"] == "2.1.0"
    assert log["$schema"] == "https://json.schemastore.org/sarif-2.1.0.json"
    (run,) = log["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "sqlmodel-production doctor"
    assert driver["semanticVersion"] == __version__
    rule_ids = [rule["id"] for rule in driver["rules"]]
    assert rule_ids == [f"SMP{n:03d}" for n in range(1, 20)]
    assert driver["rules"][3]["shortDescription"] == {
        "text": "Engine without pool_pre_ping"
    }
    assert driver["rules"][3]["defaultConfiguration"] == {"level": "note"}
    assert driver["rules"][2]["defaultConfiguration"] == {"level": "warning"}
    assert driver["rules"][0]["defaultConfiguration"] == {"level": "error"}
    first = run["results"][0]
    assert first["ruleId"] == "SMP004"
    assert rule_ids[first["ruleIndex"]] == "SMP004"
    assert first["level"] == "note"
    assert first["message"]["text"].endswith(
        "Fix: Pass `pool_pre_ping=True` to the engine."
    )
    assert first["locations"] == [
        {
            "physicalLocation": {
                "artifactLocation": {"uri": "app.py", "uriBaseId": "%SRCROOT%"},
                "region": {"startLine": 3, "startColumn": 10},
            }
        }
    ]
    assert result.exit_code == 1


def test_noqa_in_the_checked_file(project: Path) -> None:
    (project / "app.py").write_text(ENGINE.rstrip("\n") + "  # noqa: SMP003, SMP004\n")
    assert doctor("app.py").stdout == "No problems found in 1 file.\n"


def test_explain_prints_rationale_and_examples() -> None:
    result = doctor("--explain", "smp004")
    assert result.stdout == (
        "SMP004: Engine without pool_pre_ping\n"
        "Severity: info\n"
        "\n"
        "Pooled connections die silently: the database restarts or fails over, a proxy or the "
        "server's idle timeout closes them. Without `pool_pre_ping=True` the pool hands such a "
        "connection to the next request, which fails with a connection error instead of "
        "reconnecting. The ping costs one round trip per checkout and saves those errors. "
        "An engine made and dropped within one function (a migration run, a start-up "
        "probe) is not flagged: none of its connections sits idle long enough; nor is the "
        "fallback engine an `except` clause makes when its `try`'s engine call fails (that "
        "call is checked), nor an engine on SQLite (its URL, its pool class, or a branch "
        "that asks for SQLite), nor any engine of a project that runs on SQLite alone (its "
        "code names no other database and its dependency files list no server driver). "
        "Reported as info: on public projects outside the corpus, half of its findings were "
        "engines that hold no idle connection for long (made per call by a helper, used once "
        "at start-up, run by a one-shot command, or never used), which it cannot yet tell "
        "apart from an application's long-lived pool.\n"
        "\n"
        "Bad:\n"
        "engine = create_engine(DATABASE_URL)\n"
        "\n"
        "Good:\n"
        "engine = create_engine(DATABASE_URL, pool_pre_ping=True)\n"
    )
    assert result.exit_code == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--explain", "SMP999"], "Error: --explain: unknown rule code 'SMP999'\n"),
        (
            ["--select", "SMP1"],
            "Error: --select: unknown rule code 'SMP1'; codes run from SMP001 to SMP019\n",
        ),
        (
            ["--severity", "fatal"],
            "Error: --severity: 'fatal' is not a severity; use one of: info, warning, error\n",
        ),
        (["missing.py"], "Error: Path does not exist: missing.py\n"),
        (
            ["--app", "nocolon"],
            "Error: --app must look like `module:attribute`, not 'nocolon'\n",
        ),
    ],
)
def test_usage_errors_exit_2(project: Path, args: list[str], message: str) -> None:
    result = doctor(*args)
    assert result.stderr == message
    assert result.stdout == ""
    assert result.exit_code == 2


def test_bad_format_is_a_usage_error(project: Path) -> None:
    result = doctor("--format", "xml")
    assert result.exit_code == 2
    assert "Invalid value for '--format'" in result.stderr


def test_progress_only_on_a_terminal() -> None:
    import io

    from rich.console import Console

    from sqlmodel_production.cli._doctor import _Progress

    piped = _Progress(Console(file=io.StringIO(), force_terminal=False))
    piped(300, 300)
    assert piped.bar is None
    screen = io.StringIO()
    terminal = _Progress(Console(file=screen, force_terminal=True))
    terminal(10, 10)
    assert terminal.bar is None  # too few files to bother
    terminal(1, 300)
    assert terminal.bar is not None
    terminal.close()
    assert terminal.bar is None
    assert "Checking files" in screen.getvalue()


def _strip_ansi(text: str) -> str:
    import re

    return re.sub(r"\x1b\[[0-9;]*m", "", text)
