"""SMP007: an object read or returned after `commit()` without `refresh()`."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from sqlmodel_production.doctor._findings import Finding, Severity
from sqlmodel_production.doctor._project import ProjectIndex
from sqlmodel_production.doctor._rule import Rule
from sqlmodel_production.doctor._source import SourceFile
from sqlmodel_production.doctor._syntax import (
    method_name,
    receiver_name,
    route_decorator,
)

from ._orm import is_commit
from ._receivers import Receivers

# Session methods whose argument is not a read of the object's attributes.
_HANDLING = frozenset({"add", "refresh", "delete", "expunge", "merge"})
_BLOCKS = frozenset({"begin_nested", "begin"})


class CommitWithoutRefreshRule(Rule):
    code = "SMP007"
    title = "Object used after commit without refresh"
    severity = Severity.INFO
    skip_tests = True
    rationale = (
        "After `commit()` an added object does not hold what the database generated: ids of some "
        "backends, server defaults, timestamps set by triggers or `server_default`. With the "
        "default `expire_on_commit=True` its attributes are expired, so the next read is a hidden "
        "query (and on an async session a `MissingGreenlet` error). `session.refresh(obj)` right "
        "after the commit loads the row as the database stored it, in one explicit query. Checked "
        "in async functions and in endpoints (whose return value is read after they return); in "
        "other sync code the first read reloads the object in the same one query and is not "
        "flagged, nor are tests. A project whose sessions keep objects on commit "
        "(`expire_on_commit=False`) and whose columns get no server-side defaults has nothing "
        "to refresh; nor has an object whose class (known from how it was made) has no "
        "server-filled columns in a project that keeps objects on commit, nor a row the "
        "function created there (SQLAlchemy 2.0 fetches server defaults with RETURNING on "
        "INSERT; MySQL has no RETURNING). An info: on public projects outside the corpus none of the "
        "findings judged was plainly true; it stays one until measured again."
    )
    bad = """\
@app.post("/heroes/", response_model=HeroPublic)
def create_hero(*, session: SessionDep, hero: HeroCreate):
    db_hero = Hero.model_validate(hero)
    session.add(db_hero)
    session.commit()
    return db_hero
"""
    good = """\
@app.post("/heroes/", response_model=HeroPublic)
def create_hero(*, session: SessionDep, hero: HeroCreate):
    db_hero = Hero.model_validate(hero)
    session.add(db_hero)
    session.commit()
    session.refresh(db_hero)
    return db_hero
