"""Real servers for integration tests: the embedded llama.cpp tiers, on free ports."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from graphs.context import Context
from serving.llama_cpp import TIER_MODELS, LlamaServer
from serving.models import model_path
from serving.process import free_port

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def embedded_context(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Context]:
    """Start one llama.cpp server per tier on free ports; yield a Context that uses them."""
    missing = [str(model_path(s)) for s in TIER_MODELS.values() if not model_path(s).exists()]
    if missing:
        pytest.fail(f"models missing: {missing}; run `make models` first", pytrace=False)
    logs = tmp_path_factory.mktemp("llama")
    servers = {
        tier: LlamaServer(spec, free_port(), log_path=logs / f"{tier}.log")
        for tier, spec in TIER_MODELS.items()
    }
    try:
        for server in servers.values():
            server.start()
        for server in servers.values():
            server.wait_ready()
        yield Context(
            llm_backend="auto",
            **{f"{tier}_base_url": s.base_url for tier, s in servers.items()},  # type: ignore[arg-type]
        )
    finally:
        for server in servers.values():
            server.stop()


@pytest.fixture(scope="session")
def langgraph_dev(
    embedded_context: Context, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """Serve the project's graphs with `langgraph dev` on a free port; yield its URL."""
    port = free_port()
    env = {
        **os.environ,
        "ROUTER_BASE_URL": embedded_context.router_base_url,
        "PLANNER_BASE_URL": embedded_context.planner_base_url,
        "SYNTHESIZER_BASE_URL": embedded_context.synthesizer_base_url,
        "LANGSMITH_TRACING": "false",
        "LANGGRAPH_CLI_NO_ANALYTICS": "1",
        "LANGGRAPH_NO_VERSION_CHECK": "true",
    }
    log = (tmp_path_factory.mktemp("langgraph") / "dev.log").open("wb")
    cli = Path(sys.executable).with_name("langgraph")
    process = subprocess.Popen(
        [str(cli), "dev", "--no-browser", "--port", str(port)],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            if process.poll() is not None:
                pytest.fail(f"langgraph dev exited with {process.returncode}; see {log.name}")
            try:
                with urllib.request.urlopen(f"{url}/ok", timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"langgraph dev not ready on port {port}; see {log.name}")
                time.sleep(0.5)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
