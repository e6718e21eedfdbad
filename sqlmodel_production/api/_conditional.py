"""Conditional requests (RFC 9110 section 13): `If-Match` and `If-None-Match` against a row's version (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from fastapi import HTTPException

__all__ = ["ANY", "Preconditions", "if_match_versions", "none_match"]

ANY: Literal["*"] = "*"


@dataclass(frozen=True)
class Preconditions:
    """What a write requires of the row's version.

    Attributes:
        versions: the versions `If-Match` names (`"*"`: any, if the row exists); None without the header.
    """

    versions: frozenset[int] | Literal["*"] | None


def _tags(header: str) -> list[str]:
    return [tag.strip() for tag in header.split(",") if tag.strip()]


def if_match_versions(header: str | None, *, required: bool) -> Preconditions:
    """The versions an `If-Match` header accepts, compared strongly (a weak `W/` tag matches none).

    Raises:
        HTTPException: 428 when the header is `required` and absent.
    """
    if header is None or not header.strip():
        if required:
            raise HTTPException(
                status_code=428,
                detail="This write needs If-Match: send the ETag you read",
            )
        return Preconditions(None)
    tags = _tags(header)
    if tags == [ANY]:
        return Preconditions(ANY)
    versions = {
        int(opaque)
        for tag in tags
        if len(tag) > 2
        and tag[0] == tag[-1] == '"'
        and (opaque := tag[1:-1]).isascii()
        and opaque.isdigit()
        and len(opaque) <= _VERSION_DIGITS
    }
    return Preconditions(frozenset(v for v in versions if v <= MAX_VERSION))


MAX_VERSION = 2**31 - 1
"""The largest value of a version column (an `INTEGER`): a larger tag names no version."""
_VERSION_DIGITS = len(str(MAX_VERSION))


def none_match(header: str | None, etag: str | None) -> bool:
    """Whether `If-None-Match` matches the row's `etag` (weak comparison): the answer is 304."""
    if header is None or etag is None:
        return False
    tags = _tags(header)
    if ANY in tags:
        return True
    opaque = etag.removeprefix("W/")
    return any(tag.removeprefix("W/") == opaque for tag in tags)
