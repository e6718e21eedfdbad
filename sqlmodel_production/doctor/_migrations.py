"""What a project's migrations make: indexes, string sizes, views (pure).

A project may leave an index out of its models and create it in a migration instead
(`op.create_index(...)`, `CREATE INDEX ... ON team_member (team_id)`); the database then has
it, and a rule reading only the models would be wrong to call the column unindexed. The same
goes for a column's length (`sa.String(255)`) and for a view a class is mapped to. Alembic
revisions and `.sql` files are read; only what the migrations *upgrade* to counts: a
revision's `downgrade()` is never read.
"""

from __future__ import annotations

import ast
import copy
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from ._syntax import constant, keyword, terminal

__all__ = ["MIGRATION_FOLDERS", "MigrationIndexes", "read_migrations", "views_in"]

#: Folders whose Python files may be migrations (Alembic keeps revisions in `versions/`);
#: only a file with an `upgrade` function is read as one.
MIGRATION_FOLDERS = frozenset({"alembic", "migrations", "migration", "versions"})

Lead = tuple[str, str]
"""(table, leading column), both lower case and unquoted, without a schema."""


@dataclass(frozen=True)
class MigrationIndexes:
    """The columns that lead an index, key or unique constraint the migrations make.

    `dropped` holds columns whose index the migrations made and then dropped again (and
    did not make anew): the project decided that column goes without one.
    """

    indexed: frozenset[Lead] = frozenset()
    dropped: frozenset[Lead] = frozenset()
    files: int = 0
    """How many migration files were read."""
    views: frozenset[str] = frozenset()
    """The views the migrations create (lower case, without a schema)."""
    sized: frozenset[Lead] = frozenset()
    """String columns the migrations give a length or a `Text` type (`sa.String(12)`,
    `sa.Text()`): their size is the migration's decision, the same on every database."""

    def sizes(self, table: str, column: str) -> bool:
        """Whether the migrations give `table.column` its string type's size."""
        return (_bare(table), _bare(column)) in self.sized

    def decides(self, table: str, column: str) -> bool:
        """Whether the migrations index `table.column`, or dropped its index on purpose."""
        lead = (_bare(table), _bare(column))
        return lead in self.indexed or lead in self.dropped


@dataclass
class _Tally:
    unnamed: set[Lead] = field(default_factory=set)
    named: dict[str, set[Lead]] = field(default_factory=dict)
    made: Counter[str] = field(default_factory=Counter)
    dropped: Counter[str] = field(default_factory=Counter)
    views: set[str] = field(default_factory=set)
    sized: set[Lead] = field(default_factory=set)

    def create(self, name: str | None, table: str | None, column: str | None) -> None:
        if not table or not column:
            return
        lead = (_bare(table), _bare(column))
        if name is None:
            self.unnamed.add(lead)
            return
        key = _bare(name)
        self.named.setdefault(key, set()).add(lead)
        self.made[key] += 1

    def drop(self, name: str | None) -> None:
        if name:
            self.dropped[_bare(name)] += 1

    def result(self, files: int) -> MigrationIndexes:
        indexed = set(self.unnamed)
        gone: set[Lead] = set()
        for name, leads in self.named.items():
            (indexed if self.made[name] > self.dropped[name] else gone).update(leads)
        return MigrationIndexes(
            frozenset(indexed),
            frozenset(gone - indexed),
            files,
            frozenset(self.views),
            frozenset(self.sized),
        )


def read_migrations(sources: Iterable[tuple[str, str]]) -> MigrationIndexes:
    """The indexes made by migration files, given as (path, text): `.sql` files are read as
    SQL, anything else as a Python Alembic revision (its `upgrade` functions only)."""
    tally = _Tally()
    files = 0
    for path, text in sources:
        if path.endswith(".sql"):
            _read_sql(_without_comments(text), tally)
            files += 1
            continue
        try:
            tree = ast.parse(text)
        except (SyntaxError, ValueError):
            continue
        functions = {
            node.name: node
            for node in tree.body
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        }
        upgrades = [
            node for name, node in functions.items() if name.startswith("upgrade")
        ]
        if upgrades:
            files += 1
        helpers = {
            name: node
            for name, node in functions.items()
            if not name.startswith(("upgrade", "downgrade"))
        }
        for function in upgrades:
            _read_upgrade(_inlined(function, helpers), tally)
    return tally.result(files)


