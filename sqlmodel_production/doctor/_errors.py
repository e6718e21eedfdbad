"""The doctor's own error: a usage problem the command answers with exit code 2."""

from __future__ import annotations

__all__ = ["DoctorUsageError"]


class DoctorUsageError(Exception):
    """Bad configuration, an unknown rule code, an app that cannot be imported, ..."""
