"""SMP011: `session.get(...)` used without a not-found check."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from sqlmodel_production.doctor._findings import Finding, Severity
from sqlmodel_production.doctor._project import ProjectIndex
from sqlmodel_production.doctor._rule import Rule
from sqlmodel_production.doctor._source import FunctionNode, SourceFile
from sqlmodel_production.doctor._syntax import receiver_name, route_decorator

_TESTS = (ast.If, ast.While, ast.IfExp, ast.Assert)
_EQUALITY = (ast.Eq, ast.NotEq, ast.Is, ast.IsNot)
_LOGGING = frozenset(
    {"debug", "info", "warning", "warn", "error", "exception", "critical", "log"}
)


class UncheckedGetRule(Rule):
    code = "SMP011"
    title = "session.get() result used without a not-found check"
    #: An info until it is measured at 90 % precision or more on code it has not seen: 5 of
    #: the 10 decided findings of the evaluation sets were true (docs/doctor.md).
    severity = Severity.INFO
    #: In a test, a missing row failing with an AttributeError is the test failing.
    skip_tests = True
    rationale = (
        "`session.get(Model, id)` returns `None` when no row has that id. Used without a check, a "
        "missing id becomes an `AttributeError` (a 500) or a `null` body with status 200, instead "
        "of the 404 the client can act on. Check the result right after the call and raise "
        "`HTTPException(status_code=404)`; a helper (a function that is not an endpoint) that "
        "returns the result passes the duty to its caller and is not flagged. Comparing (`if user == current_user:`), printing and "
        'logging the result, `getattr(obj, "name", default)` and a conditional expression '
        "that tests it (`obj.name if obj else None`) cannot raise on `None` and do not count "
        "as uses, nor does handing it to another function (which may take `None`), unless that "
        "fails on `None` itself (`session.delete(obj)`, `Model.model_validate(obj)`); tests are "
        "not checked (a missing row failing the test is what a test is for)."
    )
    bad = """\
@app.get("/heroes/{hero_id}", response_model=HeroPublic)
def read_hero(*, session: SessionDep, hero_id: int):
    hero = session.get(Hero, hero_id)
    return hero
"""
    good = """\
@app.get("/heroes/{hero_id}", response_model=HeroPublic)
def read_hero(*, session: SessionDep, hero_id: int):
    hero = session.get(Hero, hero_id)
    if not hero:
        raise HTTPException(status_code=404, detail="Hero not found")
    return hero
"""

    def check(self, file: SourceFile, project: ProjectIndex) -> Iterator[Finding]:
        for function in file.functions:
            nodes = file.body_nodes(function)
            for position, node in enumerate(nodes):
                if not _is_session_get(node, project):
                    continue
                assert isinstance(node, ast.Call)
                user = file.parents[node]
                if isinstance(user, ast.Await):
                    user = file.parents[user]
                if isinstance(user, ast.Return) and not _may_return_none(function):
                    # (only from an endpoint: a helper hands it to its caller, as below)
                    problem = "is returned as is"
                elif isinstance(user, ast.Attribute):
                    problem = f"is used at once (`.{user.attr}`)"
                elif (
                    isinstance(user, ast.Assign | ast.AnnAssign)
                    and len(targets := _targets(user)) == 1
                    and isinstance(targets[0], ast.Name)
                    and _used_before_check(
                        file,
                        # (`dataset = session.get(Dataset, dataset.id)` reads the old value)
                        [
                            n
                            for n in nodes[position + 1 :]
                            if n not in set(ast.walk(node))
                        ],
                        targets[0].id,
                        function,
                    )
                ):
                    problem = f"is stored in `{targets[0].id}` and used before any `None` check"
                else:
                    continue
                call = ast.unparse(node)
                model = ast.unparse(node.args[0])
                yield self.finding(
                    file,
                    node,
                    f"`{call}` returns None when the row does not exist, and the result {problem}: "
                    "a missing id becomes a 500 or a `null` body instead of a 404.",
                    f"Check it first: `if obj is None: raise HTTPException(status_code=404, "
                    f'detail="{model} not found")`.',
                )


def _is_session_get(node: ast.AST, project: ProjectIndex) -> bool:
    if not (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "get"
        and len(node.args) >= 2
    ):
        return False
    model = node.args[0]
    model_name = model.id if isinstance(model, ast.Name) else getattr(model, "attr", "")
    if project.is_table(model_name):
        return True
    receiver = receiver_name(node).lower()
    return ("session" in receiver or receiver in {"db", "s"}) and model_name[
        :1
    ].isupper()


def _targets(statement: ast.Assign | ast.AnnAssign) -> list[ast.expr]:
    return (
        statement.targets if isinstance(statement, ast.Assign) else [statement.target]
    )


def _may_return_none(function: FunctionNode) -> bool:
    """Whether returning None is the function's business: a helper's caller receives it
    (whatever the annotation says), an endpoint's client only where it says `| None`."""
    if route_decorator(function) is None:
        return True
    returns = function.returns
    if returns is None:
        return False
    return any(
        (isinstance(node, ast.Constant) and node.value is None)
        or (isinstance(node, ast.Name) and node.id == "Optional")
        or (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and "None" in node.value
        )
        for node in ast.walk(returns)
    )


