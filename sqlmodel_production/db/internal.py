"""The execution seam: what the package's upper layers (`crud`, `api`, `diagnostics`) use of `db`.

Beyond the public API (`sqlmodel_production.db`), the repository and the
routes need where a unit of work runs (`Runner`, `where_to_run`), statements compiled
once (`Prepared`), the drivers' fast paths, the backend profiles' per-database
answers, the error classification's details and the row settings of
row-level security. They import them from here,
never from `db`'s private modules. Not public: names here may change in any
release.
"""

from sqlmodel_production.db._backends import autocommits as autocommits
from sqlmodel_production.db._backends import current_utc as current_utc
from sqlmodel_production.db._backends import exact_text as exact_text
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
from sqlmodel_production.db._errors import mark_columns as mark_columns
from sqlmodel_production.db._errors import mark_row as mark_row
from sqlmodel_production.db._errors import offending_values as offending_values
from sqlmodel_production.db._errors import resolve_columns as resolve_columns
from sqlmodel_production.db._observers import (
    report_error_answered as report_error_answered,
)
from sqlmodel_production.db._prepared import Prepared as Prepared
from sqlmodel_production.db._prepared import Row as Row
from sqlmodel_production.db._prepared import direct_safe as direct_safe
from sqlmodel_production.db._row_security import ALL_ROWS as ALL_ROWS
from sqlmodel_production.db._row_security import (
    NEEDS_ROW_SECURITY as NEEDS_ROW_SECURITY,
)
from sqlmodel_production.db._row_security import (
    check_setting_name as check_setting_name,
)
from sqlmodel_production.db._row_security import row_settings as row_settings
from sqlmodel_production.db._row_security import (
    row_settings_active as row_settings_active,
)
from sqlmodel_production.db._row_security import (
    set_row_settings as set_row_settings,
)
from sqlmodel_production.db._row_security import setting_text as setting_text
from sqlmodel_production.db._runners import WROTE as WROTE
from sqlmodel_production.db._runners import WROTE_NOW as WROTE_NOW
from sqlmodel_production.db._runners import WROTE_RECENTLY as WROTE_RECENTLY
from sqlmodel_production.db._runners import PooledRunner as PooledRunner
from sqlmodel_production.db._runners import Runner as Runner
from sqlmodel_production.db._runners import RunOn as RunOn
from sqlmodel_production.db._runners import SessionLike as SessionLike
from sqlmodel_production.db._runners import SessionState as SessionState
from sqlmodel_production.db._runners import WorkKind as WorkKind
from sqlmodel_production.db._runners import connection_of as connection_of
from sqlmodel_production.db._runners import pooled_runner as pooled_runner
from sqlmodel_production.db._runners import runner_of as runner_of
from sqlmodel_production.db._runners import session_state as session_state
from sqlmodel_production.db._runners import where_to_run as where_to_run
from sqlmodel_production.db._transaction import retrying as retrying
from sqlmodel_production.db._written import serving as serving

__all__ = [
    "ALL_ROWS",
    "NEEDS_ROW_SECURITY",
    "STATE_KEY",
    "WROTE",
    "WROTE_NOW",
    "WROTE_RECENTLY",
    "Runner",
    "PooledRunner",
    "Prepared",
    "Row",
    "SessionState",
    "SessionLike",
    "RunOn",
    "WorkKind",
    "autocommits",
    "check_setting_name",
    "where_to_run",
    "connection_failed",
    "connection_of",
    "current_utc",
    "exact_text",
    "direct_safe",
    "insert_statement",
    "mark_columns",
    "mark_row",
    "offending_values",
    "runner_of",
    "pooled_runner",
    "profile_of",
    "report_error_answered",
    "resolve_columns",
    "retrying",
    "row_settings",
    "row_settings_active",
    "run_prepared",
    "serving",
    "session_state",
    "set_row_settings",
    "setting_text",
    "sort_value",
    "unattached_database",
]
