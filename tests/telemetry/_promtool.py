"""`promtool check metrics` on a `/metrics` text."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.conftest import REQUIRE_ALL

KNOWN_LINT = 'db_client_connection_count non-histogram and non-summary metrics should not have "_count" suffix'
"""promtool's one complaint: the semantic conventions' `db.client.connection.count` keeps its name."""


def check_with_promtool(text: str) -> None:
    """`promtool check metrics` parses `text`; its lint may only name `db_client_connection_count`."""
    promtool = shutil.which("promtool")
    if promtool is None:
        message = "promtool is not installed (apt-get install prometheus)"
        if REQUIRE_ALL:
            pytest.fail(message)
        pytest.skip(message)
    result = subprocess.run(
        [promtool, "check", "metrics"], input=text, capture_output=True, text=True
    )
    problems = [
        line
        for line in (result.stdout + result.stderr).splitlines()
        if line.strip() and line.strip() != KNOWN_LINT
    ]
    assert problems == [], problems
    # 3: lint findings only (the known one); 1: unparsable.
    assert result.returncode in (0, 3)
