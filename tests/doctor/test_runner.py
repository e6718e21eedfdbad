"""Discovery, suppressions and configuration."""

from __future__ import annotations

from pathlib import Path

import pytest

from sqlmodel_production.doctor import (
    Config,
    DoctorUsageError,
    Severity,
    check,
    load_config,
)
from sqlmodel_production.doctor._config import parse_codes
from sqlmodel_production.doctor._source import SourceFile, parse_noqa

ECHO = (
    "from sqlalchemy import create_engine\n\nengine = create_engine(URL, echo=True)\n"
)


def codes(path: Path, config: Config | None = None) -> list[tuple[str, int, str]]:
    report = check([path], config or Config())
    return [(Path(f.path).name, f.line, f.code) for f in report.findings]


def test_findings_are_sorted_by_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "b.py").write_text(ECHO)
    (tmp_path / "a.py").write_text(ECHO)
    # SMP004 points at the call (column 10), SMP003 at `True` (column 37).
    assert codes(tmp_path) == [
        ("a.py", 3, "SMP004"),
        ("a.py", 3, "SMP003"),
        ("b.py", 3, "SMP004"),
        ("b.py", 3, "SMP003"),
    ]


@pytest.mark.parametrize(
    ("comment", "left"),
    [
        ("  # noqa: SMP003", ["SMP004"]),
        ("  # noqa: SMP003, SMP004", []),
        ("  # NOQA:smp004", ["SMP003"]),
        ("  # noqa", []),
        ("  # noqa: E501", ["SMP004", "SMP003"]),
    ],
)
def test_noqa_silences_the_codes_it_names(
    tmp_path: Path, comment: str, left: list[str]
) -> None:
    (tmp_path / "app.py").write_text(ECHO.rstrip("\n") + comment + "\n")
    assert [code for _, _, code in codes(tmp_path)] == left


def test_parse_noqa() -> None:
    lines = ["x = 1", "y = 2  # noqa: SMP001,SMP002", "z = 3  # noqa"]
    assert parse_noqa(lines) == {2: frozenset({"SMP001", "SMP002"}), 3: None}