class _Bind(ast.NodeTransformer):
    """Replace a helper's parameters by the arguments of one call to it."""

    def __init__(self, values: dict[str, ast.expr]) -> None:
        self.values = values

    def visit_Name(self, node: ast.Name) -> ast.expr:
        return self.values.get(node.id, node)


def _inlined(
    function: ast.AST,
    helpers: dict[str, ast.FunctionDef | ast.AsyncFunctionDef],
    depth: int = 0,
) -> ast.AST:
    """The function with a body of its own calls to the revision's helpers appended, each
    bound to its arguments: `_create_index_safe("ix_a", "a", ["b"])` reads as the helper's
    `op.create_index(index_name, table_name, columns)` with those values."""
    if depth > 2:
        return function
    bodies: list[ast.stmt] = []
    for node in ast.walk(function):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in helpers
        ):
            continue
        helper = helpers[node.func.id]
        names = [arg.arg for arg in [*helper.args.posonlyargs, *helper.args.args]]
        values = dict(zip(names, node.args, strict=False))
        values.update({item.arg: item.value for item in node.keywords if item.arg})
        bound = _Bind(values).visit(copy.deepcopy(helper))
        bodies.extend(_inlined(bound, helpers, depth + 1).body)  # type: ignore[attr-defined]
    if not bodies:
        return function
    return ast.Module(body=[function, *bodies], type_ignores=[])  # type: ignore[list-item]


# --- Alembic -------------------------------------------------------------------------------


def _read_upgrade(function: ast.AST, tally: _Tally) -> None:
    batches = dict(_batch_tables(function))
    for node in ast.walk(function):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        operation = node.func.attr
        receiver = node.func.value
        batch = batches.get(receiver.id) if isinstance(receiver, ast.Name) else None
        args = node.args
        if operation in {
            "create_index",
            "create_unique_constraint",
            "create_primary_key",
        }:
            if batch is not None:  # batch_op.create_index(name, columns)
                table: str | None = batch
                columns = _argument(node, 1, "columns")
            else:
                table = _string(_argument(node, 1, "table_name", "source_table"))
                columns = _argument(node, 2, "columns")
            name = _argument(node, 0, "index_name", "constraint_name")
            tally.create(_index_name(name), table, _first_column(columns))
        elif operation == "add_column" and args:
            # `op.add_column("t", sa.Column("c", ..., index=True))`: read like a column of
            # `create_table` (its type, and the index Alembic makes for `index=True`).
            _read_table(batch or _string(args[0]), args[-1:], tally)
        elif operation == "alter_column" and args:
            table = batch or _string(args[0])
            column_name = _string(
                args[0] if batch else args[1] if len(args) > 1 else None
            )
            _read_type(table, column_name, keyword(node, "type_"), tally)
        elif operation == "drop_index":
            tally.drop(_index_name(_argument(node, 0, "index_name")))
        elif operation == "create_table" and args:
            _read_table(_string(args[0]), args[1:], tally)
        elif operation == "execute" and args:
            sql = _sql_text(args[0])
            if sql:
                _read_sql(_without_comments(sql), tally)


def _batch_tables(function: ast.AST) -> Iterator[tuple[str, str]]:
    """`batch_op` -> `hero` for `with op.batch_alter_table("hero") as batch_op:`."""
    for node in ast.walk(function):
        if not isinstance(node, ast.With | ast.AsyncWith):
            continue
        for item in node.items:
            call = item.context_expr
            if (
                isinstance(call, ast.Call)
                and _method(call) == "batch_alter_table"
                and isinstance(item.optional_vars, ast.Name)
            ):
                table = _string(_argument(call, 0, "table_name"))
                if table:
                    yield item.optional_vars.id, table


def _method(call: ast.Call) -> str:
    return call.func.attr if isinstance(call.func, ast.Attribute) else ""


