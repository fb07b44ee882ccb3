"""A model server run as a child process: start it, wait until it serves, stop it.

Shared by the embedded llama.cpp tiers (`serving.llama_cpp`) and the vLLM CPU
server (`serving.vllm_cpu`); each says only how its command line is built.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path


class ServerError(RuntimeError):
    """A model server could not be started or did not become ready."""


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """Return True when nothing listens on host:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        return sock.connect_ex((host, port)) != 0


def free_port() -> int:
    """Return a TCP port that is free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def served_models(base_url: str, timeout: float = 2.0) -> list[str]:
    """Return the model ids an OpenAI-compatible server lists, or raise OSError."""
    with urllib.request.urlopen(f"{base_url}/models", timeout=timeout) as response:
        return [m["id"] for m in json.load(response)["data"]]


def serves(base_url: str, alias: str) -> bool:
    """Return True when a server answers at base_url and lists the model `alias`."""
    try:
        return alias in served_models(base_url, timeout=1.0)
    except (OSError, ValueError, KeyError):
        return False


class ModelServer:
    """Lifecycle of one OpenAI-compatible server process; subclasses build `command()`.

    Subclasses are dataclasses with the fields `alias`, `port`, `host`, `log_path`,
    `process` and `ready_timeout`.
    """

    alias: str
    port: int
    host: str
    log_path: Path | None
    process: subprocess.Popen[bytes] | None
    ready_timeout: float

    @property
    def base_url(self) -> str:
        """Return the OpenAI-compatible base URL of this server."""
        return f"http://{self.host}:{self.port}/v1"

    def command(self) -> list[str]:
        """Return the command line that serves the model."""
        raise NotImplementedError

    def environment(self) -> dict[str, str]:
        """Return the environment of the server process."""
        return dict(os.environ)

    def start(self, *, detach: bool = False) -> None:
        """Launch the process; raise ServerError at once if the port is taken."""
        if not port_is_free(self.port, self.host):
            raise ServerError(f"port {self.port} is taken: stop what uses it or pick another")
        command, env = self.command(), self.environment()
        if self.log_path is None:
            self.process = subprocess.Popen(
                command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
                start_new_session=detach,
            )  # fmt: skip
            return
        with self.log_path.open("ab") as log:  # the child keeps its own copy of the file
            self.process = subprocess.Popen(
                command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=detach
            )

    def wait_ready(self, timeout: float | None = None) -> None:
        """Block until the server lists its model; raise ServerError if it dies or times out."""
        timeout = timeout or self.ready_timeout
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                hint = f" (log: {self.log_path})" if self.log_path else ""
                code = self.process.returncode
                raise ServerError(f"{self.alias} server exited with {code}{hint}")
            if serves(self.base_url, self.alias):
                return
            time.sleep(0.2)
        raise ServerError(f"{self.alias} server on port {self.port} not ready in {timeout:.0f} s")

    def stop(self) -> None:
        """Terminate the process and wait for it (kill it after 15 s)."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def write_pid(pid_file: Path, process: subprocess.Popen[bytes] | None) -> None:
    """Record a detached server's pid so that a later `down` can stop it."""
    assert process is not None
    pid_file.parent.mkdir(parents=True, exist_ok=True)
    pid_file.write_text(str(process.pid))


def _alive(pid: int) -> bool:
    """Whether a process group leader still runs (a zombie waiting to be reaped does not)."""
    try:
        os.killpg(pid, 0)
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
    except (ProcessLookupError, FileNotFoundError):
        return False
    return state != "Z"


def kill_pid_file(pid_file: Path, grace: float = 15.0) -> bool:
    """Stop the detached process group a pid file names; return True if one was running."""
    if not pid_file.exists():
        return False
    try:
        pid = int(pid_file.read_text())
        os.killpg(pid, signal.SIGTERM)  # detached servers lead their own session
    except (ProcessLookupError, ValueError, PermissionError):
        pid_file.unlink()
        return False
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and _alive(pid):
        time.sleep(0.1)
    else:
        os.killpg(pid, signal.SIGKILL)
    pid_file.unlink()
    return True
