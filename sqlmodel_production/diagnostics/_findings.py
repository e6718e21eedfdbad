"""What the N+1 detector reports: findings, their messages and fixes (pure, no I/O)."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from sqlmodel_production._exceptions import (
    AsyncLazyLoadError,
    NPlusOneWarning,
    RepeatedQueryWarning,
    SQLModelProductionError,
)

from ._frames import Caller

__all__ = [
    "AsyncLazyLoadError",
    "RepeatedLoad",
    "RepeatedLoadKind",
    "Mode",
    "NPlusOneError",
    "NPlusOneWarning",
    "RepeatedQueryWarning",
]


class Mode(enum.StrEnum):
    """What the detector does with a finding."""

    RAISE = "raise"
    """Raise `NPlusOneError` at the lazy load that crosses the threshold (tests)."""
    WARN = "warn"
    """Warn at the end of the block or request, pointing at the user's line."""
    LOG = "log"
    """Log a warning on `sqlmodel_production.diagnostics` (production)."""


class RepeatedLoadKind(enum.StrEnum):
    LAZY_LOAD = "lazy load"
    """The same relationship lazy-loaded again and again: the N+1."""
    REPEATED_GET = "repeated get"
    """`session.get` in a loop: asked for, but one query per row."""
    ATTRIBUTE_RELOAD = "attribute reload"
    """Expired or deferred attributes reloaded one object at a time."""
    REPEATED_QUERY = "repeated query"
    """The same statement run again and again from one line."""


class NPlusOneError(SQLModelProductionError):
    """A relationship was lazy-loaded in a loop (raised in `Mode.RAISE`)."""

    def __init__(self, finding: RepeatedLoad) -> None:
        super().__init__(str(finding))
        self.finding = finding


@dataclass(eq=False)
class RepeatedLoad:
    """One repeated load, where it happened and how to avoid it."""

    kind: RepeatedLoadKind
    subject: str
    """`Team.heroes` for a lazy load, the entity for a get or reload, else the statement."""
    caller: Caller | None
    count: int = 0
    collection: bool = True
    in_loop: bool = False
    """A get or statement that one running function repeated from one line (a loop)."""

    @property
    def is_n_plus_one(self) -> bool:
        """Lazy loads are N+1 proper, and gets or statements repeated in a loop when
        the detector counts them (`repeated_queries=True`); the rest are softer findings."""
        return self.kind is RepeatedLoadKind.LAZY_LOAD or self.in_loop

    @property
    def where(self) -> str:
        return f"from {self.caller}" if self.caller else "from an unknown line"

    @property
    def fix(self) -> str:
        if self.kind is RepeatedLoadKind.LAZY_LOAD:
            return f"load it with the query that fetched the parents: .options({self.loader}({self.subject}))"
        if self.kind is RepeatedLoadKind.REPEATED_GET:
            return f"fetch the rows in one query: select({self.subject}).where({self.subject}.id.in_(ids))"
        if self.kind is RepeatedLoadKind.ATTRIBUTE_RELOAD:
            return (
                "expired attributes reload one object at a time: keep expire_on_commit=False, "
                "or select the objects again in one query (or use RETURNING after a bulk insert)"
            )
        return "run it once for all the keys (WHERE ... IN) or move it out of the loop"

    @property
    def loader(self) -> str:
        return "selectinload" if self.collection else "joinedload"

    def __str__(self) -> str:
        if self.kind is RepeatedLoadKind.LAZY_LOAD:
            head = f"N+1 queries: {self.subject} was lazy-loaded {self.count} times {self.where}"
        elif self.kind is RepeatedLoadKind.REPEATED_GET:
            head = f"Repeated query: session.get({self.subject}, ...) ran {self.count} times {self.where}"
        elif self.kind is RepeatedLoadKind.ATTRIBUTE_RELOAD:
            head = f"Repeated query: {self.subject} attributes were reloaded {self.count} times {self.where}"
        else:
            head = (
                f"Repeated query: ran {self.count} times {self.where}: {self.subject}"
            )
        if self.in_loop:
            head = "N+1 queries: " + head.removeprefix("Repeated query: ").replace(
                f" times {self.where}", f" times in a loop {self.where}"
            )
        return f"{head}; {self.fix}."


def async_lazy_load_message(
    relationship: str, caller: Caller | None, *, collection: bool
) -> str:
    """The message of `AsyncLazyLoadError` (pure)."""
    loader = "selectinload" if collection else "joinedload"
    where = f"at {caller}" if caller else "here"
    return (
        f"{relationship} was lazy-loaded {where}, but an AsyncSession cannot load lazily "
        "(MissingGreenlet: greenlet_spawn has not been called; Was IO attempted in an "
        f"unexpected place?). Load it with the query: .options({loader}({relationship})), "
        f"or explicitly: await session.refresh(obj, [{relationship.rpartition('.')[2]!r}])."
    )
