"""The overhead benchmark: the real graph, fake models, a fixed-latency tool fanned out N ways."""

import pytest

from evals.overhead import fixed_latency_service, markdown, run_benchmark
from serving import client
from tools import TOOLS


@pytest.fixture(scope="module")
def rows():  # type: ignore[no-untyped-def]
    return run_benchmark(reps=3, latencies_ms=(50.0,), tool_counts=(1, 4), warmup=1)


def test_one_row_per_mode_and_tool_count(rows) -> None:  # type: ignore[no-untyped-def]
    assert [(r.mode, r.tools, r.latency_ms) for r in rows] == [
        ("astream", 1, 50.0),
        ("astream", 4, 50.0),
        ("ainvoke", 1, 50.0),
        ("ainvoke", 4, 50.0),
    ]
    assert all(len(r.walls_ms) == 3 for r in rows)


def test_tool_branches_overlap_in_every_run(rows) -> None:  # type: ignore[no-untyped-def]
    # From the branches' own start/end stamps: all N were running at one instant.
    assert all(r.overlapped_runs == 3 for r in rows)


def test_overhead_is_wall_minus_critical_path(rows) -> None:  # type: ignore[no-untyped-def]
    for r in rows:
        assert r.critical_ms == 50.0  # the fake models take no time
        assert r.wall_p50_ms <= r.wall_p95_ms
        assert r.overhead_ms == pytest.approx(r.wall_p50_ms - r.critical_ms)
        assert r.steps_ms <= r.wall_p50_ms
    base = {r.mode: r.wall_p50_ms for r in rows if r.tools == 1}
    assert all(r.ratio == pytest.approx(r.wall_p50_ms / base[r.mode]) for r in rows)


def test_markdown_has_a_row_per_configuration(rows) -> None:  # type: ignore[no-untyped-def]
    lines = markdown(rows).splitlines()
    assert len(lines) == 2 + len(rows)
    assert lines[2].startswith("| astream | 1 | 50 | 50 |")
    assert lines[-1].startswith("| ainvoke | 4 | 50 | 50 |")


def test_fakes_are_removed_afterwards(rows) -> None:  # type: ignore[no-untyped-def]
    assert fixed_latency_service.name not in TOOLS
    assert client.chat_model.__module__ == "serving.client"
    assert client.backend_of.__module__ == "serving.client"
