"""The eval runner end to end on the simulated GPU model (no model server)."""

import json
from pathlib import Path

from evals.dataset import Question, fact_found, missing_facts
from evals.recorder import union_seconds
from evals.run import parse_args, run_suite


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
