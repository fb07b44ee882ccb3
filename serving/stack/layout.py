"""Where each part of the stack listens and keeps its files, and the secret they share."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_PORT = 2300  # the load balancer; the API processes take the next ports
DEFAULT_POSTGRES_PORT = 5440
DEFAULT_REDIS_PORT = 6390
DEFAULT_WORKERS = 2
DATABASE = "aegra"
DB_USER = "aegra"


@dataclass(frozen=True)
class StackLayout:
    """Ports and paths of one stack; everything it writes is under `run_dir`.

    Attributes:
        port: the load balancer's port, the one URL clients use.
        api_ports: one port per API process (each also runs queue workers).
        postgres_port: Postgres on 127.0.0.1.
        redis_port: Redis on 127.0.0.1.
        run_dir: pid files, logs, data (`.run/stack/` in the checkout by default).
        root: the checkout whose `langgraph.json` is served.
    """

    port: int = DEFAULT_PORT
    api_ports: tuple[int, ...] = (DEFAULT_PORT + 1, DEFAULT_PORT + 2)
    postgres_port: int = DEFAULT_POSTGRES_PORT
    redis_port: int = DEFAULT_REDIS_PORT
    run_dir: Path = field(default_factory=lambda: ROOT / ".run" / "stack")
    root: Path = ROOT

    @classmethod
    def on_port(cls, port: int = DEFAULT_PORT, workers: int = DEFAULT_WORKERS) -> StackLayout:
        """Return the layout with the balancer on `port` and the API processes after it."""
        return cls(port=port, api_ports=tuple(port + 1 + i for i in range(workers)))

    @property
    def url(self) -> str:
        """The API URL clients use (the load balancer)."""
        return f"http://127.0.0.1:{self.port}"

    def api_url(self, index: int) -> str:
        """The URL of one API process, bypassing the balancer."""
        return f"http://127.0.0.1:{self.api_ports[index]}"

    def api_pid_file(self, index: int) -> Path:
        """The pid file of API process `index` (`api-1.pid`, `api-2.pid`, ...)."""
        return self.run_dir / f"api-{index + 1}.pid"

    def api_log(self, index: int) -> Path:
        """The log of API process `index`."""
        return self.run_dir / f"api-{index + 1}.log"

    @property
    def postgres_dir(self) -> Path:
        """Postgres's folder (owned by the `postgres` user when run as root)."""
        return self.run_dir / "postgres"

    @property
    def redis_dir(self) -> Path:
        """Redis's folder: its config, append-only file and log."""
        return self.run_dir / "redis"

    def secret(self) -> str:
        """Return the stack's password for Postgres and Redis, made once (mode 600)."""
        path = self.run_dir / "secret"
        if not path.exists():
            self.run_dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_urlsafe(24))
        return path.read_text().strip()

    def database_url(self) -> str:
        """The Postgres URL the API processes use."""
        return f"postgresql://{DB_USER}:{self.secret()}@127.0.0.1:{self.postgres_port}/{DATABASE}"

    def redis_url(self) -> str:
        """The Redis URL the API processes use."""
        return f"redis://:{self.secret()}@127.0.0.1:{self.redis_port}/0"