"""

    def check(self, file: SourceFile, project: ProjectIndex) -> Iterator[Finding]:
        if project.keeps_on_commit and not project.server_filled:
            # Objects keep every value on commit and the database fills in none of them.
            return
        for function in file.functions:
            # Elsewhere in sync code the first read reloads the object in one query, the
            # query refresh() would run: nothing breaks and nothing is saved.
            if (
                isinstance(function, ast.FunctionDef)
                and route_decorator(function) is None
            ):
                continue
            route = route_decorator(function) is not None
            receivers: Receivers | None = None
            savepoints = _savepoints(file, function)
            added: set[str] = set()
            pending: dict[str, ast.Call] = {}
            handled: set[ast.AST] = set()
            # What commits here is a session: a set's or a list's `add()` is not.
            sessions = {
                receiver_name(node)
                for node in file.body_nodes(function)
                if isinstance(node, ast.Call) and is_commit(node)
            }
            for node in file.body_nodes(function):
                if isinstance(node, ast.Call):
                    method = method_name(node)
                    if is_commit(node) and receiver_name(node) not in savepoints:
                        pending.update(dict.fromkeys(added, node))
                    elif method in _HANDLING and receiver_name(node) in sessions:
                        handled.update(node.args)
                        for arg in node.args[:1]:
                            if isinstance(arg, ast.Name):
                                if method == "add":
                                    added.add(arg.id)
                                elif method == "refresh":
                                    pending.pop(arg.id, None)
                elif (
                    isinstance(node, ast.Name)
                    and node.id in pending
                    and node not in handled
                    and _same_variable(file, node, function)
                ):
                    commit = pending.pop(node.id)
                    if isinstance(node.ctx, ast.Load) and _stale_read(
                        file, node, project, route
                    ):
                        if project.keeps_on_commit:
                            # Nothing is expired: only a class the database fills
                            # columns of can be stale.
                            receivers = receivers or Receivers(file, function, project)
                            model = receivers.model_of(node.id)
                            if model is not None and not project.server_filled_of(
                                model
                            ):
                                continue
                            # A row this function created: SQLAlchemy 2.0 fetches its
                            # server defaults with RETURNING on INSERT (PostgreSQL, SQLite,
                            # MariaDB; MySQL has no RETURNING).
                            if (
                                model is not None
                                and "mysql" not in project.databases
                                and _created(file, function, node.id, commit)
                            ):
                                continue
                        yield self._stale(file, commit, node.id, project)
                    added.discard(node.id)

    def _stale(
        self, file: SourceFile, commit: ast.Call, name: str, project: ProjectIndex
    ) -> Finding:
        session = ast.unparse(commit.func).removesuffix(".commit")
        why = (
            "the session keeps objects on commit (`expire_on_commit=False`), so the columns "
            "the database fills in still hold what they held before the write."
            if project.keeps_on_commit
            else "values the database generated are missing, and an expired object reloads "
            "itself with a hidden query (`MissingGreenlet` on an async session)."
        )
        return self.finding(
            file,
            commit,
            f"`{name}` is used after `{session}.commit()` without `{session}.refresh({name})`: "
            + why,
            f"Call `{session}.refresh({name})` right after the commit.",
        )


def _created(file: SourceFile, function: ast.AST, name: str, commit: ast.AST) -> bool:
    """The last binding of `name` before the commit makes a new object: `Model(...)` or
    `Model.model_validate(...)`."""
    values = [
        node.value
        for node in file.body_nodes(function)
        if isinstance(node, ast.Assign | ast.AnnAssign)
        and node.value is not None
        and node.lineno < getattr(commit, "lineno", 0)
        and any(
            isinstance(t, ast.Name) and t.id == name
            for t in (node.targets if isinstance(node, ast.Assign) else [node.target])
        )
    ]
    if not values:
        return False
    value = values[-1]
    return isinstance(value, ast.Call) and (
        (isinstance(value.func, ast.Name) and value.func.id[:1].isupper())
        or (
            isinstance(value.func, ast.Attribute)
            and value.func.attr in {"model_validate", "from_orm"}
        )
    )


def _same_variable(file: SourceFile, use: ast.Name, function: ast.AST) -> bool:
    """Whether `use` names the function's own variable, not one of a nested function or
    lambda, nor a comprehension's (`{node_id: out for node_id, out in items}`)."""
    parent = file.parents.get(use)
    while parent is not None and parent is not function:
        if isinstance(parent, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            return False
        if isinstance(
            parent, ast.ListComp | ast.SetComp | ast.DictComp | ast.GeneratorExp
        ) and any(
            isinstance(target, ast.Name) and target.id == use.id
            for generator in parent.generators
            for target in ast.walk(generator.target)
        ):
            return False
        parent = file.parents.get(parent)
    return True


def _savepoints(file: SourceFile, function: ast.AST) -> set[str]:
    """Names bound to `session.begin_nested()` / `session.begin()`: their commit ends a
    savepoint or a block, not the session's transaction, and expires nothing."""
    names: set[str] = set()
    for node in file.body_nodes(function):
        if isinstance(node, ast.Assign) and method_name(node.value) in _BLOCKS:
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return names


def _stale_read(
    file: SourceFile, use: ast.Name, project: ProjectIndex, route: bool
) -> bool:
    """Whether this use after the commit can see a stale or expired value.

    With `expire_on_commit=False` nothing is expired: only columns the database fills in
    are stale, read by name (`obj.created_at`) or all at once when an endpoint returns it.
    """
    if not project.keeps_on_commit:
        return True
    parent = file.parents.get(use)
    if isinstance(parent, ast.Attribute):
        return parent.attr in project.server_filled
    return route and isinstance(parent, ast.Return)
