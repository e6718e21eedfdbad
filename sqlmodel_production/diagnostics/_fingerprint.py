"""Statement fingerprints: SQL with literals and parameters stripped (pure, no I/O)."""

from __future__ import annotations

import re
from functools import lru_cache

__all__ = ["fingerprint"]

_COMMENT = re.compile(r"--[^\n]*|/\*.*?\*/", re.S)
_STRING = re.compile(r"'(?:[^']|'')*'")
_PLACEHOLDER = re.compile(r"%\(\w+\)s|%s|\$\d+|(?<![:\w]):\w+|\?|__\[POSTCOMPILE_\w+\]")
_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?\b")
_LIST = re.compile(r"\(\s*\?(?:\s*,\s*\?)*\s*\)")
_ROWS = re.compile(r"\(\.\.\.\)(?:\s*,\s*\(\.\.\.\))+")
_SPACE = re.compile(r"\s+")


@lru_cache(maxsize=4096)
def fingerprint(statement: str) -> str:
    """Normalize a statement so that runs differing only in values compare equal.

    Literals and every driver's placeholder style (`?`, `%s`, `%(name)s`,
    `:name`, `$1`) become `?`; a list of them (`IN (?, ?, ?)`, multi-row
    `VALUES`) becomes `(...)`; comments go and whitespace collapses.

    Example:
        ```python
        >>> fingerprint("SELECT * FROM hero WHERE id IN (1, 2, 3) AND name = 'x'")
        'SELECT * FROM hero WHERE id IN (...) AND name = ?'
        ```
    """
    text = _COMMENT.sub(" ", statement)
    text = _STRING.sub("?", text)
    text = _PLACEHOLDER.sub("?", text)
    text = _NUMBER.sub("?", text)
    text = _LIST.sub("(...)", text)
    text = _ROWS.sub("(...)", text)
    return _SPACE.sub(" ", text).strip()
