"""The package's layers import each other through public modules and `internal` seams only."""

from __future__ import annotations

import ast
from pathlib import Path

import sqlmodel_production

PACKAGE = Path(sqlmodel_production.__file__).parent
SHARED = {"_compat", "_exceptions"}
"""Top-level private modules every layer may import: the upstream pins and the exceptions."""


def _imports(path: Path, root: Path = PACKAGE) -> list[tuple[int, str]]:
    """Every module `path` imports, relative imports made absolute."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = ["sqlmodel_production", *path.relative_to(root).parent.parts]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            found.append((node.lineno, ".".join([*base, *filter(None, [node.module])])))
        elif isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
    return found


def _crosses_into_private(path: Path, module: str, root: Path = PACKAGE) -> bool:
    """Whether `module` is a private module of another layer than `path`'s."""
    parts = module.split(".")
    if parts[0] != "sqlmodel_production" or len(parts) < 3:
        return False
    layer = path.relative_to(root).parts[0].removesuffix(".py")
    target, inner = parts[1], parts[2]
    return target != layer and target not in SHARED and inner.startswith("_")


def test_no_layer_imports_another_layers_private_modules() -> None:
    offenders = [
        f"{path.relative_to(PACKAGE)}:{line}: {module}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for line, module in _imports(path)
        if _crosses_into_private(path, module)
    ]
    assert offenders == []


def test_the_check_sees_private_imports_absolute_and_relative(tmp_path: Path) -> None:
    source = tmp_path / "api" / "_routes.py"
    source.parent.mkdir()
    source.write_text(
        "from sqlmodel_production.db._runners import Runner\n"
        "from ..crud._values import RowValues\n"
        "from ._list import list_route\n"
        "from sqlmodel_production.db.internal import Runner\n"
        "from sqlmodel_production._compat import effective_route\n"
    )
    imports = _imports(source, tmp_path)
    assert [_crosses_into_private(source, m, tmp_path) for _, m in imports] == [
        True,
        True,
        False,
        False,
        False,
    ]
    assert imports[1][1] == "sqlmodel_production.crud._values"
