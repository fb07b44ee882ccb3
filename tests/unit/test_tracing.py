"""LangSmith tracing: on only with a key, runs arrive as one tree, and exit stays bounded."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from email import policy
from email.parser import BytesParser
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from langsmith.utils import tracing_is_enabled

from deploy import tracing
from deploy.tracing import configure_tracing, tracing_wanted
from evals.simulated.services import JSONHandler
from graphs.fast_agent import graph  # noqa: F401  # imported as the other tests import it

ROOT = Path(__file__).resolve().parents[2]
QUESTION = "How many customers are in the database, and what is 6 times 7?"
CALCULATOR = {"tool": "calculator", "args": {"expression": "6*7"}}
QUERY = {"tool": "query_database", "args": {"sql": "SELECT COUNT(*) AS n FROM customers"}}
EXIT_BOUND_SECONDS = 15.0

# Runs the fast agent once, in a fresh process, with scripted models; prints what it saw.
RUN_ONCE = """
import asyncio, json, sys, time
from langchain_core.tracers.langchain import wait_for_all_tracers
from langsmith.utils import tracing_is_enabled
from serving import client
from tests.support.models import ScriptedModels

question, plan, flush = sys.argv[1], sys.argv[2], sys.argv[3] == "flush"
models = ScriptedModels(planner=[plan], synthesizer=["Done."])
from core.context import Context
from graphs.fast_agent import graph

start = time.monotonic()
with client.use_models(models):
    state = asyncio.run(graph.ainvoke(
        {"messages": [{"role": "user", "content": question}]},
        context=Context(router_confidence=0.0, speculate=False),
    ))
run_seconds = time.monotonic() - start
if flush:
    wait_for_all_tracers()
print(json.dumps({
    "route": state["route"],
    "tools": sorted(r["tool"] for r in state["tool_results"]),
    "tracing": bool(tracing_is_enabled()),
    "run_seconds": run_seconds,
}))
"""


def run_once(env: dict[str, str], calls: list[dict[str, Any]], *, flush: bool) -> dict[str, Any]:
    """Run the graph in a subprocess; return its report, exit code and wall time."""
    lines = [
        f"{i}. {c['tool']}({next(iter(c['args']))}={json.dumps(next(iter(c['args'].values())))})"
        for i, c in enumerate(calls, 1)
    ]
    plan = "\n".join([*lines, f"{len(calls) + 1}. join()"])
    args = [sys.executable, "-c", RUN_ONCE, QUESTION, plan, "flush" if flush else "exit"]
    start = time.monotonic()
    done = subprocess.run(
        args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    elapsed = time.monotonic() - start
    assert done.returncode == 0, done.stderr
    return {**json.loads(done.stdout.strip().splitlines()[-1]), "elapsed": elapsed}


def langsmith_env(endpoint: str, *, key: str | None = "test") -> dict[str, str]:
    """Return this environment with no tracing switches, pointed at `endpoint`."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("LANGSMITH_", "LANGCHAIN_")) or k == "LANGSMITH_TEST_TRACKING"
    }
    env["LANGSMITH_ENDPOINT"] = endpoint
    if key is not None:
        env["LANGSMITH_API_KEY"] = key
    return env


