"""Explain a database error: which common problem it is, why it happens, the fix (pure, no I/O)."""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass

from sqlmodel_production.diagnostics._package_messages import MESSAGES

__all__ = ["Explanation", "explain_error", "render"]


@dataclass(frozen=True)
class Explanation:
    """One recognized problem."""

    key: str
    problem: str
    """The family of problems it belongs to ("N+1 Queries", "Connection Leak", ...)."""
    title: str
    why: str
    fix: str


def _rule(
    pattern: str, key: str, problem: str, title: str, why: str, fix: str
) -> tuple[re.Pattern[str], Explanation]:
    return re.compile(pattern, re.I), Explanation(key, problem, title, why, fix)


_RULES = [
    _rule(
        r"no attribute '?awaitable_attrs'?",
        "missing-async-attrs",
        "Async Lazy Load",
        "awaitable_attrs needs SQLAlchemy's AsyncAttrs mixin",
        "obj.awaitable_attrs comes from sqlalchemy.ext.asyncio.AsyncAttrs; SQLModel tables do not "
        "inherit it, so the attribute does not exist.",
        "Load the relationship with the query (.options(selectinload(Model.rel))), or explicitly "
        "with await session.refresh(obj, ['rel']); or add the mixin: "
        "class Hero(AsyncAttrs, SQLModel, table=True).",
    ),
    _rule(
        r"MissingGreenlet|greenlet_spawn has not been called|AsyncLazyLoadError|\bxd2s\b",
        "missing-greenlet",
        "Async Lazy Load",
        "Lazy load in async code (MissingGreenlet)",
        "An AsyncSession cannot load a relationship or an expired attribute when it is touched: "
        "that would be hidden I/O outside the event loop's control. Often the attribute was "
        "expired by commit(), or the relationship was never loaded by the query.",
        "Load what the response needs with the query: .options(selectinload(Parent.children)) for "
        "collections, joinedload for many-to-one; keep expire_on_commit=False; or load explicitly "
        "with await session.refresh(obj, ['children']).",
    ),
    _rule(
        r"N\+1 queries: \S+ was lazy-loaded",
        "n-plus-one",
        "N+1 Queries",
        "Relationship lazy-loaded in a loop (NPlusOneError)",
        "Each object of a result loaded the same relationship with a query of its own: one query "
        "for the parents, then one per parent.",
        "Load it with the query that fetched the parents: .options(selectinload(Parent.children)) "
        "for collections, joinedload for many-to-one.",
    ),
    _rule(
        r"DetachedInstanceError|is not bound to a Session|object is detached|\bbhk3\b",
        "detached-instance",
        "Detached Instance",
        "Object used after its session closed (DetachedInstanceError)",
        "The object's session is closed, and the attribute was never loaded or was expired by "
        "commit(), so there is no session left to load it from.",
        "Load everything the caller needs before the session closes (selectinload, or "
        "session.refresh(obj) after commit), keep expire_on_commit=False, or re-attach it with "
        "session.merge(obj) / session.get(Model, id) in a new session.",
    ),
    _rule(
        r"QueuePool limit of size \d+ overflow \d+ reached|connection timed out, timeout|\b3o7r\b",
        "pool-exhausted",
        "Connection Leak",
        "Connection pool exhausted (QueuePool limit ... timed out)",
        "Every pooled connection was checked out and none came back within pool_timeout: "
        "connections are leaked (never closed) or held too long (slow work inside a session), "
        "or the pool is too small for the concurrency.",
        "Open sessions with context managers (with Session(engine) as session:) or the SessionDep "
        "dependency; keep transactions short; find the checkout site with LeakDetector; then size "
        "pool_size + max_overflow against the server's max_connections.",
    ),
    _rule(
        r"PendingRollbackError|transaction has been rolled back due to a previous exception|\b7s2a\b",
        "pending-rollback",
        "Transactions",
        "Session used after a failed flush (PendingRollbackError)",
        "A flush or commit failed, and the session's transaction must be rolled back before the "
        "session can be used again; code went on using it (often a shared or global session).",
        "Call session.rollback() in the except block that caught the first error, or use one "
        "session per request (SessionDep) so a failed request never poisons the next one.",
    ),
    _rule(
        r"transaction\(\) must begin the transaction itself",
        "transaction-after-writes",
        "Transactions",
        "A retried unit of work after writes of the same session (transaction())",
        "transaction() runs its unit of work again after a deadlock or serialization failure, and "
        "it can only run again what is inside it. Reads before it are fine (a dependency that "
        "loaded the current user); writes before it (objects added or changed, a flush, an ORM "
        "update()) could not be repeated.",
        "Commit the earlier writes first (session.commit()), or move them into the unit of work; "
        "pass ids into it, not objects loaded before it.",
    ),
    _rule(
        r"Each attempt must be entered|An AsyncSession needs `async for attempt|"
        r"A sync Session needs `for attempt|@transactional needs a Session or AsyncSession",
        "transaction-usage",
        "Transactions",
        "transaction() / @transactional used the wrong way",
        "transaction() retries a unit of work: each attempt is a block that must be entered "
        "(sync and async spellings differ), and @transactional finds the session among the "
        "function's arguments.",
        "Write `for attempt in transaction(session): with attempt: ...` for a Session, "
        "`async for attempt in transaction(session): async with attempt: ...` for an "
        "AsyncSession; pass the session to a @transactional function as an argument.",
    ),
    _rule(
        r"unsupported startup parameter",
        "pgbouncer-startup-parameter",
        "PgBouncer",
        "PgBouncer refused a startup parameter",
        "PgBouncer accepts only a few startup parameters (client_encoding, DateStyle, TimeZone, "
        "application_name, ...); a statement_timeout, search_path, jit or options=-c ... sent "
        "when connecting fails the connection.",
        "Set DATABASE_POOLER=pgbouncer (the library then sets timeouts with SET after "
        "connecting, not as startup parameters). With SQLAlchemy alone: drop "
        "server_settings / options from connect_args and run SET in a connect event, or list "
        "the parameter in PgBouncer's ignore_startup_parameters.",
    ),
    _rule(
        r"prepared statement \"?(__asyncpg_stmt_|_pg3_)\w*\"? (already exists|does not exist)|"
        r"DuplicatePreparedStatement|InvalidSQLStatementNameError",
        "pgbouncer-prepared-statements",
        "PgBouncer",
        "Prepared statements behind PgBouncer (asyncpg, psycopg)",
        "PgBouncer in transaction mode hands a server connection to another client after each "
        "transaction; named prepared statements (asyncpg's always, psycopg's after "
        "prepare_threshold runs) collide there, or are missing from the server connection the "
        "next statement reaches.",
        "Set DATABASE_POOLER=pgbouncer (the library's engines then run asyncpg without a "
        "statement cache and with unnamed statements, psycopg with prepare_threshold=None). "
        "With SQLAlchemy alone: connect_args={'statement_cache_size': 0, "
        "'prepared_statement_cache_size': 0, 'prepared_statement_name_func': lambda: ''} for "
        "asyncpg, connect_args={'prepare_threshold': None} for psycopg. Or use session pooling, "
        "or PgBouncer 1.21+ with max_prepared_statements.",
    ),
    _rule(
        r"query_wait_timeout|no more connections allowed \(max_client_conn\)",
        "pgbouncer-pool-full",
        "PgBouncer",
        "PgBouncer's pool is full",
        "PgBouncer queued the client longer than query_wait_timeout (every server connection of "
        "the pool was busy), or refused it at max_client_conn: transactions are held too long, "
        "or too many application connections point at it.",
        "Keep transactions short (no slow work between BEGIN and COMMIT); size default_pool_size "
        "for the work, and the application's pools (summed over workers) under max_client_conn.",
    ),
    _rule(
        r"SSL SYSCALL error: EOF|server closed the connection unexpectedly|MySQL server has gone away|"
        r"Lost connection to (MySQL )?server|connection was closed in the middle of operation|"
        r"terminating connection due to administrator command|\b57P01\b|\(2006\b|\(2013\b|\be3q8\b",
        "stale-connection",
        "Connections",
        "Stale pooled connection (server closed it)",
        "The pool handed out a connection the server (or a firewall, or a failover) had already "
        "closed while it sat idle.",
        "Keep pool_pre_ping=True (a checkout is tested once it sat idle POOL_PING_AFTER seconds; "
        "0 tests every checkout), and pool_recycle below the server's "
        "and the network's idle timeouts (MariaDB wait_timeout, load-balancer idle limits).",
    ),
    _rule(
        r"Connection refused|Connect call failed|Can't connect to (MySQL|MariaDB) server|"
        r"could not translate host name|Name or service not known|pgbouncer cannot connect to server|"
        r"unable to open database file|\(2003\b|\(2005\b",
        "connection-refused",
        "Connections",
        "Cannot reach the database server",
        "Nothing answered at the host and port of the URL (server down or still starting, wrong "
        "host or port, a container's name not resolvable from here), or SQLite cannot create "
        "the file (its directory is missing or read-only).",
        "Check DATABASE_URL's host and port from where the app runs (in Docker, the service "
        "name, not localhost); wait for the database to accept connections before start-up "
        "(a readiness check); for SQLite, create the directory.",
    ),
    _rule(
        r"password authentication failed|Access denied for user|role \"[^\"]*\" does not exist|"
        r"database \"[^\"]*\" does not exist|Unknown database|no pg_hba\.conf entry|\(1045\b|\(1049\b|"
        r"\b28P01\b|\b3D000\b",
        "authentication-failed",
        "Connections",
        "The server refused the login (user, password or database)",
        "The server answered, but the user, its password or the database name in the URL is "
        "wrong, or the server does not allow this client to log in.",
        "Check DATABASE_URL's user, password (URL-encode special characters) and database name; "
        "create the database and grant the user access; on PostgreSQL check pg_hba.conf.",
    ),
    _rule(
        r"too many connections|too many clients already|remaining connection slots are reserved|"
        r"\b53300\b|\(1040\b",
        "too-many-connections",
        "Connections",
        "Too many connections",
        "The server refused a new connection: every worker's pool_size + max_overflow, summed "
        "over all processes, exceeds max_connections, or connections are leaked.",
        "Size pools against max_connections across all workers (or put PgBouncer in front), and "
        "find leaks with LeakDetector.",
    ),
    _rule(
        r"no active connection|Cannot operate on a closed database|connection is closed",
        "closed-connection",
        "Connections",
        "Connection used after it was closed",
        "The code used a connection (or the session holding it) after it was closed: a session "
        "kept past its `with` block or request, an engine disposed while still in use, a "
        "background task using the request's session.",
        "Open a session where the work happens (with Session(engine) / async with "
        "AsyncSession(engine)) and never keep one beyond its block; give background tasks ids "
        "and a session of their own; dispose engines only at shutdown.",
    ),
    _rule(
        r"is provisioning a new connection; concurrent operations are not permitted|"
        r"another operation is in progress|IllegalStateChangeError|method '\w+\(\)' is already in progress|"
        r"\bisce\b",
        "concurrent-session",
        "Session Misuse",
        "One session used by concurrent tasks",
        "A Session (and its AsyncSession) is one connection and one transaction, and is not safe "
        "for concurrent use: asyncio.gather() over one AsyncSession, or a session shared between "
        "threads or requests, runs two operations at once.",
        "Give each concurrent task a session of its own (async with AsyncSession(engine) as s:), "
        "or run the statements one after the other; never share a session across requests.",
    ),
    _rule(
        r"is already attached to session",
        "object-in-other-session",
        "Session Misuse",
        "Object attached to another session",
        "An object loaded by one session was added to another while the first one is still "
        "open: an object cached or passed between requests or tasks.",
        "Pass ids between sessions and load the object again (session.get), or "
        "session.merge(obj) into the new session; close (or expunge from) the first one.",
    ),
    _rule(
        r"SQLite objects created in a thread can only be used in that same thread",
        "sqlite-thread",
        "Session Misuse",
        "SQLite connection used from another thread",
        "sqlite3 refuses a connection made in another thread; FastAPI runs sync endpoints and "
        "dependencies in a thread pool, so a pooled connection moves between threads.",
        "Create the engine with connect_args={'check_same_thread': False} (the library's "
        "engines do), and keep one session per request so one thread uses it at a time.",
    ),
    _rule(
        r"deadlock detected|Deadlock found when trying to get lock|\b40P01\b|\(1213\b",
        "deadlock",
        "Transaction Deadlock",
        "Deadlock",
        "Two transactions each waited for a lock the other held; the database aborted one of them.",
        "Take locks in a consistent order (sort ids before updating), keep transactions short, "
        "and retry the whole unit of work with a bound (the transactional helper).",
    ),
    _rule(
        r"could not serialize access|SerializationFailure|SerializationError|\b40001\b",
        "serialization-failure",
        "Transaction Conflict",
        "Serialization failure",
        "A concurrent transaction changed what this one read (SERIALIZABLE / REPEATABLE READ), "
        "and the database aborted this one rather than let it act on stale reads.",
        "Retry the whole transaction with jittered backoff and a bound (the transactional helper); "
        "keep transactions short so that conflicts stay rare.",
    ),
    _rule(
        r"Lock wait timeout exceeded|canceling statement due to lock timeout|"
        r"could not obtain lock on|\b55P03\b|\(1205\b",
        "lock-wait-timeout",
        "Lock Contention",
        "Lock wait timeout",
        "A statement waited for a row or table lock longer than the lock timeout "
        "(innodb_lock_wait_timeout, lock_timeout): another transaction held it, usually one left "
        "open across slow work or idle in transaction.",
        "Find the holder (PostgreSQL pg_locks / pg_blocking_pids, MariaDB "
        "information_schema.innodb_trx), keep transactions short, and retry with a bound.",
    ),
    _rule(
        r"database is locked|database table is locked|SQLITE_BUSY",
        "sqlite-locked",
        "Lock Contention",
        "SQLite database is locked",
        "Another connection held SQLite's single write lock longer than the busy timeout: "
        "one writer at a time, and a long write transaction (or a read transaction that "
        "turned into a write) blocks every other writer. Not a deadlock.",
        "Keep write transactions short, use WAL mode and a busy timeout (the engine defaults), "
        "never hold a write transaction open across slow work, and keep one process writing.",
    ),
    _rule(
        r"StaleDataError|expected to update \d+ row\(s\); 0 were matched|"
        r"expected to delete \d+ row\(s\); 0 were matched",
        "stale-data",
        "Stale Data",
        "Row changed or deleted underneath (StaleDataError)",
        "The row this object stands for was updated (its version moved) or deleted by someone "
        "else since it was loaded.",
        "Reload it (session.refresh(obj) or a new session) and apply the change again, or answer "
        "409 Conflict and let the client retry with fresh data.",
    ),
    _rule(
        r"duplicate key value violates unique constraint|UniqueViolation|Duplicate entry|"
        r"UNIQUE constraint failed|\b23505\b|\(1062\b",
        "unique-violation",
        "Data integrity",
        "Unique constraint violated",
        "A row with the same unique value already exists.",
        "Let the constraint decide (no check-then-insert race): catch IntegrityError and answer "
        "409 Conflict naming the constraint, never echoing the row's values.",
    ),
    _rule(
        r"violates foreign key constraint|FOREIGN KEY constraint failed|a foreign key constraint fails|"
        r"\b23503\b|\(1452\b|\(1451\b",
        "foreign-key-violation",
        "Data integrity",
        "Foreign key constraint violated",
        "The row refers to a parent that does not exist, or a parent still has children.",
        "Check that the parent exists in the same transaction, or answer 409 Conflict naming the "
        "constraint; delete children first (or declare ON DELETE) when removing a parent.",
    ),
    _rule(
        r"violates not-null constraint|NOT NULL constraint failed|Column '[^']*' cannot be null|"
        r"\b23502\b|\(1048\b",
        "not-null-violation",
        "Data integrity",
        "NULL in a NOT NULL column",
        "A required column got no value: a field left None in the table model, or a column "
        "added to the table without a server default.",
        "Validate input with the Create schema (required fields, table=True models do not "
        "validate), give the column a default or server_default, and answer 422, not 500.",
    ),
    _rule(
        r"violates check constraint|CHECK constraint failed|CONSTRAINT `[^`]*` failed for|"
        r"Check constraint '[^']*' is violated|\b23514\b|\(4025\b|\(3819\b",
        "check-violation",
        "Data integrity",
        "Check constraint violated",
        "A value broke a CHECK constraint of the table.",
        "Validate the same rule in the Create/Update schema (Field(gt=0), ...) so the client gets "
        "a 422 naming the field; keep the constraint as the last line of defence.",
    ),
    _rule(
        r"violates row-level security policy",
        "row-level-security",
        "Tenancy",
        "Row refused by row-level security (new row violates row-level security policy)",
        "The table has row-level security, and the row written is outside what its policies "
        "allow for this transaction: the scope set with set_config names another tenant, or "
        "no scope was set at all (a statement in autocommit, outside the request, or run "
        "before the scope was known). Superusers and BYPASSRLS roles never see this error: "
        "they bypass the policies.",
        "Write rows of the request's own scope; in a hand-written endpoint take "
        "Depends(scope.in_database), so that every transaction of the request sets the "
        "scope (docs/tenancy.md). install_error_handlers answers it 403.",
    ),
    _rule(
        r"value too long for type|Data too long for column|String data, right truncated|"
        r"\b22001\b|\(1406\b",
        "value-too-long",
        "Data integrity",
        "Value too long for the column",
        "A string is longer than its VARCHAR(n) column (SQLite does not check lengths, so it "
        "shows on PostgreSQL and MariaDB only).",
        "Give the field the column's bound (Field(max_length=n)) so the schema answers 422 "
        "before the database refuses the row.",
    ),
    _rule(
        r"canceling statement due to statement timeout|max_statement_time exceeded|"
        r"maximum statement execution time exceeded|\b57014\b|\(1969\b|\(3024\b",
        "statement-timeout",
        "Slow Query",
        "Statement timeout",
        "A statement ran longer than the statement timeout: a missing index, a huge result, or "
        "a lock wait.",
        "Find it in the slow-query log (fingerprint and caller), add the index or a LIMIT, and "
        "check for N+1 loops that make many small queries slow together.",
    ),
    _rule(
        r"relation \"[^\"]*\" does not exist|column \"[^\"]*\" (of relation \"[^\"]*\" )?does not exist|"
        r"column [\w.]+ does not exist|Table '[^']*' doesn't exist|Unknown column|no such table|"
        r"no such column|has no column named|\b42P01\b|\b42703\b|\(1146\b|\(1054\b",
        "schema-mismatch",
        "Schema",
        "Table or column missing (migrations not applied?)",
        "The models and the database disagree: a table or column the code uses was never "
        "created there (a migration not run, the wrong database or schema, a renamed field).",
        "Run the migrations against this database (alembic upgrade head), check that DATABASE_URL "
        "names the database you think, and generate a migration for model changes.",
    ),
    _rule(
        r"No row was found when one was required|NoResultFound",
        "no-result",
        "Not Found",
        "No row where one was required (NoResultFound)",
        "result.one() (or scalar_one()) found no row: an id that does not exist is a normal "
        "request, not a server error.",
        "Use session.get(Model, id) or .first() / one_or_none() and answer 404 when it is None.",
    ),
]


