"""The eval runner end to end on the simulated GPU model (no model server)."""

import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from core.settings import Settings
from evals.harness.dataset import GROUPS, Question, fact_found, load_dataset, missing_facts
from evals.harness.recorder import RunRecorder, union_seconds
from evals.harness.runner import used_and_wasted
from evals.run import parse_args, run_suite, select


def test_union_of_intervals_counts_overlap_once() -> None:
    assert union_seconds([(0, 2), (1, 3), (5, 6)]) == 4
    assert union_seconds([]) == 0


def test_missing_facts_are_reported() -> None:
    q = Question("q", "one_tool", "?", "tools", ["calculator"], [], ["351", "Gold"], "r")
    assert missing_facts(q, "It is $351.00, Gold tier.") == []
    assert missing_facts(q, "It is 35.1") == ["351", "Gold"]
    assert fact_found("82725", "a total of $82,725.00")


async def test_suite_runs_three_graphs_and_writes_the_report(tmp_path: Path) -> None:
    ids = [
        "greet-afternoon",
        "customers-ireland",
        "acme-crm-spend-refund",
        "initech-latest-track",
        "acme-country-weather",
    ]
    args = parse_args(["--backend", "simulated", "--profile", "fast", "--ids", *ids])
    args.out = str(tmp_path)
    report = await run_suite(args)

    rows = [json.loads(line) for line in (tmp_path / "simulated" / "results.jsonl").open()]
    graphs = ("fast_agent", "react_agent", "react_sequential")
    assert {(r["graph"], r["id"]) for r in rows} == {(g, i) for g in graphs for i in ids}
    # Interleaved: each question is asked of every graph in turn, the first one rotating.
    assert [r["id"] for r in rows] == [i for i in ids for _ in graphs]
    assert [r["graph"] for r in rows[:6]] == [*graphs, *graphs[1:], graphs[0]]
    assert all(r["error"] is None and r["correct"] for r in rows), [
        (r["graph"], r["id"], r["error"], r["missing"]) for r in rows if not r["correct"]
    ]
    by = {(r["graph"], r["id"]): r for r in rows}
    # Three independent calls: the fast agent plans once and runs them together; the
    # baseline asks for all three in one turn, or (sequential) one a turn.
    multi = {g: by[g, "acme-crm-spend-refund"] for g in graphs}
    assert all(
        sorted(r["tool_calls"]) == sorted(multi["fast_agent"]["tool_calls"]) for r in multi.values()
    )
    assert len(multi["fast_agent"]["tool_calls"]) == 3
    assert (
        multi["react_agent"]["model_calls"] == 2 and multi["react_sequential"]["model_calls"] == 4
    )
    assert multi["react_agent"]["tools_wall_ms"] < multi["react_agent"]["tools_sum_ms"]
    bars = multi["fast_agent"]["waterfall"]  # the first call ran while the plan was written
    [plan] = [b for b in bars if b["label"] == "plan_and_call_tools"]
    assert min(b["start"] for b in bars if b["kind"] == "tool") < plan["end"]
    # A chain a reference carries takes one planning round; a value read first, two.
    assert by["fast_agent", "initech-latest-track"]["rounds"] == 1
    assert by["react_agent", "initech-latest-track"]["rounds"] == 2
    assert by["fast_agent", "acme-country-weather"]["rounds"] == 2
    assert by["fast_agent", "greet-afternoon"]["route"] == "direct"
    assert all(r["chain_ms"] >= 0 for r in rows)
    first = by["fast_agent", "customers-ireland"]
    assert 0 < first["first_tool_ms"] < first["e2e_ms"] and first["plan_tokens"] > 0

    text = report.read_text()
    assert "SIMULATED" in text and "| overall |" in text and "## Targets" in text
    assert "react / fast p50" in text and "sequential / fast p50" in text
    assert "## Critical-path bound" in text and "## Per question" in text
    assert (tmp_path / "simulated" / "waterfall_fast_agent.png").stat().st_size > 1000


async def test_the_sequential_baseline_needs_the_simulated_model(tmp_path: Path) -> None:
    args = parse_args(["--graphs", "react_sequential", "--ids", "greet-afternoon"])
    args.out = str(tmp_path)
    with pytest.raises(SystemExit, match="simulated"):
        await run_suite(args)


