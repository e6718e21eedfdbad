"""SMP012: a list endpoint whose `limit` has no upper bound, or whose paging accepts negatives."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from sqlmodel_production.doctor._findings import Finding, Severity
from sqlmodel_production.doctor._project import ProjectIndex
from sqlmodel_production.doctor._rule import Rule
from sqlmodel_production.doctor._source import FunctionNode, SourceFile
from sqlmodel_production.doctor._syntax import (
    is_dependency,
    parameters,
    route_decorator,
    terminal,
)
from sqlmodel_production.doctor.rules._flow import DEPTH, called, loads, receivers

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
        "Declare both bounds so FastAPI answers 422 before any query runs. A bound the "
        "endpoint checks or clamps itself, or the function it hands the value to, counts. Only "
        "a value seen reaching a query is reported: the statement's `.limit()` or `.offset()`, "
        "SQL text or an `execute()`, in the endpoint or in functions of the project it hands "
        "the value to; a value sliced in Python, handed to a library, stored on an object or "
        "never used is not. On a "
        "project that runs on SQLite alone (its code names no other database and its "
        "dependency files list no server driver) a negative offset is not reported: SQLite "
        "reads it as 0."
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
                    or _never_queried(file, project, function, name)
                ):
                    continue
                bounds = _bounds(file, param, default) | _enforced(
                    file, project, function, name
                )
                problems = []
                if name in _LIMITS and not bounds & {"le", "lt"}:
                    problems.append(
                        "has no upper bound (one request can load the whole table)"
                    )
                if not bounds & {"ge", "gt"} and (
                    name in _LIMITS or not project.sqlite_only
                ):
                    # (SQLite reads a negative OFFSET as 0: no error, no bypassed cap.)
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


def _checked(file: SourceFile, function: ast.AST, name: str) -> set[str]:
    """Bounds the endpoint enforces itself: `if offset < 0: raise ...` (a lower bound),
    `if limit > 100: raise ...` or `limit = min(limit, 100)` (an upper bound),
    `limit = max(1, min(limit, 100))` or `if limit <= 0 or limit > 1000: limit = 50`
    (both)."""
    found: set[str] = set()
    for node in file.body_nodes(function):
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == name for t in node.targets
        ):
            for use in ast.walk(node.value):
                if isinstance(use, ast.Name) and use.id == name:
                    bounds, _, parent = _clamps_around(file, use)
                    if parent is node:  # `limit = max(1, min(limit, 100))`
                        found |= bounds
        if isinstance(node, ast.If) and _refuses_or_resets(node, name):
            # `if offset < 0: raise ...`, `if limit <= 0 or limit > 1000: limit = 50`
            tests = (
                node.test.values
                if isinstance(node.test, ast.BoolOp)
                and isinstance(node.test.op, ast.Or)
                else [node.test]
            )
            for test in tests:
                if not (
                    isinstance(test, ast.Compare)
                    and len(test.ops) == 1
                    and isinstance(test.left, ast.Name)
                    and test.left.id == name
                ):
                    continue
                bound = _number(test.comparators[0])
                if isinstance(test.ops[0], ast.Lt | ast.LtE) and bound in {0, 1}:
                    found.add("ge")
                elif isinstance(test.ops[0], ast.Gt | ast.GtE):
                    found.add("le")
    return found


def _refuses_or_resets(branch: ast.If, name: str) -> bool:
    """The branch raises, or sets the value anew to a number (`limit = 50`)."""
    return any(
        isinstance(statement, ast.Raise)
        or (
            isinstance(statement, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == name for t in statement.targets)
            and isinstance(_number(statement.value), int)
        )
        for statement in branch.body
    )


def _enforced(
    file: SourceFile,
    project: ProjectIndex,
    function: FunctionNode,
    name: str,
    depth: int = 0,
) -> set[str]:
    """The bounds that hold on every way the value takes to a query: checked in this
    function, clamped where it is used (`.limit(max(1, min(limit, 500)))`), or enforced by every function of the project it
    is handed to (`compute_pending(limit=limit)` that starts with `limit = min(limit, 1000)`)."""
    found = _checked(file, function, name)
    common: set[str] | None = None
    for node in loads(file, function, name):
        if not _may_reach_a_query(file, project, node, depth):
            continue
        bounds, child, parent = _clamps_around(file, node)
        if isinstance(parent, ast.keyword):
            child, parent = parent, file.parents.get(parent)
        if (
            depth < DEPTH
            and isinstance(parent, ast.Call)
            and child is not parent.func
            and called(parent) not in _QUERIES
        ):
            handed = receivers(file, project, parent, child)
            if handed:
                bounds |= set.intersection(
                    *(
                        _enforced(other, project, callee, parameter, depth + 1)
                        for other, callee, parameter in handed
                    )
                )
        common = bounds if common is None else common & bounds
    return found | (common or set())


def _clamps_around(
    file: SourceFile, node: ast.AST
) -> tuple[set[str], ast.AST, ast.AST | None]:
    """The bounds of the `min(...)`/`max(...)` calls wrapping a use, and where they end."""
    bounds: set[str] = set()
    child: ast.AST = node
    parent = file.parents.get(node)
    while (
        isinstance(parent, ast.Call)
        and isinstance(parent.func, ast.Name)
        and parent.func.id in {"min", "max"}
        and child in parent.args
    ):
        bounds.add("le" if parent.func.id == "min" else "ge")
        child, parent = parent, file.parents.get(parent)
    return bounds, child, parent


def _never_queried(
    file: SourceFile,
    project: ProjectIndex,
    function: ast.AST,
    name: str,
    depth: int = 0,
) -> bool:
    """The parameter is only sliced and compared in Python (`rows[offset:]`), or handed to
    functions of the project that only do that (`read_log(offset)`, through
    `run_in_threadpool` too) or take it and never use it, never to a call such as `.offset()`: a
    negative value is no database error there."""
    uses = loads(file, function, name)
    if not uses:
        # Taken and never used, by the endpoint or a function it hands the value to
        # (nested functions and `locals()` included): it reaches nothing.
        return not any(
            (isinstance(node, ast.Name) and node.id in {name, "locals", "vars"})
            for node in ast.walk(function)
        )
    return not any(_may_reach_a_query(file, project, use, depth) for use in uses)


def _may_reach_a_query(
    file: SourceFile, project: ProjectIndex, node: ast.Name, depth: int
) -> bool:
    """Whether the value of `node` is seen reaching a query: a statement's paging
    (`.limit(limit)`), an executed statement or SQL text (`{"limit": limit}` handed to
    `execute`), or a function of the project that does either, directly or through a
    local name. A value handed to a library's function, stored on an object or returned
    is not followed: only what the doctor sees reach the database is reported."""
    child: ast.AST = node
    parent = file.parents.get(node)
    while parent is not None and not isinstance(parent, ast.stmt):
        if (
            isinstance(parent, ast.Compare)
            or (isinstance(parent, ast.Subscript) and child is parent.slice)
            or (isinstance(parent, ast.IfExp) and child is parent.test)
        ):
            return False
        if (
            isinstance(parent, ast.Call)
            and child is not parent.func
            and called(parent) not in _CONVERSIONS
        ):
            if called(parent) in _NOT_QUERIES:
                return False
            if called(parent)[:1].isupper() and not project.functions.get(
                called(parent)
            ):
                return False  # echoed in a response (`TokenListResponse(limit=limit)`)
            if called(parent) in _QUERIES | _EXECUTES:
                return True  # (whatever functions of those names the project has)
            handed = receivers(file, project, parent, child)
            return bool(handed) and (
                depth >= DEPTH
                or not all(
                    _never_queried(other, project, callee, parameter, depth + 1)
                    for other, callee, parameter in handed
                )
            )
        child, parent = parent, file.parents.get(parent)
    # Stored in a name of this function (`end = offset + limit`): where that name goes.
    if (
        isinstance(parent, ast.Assign)
        and len(parent.targets) == 1
        and isinstance(parent.targets[0], ast.Name)
        and parent.targets[0].id != node.id
        and depth < DEPTH
        and (function := file.enclosing_function(parent)) is not None
    ):
        return not _never_queried(
            file, project, function, parent.targets[0].id, depth + 1
        )
    # Returned, yielded, stored on an object or only tested: not seen reaching a query.
    return False


# File and iterator positions, not rows; a record of the call (a test double's `append`).
_NOT_QUERIES = frozenset({"seek", "islice", "append", "deque"})
# A statement's own paging.
_QUERIES = frozenset({"limit", "offset", "slice", "fetch"})
# Calls whose result carries the value on (`.limit(min(int(limit), 100))`).
_CONVERSIONS = frozenset({"int", "float", "abs", "round", "min", "max"})
# What runs a statement or builds SQL text (`execute(text(sql), {"limit": limit})`).
_EXECUTES = frozenset(
    {
        "execute",
        "exec",
        "text",
        "scalars",
        "scalar",
        "fetchrow",
        "fetchval",
        "fetch_all",
    }
)


def _number(node: ast.expr) -> object:
    """The value of a numeric literal such as `-5`, else `...`."""
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError):
        return ...
