"""The flat import surface: `__all__` is sorted and names exactly what the package exports."""

from __future__ import annotations

import importlib

import pytest

PACKAGES = [
    "sqlmodel_production",
    "sqlmodel_production.db",
    "sqlmodel_production.api",
    "sqlmodel_production.models",
    "sqlmodel_production.crud",
    "sqlmodel_production.diagnostics",
    "sqlmodel_production.errors",
    "sqlmodel_production.migrations",
]


@pytest.mark.parametrize("name", PACKAGES)
def test_all_is_sorted_and_importable(name: str) -> None:
    module = importlib.import_module(name)
    assert module.__all__ == sorted(module.__all__)
    for attribute in module.__all__:
        assert getattr(module, attribute) is not None, attribute


@pytest.mark.parametrize("name", PACKAGES)
def test_every_public_name_is_in_all(name: str) -> None:
    module = importlib.import_module(name)
    public = {
        n
        for n, v in vars(module).items()
        if not n.startswith("_") and not isinstance(v, type(importlib))
    }
    public -= {"annotations", "TYPE_CHECKING", "Any"}
    assert public <= set(module.__all__)


def test_core_import_stays_off_fastapi() -> None:
    import subprocess
    import sys

    code = "import sys, sqlmodel_production; print('fastapi' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "False"
