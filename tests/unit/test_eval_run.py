"""The eval runner end to end on the simulated GPU model (no model server)."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from evals.dataset import Question, fact_found, missing_facts
from evals.recorder import union_seconds
from evals.run import parse_args, run_suite
from graphs.context import Context


def test_union_of_intervals_counts_overlap_once() -> None:
    assert union_seconds([(0, 2), (1, 3), (5, 6)]) == 4
    assert union_seconds([]) == 0


def test_missing_facts_are_reported() -> None:
    q = Question("q", "one_tool", "?", "tools", ["calculator"], [], ["351", "Gold"], "r")
    assert missing_facts(q, "It is $351.00, Gold tier.") == []
    assert missing_facts(q, "It is 35.1") == ["351", "Gold"]
    assert fact_found("82725", "a total of $82,725.00")


async def test_suite_runs_both_graphs_and_writes_the_report(tmp_path: Path) -> None:
    ids = ["greet-afternoon", "customers-ireland", "acme-crm-spend-refund", "initech-latest-track"]
    args = parse_args(["--backend", "simulated", "--profile", "fast", "--ids", *ids])
    args.out = str(tmp_path)
    report = await run_suite(args)

    rows = [json.loads(line) for line in (tmp_path / "simulated" / "results.jsonl").open()]
    assert {(r["graph"], r["id"]) for r in rows} == {
        (g, i) for g in ("fast_agent", "react_agent") for i in ids
    }
    assert all(r["error"] is None and r["correct"] for r in rows), [
        r for r in rows if not r["correct"]
    ]
    by = {(r["graph"], r["id"]): r for r in rows}
    # The fast agent plans once and fans out; the baseline takes a model turn per tool.
    fast, react = (
        by["fast_agent", "acme-crm-spend-refund"],
        by["react_agent", "acme-crm-spend-refund"],
    )
    assert (
        sorted(fast["tool_calls"]) == sorted(react["tool_calls"]) and len(fast["tool_calls"]) == 3
    )
    assert fast["model_calls"] == 2 and react["model_calls"] == 4
    assert fast["tools_wall_ms"] < fast["tools_sum_ms"]
    # A dependent chain takes a second planning round.
    assert by["fast_agent", "initech-latest-track"]["model_calls"] == 3
    assert by["fast_agent", "greet-afternoon"]["route"] == "direct"

    text = report.read_text()
    assert "SIMULATED" in text and "| overall |" in text and "## Targets" in text
    assert (tmp_path / "simulated" / "waterfall_fast_agent.png").stat().st_size > 1000


class CountingMetrics(BaseHTTPRequestHandler):
    """A /metrics endpoint whose prefix-cache counters grow by 900 hits / 1,000 queries a read."""

    reads = 0

    def do_GET(self) -> None:
        type(self).reads += 1
        n = type(self).reads
        body = (
            f'vllm:prefix_cache_hits_total{{engine="0"}} {900 * n}\n'
            f'vllm:prefix_cache_queries_total{{engine="0"}} {1000 * n}\n'
        ).encode()
        self.send_response(200 if self.path == "/metrics" else 404)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


async def test_a_vllm_server_s_prefix_cache_hit_rate_is_reported_per_graph(
    tmp_path: Path,
) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), CountingMetrics)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/v1"
        args = parse_args(
            ["--backend", "simulated", "--ids", "greet-afternoon", "--label", "vllm-x"]
        )
        args.out = str(tmp_path)
        report = await run_suite(args, base=Context(planner_base_url=url))
    finally:
        server.shutdown()
    text = report.read_text()
    assert "# Eval report: SIMULATED" in text
    assert "| fast_agent | 90.0% |" in text and "| react_agent | 90.0% |" in text
    assert (tmp_path / "vllm-x" / "results.jsonl").exists()
