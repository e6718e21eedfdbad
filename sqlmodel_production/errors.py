"""Every exception and warning sqlmodel-production raises, under one root.

Catch `SQLModelProductionError` to handle anything the library itself
refuses or reports. Where an exception also means what a standard or
SQLAlchemy exception means, it subclasses that one too, so existing
`except` clauses keep catching it::

    SQLModelProductionError
    ├── InvalidQuery (ValueError)         a filter, sort key or cursor a client sent is not
    │                                     acceptable; the API answers 422 naming the parameter
    ├── BulkValidationError (ValueError)  rows of a bulk create are invalid; nothing was written
    ├── InvalidScope                      a RowScope's dependency returned no usable scope
    │                                     (None, {}, a None value, no value for a
    │                                     create); 500 naming the dependency
    ├── OutsideScope (ValueError)         a row to create names a scoped value its request's
    │                                     scope does not give; 422 naming the column
    ├── ReferenceNotFound                 a write's foreign key names no live row inside the
    │                                     scope; 422, as a reference to a missing row
    ├── LiveChildren                      a soft delete refused while live children exist
    │                                     (`on_delete={...: "refuse"}`); 409
    ├── StaleVersion                      If-Match / `version=` names an older version; 412
    ├── ConnectionLost                    the connection failed at connect, at checkout, during
    │   (sqlalchemy.exc.OperationalError)  a statement or a commit; 503 + Retry-After, and
    │                                     `outcome_unknown` when it died during COMMIT
    ├── DetachedObjectError               an expired or detached object was touched after its
    │   (sqlalchemy.orm.exc.DetachedInstanceError)  session closed
    ├── AsyncLazyLoadError                a relationship was lazy-loaded on an AsyncSession
    │   (sqlalchemy.exc.MissingGreenlet)
    ├── NPlusOneError                     a relationship was lazy-loaded in a loop
    ├── ConnectionLeakError               a connection was not returned to the pool
    └── DoctorUsageError                  `sqlmodel-production doctor` was used wrongly (exit 2)

    UserWarning
    ├── NPlusOneWarning                   an N+1 found in warn mode
    ├── RepeatedQueryWarning              the same query ran many times from one line
    └── ConnectionLeakWarning             a leak found in warn mode

Database errors themselves stay SQLAlchemy's (`sqlalchemy.exc.DBAPIError` and
its subclasses): `classify` turns one into a `ClassifiedError` (what went
wrong, an `ErrorKind`, and which constraint and fields), which
`install_error_handlers` answers with 409 / 422 / 503 / 504.
"""

from __future__ import annotations

from sqlmodel_production._exceptions import AsyncLazyLoadError as AsyncLazyLoadError
from sqlmodel_production._exceptions import BulkValidationError as BulkValidationError
from sqlmodel_production._exceptions import ConnectionLeakError as ConnectionLeakError
from sqlmodel_production._exceptions import (
    ConnectionLeakWarning as ConnectionLeakWarning,
)
from sqlmodel_production._exceptions import ConnectionLost as ConnectionLost
from sqlmodel_production._exceptions import DoctorUsageError as DoctorUsageError
from sqlmodel_production._exceptions import InvalidQuery as InvalidQuery
from sqlmodel_production._exceptions import InvalidScope as InvalidScope
from sqlmodel_production._exceptions import LiveChildren as LiveChildren
from sqlmodel_production._exceptions import NPlusOneWarning as NPlusOneWarning
from sqlmodel_production._exceptions import OutsideScope as OutsideScope
from sqlmodel_production._exceptions import ReferenceNotFound as ReferenceNotFound
from sqlmodel_production._exceptions import RepeatedQueryWarning as RepeatedQueryWarning
from sqlmodel_production._exceptions import (
    SQLModelProductionError as SQLModelProductionError,
)
from sqlmodel_production._exceptions import StaleVersion as StaleVersion
from sqlmodel_production.db import ClassifiedError as ClassifiedError
from sqlmodel_production.db import ErrorKind as ErrorKind
from sqlmodel_production.db import classify as classify
from sqlmodel_production.diagnostics import DetachedObjectError as DetachedObjectError
from sqlmodel_production.diagnostics import NPlusOneError as NPlusOneError

__all__ = [
    "AsyncLazyLoadError",
    "BulkValidationError",
    "ClassifiedError",
    "ConnectionLeakError",
    "ConnectionLeakWarning",
    "ConnectionLost",
    "DetachedObjectError",
    "DoctorUsageError",
    "ErrorKind",
    "InvalidQuery",
    "InvalidScope",
    "LiveChildren",
    "NPlusOneError",
    "NPlusOneWarning",
    "OutsideScope",
    "ReferenceNotFound",
    "RepeatedQueryWarning",
    "SQLModelProductionError",
    "StaleVersion",
    "classify",
]
