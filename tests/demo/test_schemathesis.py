"""Schemathesis drives every operation of the reference service with generated requests.

No request may get a 500, and every answer must match the documented schema and status
codes, on every backend and driver. (Schemathesis' own pytest integration does not run
on pytest 9, so its Python API drives Hypothesis here.)

One check is left out: `positive_data_acceptance` expects every schema-valid body to be
accepted, but a schema cannot say that `team_id` must name an existing team; that
answer is a deliberate 422 naming the field.
"""

from __future__ import annotations

from typing import Any

import hypothesis
import hypothesis.stateful
import schemathesis
from hypothesis import HealthCheck, given
from schemathesis.specs.openapi.checks import positive_data_acceptance
from sqlalchemy.pool import NullPool

from sqlmodel_production import Database, DatabaseSettings
from sqlmodel_production.demo.app import create_app
from tests.conftest import Target
from tests.demo.conftest import create_tables, drop_tables


def test_no_server_error_and_answers_match_the_schema(
    target: Target, settings: DatabaseSettings
) -> None:
    # Schemathesis keeps the app's lifespan open on its own event loop for the whole
    # process: without a pool, no connection outlives its request on that loop.
    database = Database(settings, poolclass=NullPool)
    create_tables(database)
    try:
        schema = schemathesis.openapi.from_asgi(
            "/openapi.json", create_app(database, async_=target.async_)
        )
        operations = [result.ok() for result in schema.get_all_operations()]
        assert len(operations) >= 19
        failures: list[str] = []
        for operation in operations:

            @given(case=operation.as_strategy())
            @hypothesis.settings(
                max_examples=15,
                deadline=None,
                suppress_health_check=list(HealthCheck),
                database=None,
            )
            def check(case: Any) -> None:
                case.call_and_validate(excluded_checks=[positive_data_acceptance])

            try:
                check()
            except (
                Exception
            ) as exc:  # collect every operation's failure, then report them all
                failures.append(f"{operation.method.upper()} {operation.path}: {exc}")
        assert not failures, "\n\n".join(failures)
    finally:
        drop_tables(database)


def test_stateful_sequences_follow_the_documented_links(
    target: Target, settings: DatabaseSettings
) -> None:
    """Create a row, then read, patch and delete it through the OpenAPI links, in random orders."""
    database = Database(settings, poolclass=NullPool)
    create_tables(database)
    try:
        schema = schemathesis.openapi.from_asgi(
            "/openapi.json", create_app(database, async_=target.async_)
        )
        base = schema.as_state_machine()

        class Machine(base):  # type: ignore[valid-type,misc]
            def validate_response(
                self,
                response: Any,
                case: Any,
                additional_checks: Any = None,
                **kwargs: Any,
            ) -> None:
                case.validate_response(
                    response,
                    excluded_checks=[positive_data_acceptance],
                    transport_kwargs=kwargs or None,
                )

        hypothesis.stateful.run_state_machine_as_test(
            Machine,
            settings=hypothesis.settings(
                max_examples=10,
                stateful_step_count=6,
                deadline=None,
                suppress_health_check=list(HealthCheck),
                database=None,
            ),
        )
    finally:
        drop_tables(database)