def test_select_by_id_or_per_group() -> None:
    questions = load_dataset()
    assert [q.id for q in select(questions, None, ["capital-canada"])] == ["capital-canada"]
    picked = select(questions, 2, [])
    assert len(picked) == 2 * len(GROUPS) and {q.group for q in picked} == set(GROUPS)
    assert "write" in GROUPS


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


async def test_a_vllm_server_s_prefix_cache_hit_rate_is_reported_per_graph_or_for_the_run(
    tmp_path: Path,
) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), CountingMetrics)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/v1"
        reports = {}
        for order in ("sequential", "interleaved"):
            argv = ["--backend", "simulated", "--ids", "greet-afternoon", "--label", "vllm-x"]
            args = parse_args([*argv, "--order", order])
            args.out = str(tmp_path)
            report = await run_suite(args, operator=Settings(planner_base_url=url))
            reports[order] = report.read_text()
    finally:
        server.shutdown()
    text = reports["sequential"]
    assert "# Eval report: SIMULATED" in text
    for graph in ("fast_agent", "react_agent", "react_sequential"):
        assert f"| {graph} | 90.0% |" in text
    assert "| all graphs, interleaved | 90.0% |" in reports["interleaved"]
    assert (tmp_path / "vllm-x" / "results.jsonl").exists()


def test_speculative_calls_the_plan_did_not_ask_for_are_not_counted_as_its_calls() -> None:
    recorder = RunRecorder()
    for n, (args, tags) in enumerate(
        [
            ({"query": "refunds"}, ["speculative"]),
            ({"query": "warranty"}, ["speculative"]),
            ({"sql": "SELECT 1"}, []),
        ]  # fmt: skip
    ):
        run_id = uuid.UUID(int=n)
        tool = "search_docs" if "query" in args else "query_database"
        recorder.on_tool_start({"name": tool}, str(args), run_id=run_id, inputs=args, tags=tags)
        recorder.on_tool_end("ok", run_id=run_id)
    asked = [{"tool": "search_docs", "args": {"query": "refunds"}},
             {"tool": "query_database", "args": {"sql": "SELECT 1"}}]  # fmt: skip
    used, wasted = used_and_wasted(recorder.tool_calls(), asked)
    assert [c["args"] for c in used] == [{"query": "refunds"}, {"sql": "SELECT 1"}]
    assert [c["args"] for c in wasted] == [{"query": "warranty"}]


def test_an_adopted_speculative_service_call_counts_as_used() -> None:
    recorder = RunRecorder()
    url = {"url": "http://127.0.0.1:1/crm/account?name=Initech"}
    planned = {"planned_call": ["crm", {"name": "Initech"}]}
    run_id = uuid.UUID(int=1)
    recorder.on_tool_start(
        {"name": "http_get"}, str(url), run_id=run_id, inputs=url, tags=["speculative"],
        metadata=planned,
    )  # fmt: skip
    recorder.on_tool_end("ok", run_id=run_id)
    used, wasted = used_and_wasted(
        recorder.tool_calls(), [{"tool": "crm", "args": {"name": "Initech"}}]
    )
    assert [c["args"] for c in used] == [url] and wasted == []
    used, wasted = used_and_wasted(recorder.tool_calls(), [{"tool": "crm", "args": {"name": "X"}}])
    assert used == [] and len(wasted) == 1


def test_a_service_call_adopted_for_a_number_it_was_planned_with_counts_as_used() -> None:
    recorder = RunRecorder()
    url = {"url": "http://127.0.0.1:1/shipping/track?order_id=1866"}
    run_id = uuid.UUID(int=1)
    recorder.on_tool_start(
        {"name": "http_get"}, str(url), run_id=run_id, inputs=url, tags=["speculative"],
        metadata={"planned_call": ["shipping", {"order_id": "1866"}]},
    )  # fmt: skip
    recorder.on_tool_end("ok", run_id=run_id)
    asked = [{"tool": "shipping", "args": {"order_id": 1866}}]  # `$1.id` resolved: a number
    used, wasted = used_and_wasted(recorder.tool_calls(), asked)
    assert [c["args"] for c in used] == [url] and wasted == []
