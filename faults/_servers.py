"""Throwaway PostgreSQL and MariaDB servers the faults are done to.

Each server lives in a temporary directory on a free port of its own and is
removed at `close()`: the fault suite never touches a shared server. PostgreSQL
runs as the `postgres` user when started by root (it refuses to run as root);
MariaDB runs with `--no-defaults`, so no configuration file of the machine applies.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.pool import NullPool

__all__ = ["MariaDBServer", "PostgresServer", "Server", "ServerMissing"]

DATABASE = "faults"
START_BOUND = 60.0  # seconds a server may take to accept connections again


class ServerMissing(RuntimeError):
    """The binaries to start a throwaway server are not installed."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until(
    check: Callable[[], bool], what: str, bound: float = START_BOUND
) -> None:
    deadline = time.monotonic() + bound
    while True:
        try:
            if check():
                return
        except Exception:  # not up yet
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} within {bound:g} s")
        time.sleep(0.05)


def _kill_tree(pid: int) -> None:
    """SIGKILL a process and every descendant, parent first (a crash, not a shutdown)."""
    children: dict[int, list[int]] = {}
    for stat in glob.glob("/proc/[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = Path(stat).read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(stat.split("/")[2]))
    doomed, queue = [], [pid]
    while queue:
        current = queue.pop()
        doomed.append(current)
        queue += children.get(current, [])
    for victim in doomed:
        with contextlib.suppress(ProcessLookupError):
            os.kill(victim, signal.SIGKILL)
    _wait_until(
        lambda: not any(Path(f"/proc/{p}").exists() for p in doomed),
        "the killed server's processes did not exit",
    )


class Server:
    """A database server of our own: start it, restart it, crash it, lock a table on it."""

    name = "server"
    system_database = ""

    def __init__(self) -> None:
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="smp-faults-"))

    @property
    def url(self) -> str:
        """The URL the app connects with (the library picks the driver)."""
        raise NotImplementedError

    @property
    def admin_url(self) -> str:
        """A sync URL for the harness's own statements."""
        raise NotImplementedError

    def start(self) -> None:
        raise NotImplementedError

    def restart(self) -> None:
        """A clean, fast restart: connections are closed, the server comes back."""
        raise NotImplementedError

    def crash(self) -> None:
        """SIGKILL the server and its processes, then start it again."""
        raise NotImplementedError

    def close(self) -> None:
        """Stop the server and delete its files."""
        raise NotImplementedError

    def kill_connections(self, application_name: str) -> int:
        """Terminate the app's connections; how many were terminated."""
        raise NotImplementedError

    def lock_table(self, table: str, seconds: float) -> None:
        """Hold an exclusive lock on `table` for `seconds`, then release it."""
        raise NotImplementedError

    def names(self, prefix: str) -> set[str]:
        """The team names in the database that start with `prefix`."""
        with self.connect() as conn:
            rows = conn.execute(
                sa.text("SELECT name FROM team WHERE name LIKE :p"),
                {"p": prefix + "%"},
            )
            return {row[0] for row in rows}

    @contextlib.contextmanager
    def connect(self, database: str | None = DATABASE) -> Iterator[sa.Connection]:
        url = sa.make_url(self.admin_url).set(database=database or self.system_database)
        engine = sa.create_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                yield conn
        finally:
            engine.dispose()

    def _wait_ready(self) -> None:
        def answers() -> bool:
            with self.connect(None) as conn:
                return bool(conn.exec_driver_sql("SELECT 1").scalar() == 1)

        _wait_until(answers, f"{self.name} did not accept connections")


