"""SMP018: a query per item of a loop (`session.get`, a `select`, `refresh`): N+1."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from sqlmodel_production.doctor._findings import Finding, Severity
from sqlmodel_production.doctor._project import ProjectIndex
from sqlmodel_production.doctor._rule import Rule
from sqlmodel_production.doctor._source import COMPREHENSIONS, SourceFile
from sqlmodel_production.doctor._syntax import receiver_name, terminal

from ._sessions import session_names

_RUNS = frozenset({"exec", "execute", "scalars", "scalar", "stream", "stream_scalars"})
_PAGING = frozenset({"offset", "limit", "slice", "fetch"})
# An item inside these is a batch of keys (`Event.id.in_(chunk)`), not one key.
_BATCH = frozenset({"in_", "any_", "not_in"})
_SCRIPT_DIRS = frozenset({"scripts", "script", "migrations", "alembic"})
_NESTED = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)


class QueryInLoopRule(Rule):
    code = "SMP018"
    title = "Query per item of a loop (N+1 queries)"
    severity = Severity.INFO
    skip_tests = True
    rationale = (
        "A `session.get(...)`, a `select` or a `refresh()` that depends on the loop's item runs "
        "one query per item: N round trips where one query would do, slow on a real page and "
        "invisible on ten test rows (async code hides it as well as sync code). Fetch the rows "
        "in one query before the loop (`select(Hero).where(Hero.id.in_(ids))`, then a dict by "
        "id), load relationships with the query, and after a bulk insert take the values from "
        "`RETURNING` instead of refreshing each object. Reported on sessions the function is "
        "known to hold (a parameter typed as a session or `SessionDep`, `with Session(...) as "
        "session`), not in one-off scripts or migrations, nor for a batch of keys per "
        "iteration (`.in_(chunk)`), nor over a fixed list the code writes out (`for model in "
        "(Entity, Edge):`, a `TABLES` constant), in `for` loops without a `break` and in "
        "comprehensions; an info while its precision on real projects is measured."
    )
    bad = """\
@app.get("/teams/{team_id}/heroes")
async def read_team_heroes(*, session: AsyncSessionDep, team_id: int, ids: list[int]):
    heroes = []
    for hero_id in ids:
        heroes.append(await session.get(Hero, hero_id))
    return heroes
"""
    good = """\
@app.get("/teams/{team_id}/heroes")
async def read_team_heroes(*, session: AsyncSessionDep, team_id: int, ids: list[int]):
    result = await session.exec(select(Hero).where(Hero.id.in_(ids)))
    return result.all()
"""

    def check(self, file: SourceFile, project: ProjectIndex) -> Iterator[Finding]:
        if file.is_migration or _SCRIPT_DIRS.intersection(file.path.split("/")[:-1]):
            return  # one-off scripts and data migrations: run once, not a request path
        for function in file.functions:
            sessions: set[str] | None = None
            for loop in file.body_nodes(function):
                for items, body in _loops(loop):
                    if not items or any(isinstance(n, ast.Break) for n in body):
                        continue
                    if sessions is None:
                        sessions = session_names(file, function)
                    for node in body:
                        if (
                            isinstance(node, ast.Call)
                            and _per_item_query(file, node, sessions, items)
                            and not _leaves_the_loop(file, node, loop)
                        ):
                            yield self._finding(file, node)

    def _finding(self, file: SourceFile, call: ast.Call) -> Finding:
        assert isinstance(call.func, ast.Attribute)
        method = call.func.attr
        shown = ast.unparse(call)
        if len(shown) > 60:
            shown = f"{ast.unparse(call.func)}(...)"
        if method == "refresh":
            fix = (
                "Take generated values from the statement (`insert(...).returning(...)`), keep "
                "`expire_on_commit=False`, or select the objects again in one query after the loop."
            )
        elif method in {"get", "get_one"}:
            model = ast.unparse(call.args[0])
            fix = (
                f"Fetch them in one query before the loop: "
                f"`select({model}).where({model}.id.in_(ids))`, then look them up by id."
            )
        else:
            fix = "Run one query for all the items before the loop (`WHERE ... IN`), then group the rows."
        return self.finding(
            file,
            call,
            f"`{shown}` runs one query per item of the loop (N+1): N round trips where one "
            "query would do.",
            fix,
        )


def _loops(node: ast.AST) -> Iterator[tuple[set[str], list[ast.AST]]]:
    """The names each `for` loop or comprehension binds, with the nodes run per item; not a
    loop over a fixed list written out in the code (`for model in (Entity, Edge):`, a
    `TABLES` constant): its queries are one per kind, not one per row."""
    if isinstance(node, ast.For | ast.AsyncFor):
        if not _fixed(node.iter):
            yield _names(node.target), list(_walk(node.body))
    elif isinstance(node, COMPREHENSIONS):
        elements = (
            [node.key, node.value] if isinstance(node, ast.DictComp) else [node.elt]
        )
        for generator in node.generators:
            yield _names(generator.target), list(_walk([*elements, *generator.ifs]))


def _fixed(items: ast.expr) -> bool:
    """A literal tuple or list, or a constant's name (`METRIC_TABLES`, `self.KINDS`)."""
    if isinstance(items, ast.Tuple | ast.List | ast.Set):
        return True
    name = (
        items.id
        if isinstance(items, ast.Name)
        else items.attr
        if isinstance(items, ast.Attribute)
        else ""
    )
    return len(name) > 1 and name.isupper()


