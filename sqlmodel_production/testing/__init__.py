"""The pytest plugin of sqlmodel-production, and the helpers it offers.

Registered under the `pytest11` entry point, so its fixtures are available in
every test once the package is installed:

- `assert_queries`, `assert_max_queries`, `n_plus_one`, `no_connection_leaks`:
  query counts, N+1 and leaks;
- `smp_session` / `smp_async_session`: a session whose writes, commits
  included, are rolled back after each test, on the database given by
  `--smp-database-url` or `SMP_TEST_DATABASE_URL` (or your own
  session-scoped `smp_database` fixture); `smp_tables` creates the tables once
  per run; `override_session(app, session)` serves a FastAPI app with it.
"""

from ._assertions import assert_max_queries as assert_max_queries
from ._assertions import assert_queries as assert_queries
from ._database import pytest_addoption as pytest_addoption
from ._database import smp_async_session as smp_async_session
from ._database import smp_connection as smp_connection
from ._database import smp_database as smp_database
from ._database import smp_database_url as smp_database_url
from ._database import smp_metadata as smp_metadata
from ._database import smp_session as smp_session
from ._database import smp_tables as smp_tables
from ._overrides import override_session as override_session
from ._plugin import n_plus_one as n_plus_one
from ._plugin import no_connection_leaks as no_connection_leaks
from ._plugin import pytest_configure as pytest_configure
from ._plugin import pytest_runtest_makereport as pytest_runtest_makereport

__all__ = [
    "assert_max_queries",
    "assert_queries",
    "n_plus_one",
    "no_connection_leaks",
    "override_session",
    "pytest_addoption",
    "pytest_configure",
    "pytest_runtest_makereport",
    "smp_async_session",
    "smp_connection",
    "smp_database",
    "smp_database_url",
    "smp_metadata",
    "smp_session",
    "smp_tables",
]
