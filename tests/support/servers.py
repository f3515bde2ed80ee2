"""Throwaway PostgreSQL and MariaDB servers for tests: real servers from Debian's packages, not mocks.

Each server runs from a fresh data directory on 127.0.0.1 and a free port, as an unprivileged OS user
(initdb and mariadbd refuse to run as root), and is stopped and deleted when the test session ends.
`.ci/run` installs the packages (scripts/install-test-servers); a test skips, naming the missing binary,
only where they are truly absent.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path

POSTGRES_BIN = Path("/usr/lib/postgresql/15/bin")
MARIADB_BINARIES = ("mariadb-install-db", "mariadbd")
SUPERUSER_PASSWORD = "test-only-password"  # a throwaway server bound to 127.0.0.1 for one test session


class ServerUnavailable(RuntimeError):
    """The server's binaries are not installed; the message names what is missing and how to get it."""


@dataclass(frozen=True)
class Server:
    """A running server and a superuser that may create databases and roles on it."""

    dialect: str  # SQLAlchemy scheme: postgresql+psycopg2, mysql+pymysql
    host: str
    port: int
    user: str
    password: str

    def url(self, database: str, *, user: str | None = None, password: str | None = None) -> str:
        return f"{self.dialect}://{user or self.user}:{password or self.password}@{self.host}:{self.port}/{database}"

    def create_database(self, *, copy_of: str | None = None) -> str:
        """A new database with a unique name, so tests sharing one server never see each other's rows: empty, or
        (Postgres) a copy of the database `copy_of`, whose sessions are ended first (a template must have none)."""
        import sqlalchemy as sa

        name = f"crm_{uuid.uuid4().hex[:12]}"
        admin_db = "postgres" if self.dialect.startswith("postgresql") else "mysql"
        engine = sa.create_engine(self.url(admin_db), isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as con:
                if copy_of is not None:
                    con.exec_driver_sql(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %(name)s",
                        {"name": copy_of},
                    )
                con.exec_driver_sql(f"CREATE DATABASE {name}" + (f" TEMPLATE {copy_of}" if copy_of else ""))
        finally:
            engine.dispose()
        return name


def postgres_available() -> str | None:
    """None when a PostgreSQL server can be started here, else the reason it cannot."""
    missing = [b for b in ("initdb", "pg_ctl") if not (POSTGRES_BIN / b).exists()]
    return f"PostgreSQL 15 binaries {missing} not in {POSTGRES_BIN}: apt-get install postgresql-15" if missing else None


def mariadb_available() -> str | None:
    """None when a MariaDB server can be started here, else the reason it cannot."""
    missing = [b for b in MARIADB_BINARIES if shutil.which(b, path=_sbin_path()) is None]
    return f"MariaDB binaries {missing} not on PATH: apt-get install mariadb-server" if missing else None


@contextmanager
def postgres_server() -> Iterator[Server]:
    """Initialise and start PostgreSQL 15 in a temporary data directory; stop and delete it afterwards."""
    if reason := postgres_available():
        raise ServerUnavailable(reason)
    os_user = _unprivileged_user("postgres")
    with _owned_tempdir(os_user) as root:
        data, port = root / "data", free_port()
        password_file = root / "pwfile"
        password_file.write_text(SUPERUSER_PASSWORD)
        _chown(password_file, os_user)
        _run_as(
            os_user,
            [
                str(POSTGRES_BIN / "initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "--auth=scram-sha-256",
                f"--pwfile={password_file}",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
            ],
        )
        options = f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={root} -c fsync=off"
        _run_as(
            os_user,
            [str(POSTGRES_BIN / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(root / "log"), "-w", "start"],
        )
        try:
            yield Server("postgresql+psycopg2", "127.0.0.1", port, "postgres", SUPERUSER_PASSWORD)
        finally:
            _run_as(os_user, [str(POSTGRES_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"], check=False)


@contextmanager
def mariadb_server() -> Iterator[Server]:
    """Install a MariaDB system database in a temporary directory and run mariadbd on it."""
    if reason := mariadb_available():
        raise ServerUnavailable(reason)
    os_user = _unprivileged_user("mysql")
    with _owned_tempdir(os_user) as root:
        data, port, sock = root / "data", free_port(), root / "mysqld.sock"
        install_db = shutil.which("mariadb-install-db", path=_sbin_path())
        _run_as(
            os_user,
            [
                install_db,
                f"--datadir={data}",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
                "--skip-name-resolve",
            ],
        )
        server = subprocess.Popen(
            _as_user(
                os_user,
                [
                    shutil.which("mariadbd", path=_sbin_path()),
                    "--no-defaults",
                    f"--datadir={data}",
                    f"--port={port}",
                    "--bind-address=127.0.0.1",
                    f"--socket={sock}",
                    f"--pid-file={root / 'mysqld.pid'}",
                    "--skip-name-resolve",
                    "--innodb-flush-log-at-trx-commit=0",
                    "--skip-log-bin",
                    "--character-set-server=utf8mb4",
                    "--default-time-zone=+00:00",
                ],
            ),
            stdout=subprocess.DEVNULL,
            stderr=(root / "log").open("w"),
        )
        try:
            _create_mariadb_superuser(sock, server, root / "log")
            yield Server("mysql+pymysql", "127.0.0.1", port, "crm_admin", SUPERUSER_PASSWORD)
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()


def _create_mariadb_superuser(sock: Path, server: subprocess.Popen, log: Path) -> None:
    """root may log in only through the socket; tests connect over TCP as a password user, like a client."""
    import pymysql

    deadline = time.monotonic() + 60
    while True:
        try:
            con = pymysql.connect(unix_socket=str(sock), user="root", autocommit=True)
            break
        except pymysql.err.OperationalError:
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"mariadbd did not start:\n{log.read_text()[-3000:]}") from None
            time.sleep(0.2)
    with con, con.cursor() as cursor:
        cursor.execute(f"CREATE USER 'crm_admin'@'127.0.0.1' IDENTIFIED BY '{SUPERUSER_PASSWORD}'")
        cursor.execute("GRANT ALL PRIVILEGES ON *.* TO 'crm_admin'@'127.0.0.1' WITH GRANT OPTION")


def _sbin_path() -> str:
    return os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/usr/bin", "/sbin"])


def _unprivileged_user(preferred: str) -> str | None:
    """The OS user to run the server as: ourselves when not root, else the package's own user."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(preferred)
    except KeyError:
        raise ServerUnavailable(
            f"running as root and there is no {preferred!r} OS user to start the server as"
        ) from None
    return preferred


def _as_user(os_user: str | None, command: list[str]) -> list[str]:
    return ["runuser", "-u", os_user, "--", *command] if os_user else command


def _run_as(os_user: str | None, command: list[str], *, check: bool = True) -> None:
    result = subprocess.run(_as_user(os_user, command), capture_output=True, text=True)
    if check and result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")


@contextmanager
def _owned_tempdir(os_user: str | None) -> Iterator[Path]:
    root = Path(tempfile.mkdtemp(prefix="crm-server-"))
    try:
        _chown(root, os_user)
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _chown(path: Path, os_user: str | None) -> None:
    if os_user:
        shutil.chown(path, user=os_user, group=pwd.getpwnam(os_user).pw_gid)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def server_fixture(start: Callable[[], AbstractContextManager[Server]], available: Callable[[], str | None]):
    """A session-scoped pytest fixture: one server for the whole run, skipped only when not installed."""
    import pytest

    @pytest.fixture(scope="session")
    def fixture() -> Iterator[Server]:
        if reason := available():
            pytest.skip(reason)
        with start() as server:
            yield server

    return fixture


postgres = server_fixture(postgres_server, postgres_available)
mariadb = server_fixture(mariadb_server, mariadb_available)
