"""The API's answer models and the responses every generated endpoint documents."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel
from typing_extensions import deprecated

from sqlmodel_production.crud.internal import CURSOR_PATTERN

__all__ = [
    "BAD_BODY",
    "CONFLICT",
    "LIST_HEADERS",
    "NOT_FOUND",
    "Conflict",
    "Deleted",
    "ErrorBody",
    "HTTPError",
    "etag_headers",
    "snake",
]


class ErrorBody(BaseModel):
    """The body of an error answer: `{"detail": "Hero not found"}` (a model for OpenAPI, not an exception)."""

    detail: str


@deprecated(
    "HTTPError is renamed ErrorBody: it is a response body model, not an exception"
)
class HTTPError(ErrorBody):
    """Deprecated: the former name of `ErrorBody`."""


class Conflict(ErrorBody):
    """A 409: the write conflicts with a constraint (named) or a concurrent change."""

    code: str
    constraint: str | None = None
    fields: list[str] = []
    row: int | None = None
    """In a bulk create, the index of the row at fault, when the database tells."""


class Deleted(BaseModel):
    """The answer to a successful delete: `{"ok": true}`."""

    ok: bool


NOT_FOUND: dict[int | str, Any] = {
    404: {"model": ErrorBody, "description": "Not found"}
}
CONFLICT: dict[int | str, Any] = {
    409: {
        "model": Conflict,
        "description": "Conflicts with a unique key, a reference or a newer version",
    }
}
BAD_BODY: dict[int | str, Any] = {
    400: {
        "model": ErrorBody,
        "description": "The body is not JSON (FastAPI cannot parse it)",
    },
    413: {"model": ErrorBody, "description": "The body is larger than the limit"},
}
LIST_HEADERS: dict[int | str, Any] = {
    200: {
        "headers": {
            "X-Next-Cursor": {
                "description": "Cursor of the next page (absent on the last)",
                "schema": {"type": "string", "pattern": CURSOR_PATTERN},
            },
            "X-Total-Count": {
                "description": "Matching rows, when count=true",
                "schema": {"type": "integer"},
            },
        }
    }
}


def etag_headers(
    version: sa.Column[Any] | None, row: Mapping[str, Any]
) -> dict[str, str]:
    """`ETag: "<version>"` for a versioned row; nothing for others."""
    return {"ETag": f'"{row[version.name]}"'} if version is not None else {}


def snake(name: str) -> str:
    """`HeroMissionLink` -> `hero_mission_link`."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()
