"""Real servers for integration tests, on free ports: the embedded llama.cpp servers or vLLM.

`TEST_SERVERS` lists the servers (`embedded`, `vllm-cpu`); a test that takes
`llm_context` runs once per server. On `vllm-cpu` only the tests marked `engine`
run (the ones that prove the engine: the graph end to end, parallel branches,
streaming, the prefix cache), unless `VLLM_CPU_FULL=1` (`make vllm-cpu-test`).

Every server is warmed before the tests (`deploy.warmup`): its stable prompts are
read once, and the model timeout of the tests' Context is sized from how long that
cold read took, so no test depends on how fast this machine happens to be.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.context import Context
from core.settings import TIERS, Settings, use_settings
from deploy.warmup import warm_up
from evals.harness import dev_server
from serving import vllm_cpu
from serving.llama_cpp import embedded_servers
from serving.models import ModelError, prepare
from serving.process import ServerError, free_port

ROOT = Path(__file__).resolve().parents[2]
SERVERS = [name for name in os.environ.get("TEST_SERVERS", "embedded").split(",") if name]
if unknown := set(SERVERS) - {"embedded", "vllm-cpu"}:
    raise pytest.UsageError(f"TEST_SERVERS: unknown {sorted(unknown)}; use embedded, vllm-cpu")
VLLM_CPU_FULL = os.environ.get("VLLM_CPU_FULL") == "1"
# A model call may take this many times the slowest cold prompt read at warm-up.
TIMEOUT_MARGIN = 3.0


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every integration test; on vLLM CPU keep only the engine tests (unless FULL)."""
    keep, dropped = [], []
    for item in items:
        if "tests/integration" not in str(item.path):
            keep.append(item)
            continue
        item.add_marker(pytest.mark.integration)
        server = getattr(item, "callspec", None) and item.callspec.params.get("llm_settings")
        engine = item.get_closest_marker("engine") is not None
        if server == "vllm-cpu" and not (engine or VLLM_CPU_FULL):
            dropped.append(item)
        else:
            keep.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


@pytest.fixture(scope="session", params=SERVERS)
def llm_settings(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Settings]:
    """Start real model servers on free ports; yield the Settings that point at them."""
    logs = tmp_path_factory.mktemp(request.param)
    servers = _embedded(logs) if request.param == "embedded" else _vllm_cpu(logs)
    try:
        yield next(servers)
    finally:
        servers.close()


@pytest.fixture(scope="session")
def llm_context(llm_settings: Settings) -> Context:
    """Warm the servers; return a run Context whose model deadline the cold read sized."""
    with use_settings(llm_settings):
        took = asyncio.run(warm_up(Context()))
    report = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in took.items())
    print(f"\nwarm-up at {llm_settings.planner_base_url}: {report}")  # noqa: T201
    timeout = max(Context().llm_timeout_seconds, TIMEOUT_MARGIN * max(took.values()))
    timeout = min(timeout, llm_settings.max_llm_timeout_seconds)  # the operator's ceiling
    return Context(llm_timeout_seconds=timeout)


@pytest.fixture(autouse=True)
def served_by(llm_settings: Settings) -> Iterator[None]:
    """Run every integration test against the session's servers."""
    with use_settings(llm_settings):
        yield


def _embedded(logs: Path) -> Iterator[Settings]:
    """One llama.cpp server per model, as `make up` runs them, on free ports."""
    small, large = f"http://127.0.0.1:{free_port()}/v1", f"http://127.0.0.1:{free_port()}/v1"
    operator = Settings(router_base_url=small, planner_base_url=large, synthesizer_base_url=large)
    servers = embedded_servers(operator)
    try:
        for server in servers:
            prepare(server.spec)
            server.log_path = logs / f"{server.alias}.log"
            server.start()
        for server in servers:
            server.wait_ready()
    except (ServerError, ModelError) as err:
        for server in servers:
            server.stop()
        pytest.fail(f"embedded servers: {err}", pytrace=False)
    try:
        yield operator
    finally:
        for server in servers:
            server.stop()


def _vllm_cpu(logs: Path) -> Iterator[Settings]:
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
    except ServerError as err:
        server.stop()
        pytest.fail(f"vLLM CPU server: {err}", pytrace=False)
    try:
        yield Settings(
            **{f"{tier}_base_url": server.base_url for tier in TIERS},  # type: ignore[arg-type]
            **{f"{tier}_model": server.alias for tier in TIERS},  # type: ignore[arg-type]
        )
    finally:
        server.stop()


@pytest.fixture(scope="session")
def checks_answers(llm_settings: Settings) -> bool:
    """Whether the tests check the facts in answers: not when the 0.5B writes them.

    On `vllm-cpu` every tier is the 0.5B model, which plans and runs the tools right but
    often misreads the results when it answers (e.g. "30 days" from a table saying 60).
    There the tests check everything else: routes, branches, streaming, steps, tool results.
    """
    return llm_settings.synthesizer_model != vllm_cpu.MODEL.alias


@pytest.fixture(scope="session")
def dev_env(llm_settings: Settings, llm_context: Context) -> dict[str, str]:
    """Return the environment a served `langgraph dev` needs: the session's servers, deadline."""
    return {
        **{
            f"{tier}_{knob}".upper(): str(getattr(llm_settings.tier(tier), knob))
            for tier in TIERS
            for knob in ("base_url", "model")
        },
        "LLM_TIMEOUT_SECONDS": str(llm_context.llm_timeout_seconds),
    }


@pytest.fixture(scope="session")
def langgraph_dev(
    dev_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """Serve the project's graphs with `langgraph dev` on a free port; yield its URL."""
    log = tmp_path_factory.mktemp("langgraph") / "dev.log"
    with dev_server.langgraph_dev(log, jobs=None, env=dev_env) as (url, _):
        yield url
