"""A busy llama.cpp server: calls wait for a free slot, their deadlines start when they get one.

A fake llama.cpp server on 127.0.0.1 says it has 2 slots (`/props`) and takes 0.4 s an
answer; it counts how many requests it holds at once.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from http.server import ThreadingHTTPServer

import pytest
from langchain_core.messages import HumanMessage

from core.context import Context
from core.settings import Settings, use_settings
from evals.services import JSONHandler
from serving import admission, client
from serving.client import ModelCallError

SLOTS, SECONDS = 2, 0.4
SEEN = {"now": 0, "most": 0, "props": True}
LOCK = threading.Lock()


class SlowServer(JSONHandler):
    def do_GET(self) -> None:
        if self.path == "/props":
            if SEEN["props"]:
                self.reply(200, {"total_slots": SLOTS})
            else:
                self.reply(404, {"error": "no such endpoint"})
            return
        self.reply(200, {"data": [{"id": "m", "owned_by": "llamacpp"}]})

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        with LOCK:
            SEEN["now"] += 1
            SEEN["most"] = max(SEEN["most"], SEEN["now"])
        time.sleep(SECONDS)
        with LOCK:
            SEEN["now"] -= 1
        body = {
            "id": "x", "object": "chat.completion.chunk", "created": 0, "model": "m",
            "choices": [{"index": 0, "delta": {"content": "An answer."}, "finish_reason": "stop"}],
        }  # fmt: skip
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        self.wfile.write(f"data: {json.dumps(body)}\n\ndata: [DONE]\n\n".encode())


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), SlowServer)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    SEEN.update(now=0, most=0, props=True)
    url = f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    yield url
    admission._slots.pop(url, None)
    httpd.shutdown()


def on(url: str, **overrides: float) -> Settings:
    return Settings(
        router_base_url=url, planner_base_url=url, synthesizer_base_url=url,
        llm_backend="llama_cpp", **overrides,  # type: ignore[arg-type]
    )  # fmt: skip


async def answers(url: str, calls: int, context: Context, **overrides: float) -> list[object]:
    with use_settings(on(url, **overrides)):
        asks = (
            client.stream_answer(context, "synthesizer", [HumanMessage(f"question {i}")])
            for i in range(calls)
        )
        return await asyncio.gather(*asks, return_exceptions=True)


async def test_calls_beyond_the_slots_wait_and_none_spends_its_deadline_waiting(
    server: str,
) -> None:
    # 6 calls on 2 slots take 3 x 0.4 s; each call's own deadline (0.9 s) is shorter.
    results = await answers(server, 6, Context(llm_timeout_seconds=0.9))
    assert all(getattr(r, "content", None) == "An answer." for r in results), results
    assert SEEN["most"] == SLOTS


async def test_a_wait_longer_than_the_operator_allows_says_the_server_is_busy(
    server: str,
) -> None:
    results = await answers(server, 4, Context(), max_queue_seconds=0.2)
    busy = [r for r in results if isinstance(r, ModelCallError)]
    assert len(busy) == 2
    assert "is busy: no free slot within 0.2 s (2 calls at once, MAX_QUEUE_SECONDS)" in str(busy[0])


async def test_a_server_that_does_not_say_its_slots_gets_every_call_at_once(
    server: str,
) -> None:
    SEEN["props"] = False
    results = await answers(server, 4, Context())
    assert all(getattr(r, "content", None) == "An answer." for r in results), results
    assert SEEN["most"] == 4