def _read_table(table: str | None, items: list[ast.expr], tally: _Tally) -> None:
    """`op.create_table("hero", sa.Column(...), sa.PrimaryKeyConstraint(...), ...)`."""
    for item in items:
        if not isinstance(item, ast.Call):
            continue
        kind = terminal(_dotted(item.func))
        if kind == "Column" and item.args:
            _read_column_type(table, item, tally)
            column = _string(item.args[0])
            if any(
                constant(keyword(item, flag)) not in (..., None, False)
                for flag in ("index", "unique", "primary_key")
            ):
                tally.create(None, table, column)
        elif kind in {"PrimaryKeyConstraint", "UniqueConstraint"} and item.args:
            tally.create(None, table, _string(item.args[0]))
        elif kind == "Index" and len(item.args) > 1:
            tally.create(_string(item.args[0]), table, _string(item.args[1]))


# String types whose size a migration decides: with a length, or unbounded by design.
_STRINGS = frozenset({"String", "VARCHAR", "Unicode", "AutoString", "CHAR", "NVARCHAR"})
_TEXTS = frozenset({"Text", "UnicodeText", "TEXT", "LONGTEXT", "MEDIUMTEXT"})


def _read_column_type(table: str | None, column: ast.Call, tally: _Tally) -> None:
    """`sa.Column("name", sa.String(length=12))`: the column's type, if it decides a size."""
    if column.args and terminal(_dotted(column.func)) == "Column":
        kind = column.args[1] if len(column.args) > 1 else keyword(column, "type_")
        _read_type(table, _string(column.args[0]), kind, tally)


def _read_type(
    table: str | None, column: str | None, kind: ast.expr | None, tally: _Tally
) -> None:
    if not table or not column or kind is None:
        return
    call = kind if isinstance(kind, ast.Call) else None
    name = terminal(_dotted(call.func if call is not None else kind))
    sized = name in _TEXTS or (
        name in _STRINGS
        and call is not None
        and (bool(call.args) or keyword(call, "length") is not None)
    )
    if sized:
        tally.sized.add((_bare(table), _bare(column)))


def _argument(call: ast.Call, position: int, *names: str) -> ast.expr | None:
    for name in names:
        value = keyword(call, name)
        if value is not None:
            return value
    return call.args[position] if len(call.args) > position else None


def _index_name(node: ast.expr | None) -> str | None:
    """The name of `"ix_hero_team_id"` or `op.f("ix_hero_team_id")`; None when unnamed."""
    if isinstance(node, ast.Call) and node.args:
        node = node.args[0]
    return _string(node)


def _first_column(node: ast.expr | None) -> str | None:
    if isinstance(node, ast.List | ast.Tuple) and node.elts:
        return _string(node.elts[0])
    return _string(node)


def _string(node: ast.AST | None) -> str | None:
    value = constant(node)
    return value if isinstance(value, str) else None


def _sql_text(node: ast.expr) -> str | None:
    """The SQL of `"CREATE INDEX ..."` or `sa.text("CREATE INDEX ...")`."""
    if isinstance(node, ast.Call) and node.args:
        node = node.args[0]
    return _string(node)


def _dotted(node: ast.expr) -> str:
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return node.id if isinstance(node, ast.Name) else ""


# --- SQL -----------------------------------------------------------------------------------

