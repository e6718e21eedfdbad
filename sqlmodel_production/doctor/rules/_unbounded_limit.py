"""SMP012: a list endpoint whose `limit` has no upper bound, or whose paging accepts negatives."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from sqlmodel_production.doctor._findings import Finding, Severity
from sqlmodel_production.doctor._project import ProjectIndex
from sqlmodel_production.doctor._rule import Rule
from sqlmodel_production.doctor._source import SourceFile
from sqlmodel_production.doctor._syntax import (
    is_dependency,
    parameters,
    route_decorator,
    terminal,
)

_LIMITS = frozenset({"limit", "page_size", "per_page"})
_OFFSETS = frozenset({"offset", "skip"})
_CONSTRAINED = frozenset(
    {"Query", "Field", "Path", "Body", "Form", "Header", "Cookie", "conint"}
)


class UnboundedLimitRule(Rule):
    code = "SMP012"
    title = "Unbounded or negative paging parameter"
    severity = Severity.ERROR
    rationale = (
        "A `limit` without an upper bound lets one request load a whole table into memory and "
        "serialize it. A `limit` or `offset` without a lower bound lets negatives through to the "
        "database: on SQLite `LIMIT -1` means no limit at all (the cap is bypassed), PostgreSQL "
        "rejects a negative LIMIT or OFFSET and MariaDB cannot parse it, a 500 either way. "
        "Declare both bounds so FastAPI answers 422 before any query runs."
    )
    bad = """\
@app.get("/heroes/", response_model=list[HeroPublic])
def read_heroes(*, session: SessionDep, offset: int = 0, limit: int = 100):
    return session.exec(select(Hero).offset(offset).limit(limit)).all()
"""
    good = """\
@app.get("/heroes/", response_model=list[HeroPublic])
def read_heroes(
    *,
    session: SessionDep,
    offset: int = Query(default=0, ge=0),
    limit: int = Query(default=100, ge=1, le=100),
):
    return session.exec(select(Hero).offset(offset).limit(limit)).all()
"""

    def check(self, file: SourceFile, project: ProjectIndex) -> Iterator[Finding]:
        for function in file.functions:
            if route_decorator(function) is None:
                continue
            for param, default in parameters(function):
                name = param.arg
                if (
                    name not in _LIMITS | _OFFSETS
                    or is_dependency(file, param, default)
                    or _made_elsewhere(file, default)
                    or _never_queried(file, function, name)
                ):
                    continue
                bounds = _bounds(file, param, default)
                problems = []
                if name in _LIMITS and not bounds & {"le", "lt"}:
                    problems.append(
                        "has no upper bound (one request can load the whole table)"
                    )
                if not bounds & {"ge", "gt"}:
                    problems.append(
                        "accepts negative values (SQLite reads `LIMIT -1` as no limit; "
                        "PostgreSQL and MariaDB fail, a 500)"
                        if name in _LIMITS
                        else "accepts negative values (PostgreSQL and MariaDB fail on a "
                        "negative OFFSET, a 500)"
                    )
                if not problems:
                    continue
                if name in _LIMITS:
                    fix = f"Declare `{name}: int = Query(default=100, ge=1, le=100)`."
                else:
                    fix = f"Declare `{name}: int = Query(default=0, ge=0)`."
                yield self.finding(
                    file, param, f"`{name}` " + " and ".join(problems) + ".", fix
                )


def _bounds(file: SourceFile, param: ast.arg, default: ast.expr | None) -> set[str]:
    """The bound keywords (`ge`, `gt`, `le`, `lt`) set on the parameter, negatives ignored."""
    calls: list[ast.AST] = [default] if default is not None else []
    annotation = param.annotation
    if isinstance(annotation, ast.Subscript) and isinstance(
        annotation.slice, ast.Tuple
    ):
        calls.extend(annotation.slice.elts[1:])
    found: set[str] = set()
    for call in calls:
        if (
            isinstance(call, ast.Call)
            and terminal(file.resolve(call.func)) in _CONSTRAINED
        ):
            for item in call.keywords:
                value = _number(item.value)
                floor = {"ge": 0, "gt": -1}.get(item.arg or "")
                lower_bad = (
                    floor is not None and isinstance(value, int) and value < floor
                )
                if item.arg in {"ge", "gt", "le", "lt"} and not lower_bad:
                    found.add(item.arg)
    return found


def _made_elsewhere(file: SourceFile, default: ast.expr | None) -> bool:
    """A default built by a helper of the project (`LimitBody()`), which may bound it itself."""
    return isinstance(default, ast.Call) and terminal(
        file.resolve(default.func)
    ) not in _CONSTRAINED | {"int", "float", "min", "max", "abs", "round"}


def _never_queried(file: SourceFile, function: ast.AST, name: str) -> bool:
    """The parameter is only sliced and compared in Python (`rows[offset:]`), never handed
    to a call such as `.offset()`: a negative value is no database error there."""
    uses = [
        node
        for node in file.body_nodes(function)
        if isinstance(node, ast.Name)
        and node.id == name
        and isinstance(node.ctx, ast.Load)
    ]
    return bool(uses) and not any(_handed_to_a_call(file, use) for use in uses)


def _handed_to_a_call(file: SourceFile, node: ast.AST) -> bool:
    child, parent = node, file.parents.get(node)
    while parent is not None and not isinstance(parent, ast.stmt):
        if isinstance(parent, ast.Compare) or (
            isinstance(parent, ast.Subscript) and child is parent.slice
        ):
            return False
        if isinstance(parent, ast.Call) and child is not parent.func:
            return True
        child, parent = parent, file.parents.get(parent)
    # Stored in a name, returned or yielded: it may reach a query later.
    return not isinstance(parent, ast.If | ast.While | ast.Assert)


def _number(node: ast.expr) -> object:
    """The value of a numeric literal such as `-5`, else `...`."""
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError):
        return ...
