"""The production stack (`serving.stack`) for its crash and restart tests, on free ports.

Not part of the default suite: `make stack-test` runs it (it sets `STACK_TEST=1`). The
stack is the real one: Postgres, Redis, two Aegra API processes with their queue
workers and nginx, with data under `.run/stack-test/` (wiped at the start), pointed at
the configured model servers (`make up`'s embedded ones unless LLM_BASE_URL is set)
and at the stand-in web services, which count every request they answer.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from core.settings import TIERS, settings
from evals.simulated.services import ExternalServices
from serving.process import port_is_free, serves
from serving.stack.control import Stack
from serving.stack.layout import ROOT, StackLayout

RUN = os.environ.get("STACK_TEST", "") == "1"
API_PORTS = range(2310, 2400)  # this checkout's ranges for test servers
POSTGRES_PORTS = range(5441, 5450)
REDIS_PORTS = range(6391, 6400)
KEYS = ("stack-test-key-a", "stack-test-key-b")  # two callers: each sees only its own
RESULTS = ROOT / "build" / "stack-test"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip the stack tests unless STACK_TEST=1 (`make stack-test`)."""
    for item in items:
        if "tests/stack" in str(item.path):
            item.add_marker(pytest.mark.stack)
            if not RUN:
                item.add_marker(pytest.mark.skip(reason="stack test: `make stack-test` runs it"))


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker."""
    config.addinivalue_line("markers", "stack: runs against the production stack")


def free_run(ports: range, count: int = 1) -> int:
    """Return the first port of `count` consecutive free ports in `ports`."""
    for start in ports:
        if start + count - 1 in ports and all(port_is_free(p) for p in range(start, start + count)):
            return start
    raise RuntimeError(f"no {count} free ports in {ports.start}-{ports.stop - 1}")


@dataclass
class Call:
    """One request the stand-in services got: when it started and whether it was answered."""

    endpoint: str
    params: dict[str, str]
    answered: bool = False


class CountingServices(ExternalServices):
    """The stand-in web services, recording each request they are sent."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """As ExternalServices; with an empty record."""
        super().__init__(*args, **kwargs)
        self.calls: list[Call] = []
        self.lock = threading.Lock()
        self.answered = threading.Condition(self.lock)

    def wait(self, endpoint: str, params: dict[str, str] | None = None) -> None:
        """Record the request, wait its latency, record that it is answered."""
        call = Call(endpoint, dict(params or {}))
        with self.lock:
            self.calls.append(call)
        super().wait(endpoint, params)
        with self.lock:
            call.answered = True
            self.answered.notify_all()

    def counts(self) -> Counter[tuple[str, str]]:
        """How many times each call (endpoint and parameters) was requested."""
        with self.lock:
            return Counter(key(c) for c in self.calls)


def key(call: Call) -> tuple[str, str]:
    """A call's identity: its endpoint and sorted parameters."""
    return call.endpoint, "&".join(f"{k}={v}" for k, v in sorted(call.params.items()))


@dataclass
class StackUnderTest:
    """The running stack, its stand-in services, and the keys its callers use."""

    stack: Stack
    services: CountingServices
    keys: tuple[str, str] = KEYS
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def url(self) -> str:
        """The balancer's URL."""
        return self.stack.layout.url


@pytest.fixture(scope="session")
def stack_under_test() -> Iterator[StackUnderTest]:
    """Start the stack on free ports in this checkout's ranges; stop it after the session."""
    operator = settings()
    for tier in TIERS:
        server = operator.tier(tier)
        if not serves(server.base_url, server.model):
            pytest.fail(f"{tier} model server not up at {server.base_url}: run `make up` first")
    port = free_run(API_PORTS, 3)
    layout = StackLayout(
        port=port,
        api_ports=(port + 1, port + 2),
        postgres_port=free_run(POSTGRES_PORTS),
        redis_port=free_run(REDIS_PORTS),
        run_dir=ROOT / ".run" / "stack-test",
    )
    shutil.rmtree(layout.run_dir, ignore_errors=True)
    # Slow services: the calls of a plan are still running when a worker is killed.
    services = CountingServices(profile="slow", seed=0).start()
    env = {
        **{f"{t}_BASE_URL".upper(): operator.tier(t).base_url for t in TIERS},
        **{f"{t}_MODEL".upper(): operator.tier(t).model for t in TIERS},
        "HTTP_SERVICES": services.describe(),
        "HTTP_ALLOWED_ORIGINS": services.base_url,
        "API_KEYS": ",".join(KEYS),
        "LANGSMITH_TRACING": "false",
        # The model servers are shared with whatever else runs on the machine's 2 cores:
        # a prompt read can wait minutes for a slot, so a call may take 10 minutes (the ceiling).
        "LLM_TIMEOUT_SECONDS": "600",
        "MAX_LLM_TIMEOUT_SECONDS": "600",  # the ceiling, else the timeout is brought down to 180
    }
    stack = Stack(layout, env)
    try:
        took = stack.up()
    except Exception:
        stack.down()
        services.stop()
        raise
    print(f"\nstack up at {layout.url} in {took['total']:.1f} s: {took}")  # noqa: T201
    under_test = StackUnderTest(stack, services)
    under_test.notes["cold start"] = took
    try:
        yield under_test
    finally:
        stack.down()
        services.stop()


def results_dir() -> Path:
    """Where the stack tests write what they measured (`build/stack-test/`)."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    return RESULTS
