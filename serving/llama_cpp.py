"""Start, check and stop the embedded llama.cpp servers: one process per model.

Each process is llama.cpp's own C++ server (`serving.llama_server`): it decodes
concurrent requests together in several slots and keeps the prompts it evicts in a
RAM cache, so the tiers that share a model share its process without evicting each
other's warm prompts. The tiers map to models as `TIER_MODELS` says; the tiers that
point at one URL share that URL's server. Pid and log files live in the checkout's
`.run/` folder, so `down` stops only the servers this checkout started.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from core.settings import TIERS, Settings, settings
from serving.models import LARGE, SMALL, ModelError, ModelSpec, model_path, prepare
from serving.process import (
    ModelServer,
    ServerError,
    kill_pid_file,
    served_models,
    serves,
    write_pid,
)

TIER_MODELS = {"router": SMALL, "planner": LARGE, "synthesizer": LARGE}
RUN_DIR = Path(__file__).resolve().parents[1] / ".run"
# Variables that would override the command line of the server (llama.cpp reads
# LLAMA_ARG_*; `make dev PORT=...` exports PORT): the server gets none of them.
_LEAKY_ENV = ("PORT", "HOST")


@dataclass
class LlamaServer(ModelServer):
    """One llama.cpp server process serving one model under its alias."""

    spec: ModelSpec
    port: int
    host: str = "127.0.0.1"
    parallel: int = 4  # slots: concurrent runs and branches decode in one batch
    ctx_per_slot: int = 8192
    cache_ram_mib: int = 2048
    draft: ModelSpec | None = None  # a smaller model of the same family drafts tokens
    log_path: Path | None = None
    process: subprocess.Popen[bytes] | None = None
    ready_timeout: float = 120.0

    @property
    def alias(self) -> str:  # type: ignore[override]
        """Return the name the server lists its model under."""
        return self.spec.alias

    def command(self) -> list[str]:
        """Return the command line that serves the model."""
        path = model_path(self.spec)
        if not path.exists():
            raise ModelError(f"{path} is missing: run `python -m serving.models` (make models)")
        command = [
            sys.executable, "-m", "serving.llama_server",
            "--model", str(path),
            "--alias", self.spec.alias,
            "--host", self.host,
            "--port", str(self.port),
            "--parallel", str(self.parallel),
            "--ctx-per-slot", str(self.ctx_per_slot),
            "--cache-ram", str(self.cache_ram_mib),
        ]  # fmt: skip
        if self.draft is not None:
            command += ["--draft", str(model_path(self.draft))]
        return command

    def environment(self) -> dict[str, str]:
        """Return the environment without variables that would move the server."""
        return {
            name: value
            for name, value in os.environ.items()
            if name not in _LEAKY_ENV and not name.startswith("LLAMA_ARG_")
        }


def embedded_servers(operator: Settings | None = None) -> list[LlamaServer]:
    """Return one server per base URL the tiers use, serving the tiers' model.

    Raises:
        ServerError: a URL is not a local port, or tiers of different models share one.
    """
    operator = operator or settings()
    servers: dict[str, LlamaServer] = {}
    for tier in TIERS:
        spec = TIER_MODELS[tier]
        base_url = operator.tier(tier).base_url
        url = urllib.parse.urlsplit(base_url)
        if url.hostname not in ("127.0.0.1", "localhost") or url.port is None:
            raise ServerError(f"{tier} base URL {base_url} is not a local port to serve on")
        server = servers.setdefault(base_url, LlamaServer(spec, url.port))
        if server.spec != spec:
            raise ServerError(
                f"{base_url} would serve both {server.spec.alias} and {spec.alias}: "
                f"give the {tier} tier its own port"
            )
    return list(servers.values())


def _pid_file(server: LlamaServer) -> Path:
    return RUN_DIR / f"llama-cpp-{server.port}.pid"


def up(operator: Settings | None = None) -> list[LlamaServer]:
    """Start a detached server per model unless one already answers; wait until all are ready."""
    servers = embedded_servers(operator)
    for server in servers:
        prepare(server.spec)  # fetched and verified once per machine
        if serves(server.base_url, server.alias):
            continue  # already up (maybe another checkout's: then `down` leaves it alone)
        pid_file = _pid_file(server)
        pid_file.parent.mkdir(parents=True, exist_ok=True)
        server.log_path = pid_file.with_suffix(".log")
        server.start(detach=True)
        write_pid(pid_file, server.process)
    for server in servers:
        server.wait_ready()
    return servers


def down() -> list[str]:
    """Stop the detached servers this checkout started; return their pid files' names."""
    return [pid.stem for pid in sorted(RUN_DIR.glob("llama-cpp-*.pid")) if kill_pid_file(pid)]


def main(argv: list[str] | None = None) -> int:
    """Run `up`, `down` or `status` for the embedded servers."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["up", "down", "status"])
    args = parser.parse_args(argv)
    try:
        if args.action == "up":
            for server in up():
                print(f"{server.alias} ready at {server.base_url}")  # noqa: T201
        elif args.action == "down":
            print("stopped: " + (", ".join(down()) or "nothing was running"))  # noqa: T201
        else:
            for server in embedded_servers():
                try:
                    ready = server.alias in served_models(server.base_url)
                    state = "ready" if ready else "another model"
                except OSError:
                    state = "down"
                print(f"{server.alias} {state} at {server.base_url}")  # noqa: T201
    except (ServerError, ModelError) as err:
        print(f"error: {err}", file=sys.stderr)  # noqa: T201
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
