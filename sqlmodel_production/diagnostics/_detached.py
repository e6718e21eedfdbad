"""Detached and expired objects: say which class, which attribute, where, and the fix.

SQLAlchemy raises `DetachedInstanceError` when an object whose session is
closed is asked for something it never loaded: a relationship (a lazy load),
or columns that `commit()` expired (a refresh). No session event fires then,
since there is no session; so the explanation is made from the error itself
(its message and its traceback) where the error passes through a scope we own:
`explain_detached()` or `DiagnosticsMiddleware`.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import TracebackType

from sqlalchemy.orm import QueryableAttribute
from sqlalchemy.orm.exc import DetachedInstanceError

from sqlmodel_production._exceptions import SQLModelProductionError

from ._frames import Caller, caller_in_traceback

__all__ = [
    "DetachedAccess",
    "DetachedAccessKind",
    "DetachedObjectError",
    "explain_detached",
]

_INSTANCE = re.compile(r"<(?P<model>\w+) at 0x[0-9a-fA-F]+>")
_ATTRIBUTE = re.compile(
    r"(?P<operation>lazy|deferred) load operation of attribute '(?P<attribute>\w+)'"
)


class DetachedAccessKind(enum.StrEnum):
    RELATIONSHIP = "relationship"
    """A relationship that was never loaded (a lazy load)."""
    EXPIRED = "expired"
    """Columns expired by `commit()` (or `expire()`), to be refreshed."""
    DEFERRED = "deferred"
    """A deferred column that was never loaded."""


@dataclass(frozen=True)
class DetachedAccess:
    """What was touched on a detached object, and from where (pure data)."""

    kind: DetachedAccessKind
    model: str
    attribute: str | None
    caller: Caller | None

    @property
    def subject(self) -> str:
        return f"{self.model}.{self.attribute}" if self.attribute else self.model

    @property
    def fix(self) -> str:
        if self.kind is DetachedAccessKind.RELATIONSHIP:
            return (
                f"load it while the session is open: .options(selectinload({self.subject})) "
                f"on the query that fetched the {self.model}, or "
                f"session.refresh(obj, [{self.attribute!r}]) before the session closes"
            )
        if self.kind is DetachedAccessKind.DEFERRED:
            return (
                f"load the column with the query: .options(undefer({self.subject})), "
                "or read it before the session closes"
            )
        return (
            "call session.refresh(obj) after commit() and before the session closes "
            "(before returning the object), or make the session with expire_on_commit=False "
            "(sqlmodel_production's Database does)"
        )

    def __str__(self) -> str:
        where = f"at {self.caller}" if self.caller else "here"
        what = self.subject if self.attribute else f"an attribute of {self.model}"
        if self.kind is DetachedAccessKind.RELATIONSHIP:
            why = (
                f"was lazy-loaded {where}, but the {self.model} object is detached: the "
                "session that loaded it is closed, so the relationship cannot be loaded"
            )
        elif self.kind is DetachedAccessKind.DEFERRED:
            why = (
                f"(a deferred column) was read {where}, but the {self.model} object is "
                "detached: the session that loaded it is closed"
            )
        else:
            why = (
                f"was read {where}, but the {self.model} object is detached and its "
                "attributes were expired (commit() expires every attribute unless "
                "expire_on_commit=False), so there is no session to reload them from"
            )
        return (
            f"{what} {why} (DetachedInstanceError). Fix: {self.fix}; "
            "or attach it to an open session again with session.merge(obj)."
        )


class DetachedObjectError(SQLModelProductionError, DetachedInstanceError):
    """An expired or detached object was touched after its session closed.

    A subclass of SQLAlchemy's `DetachedInstanceError` (so existing `except`
    clauses still catch it) whose message names the class, the attribute, the
    line of your code and the fix. `access` holds the same as data.
    """

    def __init__(self, access: DetachedAccess) -> None:
        super().__init__(str(access))
        self.access = access


def describe(error: DetachedInstanceError) -> DetachedAccess:
    """What the error was about, from its message and its traceback."""
    message = str(error.args[0]) if error.args else ""
    found = _INSTANCE.search(message)
    model = found["model"] if found else "?"
    attribute: str | None = None
    kind = DetachedAccessKind.EXPIRED
    if operation := _ATTRIBUTE.search(message):
        attribute = operation["attribute"]
        kind = (
            DetachedAccessKind.RELATIONSHIP
            if operation["operation"] == "lazy"
            else DetachedAccessKind.DEFERRED
        )
    touched = _touched_attribute(error.__traceback__)
    if touched is not None:
        model, attribute = touched[0], attribute or touched[1]
    return DetachedAccess(
        kind, model, attribute, caller_in_traceback(error.__traceback__)
    )


def _touched_attribute(tb: TracebackType | None) -> tuple[str, str] | None:
    # The attribute the user read: the outermost mapped-attribute descriptor call.
    while tb is not None:
        frame = tb.tb_frame
        descriptor = frame.f_locals.get("self")
        if frame.f_code.co_name == "__get__" and isinstance(
            descriptor, QueryableAttribute
        ):
            instance = frame.f_locals.get("instance")
            owner = type(instance) if instance is not None else descriptor.class_
            return owner.__name__, descriptor.key
        tb = tb.tb_next
    return None


@contextmanager
def explain_detached() -> Iterator[None]:
    """Turn a `DetachedInstanceError` raised in the block into a `DetachedObjectError`.

    `DiagnosticsMiddleware` does this for every request; use this for other
    code (a job, a CLI command, a test). It works in sync and async code alike.

    Example:
        ```python
        with explain_detached():
            hero.team  # DetachedObjectError: Hero.team was lazy-loaded at app.py:12 ...
        ```
    """
    try:
        yield
    except DetachedObjectError:
        raise
    except DetachedInstanceError as error:
        raise DetachedObjectError(describe(error)) from error
