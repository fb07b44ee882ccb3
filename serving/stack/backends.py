"""Postgres and Redis as local processes: installed from Debian's packages when missing.

Postgres keeps threads, runs, checkpoints and the run leases; Redis carries the job
queue and the streamed events between the API processes. Both listen on 127.0.0.1
only, with a password (`StackLayout.secret`), and keep their data under the stack's
run folder, so `down` and `up` again keep every thread.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from serving.process import ServerError, kill_pid_file, port_is_free
from serving.stack.layout import DATABASE, DB_USER, StackLayout

POSTGRES_BIN_GLOB = "/usr/lib/postgresql/*/bin"
PACKAGES = {"postgres": "postgresql", "redis": "redis-server", "nginx": "nginx-light"}


def apt_install(*packages: str) -> None:
    """Install Debian packages (as root), or say which to install.

    Raises:
        ServerError: not root and not installed, or apt-get failed.
    """
    if os.geteuid() != 0:
        raise ServerError(f"install {' '.join(packages)} (apt-get install -y {' '.join(packages)})")
    print(f"installing {' '.join(packages)} (apt-get)", flush=True)  # noqa: T201
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", *packages]):
        result = subprocess.run(command, env=env, capture_output=True, text=True)
        if result.returncode != 0:
            raise ServerError(f"{' '.join(command)} failed:\n{result.stderr[-2000:]}")


def postgres_bin() -> Path:
    """Return the folder of the newest installed Postgres's binaries, installing it if none."""
    found = sorted(Path("/").glob(POSTGRES_BIN_GLOB.lstrip("/")), key=_version)
    if not found:
        apt_install(PACKAGES["postgres"])
        found = sorted(Path("/").glob(POSTGRES_BIN_GLOB.lstrip("/")), key=_version)
    if not found:
        raise ServerError(f"no Postgres binaries under {POSTGRES_BIN_GLOB}")
    return found[-1]


def _version(path: Path) -> int:
    name = path.parent.name
    return int(name) if name.isdigit() else 0


def redis_server() -> str:
    """Return the redis-server command, installing it if missing."""
    if shutil.which("redis-server") is None:
        apt_install(PACKAGES["redis"])
    found = shutil.which("redis-server")
    if found is None:
        raise ServerError("redis-server is not on PATH after installing redis-server")
    return found


