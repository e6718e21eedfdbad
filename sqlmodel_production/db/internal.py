"""The execution seam: what the package's upper layers (`crud`, `api`, `diagnostics`) use of `db`.

Beyond the public API (`sqlmodel_production.db`), the repository and the
routes need where a unit of work runs (`Place`, `choose`), statements compiled
once (`Prepared`), the drivers' fast paths, the backend profiles' per-database
answers and the error classification's details. They import them from here,
never from `db`'s private modules. Not public: names here may change in any
release.
"""

from sqlmodel_production.db._backends import autocommits as autocommits
from sqlmodel_production.db._backends import profile_of as profile_of
from sqlmodel_production.db._backends import sort_value as sort_value
from sqlmodel_production.db._backends._common import (
    insert_statement as insert_statement,
)
from sqlmodel_production.db._database import STATE_KEY as STATE_KEY
from sqlmodel_production.db._database import (
    unattached_database as unattached_database,
)
from sqlmodel_production.db._driver import run_prepared as run_prepared
from sqlmodel_production.db._errors import connection_failed as connection_failed
from sqlmodel_production.db._errors import mark_row as mark_row
from sqlmodel_production.db._errors import offending_values as offending_values
from sqlmodel_production.db._errors import resolve_columns as resolve_columns
from sqlmodel_production.db._observers import (
    report_error_answered as report_error_answered,
)
from sqlmodel_production.db._places import WROTE as WROTE
from sqlmodel_production.db._places import WROTE_NOW as WROTE_NOW
from sqlmodel_production.db._places import WROTE_RECENTLY as WROTE_RECENTLY
from sqlmodel_production.db._places import Place as Place
from sqlmodel_production.db._places import PooledPlace as PooledPlace
from sqlmodel_production.db._places import SessionState as SessionState
from sqlmodel_production.db._places import Target as Target
from sqlmodel_production.db._places import Where as Where
from sqlmodel_production.db._places import Work as Work
from sqlmodel_production.db._places import choose as choose
from sqlmodel_production.db._places import connection_of as connection_of
from sqlmodel_production.db._places import place_of as place_of
from sqlmodel_production.db._places import pooled_place as pooled_place
from sqlmodel_production.db._places import session_state as session_state
from sqlmodel_production.db._prepared import Prepared as Prepared
from sqlmodel_production.db._prepared import Row as Row
from sqlmodel_production.db._prepared import direct_safe as direct_safe
from sqlmodel_production.db._transaction import retrying as retrying

__all__ = [
    "STATE_KEY",
    "WROTE",
    "WROTE_NOW",
    "WROTE_RECENTLY",
    "Place",
    "PooledPlace",
    "Prepared",
    "Row",
    "SessionState",
    "Target",
    "Where",
    "Work",
    "autocommits",
    "choose",
    "connection_failed",
    "connection_of",
    "direct_safe",
    "insert_statement",
    "mark_row",
    "offending_values",
    "place_of",
    "pooled_place",
    "profile_of",
    "report_error_answered",
    "resolve_columns",
    "retrying",
    "run_prepared",
    "session_state",
    "sort_value",
    "unattached_database",
]
