"""SMP015: a `str` column without a length."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from sqlmodel_production.doctor._findings import Finding, Severity
from sqlmodel_production.doctor._project import (
    ModelClass,
    ProjectIndex,
    relationship_call,
)
from sqlmodel_production.doctor._rule import Rule
from sqlmodel_production.doctor._source import SourceFile
from sqlmodel_production.doctor._syntax import keyword, terminal

_TYPED = ("max_length", "sa_type", "sa_column")
# `StringField` always bounds the length (255 unless told); a `ForeignKeyField`'s values
# are those of the key it references.
_HELPERS = frozenset({"StringField", "ForeignKeyField"})
# SQLAlchemy string types that take a `length`; without one MariaDB refuses the DDL.
_LENGTH_TYPES = frozenset({"String", "VARCHAR", "Unicode", "NVARCHAR", "AutoString"})


class UnboundedStringRule(Rule):
    code = "SMP015"
    title = "String column without a length"
    severity = Severity.WARNING
    rationale = (
        "A `str` field without `max_length` is an unbounded VARCHAR on PostgreSQL and SQLite but "
        "VARCHAR(255) on MariaDB, where SQLModel must pick a length: a 300-character value that "
        'works in development fails in production with "Data too long", and the API accepts any '
        "length instead of answering 422. State the bound with `Field(max_length=...)`, or "
        "`sa_type=Text` for long text. Only projects whose code names MariaDB or MySQL (driver "
        "or dialect imports, database URLs) are checked: on PostgreSQL and SQLite alone the "
        "column is unbounded wherever it runs. Nor is one whose models use PostgreSQL's own "
        "column types while no code imports a MySQL dialect (its MySQL URLs are connectors to "
        "other databases). SQLAlchemy declarative columns (`mapped_column(String)`, a "
        "`Mapped[str]` without a type, `Column(String)`) are checked too: MariaDB and MySQL "
        "refuse to create such a table. A column the project's migrations give a length or a "
        "`Text` type, and a class mapped to a view (`CREATE VIEW` in its code or migrations), "
        "are not reported."
    )
    bad = """\
DATABASE_URL = "mariadb+pymysql://app@db/app"


class Team(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True)
"""
    good = """\
DATABASE_URL = "mariadb+pymysql://app@db/app"


