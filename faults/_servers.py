"""Throwaway PostgreSQL and MariaDB servers the faults are done to.

Each server lives in a temporary directory on a free port of its own and is
removed at `close()`: the fault suite never touches a shared server. PostgreSQL
runs as the `postgres` user when started by root (it refuses to run as root);
MariaDB runs with `--no-defaults`, so no configuration file of the machine applies.
"""

from __future__ import annotations

import abc
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

__all__ = [
    "MariaDBServer",
    "PgBouncer",
    "PostgresReplica",
    "PostgresServer",
    "Server",
    "ServerMissing",
]

DATABASE = "faults"
START_BOUND = 60.0  # seconds a server may take to accept connections again


class ServerMissing(RuntimeError):
    """The binaries to start a throwaway server are not installed."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run(command: list[str]) -> None:
    """Run a server tool; its error output in the exception when it fails."""
    done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if done.returncode != 0:
        stderr = done.stderr.decode(errors="replace").strip()
        raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}): {stderr}")


def _wait_until(
    check: Callable[[], bool],
    what: str,
    bound: float = START_BOUND,
    *,
    gone: Callable[[], bool] = lambda: False,
) -> None:
    deadline = time.monotonic() + bound
    while True:
        try:
            if check():
                return
        except Exception:  # not up yet
            pass
        if gone():
            raise RuntimeError(f"{what}: the server exited")
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
        lambda: not any(map(_alive, doomed)),
        "the killed server's processes did not exit",
    )


def _alive(pid: int) -> bool:
    # A zombie counts: PostgreSQL refuses to start while its old postmaster's PID exists.
    return Path(f"/proc/{pid}").exists()


class Server(abc.ABC):
    """A database server of our own: start it, restart it, crash it, lock a table on it."""

    name = "server"
    system_database = ""

    def __init__(self) -> None:
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="smp-faults-"))
        self.log = self.root / "server.log"

    @property
    @abc.abstractmethod
    def url(self) -> str:
        """The URL the app connects with (the library picks the driver)."""

    @property
    @abc.abstractmethod
    def admin_url(self) -> str:
        """A sync URL for the harness's own statements."""

    @abc.abstractmethod
    def start(self) -> None:
        """Start the server and return once it accepts connections."""

    @abc.abstractmethod
    def restart(self) -> None:
        """A clean, fast restart: connections are closed, the server comes back."""

    @abc.abstractmethod
    def crash(self) -> None:
        """SIGKILL the server and its processes, then start it again."""

    @abc.abstractmethod
    def close(self) -> None:
        """Stop the server and delete its files."""

    @abc.abstractmethod
    def kill_connections(self, application_name: str) -> int:
        """Terminate the app's connections; how many were terminated."""

    @abc.abstractmethod
    def lock_table(self, table: str, seconds: float) -> None:
        """Hold an exclusive lock on `table` for `seconds`, then release it."""

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

    def _wait_ready(self, gone: Callable[[], bool] = lambda: False) -> None:
        def answers() -> bool:
            with self.connect(None) as conn:
                return bool(conn.exec_driver_sql("SELECT 1").scalar() == 1)

        try:
            _wait_until(answers, f"{self.name} did not accept connections", gone=gone)
        except RuntimeError as exc:
            raise RuntimeError(
                f"{exc}\nThe end of the server's log:\n{self._log_tail()}"
            ) from None

    def _log_tail(self) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-15:])
        except OSError:
            return "(no log)"


