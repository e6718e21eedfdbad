"""Which of the checked modules nothing in the project imports or names (pure).

In a project that starts an application somewhere (`FastAPI()`, `Flask(__name__)`, a
Celery app, a `__main__` block), code in a module nothing imports never runs: an engine it
makes opens no connection, a table it declares is never created. The doctor leaves such
modules out rather than report what they would do. A module counts as used when its name
appears in an import anywhere under the project (checked or not), in a string of Python
code (`"app.db.session"`, `"app.main:app"`, `importlib.import_module("app.plugins.x")`), or
in any word of the project's other text files (a Dockerfile's `uvicorn app.main:app`, a
`[project.scripts]` entry). Entry points (`main.py`, `__main__.py`, a module that starts an
application or has an `if __name__ == "__main__":` block), packages' `__init__.py`, tests
and migrations always count as used. Where a file imports modules by computed names
(`import_module(f"plugins.{name}")`, `pkgutil`), so does every module under that file's
folder, and every module of a folder a string names (`load("app.actions")`,
`glob("*/controller/*.py")`): no module name need appear there.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import PurePosixPath

__all__ = ["Mentions", "mentions_in", "unimported"]

_IMPORT = re.compile(
    r"^[ \t]*(?:from[ \t]+([.\w]+)[ \t]+import[ \t]+(\([^)]*\)|[^\n#]+)|import[ \t]+([^\n#]+))",
    re.M,
)
# A string that is a dotted name (`"app.main:app"`): it names the modules it spells out.
_STRING = re.compile(r"""["']([A-Za-z_][\w.:]*)["']""")
# Any short string (`"*/controller/*.py"`): its words may name a loader's folders.
_QUOTED = re.compile(r"""["']([^"'\n]{1,200})["']""")
_WORD = re.compile(r"[A-Za-z_]\w*")
# Calls that import modules by a name the code computes (not a plain string: that name
# is read as a mention).
_DYNAMIC = re.compile(
    r"\b(?:import_module|__import__|iter_modules|walk_packages|spec_from_file_location|"
    r"load_source|autodiscover_modules|find_modules)\s*\(\s*+(?![\"'][\w.]*[\"']\s*[,)])"
)
_APPLICATION = re.compile(
    r"\b(?:FastAPI|Flask|Litestar|Starlette|Quart|Sanic|Celery|Typer|APIFlask)\("
)
_MAIN_GUARD = re.compile(r"""^if\s+__name__\s*==\s*["']__main__["']""", re.M)
_ENTRY_POINTS = frozenset(
    {
        "__init__",
        "__main__",
        "main",
        "app",
        "application",
        "wsgi",
        "asgi",
        "manage",
        "server",
        "run",
        "cli",
        "worker",
        "celery",
        "tasks",
        "conftest",
        "setup",
        "env",
        "settings",
        "config",
    }
)


class Mentions:
    """The module names a project's files import or name, gathered file by file."""

    def __init__(self) -> None:
        self.by: dict[str, set[str]] = {}
        """Each name, with the paths of the files that use it."""
        self.loaders: set[PurePosixPath] = set()
        """The folders of files that import modules by computed names: a plugin loader
        loads from its own package, where no name need appear."""
        self.quoted: set[str] = set()
        """The words of the strings in Python files: a loader is handed the package it
        loads from (`load("app.actions")`, `glob("*/controller/*.py")`)."""
        self.started = False
        """Some file starts an application (`FastAPI()`, `Flask(__name__)`, a Celery
        app, an `if __name__ == "__main__":` block): the project is whole enough for
        what nothing imports to be unused, not merely not yet written."""

    def add(self, path: str, text: str) -> None:
        """Take in one file of the project: Python source, or any other text file."""
        for name in mentions_in(text, python=path.endswith(".py")):
            self.by.setdefault(name, set()).add(path)
        if path.endswith(".py"):
            for match in _QUOTED.finditer(text):
                self.quoted.update(_WORD.findall(match.group(1)))
            if _DYNAMIC.search(text):
                self.loaders.add(PurePosixPath(path).parent)
            if _APPLICATION.search(text) or _MAIN_GUARD.search(text):
                self.started = True

    def elsewhere(self, name: str, path: str) -> bool:
        """Whether a file other than `path` uses `name`."""
        return bool(self.by.get(name, set()) - {path})


def mentions_in(text: str, *, python: bool) -> set[str]:
    """The names a file may use a module by: in Python, each part of what its imports
    name and of its dotted strings; in any other file, every word."""
    if not python:
        return set(_WORD.findall(text))
    found: set[str] = set()
    for match in _IMPORT.finditer(text):
        module, names, plain = match.groups()
        for part in (module or "", names or "", plain or ""):
            found.update(_WORD.findall(part))
    for match in _STRING.finditer(text):
        found.update(_WORD.findall(match.group(1)))
    return found


def unimported(
    modules: Iterable[tuple[str, str, bool]], mentions: Mentions
) -> set[str]:
    """The paths among `modules` ((path, text, test or migration) of the checked files)
    that nothing imports or names: see the module's docstring for what counts."""
    found: set[str] = set()
    if not mentions.started:
        return found
    for path, text, exempt in modules:
        module = PurePosixPath(path)
        if (
            exempt
            or any(module.is_relative_to(folder) for folder in mentions.loaders)
            or (mentions.loaders and module.parent.name in mentions.quoted)
            or module.stem in _ENTRY_POINTS
            or mentions.elsewhere(module.stem, path)
            or _MAIN_GUARD.search(text)
            or _APPLICATION.search(text)
        ):
            continue
        found.add(path)
    return found
