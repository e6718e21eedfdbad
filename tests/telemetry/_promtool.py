"""`promtool check metrics` on a `/metrics` text."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.conftest import REQUIRE_ALL


def check_with_promtool(text: str) -> None:
    """`promtool check metrics` accepts `text`: it parses, and its lint finds nothing."""
    promtool = shutil.which("promtool")
    if promtool is None:
        message = "promtool is not installed (apt-get install prometheus)"
        if REQUIRE_ALL:
            pytest.fail(message)
        pytest.skip(message)
    result = subprocess.run(
        [promtool, "check", "metrics"], input=text, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
