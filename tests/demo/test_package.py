"""The reference service ships inside the package: nothing in it needs the repository."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import sqlmodel_production

PACKAGE = Path(sqlmodel_production.__file__).parent
REPOSITORY_ONLY = {"bench", "docs_src", "examples", "scripts", "tests"}


def imported_modules(path: Path) -> set[str]:
    """Absolute module names a file imports (relative imports resolve inside the package)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def test_no_module_of_the_package_imports_the_repository() -> None:
    offenders = {
        str(path.relative_to(PACKAGE)): sorted(
            name
            for name in imported_modules(path)
            if name.split(".")[0] in REPOSITORY_ONLY
        )
        for path in sorted(PACKAGE.rglob("*.py"))
    }
    assert {path: names for path, names in offenders.items() if names} == {}


def test_only_the_cli_imports_the_demo() -> None:
    # The demo is the top layer: it uses the package, nothing below it uses the demo.
    importers = {
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if not path.is_relative_to(PACKAGE / "demo")
        and any(
            name.startswith("sqlmodel_production.demo")
            for name in imported_modules(path)
        )
    }
    assert importers == {"cli/_demo.py"}


def test_the_demo_imports_in_a_clean_interpreter(tmp_path: Path) -> None:
    # -I: no PYTHONPATH, no current directory on sys.path, as after `pip install`.
    code = (
        "import sys\n"
        "import sqlmodel_production.demo.app, sqlmodel_production.demo.handwritten\n"
        "import sqlmodel_production.demo.sample_data\n"
        "import sqlmodel_production.demo._async.routes, sqlmodel_production.demo._sync.routes\n"
        "app = sqlmodel_production.demo.app.create_app()\n"
        "print(sorted(set(app.openapi()['paths']) & {'/heroes/', '/teams/'}))\n"
        f"print(sorted(set(sys.modules) & {REPOSITORY_ONLY!r}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-I", "-c", code],
        cwd=tmp_path,
        env={"DATABASE_URL": f"sqlite:///{tmp_path}/demo.db"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["['/heroes/', '/teams/']", "[]"]
