"""Schemathesis hooks for the reference service: what its OpenAPI document can say in words only.

A list's `cursor` must be one the API sent in `X-Next-Cursor` for the same order;
the document declares its shape (`pattern`), but no schema can declare which
values the server issued, as none can declare which teams exist. So a drawn
cursor of the right shape is taken out of the request before it is sent. Without one, the other
constraint stated in words, no `offset` beside a `cursor`, cannot arise either.
A drawn cursor of the wrong shape stays: it must be a 422.

For the command line: `SCHEMATHESIS_HOOKS=tests.demo.schemathesis_hooks schemathesis run ...`.
"""

from __future__ import annotations

import re
from typing import Any

import schemathesis

from sqlmodel_production.crud.internal import CURSOR_PATTERN

__all__ = ["leave_out_drawn_cursors"]

_CURSOR = re.compile(CURSOR_PATTERN)


def leave_out_drawn_cursors(ctx: Any, case: Any, **kwargs: Any) -> None:
    """Before a request is sent (in every phase), take out a non-empty `cursor` of the declared shape."""
    cursor = (case.query or {}).get("cursor")
    if isinstance(cursor, str) and cursor and _CURSOR.fullmatch(cursor):
        del case.query["cursor"]


schemathesis.hook("before_call")(leave_out_drawn_cursors)