def _used_before_check(
    file: SourceFile, following: list[ast.AST], name: str, function: FunctionNode
) -> bool:
    narrowed: set[ast.AST] = set()
    for node in following:
        if not (isinstance(node, ast.Name) and node.id == name) or node in narrowed:
            continue
        if not isinstance(node.ctx, ast.Load):
            return False  # rebound before use
        parent = file.parents[node]
        if isinstance(parent, ast.Return):
            return not _may_return_none(function)
        if isinstance(parent, ast.BoolOp | ast.NamedExpr):
            return False
        if isinstance(parent, ast.UnaryOp) and isinstance(parent.op, ast.Not):
            return False
        if isinstance(parent, ast.Compare):
            sides = [parent.left, *parent.comparators]
            if any(
                isinstance(side, ast.Constant) and side.value is None for side in sides
            ):
                return False
            if all(isinstance(op, _EQUALITY) for op in parent.ops):
                # `user == current_user` cannot raise on None; where it holds, `user` is
                # what it equals (`if user == current_user: return user`).
                narrowed.update(_where_equal(file, parent))
                continue
        if _only_shown(file, parent) or _guarded_read(file, parent, node, name):
            continue
        if _handed_over(file, parent, node):
            continue  # another function's business: it may accept None (`Optional[...]`)
        return not (isinstance(parent, _TESTS) and parent.test is node)
    return False


def _handed_over(file: SourceFile, parent: ast.AST, node: ast.Name) -> bool:
    """Passed to a function that is not known to fail on None (`_check_owner(data, ...)`);
    a session's `delete(obj)`, a `model_validate(obj)`, `getattr(obj, name)` and the like
    do fail, and stay uses."""
    call = file.parents.get(parent) if isinstance(parent, ast.keyword) else parent
    if not isinstance(call, ast.Call) or call.func is node:
        return False
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr not in _FAILS_ON_NONE
    if isinstance(func, ast.Name):
        return func.id not in _FAILS_ON_NONE and func.id not in _BUILTINS_FAILING
    return False


_FAILS_ON_NONE = frozenset(
    {
        "delete",
        "add",
        "refresh",
        "merge",
        "expunge",
        "model_validate",
        "from_orm",
        "parse_obj",
        "validate",
    }
)
_BUILTINS_FAILING = frozenset(
    {"getattr", "setattr", "len", "iter", "list", "dict", "vars", "sorted"}
)


def _guarded_read(file: SourceFile, parent: ast.AST, node: ast.Name, name: str) -> bool:
    """A read that cannot raise on None: `getattr(x, "name", default)`, or one inside a
    conditional expression that tests `x` (`x.name if x else None`)."""
    if (
        isinstance(parent, ast.Call)
        and isinstance(parent.func, ast.Name)
        and parent.func.id in {"getattr", "hasattr", "isinstance"}
        and parent.args[:1] == [node]
        and (parent.func.id != "getattr" or len(parent.args) == 3)
    ):
        return True
    current: ast.AST | None = node
    while current is not None and not isinstance(current, ast.stmt):
        above = file.parents.get(current)
        if (
            isinstance(above, ast.IfExp)
            and current is not above.test
            and any(
                isinstance(n, ast.Name) and n.id == name for n in ast.walk(above.test)
            )
        ):
            return True
        current = above
    return False


def _where_equal(file: SourceFile, compare: ast.Compare) -> Iterator[ast.AST]:
    """The nodes of the branch an `if a == b` / `if a != b` takes when the two are equal."""
    statement = file.parents.get(compare)
    if not isinstance(statement, ast.If) or statement.test is not compare:
        return
    equal = isinstance(compare.ops[0], ast.Eq | ast.Is)
    for branch in statement.body if equal else statement.orelse:
        yield from ast.walk(branch)


def _only_shown(file: SourceFile, parent: ast.AST) -> bool:
    """Printed, logged or formatted: None shows as `None` and nothing raises."""
    if isinstance(parent, ast.FormattedValue):
        return True
    if not isinstance(parent, ast.Call):
        return False
    func = parent.func
    if isinstance(func, ast.Name):
        return func.id in {"print", "repr", "str"}
    return isinstance(func, ast.Attribute) and func.attr in _LOGGING
