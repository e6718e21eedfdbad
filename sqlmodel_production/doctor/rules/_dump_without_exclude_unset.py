"""SMP009: an update that dumps its schema without `exclude_unset=True`."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from sqlmodel_production.doctor._findings import Finding, Severity
from sqlmodel_production.doctor._project import ProjectIndex
from sqlmodel_production.doctor._rule import Rule
from sqlmodel_production.doctor._source import SourceFile
from sqlmodel_production.doctor._syntax import (
    annotation_names,
    constant,
    is_dependency,
    keyword,
    parameters,
    route_decorator,
    terminal,
)

_DUMPS = frozenset({"model_dump", "dict"})


class DumpWithoutExcludeUnsetRule(Rule):
    code = "SMP009"
    title = "Update applied without exclude_unset"
    severity = Severity.INFO
    rationale = (
        "An Update schema has every field optional with a default of `None`. `model_dump()` "
        "returns all of them, so a PATCH that sends only `age` writes `None` over `name` and "
        "every other column: data loss. `model_dump(exclude_unset=True)` returns only the fields "
        "the client actually sent. Not flagged: a schema with required fields outside a PATCH (a "
        'full replacement, where a field left out means "clear it"), a dump that builds a new '
        "row (`Profile(**data.model_dump())`) or reads one field, a loop that skips the "
        '`None` values itself, and a `model_dump(mode="json")` sent on to another service. '
        "Reported as info: on public projects outside the corpus none of its findings was a "
        "sure loss (most were PUT endpoints whose optional fields replace on purpose), and the "
        "rule cannot yet tell a replacement from a partial update."
    )
    bad = """\
@app.patch("/heroes/{hero_id}", response_model=HeroPublic)
def update_hero(*, session: SessionDep, hero_id: int, hero: HeroUpdate):
    db_hero = session.get(Hero, hero_id)
    if not db_hero:
        raise HTTPException(status_code=404, detail="Hero not found")
    db_hero.sqlmodel_update(hero.model_dump())
    session.add(db_hero)
    session.commit()
    session.refresh(db_hero)
    return db_hero
"""
    good = """\
@app.patch("/heroes/{hero_id}", response_model=HeroPublic)
def update_hero(*, session: SessionDep, hero_id: int, hero: HeroUpdate):
    db_hero = session.get(Hero, hero_id)
    if not db_hero:
        raise HTTPException(status_code=404, detail="Hero not found")
    db_hero.sqlmodel_update(hero.model_dump(exclude_unset=True))
    session.add(db_hero)
    session.commit()
    session.refresh(db_hero)
    return db_hero