def test_select_and_ignore_take_codes_and_prefixes(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(ECHO)
    assert [c for *_, c in codes(tmp_path, Config(select=frozenset({"SMP003"})))] == [
        "SMP003"
    ]
    assert [c for *_, c in codes(tmp_path, Config(ignore=frozenset({"SMP00"})))] == []
    both = Config(select=frozenset({"SMP00"}), ignore=frozenset({"SMP004"}))
    assert [c for *_, c in codes(tmp_path, both)] == ["SMP003"]


def test_unknown_codes_are_usage_errors() -> None:
    assert parse_codes("smp001, SMP01", option="--select") == {"SMP001", "SMP01"}
    with pytest.raises(DoctorUsageError, match="--select: unknown rule code 'SMP999'"):
        parse_codes("SMP001,SMP999", option="--select")


def test_test_code_may_echo(tmp_path: Path) -> None:
    for name in ("tests/test_db.py", "conftest.py", "pkg/db_test.py", "app/db.py"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(ECHO)
    assert {(name, code) for name, _, code in codes(tmp_path)} == {
        ("db.py", "SMP003"),
        ("db.py", "SMP004"),
    }
    assert SourceFile("tests/test_db.py", "").is_test
    assert not SourceFile("tests/test_db.py", "", within="db_helpers.py").is_test


def test_hidden_virtualenv_and_excluded_folders_are_skipped(tmp_path: Path) -> None:
    for name in (
        ".venv/lib/x.py",
        "venv/x.py",
        "node_modules/x.py",
        "migrations/v1.py",
        "app.py",
    ):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(ECHO)
    config = Config(exclude=("migrations",), root=tmp_path)
    assert {name for name, _, _ in codes(tmp_path, config)} == {"app.py"}
    assert check([tmp_path], config).files == 1


def test_an_unparsable_file_is_a_finding(tmp_path: Path) -> None:
    (tmp_path / "broken.py").write_text("def f(:\n    pass\n")
    (tmp_path / "latin1.py").write_bytes(b"name = '\xe9'\n")
    report = check([tmp_path], Config())
    assert [
        (Path(f.path).name, f.line, f.code, f.severity) for f in report.findings
    ] == [
        ("broken.py", 1, "SMP000", Severity.ERROR),
        ("latin1.py", 1, "SMP000", Severity.ERROR),
    ]
    assert "Cannot parse this file" in report.findings[0].message


def test_missing_path_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(DoctorUsageError, match="Path does not exist"):
        check([tmp_path / "nope"], Config())


def test_failing_counts_findings_at_or_above_the_threshold(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(ECHO)  # a warning (SMP003) and an info (SMP004)
    report = check([tmp_path], Config())
    assert len(report.failing(Severity.INFO)) == 2
    assert len(report.failing(Severity.WARNING)) == 1
    assert report.failing(Severity.ERROR) == []


def test_config_from_pyproject(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        "[tool.sqlmodel-production.doctor]\n"
        'select = ["SMP00"]\nignore = ["SMP004"]\nseverity = "error"\n'
        'exclude = ["legacy/*"]\nworkers = 4\n'
    )
    (tmp_path / "pkg").mkdir()
    config = load_config(tmp_path / "pkg")
    assert config.select == {"SMP00"}
    assert config.ignore == {"SMP004"}
    assert config.severity is Severity.ERROR
    assert config.exclude == ("legacy/*",)
    assert config.workers == 4
    assert config.root == tmp_path
    assert "SMP004" not in [rule.code for rule in config.rules]
    assert "SMP010" not in [rule.code for rule in config.rules]
    assert config.override(severity=Severity.INFO, select=None).select == {"SMP00"}


def test_a_pyproject_without_the_table_means_defaults(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "app"\n')
    config = load_config(tmp_path)
    assert config == Config(root=tmp_path)
    assert len(config.rules) == 19


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('colour = "red"', "unknown key"),
        ('severity = "fatal"', "is not a severity"),
        ('select = ["SMP999"]', "unknown rule code"),
        ('select = "SMP001"', "select must be a list"),
        ("exclude = [1]", "exclude must be a list"),
        ("workers = 0", "workers must be a positive integer"),
    ],
)
def test_bad_config_is_a_usage_error(tmp_path: Path, table: str, message: str) -> None:
    (tmp_path / "pyproject.toml").write_text(
        f"[tool.sqlmodel-production.doctor]\n{table}\n"
    )
    with pytest.raises(DoctorUsageError, match=message):
        load_config(tmp_path)


def test_two_findings_of_one_rule_on_one_line_are_both_reported(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(
        "from fastapi import FastAPI\n\napp = FastAPI()\n\n\n"
        '@app.get("/heroes/")\n'
        "def read_heroes(offset: int = 0, limit: int = 100):\n"
        "    return session.exec(select(Hero).offset(offset).limit(limit)).all()\n"
    )
    report = check([tmp_path], Config(select=frozenset({"SMP012"})))
    assert [(f.line, f.column, f.message.split("`")[1]) for f in report.findings] == [
        (7, 17, "offset"),
        (7, 34, "limit"),
    ]


def test_a_jinja_template_named_py_is_not_reported_as_unparsable(
    tmp_path: Path,
) -> None:
    # BC-SECURITY/Empire keeps its stagers as Jinja templates with a `.py` name.
    (tmp_path / "stager.py").write_text(
        "import base64\n{% include 'common/rc4.py' %}\nkey = '{{ staging_key }}'\n"
    )
    (tmp_path / "broken.py").write_text("def f(:\n    pass\n")
    assert codes(tmp_path) == [("broken.py", 1, "SMP000")]
