"""What the doctor knows about the whole checked project: its models and schemas (pure)."""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from ._source import SourceFile
from ._syntax import annotation_names, constant, keyword, route_decorator, terminal

__all__ = ["EAGER_LOADING", "ModelClass", "ProjectIndex"]

_ROOTS = frozenset({"SQLModel", "BaseModel"})
# Our column mixins, all `SQLModel` subclasses: a class built only from them is a model
# even when `sqlmodel_production` itself is not among the checked files.
_MIXINS = frozenset({"IntPK", "UUIDPK", "Timestamps", "SoftDelete", "Versioned"})
_PACKAGE = "sqlmodel_production."
_SERVER_DEFAULTS = frozenset({"server_default", "server_onupdate"})
# Loader strategies that never emit a lazy SELECT when the attribute is read.
EAGER_LOADING = frozenset(
    {
        "selectin",
        "joined",
        "subquery",
        "immediate",
        "noload",
        "raise",
        "raise_on_sql",
        "write_only",
    }
)


@dataclass(eq=False)
class ModelClass:
    """A class deriving (directly or not) from `SQLModel` or pydantic's `BaseModel`."""

    name: str
    file: SourceFile
    node: ast.ClassDef
    bases: tuple[str, ...]
    table: bool

    def own_fields(self) -> Iterator[tuple[str, ast.AnnAssign | ast.Assign]]:
        """The fields declared in the class body itself, with their statements."""
        for statement in self.node.body:
            if isinstance(statement, ast.AnnAssign) and isinstance(
                statement.target, ast.Name
            ):
                yield statement.target.id, statement
            elif (
                isinstance(statement, ast.Assign)
                and len(statement.targets) == 1
                and isinstance(statement.targets[0], ast.Name)
            ):
                yield statement.targets[0].id, statement


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


def relationship_call(file: SourceFile, value: ast.AST | None) -> ast.Call | None:
    """The `Relationship(...)` / `relationship(...)` call a field is declared with, if any."""
    if isinstance(value, ast.Call) and terminal(file.resolve(value.func)) in {
        "Relationship",
        "relationship",
    }:
        return value
    return None


def relationship_options(call: ast.Call) -> dict[str, ast.expr]:
    """The literal `sa_relationship_kwargs` of a `Relationship(...)`: `{...}` or `dict(...)`.

    Each value is the expression given; a key is the string node in a `{...}` literal and
    the value otherwise (what a finding points at).
    """
    options = keyword(call, "sa_relationship_kwargs")
    found: dict[str, ast.expr] = {}
    if isinstance(options, ast.Dict):
        for key, value in zip(options.keys, options.values, strict=True):
            name = constant(key)
            if isinstance(name, str):
                found[name] = value
    elif (
        isinstance(options, ast.Call)
        and isinstance(options.func, ast.Name)
        and options.func.id == "dict"
    ):
        found.update({item.arg: item.value for item in options.keywords if item.arg})
    return found


def relationship_lazy(call: ast.Call) -> str:
    """The loader strategy of a relationship declaration (`select` unless configured)."""
    lazy = constant(keyword(call, "lazy"))
    if "lazy" in (options := relationship_options(call)):
        lazy = constant(options["lazy"])
    return lazy if isinstance(lazy, str) else "select"


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
    keeps_on_commit: bool = False
    """Some session is made with `expire_on_commit=False`: objects keep their values."""
    server_filled: set[str] = field(default_factory=set)
    """Attributes the database fills in (`server_default`, `server_onupdate`)."""
    _by_path: dict[str, list[ModelClass]] = field(default_factory=dict)

    @classmethod
    def build(cls, files: Iterable[SourceFile]) -> ProjectIndex:
        """Index the classes of all files; models may derive from models in other files."""
        index = cls()
        candidates: list[tuple[SourceFile, ast.ClassDef, tuple[str, ...]]] = []
        found: list[ModelClass] = []
        for file in files:
            for node in file.nodes(ast.ClassDef):
                if _declares_table_name(node):
                    index.row_classes.add(node.name)
                bases = tuple(terminal(file.resolve(base)) for base in node.bases)
                # `table=True` is decisive: only SQLModel takes it, whatever the bases are
                # (mixins, or a base class imported from outside the checked files).
                if _is_table(node) or _has_root_base(file, node):
                    found.append(
                        ModelClass(node.name, file, node, bases, _is_table(node))
                    )
                else:
                    candidates.append((file, node, bases))
            index._collect_response_models(file)
            index._collect_session_facts(file)
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
        for model in found:
            if "Timestamps" in model.bases:
                index.server_filled.update({"created_at", "updated_at"})
            if model.table:
                index.tables.add(model.name)
                # This table's own bases: another class of the same name elsewhere
                # (independent apps checked together) must not hide them.
                index.table_bases.update(index._walk(model.bases))
        for model in found:
            if model.table or model.name in index.table_bases:
                for name, statement in model.own_fields():
                    call = relationship_call(model.file, statement.value)
                    if (
                        call is not None
                        and relationship_lazy(call) not in EAGER_LOADING
                    ):
                        index.lazy_relationships.add(name)
        return index

    def models_in(self, file: SourceFile) -> list[ModelClass]:
        """The models declared in one file."""
        return self._by_path.get(file.path, [])

    def is_table(self, name: str) -> bool:
        return name in self.tables

    def is_schema(self, name: str) -> bool:
        """A model that is not a table: a Create, Public or Update schema."""
        return name in self.models and name not in self.tables

    def is_mapped(self, name: str) -> bool:
        """A table model or a base class whose fields end up in a table."""
        return self.is_table(name) or name in self.table_bases

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
        for item in file.nodes(ast.keyword):
            if item.arg == "expire_on_commit" and constant(item.value) is False:
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
                    self.server_filled.update(
                        t.id for t in targets if isinstance(t, ast.Name)
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