def _leaves_the_loop(file: SourceFile, call: ast.Call, loop: ast.AST) -> bool:
    """The query is followed by a `return`, `raise` or `break` in its own block (or is
    returned itself): it runs for one item at most, not once per item."""
    node: ast.AST = call
    while (parent := file.parents.get(node)) is not None and node is not loop:
        if isinstance(node, ast.Return):
            return True
        if isinstance(node, ast.stmt):
            for block in (
                getattr(parent, name, None) for name in ("body", "orelse", "finalbody")
            ):
                if isinstance(block, list) and node in block:
                    after = block[block.index(node) + 1 :]
                    if any(
                        isinstance(s, ast.Return | ast.Raise | ast.Break) for s in after
                    ):
                        return True
        node = parent
    return False


def _names(target: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}


def _walk(roots: list[ast.stmt] | list[ast.expr]) -> Iterator[ast.AST]:
    """The nodes under `roots`, not those of functions defined there."""
    pending: list[ast.AST] = list(roots)
    while pending:
        node = pending.pop()
        yield node
        if not isinstance(node, _NESTED):
            pending.extend(ast.iter_child_nodes(node))


def _per_item_query(
    file: SourceFile, call: ast.Call, sessions: set[str], items: set[str]
) -> bool:
    func = call.func
    if not (
        isinstance(func, ast.Attribute)
        and isinstance(func.value, ast.Name)
        and func.value.id in sessions
        and receiver_name(call)
    ):
        return False
    method = func.attr
    if method == "refresh":
        return bool(call.args) and _uses(call.args[0], items)
    if method in {"get", "get_one"}:
        return len(call.args) >= 2 and any(_uses(arg, items) for arg in call.args[1:])
    if method in _RUNS and call.args:
        statement = call.args[0]
        return _is_select(file, statement) and _uses(statement, items)
    return False


def _uses(node: ast.AST, items: set[str]) -> bool:
    """Whether the item is in the query, not only in its page (`.offset(page * 10)`)."""
    pending = [node]
    while pending:
        current = pending.pop()
        if isinstance(current, ast.Name) and current.id in items:
            return True
        if (
            isinstance(current, ast.Call)
            and isinstance(current.func, ast.Attribute)
            and current.func.attr in _PAGING | _BATCH
        ):
            pending.append(current.func.value)
            continue
        pending.extend(ast.iter_child_nodes(current))
    return False


def _is_select(file: SourceFile, node: ast.AST) -> bool:
    return any(
        isinstance(n, ast.Call) and terminal(file.resolve(n.func)) == "select"
        for n in ast.walk(node)
    )
