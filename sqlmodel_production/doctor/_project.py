"""What the doctor knows about the whole checked project: its models and schemas (pure)."""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from ._databases import databases_in
from ._migrations import MigrationIndexes, views_in
from ._relationships import (
    EAGER_LOADING,
    RelationshipInfo,
    relationship_call,
    relationship_lazy,
    relationship_options,
    relationship_target,
)
from ._source import FunctionNode, SourceFile
from ._syntax import annotation_names, constant, keyword, route_decorator, terminal

__all__ = [
    "EAGER_LOADING",
    "ModelClass",
    "ProjectIndex",
    "RelationshipInfo",
    "relationship_call",
    "relationship_lazy",
    "relationship_options",
]

_ROOTS = frozenset({"SQLModel", "BaseModel"})
# Our column mixins, all `SQLModel` subclasses: a class built only from them is a model
# even when `sqlmodel_production` itself is not among the checked files.
_MIXINS = frozenset({"IntPK", "UUIDPK", "Timestamps", "SoftDelete", "Versioned"})
_PACKAGE = "sqlmodel_production."
_SERVER_DEFAULTS = frozenset({"server_default", "server_onupdate"})
# Where a project gets its sessions from the package, they keep objects on commit.
_OUR_SESSIONS = frozenset({"SessionDep", "AsyncSessionDep", "Database"})


# Class attributes of pydantic, SQLModel and SQLAlchemy models that are no fields.
_CLASS_SETTINGS = frozenset({"model_config", "metadata", "registry"})


@dataclass(eq=False)
class ModelClass:
    """A class deriving (directly or not) from `SQLModel` or pydantic's `BaseModel`, or a
    SQLAlchemy declarative class (`declarative`: a `__tablename__`, `mapped_column`s)."""

    name: str
    file: SourceFile
    node: ast.ClassDef
    bases: tuple[str, ...]
    table: bool
    declarative: bool = False

    @property
    def table_name(self) -> str | None:
        """The table's name: its `__tablename__`, else SQLModel's (the class name in lower
        case); None when it is computed (`@declared_attr`) or the class is no table."""
        for name, statement in self.own_fields():
            if name == "__tablename__":
                value = constant(statement.value)
                return value if isinstance(value, str) else None
        return self.name.lower() if self.table else None

    @property
    def module(self) -> str:
        """The dotted module path of its file (`app/models/hero.py` -> `app.models.hero`)."""
        return self.file.path.removesuffix(".py").replace("/", ".")

    def own_fields(self) -> Iterator[tuple[str, ast.AnnAssign | ast.Assign]]:
        """The fields declared in the class body itself, with their statements
        (`__table_args__` included; pydantic's `model_config`, SQLAlchemy's `metadata` and
        `registry`, and `ClassVar`s are not fields)."""
        for statement in self.node.body:
            if isinstance(statement, ast.AnnAssign) and isinstance(
                statement.target, ast.Name
            ):
                annotation = statement.annotation
                outer = (
                    annotation.value
                    if isinstance(annotation, ast.Subscript)
                    else annotation
                )
                if terminal(self.file.resolve(outer)) == "ClassVar":
                    continue
                yield statement.target.id, statement
            elif (
                isinstance(statement, ast.Assign)
                and len(statement.targets) == 1
                and isinstance(statement.targets[0], ast.Name)
                and statement.targets[0].id not in _CLASS_SETTINGS
            ):
                yield statement.targets[0].id, statement


def _module_matches(module: str, imported: str) -> bool:
    """Whether a file's module is the imported one, or inside that package
    (`app.models.hero` for `from app.models import Hero`; a relative import by suffix)."""
    if not imported:
        return False
    return f".{imported}." in "." + module.removesuffix(".__init__") + "."


_LIBRARY_BASES = ("pydantic.", "sqlmodel.", "sqlalchemy.")