class PostgresServer(Server):
    """PostgreSQL 15 (or whichever `initdb` / `pg_ctl` is found) in a temporary directory."""

    name = "PostgreSQL"
    system_database = "postgres"

    def __init__(self) -> None:
        self.bin = _postgres_bin()
        super().__init__()
        self.data = self.root / "data"
        self._pooler: PgBouncer | None = None
        try:
            if os.geteuid() == 0:
                shutil.chown(self.root, "postgres")
            self._pg(
                "initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-N", "-E", "UTF8"
            )  # fmt: skip
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
        done = subprocess.run(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        if done.returncode != 0:
            stderr = done.stderr.decode(errors="replace").strip()
            raise RuntimeError(
                f"{program} {args[0]} failed ({done.returncode}): {stderr}"
            )

    def _ctl(self, action: str, *args: str) -> None:
        try:
            self._pg(
                "pg_ctl", action, "-D", str(self.data), "-l", str(self.log), "-w", *args
            )
        except RuntimeError as exc:
            raise RuntimeError(
                f"{exc}\nThe end of the server's log:\n{self._log_tail()}"
            ) from None

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
        if self._pooler is not None:
            self._pooler.stop()
        with contextlib.suppress(RuntimeError):  # not running, or never initialized
            self._ctl("stop", "-m", "immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    @property
    def pooled_url(self) -> str:
        """The database through a PgBouncer of its own (transaction mode), started on first use."""
        if self._pooler is None:
            self._pooler = PgBouncer(self.root / "pgbouncer", self.port)
            self._pooler.start()
        return f"postgresql://postgres@127.0.0.1:{self._pooler.port}/{DATABASE}"

    def restart_pooler(self) -> None:
        """Stop the PgBouncer at once (its clients' connections drop), then start it again."""
        assert self._pooler is not None, "restart_pooler before pooled_url"
        self._pooler.stop()
        self._pooler.start()

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


class PostgresReplica(PostgresServer):
    """A streaming replica of a throwaway `PostgresServer`, made as `scripts/topology.sh` makes one.

    It can be cut off from its primary (`cut()`: its `primary_conninfo` names a
    port nothing listens on, so its WAL receiver stops and cannot start again)
    and joined again (`join()`), and its replay paused (`pause()`).
    """

    name = "PostgreSQL replica"

    def __init__(self, primary: PostgresServer) -> None:  # noqa: PLW0231 (no initdb)
        self.bin = _postgres_bin()
        Server.__init__(self)
        self.data = self.root / "data"
        self._pooler = None
        self.primary = primary
        try:
            if os.geteuid() == 0:
                shutil.chown(self.root, "postgres")
            self._pg(
                "pg_basebackup", "-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres",
                "-D", str(self.data), "-R", "-X", "stream", "-c", "fast",
            )  # fmt: skip
            self.start()
            with self.connect(None) as conn:
                self.conninfo = str(
                    conn.exec_driver_sql("SHOW primary_conninfo").scalar()
                )
        except BaseException:
            self.close()
            raise

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1"
            " -c hot_standby=on -c wal_retrieve_retry_interval=200ms"
        )
        self._ctl("start", "-o", options)
        self._wait_ready()

    def _set_conninfo(self, conninfo: str) -> None:
        with self.connect(None) as conn:
            conn.exec_driver_sql(
                "ALTER SYSTEM SET primary_conninfo = "
                + "'" + conninfo.replace("'", "''") + "'"
            )  # fmt: skip
            conn.exec_driver_sql("SELECT pg_reload_conf()")

    def streaming(self) -> bool:
        """Whether its WAL receiver streams from the primary now."""
        with self.connect(None) as conn:
            return bool(
                conn.exec_driver_sql(
                    "SELECT EXISTS (SELECT FROM pg_stat_wal_receiver WHERE status = 'streaming')"
                ).scalar()
            )

    def cut(self) -> None:
        """Cut it off from the primary: its WAL receiver stops, and returns once it has."""
        self._set_conninfo(f"host=127.0.0.1 port={free_port()} user=postgres")
        _wait_until(lambda: not self.streaming(), "the WAL receiver did not stop")

    def join(self) -> None:
        """Point it at its primary again; returns once it streams."""
        self._set_conninfo(self.conninfo)
        _wait_until(self.streaming, "the WAL receiver did not stream again")

    def pause(self, pause: bool = True) -> None:
        """Pause (or resume) its replay; returns once the pause is taken (or lifted)."""
        # A pause is taken at the next WAL record: until one comes it is requested, and holds.
        states = {"paused", "pause requested"} if pause else {"not paused"}
        with self.connect(None) as conn:
            conn.exec_driver_sql(
                "SELECT pg_wal_replay_pause()"
                if pause
                else "SELECT pg_wal_replay_resume()"
            )

        def taken() -> bool:
            with self.connect(None) as conn:
                found = conn.exec_driver_sql("SELECT pg_get_wal_replay_pause_state()")
                return found.scalar() in states

        _wait_until(taken, f"the replay did not reach {' or '.join(states)}")

    def pooled(self) -> str:
        """This replica through a PgBouncer of its own (transaction mode), started on first use."""
        if self._pooler is None:
            self._pooler = PgBouncer(self.root / "pgbouncer", self.port)
            self._pooler.start()
        return f"postgresql://postgres@127.0.0.1:{self._pooler.port}/{DATABASE}"


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
        self.process: subprocess.Popen[bytes] | None = None
        user = ["--user=root"] if os.geteuid() == 0 else []
        try:
            _run([
                install, "--no-defaults", f"--datadir={self.data}",
                "--auth-root-authentication-method=normal", "--skip-test-db", *user,
            ])  # fmt: skip
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
        process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        self.process = process
        self._wait_ready(gone=lambda: process.poll() is not None)

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


class PgBouncer:
    """PgBouncer in transaction mode in front of a throwaway PostgreSQL, as `docs/scaling.md` sets it up."""

    def __init__(self, folder: Path, server_port: int) -> None:
        self.folder = folder
        self.server_port = server_port
        self.port = free_port()
        self.pid: int | None = None

    def start(self) -> None:
        program = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
        if not Path(program).exists():
            raise ServerMissing(
                "pgbouncer is not installed (apt-get install pgbouncer)"
            )
        self.folder.mkdir(parents=True, exist_ok=True)
        config = (
            Path(__file__).parent.parent / "docs_src" / "scaling" / "pgbouncer.ini"
        ).read_text()
        config = config.replace("port=5432", f"port={self.server_port}")
        config = config.replace("listen_port = 6432", f"listen_port = {self.port}")
        config = config.replace(
            "auth_file = userlist.txt", f"auth_file = {self.folder}/userlist.txt"
        )
        config += (
            f"logfile = {self.folder}/pgbouncer.log\n"
            f"pidfile = {self.folder}/pgbouncer.pid\n"
            "unix_socket_dir =\n"
        )
        (self.folder / "pgbouncer.ini").write_text(config)
        (self.folder / "userlist.txt").write_text('"postgres" ""\n')
        (self.folder / "pgbouncer.pid").unlink(missing_ok=True)
        command = [program, "-d", str(self.folder / "pgbouncer.ini")]
        if os.geteuid() == 0:
            shutil.chown(self.folder.parent, "postgres")
            for path in (self.folder, *self.folder.iterdir()):
                shutil.chown(path, "postgres")
            command = ["runuser", "-u", "postgres", "--", *command]
        _run(command)
        _wait_until(lambda: self._answers(), "PgBouncer")
        self.pid = int((self.folder / "pgbouncer.pid").read_text().split()[0])

    def _answers(self) -> bool:
        with socket.socket() as sock:
            sock.settimeout(0.5)
            return sock.connect_ex(("127.0.0.1", self.port)) == 0

    def stop(self) -> None:
        if self.pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGTERM)  # immediate shutdown
            _wait_until(lambda: not _alive(self.pid or 0), "PgBouncer to stop")
            self.pid = None


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
