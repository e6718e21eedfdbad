"""Real error messages and the problem `explain` must name for each.

Each row is (source, message, key). The messages are exact texts: the groups
marked "captured" were produced by the driver named against the test databases
of this repository (PostgreSQL 15, MariaDB, SQLite 3, PgBouncer in transaction
mode); the rest keep the server's or the package's own wording, copied from
the raising line of the installed package where one is named (asyncpg,
aiosqlite, psycopg, SQLAlchemy, this package) and with a table or constraint
name of ours.
"""

from __future__ import annotations

MESSAGES: list[tuple[str, str, str]] = [
    # --- PostgreSQL, psycopg 3 (captured) ---
    (
        "psycopg",
        'psycopg.errors.UniqueViolation: duplicate key value violates unique constraint "zz_p_name_key"\n'
        "DETAIL:  Key (name)=(a) already exists.",
        "unique-violation",
    ),
    (
        "psycopg",
        'psycopg.errors.ForeignKeyViolation: insert or update on table "zz_c" violates foreign key '
        'constraint "zz_c_p_id_fkey"\nDETAIL:  Key (p_id)=(9) is not present in table "zz_p".',
        "foreign-key-violation",
    ),
    (
        "psycopg",
        'psycopg.errors.NotNullViolation: null value in column "name" of relation "zz_p" violates '
        "not-null constraint\nDETAIL:  Failing row contains (4, null, 1).",
        "not-null-violation",
    ),
    (
        "psycopg",
        'psycopg.errors.CheckViolation: new row for relation "zz_p" violates check constraint '
        '"zz_p_age_check"\nDETAIL:  Failing row contains (5, e, -1).',
        "check-violation",
    ),
    (
        "psycopg",
        "psycopg.errors.StringDataRightTruncation: value too long for type character varying(3)",
        "value-too-long",
    ),
    (
        "psycopg",
        "psycopg.errors.InsufficientPrivilege: new row violates row-level security policy for "
        'table "zz_t"',
        "row-level-security",
    ),
    (
        "psycopg",
        "psycopg.errors.QueryCanceled: canceling statement due to statement timeout",
        "statement-timeout",
    ),
    (
        "psycopg",
        'psycopg.errors.UndefinedTable: relation "zz_missing" does not exist\n'
        "LINE 1: select * from zz_missing\n                      ^",
        "schema-mismatch",
    ),
    (
        "psycopg",
        'psycopg.errors.UndefinedColumn: column "nope" does not exist\nLINE 1: select nope from zz_p',
        "schema-mismatch",
    ),
    (
        "psycopg",
        'psycopg.OperationalError: connection failed: connection to server at "127.0.0.1", port '
        '5432 failed: FATAL:  database "nope" does not exist',
        "authentication-failed",
    ),
    (
        "psycopg",
        'psycopg.OperationalError: connection failed: connection to server at "127.0.0.1", port '
        "5999 failed: Connection refused\n\tIs the server running on that host and accepting "
        "TCP/IP connections?",
        "connection-refused",
    ),
    ("psycopg", "psycopg.errors.DeadlockDetected: deadlock detected", "deadlock"),
    (
        "psycopg",
        "psycopg.errors.SerializationFailure: could not serialize access due to concurrent update",
        "serialization-failure",
    ),
    (
        "psycopg",
        "psycopg.errors.LockNotAvailable: canceling statement due to lock timeout",
        "lock-wait-timeout",
    ),
    (
        "psycopg",
        "psycopg.errors.TooManyConnections: sorry, too many clients already",
        "too-many-connections",
    ),
    (
        "psycopg",
        "psycopg.OperationalError: consuming input failed: server closed the connection "
        "unexpectedly\n\tThis probably means the server terminated abnormally\n\tbefore or while "
        "processing the request.",
        "stale-connection",
    ),
    (
        "psycopg",
        "psycopg.errors.AdminShutdown: terminating connection due to administrator command",
        "stale-connection",
    ),
    # psycopg/_connection_base.py
    (
        "psycopg",
        "psycopg.OperationalError: the connection is closed",
        "closed-connection",
    ),
    # --- PostgreSQL, asyncpg (captured unless noted) ---
    (
        "asyncpg",
        "asyncpg.exceptions.UniqueViolationError: duplicate key value violates unique constraint "
        '"hero_name_key"',
        "unique-violation",
    ),
    (
        "asyncpg",
        'asyncpg.exceptions.ForeignKeyViolationError: update or delete on table "zz_p" violates '
        'foreign key constraint "zz_c_p_id_fkey" on table "zz_c"',
        "foreign-key-violation",
    ),
    (
        "asyncpg",
        "asyncpg.exceptions.DeadlockDetectedError: deadlock detected",
        "deadlock",
    ),
    (
        "asyncpg",
        "asyncpg.exceptions.InsufficientPrivilegeError: new row violates row-level security "
        'policy for table "zz_t"',
        "row-level-security",
    ),
    (
        "asyncpg",
        "asyncpg.exceptions.SerializationError: could not serialize access due to read/write "
        "dependencies among transactions",
        "serialization-failure",
    ),
    (
        "asyncpg",
        "asyncpg.exceptions.QueryCanceledError: canceling statement due to statement timeout",
        "statement-timeout",
    ),
    (
        "asyncpg",
        'asyncpg.exceptions.InvalidAuthorizationSpecificationError: role "nouser" does not exist',
        "authentication-failed",
    ),
    (
        "asyncpg",
        'asyncpg.exceptions.InvalidPasswordError: password authentication failed for user "app"',
        "authentication-failed",
    ),
    (
        "asyncpg",
        "ConnectionRefusedError: [Errno 111] Connect call failed ('127.0.0.1', 5999)",
        "connection-refused",
    ),
    (
        "asyncpg",
        "asyncpg.exceptions._base.InterfaceError: cannot perform operation: another operation is "
        "in progress",
        "concurrent-session",
    ),
    (
        "asyncpg",
        "asyncpg.exceptions.ConnectionDoesNotExistError: connection was closed in the middle of "
        "operation",
        "stale-connection",
    ),
    (
        "asyncpg",
        "asyncpg.exceptions.TooManyConnectionsError: sorry, too many clients already",
        "too-many-connections",
    ),
    # --- PgBouncer (captured on its port 6432, transaction pooling) ---
    (
        "pgbouncer+psycopg",
        'psycopg.OperationalError: connection failed: connection to server at "127.0.0.1", port '
        "6432 failed: FATAL:  unsupported startup parameter: options",
        "pgbouncer-startup-parameter",
    ),
    (
        "pgbouncer+asyncpg",
        "asyncpg.exceptions.ProtocolViolationError: unsupported startup parameter: statement_timeout",
        "pgbouncer-startup-parameter",
    ),
    (
        "pgbouncer+psycopg",
        'psycopg.errors.DuplicatePreparedStatement: prepared statement "_pg3_0" already exists',
        "pgbouncer-prepared-statements",
    ),
    (
        "pgbouncer+asyncpg",
        "asyncpg.exceptions.DuplicatePreparedStatementError: prepared statement "
        '"__asyncpg_stmt_1a__" already exists',
        "pgbouncer-prepared-statements",
    ),
    (
        "pgbouncer+asyncpg",
        "asyncpg.exceptions.InvalidSQLStatementNameError: prepared statement "
        '"__asyncpg_stmt_1d__" does not exist',
        "pgbouncer-prepared-statements",
    ),
    # PgBouncer's error texts (src/janitor.c, src/client.c)
    ("pgbouncer", "ERROR:  query_wait_timeout", "pgbouncer-pool-full"),
    (
        "pgbouncer",
        "FATAL:  no more connections allowed (max_client_conn)",
        "pgbouncer-pool-full",
    ),
    ("pgbouncer", "ERROR:  pgbouncer cannot connect to server", "connection-refused"),
    # --- MariaDB, PyMySQL (captured) ---
    (
        "pymysql",
        "pymysql.err.IntegrityError: (1062, \"Duplicate entry 'a' for key 'name'\")",
        "unique-violation",
    ),
    (
        "pymysql",
        "pymysql.err.IntegrityError: (1452, 'Cannot add or update a child row: a foreign key "
        "constraint fails (`test`.`zz_c`, CONSTRAINT `zz_c_ibfk_1` FOREIGN KEY (`p_id`) "
        "REFERENCES `zz_p` (`id`))')",
        "foreign-key-violation",
    ),
    (
        "pymysql",
        "pymysql.err.IntegrityError: (1048, \"Column 'name' cannot be null\")",
        "not-null-violation",
    ),
    (
        "pymysql",
        "pymysql.err.DataError: (1406, \"Data too long for column 'name' at row 1\")",
        "value-too-long",
    ),
    (
        "pymysql",
        "pymysql.err.OperationalError: (4025, 'CONSTRAINT `zz_p.age` failed for `test`.`zz_p`')",
        "check-violation",
    ),
    (
        "pymysql",
        "pymysql.err.ProgrammingError: (1146, \"Table 'test.zz_missing' doesn't exist\")",
        "schema-mismatch",
    ),
    (
        "pymysql",
        "pymysql.err.OperationalError: (1054, \"Unknown column 'nope' in 'SELECT'\")",
        "schema-mismatch",
    ),
    (
        "pymysql",
        "pymysql.err.OperationalError: (1969, 'Query execution was interrupted "
        "(max_statement_time exceeded)')",
        "statement-timeout",
    ),
    (
        "pymysql",
        "pymysql.err.OperationalError: (1045, \"Access denied for user 'root'@'127.0.0.1' "
        '(using password: YES)")',
        "authentication-failed",
    ),
    (
        "pymysql",
        "pymysql.err.OperationalError: (2003, \"Can't connect to MySQL server on '127.0.0.1' "
        '([Errno 111] Connection refused)")',
        "connection-refused",
    ),
    (
        "pymysql",
        "pymysql.err.OperationalError: (1213, 'Deadlock found when trying to get lock; try "
        "restarting transaction')",
        "deadlock",
    ),
    # pymysql/connections.py
    (
        "pymysql",
        "pymysql.err.OperationalError: (2013, 'Lost connection to MySQL server during query')",
        "stale-connection",
    ),
    (
        "pymysql",
        'pymysql.err.OperationalError: (2006, "MySQL server has gone away (BrokenPipeError(32, '
        "'Broken pipe'))\")",
        "stale-connection",
    ),
    # --- MariaDB, asyncmy (server texts, asyncmy's exception classes) ---
    (
        "asyncmy",
        "asyncmy.errors.OperationalError: (1205, 'Lock wait timeout exceeded; try restarting "
        "transaction')",
        "lock-wait-timeout",
    ),
    (
        "asyncmy",
        "asyncmy.errors.IntegrityError: (1451, 'Cannot delete or update a parent row: a foreign "
        "key constraint fails (`test`.`zz_c`, CONSTRAINT `zz_c_ibfk_1` FOREIGN KEY (`p_id`) "
        "REFERENCES `zz_p` (`id`))')",
        "foreign-key-violation",
    ),
    (
        "asyncmy",
        "asyncmy.errors.OperationalError: (1040, 'Too many connections')",
        "too-many-connections",
    ),
    # --- SQLite, sqlite3 (captured) ---
    (
        "sqlite3",
        "sqlite3.IntegrityError: UNIQUE constraint failed: p.name",
        "unique-violation",
    ),
    (
        "sqlite3",
        "sqlite3.IntegrityError: FOREIGN KEY constraint failed",
        "foreign-key-violation",
    ),
    (
        "sqlite3",
        "sqlite3.IntegrityError: NOT NULL constraint failed: p.name",
        "not-null-violation",
    ),
    (
        "sqlite3",
        "sqlite3.IntegrityError: CHECK constraint failed: age_positive",
        "check-violation",
    ),
    ("sqlite3", "sqlite3.OperationalError: no such table: missing", "schema-mismatch"),
    ("sqlite3", "sqlite3.OperationalError: database is locked", "sqlite-locked"),
    (
        "sqlite3",
        "sqlite3.OperationalError: unable to open database file",
        "connection-refused",
    ),
    (
        "sqlite3",
        "sqlite3.ProgrammingError: SQLite objects created in a thread can only be used in that "
        "same thread. The object was created in thread id 140 and this is thread id 141.",
        "sqlite-thread",
    ),
    # --- SQLite, aiosqlite (aiosqlite/core.py; sqlite3's errors pass through) ---
    ("aiosqlite", "ValueError: no active connection", "closed-connection"),
    (
        "aiosqlite",
        "sqlalchemy.exc.OperationalError: (sqlite3.OperationalError) database is locked",
        "sqlite-locked",
    ),
    # --- SQLAlchemy ---
    (
        "sqlalchemy",
        "sqlalchemy.exc.MissingGreenlet: greenlet_spawn has not been called; can't call "
        "await_only() here. Was IO attempted in an unexpected place? (Background on this error "
        "at: https://sqlalche.me/e/20/xd2s)",
        "missing-greenlet",
    ),
    (
        "sqlalchemy",
        "sqlalchemy.orm.exc.DetachedInstanceError: Parent instance <Team at 0x7f> is not bound "
        "to a Session; lazy load operation of attribute 'heroes' cannot proceed",
        "detached-instance",
    ),
    (
        "sqlalchemy",
        "sqlalchemy.exc.TimeoutError: QueuePool limit of size 5 overflow 10 reached, connection "
        "timed out, timeout 30.00 (Background on this error at: https://sqlalche.me/e/20/3o7r)",
        "pool-exhausted",
    ),
    (
        "sqlalchemy",
        "sqlalchemy.exc.PendingRollbackError: This Session's transaction has been rolled back "
        "due to a previous exception during flush.",
        "pending-rollback",
    ),
    (
        "sqlalchemy",
        "sqlalchemy.orm.exc.StaleDataError: UPDATE statement on table 'hero' expected to update "
        "1 row(s); 0 were matched.",
        "stale-data",
    ),
    (
        "sqlalchemy",
        "sqlalchemy.exc.InvalidRequestError: This session is provisioning a new connection; "
        "concurrent operations are not permitted (Background on this error at: "
        "https://sqlalche.me/e/20/isce)",
        "concurrent-session",
    ),
    (
        "sqlalchemy",
        "sqlalchemy.exc.InvalidRequestError: Object '<Hero at 0x7f>' is already attached to "
        "session '2' (this is '3')",
        "object-in-other-session",
    ),
    (
        "sqlalchemy",
        "sqlalchemy.exc.NoResultFound: No row was found when one was required",
        "no-result",
    ),
    (
        "sqlalchemy",
        "sqlalchemy.exc.ResourceClosedError: This Connection is closed",
        "closed-connection",
    ),
    (
        "sqlalchemy",
        "AttributeError: 'Hero' object has no attribute 'awaitable_attrs'",
        "missing-async-attrs",
    ),
    # --- sqlmodel-production itself ---
    (
        "sqlmodel-production",
        "sqlalchemy.exc.InvalidRequestError: transaction() must begin the transaction itself, "
        "but this session has writes in progress (added, changed or flushed before the retry "
        "loop), which a retry could not repeat. Commit them first (session.commit()), or move "
        "them into the unit of work.",
        "transaction-after-writes",
    ),
    (
        # as a terminal or log viewer wraps it
        "sqlmodel-production",
        "InvalidRequestError: transaction() must begin the\ntransaction itself, but this session",
        "transaction-after-writes",
    ),
    (
        "sqlmodel-production",
        "RuntimeError: Each attempt must be entered: `for attempt in transaction(session): with "
        "attempt: ...` (`async with attempt:` for an AsyncSession)",
        "transaction-usage",
    ),
    (
        "sqlmodel-production",
        "TypeError: An AsyncSession needs `async for attempt in transaction(session): async with "
        "attempt: ...`",
        "transaction-usage",
    ),
    (
        "sqlmodel-production",
        "TypeError: @transactional needs a Session or AsyncSession argument, and transfer() got "
        "none: pass the session, as in `transfer(session, ...)`",
        "transaction-usage",
    ),
    (
        "sqlmodel-production",
        "RuntimeError: The database refused this connection's startup parameters (unsupported "
        "startup parameter: statement_timeout): DATABASE_URL points at PgBouncer; set "
        "DATABASE_POOLER=pgbouncer (docs/scaling.md)",
        "pgbouncer-startup-parameter",
    ),
    (
        "sqlmodel-production",
        "sqlmodel_production.diagnostics.NPlusOneError: N+1 queries: Team.heroes was "
        "lazy-loaded 2 times from app/teams.py:12 in list_teams; load it with the query that "
        "fetched the parents: .options(selectinload(Team.heroes)).",
        "n-plus-one",
    ),
    (
        "sqlmodel-production",
        "sqlmodel_production.diagnostics.AsyncLazyLoadError: Team.heroes was lazy-loaded at "
        "app/teams.py:12 in list_teams, but an AsyncSession cannot load lazily (MissingGreenlet: "
        "greenlet_spawn has not been called; Was IO attempted in an unexpected place?). Load it "
        "with the query: .options(selectinload(Team.heroes)), or explicitly: await "
        "session.refresh(obj, ['heroes']).",
        "missing-greenlet",
    ),
]
