"""Relationships as the doctor reads them: the call, its options, its loader strategy (pure)."""

from __future__ import annotations

import ast
from dataclasses import dataclass

from ._source import SourceFile
from ._syntax import annotation_names, constant, keyword, terminal

__all__ = [
    "EAGER_LOADING",
    "RelationshipInfo",
    "relationship_call",
    "relationship_lazy",
    "relationship_options",
    "relationship_target",
]

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


@dataclass(frozen=True)
class RelationshipInfo:
    """A relationship attribute of a mapped class: its loader strategy and target class."""

    lazy: str
    target: str | None

    @property
    def lazy_loaded(self) -> bool:
        """Reading it runs a query when it is not loaded yet."""
        return self.lazy not in EAGER_LOADING


def relationship_target(call: ast.Call, annotation: ast.expr | None) -> str | None:
    first = call.args[0] if call.args else keyword(call, "argument")
    if isinstance(first, ast.Constant) and isinstance(first.value, str):
        return first.value.rpartition(".")[2]
    if isinstance(first, ast.Name):
        return first.id
    names = [name.id for name in annotation_names(annotation)]
    return names[0] if len(names) == 1 else None


def relationship_lazy(call: ast.Call) -> str:
    """The loader strategy of a relationship declaration (`select` unless configured)."""
    lazy = constant(keyword(call, "lazy"))
    if "lazy" in (options := relationship_options(call)):
        lazy = constant(options["lazy"])
    # SQLAlchemy's older spellings: `lazy=False` joins, `lazy=True` selects, `None` never loads.
    lazy = {False: "joined", True: "select", None: "noload"}.get(lazy, lazy)  # type: ignore[call-overload]
    return lazy if isinstance(lazy, str) else "select"
