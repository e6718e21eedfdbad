"""SMP005: a foreign key without an index, in the source and in the metadata."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import TYPE_CHECKING

from sqlmodel_production.doctor._findings import Finding, Severity
from sqlmodel_production.doctor._migrations import MigrationIndexes
from sqlmodel_production.doctor._project import ModelClass, ProjectIndex
from sqlmodel_production.doctor._rule import Rule
from sqlmodel_production.doctor._source import SourceFile
from sqlmodel_production.doctor._syntax import constant, keyword, terminal

if TYPE_CHECKING:
    from sqlalchemy import Table

    from sqlmodel_production.doctor._runtime import Runtime

_INDEXING = ("index", "primary_key", "unique")


class UnindexedForeignKeyRule(Rule):
    code = "SMP005"
    title = "Foreign key without an index"
    severity = Severity.WARNING
    rationale = (
        "PostgreSQL and SQLite do not index foreign key columns for you. Every join from the parent, "
        "every `WHERE team_id = ?` and every delete of a parent row (which must check the children) "
        "then scans the whole child table, which is fast in development and slow in production. "
        "Index each foreign key column, or make it the leading column of a composite index or key. "
        "MariaDB and MySQL (InnoDB) index foreign keys themselves: a project whose code names "
        "MySQL and not PostgreSQL is not checked. SQLAlchemy declarative classes "
        "(`mapped_column(ForeignKey(...))`, `Column(ForeignKey(...))`) are checked too. An "
        "index the project's migrations create (an Alembic `op.create_index`, a `CREATE INDEX` "
        "in a `.sql` file under the project) counts as well, and so does one its migrations "
        "dropped on purpose."
    )
    bad = """\
class Hero(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    team_id: int | None = Field(default=None, foreign_key="team.id")
"""
    good = """\
class Hero(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    team_id: int | None = Field(default=None, foreign_key="team.id", index=True)
"""

    def check(self, file: SourceFile, project: ProjectIndex) -> Iterator[Finding]:
        if "mysql" in project.runs_on and "postgresql" not in project.runs_on:
            return  # InnoDB indexes every foreign key column itself
        for model in project.models_in(file):
            if not (model.declarative or project.is_mapped(model.name)):
                continue
            covered = _table_args_leading_columns(file, model)
            for name, statement in model.own_fields():
                value = statement.value
                if not isinstance(value, ast.Call) or name in covered:
                    continue
                column = _foreign_key_column(file, value)
                if column is None or _indexed(column):
                    continue
                # The tables the column ends up in: this one, or those inheriting it.
                tables = project.written_tables(model, name)
                if not tables:
                    continue  # every table declares it anew (checked there), or is a view
                names = [table.table_name for table in tables]
                if all(
                    table is not None
                    and project.migrations.decides(table, _column_name(column) or name)
                    for table in names
                ):
                    continue
                yield self.finding(
                    file,
                    statement,
                    f"Foreign key `{model.name}.{name}` has no index: joins, lookups by "
                    f"`{name}` and deletes of the parent row scan the whole table.",
                    "Add `index=True` to the field (or lead a composite index with it).",
                )

    def check_runtime(
        self, runtime: Runtime, project: ProjectIndex | None = None
    ) -> Iterator[Finding]:
        migrations = MigrationIndexes() if project is None else project.migrations
        for cls, table in runtime.mapped_classes():
            for columns in unindexed_foreign_keys(table):
                if migrations.decides(table.name, columns[0]):
                    continue
                attribute = runtime.attribute_of(cls, columns[0])
                place = runtime.locate(cls, attribute)
                if place is None:
                    continue
                joined = ", ".join(columns)
                yield self.finding(
                    place[0],
                    place[1],
                    f"Foreign key `{table.name}({joined})` has no index in the metadata: joins, "
                    f"lookups by `{joined}` and deletes of the parent row scan the whole table.",
                    "Add `index=True` to the field (or lead a composite index with it).",
                )


def unindexed_foreign_keys(table: Table) -> list[list[str]]:
    """The column lists of the table's foreign keys that no index, key or unique constraint leads."""
    from sqlalchemy import PrimaryKeyConstraint, UniqueConstraint

    leading: list[list[str]] = [
        [column.name for column in index.columns] for index in table.indexes
    ]
    leading.extend(
        [column.name for column in constraint.columns]
        for constraint in table.constraints
        if isinstance(constraint, PrimaryKeyConstraint | UniqueConstraint)
    )
    missing: list[list[str]] = []
    for foreign_key in sorted(
        table.foreign_key_constraints, key=lambda fk: list(fk.column_keys)
    ):
        columns = [column.name for column in foreign_key.columns]
        if not any(names[: len(columns)] == columns for names in leading):
            missing.append(columns)
    return missing


def _foreign_key_column(file: SourceFile, value: ast.Call) -> ast.Call | None:
    """The call whose `index=` decides for a foreign key field (`Field` or its `sa_column`)."""
    kind = terminal(file.resolve(value.func))
    if kind == "Field":
        sa_column = keyword(value, "sa_column")
        if isinstance(sa_column, ast.Call):
            return _foreign_key_column(file, sa_column)
        target = keyword(value, "foreign_key")
        return None if target is None or constant(target) is None else value
    if kind in {"Column", "mapped_column"} and any(
        isinstance(arg, ast.Call) and terminal(file.resolve(arg.func)) == "ForeignKey"
        for arg in value.args
    ):
        return value
    return None


def _column_name(call: ast.Call) -> str | None:
    """The column's own name where it differs from the attribute's: `Column("team", ...)`."""
    first = call.args[0] if call.args else None
    value = constant(first)
    return value if isinstance(value, str) else None


def _indexed(call: ast.Call) -> bool:
    for name in _INDEXING:
        node = keyword(call, name)
        if node is not None and constant(node) not in (None, False):
            return True
    return False


def _table_args_leading_columns(file: SourceFile, model: ModelClass) -> set[str]:
    """The columns that lead an index, key or unique constraint of `__table_args__`, whether
    it is a class attribute or a `@declared_attr` method returning one."""
    declarations: list[ast.AST] = [
        statement.value
        for name, statement in model.own_fields()
        if name == "__table_args__" and statement.value is not None
    ]
    declarations.extend(
        statement
        for statement in model.node.body
        if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef)
        and statement.name == "__table_args__"
    )
    columns: set[str] = set()
    for declaration in declarations:
        for node in ast.walk(declaration):
            if not isinstance(node, ast.Call):
                continue
            kind = terminal(file.resolve(node.func))
            arguments = node.args[1:] if kind == "Index" else node.args
            if (
                kind in {"Index", "UniqueConstraint", "PrimaryKeyConstraint"}
                and arguments
            ):
                first = arguments[0]
                if isinstance(first, ast.Attribute):  # `cls.team_id`
                    columns.add(first.attr)
                elif isinstance(constant(first), str):
                    columns.add(str(constant(first)))
    return columns
