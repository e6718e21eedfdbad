"""One parsed Python file, indexed once so that every rule can share the work."""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TypeVar

__all__ = ["FunctionNode", "LoopNode", "SourceFile", "display_path", "parse_noqa"]

N = TypeVar("N", bound=ast.AST)
FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef
LoopNode = ast.For | ast.AsyncFor | ast.While
COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)

_NOQA = re.compile(
    r"#\s*noqa(?::\s*(?P<codes>[A-Z]+[0-9]+(?:\s*,\s*[A-Z]+[0-9]+)*))?", re.IGNORECASE
)
_TEST_DIRS = {"tests", "test", "testing"}
_MIGRATION_DIRS = frozenset({"migrations", "alembic"})


def parse_noqa(lines: list[str]) -> dict[int, frozenset[str] | None]:
    """Map 1-based line numbers to the codes their `# noqa` silences (None: all of them)."""
    suppressed: dict[int, frozenset[str] | None] = {}
    for number, text in enumerate(lines, start=1):
        if "noqa" not in text.lower():
            continue
        match = _NOQA.search(text)
        if match is None:
            continue
        codes = match.group("codes")
        suppressed[number] = (
            None
            if codes is None
            else frozenset(c.strip().upper() for c in codes.split(","))
        )
    return suppressed


@dataclass(eq=False)
class SourceFile:
    """A parsed module with its imports, its nodes by type and each node's parent.

    Args:
        path: the path shown in findings (POSIX, relative to where the doctor runs).
        text: the module's source.
        within: the path below the folder the user asked to check, which decides
            whether this is test code; `path` when not given.

    Raises:
        SyntaxError: the source is not valid Python.
    """

    path: str
    text: str
    within: str | None = None
    tree: ast.Module = field(init=False)
    imports: dict[str, str] = field(init=False, default_factory=dict)
    parents: dict[ast.AST, ast.AST] = field(init=False, default_factory=dict)
    _by_type: defaultdict[type[ast.AST], list[ast.AST]] = field(
        init=False, default_factory=lambda: defaultdict(list)
    )
    _bodies: dict[ast.AST, list[ast.AST]] = field(init=False, default_factory=dict)
    _scoped: dict[ast.AST, list[ast.AST]] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.tree = ast.parse(self.text, filename=self.path)
        # One walk gives every node its type bucket, its parent and its scope.
        stack: list[tuple[ast.AST, ast.AST]] = [(self.tree, self.tree)]
        parents = self.parents
        by_type = self._by_type
        bodies: defaultdict[ast.AST, list[ast.AST]] = defaultdict(list)
        while stack:
            node, scope = stack.pop()
            by_type[type(node)].append(node)
            if hasattr(node, "lineno"):
                bodies[scope].append(node)
            inner = node if isinstance(node, _SCOPES) else scope
            for child in ast.iter_child_nodes(node):
                parents[child] = node
                stack.append((child, inner))
        for kind in by_type.values():
            kind.sort(key=_position)
        self._scoped = bodies
        for node in self.nodes(ast.Import):
            for alias in node.names:
                local = alias.asname or alias.name.partition(".")[0]
                self.imports[local] = alias.name if alias.asname else local
        for node in self.nodes(ast.ImportFrom):
            base = "." * node.level + (node.module or "")
            for alias in node.names:
                joined = (
                    f"{base}.{alias.name}" if node.module else f"{base}{alias.name}"
                )
                self.imports[alias.asname or alias.name] = joined

    @property
    def is_test(self) -> bool:
        """Whether the file is test code (`tests/`, `test_*.py`, `*_test.py`, `conftest.py`)."""
        parts = PurePosixPath(self.within or self.path).parts
        name = parts[-1] if parts else ""
        return (
            name.startswith("test_")
            or name.endswith("_test.py")
            or name == "conftest.py"
            or any(part in _TEST_DIRS for part in parts[:-1])
        )

    @property
    def is_migration(self) -> bool:
        """Whether the file belongs to migrations: it imports `alembic`, or it sits in a
        `migrations/` or `alembic/` folder (model snapshots kept for data migrations)."""
        folders = PurePosixPath(self.within or self.path).parts[:-1]
        return bool(_MIGRATION_DIRS.intersection(folders)) or any(
            target == "alembic" or target.startswith("alembic.")
            for target in self.imports.values()
        )

    def nodes(self, kind: type[N]) -> list[N]:
        """Every node of exactly this type, in source order."""
        return self._by_type.get(kind, [])  # type: ignore[return-value]

    @property
    def functions(self) -> list[FunctionNode]:
        """Every `def` and `async def`, in source order."""
        found: list[FunctionNode] = [
            *self.nodes(ast.FunctionDef),
            *self.nodes(ast.AsyncFunctionDef),
        ]
        found.sort(key=_position)
        return found

    def steps_up(self, node: ast.AST) -> Iterator[tuple[ast.AST, ast.AST]]:
        """(child, parent) from `node` up to its function or module, which is not a parent
        here: the blocks the node sits in within its own function."""
        child, parent = node, self.parents.get(node)
        while parent is not None and not isinstance(
            parent, ast.FunctionDef | ast.AsyncFunctionDef | ast.Module
        ):
            yield child, parent
            child, parent = parent, self.parents.get(parent)

    def enclosing_function(self, node: ast.AST) -> FunctionNode | None:
        """The innermost function around `node`, if any."""
        current = self.parents.get(node)
        while current is not None:
            if isinstance(current, ast.FunctionDef | ast.AsyncFunctionDef):
                return current
            current = self.parents.get(current)
        return None

    def body_nodes(self, scope: ast.AST) -> list[ast.AST]:
        """The nodes of a function, class or module, in source order, not those of nested scopes.

        A nested `def` itself belongs to the outer scope, its decorators, arguments and body
        to its own.
        """
        cached = self._bodies.get(scope)
        if cached is None:
            cached = self._bodies[scope] = sorted(
                self._scoped.get(scope, []), key=_position
            )
        return cached

    def resolve(self, node: ast.AST) -> str | None:
        """The dotted name an expression refers to, through the module's imports.

        `sa.create_engine` with `import sqlalchemy as sa` gives `sqlalchemy.create_engine`;
        a name that is not imported stays as written; anything else gives None.
        """
        if isinstance(node, ast.Name):
            return self.imports.get(node.id, node.id)
        if isinstance(node, ast.Attribute):
            base = self.resolve(node.value)
            return None if base is None else f"{base}.{node.attr}"
        return None


def _position(node: ast.AST) -> tuple[int, int]:
    return (getattr(node, "lineno", 0), getattr(node, "col_offset", 0))


def display_path(path: Path) -> str:
    """How findings name a file: relative to the working directory when inside it, POSIX style."""
    resolved = path.resolve()
    try:
        return resolved.relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return resolved.as_posix()
