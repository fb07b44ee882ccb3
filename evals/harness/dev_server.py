"""`langgraph dev` for the benchmarks: started on a free port, pointed at the model servers."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from core.settings import TIERS, settings
from serving.process import free_port

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def langgraph_dev(
    log: Path, jobs: int | None = 16, env: dict[str, str] | None = None, port: int | None = None
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """Run `langgraph dev` while the block runs; yield its URL and process.

    `jobs` runs per worker (None: the CLI's default); `env` overrides the environment;
    `port` is the port to listen on (None: a free one).

    Raises:
        RuntimeError: the server exited, or did not answer `/ok` within 120 s.
    """
    operator = settings()
    environment = {
        **os.environ,
        **{f"{t}_BASE_URL".upper(): operator.tier(t).base_url for t in TIERS},
        "LANGSMITH_TRACING": "false",
        "LANGGRAPH_CLI_NO_ANALYTICS": "1",
        "LANGGRAPH_NO_VERSION_CHECK": "true",
        **(env or {}),
    }
    port = port or free_port()
    cli = str(Path(sys.executable).with_name("langgraph"))
    command = [cli, "dev", "--no-browser", "--no-reload", "--port", str(port)]
    if jobs is not None:
        command += ["--n-jobs-per-worker", str(jobs)]
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        server = subprocess.Popen(
            command, cwd=ROOT, env=environment, stdout=out, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{url}/ok", timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError(f"langgraph dev did not start: see {log}") from None
                time.sleep(0.5)
        yield url, server
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
