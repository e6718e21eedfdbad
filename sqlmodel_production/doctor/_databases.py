"""Which databases a project names: driver and dialect imports, URL schemes (pure)."""

from __future__ import annotations

import ast
import re

from ._source import SourceFile

__all__ = ["DEPENDENCY_FILES", "databases_in", "databases_required"]

#: Files that list a project's dependencies, where its database drivers are named.
DEPENDENCY_FILES = (
    "pyproject.toml",
    "requirements.txt",
    "setup.cfg",
    "setup.py",
    "Pipfile",
)


def databases_in(file: SourceFile) -> set[str]:
    """The database backends a file names: driver imports, dialect imports, URL schemes."""
    found: set[str] = set()
    for target in file.imports.values():
        root = target.lstrip(".").partition(".")[0]
        if root in _DRIVERS:
            found.add(_DRIVERS[root])
        elif target.startswith("sqlalchemy.dialects."):
            dialect = target.split(".")[2]
            found.add(_DIALECTS.get(dialect, dialect))
        elif target.startswith("langgraph.checkpoint.postgres"):
            found.add("postgresql")
    for node in file.nodes(ast.Constant):
        if not isinstance(node.value, str):
            continue
        # A URL, or a URL's scheme on its own (`scheme="mysql+aiomysql"`).
        match = _URL.match(node.value) if "://" in node.value[:40] else None
        match = match or _SCHEME.match(node.value)
        if match:
            found.add(_DIALECTS.get(match["dialect"], match["dialect"]))
    return found


_DRIVERS = {
    "asyncpg": "postgresql",
    "psycopg": "postgresql",
    "psycopg2": "postgresql",
    "psycopg_pool": "postgresql",
    "pg8000": "postgresql",
    "pymysql": "mysql",
    "asyncmy": "mysql",
    "aiomysql": "mysql",
    "MySQLdb": "mysql",
    "mysql": "mysql",
    "mariadb": "mysql",
    "aiosqlite": "sqlite",
    "sqlite3": "sqlite",
}
_DIALECTS = {"postgres": "postgresql", "mariadb": "mysql"}
_DIALECT = r"(?P<dialect>postgresql|postgres|mysql|mariadb|sqlite)"
_SCHEME = re.compile(rf"^{_DIALECT}\+\w+$")
_URL = re.compile(rf"^{_DIALECT}(\+\w+)?://")


# Driver distributions, and SQLAlchemy's extras that pull them in.
_REQUIRED = re.compile(
    r"(?<![\w-])(?P<name>asyncpg|psycopg2?(?:-binary)?|psycopg\[|pg8000|postgresql_\w+|"
    r"pymysql|aiomysql|asyncmy|mysqlclient|mysql-connector-python|mariadb|mysql_\w+)"
    r"(?![\w-])",
    re.IGNORECASE,
)


def databases_required(text: str) -> set[str]:
    """The server databases a dependency file's drivers are for (`psycopg[binary]` ->
    `postgresql`, `asyncmy` -> `mysql`); SQLite needs no driver of its own."""
    found: set[str] = set()
    for match in _REQUIRED.finditer(text):
        name = match["name"].lower()
        found.add(
            "postgresql"
            if name.startswith(("asyncpg", "psycopg", "pg8000", "postgresql"))
            else "mysql"
        )
    return found
