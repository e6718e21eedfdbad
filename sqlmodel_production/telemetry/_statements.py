"""What a SQL statement is, for span names and metric attributes (pure: no I/O).

OpenTelemetry's database conventions name a client span after a low-cardinality
summary of its statement (`SELECT hero`), never after the statement itself, and
put the operation (`db.operation.name`) and the table (`db.collection.name`) on
the span and on `db.client.operation.duration`. The router sends the same few
SQL strings again and again, so each is read once and remembered.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Summary", "summarize"]


@dataclass(frozen=True, slots=True)
class Summary:
    """A statement's operation and main table.

    Attributes:
        operation: the first keyword, upper case (`SELECT`, `INSERT`, `BEGIN` ...).
        collection: the table it reads from or writes to, if one is named.
    """

    operation: str
    collection: str | None

    @property
    def text(self) -> str:
        """`db.query.summary`: the operation and the table, as in `SELECT hero`."""
        if self.collection is None:
            return self.operation
        return f"{self.operation} {self.collection}"


_NAME = r"[`\"\[]?([A-Za-z_][\w$]*(?:[`\"\]]?\.[`\"\[]?[A-Za-z_][\w$]*)?)[`\"\]]?"
_TABLE = {
    "SELECT": re.compile(r"\bFROM\s+" + _NAME, re.IGNORECASE),
    "INSERT": re.compile(r"\bINTO\s+" + _NAME, re.IGNORECASE),
    "REPLACE": re.compile(r"\bINTO\s+" + _NAME, re.IGNORECASE),
    "UPDATE": re.compile(r"^\s*UPDATE\s+" + _NAME, re.IGNORECASE),
    "DELETE": re.compile(r"\bFROM\s+" + _NAME, re.IGNORECASE),
}
_FIRST_WORD = re.compile(r"\s*(?:/\*.*?\*/\s*)*([A-Za-z]+)", re.DOTALL)
_CACHE: dict[str, Summary] = {}
_CACHE_SIZE = 2048


def summarize(sql: str) -> Summary:
    """The operation and the table of `sql`, remembered for the next time it runs.

    Example:
        ```python
        summarize("SELECT hero.id FROM hero WHERE hero.id = $1").text  # "SELECT hero"
        ```
    """
    try:
        return _CACHE[sql]
    except KeyError:
        pass
    match = _FIRST_WORD.match(sql)
    operation = match.group(1).upper() if match else "UNKNOWN"
    pattern = _TABLE.get(operation)
    found = pattern.search(sql) if pattern is not None else None
    collection = found.group(1).replace('"', "").replace("`", "") if found else None
    summary = Summary(operation, collection)
    if len(_CACHE) >= _CACHE_SIZE:
        _CACHE.clear()  # statements built per request (rendered IN lists) must not grow it forever
    _CACHE[sql] = summary
    return summary
