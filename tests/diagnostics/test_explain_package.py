"""`explain` recognises every message the package raises itself, with the right label and advice.

The messages are found in the source (`scripts/gen_explain.py` walks every raise
site and every message an exception class of the package builds), so a message
added without an explanation fails here: the generated table is stale, or the
message has no family. Each is rendered with a value in every placeholder and
must get its family's explanation, and that one only.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest
from sqlmodel import Session, SQLModel

from sqlmodel_production import DatabaseSettings, transaction
from sqlmodel_production._exceptions import (
    BulkValidationError,
    InvalidScope,
    LiveChildren,
    ReferenceNotFound,
    StaleVersion,
)
from sqlmodel_production.diagnostics import explain_error
from sqlmodel_production.models import derive_schemas

ROOT = Path(__file__).parents[2]


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "gen_explain", ROOT / "scripts" / "gen_explain.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["gen_explain"] = module
    spec.loader.exec_module(module)
    return module


GENERATOR = _generator()
MESSAGES = GENERATOR.messages()

# Each family: its label (the problem) and a part of its advice.
LABELS = {
    "invalid-query": ("Bad Query", "answers it 422 with the parameter in `loc`"),
    "invalid-scope": ("Row Scope", "RowScope.ALL"),
    "outside-scope": ("Row Scope", "one of the request's own values"),
    "row-security": ("Row Scope", "remove database_settings="),
    "router-configuration": ("Router Configuration", "docs/crud.md"),
    "repository-configuration": (
        "Repository Configuration",
        "fields of the Public schema",
    ),
    "model-configuration": ("Model Configuration", "table=True"),
    "naive-datetime": ("Model Configuration", "datetime.now(UTC)"),
    "database-configuration": ("Database Settings", "the setting the message names"),
    "database-not-attached": ("Database Settings", "lifespan=database.lifespan"),
    "diagnostics-configuration": ("Diagnostics", "docs/diagnostics.md"),
    "doctor-usage": ("Doctor", "sqlmodel-production doctor --help"),
    "telemetry-setup": ("Telemetry", "sqlmodel-production[telemetry]"),
    "test-overrides": ("Testing", "override_session()"),
    "reference-not-found": ("Data integrity", "422"),
    "live-children": ("Data integrity", "409"),
    "bulk-validation": ("Data integrity", "row's index"),
    "stale-data": ("Stale Data", "409 Conflict"),
    "transaction-after-writes": ("Transactions", "session.commit()"),
    "transaction-usage": ("Transactions", "async for attempt in transaction(session)"),
    "pgbouncer-startup-parameter": ("PgBouncer", "DATABASE_POOLER=pgbouncer"),
    "connection-leak": ("Connection Leak", "context managers"),
    "query-count": ("N+1 Queries", "selectinload"),
}


def test_the_generated_table_is_current() -> None:
    generated = ROOT / "sqlmodel_production" / "diagnostics" / "_package_messages.py"
    assert generated.read_text() == GENERATOR.render(MESSAGES), (
        "run python scripts/gen_explain.py"
    )


def test_the_package_raises_over_a_hundred_messages_in_every_family() -> None:
    assert len(MESSAGES) >= 100
    assert {m.key for m in MESSAGES} | {"connection-leak", "query-count"} == set(LABELS)


@pytest.mark.parametrize("message", MESSAGES, ids=[f"{m.where}" for m in MESSAGES])
def test_every_message_gets_its_family(message: object) -> None:
    text = message.template.replace("{}", "'Hero'")  # type: ignore[attr-defined]
    explanations = explain_error(f"SomeError: {text}")
    assert [e.key for e in explanations] == [message.key], text  # type: ignore[attr-defined]
    problem, fix = LABELS[explanations[0].key]
    assert explanations[0].problem == problem
    assert fix in explanations[0].fix


def _raised(call: object) -> str:
    with pytest.raises(Exception) as caught:
        call()  # type: ignore[operator]
    return f"{type(caught.value).__name__}: {caught.value}"


class XpPlain(SQLModel):
    """Not a table model."""

    name: str = ""


def _samples() -> list[tuple[str, str]]:
    """Messages as the package really renders them, raised for real where it is cheap."""
    from sqlalchemy import create_engine

    from sqlmodel_production.api import RowScope

    engine = create_engine("sqlite://")
    session = Session(engine)
    return [
        (_raised(lambda: derive_schemas(XpPlain)), "model-configuration"),
        (
            _raised(
                lambda: DatabaseSettings(
                    _env_file=None,  # type: ignore[call-arg]
                    database_url="sqlite://",
                    database_pooler="pgbouncer",
                )
            ),
            "database-configuration",
        ),
        (
            _raised(lambda: next(iter(transaction(session))).session),
            "transaction-usage",
        ),
        (_raised(lambda: RowScope(lambda: None)), "router-configuration"),
        (
            str(
                InvalidScope(
                    "owner() returned None for 'owner_id': give a value, several, or "
                    "RowScope.ALL (never None, whose rows would be everyone's)"
                )
            ),
            "invalid-scope",
        ),
        (str(ReferenceNotFound("task", ("project_id",))), "reference-not-found"),
        (str(LiveChildren("project", "tasks")), "live-children"),
        (str(BulkValidationError([{}, {}])), "bulk-validation"),
        (str(StaleVersion(3)), "stale-data"),
        (
            "ConnectionLeakError: Connection leak: a connection checked out at app.py:3 "
            "was garbage-collected without being returned. Return it with a context manager",
            "connection-leak",
        ),
        (
            "AssertionError: 12 queries ran, expected at most 2:\n1. SELECT ...",
            "query-count",
        ),
        (
            "DetachedObjectError: Team.heroes was lazy-loaded at app.py:9, but the Team "
            "object is detached: the session that loaded it is closed",
            "detached-instance",
        ),
    ]


def test_messages_as_raised_get_their_family() -> None:
    for text, key in _samples():
        assert [e.key for e in explain_error(text)] == [key], text


def test_a_new_message_without_a_family_stops_the_generator() -> None:
    with pytest.raises(SystemExit, match="no explanation family"):
        GENERATOR._family("newpackage/_x.py", "ValueError", "something new went wrong")
