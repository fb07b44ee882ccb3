"""The overhead benchmark: the fast agent over N synthetic services, models swapped, no patching."""

import pytest

from core.context import Context
from evals.benchmarks.overhead import bench_graph, run_benchmark, service
from evals.benchmarks.overhead_report import markdown, targets
from serving import client
from serving.compat import CompatChatOpenAI
from tools import SHOP


@pytest.fixture(scope="module")
def rows():  # type: ignore[no-untyped-def]
    return run_benchmark(reps=3, latencies_ms=(50.0,), tool_counts=(1, 4), warmup=1, direct=True)


def test_one_row_per_mode_and_tool_count(rows) -> None:  # type: ignore[no-untyped-def]
    assert [(r.mode, r.tools, r.latency_ms) for r in rows] == [
        ("astream", 0, 0.0),
        ("astream", 1, 50.0),
        ("astream", 4, 50.0),
        ("ainvoke", 0, 0.0),
        ("ainvoke", 1, 50.0),
        ("ainvoke", 4, 50.0),
    ]
    assert all(len(r.walls_ms) == 3 for r in rows)


def test_tool_calls_overlap_in_every_run(rows) -> None:  # type: ignore[no-untyped-def]
    # From the calls' own start/end stamps: all N were running at one instant.
    assert all(r.overlapped_runs == 3 for r in rows if r.tools)


def test_overhead_is_wall_minus_critical_path(rows) -> None:  # type: ignore[no-untyped-def]
    for r in rows:
        assert r.critical_ms == (50.0 if r.tools else 0.0)  # the fake models take no time
        assert r.wall_p50_ms <= r.wall_p95_ms
        assert r.overhead_ms == pytest.approx(r.wall_p50_ms - r.critical_ms)
        assert r.steps_ms <= r.wall_p50_ms
    base = {r.mode: r.wall_p50_ms for r in rows if r.tools == 1}
    assert all(r.ratio == pytest.approx(r.wall_p50_ms / base[r.mode]) for r in rows if r.tools)


def test_markdown_and_targets_name_every_configuration(rows) -> None:  # type: ignore[no-untyped-def]
    lines = markdown(rows).splitlines()
    assert len(lines) == 2 + len(rows)
    assert lines[2].startswith("| astream | direct | 0 | 0 |")
    assert lines[3].startswith("| astream | 1 | 50 | 50 |")
    assert lines[-1].startswith("| ainvoke | 4 | 50 | 50 |")
    text = "\n".join(targets(rows, max_calls=2))
    assert "tool runs of 1 to 2 calls" in text and "4 calls, 50 ms each" in text
    assert "direct answer" in text


async def test_its_own_services_and_no_patching(rows) -> None:  # type: ignore[no-untyped-def]
    assert bench_graph(4) is bench_graph(4)  # built once per tool count
    answer = await service(3).ainvoke({"ms": 1})
    assert answer == "service 3 answered after 1 ms"
    assert not {t.name for t in SHOP.tools} & {"service_1", "service_4"}
    # the fake models were in use for the runs only
    assert isinstance(client.chat_model(Context(), "router"), CompatChatOpenAI)