class Team(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True, max_length=100)
"""

    def check(self, file: SourceFile, project: ProjectIndex) -> Iterator[Finding]:
        if "mysql" not in project.databases:
            # The project names no MariaDB or MySQL (drivers, dialects, URLs): on PostgreSQL
            # and SQLite the column is unbounded everywhere it runs.
            return
        if "postgresql" in project.model_dialects and not {"mysql", "mariadb"} & (
            project.dialects
        ):
            # The tables use PostgreSQL's own types (JSONB, ARRAY) and no code imports a
            # MySQL dialect: they run on PostgreSQL, whatever MySQL databases the code
            # connects to besides (a connector's URL).
            return
        for model in project.models_in(file):
            if model.declarative:
                if model.table_name not in project.views:
                    yield from self._declarative(file, model, project)
                continue
            # A schema sharing a table's name (`Task` in schemas.py) is not that table.
            if not (
                model.table
                or (
                    model.name in project.table_bases
                    and not project.is_table(model.name)
                )
            ):
                continue
            for name, statement in model.own_fields():
                if (
                    not isinstance(statement, ast.AnnAssign)
                    or name.startswith("__")
                    or _is_class_var(file, statement.annotation)
                    or not _is_str(statement.annotation)
                ):
                    continue  # `__tablename__: str`, a `ClassVar[str]`: no columns
                value = statement.value
                if relationship_call(file, value) is not None:
                    continue
                tables = project.written_tables(model, name)
                if not tables:
                    continue  # only views (`CREATE VIEW`) or tables that declare it anew
                if all(
                    table.table_name is not None
                    and project.migrations.sizes(table.table_name, name)
                    for table in tables
                ):
                    continue  # the migrations give it a length (or `Text`) everywhere
                why = (
                    "VARCHAR(255) on MariaDB but unbounded on PostgreSQL and SQLite, so longer "
                    "values fail only in some environments and the API never answers 422 for them."
                )
                fix = "Add `max_length=...` to its `Field` (or `sa_type=Text` for long text)."
                if isinstance(value, ast.Call):
                    kind = terminal(file.resolve(value.func))
                    if kind in _HELPERS:
                        continue
                    if kind == "Field" and any(
                        keyword(value, option) is not None for option in _TYPED
                    ):
                        if not _unbounded_column_type(file, value):
                            continue
                        why = (
                            "its column type has none, so MariaDB refuses to create the table "
                            "and PostgreSQL and SQLite store any length."
                        )
                        fix = "Give its column type a length, `String(100)` (or use `Text` for long text)."
                yield self.finding(
                    file,
                    statement,
                    f"`{model.name}.{name}` is a `str` column without a length: {why}",
                    fix,
                )

    def _declarative(
        self, file: SourceFile, model: ModelClass, project: ProjectIndex
    ) -> Iterator[Finding]:
        """SQLAlchemy declarative columns: `mapped_column(String)` or a `Mapped[str]` with no
        type, `Column(String)`: a VARCHAR without a length, which MariaDB refuses to create
        (unless the migrations that create the table give it one)."""
        table = model.table_name
        for name, statement in model.own_fields():
            value = statement.value
            if name.startswith("__") or not isinstance(value, ast.Call):
                continue
            if table is not None and project.migrations.sizes(table, name):
                continue
            kind = terminal(file.resolve(value.func))
            if kind not in {"mapped_column", "Column"}:
                continue
            column_type = _declared_type(file, value)
            annotation = (
                statement.annotation if isinstance(statement, ast.AnnAssign) else None
            )
            if column_type is None:
                if not (kind == "mapped_column" and _mapped_str(annotation)):
                    continue
                if any(
                    isinstance(arg, ast.Call)
                    and terminal(file.resolve(arg.func)) == "ForeignKey"
                    for arg in value.args
                ):
                    continue  # typed like the key it references
            elif not _length_less(file, column_type):
                continue
            yield self.finding(
                file,
                statement,
                f"`{model.name}.{name}` is a string column without a length: MariaDB and MySQL "
                "refuse to create a VARCHAR without one, and the API accepts any length.",
                "Give the column a length, `String(100)` (or use `Text` for long text).",
            )


def _declared_type(file: SourceFile, call: ast.Call) -> ast.expr | None:
    """The type given to `mapped_column(...)` / `Column(...)`: first non-name positional
    argument or `type_=`; a `ForeignKey(...)` is not a type."""
    explicit = keyword(call, "type_")
    if explicit is not None:
        return explicit
    for arg in call.args:
        if isinstance(arg, ast.Constant):
            continue  # the column's name
        if isinstance(arg, ast.Call) and terminal(file.resolve(arg.func)) in {
            "ForeignKey",
            "Identity",
            "Computed",
            "Sequence",
        }:
            return None
        return arg
    return None


def _length_less(file: SourceFile, column_type: ast.expr) -> bool:
    if isinstance(column_type, ast.Call):
        return (
            terminal(file.resolve(column_type.func)) in _LENGTH_TYPES
            and not column_type.args
            and keyword(column_type, "length") is None
        )
    return terminal(file.resolve(column_type)) in _LENGTH_TYPES


def _unbounded_column_type(file: SourceFile, field: ast.Call) -> bool:
    """`sa_type=String` or `sa_column=Column(String)`: a string type given without a length.

    SQLModel uses an explicit `sa_type` as it is, so `max_length=` does not reach the column.
    """
    column_type = keyword(field, "sa_type")
    sa_column = keyword(field, "sa_column")
    if isinstance(sa_column, ast.Call) and terminal(file.resolve(sa_column.func)) in {
        "Column",
        "mapped_column",
    }:
        positional = [
            arg for arg in sa_column.args if not isinstance(arg, ast.Constant)
        ]
        column_type = keyword(sa_column, "type_") or (
            positional[0] if positional else None
        )
    if isinstance(column_type, ast.Call):
        return (
            terminal(file.resolve(column_type.func)) in _LENGTH_TYPES
            and not column_type.args
            and keyword(column_type, "length") is None
        )
    return (
        column_type is not None and terminal(file.resolve(column_type)) in _LENGTH_TYPES
    )


def _mapped_str(annotation: ast.expr | None) -> bool:
    """`Mapped[str]`, `Mapped[str | None]`, `Mapped[Optional[str]]`."""
    return (
        isinstance(annotation, ast.Subscript)
        and terminal(
            annotation.value.attr
            if isinstance(annotation.value, ast.Attribute)
            else getattr(annotation.value, "id", "")
        )
        == "Mapped"
        and _is_str(annotation.slice)
    )


def _is_class_var(file: SourceFile, annotation: ast.expr) -> bool:
    node = annotation.value if isinstance(annotation, ast.Subscript) else annotation
    return terminal(file.resolve(node)) == "ClassVar"


def _is_str(annotation: ast.expr) -> bool:
    """`str`, `str | None`, `Optional[str]`, or `Annotated[str, ...]` without a `max_length`."""
    if isinstance(annotation, ast.Name):
        return annotation.id == "str"
    if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
        try:
            return _is_str(ast.parse(annotation.value, mode="eval").body)
        except SyntaxError:
            return False
    if isinstance(annotation, ast.BinOp) and isinstance(annotation.op, ast.BitOr):
        sides = [annotation.left, annotation.right]
        others = [
            side
            for side in sides
            if not (isinstance(side, ast.Constant) and side.value is None)
        ]
        return len(others) == 1 and _is_str(others[0])
    if isinstance(annotation, ast.Subscript):
        outer = (
            annotation.value.attr
            if isinstance(annotation.value, ast.Attribute)
            else getattr(annotation.value, "id", "")
        )
        inner = annotation.slice
        if outer == "Optional":
            return _is_str(inner)
        if outer == "Annotated" and isinstance(inner, ast.Tuple):
            bounded = any(
                isinstance(node, ast.keyword) and node.arg == "max_length"
                for meta in inner.elts[1:]
                for node in ast.walk(meta)
            )
            return not bounded and _is_str(inner.elts[0])
    return False
