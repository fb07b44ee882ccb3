"""Start, check and stop the embedded llama.cpp servers: one process per model tier.

A llama.cpp process keeps the KV cache of one prompt: the next request reuses
its longest common prefix. One process per tier (router, planner, synthesizer)
keeps each tier's stable system prompt warm; two processes that serve the same
1.5B file share its weights through the page cache. (One process serving several
models with `--config_file` keeps only one loaded and reloads on every switch.)
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from graphs.context import Context
from serving.models import LARGE, SMALL, ModelError, ModelSpec, model_path, models_dir
from serving.process import (
    ModelServer,
    ServerError,
    kill_pid_file,
    served_models,
    serves,
    write_pid,
)

TIER_MODELS = {"router": SMALL, "planner": LARGE, "synthesizer": LARGE}


@dataclass
class LlamaServer(ModelServer):
    """One `llama_cpp.server` process serving one model under its alias."""

    spec: ModelSpec
    port: int
    host: str = "127.0.0.1"
    n_ctx: int = 4096
    n_threads: int = 2
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
        if serves(server.base_url, server.alias):
            continue  # already up
        pid_file = _pid_file(tier)
        pid_file.parent.mkdir(parents=True, exist_ok=True)
        server.log_path = pid_file.with_suffix(".log")
        server.start(detach=True)
        write_pid(pid_file, server.process)
    for server in servers.values():
        server.wait_ready()
    return servers


def down() -> list[str]:
    """Stop the detached servers that `up` started; return the tiers stopped."""
    return [tier for tier in TIER_MODELS if kill_pid_file(_pid_file(tier))]


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