"""

    def check(self, file: SourceFile, project: ProjectIndex) -> Iterator[Finding]:
        for function in file.functions:
            route = route_decorator(function)
            patch = route is not None and route[0] == "patch"
            updates = {
                param.arg
                for param, default in parameters(function)
                if not is_dependency(file, param, default)
                and any(
                    project.is_schema(name.id)
                    and (patch or "Update" in name.id or "Patch" in name.id)
                    and _partial(project, name.id, patch)
                    for name in annotation_names(param.annotation)
                )
            }
            if not updates:
                continue
            for node in file.body_nodes(function):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr in _DUMPS
                    and isinstance(node.func.value, ast.Name)
                    and node.func.value.id in updates
                    and constant(keyword(node, "exclude_unset")) is not True
                    # Without the None values (or the defaults), nothing is overwritten by them.
                    and constant(keyword(node, "exclude_none")) is not True
                    and constant(keyword(node, "exclude_defaults")) is not True
                    and not _not_applied(file, node)
                ):
                    name, dump = node.func.value.id, node.func.attr
                    yield self.finding(
                        file,
                        node,
                        f"`{name}.{dump}()` returns every field of the update, the ones the client "
                        "did not send as `None`: applying it overwrites them.",
                        f"Use `{name}.{dump}(exclude_unset=True)`.",
                    )


def _partial(project: ProjectIndex, schema: str, patch: bool) -> bool:
    """Whether the schema lets a client leave fields out (those dump as their defaults).

    A schema with required fields is a full replacement (a PUT): the client sends the whole
    object, and an optional field left out means "clear it". On a PATCH any optional field
    counts.
    """
    fields = project.fields(schema)
    defaults = [
        _has_default(model.file, statement) for model, statement in fields.values()
    ]
    if not defaults:
        return True
    return any(defaults) if patch else all(defaults)


def _has_default(file: SourceFile, statement: ast.AnnAssign | ast.Assign) -> bool:
    value = statement.value
    if value is None:
        return False
    if isinstance(value, ast.Call) and terminal(file.resolve(value.func)) == "Field":
        first = value.args[0] if value.args else keyword(value, "default")
        if first is not None:
            return constant(first) is not Ellipsis
        return keyword(value, "default_factory") is not None
    return True


def _not_applied(file: SourceFile, dump: ast.Call) -> bool:
    """A dump that builds a new row, reads one field, or drops the `None` values itself;
    one that is a report (`RequestValidationError(body=...)`) or only validated."""
    parent = file.parents.get(dump)
    if isinstance(parent, ast.FormattedValue):
        return True  # shown in a message (`f"... {update.model_dump()}"`)
    if constant(keyword(dump, "mode")) == "json":
        return True  # serialized for the wire (another service's API), not set on a row
    if isinstance(parent, ast.keyword) and parent.arg not in (None, "update", "values"):
        return True  # a named argument such as `body=` or `detail=`: nothing is written
    if _only_validated(file, dump):
        return True
    if isinstance(parent, ast.keyword) and parent.arg is None:
        call = file.parents.get(parent)
        # `Profile(**schema.model_dump())`: a new row, which every field belongs to.
        return (
            isinstance(call, ast.Call)
            and terminal(file.resolve(call.func))[:1].isupper()
        )
    if isinstance(parent, ast.Subscript) and parent.value is dump:
        return True
    if not (isinstance(parent, ast.Attribute) and parent.attr == "items"):
        return False
    loop = file.parents.get(file.parents.get(parent, parent))
    if isinstance(loop, ast.For | ast.comprehension) and isinstance(
        loop.target, ast.Tuple
    ):
        value = loop.target.elts[-1]
        if isinstance(value, ast.Name):
            tests = (
                [
                    n.test
                    for b in loop.body
                    for n in ast.walk(b)
                    if isinstance(n, ast.If)
                ]
                if isinstance(loop, ast.For)
                else loop.ifs
            )
            return any(_not_none(test, value.id) for test in tests)
    return False


def _only_validated(file: SourceFile, dump: ast.Call) -> bool:
    """`Model.model_validate({**row.model_dump(), **update.model_dump()})` as a statement of
    its own: the merge is checked and thrown away, the update is written elsewhere."""
    node: ast.AST = dump
    while (parent := file.parents.get(node)) is not None and isinstance(
        parent, ast.Dict | ast.keyword | ast.Call
    ):
        if isinstance(parent, ast.Call) and node is not parent.func:
            statement = file.parents.get(parent)
            if (
                isinstance(statement, ast.Expr)
                and isinstance(parent.func, ast.Attribute)
                and parent.func.attr in {"model_validate", "validate", "parse_obj"}
            ):
                return True
        node = parent
    return False


def _not_none(test: ast.expr, name: str) -> bool:
    """`value is not None`, `value != None` or plain `value`, as a test."""
    if isinstance(test, ast.Name):
        return test.id == name
    return (
        isinstance(test, ast.Compare)
        and isinstance(test.left, ast.Name)
        and test.left.id == name
        and isinstance(test.ops[0], ast.IsNot | ast.NotEq)
        and constant(test.comparators[0]) is None
    )
