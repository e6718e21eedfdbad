"""Find the line of the user's code that caused a query (stack walking, no I/O)."""

from __future__ import annotations

import os
import sys
from types import CodeType, FrameType, TracebackType
from typing import NamedTuple

import greenlet  # type: ignore[import-untyped]

from sqlmodel_production._compat import is_sqlalchemy_greenlet

__all__ = ["Caller", "caller_in_traceback", "find_caller", "find_caller_frame"]

# Frames of these packages are never "the user's line".
_CORE = ("sqlalchemy", "sqlmodel", "sqlmodel_production", "greenlet")
# Frames of these are skipped too, but one of them is reported when no user frame
# exists (a relationship touched while FastAPI serializes the response, say).
# HTTP clients and servers are here so that a request served in the test's own
# event loop (`httpx.AsyncClient(transport=httpx.ASGITransport(app))`) names
# the test's line, not the transport's.
_FRAMEWORK = (
    "asyncio",
    "anyio",
    "concurrent",
    "contextlib",
    "contextvars",
    "fastapi",
    "functools",
    "h11",
    "httpcore",
    "httpcore2",
    "httpx",
    "httpx2",
    "hypercorn",
    "pydantic",
    "pydantic_core",
    "queue",
    "selectors",
    "sniffio",
    "starlette",
    "threading",
    "trio",
    "typing",
    "uvicorn",
    "uvloop",
)
_is_core: dict[CodeType, bool] = {}
_is_library: dict[CodeType, bool] = {}


class Caller(NamedTuple):
    """Where a statement was issued: the user's file, line and function.

    `entry` is the library call the user made there (`Session.get`,
    `InstrumentedAttribute.__get__` for an attribute access, ...).
    """

    filename: str
    lineno: int
    function: str
    entry: str = ""

    def __str__(self) -> str:
        return f"{_short(self.filename)}:{self.lineno} in {self.function}"


def find_caller() -> Caller | None:
    """The innermost frame outside SQLAlchemy, SQLModel, this package and the frameworks.

    Under an async session, SQLAlchemy runs the query in a greenlet whose
    frames stop at `greenlet_spawn`; the walk continues in the parent greenlet,
    where the user's `await session.exec(...)` is. With no user frame in the
    stack (an endpoint made by `crud_router`), the innermost framework frame
    stands in. Other threads' stacks are never read: a request `TestClient`
    serves in its own thread names the endpoint's side, not the test's line.
    """
    return _walk(sys._getframe(1))[0]


def find_caller_frame() -> tuple[Caller | None, FrameType | None]:
    """`find_caller()` and the user's frame itself, when the statement came straight from it.

    The frame is None when a framework stood between the user's line and the
    statement (a request served by an HTTP client in the test, an endpoint of
    `crud_router`): the same frame running the same line again is then a new
    request, not a loop.
    """
    return _walk(sys._getframe(1))


def _walk(frame: FrameType | None) -> tuple[Caller | None, FrameType | None]:
    current = greenlet.getcurrent()
    fallback: Caller | None = None
    entry = ""
    while True:
        while frame is not None:
            code = frame.f_code
            if not _in(code, frame, _is_core, _CORE):
                caller = Caller(
                    code.co_filename, frame.f_lineno, _function(frame), entry
                )
                if not _in(code, frame, _is_library, _FRAMEWORK):
                    return caller, (frame if fallback is None else None)
                fallback = fallback or caller
            elif fallback is None:
                entry = code.co_qualname
            frame = frame.f_back
        parent = current.parent
        if parent is None or not is_sqlalchemy_greenlet(current):
            return fallback, None
        frame, current = parent.gr_frame, parent


def caller_in_traceback(tb: TracebackType | None) -> Caller | None:
    """The innermost frame of a traceback outside the libraries: the user's line.

    A framework frame (FastAPI serializing a response, say) stands in when no
    frame of the user's own code is in the traceback.
    """
    found: Caller | None = None
    fallback: Caller | None = None
    while tb is not None:
        frame, code = tb.tb_frame, tb.tb_frame.f_code
        if not _in(code, frame, _is_core, _CORE):
            caller = Caller(code.co_filename, tb.tb_lineno, _function(frame))
            if _in(code, frame, _is_library, _FRAMEWORK):
                fallback = caller
            else:
                found = caller
        tb = tb.tb_next
    return found or fallback


_COMPREHENSIONS = ("<listcomp>", "<dictcomp>", "<setcomp>")


def _function(frame: FrameType) -> str:
    # Comprehensions are functions of their own before Python 3.12: name the enclosing one.
    name = frame.f_code.co_name
    if name in _COMPREHENSIONS and frame.f_back is not None:
        return frame.f_back.f_code.co_name
    return name


def _in(
    code: CodeType,
    frame: FrameType,
    cache: dict[CodeType, bool],
    packages: tuple[str, ...],
) -> bool:
    try:
        return cache[code]
    except KeyError:
        module = frame.f_globals.get("__name__", "")
        found = any(module == p or module.startswith(p + ".") for p in packages)
        cache[code] = found
        return found


def _short(filename: str) -> str:
    try:
        relative = os.path.relpath(filename)
    except ValueError:  # another drive on Windows
        return filename
    return filename if relative.startswith("..") else relative