class PostgresServer(Server):
    """PostgreSQL 15 (or whichever `initdb` / `pg_ctl` is found) in a temporary directory."""

    name = "PostgreSQL"
    system_database = "postgres"

    def __init__(self) -> None:
        self.bin = _postgres_bin()
        super().__init__()
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        try:
            if os.geteuid() == 0:
                shutil.chown(self.root, "postgres")
            self._pg(
                "initdb",
                "-D",
                str(self.data),
                "-A",
                "trust",
                "-U",
                "postgres",
                "-N",
                "-E",
                "UTF8",
            )
            self.start()
            with self.connect(None) as conn:
                conn.exec_driver_sql(f"CREATE DATABASE {DATABASE}")
        except BaseException:
            self.close()
            raise

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{DATABASE}"

    @property
    def admin_url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{DATABASE}"

    def _pg(self, program: str, *args: str) -> None:
        command = [str(self.bin / program), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(
            command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )

    def _ctl(self, action: str, *args: str) -> None:
        self._pg(
            "pg_ctl", action, "-D", str(self.data), "-l", str(self.log), "-w", *args
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1"
        self._ctl("start", "-o", options)
        self._wait_ready()

    def restart(self) -> None:
        self._ctl("restart", "-m", "fast")
        self._wait_ready()

    def crash(self) -> None:
        pid = int((self.data / "postmaster.pid").read_text().split()[0])
        _kill_tree(pid)
        self.start()

    def close(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self._ctl("stop", "-m", "immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    def kill_connections(self, application_name: str) -> int:
        with self.connect() as conn:
            return len(
                conn.execute(
                    sa.text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE application_name = :name AND pid <> pg_backend_pid()"
                    ),
                    {"name": application_name},
                ).all()
            )

    def lock_table(self, table: str, seconds: float) -> None:
        with self.connect() as conn:  # autocommit: the transaction is spelled out
            conn.exec_driver_sql("BEGIN")
            conn.exec_driver_sql(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
            try:
                time.sleep(seconds)
            finally:
                conn.exec_driver_sql("COMMIT")


class MariaDBServer(Server):
    """MariaDB (`mariadbd`) in a temporary directory, started without any configuration file."""

    name = "MariaDB"
    system_database = "mysql"

    def __init__(self) -> None:
        self.mariadbd = shutil.which("mariadbd") or shutil.which(
            "mariadbd", path="/usr/sbin"
        )
        install = shutil.which("mariadb-install-db")
        if self.mariadbd is None or install is None:
            raise ServerMissing("mariadbd and mariadb-install-db are not installed")
        super().__init__()
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.process: subprocess.Popen[bytes] | None = None
        user = ["--user=root"] if os.geteuid() == 0 else []
        try:
            subprocess.run(
                [install, "--no-defaults", f"--datadir={self.data}", "--auth-root-authentication-method=normal", "--skip-test-db", *user],
                check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            )  # fmt: skip
            self.start()
            with self.connect(None) as conn:
                conn.exec_driver_sql(
                    f"CREATE DATABASE {DATABASE} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
                )
        except BaseException:
            self.close()
            raise

    @property
    def url(self) -> str:
        return f"mariadb://root@127.0.0.1:{self.port}/{DATABASE}"

    @property
    def admin_url(self) -> str:
        return f"mysql+pymysql://root@127.0.0.1:{self.port}/{DATABASE}"

    def start(self) -> None:
        user = ["--user=root"] if os.geteuid() == 0 else []
        command = [
            str(self.mariadbd), "--no-defaults", f"--datadir={self.data}",
            f"--port={self.port}", f"--socket={self.root / 'mariadb.sock'}",
            "--bind-address=127.0.0.1", f"--pid-file={self.root / 'mariadb.pid'}",
            f"--log-error={self.log}", "--skip-name-resolve", "--skip-log-bin",
            "--innodb-buffer-pool-size=64M", *user,
        ]  # fmt: skip
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        self._wait_ready()

    def _stop(self, sig: signal.Signals) -> None:
        if self.process is None:
            return
        self.process.send_signal(sig)
        self.process.wait(START_BOUND)
        self.process = None

    def restart(self) -> None:
        self._stop(signal.SIGTERM)
        self.start()

    def crash(self) -> None:
        self._stop(signal.SIGKILL)
        self.start()

    def close(self) -> None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._stop(signal.SIGTERM)
        if self.process is not None:
            self._stop(signal.SIGKILL)
        shutil.rmtree(self.root, ignore_errors=True)

    def kill_connections(self, application_name: str) -> int:
        # MariaDB has no application name: the app's connections are those on its database.
        with self.connect(None) as conn:
            ids = conn.exec_driver_sql(
                "SELECT id FROM information_schema.processlist "
                f"WHERE db = '{DATABASE}' AND id <> CONNECTION_ID()"
            ).scalars()
            killed = 0
            for thread_id in list(ids):
                with contextlib.suppress(sa.exc.DBAPIError):  # gone already
                    conn.exec_driver_sql(f"KILL CONNECTION {int(thread_id)}")
                    killed += 1
            return killed

    def lock_table(self, table: str, seconds: float) -> None:
        with self.connect() as conn:
            conn.exec_driver_sql(f"LOCK TABLES {table} WRITE")
            try:
                time.sleep(seconds)
            finally:
                conn.exec_driver_sql("UNLOCK TABLES")


def _postgres_bin() -> Path:
    found = os.environ.get("SMP_FAULTS_PG_BIN")
    candidates = (
        [found]
        if found
        else sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    )
    for candidate in candidates:
        if candidate and (Path(candidate) / "pg_ctl").exists():
            return Path(candidate)
    if pg_ctl := shutil.which("pg_ctl"):
        return Path(pg_ctl).parent
    raise ServerMissing(
        "PostgreSQL's initdb and pg_ctl were not found; set SMP_FAULTS_PG_BIN to their directory"
    )
