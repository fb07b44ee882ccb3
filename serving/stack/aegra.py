"""Aegra: an open-source LangGraph API server, in its own Python 3.12 venv, several processes.

- install: `aegra-api` and `aegra-cli` (pinned) and this project, in a venv under
  `~/.cache/fast-agent/` (Aegra needs Python 3.12+; the project's venv may be 3.11).
  The API processes run in the checkout, whose own modules come first on the path.
- migrate: `aegra db upgrade`, once, before any API process starts (two processes
  migrating a fresh database at once crash).
- each API process is uvicorn serving `aegra_api.main:app` (started directly, so its pid
  is the server's: `aegra serve` would leave its uvicorn child running on SIGTERM). It
  reads `langgraph.json`, the same file `langgraph dev` reads, and runs queue workers:
  any process may execute any run, and a run whose worker dies is taken up by another.
"""

from __future__ import annotations

import glob
import hashlib
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from serving.process import ServerError, port_is_free
from serving.stack.layout import StackLayout

AEGRA_VERSION = "0.11.0"
PYTHON_ENV = "FAST_AGENT_STACK_PYTHON"
# A lease is renewed every 10 s and lasts 30 s; each process's reaper looks for lapsed
# leases every 15 s, so a run whose worker dies starts again elsewhere 30-45 s later.
WORKER_SETTINGS = {
    "WORKER_COUNT": "2",  # queue-reading loops per process
    "N_JOBS_PER_WORKER": "8",  # runs each loop executes at once: 16 per process
    "LEASE_DURATION_SECONDS": "30",
    "HEARTBEAT_INTERVAL_SECONDS": "10",
    "REAPER_INTERVAL_SECONDS": "15",
    "BG_JOB_MAX_RETRIES": "3",
}
# Each step's checkpoint is written before the next step starts: a run taken up after a
# crash resumes from the last finished step, never from one the dead worker lost.
DURABILITY = "sync"
AUTH_LOAD_FAILED = ("Failed to load auth", "Error loading auth config")
STARTUP_FAILED = "Application startup failed"


def venv_dir() -> Path:
    """Return the Aegra venv (FAST_AGENT_STACK_VENV overrides)."""
    default = Path.home() / ".cache" / "fast-agent" / f"aegra-{AEGRA_VERSION}"
    return Path(os.environ.get("FAST_AGENT_STACK_VENV", default)).expanduser()


def venv_python() -> Path:
    """Return the Python of the Aegra venv."""
    return venv_dir() / "bin" / "python"


def find_python() -> str:
    """Return a Python 3.12+ to build the venv with (3.12 first: the version tested).

    `FAST_AGENT_STACK_PYTHON`, else this Python if new enough, else pyenv's 3.12 or 3.13,
    else `python3.12` / `python3.13` on PATH; each is tried before it is chosen.

    Raises:
        ServerError: none was found.
    """
    if chosen := os.environ.get(PYTHON_ENV):
        return chosen
    home = Path.home() / ".pyenv" / "versions"
    candidates = [sys.executable] if sys.version_info >= (3, 12) else []
    candidates += sorted(glob.glob(f"{home}/3.12*/bin/python")) + sorted(
        glob.glob(f"{home}/3.13*/bin/python")
    )
    candidates += [found for name in ("python3.12", "python3.13") if (found := shutil.which(name))]
    check = "import sys; assert sys.version_info >= (3, 12)"
    for candidate in candidates:
        if subprocess.run([candidate, "-c", check], capture_output=True).returncode == 0:
            return candidate
    raise ServerError(f"Aegra needs Python 3.12+: `pyenv install 3.12`, or set {PYTHON_ENV}")


def _stamp(root: Path) -> str:
    """What the venv was built from: Aegra's version and the project's dependencies."""
    digest = hashlib.sha256((root / "pyproject.toml").read_bytes()).hexdigest()[:16]
    return f"{AEGRA_VERSION} {digest}"