class Recorder(ThreadingHTTPServer):
    """A LangSmith API stand-in that records every run it is sent."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), RecorderHandler)
        self.requests: list[str] = []
        self.encodings: set[str] = set()
        self.runs: dict[str, dict[str, Any]] = {}
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def record(self, run_id: str, field: str | None, value: Any) -> None:
        with self.lock:
            run = self.runs.setdefault(run_id, {})
            if field is None:  # the run itself: a post, or a patch that completes it
                run.update({k: v for k, v in value.items() if v is not None})
            else:  # inputs, outputs, events, extra, ... sent as separate parts
                run[field] = value


class RecorderHandler(JSONHandler):
    server: Recorder

    def do_GET(self) -> None:
        self.server.requests.append(f"GET {self.path}")
        if self.path == "/info":
            self.reply(200, {})  # no batch config, no instance flags: the client's defaults
        else:
            self.reply(404, {"detail": "not found"})

    def do_POST(self) -> None:
        self.server.requests.append(f"POST {self.path}")
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.encodings.add(self.headers.get("Content-Encoding", "identity"))
        if self.path == "/runs/multipart":
            head = f"Content-Type: {self.headers['Content-Type']}\r\n\r\n".encode()
            message = BytesParser(policy=policy.HTTP).parsebytes(head + body)
            for part in message.iter_parts():
                name = part.get_param("name", header="content-disposition")
                operation, run_id, *field = str(name).split(".")
                if operation in ("post", "patch"):
                    value = json.loads(part.get_payload(decode=True))
                    self.server.record(run_id, field[0] if field else None, value)
        elif self.path == "/runs/batch":
            batch = json.loads(body)
            for run in [*batch.get("post", []), *batch.get("patch", [])]:
                self.server.record(run["id"], None, run)
        else:
            self.reply(404, {"detail": "not found"})
            return
        self.reply(200, {})


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    server = Recorder()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def closed_port() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"  # nothing listens: connections are refused


@pytest.mark.parametrize(
    "env, wanted",
    [
        ({}, False),
        ({"LANGSMITH_TRACING": "true"}, False),  # a switch without a key does not trace
        ({"LANGCHAIN_TRACING_V2": "true", "LANGSMITH_API_KEY": " "}, False),
        ({"LANGSMITH_API_KEY": "lsv2_x"}, True),  # a key alone turns tracing on
        ({"LANGCHAIN_API_KEY": "lsv2_x", "LANGSMITH_TRACING": "true"}, True),
        ({"LANGSMITH_API_KEY": "lsv2_x", "LANGSMITH_TRACING": "false"}, False),  # user said no
        ({"LANGSMITH_API_KEY": "lsv2_x", "LANGCHAIN_TRACING_V2": "false"}, False),
    ],
)
def test_tracing_needs_a_key_and_no_switch_saying_no(env: dict[str, str], wanted: bool) -> None:
    assert tracing_wanted(env) is wanted


def test_turning_off_sets_every_switch_to_false() -> None:
    env = {"LANGSMITH_TRACING": "true", "LANGCHAIN_TRACING_V2": "true"}
    assert configure_tracing(env) is False
    assert env == {"LANGSMITH_TRACING": "false", "LANGCHAIN_TRACING_V2": "false"}


def test_the_test_suite_imports_the_graph_with_tracing_off() -> None:
    assert tracing.TRACING is False
    assert os.environ["LANGSMITH_TRACING"] == "false"
    assert not tracing_is_enabled()


def test_without_a_key_nothing_is_sent_even_if_tracing_says_true(recorder: Recorder) -> None:
    env = langsmith_env(recorder.url, key=None)
    env |= {"LANGSMITH_TRACING": "true", "LANGCHAIN_TRACING_V2": "true"}
    report = run_once(env, [CALCULATOR], flush=True)
    assert report["route"] == "tools" and report["tools"] == ["calculator"]
    assert report["tracing"] is False
    assert recorder.requests == []


@pytest.mark.parametrize("endpoint", ["closed port", "silent server"])
def test_an_unreachable_langsmith_neither_slows_the_run_nor_holds_the_exit(endpoint: str) -> None:
    with socket.create_server(("127.0.0.1", 0), backlog=64) as silent:
        # The kernel completes every connection to `silent`; nothing ever reads or answers.
        silent_url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        url = closed_port() if endpoint == "closed port" else silent_url
        report = run_once(langsmith_env(url), [CALCULATOR], flush=False)
    assert report["route"] == "tools" and report["tracing"] is True
    assert report["run_seconds"] < 5.0  # the run never waits for LangSmith (a send takes 10 s+)
    assert report["elapsed"] < EXIT_BOUND_SECONDS  # ~1 s to start + at most the exit flush (3 s)


@pytest.mark.parametrize("flush", [True, False], ids=["flushed", "sent at exit"])
def test_every_node_and_tool_reaches_langsmith_as_one_run_tree(
    recorder: Recorder, flush: bool
) -> None:
    report = run_once(langsmith_env(recorder.url), [CALCULATOR, QUERY], flush=flush)
    assert report["tools"] == ["calculator", "query_database"]
    assert "POST /runs/multipart" in recorder.requests
    assert recorder.encodings == {"identity"}  # compression is off: sends stay off thread pools

    runs = recorder.runs
    names = Counter(run["name"] for run in runs.values())
    expected = {"route_query": 1, "plan_and_call_tools": 1, "synthesize_answer": 1}
    expected |= {"calculator": 1, "query_database": 1}
    assert {name: names[name] for name in expected} == expected
    assert all(run.get("start_time") and run.get("end_time") for run in runs.values())
    assert len({run["trace_id"] for run in runs.values()}) == 1
    [root] = [run for run in runs.values() if not run.get("parent_run_id")]
    assert root["name"] == "fast_agent" and root["id"] == root["trace_id"]

    def ancestors(run: dict[str, Any]) -> list[dict[str, Any]]:
        chain = []
        while run.get("parent_run_id"):
            run = runs[run["parent_run_id"]]
            chain.append(run)
        return chain

    tools = [run for run in runs.values() if run["name"] in ("calculator", "query_database")]
    assert len(tools) == 2  # each call is its own run, under the planning step
    for run in tools:
        assert "plan_and_call_tools" in [a["name"] for a in ancestors(run)]
