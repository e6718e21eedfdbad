"""What the names of a function stand for: which mapped class an object belongs to (pure).

Rules about relationships fire only on receivers known to be mapped objects: a
parameter annotated with the class, `session.get(Model, ...)`, the rows of
`select(Model)`, `Model(...)`, a loop over any of those, a relationship of a
known object, or a call of a project function whose return type names the class.
A name bound to anything else, or to two different things, stays unknown.
"""

from __future__ import annotations

import ast

from sqlmodel_production.doctor._project import ModelClass, ProjectIndex
from sqlmodel_production.doctor._source import COMPREHENSIONS, FunctionNode, SourceFile
from sqlmodel_production.doctor._syntax import annotation_names, constant, terminal

__all__ = ["Receivers"]

# Result and query methods that hand back the rows (or a row) of what they are called on.
_PASS_THROUGH = frozenset(
    {
        "all",
        "first",
        "one",
        "one_or_none",
        "scalars",
        "scalar",
        "scalar_one",
        "scalar_one_or_none",
        "unique",
        "fetchall",
        "fetchone",
        "where",
        "filter",
        "filter_by",
        "options",
        "order_by",
        "limit",
        "offset",
        "join",
        "outerjoin",
        "distinct",
        "execution_options",
        "group_by",
        "having",
    }
)
_RUNS = frozenset({"exec", "execute", "scalars", "scalar", "get_one", "stream_scalars"})
_BUILTINS = frozenset({"list", "sorted", "reversed", "tuple", "set", "iter"})
_UNKNOWN = object()


