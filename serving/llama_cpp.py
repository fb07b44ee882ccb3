"""Start, check and stop the embedded llama.cpp servers: one process per model tier.

A llama.cpp process keeps the KV cache of one prompt: the next request reuses
its longest common prefix. One process per tier (router, planner, synthesizer)
keeps each tier's stable system prompt warm; two processes that serve the same
1.5B file share its weights through the page cache. (One process serving several
models with `--config_file` keeps only one loaded and reloads on every switch.)
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from graphs.context import Context
from serving.models import LARGE, SMALL, ModelError, ModelSpec, model_path, models_dir

TIER_MODELS = {"router": SMALL, "planner": LARGE, "synthesizer": LARGE}


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


@dataclass
class LlamaServer:
    """One `llama_cpp.server` process serving one model under its alias."""

    spec: ModelSpec
    port: int
    host: str = "127.0.0.1"
    n_ctx: int = 4096
    n_threads: int = 2
    log_path: Path | None = None
    process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        """Return the OpenAI-compatible base URL of this server."""
        return f"http://{self.host}:{self.port}/v1"

    def command(self) -> list[str]:
        """Return the command line that serves the model."""
        path = model_path(self.spec)
        if not path.exists():
            raise ModelError(f"{path} is missing: run `python -m serving.models` (make models)")
        return [
            sys.executable, "-m", "llama_cpp.server",
            "--model", str(path),
            "--model_alias", self.spec.alias,
            "--host", self.host,
            "--port", str(self.port),
            "--n_ctx", str(self.n_ctx),
            "--n_threads", str(self.n_threads),
            "--interrupt_requests", "False",  # True silently empties concurrent streams
        ]  # fmt: skip

    def start(self, *, detach: bool = False) -> None:
        """Launch the process; raise ServerError at once if the port is taken."""
        if not port_is_free(self.port, self.host):
            raise ServerError(f"port {self.port} is taken: stop what uses it or pick another")
        command = self.command()
        if self.log_path is None:
            self.process = subprocess.Popen(
                command,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.STDOUT,
                start_new_session=detach,
            )
            return
        with self.log_path.open("ab") as log:  # the child keeps its own copy of the file
            self.process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, start_new_session=detach
            )

    def wait_ready(self, timeout: float = 120.0) -> None:
        """Block until the server lists its model; raise ServerError if it dies or times out."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                hint = f" (log: {self.log_path})" if self.log_path else ""
                raise ServerError(
                    f"{self.spec.alias} server exited with {self.process.returncode}{hint}"
                )
            try:
                if self.spec.alias in served_models(self.base_url, timeout=1.0):
                    return
            except (OSError, ValueError, KeyError):
                pass
            time.sleep(0.2)
        raise ServerError(
            f"{self.spec.alias} server on port {self.port} not ready in {timeout:.0f} s"
        )

    def stop(self) -> None:
        """Terminate the process and wait for it."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def embedded_servers(context: Context | None = None) -> dict[str, LlamaServer]:
    """Return the server of each tier, on the port of the tier's configured base URL."""
    context = context or Context()
    servers = {}
    for tier, spec in TIER_MODELS.items():
        url = urllib.parse.urlsplit(getattr(context, f"{tier}_base_url"))
        if url.hostname not in ("127.0.0.1", "localhost") or url.port is None:
            raise ServerError(f"{tier} base URL {url.geturl()} is not a local port to serve on")
        servers[tier] = LlamaServer(spec, url.port)
    return servers


def _pid_file(tier: str) -> Path:
    return models_dir().parent / "run" / f"{tier}.pid"


def up(context: Context | None = None) -> dict[str, LlamaServer]:
    """Start a detached server per tier unless one already answers; wait until all are ready."""
    servers = embedded_servers(context)
    for tier, server in servers.items():
        try:
            if server.spec.alias in served_models(server.base_url, timeout=1.0):
                continue  # already up
        except (OSError, ValueError, KeyError):
            pass
        pid_file = _pid_file(tier)
        pid_file.parent.mkdir(parents=True, exist_ok=True)
        server.log_path = pid_file.with_suffix(".log")
        server.start(detach=True)
        assert server.process is not None
        pid_file.write_text(str(server.process.pid))
    for server in servers.values():
        server.wait_ready()
    return servers


def down() -> list[str]:
    """Stop the detached servers that `up` started; return the tiers stopped."""
    stopped = []
    for tier in TIER_MODELS:
        pid_file = _pid_file(tier)
        if not pid_file.exists():
            continue
        try:
            os.kill(int(pid_file.read_text()), signal.SIGTERM)
            stopped.append(tier)
        except (ProcessLookupError, ValueError):
            pass
        pid_file.unlink()
    return stopped


def main(argv: list[str] | None = None) -> int:
    """Run `up`, `down` or `status` for the embedded servers."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["up", "down", "status"])
    args = parser.parse_args(argv)
    try:
        if args.action == "up":
            for tier, server in up().items():
                print(f"{tier}: {server.spec.alias} ready at {server.base_url}")  # noqa: T201
        elif args.action == "down":
            print("stopped: " + (", ".join(down()) or "nothing was running"))  # noqa: T201
        else:
            for tier, server in embedded_servers().items():
                try:
                    ready = server.spec.alias in served_models(server.base_url)
                    state = "ready" if ready else "another model"
                except OSError:
                    state = "down"
                print(f"{tier}: {server.spec.alias} {state} at {server.base_url}")  # noqa: T201
    except (ServerError, ModelError) as err:
        print(f"error: {err}", file=sys.stderr)  # noqa: T201
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
