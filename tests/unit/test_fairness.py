"""The fairness benchmark: its figures, and one short run against the fake 2-slot server."""

from __future__ import annotations

from evals.workloads import fairness
from evals.workloads.fairness import Call


def test_a_wait_is_counted_in_the_other_callers_calls() -> None:
    a = Call("key-A", "A", asked=0.5, began=2.0, ended=3.0)
    floods = [
        Call("key-B", f"B{i}", asked=0.0, began=i // 2 * 2.0, ended=i // 2 * 2.0 + 2.0)
        for i in range(4)
    ]
    busy = Call("key-B", "B4", asked=0.0, error="busy")
    figures = fairness.summarize([[a, *floods, busy]])
    assert (figures["a_wait_s"], figures["b_call_s"], figures["a_wait_in_b_calls"]) == (
        1.5,
        2.0,
        0.75,
    )
    assert (figures["a_busy"], figures["b_busy"], figures["b_flood_s"]) == (0, 1, 4.0)
    assert fairness.report("x", figures).startswith("| x | 1.50 | 2.00 | 0.8 | 0/1 | 1 |")


async def test_a_short_run_on_the_fake_server_reports_every_call() -> None:
    args = fairness.parse_args(
        ["--seconds", "0.1", "--flood", "4", "--rounds", "1", "--head-start", "0.05"]
    )
    figures = await fairness.main(args)
    assert figures["rounds"] == 1 and figures["a_busy"] == 0 and figures["b_busy"] == 0
    assert figures["a_wait_s"] is not None and figures["b_call_s"] is not None
