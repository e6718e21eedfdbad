"""What the doctor could not check, said once per run instead of a silent "No problems" (pure)."""

from __future__ import annotations

import ast
from collections.abc import Iterable

from ._source import SourceFile
from ._syntax import (
    annotation_names,
    is_dependency,
    keyword,
    parameters,
    route_decorator,
)

__all__ = ["missing_models", "unimported_notice"]

# Classes from these packages are never the project's own models.
_LIBRARIES = frozenset(
    {
        "fastapi",
        "starlette",
        "sqlmodel",
        "sqlalchemy",
        "pydantic",
        "pydantic_settings",
        "typing",
        "typing_extensions",
        "datetime",
        "uuid",
        "enum",
        "decimal",
        "collections",
        "sqlmodel_production",
    }
)


def missing_models(files: Iterable[SourceFile]) -> str | None:
    """A notice when endpoints use model classes that none of the checked files declares.

    The model rules (lengths, foreign keys, relationships, secrets in schemas) can only
    check classes they read: `doctor app/api/` on endpoints whose models live in
    `app/models.py` would otherwise say "No problems" about models it never saw.
    """
    files = list(files)
    # What the files read define: classes, and module-level names (aliases such as
    # `CurrentUser = Annotated[User, Depends(get_current_user)]`).
    declared = {node.name for file in files for node in file.nodes(ast.ClassDef)}
    declared |= {name for file in files for name in _module_names(file)}
    missing: dict[str, str] = {}
    for file in files:
        if file.is_test:
            continue
        for function in file.functions:
            route = route_decorator(function)
            if route is None:
                continue
            used: list[ast.Name] = []
            used.extend(annotation_names(keyword(route[1], "response_model")))
            used.extend(annotation_names(function.returns))
            for param, default in parameters(function):
                if not is_dependency(file, param, default):
                    used.extend(annotation_names(param.annotation))
            for node in file.body_nodes(function):
                if isinstance(node, ast.Call) and node.args:
                    func = node.func
                    name = (
                        func.attr
                        if isinstance(func, ast.Attribute)
                        else getattr(func, "id", "")
                    )
                    if name in {"select", "get", "get_one", "query"} and isinstance(
                        node.args[0], ast.Name
                    ):
                        used.append(node.args[0])
            for name in used:
                target = file.imports.get(name.id)
                if (
                    target is None
                    or not name.id[:1].isupper()
                    or name.id in declared
                    or target.lstrip(".").partition(".")[0] in _LIBRARIES
                ):
                    continue
                missing.setdefault(name.id, target.rpartition(".")[0] or target)
    if not missing:
        return None
    names = sorted(missing)
    shown = ", ".join(f"{name} ({missing[name]})" for name in names[:5])
    more = f" and {len(names) - 5} more" if len(names) > 5 else ""
    return (
        f"Endpoints use models that are not among the files read: {shown}{more}. "
        "The rules about models (lengths, foreign keys, relationships, secrets in "
        "schemas) did not check them: run the doctor on the whole project "
        "(`sqlmodel-production doctor .`)."
    )


def _module_names(file: SourceFile) -> Iterable[str]:
    """The names a module assigns at its top level."""
    for node in file.tree.body:
        targets = (
            node.targets
            if isinstance(node, ast.Assign)
            else [node.target]
            if isinstance(node, ast.AnnAssign)
            else []
        )
        for target in targets:
            if isinstance(target, ast.Name):
                yield target.id


def unimported_notice(paths: list[str]) -> str | None:
    """A notice naming the checked modules left out because nothing imports them."""
    if not paths:
        return None
    shown = ", ".join(paths[:5]) + (
        f" and {len(paths) - 5} more" if len(paths) > 5 else ""
    )
    if len(paths) == 1:
        return (
            f"Not checked: {shown}, which nothing in the project imports or names: its code "
            "never runs. Import it, or name it in a configuration file, and it is checked."
        )
    return (
        f"Not checked: {len(paths)} modules that nothing in the project imports or names "
        f"({shown}): their code never runs. Import them, or name them in a configuration "
        "file, and they are checked."
    )
