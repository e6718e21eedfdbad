"""Small questions about syntax trees that several rules ask (pure)."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from ._source import FunctionNode, SourceFile

__all__ = [
    "ROUTE_METHODS",
    "annotation_names",
    "constant",
    "is_dependency",
    "keyword",
    "method_name",
    "name_of",
    "parameters",
    "receiver_name",
    "route_decorator",
    "terminal",
]

ROUTE_METHODS = frozenset(
    {"get", "post", "put", "patch", "delete", "head", "options", "api_route"}
)
_WRAPPERS = frozenset(
    {
        "Optional",
        "Union",
        "list",
        "List",
        "Sequence",
        "set",
        "Set",
        "tuple",
        "Iterable",
        "Mapped",
        "WriteOnlyMapped",
        "DynamicMapped",
    }
)


def terminal(dotted: str | None) -> str:
    """The last part of a dotted name (`sqlalchemy.orm.Session` -> `Session`)."""
    return "" if dotted is None else dotted.rpartition(".")[2]


def name_of(node: ast.expr) -> str:
    """The name a call's target is written with: `seek` for `fp.seek`, `read` for `read`."""
    if isinstance(node, ast.Attribute):
        return node.attr
    return node.id if isinstance(node, ast.Name) else ""


def keyword(call: ast.Call, name: str) -> ast.expr | None:
    """The value of keyword argument `name` of `call`, if given."""
    for item in call.keywords:
        if item.arg == name:
            return item.value
    return None


def constant(node: ast.AST | None) -> object:
    """The value of a literal constant, or `...` when the node is not one."""
    return node.value if isinstance(node, ast.Constant) else ...


def method_name(node: ast.AST) -> str | None:
    """`commit` for a call like `session.commit()` (also under `await`), else None."""
    if isinstance(node, ast.Await):
        node = node.value
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        return node.func.attr
    return None


def receiver_name(call: ast.Call) -> str:
    """The last name of the object a method is called on (`self.session.get` -> `session`)."""
    if not isinstance(call.func, ast.Attribute):
        return ""
    value = call.func.value
    if isinstance(value, ast.Name):
        return value.id
    if isinstance(value, ast.Attribute):
        return value.attr
    return ""


def route_decorator(function: FunctionNode) -> tuple[str, ast.Call] | None:
    """The HTTP method and decorator call of a FastAPI path operation (`@app.get(...)`)."""
    for decorator in function.decorator_list:
        if (
            isinstance(decorator, ast.Call)
            and isinstance(decorator.func, ast.Attribute)
            and decorator.func.attr in ROUTE_METHODS
            and (decorator.args or decorator.keywords)
        ):
            return decorator.func.attr, decorator
    return None


def parameters(function: FunctionNode) -> Iterator[tuple[ast.arg, ast.expr | None]]:
    """Each parameter of a function with its default value, if any."""
    args = function.args
    positional = [*args.posonlyargs, *args.args]
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(args.defaults))
    yield from zip(positional, [*defaults, *args.defaults], strict=True)
    yield from zip(args.kwonlyargs, args.kw_defaults, strict=True)


def is_dependency(file: SourceFile, param: ast.arg, default: ast.expr | None) -> bool:
    """Whether a path-operation parameter is injected (`Depends`, `Security`, `*Dep` alias)."""
    if isinstance(default, ast.Call) and terminal(file.resolve(default.func)) in {
        "Depends",
        "Security",
    }:
        return True
    if isinstance(default, ast.Name) and (
        default.id.endswith("Dep") or _bound_to_depends(file, default.id)
    ):
        return True  # `share_link: ShareLink | None = ShareLinkDep`
    annotation = param.annotation
    if isinstance(annotation, ast.Name) and annotation.id.endswith("Dep"):
        return True
    if (
        isinstance(annotation, ast.Subscript)
        and terminal(file.resolve(annotation.value)) == "Annotated"
    ):
        elements = (
            annotation.slice.elts if isinstance(annotation.slice, ast.Tuple) else []
        )
        return any(
            isinstance(meta, ast.Call)
            and terminal(file.resolve(meta.func)) in {"Depends", "Security"}
            for meta in elements[1:]
        )
    return False


def _bound_to_depends(file: SourceFile, name: str) -> bool:
    """A module-level `name = Depends(...)` (or `Security(...)`) in the file."""
    return any(
        isinstance(statement, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == name for t in statement.targets)
        and isinstance(statement.value, ast.Call)
        and terminal(file.resolve(statement.value.func)) in {"Depends", "Security"}
        for statement in file.tree.body
    )


def annotation_names(node: ast.AST | None) -> Iterator[ast.Name]:
    """The class names an annotation stands for, through `Annotated`, `Optional`, `list`, `|`."""
    if node is None:
        return
    if isinstance(node, ast.Name):
        yield node
    elif isinstance(node, ast.Constant) and isinstance(node.value, str):
        try:
            parsed = ast.parse(node.value, mode="eval").body
        except SyntaxError:
            return
        for name in annotation_names(parsed):
            yield ast.Name(id=name.id, lineno=node.lineno, col_offset=node.col_offset)
    elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        yield from annotation_names(node.left)
        yield from annotation_names(node.right)
    elif isinstance(node, ast.Subscript):
        outer = (
            node.value.attr
            if isinstance(node.value, ast.Attribute)
            else getattr(node.value, "id", "")
        )
        inner = node.slice
        if outer == "Annotated" and isinstance(inner, ast.Tuple):
            yield from annotation_names(inner.elts[0])
        elif outer in _WRAPPERS:
            for element in inner.elts if isinstance(inner, ast.Tuple) else [inner]:
                yield from annotation_names(element)
