"""Settings from the environment and `.env`, and the production echo guard."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from sqlmodel_production import DatabaseSettings, Environment
from sqlmodel_production.db import Backend, async_url, backend_of, sync_url


def test_defaults_are_safe(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    settings = DatabaseSettings()
    assert settings.database_url.startswith("sqlite:///./")
    assert settings.environment is Environment.DEVELOPMENT
    assert settings.pool_pre_ping is True
    assert settings.echo is False
    assert 0 < settings.pool_timeout <= 10
    assert settings.statement_timeout is not None


def test_reads_environment_and_dotenv(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text(
        "DATABASE_URL=postgresql://app@db/app\nPOOL_SIZE=7\n"
    )
    monkeypatch.setenv("POOL_TIMEOUT", "2.5")
    settings = DatabaseSettings()
    assert (settings.database_url, settings.pool_size, settings.pool_timeout) == (
        "postgresql://app@db/app",
        7,
        2.5,
    )


def test_echo_is_refused_in_production(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("ECHO", "true")
    with pytest.raises(
        ValidationError, match="echo=True is refused when ENVIRONMENT=production"
    ):
        DatabaseSettings()
    monkeypatch.setenv("ENVIRONMENT", "development")
    assert DatabaseSettings().echo is True


def test_replica_checks_must_come_more_often_than_the_lag_allowed() -> None:
    replicas = {
        "database_url": "postgresql://app@primary/app",
        "database_replica_urls": "postgresql://app@replica/app",
    }
    with pytest.raises(
        ValidationError,
        match="REPLICA_CHECK_INTERVAL=5 must be below REPLICA_MAX_LAG=5",
    ):
        DatabaseSettings(_env_file=None, replica_check_interval=5, **replicas)  # type: ignore[arg-type]
    assert DatabaseSettings(
        _env_file=None, replica_max_lag=6, replica_check_interval=5, **replicas
    )  # type: ignore[arg-type]
    # Without replicas the two settings are not used.
    assert DatabaseSettings(_env_file=None, replica_check_interval=5)  # type: ignore[call-arg]


@pytest.mark.parametrize(
    "url, family, sync, async_",
    [
        (
            "sqlite:///app.db",
            Backend.SQLITE,
            "sqlite+pysqlite:///app.db",
            "sqlite+aiosqlite:///app.db",
        ),
        (
            "postgresql://u:p@h:5/d",
            Backend.POSTGRESQL,
            "postgresql+psycopg://u:***@h:5/d",
            "postgresql+asyncpg://u:***@h:5/d",
        ),
        (
            "postgresql+psycopg2://u@h/d",
            Backend.POSTGRESQL,
            "postgresql+psycopg://u@h/d",
            "postgresql+asyncpg://u@h/d",
        ),
        (
            "mysql://u@h/d?charset=utf8mb4",
            Backend.MARIADB,
            "mysql+pymysql://u@h/d?charset=utf8mb4",
            "mysql+asyncmy://u@h/d?charset=utf8mb4",
        ),
        (
            "mariadb://u@h/d",
            Backend.MARIADB,
            "mysql+pymysql://u@h/d",
            "mysql+asyncmy://u@h/d",
        ),
    ],
)
def test_driver_is_chosen_from_the_url(
    url: str, family: Backend, sync: str, async_: str
) -> None:
    assert backend_of(url) is family
    assert str(sync_url(url)) == sync
    assert str(async_url(url)) == async_


def test_unsupported_database_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="Unsupported database 'oracle'"):
        sync_url("oracle://u@h/d")
