"""A throwaway PostgreSQL server for the gradebook's tests and benchmarks (Debian's ``postgresql``).

``running()`` makes a cluster in a new temporary folder (``initdb``), starts ``postgres`` on a
Unix socket in that folder only (``-k <folder> -c listen_addresses=''``: no TCP port, nothing
shared with other servers on the machine), and stops it and removes the folder afterwards.
PostgreSQL refuses to run as root, so under root the server runs as the ``postgres`` system user
that Debian's package creates. Clients connect as ``postgres`` without a password (``trust``:
only who can reach the private socket folder can connect)::

    with pgserver.running() as server:
        url = server.create_database("gradebook")  # postgresql+psycopg://postgres@/gradebook?host=...
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

INSTALLS = Path("/usr/lib/postgresql")
SYSTEM_USER = "postgres"
SUPERUSER = "postgres"
PORT = 5432  # the socket is .s.PGSQL.5432 in the server's own folder: no clash with others
INSTALL_HINT = "install Debian's postgresql (`make test` does: apt-get install postgresql)"


class PostgresUnavailable(RuntimeError):
    """PostgreSQL is not installed, or the server did not start; the message says why."""


def binaries(installs: Path = INSTALLS) -> Path:
    """The ``bin`` folder of the newest PostgreSQL under ``/usr/lib/postgresql/<version>``."""
    found = [
        b
        for b in installs.glob("*/bin")
        if (b / "postgres").is_file() and (b / "initdb").is_file() and b.parent.name.isdigit()
    ]
    if not found:
        raise PostgresUnavailable(
            f"no PostgreSQL server in {installs}/<version>/bin: {INSTALL_HINT}"
        )
    return max(found, key=lambda b: int(b.parent.name))


def _user() -> dict:
    """Popen's arguments that drop root to the ``postgres`` user (nothing when not root)."""
    if os.geteuid() != 0:
        return {}
    try:
        entry = pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        raise PostgresUnavailable(
            f"PostgreSQL refuses to run as root and there is no {SYSTEM_USER!r} user: "
            + INSTALL_HINT
        ) from None
    return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}


@dataclass
class Server:
    """A running local server: its folder (data in ``data/``, the socket, ``postgres.log``)."""

    folder: Path
    process: subprocess.Popen
    port: int = PORT

    def url(self, database: str) -> str:
        """SQLAlchemy URL of ``database`` (psycopg 3 driver, over the Unix socket)."""
        return f"postgresql+psycopg://{SUPERUSER}@/{database}?host={self.folder}&port={self.port}"

    def connect(self, database: str = "postgres"):  # noqa: ANN201 - a psycopg.Connection
        import psycopg

        return psycopg.connect(
            host=str(self.folder),
            port=self.port,
            user=SUPERUSER,
            dbname=database,
            autocommit=True,
            connect_timeout=5,
        )

    def create_database(self, name: str) -> str:
        """Create an empty database ``name`` (dropping one of that name); returns its URL."""
        from psycopg import sql

        with self.connect() as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url(name)

    def log(self) -> str:
        path = self.folder / "postgres.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self, timeout: float = 30) -> None:
        """Fast shutdown (SIGINT: roll back open transactions), then SIGKILL if it hangs."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _ready(server: Server, timeout: float) -> None:
    import psycopg

    deadline = time.monotonic() + timeout
    while True:
        if server.process.poll() is not None:
            tail = " | ".join(server.log().strip().splitlines()[-3:])
            raise PostgresUnavailable(
                f"postgres exited with code {server.process.returncode}: {tail}"
            )
        try:
            with server.connect():
                return
        except psycopg.OperationalError as error:
            if time.monotonic() > deadline:
                raise PostgresUnavailable(
                    f"postgres did not accept connections in {timeout:.0f} s: {error}"
                ) from None
        time.sleep(0.1)


def start(settings: dict[str, str] | None = None, timeout: float = 60) -> Server:
    """initdb a new cluster in a temporary folder and start it; ``settings`` are ``-c`` options."""
    bin_dir = binaries()
    user = _user()
    folder = Path(tempfile.mkdtemp(prefix="coursekit-pg-"))
    server = None
    try:
        if user:
            os.chown(folder, user["user"], user["group"])
        data = folder / "data"
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C", "TZ": "UTC"}
        made = subprocess.run(
            [bin_dir / "initdb", "-D", data, "-U", SUPERUSER, "--auth=trust", "-E", "UTF8"]
            + ["--locale=C", "--no-sync"],
            cwd=folder,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            **user,
        )
        if made.returncode != 0:
            last = (made.stderr.strip().splitlines() or ["no output"])[-1]
            raise PostgresUnavailable(f"initdb failed (code {made.returncode}): {last}")
        options = {"listen_addresses": "", **(settings or {})}
        command = [bin_dir / "postgres", "-D", data, "-k", folder, "-p", str(PORT)]
        for key, value in options.items():
            command += ["-c", f"{key}={value}"]
        log = open(folder / "postgres.log", "w")  # noqa: SIM115 - postgres writes it
        if user:
            os.chown(folder / "postgres.log", user["user"], user["group"])
        with log:
            process = subprocess.Popen(
                command, cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT, **user
            )
        server = Server(folder, process)
        _ready(server, timeout)
        return server
    except BaseException:
        if server is not None:
            server.stop()
        shutil.rmtree(folder, ignore_errors=True)
        raise


@contextmanager
def running(settings: dict[str, str] | None = None) -> Iterator[Server]:
    """A server for the ``with`` block; stopped and its folder removed afterwards."""
    server = start(settings)
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.folder, ignore_errors=True)
