"""The load benchmark end to end: scripted models, a fake OpenAI-compatible server for the rest."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from typing import Any

import pytest

from core.context import Context
from core.settings import Settings
from evals.simulated.services import JSONHandler
from evals.workloads.load import Phase, benchmark, parse_args, pick_questions, render

PLAN = '1. calculator(expression="6 * 7")\n2. join()'


class FakeEngine(JSONHandler):
    """Completions that report 64 tokens, and vLLM counters that grow on every read."""

    reads = 0

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.reply(200, {"usage": {"completion_tokens": 64}})

    def do_GET(self) -> None:
        type(self).reads += 1
        n = type(self).reads
        body = (
            f"vllm:prefix_cache_hits_total {80 * n}\n"
            f"vllm:prefix_cache_queries_total {100 * n}\n"
            f"vllm:generation_tokens_total {500 * n}\n"
        ).encode()
        self.send_response(200)
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def engine() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeEngine)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/v1"
    server.shutdown()
    server.server_close()


def test_questions_alternate_tool_groups_and_cycle() -> None:
    picked = pick_questions(40)
    assert len(picked) == 40
    assert [q.group for q in picked[:4]] == ["one_tool", "multi_tool"] * 2


def test_a_phase_summary_leaves_failed_runs_out_of_the_latencies() -> None:
    def row(e2e: float, error: str | None = None) -> dict[str, Any]:
        return {"e2e_ms": e2e, "error": error, "correct": error is None, "ttft_ms": [50.0],
                "itl_ms": [10.0], "tokens_out": 20}  # fmt: skip

    summary = Phase([row(100.0), row(300.0), row(9999.0, "TimeoutError")], wall_s=2.0).summary()
    assert summary["runs"] == 3 and summary["errors"] == 1 and summary["correct"] == 2
    assert summary["e2e_p50_ms"] == 200 and summary["e2e_p95_ms"] == pytest.approx(290)
    assert summary["runs_per_min"] == 60 and summary["tokens_out_per_s"] == 20
    assert summary["error_messages"] == ["TimeoutError"]


async def test_the_benchmark_runs_every_phase_and_renders(scripted, engine: str) -> None:  # type: ignore[no-untyped-def]
    runs = 1 + 2 + 2  # warm-up, single, concurrent
    scripted(planner=[PLAN] * runs, synthesizer=["It is 42."] * runs)
    args = parse_args(["--concurrency", "2", "--label", "fake", "--quiet", "--timeout", "60"])
    operator = Settings(llm_backend="openai", synthesizer_base_url=engine, planner_base_url=engine)
    result = await benchmark(args, base=Context(router_confidence=0.0), operator=operator)

    assert result["single"]["runs"] == 2 and result["concurrent"]["runs"] == 2
    assert result["concurrent"]["errors"] == 0, result["concurrent"]["error_messages"]
    assert result["engine"]["decode_tok_s_1"] > 0 and result["engine"]["decode_tok_s_2"] > 0
    assert result["prefix_cache_hit_rate"] == pytest.approx(0.8)
    assert result["targets"]["zero_errors"] is True
    text = render(result)
    assert text.startswith("# Load benchmark: fake") and "80.0%" in text
    json.dumps(result)  # written as JSON next to the markdown