# The explanations of the package's own messages. Which message gets which is in
# `_package_messages` (generated from the raise sites by scripts/gen_explain.py).
_OWN = {
    e.key: e
    for e in (
        Explanation(
            "invalid-query",
            "Bad Query",
            "A query parameter the list cannot take (InvalidQuery)",
            "A client's filter value, sort key, cursor or page size is outside what the "
            "list accepts: a cursor the API did not send, an order key that is not "
            "allowed, too many values or too long a pattern.",
            "Nothing to fix on the server: install_error_handlers(app) answers it 422 "
            "with the parameter in `loc`. The client fixes the parameter the message "
            "names; the OpenAPI document declares each parameter's shape.",
        ),
        Explanation(
            "invalid-scope",
            "Row Scope",
            "A RowScope dependency gave no usable scope (InvalidScope)",
            "The dependency given to RowScope must return a mapping of every scoped "
            "column to one value, several (RowScope.any_of), or RowScope.ALL. It returned "
            "None, an empty mapping, a missing column or None as a value, so nothing was "
            "read or written (the API answers 500: a bug of the app, not of the request).",
            "Fix the dependency the message names: return {'owner_id': user.id} (or "
            "RowScope.ALL for an administrator); never None, whose rows would be "
            "everyone's. A create needs one value per scoped column.",
        ),
        Explanation(
            "outside-scope",
            "Row Scope",
            "A row to create names a tenant outside the request's scope (OutsideScope)",
            "The row names a value of a scoped column (org_id) that the scope's "
            "dependency did not give for this request: a user in orgs 7 and 9 creating "
            "in org 8. Nothing was written; the API answers 422 naming the column.",
            "Name one of the request's own values (any with RowScope.ALL), or leave "
            "the column out where the scope stamps it (docs/tenancy.md).",
        ),
        Explanation(
            "row-security",
            "Row Scope",
            "Row-level security set up wrongly",
            "RowScope(database_settings=...) or row_security_policies was given a "
            "setting or a column it cannot use, or the database has no row-level "
            "security (MariaDB, SQLite): the app refuses to start rather than run "
            "without the second wall it asked for.",
            "Name each scoped column once with a dotted setting (app.org_id); on "
            "MariaDB and SQLite remove database_settings=, the router's scope still "
            "applies (docs/tenancy.md#row-level-security).",
        ),
        Explanation(
            "router-configuration",
            "Router Configuration",
            "crud_router / link_router options refused at start-up",
            "An option of crud_router, link_router, RowScope, RowStamp or Conventions "
            "does not fit the model or the other options; the router refuses to be built "
            "rather than serve a wrong API.",
            "Change the option the message names (docs/crud.md lists them); for a "
            "session override, give the same kind (sync or async) as the router's async_.",
        ),
        Explanation(
            "repository-configuration",
            "Repository Configuration",
            "Repository, filters, order or relationships refused",
            "A Repository, FilterSet, Ordering, on_delete rule or include limit names a "
            "field, operator or relationship the model does not have or cannot serve, or "
            "a call asks for what the model cannot do (an upsert on a versioned model).",
            "Change the argument the message names: filters and order keys are fields of "
            "the Public schema, operators suit the column's type, soft delete needs the "
            "SoftDelete mixin (docs/crud.md, docs/filters.md).",
        ),
        Explanation(
            "model-configuration",
            "Model Configuration",
            "A model or derived schema refused",
            "derive_schemas or a field helper was given something that is not a table "
            "model, a field it does not have, or a bound that cannot be.",
            "Declare the model with table=True, name only its fields in write_only, "
            "read_only and exclude, and give StringField a positive max_length (docs/models.md).",
        ),
        Explanation(
            "naive-datetime",
            "Model Configuration",
            "A naive datetime for a UTCDateTime column",
            "A datetime without a time zone was given to a column that stores UTC: its "
            "zone would be a guess, so it is refused.",
            "Pass an aware datetime: datetime.now(UTC), or value.replace(tzinfo=UTC) for a "
            "value you know is UTC; the derived schemas refuse naive ones with a 422.",
        ),
        Explanation(
            "database-configuration",
            "Database Settings",
            "Database settings refused",
            "A setting (DATABASE_URL, DATABASE_REPLICA_URLS, DATABASE_POOLER, "
            "REPLICA_CHECK_INTERVAL, echo, the retry bounds) does not fit the database or "
            "the other settings.",
            "Change the setting the message names (docs/scaling.md, docs/transactions.md); "
            "the message says which values are allowed.",
        ),
        Explanation(
            "database-not-attached",
            "Database Settings",
            "No Database attached to the app",
            "SessionDep / AsyncSessionDep find the Database through the app's lifespan; "
            "the app was created without it, or the session was asked for outside a request.",
            "Create the app with FastAPI(lifespan=database.lifespan), or "
            "database.attach(app) beside an app's own lifespan (docs/index.md).",
        ),
        Explanation(
            "diagnostics-configuration",
            "Diagnostics",
            "A detector's option refused",
            "A diagnostics tool (N+1 detector, leak detector) was given an option it "
            "cannot work with.",
            "Change the option the message names (docs/diagnostics.md).",
        ),
        Explanation(
            "doctor-usage",
            "Doctor",
            "The doctor cannot run as asked (DoctorUsageError)",
            "A path, --app, --database-url or [tool.sqlmodel-production.doctor] setting "
            "given to `sqlmodel-production doctor` does not exist or is not valid.",
            "Fix the argument or configuration key the message names; `sqlmodel-production "
            "doctor --help` and docs/doctor.md list them.",
        ),
        Explanation(
            "telemetry-setup",
            "Telemetry",
            "Telemetry set up the wrong way",
            "OpenTelemetry is not installed, an exporter is unknown, the meter provider "
            "lacks what metrics need, or the app was instrumented twice.",
            'Install the extra (pip install "sqlmodel-production[telemetry]"), name known '
            "exporters in OTEL_*_EXPORTER, and call instrument() once per app (docs/telemetry.md).",
        ),
        Explanation(
            "test-overrides",
            "Testing",
            "override_session() given the other kind of session",
            "The app's endpoints are sync (SessionDep) or async (AsyncSessionDep), and the "
            "test override gave the other kind of session.",
            "Give override_session() a Session for sync endpoints and an AsyncSession for "
            "async ones (crud_router's async_ decides).",
        ),
        Explanation(
            "reference-not-found",
            "Data integrity",
            "A reference to no live row inside the scope (ReferenceNotFound)",
            "A written foreign key names a row that does not exist, is soft-deleted, or "
            "belongs to another scope (another tenant's project).",
            "Nothing to fix on the server: install_error_handlers(app) answers it 422 "
            "naming the field, as the database's own missing reference; the client sends "
            "an id it can see.",
        ),
        Explanation(
            "live-children",
            "Data integrity",
            "A soft delete refused: the row still has live children (LiveChildren)",
            "on_delete={'relationship': 'refuse'} keeps a parent while it has live "
            "children; nothing was changed.",
            "Delete the children first, or choose on_delete 'cascade'; the API answers 409 "
            "naming the relationship.",
        ),
        Explanation(
            "bulk-validation",
            "Data integrity",
            "Invalid rows in a bulk create (BulkValidationError)",
            "Some rows of a create_many failed validation; nothing was written.",
            "Read `errors`: each `loc` starts with the row's index. The API answers 422 "
            "with at most the first errors and their count.",
        ),
        Explanation(
            "connection-leak",
            "Connection Leak",
            "A connection was not returned to the pool (ConnectionLeakError)",
            "LeakDetector saw a pooled connection garbage-collected without being "
            "returned, or held past its threshold, at the line the message names.",
            "Open connections and sessions with context managers (with engine.connect() "
            "as conn:, with Session(engine) as session:) or close() them in a finally block.",
        ),
        Explanation(
            "query-count",
            "N+1 Queries",
            "More queries than the test expected (assert_queries)",
            "assert_queries counted the statements the block ran: more than expected "
            "usually means a relationship lazy-loaded per row.",
            "Read the listed statements: load relationships with the query "
            ".options(selectinload(Parent.children)), or raise the expectation if the "
            "extra statements are meant.",
        ),
    )
}
_OWN_MESSAGES = [(re.compile(pattern), key) for pattern, key in MESSAGES]
_OWN_BUILT = [
    (re.compile(r"Connection leak: a connection checked out at"), "connection-leak"),
    (re.compile(r"\d+ quer(y|ies) ran, expected"), "query-count"),
]
_BY_KEY = {explanation.key: explanation for _, explanation in _RULES} | _OWN


def explain_error(text: str) -> list[Explanation]:
    """Every known problem recognized in `text` (a traceback, its last line, an error code).

    Whitespace is normalized first, so a message wrapped by a terminal or a log
    viewer matches as well as the original line. The package's own messages are
    recognised first, each once.
    """
    text = " ".join(text.split())
    keys = [key for pattern, key in _OWN_MESSAGES + _OWN_BUILT if pattern.search(text)]
    keys += [e.key for pattern, e in _RULES if pattern.search(text)]
    return [_BY_KEY[key] for key in dict.fromkeys(keys)]


def render(explanations: list[Explanation], width: int = 80) -> str:
    """Plain text for the terminal, wrapped at `width` columns."""
    blocks = []
    for e in explanations:
        lines = [f"{e.title}", f"  Problem: {e.problem}"]
        lines += textwrap.wrap(
            e.why, width, initial_indent="  Why: ", subsequent_indent="       "
        )
        lines += textwrap.wrap(
            e.fix, width, initial_indent="  Fix: ", subsequent_indent="       "
        )
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)
