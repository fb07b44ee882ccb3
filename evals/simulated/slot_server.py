"""A stand-in for a busy llama.cpp server: a few slots, a fixed time an answer, the rest queued.

Like llama.cpp, it says how many requests it decodes at once (`/props` `total_slots`,
`/v1/models` owned by `llamacpp`) and holds the requests beyond them in a queue of its
own. Each answer takes `seconds` once it has a slot, and streams one chunk. It notes
the order in which requests got a slot (by their last user message) and the most it
held at once. The fairness benchmark (`evals.workloads.fairness`) and the admission tests use it.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import ThreadingHTTPServer
from typing import Any

from evals.simulated.services import JSONHandler


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: SlotServer


class _Handler(JSONHandler):
    server: _Server

    def do_GET(self) -> None:
        fake = self.server.fake
        if self.path == "/props":
            if fake.props:
                self.reply(200, {"total_slots": fake.slots})
            else:
                self.reply(404, {"error": "no such endpoint"})
            return
        self.reply(200, {"data": [{"id": "m", "owned_by": "llamacpp"}]})

    def do_POST(self) -> None:
        request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        question = str(request["messages"][-1]["content"])
        fake = self.server.fake
        with fake.slot:
            fake.enter(question)
            time.sleep(fake.seconds)
            fake.leave()
        body = {
            "id": "x", "object": "chat.completion.chunk", "created": 0, "model": "m",
            "choices": [{"index": 0, "delta": {"content": "An answer."}, "finish_reason": "stop"}],
        }  # fmt: skip
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        self.wfile.write(f"data: {json.dumps(body)}\n\ndata: [DONE]\n\n".encode())


class SlotServer:
    """The fake server on 127.0.0.1, in a daemon thread (`start`, `stop`)."""

    def __init__(self, slots: int = 2, seconds: float = 1.0, *, props: bool = True) -> None:
        """`slots` answers at once, each `seconds` long; `props`: whether it says its slots."""
        self.slots, self.seconds, self.props = slots, seconds, props
        self.slot = threading.Semaphore(slots)
        self.lock = threading.Lock()
        self.order: list[str] = []  # questions, in the order they got a slot
        self.now = self.most = 0
        self.url = ""  # the OpenAI-compatible base URL (`.../v1`), once started
        self._httpd: _Server | None = None

    def start(self, port: int = 0) -> SlotServer:
        """Serve on `port` (0: a free one); return self."""
        self._httpd = _Server(("127.0.0.1", port), _Handler)
        self._httpd.fake = self
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def enter(self, question: str) -> None:
        """Note that a request got a slot."""
        with self.lock:
            self.order.append(question)
            self.now += 1
            self.most = max(self.most, self.now)

    def leave(self) -> None:
        """Note that a request gave its slot back."""
        with self.lock:
            self.now -= 1

    def __enter__(self) -> SlotServer:
        """Start on a free port."""
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        """Stop."""
        self.stop()