def install(root: Path) -> Path:
    """Create the venv unless it matches this checkout's pyproject; return its Python."""
    stamp = venv_dir() / ".installed"
    if stamp.exists() and stamp.read_text().strip() == _stamp(root):
        return venv_python()
    print(f"installing aegra {AEGRA_VERSION} and the project into {venv_dir()}", flush=True)  # noqa: T201
    _run([find_python(), "-m", "venv", "--clear", str(venv_dir())], "creating the venv")
    pip = [str(venv_python()), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    aegra = [f"aegra-api=={AEGRA_VERSION}", f"aegra-cli=={AEGRA_VERSION}"]
    _run([*pip, *aegra, str(root)], "pip install aegra and the project")
    _run([str(venv_python()), "-c", "import aegra_api.main, graphs.fast_agent"], "import aegra")
    stamp.write_text(_stamp(root))
    return venv_python()


def _run(command: list[str], what: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(command, capture_output=True, text=True, **kwargs)  # type: ignore[call-overload]
    if result.returncode != 0:
        tail = "\n".join((result.stderr or result.stdout).splitlines()[-15:])
        raise ServerError(f"{what} failed ({result.returncode}):\n{tail}")
    return result  # type: ignore[no-any-return]


def read_dotenv(root: Path) -> dict[str, str]:
    """The checkout's `.env` (langgraph.json's "env"), as `langgraph dev` reads it."""
    path = root / ".env"
    if not path.exists():
        return {}
    from dotenv import dotenv_values

    return {k: v for k, v in dotenv_values(path).items() if v is not None}


def server_env(layout: StackLayout, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The API processes' environment: the operator's settings, then the stack's own."""
    return {
        **read_dotenv(layout.root),
        **os.environ,
        "AEGRA_CONFIG": str(layout.root / "langgraph.json"),
        "DATABASE_URL": layout.database_url(),
        "REDIS_BROKER_ENABLED": "true",
        "REDIS_URL": layout.redis_url(),
        "RUN_MIGRATIONS_ON_STARTUP": "false",  # `migrate` runs them once, first
        "AEGRA_CHECKPOINT_DURABILITY": DURABILITY,
        "ENV_MODE": "PRODUCTION",  # JSON logs
        "LANGGRAPH_CLI_NO_ANALYTICS": "1",
        **WORKER_SETTINGS,
        # Each process admits its share of a llama.cpp server's slots (`serving.admission`).
        "API_PROCESSES": str(len(layout.api_ports)),
        **(extra or {}),
    }


def migrate(layout: StackLayout, env: dict[str, str]) -> None:
    """Bring the database's schema up to date (`aegra db upgrade`)."""
    aegra = str(venv_dir() / "bin" / "aegra")
    _run([aegra, "db", "upgrade"], "aegra db upgrade", env=env, cwd=layout.run_dir)


@dataclass
class ApiServer:
    """One Aegra API process (with its queue workers), detached, its pid in a file."""

    layout: StackLayout
    index: int
    log_offset: int = 0  # where this start's lines begin in the (appended) log

    @property
    def port(self) -> int:
        """Its port."""
        return self.layout.api_ports[self.index]

    @property
    def url(self) -> str:
        """Its URL (bypassing the balancer)."""
        return self.layout.api_url(self.index)

    @property
    def pid_file(self) -> Path:
        """`.run/stack/api-N.pid`."""
        return self.layout.api_pid_file(self.index)

    def pid(self) -> int | None:
        """The running process's pid, if any."""
        try:
            pid = int(self.pid_file.read_text())
            os.kill(pid, 0)
        except (OSError, ValueError):
            return None
        return pid

    def start(self, env: dict[str, str]) -> subprocess.Popen[bytes]:
        """Launch the process detached; raise ServerError if its port is taken."""
        if not port_is_free(self.port):
            raise ServerError(f"port {self.port} is taken: stop what uses it or pick another")
        command = [
            str(venv_python()), "-m", "uvicorn", "aegra_api.main:app",
            "--host", "127.0.0.1", "--port", str(self.port), "--no-access-log",
        ]  # fmt: skip
        log = self.layout.api_log(self.index)
        self.log_offset = log.stat().st_size if log.exists() else 0
        with log.open("ab") as out:
            process = subprocess.Popen(
                command, cwd=self.layout.root, env=env, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        self.pid_file.write_text(str(process.pid))
        return process

    def wait_ready(self, process: subprocess.Popen[bytes] | None, timeout: float = 120.0) -> None:
        """Block until `/ready` answers (it reaches Postgres and Redis).

        Raises:
            ServerError: the process failed, did not answer in time, or could not load the
                project's auth handler (Aegra would then serve without it).
        """
        deadline = time.monotonic() + timeout
        log = self.layout.api_log(self.index)
        while True:
            try:
                with urllib.request.urlopen(f"{self.url}/ready", timeout=2):
                    break
            except OSError:
                name = f"API process {self.index + 1}"
                failed = STARTUP_FAILED in self._new_log()  # the process may linger after it
                if failed or (process is not None and process.poll() is not None):
                    raise ServerError(f"{name} failed: see {log}") from None
                if time.monotonic() > deadline:
                    raise ServerError(f"{name} not ready: see {log}") from None
                time.sleep(0.3)
        text = self._new_log()
        if any(marker in text for marker in AUTH_LOAD_FAILED):
            # Aegra serves without auth when the handler fails to load: refuse to run so.
            raise ServerError(f"Aegra could not load deploy/auth.py: see {log}")

    def _new_log(self) -> str:
        """What the process wrote to its log since this start."""
        log = self.layout.api_log(self.index)
        with log.open("rb") as lines:
            lines.seek(self.log_offset)
            return lines.read().decode(errors="replace")
