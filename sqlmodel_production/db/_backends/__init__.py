"""One profile per backend: everything that differs between SQLite, PostgreSQL and MariaDB.

A profile names the backend's drivers, how to connect and tune a connection,
whether a statement can be its own transaction at no cost, how to insert many
rows and upsert, its error table (codes to `ErrorKind`, and what the messages
name), what a pooler in front of it needs, how to read the server's
connection limit, and how its column types and sort keys render. Nothing
outside this package asks which database it talks to: it asks the profile.
Adding a backend, or a pooler mode, is one module.
"""

from __future__ import annotations

import functools

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from sqlmodel_production.db._row_security import row_settings_active

from . import _mariadb, _postgresql, _sqlite
from ._profile import POOLER_OPTION as POOLER_OPTION
from ._profile import Backend as Backend
from ._profile import InsertBatch as InsertBatch
from ._profile import Pooler as Pooler
from ._profile import Profile as Profile
from ._profile import Row as Row
from ._profile import Upsert as Upsert
from ._profile import current_utc as current_utc
from ._profile import exact_text as exact_text
from ._profile import never as never
from ._profile import sort_value as sort_value

__all__ = [
    "POOLER_OPTION",
    "PROFILES",
    "Backend",
    "InsertBatch",
    "Pooler",
    "Profile",
    "Row",
    "Upsert",
    "autocommits",
    "current_utc",
    "exact_text",
    "never",
    "profile_of",
    "sort_value",
]

PROFILES: tuple[Profile, ...] = (_postgresql.PROFILE, _mariadb.PROFILE, _sqlite.PROFILE)
"""Every supported backend's profile."""


@functools.cache
def profile_of(name: Backend | str) -> Profile:
    """The profile of a backend, a URL's backend name or a SQLAlchemy dialect name.

    Raises:
        ValueError: the name is not one of a supported database.
    """
    for profile in PROFILES:
        if (
            name is profile.backend
            or name in profile.url_names
            or name == profile.dialect
        ):
            return profile
    supported = ", ".join(sorted(n for profile in PROFILES for n in profile.url_names))
    raise ValueError(
        f"Unsupported database {name!r} in DATABASE_URL; use one of: {supported}"
    )


def autocommits(bind: Engine | sa.Connection) -> bool:
    """Whether a statement can be its own transaction at no cost on `bind` (see `Profile`).

    Never while row settings are active (`db/_row_security.py`): a statement
    outside a transaction would run without them.
    """
    if row_settings_active():
        return False
    dialect = bind.dialect
    pooler = bind.get_execution_options().get(POOLER_OPTION, "none")
    return profile_of(dialect.name).autocommit_statements(dialect.driver, pooler)