class Receivers:
    """The mapped class of each name in one function (flow-insensitive, conservative)."""

    def __init__(
        self, file: SourceFile, function: FunctionNode, project: ProjectIndex
    ) -> None:
        self.file = file
        self.function = function
        self.project = project
        self.calls: set[str] = set()
        """Project functions whose result typed a name: their loader options count too."""
        self._module: dict[str, ast.expr] = {}
        for statement in file.tree.body:
            if (
                isinstance(statement, ast.Assign)
                and len(statement.targets) == 1
                and isinstance(statement.targets[0], ast.Name)
            ):
                self._module[statement.targets[0].id] = statement.value
        self._types: dict[str, object] = {}
        # (target, value, annotation, each): `each` when the target takes the elements.
        pending: list[tuple[ast.expr, ast.expr | None, ast.expr | None, bool]] = []
        for node in file.body_nodes(function):
            if isinstance(node, ast.Assign):
                pending.extend((t, node.value, None, False) for t in node.targets)
            elif isinstance(node, ast.AnnAssign):
                pending.append((node.target, node.value, node.annotation, False))
            elif isinstance(node, ast.For | ast.AsyncFor):
                pending.append((node.target, node.iter, None, True))
            elif isinstance(node, COMPREHENSIONS):
                pending.extend((g.target, g.iter, None, True) for g in node.generators)
            elif isinstance(node, ast.NamedExpr):
                pending.append((node.target, node.value, None, False))
            elif isinstance(node, ast.With | ast.AsyncWith):
                pending.extend(
                    (item.optional_vars, None, None, False)
                    for item in node.items
                    if item.optional_vars is not None
                )
        arguments = [
            *function.args.posonlyargs,
            *function.args.args,
            *function.args.kwonlyargs,
        ]
        # Twice: a name typed by a binding later in the source settles the second time.
        for _ in range(2):
            self._types.clear()
            for arg in arguments:
                if arg.annotation is not None:
                    self._bind(arg.arg, self._annotated(arg.annotation))
            for target, value, annotation, each in pending:
                if not isinstance(target, ast.Name):
                    # `a, b = ...` binds both (to something unknown); `obj.attr = ...`
                    # and `rows[0] = ...` bind no name.
                    for inner in _unpacked(target):
                        self._bind(inner.id, None)
                elif annotation is not None:
                    self._bind(target.id, self._annotated(annotation))
                elif value is None:
                    self._bind(target.id, None)
                elif not each and constant(value) is None:
                    continue  # `x = None` before the real binding
                else:
                    self._bind(target.id, self.model(value))

    def model_of(self, name: str) -> ModelClass | None:
        """The mapped class of the object(s) a local name holds, if known."""
        found = self._types.get(name)
        return found if isinstance(found, ModelClass) else None

    def model(self, node: ast.expr | None) -> ModelClass | None:
        """The mapped class of the object(s) an expression gives, if known."""
        if node is None:
            return None
        if isinstance(node, ast.Await):
            return self.model(node.value)
        if isinstance(node, ast.Name):
            if node.id in self._types:
                return self.model_of(node.id)
            if node.id in self._module:
                return self.model(self._module[node.id])
            return None
        if isinstance(node, ast.Subscript):
            return self.model(node.value)
        if isinstance(node, ast.Attribute):
            owner = self.model(node.value)
            if owner is None:
                return None
            relationship = self.project.relationship(owner, node.attr)
            if relationship is None or relationship.target is None:
                return None
            return self._mapped(relationship.target)
        if isinstance(node, ast.Call):
            return self._call(node)
        return None

    def _call(self, call: ast.Call) -> ModelClass | None:
        func = call.func
        name = terminal(self.file.resolve(func))
        if isinstance(func, ast.Name):
            model = self._mapped(func.id)
            if model is not None:
                return model  # `Hero(...)`
            if func.id in _BUILTINS and call.args:
                return self.model(call.args[0])
            if name == "select":
                return self._selected(call)
            return self._returned(func.id)
        if not isinstance(func, ast.Attribute):
            return None
        method = func.attr
        if method in {"model_validate", "from_orm", "model_construct"}:
            return self.model(func.value) if _is_class(func.value) else None
        if method in {"get", "get_one"} and call.args and _is_class(call.args[0]):
            return self._class(call.args[0])  # `session.get(Hero, id)`
        if method in _RUNS and call.args:
            return self._statement(call.args[0])
        if method == "query":
            return self._selected(call)  # `session.query(Hero)`
        if method in _PASS_THROUGH:
            return self.model(func.value)
        if name == "select":
            return self._selected(call)
        return self._returned(method)

    def _statement(self, node: ast.expr) -> ModelClass | None:
        """The class whose rows a statement selects: `select(Hero).where(...)`."""
        while True:
            if isinstance(node, ast.Name) and node.id in self._module:
                node = self._module[node.id]
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in _PASS_THROUGH
            ):
                node = node.func.value
            else:
                break
        if isinstance(node, ast.Call) and terminal(self.file.resolve(node.func)) in {
            "select",
            "query",
        }:
            return self._selected(node)
        return None

    def _selected(self, call: ast.Call) -> ModelClass | None:
        if len(call.args) == 1 and _is_class(call.args[0]):
            return self._class(call.args[0])
        return None

    def _returned(self, function: str) -> ModelClass | None:
        """The mapped class a project function's return annotation names, if one."""
        defined = self.project.functions.get(function, [])
        found: set[ModelClass] = set()
        for file, node in defined:
            names = list(annotation_names(node.returns))
            models = {self.project.resolve_model(file, n.id) for n in names}
            models.discard(None)
            if len(models) != 1:
                return None
            model = models.pop()
            assert model is not None
            found.add(model)
        if len(found) != 1:
            return None
        model = found.pop()
        if not (model.table or model.declarative):
            return None
        self.calls.add(function)
        return model

    def _annotated(self, annotation: ast.expr) -> ModelClass | None:
        models = {
            self._mapped(name.id, any_model=True)
            for name in annotation_names(annotation)
        }
        models.discard(None)
        return models.pop() if len(models) == 1 else None

    def _class(self, node: ast.expr) -> ModelClass | None:
        name = node.id if isinstance(node, ast.Name) else getattr(node, "attr", "")
        return self._mapped(name)

    def _mapped(self, name: str, *, any_model: bool = False) -> ModelClass | None:
        model = self.project.resolve_model(self.file, name)
        if model is None:
            return None
        return model if any_model or model.table or model.declarative else None

    def _bind(self, name: str, model: ModelClass | None) -> None:
        previous = self._types.get(name)
        if name not in self._types:
            self._types[name] = model if model is not None else _UNKNOWN
        elif previous is not model:
            self._types[name] = _UNKNOWN


def _is_class(node: ast.expr) -> bool:
    name = node.id if isinstance(node, ast.Name) else getattr(node, "attr", "")
    return isinstance(node, ast.Name | ast.Attribute) and name[:1].isupper()


def _unpacked(target: ast.expr) -> list[ast.Name]:
    if isinstance(target, ast.Name):
        return [target]
    if isinstance(target, ast.Starred):
        return _unpacked(target.value)
    if isinstance(target, ast.Tuple | ast.List):
        return [name for element in target.elts for name in _unpacked(element)]
    return []
