"""Model servers that misbehave: every fault ends in a clear, bounded result.

A fake OpenAI-compatible server on 127.0.0.1 plays each fault: a stream cut before it
finished, a stream of empty chunks, heartbeats forever, no answer at all, an HTML page,
a router answer that is not a route, a planner that writes garbage.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from typing import Any

import pytest

from core.context import Context
from core.settings import Settings, use_settings
from evals.simulated.services import JSONHandler
from graphs.fast_agent import graph
from serving.client import ModelCallError

FAULTS: dict[str, Any] = {}


def chunk(content: str | None = None, finish: str | None = None) -> bytes:
    delta = {} if content is None else {"content": content}
    body = {
        "id": "x", "object": "chat.completion.chunk", "created": 0, "model": "m",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }  # fmt: skip
    return f"data: {json.dumps(body)}\n\n".encode()


class FaultyHandler(JSONHandler):
    """Answers /v1/chat/completions as the fault for the request's tier says."""

    def do_GET(self) -> None:
        self.reply(200, {"data": [{"id": "m", "owned_by": "faulty"}]})

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        fault = FAULTS.get(body["model"], "ok")
        if fault == "silent":
            time.sleep(30)
            return
        if fault == "html":
            page = b"<html><body>Bad gateway, try later</body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)
            return
        if not body.get("stream"):  # the router's choice: one JSON completion
            text = fault if fault != "ok" else "tools"
            message = {"role": "assistant", "content": text}
            self.reply(200, {
                "id": "x", "object": "chat.completion", "created": 0, "model": "m",
                "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
            })  # fmt: skip
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        if fault == "cut":
            self.wfile.write(chunk("Half an ans"))
        elif fault == "empty":
            self.wfile.write(chunk("") + chunk(None, "stop") + b"data: [DONE]\n\n")
        elif fault == "heartbeat":
            for _ in range(60):
                self.wfile.write(chunk(""))
                self.wfile.flush()
                time.sleep(0.5)
        else:
            text = fault if fault != "ok" else "The answer."
            self.wfile.write(chunk(text) + chunk(None, "stop") + b"data: [DONE]\n\n")
        self.wfile.flush()


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), FaultyHandler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    httpd.shutdown()


def faulty(url: str) -> Settings:
    """Every tier on the faulty server, each under its own model name (its fault's key)."""
    return Settings(
        router_base_url=url, planner_base_url=url, synthesizer_base_url=url,
        router_model="router", planner_model="planner", synthesizer_model="synthesizer",
        llm_backend="openai",
    )  # fmt: skip


async def ask(url: str, question: str, **overrides: Any) -> dict[str, Any]:
    with use_settings(faulty(url)):
        state: dict[str, Any] = await graph.ainvoke(
            {"messages": [{"role": "user", "content": question}]},
            context=Context(llm_timeout_seconds=2.0, **overrides),
        )
    return state


TOOLS_QUESTION = "How many customers do we have in the database?"
PLAN = '1. calculator(expression="6*7")\n2. join()'


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        ("cut", "ended before the model finished"),
        ("empty", "streamed an empty answer"),
        ("heartbeat", "no complete answer within 2 s while answering, before the first token"),
        ("silent", "no complete answer within 2 s"),
        ("html", "synthesizer model 'synthesizer' at http"),
    ],
)
async def test_an_answer_fault_is_a_clear_error_within_the_deadline(
    server: str, fault: str, message: str
) -> None:
    FAULTS.clear()
    FAULTS.update({"planner": PLAN, "synthesizer": fault})
    started = time.monotonic()
    with pytest.raises(ModelCallError, match=message):
        await ask(server, TOOLS_QUESTION)
    assert time.monotonic() - started < 6  # one 2 s deadline, not timeout x retries


@pytest.mark.parametrize("plan", ["empty", "   \n\n  "])
async def test_an_empty_plan_stream_is_a_clear_error(server: str, plan: str) -> None:
    FAULTS.clear()
    FAULTS.update({"planner": plan})
    with pytest.raises(
        ModelCallError, match="planner model 'planner' at .* streamed an empty plan"
    ):
        await ask(server, TOOLS_QUESTION, router_confidence=1.0)  # the planner decides


@pytest.mark.parametrize("answer", ['{"choice": "both!"}', "not json at all", "html"])
async def test_a_router_answer_that_is_no_route_falls_back_to_tools(
    server: str, answer: str
) -> None:
    FAULTS.clear()
    FAULTS.update({"router": answer, "planner": PLAN})
    state = await ask(server, "hmm", router_confidence=1.0, router_fallback="model")
    assert (state["route"], state["route_decided_by"]) == ("tools", "fallback")
    assert state["messages"][-1].content == "The answer."


@pytest.mark.parametrize(
    "plan",
    [
        "[" * 5000 + "]" * 5000,  # deeply nested JSON
        "1. query_database(sql=" + "(" * 3000 + ")",  # deeply nested call
        "x" * 50_000,  # one endless line
        '{"calls": [{"tool": "query_database", "args": {"sql": "SELECT 1"}}]}',  # old JSON plans
        "\x00\x01 binary \ufffd noise",
    ],
)
async def test_planner_output_of_any_shape_ends_in_an_answer(server: str, plan: str) -> None:
    FAULTS.clear()
    FAULTS.update({"planner": plan})
    state = await ask(server, TOOLS_QUESTION)
    assert state["messages"][-1].content == "The answer."
    [step] = [t for t in state["timings"] if t["step"] == "plan_and_call_tools"]
    assert step["plan_errors"] or plan.startswith("\x00")
    assert all(not r["ok"] for r in state["tool_results"])
