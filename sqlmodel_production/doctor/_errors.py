"""The doctor's own error: a usage problem the command answers with exit code 2."""

from __future__ import annotations

from sqlmodel_production._exceptions import SQLModelProductionError

__all__ = ["DoctorUsageError"]


class DoctorUsageError(SQLModelProductionError):
    """Bad configuration, an unknown rule code, an app that cannot be imported, ..."""
