"""The public surface of sqlmodel_production.models."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import sqlmodel_production.models as models


def test_all_is_sorted_and_matches_the_re_exports() -> None:
    tree = ast.parse(Path(models.__file__).read_text())
    imported = {
        alias.asname
        for node in tree.body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }
    assert models.__all__ == sorted(models.__all__)
    assert set(models.__all__) == imported
    for name in models.__all__:
        assert getattr(models, name) is not None


def test_models_do_not_import_fastapi() -> None:
    code = "import sys, sqlmodel_production.models; print('fastapi' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