_NAME = r'(?:[`"\[]?[\w$]+[`"\]]?\.)*[`"\[]?[\w$]+[`"\]]?'
_CREATE_INDEX = re.compile(
    rf"\bCREATE\s+(?:UNIQUE\s+)?INDEX\s+(?:CONCURRENTLY\s+)?(?:IF\s+NOT\s+EXISTS\s+)?"
    rf"(?:(?P<name>{_NAME})\s+)?ON\s+(?:ONLY\s+)?(?P<table>{_NAME})\s*"
    rf"(?:USING\s+\w+\s*)?\(\s*(?P<column>{_NAME})",
    re.IGNORECASE,
)
_DROP_INDEX = re.compile(
    rf"\bDROP\s+INDEX\s+(?:CONCURRENTLY\s+)?(?:IF\s+EXISTS\s+)?(?P<names>{_NAME}(?:\s*,\s*{_NAME})*)",
    re.IGNORECASE,
)
_CREATE_TABLE = re.compile(
    rf"\bCREATE\s+(?:(?:GLOBAL\s+|LOCAL\s+)?(?:TEMP|TEMPORARY|UNLOGGED)\s+)?TABLE\s+"
    rf"(?:IF\s+NOT\s+EXISTS\s+)?(?P<table>{_NAME})\s*\(",
    re.IGNORECASE,
)
_ALTER_ADD = re.compile(
    rf"\bALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?:ONLY\s+)?(?P<table>{_NAME})\s+ADD\s+"
    rf"(?:CONSTRAINT\s+(?P<name>{_NAME})\s+)?"
    rf"(?:PRIMARY\s+KEY|UNIQUE(?:\s+(?:KEY|INDEX))?|KEY|INDEX)\s*(?:(?!\()(?P<key>{_NAME})\s*)?"
    rf"\(\s*(?P<column>{_NAME})",
    re.IGNORECASE,
)
# An item of CREATE TABLE's list that is a key or index, not a column.
_TABLE_KEY = re.compile(
    rf"^(?:CONSTRAINT\s+(?P<name>{_NAME})\s+)?"
    rf"(?:PRIMARY\s+KEY|UNIQUE(?:\s+(?:KEY|INDEX))?|(?P<plain>KEY|INDEX))\s*"
    rf"(?:(?!\()(?P<key>{_NAME})\s*)?\(\s*(?P<column>{_NAME})",
    re.IGNORECASE,
)
_CREATE_VIEW = re.compile(
    rf"\bCREATE\s+(?:OR\s+REPLACE\s+)?(?:MATERIALIZED\s+)?VIEW\s+(?:IF\s+NOT\s+EXISTS\s+)?"
    rf"(?P<name>{_NAME})",
    re.IGNORECASE,
)
_OTHER_ITEM = re.compile(r"^(?:CONSTRAINT|FOREIGN|CHECK|EXCLUDE|LIKE)\b", re.IGNORECASE)
_COLUMN_KEY = re.compile(r"\b(?:PRIMARY\s+KEY|UNIQUE)\b", re.IGNORECASE)


def views_in(sql: str) -> set[str]:
    """The views `CREATE [OR REPLACE] [MATERIALIZED] VIEW name` statements in `sql` make."""
    return {_bare(match["name"]) for match in _CREATE_VIEW.finditer(sql)}


def _read_sql(sql: str, tally: _Tally) -> None:
    tally.views |= views_in(sql)
    for match in _CREATE_INDEX.finditer(sql):
        tally.create(match["name"], match["table"], match["column"])
    for match in _DROP_INDEX.finditer(sql):
        for name in match["names"].split(","):
            tally.drop(name.strip())
    for match in _ALTER_ADD.finditer(sql):
        tally.create(match["name"] or match["key"], match["table"], match["column"])
    for match in _CREATE_TABLE.finditer(sql):
        for item in _items(sql, match.end()):
            key = _TABLE_KEY.match(item)
            if key is not None:
                tally.create(None, match["table"], key["column"])
            elif not _OTHER_ITEM.match(item) and _COLUMN_KEY.search(item):
                tally.create(None, match["table"], item.split(None, 1)[0])


def _items(sql: str, start: int) -> Iterator[str]:
    """The comma-separated items of the parenthesised list that opens before `start`."""
    depth, begin = 0, start
    for position in range(start, len(sql)):
        character = sql[position]
        if character == "(":
            depth += 1
        elif character == ")":
            if depth == 0:
                yield sql[begin:position].strip()
                return
            depth -= 1
        elif character == "," and depth == 0:
            yield sql[begin:position].strip()
            begin = position + 1


def _without_comments(sql: str) -> str:
    return re.sub(r"--[^\n]*|/\*.*?\*/", " ", sql, flags=re.DOTALL)


def _bare(name: str) -> str:
    """`public."Team_Member"` -> `team_member`: no schema, no quotes, lower case."""
    return name.strip().rpartition(".")[2].strip('`"[]').lower()
