"""Strings every database can store: no NUL character, no lone surrogate (pure, no I/O).

PostgreSQL refuses a NUL in text, and no driver can encode a lone surrogate.
MariaDB and SQLite store a NUL, but many tools cut the string there. So the
package refuses both in what it reads from a client: in every string field of
the derived Create and Update schemas and in every string query and path
parameter.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import GetCoreSchemaHandler
from pydantic_core import CoreSchema

__all__ = ["TEXT_PATTERN", "StorableText", "Text", "storable"]

TEXT_PATTERN = r"^[^\x00]*$"
"""No NUL character: the `pattern` of every string a client sends, checked and declared.

A lone surrogate needs no pattern: it is not a Unicode character, so UTF-8 (a
URL's query and path) cannot carry one, and the `"\\ud800"` of a JSON body is
refused by pydantic's string validation itself. A pattern naming the surrogates
would not serve: pydantic's and jsonschema-rs' Rust engines cannot compile one
(schemathesis then drops it), and the same set written as ranges of allowed
characters makes Hypothesis build its strings one character of the million at a time.
"""


class StorableText:
    """`Annotated` metadata for a `str`: `TEXT_PATTERN`, checked and declared.

    A value with a NUL is a 422 `string_pattern_mismatch` naming the field; one
    with a lone surrogate is pydantic's own `string_unicode` (or `json_invalid`
    where the short way parses the body). A string with a pattern of its own
    keeps it.
    """

    __slots__ = ()

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        schema = handler(source)
        if schema.get("type") == "str" and "pattern" not in schema:
            schema = {**schema, "pattern": TEXT_PATTERN}
        return schema

    def __eq__(self, other: object) -> bool:
        return isinstance(other, StorableText)

    def __hash__(self) -> int:
        return hash(StorableText)

    def __repr__(self) -> str:
        return "StorableText()"


Text = Annotated[str, StorableText()]
"""A `str` every database can store (see `StorableText`)."""


def storable(annotation: Any) -> Any:
    """`annotation` with `str` made `Text`, also inside `list[str]`; anything else as it is."""
    if annotation is str:
        return Text
    origin = getattr(annotation, "__origin__", None)
    if origin is list:
        return list[storable(annotation.__args__[0])]  # type: ignore[misc]
    return annotation