def _base_name(file: SourceFile, base: ast.expr) -> str:
    """A base class's name: its own name, or the dotted one for a library class
    (`pydantic.BaseModel`), so that a project class of the same name (a SQLModel
    `BaseModel` of the project) is not taken for it."""
    dotted = file.resolve(base) or ""
    return dotted if dotted.startswith(_LIBRARY_BASES) else terminal(dotted)


def _is_table(node: ast.ClassDef) -> bool:
    return any(
        item.arg == "table" and constant(item.value) is True for item in node.keywords
    )


def _declares_table_name(node: ast.ClassDef) -> bool:
    return any(
        isinstance(statement, ast.Assign | ast.AnnAssign)
        and any(
            isinstance(target, ast.Name) and target.id == "__tablename__"
            for target in (
                statement.targets
                if isinstance(statement, ast.Assign)
                else [statement.target]
            )
        )
        for statement in node.body
    )


def _has_root_base(file: SourceFile, node: ast.ClassDef) -> bool:
    """A base is `SQLModel`, pydantic's `BaseModel` or one of our mixins."""
    for base in node.bases:
        dotted = file.resolve(base) or ""
        name = terminal(dotted)
        if name in _ROOTS or (name in _MIXINS and dotted.startswith(_PACKAGE)):
            return True
    return False


def _filled_by_database(call: ast.Call) -> bool:
    """A column the database fills in: `server_onupdate`, or a `server_default` without a
    client-side default (with one, SQLAlchemy sends that value and the server's never runs)
    on a column other than the primary key.
    """
    options = {item.arg: item.value for item in call.keywords if item.arg}
    extra = options.get("sa_column_kwargs")
    if isinstance(extra, ast.Dict):
        for key, value in zip(extra.keys, extra.values, strict=True):
            name = constant(key)
            if isinstance(name, str):
                options.setdefault(name, value)
    if "server_onupdate" in options:
        return True
    client = {"default", "default_factory", "insert_default"}
    has_default = bool(client.intersection(options)) or (
        _callee_name(call) == "Field" and bool(call.args)
    )
    # A server-generated primary key comes back with the INSERT (RETURNING) anyway.
    primary = constant(options.get("primary_key")) is True
    return "server_default" in options and not has_default and not primary


def _callee_name(call: ast.Call) -> str:
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def _declarative(file: SourceFile, node: ast.ClassDef, rows: set[str]) -> bool:
    """A SQLAlchemy declarative class: a `__tablename__`, or a declarative base among its
    bases (`DeclarativeBase`, `declarative_base()`) and mapped attributes in its body."""
    if _declares_table_name(node):
        return True
    bases = {terminal(file.resolve(base)) for base in node.bases}
    return bool(bases & rows) and any(
        isinstance(statement, ast.AnnAssign | ast.Assign)
        and isinstance(statement.value, ast.Call)
        and terminal(file.resolve(statement.value.func))
        in {"mapped_column", "Column", "relationship"}
        for statement in node.body
    )


def _declarative_bases(file: SourceFile) -> set[str]:
    """Names of declarative bases a file makes: `Base = declarative_base()`,
    `class Base(DeclarativeBase)`."""
    found: set[str] = set()
    for node in file.nodes(ast.Assign):
        if isinstance(node.value, ast.Call) and terminal(
            file.resolve(node.value.func)
        ) in {"declarative_base", "generate_base"}:
            found.update(t.id for t in node.targets if isinstance(t, ast.Name))
    for cls in file.nodes(ast.ClassDef):
        if any(
            terminal(file.resolve(base)) in {"DeclarativeBase", "DeclarativeBaseNoMeta"}
            for base in cls.bases
        ):
            found.add(cls.name)
    return found


