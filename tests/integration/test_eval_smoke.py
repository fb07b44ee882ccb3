"""A smoke slice of the eval suite on real servers, so the suite cannot rot."""

from __future__ import annotations

import json
from pathlib import Path

from core.context import Context
from evals.harness.dataset import GROUPS
from evals.run import parse_args, run_suite


async def test_one_question_per_group_on_both_graphs(llm_context: Context, tmp_path: Path) -> None:
    args = parse_args(
        ["--per-group", "1", "--profile", "fast", "--timeout", "240", "--label", "smoke"]
    )
    args.out = str(tmp_path)
    report = await run_suite(args, base=llm_context)

    rows = [json.loads(line) for line in (tmp_path / "smoke" / "results.jsonl").open()]
    assert len(rows) == 2 * len(GROUPS) and {r["graph"] for r in rows} == {
        "fast_agent",
        "react_agent",
    }
    assert all(r["error"] is None for r in rows), [r["error"] for r in rows]
    fast = [r for r in rows if r["graph"] == "fast_agent"]
    assert all(r["answer"].strip() for r in fast)
    assert all(r["first_event_ms"] is not None and "route" in r for r in fast)
    assert any(r["tool_calls"] for r in fast)
    text = report.read_text()
    assert "| overall |" in text and "smoke backend" in text