class Postgres:
    """One Postgres cluster under the stack's run folder, on 127.0.0.1 only."""

    def __init__(self, layout: StackLayout) -> None:
        """Use the layout's port and folder (nothing is started)."""
        self.layout = layout
        self.data = layout.postgres_dir / "data"
        self.log = layout.postgres_dir / "postgres.log"

    def _as_owner(self) -> list[str]:
        # initdb refuses root: as root, Postgres runs as the `postgres` user the package made.
        return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    def _run(self, *command: str, what: str, env: dict[str, str] | None = None) -> str:
        binary = str(postgres_bin() / command[0])
        result = subprocess.run(
            [*self._as_owner(), binary, *command[1:]],
            capture_output=True, text=True, env=env, cwd=tempfile.gettempdir(),
        )  # fmt: skip
        if result.returncode != 0:
            raise ServerError(f"{what} failed ({result.returncode}): {result.stderr[-1500:]}")
        return result.stdout

    def init(self) -> bool:
        """Create the cluster and its password unless it exists; return True if it was made."""
        if (self.data / "PG_VERSION").exists():
            return False
        self.layout.postgres_dir.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.layout.postgres_dir, "postgres", "postgres")
        with tempfile.NamedTemporaryFile("w", dir=self.layout.postgres_dir) as pwfile:
            pwfile.write(self.layout.secret())
            pwfile.flush()
            if os.geteuid() == 0:
                shutil.chown(pwfile.name, "postgres", "postgres")
            self._run(
                "initdb", "-D", str(self.data), "-U", DB_USER, "--pwfile", pwfile.name,
                "--auth", "scram-sha-256", "-E", "UTF8", "--no-instructions",
                what="initdb",
            )  # fmt: skip
        return True

    def start(self, timeout: float = 60.0) -> None:
        """Start the server (if not up) and create the database; wait until it accepts."""
        created = self.init()
        if not self.running():
            if not port_is_free(self.layout.postgres_port):
                raise ServerError(f"port {self.layout.postgres_port} is taken (Postgres)")
            options = (
                f"-p {self.layout.postgres_port} -c listen_addresses=127.0.0.1 "
                "-c unix_socket_directories='' -c max_connections=200"
            )
            self._run(
                "pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", str(int(timeout)),
                "-o", options, "start", what="starting Postgres",
            )  # fmt: skip
        if created:
            self.create_database()

    def create_database(self) -> None:
        """Create the stack's database (once)."""
        env = {**os.environ, "PGPASSWORD": self.layout.secret()}
        self._run(
            "createdb", "-h", "127.0.0.1", "-p", str(self.layout.postgres_port), "-U", DB_USER,
            DATABASE, what="createdb", env=env,
        )  # fmt: skip

    def query(self, sql: str) -> list[list[str]]:
        """Run one SQL statement with psql on the stack's database; return its rows."""
        env = {**os.environ, "PGPASSWORD": self.layout.secret()}
        out = self._run(
            "psql", "-h", "127.0.0.1", "-p", str(self.layout.postgres_port), "-U", DB_USER,
            "-d", DATABASE, "-AtF", "\t", "-v", "ON_ERROR_STOP=1", "-c", sql,
            what="psql", env=env,
        )  # fmt: skip
        return [line.split("\t") for line in out.splitlines() if line]

    def running(self) -> bool:
        """Whether this cluster's server runs (its postmaster.pid names a live process)."""
        try:
            pid = int((self.data / "postmaster.pid").read_text().split()[0])
            os.kill(pid, 0)
        except (OSError, ValueError, IndexError):
            return False
        return True

    def stop(self, mode: str = "fast") -> bool:
        """Stop the server (`fast`: roll back open transactions; `immediate`: like a crash)."""
        if not self.running():
            return False
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop", what="stopping")
        return True

    def pid(self) -> int | None:
        """The postmaster's pid, if it runs."""
        try:
            return int((self.data / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None


class Redis:
    """One Redis server on 127.0.0.1 with a password, its append-only file under run_dir."""

    def __init__(self, layout: StackLayout) -> None:
        """Use the layout's port and folder (nothing is started)."""
        self.layout = layout
        self.pid_file = layout.run_dir / "redis.pid"

    def config(self) -> Path:
        """Write the server's config (mode 600: it holds the password); return its path."""
        folder = self.layout.redis_dir
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "redis.conf"
        lines = [
            "bind 127.0.0.1",
            f"port {self.layout.redis_port}",
            f"dir {folder}",
            f"requirepass {self.layout.secret()}",
            "appendonly yes",  # the job queue survives a restart of Redis
            "appendfsync everysec",
            'save ""',
            f"logfile {folder / 'redis.log'}",
        ]
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write("\n".join(lines) + "\n")
        return path

    def start(self, timeout: float = 20.0) -> None:
        """Start the server detached unless it answers; wait until it does."""
        if self.ping():
            return
        if not port_is_free(self.layout.redis_port):
            raise ServerError(f"port {self.layout.redis_port} is taken (Redis)")
        process = subprocess.Popen(
            [redis_server(), str(self.config())],
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        self.pid_file.write_text(str(process.pid))
        deadline = time.monotonic() + timeout
        while not self.ping():
            if process.poll() is not None or time.monotonic() > deadline:
                raise ServerError(f"Redis did not start: see {self.layout.redis_dir}/redis.log")
            time.sleep(0.1)

    def ping(self) -> bool:
        """Whether this Redis answers PING with the stack's password."""
        command = f"AUTH {self.layout.secret()}\r\nPING\r\n".encode()
        try:
            with socket.create_connection(("127.0.0.1", self.layout.redis_port), timeout=1) as sock:
                sock.sendall(command)
                reply = b""
                while reply.count(b"\r\n") < 2:
                    chunk = sock.recv(256)
                    if not chunk:
                        break
                    reply += chunk
        except OSError:
            return False
        return reply.startswith(b"+OK") and b"+PONG" in reply

    def stop(self) -> bool:
        """Stop the server this stack started; return True if one was running."""
        return kill_pid_file(self.pid_file)