@dataclass
class ProjectIndex:
    """The models, schemas, relationships and response models of every checked file."""

    models: dict[str, ModelClass] = field(default_factory=dict)
    tables: set[str] = field(default_factory=set)
    table_bases: set[str] = field(default_factory=set)
    lazy_relationships: set[str] = field(default_factory=set)
    response_models: set[str] = field(default_factory=set)
    row_classes: set[str] = field(default_factory=set)
    """SQLAlchemy declarative classes (a `__tablename__` in the body): rows, not schemas."""
    scoped_sessions: set[str] = field(default_factory=set)
    """Names bound to a `scoped_session(...)`: calling one returns the thread's (or task's)
    session, which its owner removes, rather than opening a new one."""
    keeps_on_commit: bool = False
    """Some session is made with `expire_on_commit=False`: objects keep their values."""
    server_filled: set[str] = field(default_factory=set)
    """Attributes the database fills in (`server_default`, `server_onupdate`)."""
    server_filled_by_class: dict[str, set[str]] = field(default_factory=dict)
    """The same, by the class that declares them."""
    orm_models: dict[str, ModelClass] = field(default_factory=dict)
    """SQLAlchemy declarative classes, by name (not schemas, not SQLModel tables)."""
    relationships: dict[str, dict[str, RelationshipInfo]] = field(default_factory=dict)
    """Each mapped class's own relationships (SQLModel tables, their bases, declarative)."""
    functions: dict[str, list[tuple[SourceFile, FunctionNode]]] = field(
        default_factory=dict
    )
    """Every function and method of the checked files, by name."""
    migrations: MigrationIndexes = field(default_factory=MigrationIndexes)
    """The indexes the project's migrations make (or dropped on purpose)."""
    views: set[str] = field(default_factory=set)
    """Views the project creates (`CREATE VIEW` in its code or migrations): a class mapped
    to one is read, never written."""
    required_databases: set[str] = field(default_factory=set)
    """The server databases (`postgresql`, `mysql`) whose drivers the project's dependency
    files list; they may serve a connector rather than the project's own tables."""
    databases: set[str] = field(default_factory=set)
    """The backends the project names (`postgresql`, `mysql`, `sqlite`): driver and
    dialect imports, URL schemes in string literals."""
    model_dialects: set[str] = field(default_factory=set)
    """The SQLAlchemy dialects whose types the files declaring mapped classes import
    (`postgresql` for `from sqlalchemy.dialects.postgresql import JSONB`): the databases
    the tables themselves are written for, whatever other databases the code connects to."""
    dialects: set[str] = field(default_factory=set)
    """The SQLAlchemy dialects any checked file imports (`mysql` for a MySQL `insert`)."""
    packages: set[str] = field(default_factory=set)
    """The folder and module names of the checked files: where the project's own imports
    come from (`app` in `from app.db import Session`)."""
    _by_name: dict[str, list[ModelClass]] = field(default_factory=dict)
    _by_path: dict[str, list[ModelClass]] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        files: Iterable[SourceFile],
        *,
        migrations: MigrationIndexes | None = None,
        required_databases: set[str] | None = None,
    ) -> ProjectIndex:
        """Index the classes of all files; models may derive from models in other files.
        `migrations`: the indexes the project's migrations make; `required_databases`: the
        databases of the drivers its dependency files list (both read by the caller)."""
        index = cls(
            migrations=migrations or MigrationIndexes(),
            required_databases=set(required_databases or ()),
        )
        index.views |= index.migrations.views
        candidates: list[tuple[SourceFile, ast.ClassDef, tuple[str, ...]]] = []
        found: list[ModelClass] = []
        files = list(files)
        rows: set[str] = {"DeclarativeBase", "DeclarativeBaseNoMeta", "Base"}
        for file in files:
            rows |= _declarative_bases(file)
        orm: list[ModelClass] = []
        for file in files:
            for node in file.nodes(ast.ClassDef):
                if _declares_table_name(node):
                    index.row_classes.add(node.name)
                bases = tuple(_base_name(file, base) for base in node.bases)
                # `table=True` is decisive: only SQLModel takes it, whatever the bases are
                # (mixins, or a base class imported from outside the checked files).
                if _is_table(node) or _has_root_base(file, node):
                    found.append(
                        ModelClass(node.name, file, node, bases, _is_table(node))
                    )
                elif not file.is_migration and _declarative(file, node, rows):
                    # (A migration's classes are snapshots for its data changes, not the
                    # models: their indexes are the migration's own business.)
                    orm.append(ModelClass(node.name, file, node, bases, False, True))
                else:
                    candidates.append((file, node, bases))
            for function in file.functions:
                index.functions.setdefault(function.name, []).append((file, function))
            index.databases.update(databases_in(file))
            for constant_node in file.nodes(ast.Constant):
                text = constant_node.value
                if isinstance(text, str) and "view" in text.lower():
                    index.views |= views_in(text)
            index.dialects.update(
                target.split(".")[2]
                for target in file.imports.values()
                if target.startswith("sqlalchemy.dialects.") and target.count(".") >= 2
            )
            index.packages.update(
                part.removesuffix(".py") for part in PurePosixPath(file.path).parts
            )
            index._collect_response_models(file)
            index._collect_session_facts(file)
        for model in orm:
            index.orm_models.setdefault(model.name, model)
            index._by_path.setdefault(model.file.path, []).append(model)
            index._by_name.setdefault(model.name, []).append(model)
        known: set[str] = {*_ROOTS, *(model.name for model in found)}
        while candidates:
            remaining = [c for c in candidates if not known.intersection(c[2])]
            if len(remaining) == len(candidates):
                break
            for file, node, bases in candidates:
                if known.intersection(bases):
                    found.append(ModelClass(node.name, file, node, bases, False))
            known.update(model.name for model in found)
            candidates = remaining
        found.sort(key=lambda model: (model.file.path, model.node.lineno))
        for model in found:
            # A name declared twice: the table model wins, as SQLModel would map it.
            if model.table or model.name not in index.models:
                index.models[model.name] = model
            index._by_path.setdefault(model.file.path, []).append(model)
            index._by_name.setdefault(model.name, []).append(model)
        for model in [*orm, *found]:
            if model.table or model.declarative:
                index.model_dialects.update(
                    target.split(".")[2]
                    for target in model.file.imports.values()
                    if target.startswith("sqlalchemy.dialects.")
                    and target.count(".") >= 2
                )
        for model in found:
            if "Timestamps" in model.bases:
                index.server_filled.update({"created_at", "updated_at"})
                index.server_filled_by_class.setdefault(model.name, set()).update(
                    {"created_at", "updated_at"}
                )
            if model.table:
                index.tables.add(model.name)
                # This table's own bases: another class of the same name elsewhere
                # (independent apps checked together) must not hide them.
                index.table_bases.update(index._walk(model.bases))
        for model in [*found, *orm]:
            if model.table or model.declarative or model.name in index.table_bases:
                own = index.relationships.setdefault(model.name, {})
                for name, statement in model.own_fields():
                    call = relationship_call(model.file, statement.value)
                    if call is None:
                        continue
                    annotation = (
                        statement.annotation
                        if isinstance(statement, ast.AnnAssign)
                        else None
                    )
                    info = RelationshipInfo(
                        relationship_lazy(call), relationship_target(call, annotation)
                    )
                    own[name] = info
                    if info.lazy_loaded:
                        index.lazy_relationships.add(name)
        return index

    def resolve_model(self, file: SourceFile, name: str) -> ModelClass | None:
        """The model or declarative class `name` stands for in `file`, through its imports.

        A class of that name in the file itself wins; else the one in the module the
        name is imported from (or a module of that package); else the only class of
        that name. None when the name is not a model, is imported from a library (`Session`
        from `sqlmodel`), or stays ambiguous (a pydantic `User` beside a table `User`,
        imported from outside the checked files).
        """
        candidates = self._by_name.get(name)
        if not candidates:
            return None
        local = [m for m in candidates if m.file is file]
        if local:
            return local[0]
        if any(node.name == name for node in file.nodes(ast.ClassDef)):
            return (
                None  # a class of this file that is not a model (or a migration's copy)
            )
        if self.imported_from_elsewhere(file, name):
            return None  # a library's class (`from sqlmodel import Session`)
        target = file.imports.get(name)
        if target is not None:
            module = target.rpartition(".")[0].lstrip(".")
            matches = [m for m in candidates if _module_matches(m.module, module)]
            if len(matches) == 1:
                return matches[0]
            if matches:
                candidates = matches
        if len(candidates) == 1:
            return candidates[0]
        mapped = [m for m in candidates if m.table or m.declarative]
        if len(mapped) == len(candidates) and len({m.name for m in mapped}) == 1:
            return mapped[0]  # tables of one name in independent apps: alike enough
        return None

    def server_filled_of(self, model: ModelClass) -> set[str]:
        """The attributes the database fills in for a class, inherited ones included."""
        found: set[str] = set()
        for name in [model.name, *self._walk(model.bases)]:
            found |= self.server_filled_by_class.get(name, set())
        unknown = [b for b in model.bases if b not in self.models and b not in _ROOTS]
        if "Timestamps" in unknown or "TimestampMixin" in unknown:
            found |= {"created_at", "updated_at"}
        return found

    def relationship(
        self, model: ModelClass, attribute: str
    ) -> RelationshipInfo | None:
        """The relationship `attribute` of a mapped class, its own or inherited."""
        if not (model.table or model.declarative or model.name in self.table_bases):
            return None
        for name in [model.name, *self._walk(model.bases)]:
            found = self.relationships.get(name, {}).get(attribute)
            if found is not None:
                return found
        return None

    def models_in(self, file: SourceFile) -> list[ModelClass]:
        """The models declared in one file."""
        return self._by_path.get(file.path, [])

    @property
    def runs_on(self) -> set[str]:
        """The databases the code names, or where it names none, those its dependency
        files' drivers are for."""
        return self.databases or self.required_databases

    @property
    def sqlite_only(self) -> bool:
        """The code names SQLite alone and the dependency files list no server driver."""
        return self.databases == {"sqlite"} and not self.required_databases

    def imported_from_elsewhere(self, file: SourceFile, name: str) -> bool:
        """`file` imports `name` from a library or another package, not from the project."""
        target = file.imports.get(name)
        return target is not None and not self.is_own_import(target)

    def is_own_import(self, target: str) -> bool:
        """Whether an import target (`app.db.Session`, `.db.Session`) is of the project."""
        return target.startswith(".") or target.partition(".")[0] in self.packages

    def is_table_in(self, file: SourceFile, name: str) -> bool:
        """Whether `name`, as `file` imports it, is a SQLModel table (a pydantic `User`
        imported beside a table `User` elsewhere is not)."""
        model = self.resolve_model(file, name)
        if model is not None:
            return model.table
        if self.imported_from_elsewhere(file, name):
            return (
                False  # another package's class of that name (an API-model library's)
            )
        candidates = self._by_name.get(name, [])
        return name in self.tables and all(m.table for m in candidates)

    def is_table(self, name: str) -> bool:
        return name in self.tables

    def is_schema(self, name: str) -> bool:
        """A model that is not a table: a Create, Public or Update schema."""
        return name in self.models and name not in self.tables

    def is_mapped(self, name: str) -> bool:
        """A table model or a base class whose fields end up in a table."""
        return self.is_table(name) or name in self.table_bases

    def written_tables(self, model: ModelClass, field_name: str) -> list[ModelClass]:
        """The tables a field of this class ends up in (the class itself, or the tables
        inheriting it from this base), views left out: only these are ever written."""
        tables = (
            [model]
            if model.table or model.declarative
            else self.tables_inheriting(model, field_name)
        )
        return [table for table in tables if table.table_name not in self.views]

    def tables_inheriting(self, model: ModelClass, field_name: str) -> list[ModelClass]:
        """The tables that take `field_name` from this base class (a table that declares
        the field anew takes its own)."""
        return [
            self.models[table]
            for table in sorted(self.tables)
            if model.name in self._ancestors(table)
            and self.fields(table).get(field_name, (None,))[0] is model
        ]

    def fields(
        self, name: str
    ) -> dict[str, tuple[ModelClass, ast.AnnAssign | ast.Assign]]:
        """Every field of a model, inherited ones included, with the class declaring it."""
        found: dict[str, tuple[ModelClass, ast.AnnAssign | ast.Assign]] = {}
        for ancestor in [name, *self._ancestors(name)][::-1]:
            model = self.models.get(ancestor)
            if model is not None:
                for field_name, statement in model.own_fields():
                    found[field_name] = (model, statement)
        return found

    def fields_of(
        self, model: ModelClass
    ) -> dict[str, tuple[ModelClass, ast.AnnAssign | ast.Assign]]:
        """Every field of this class, inherited ones included, its bases resolved through
        the imports of the file that names them (not by name alone)."""
        order: list[ModelClass] = []
        pending = [model]
        while pending:
            current = pending.pop(0)
            if any(current is seen for seen in order):
                continue
            order.append(current)
            for base in current.bases:
                resolved = self.resolve_model(current.file, base)
                if resolved is not None and resolved is not current:
                    pending.append(resolved)
        found: dict[str, tuple[ModelClass, ast.AnnAssign | ast.Assign]] = {}
        for ancestor in reversed(order):
            for field_name, statement in ancestor.own_fields():
                found[field_name] = (ancestor, statement)
        return found

    def ancestors(self, name: str) -> list[str]:
        """The model's base classes among the checked files, nearest first."""
        return self._ancestors(name)

    def _ancestors(self, name: str) -> list[str]:
        return self._walk(self.models[name].bases) if name in self.models else []

    def _walk(self, bases: Iterable[str]) -> list[str]:
        order: list[str] = []
        pending = list(bases)
        while pending:
            base = pending.pop(0)
            if base in self.models and base not in order:
                order.append(base)
                pending.extend(self.models[base].bases)
        return order

    def _collect_session_facts(self, file: SourceFile) -> None:
        for assign in file.nodes(ast.Assign):
            if isinstance(assign.value, ast.Call) and terminal(
                file.resolve(assign.value.func)
            ) in {"scoped_session", "async_scoped_session"}:
                self.scoped_sessions.update(
                    target.id
                    for target in assign.targets
                    if isinstance(target, ast.Name)
                )
        for item in file.nodes(ast.keyword):
            if item.arg == "expire_on_commit" and constant(item.value) is False:
                self.keeps_on_commit = True
        # The package's sessions (`SessionDep`, `Database.session()`, ...) are made with
        # `expire_on_commit=False`.
        if any(
            target.startswith(_PACKAGE) and target.rpartition(".")[2] in _OUR_SESSIONS
            for target in file.imports.values()
        ):
            self.keeps_on_commit = True
        if file.is_migration:
            return  # a migration's `server_default` is not what the models send
        for node in file.nodes(ast.ClassDef):
            for statement in node.body:
                if isinstance(statement, ast.AnnAssign | ast.Assign) and any(
                    isinstance(call, ast.Call) and _filled_by_database(call)
                    for call in ast.walk(statement.value or statement)
                ):
                    targets = (
                        [statement.target]
                        if isinstance(statement, ast.AnnAssign)
                        else statement.targets
                    )
                    names = {t.id for t in targets if isinstance(t, ast.Name)}
                    self.server_filled.update(names)
                    self.server_filled_by_class.setdefault(node.name, set()).update(
                        names
                    )

    def _collect_response_models(self, file: SourceFile) -> None:
        for function in file.functions:
            route = route_decorator(function)
            if route is None:
                continue
            declared = keyword(route[1], "response_model")
            for name in annotation_names(
                declared if declared is not None else function.returns
            ):
                self.response_models.add(name.id)
