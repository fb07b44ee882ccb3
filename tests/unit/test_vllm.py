"""The vLLM pieces that need no server: the launch, metrics, load math."""

import subprocess
import sys
from pathlib import Path

import pytest

from evals.harness import metrics
from evals.harness.dataset import GROUPS
from evals.workloads import load
from serving import vllm_cpu
from serving.models import ModelError
from serving.process import free_port, kill_pid_file, write_pid


def test_vllm_launch_has_the_agent_flags(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{}")
    server = vllm_cpu.VllmServer(tmp_path, "qwen2.5-coder-0.5b", port=8123, kv_cache_gib=2)
    command = server.command()
    joined = " ".join(command)
    for flag in (
        "--enable-prefix-caching",
        "--enable-prompt-tokens-details",
        "--enable-auto-tool-choice --tool-call-parser hermes",
        "--served-model-name qwen2.5-coder-0.5b",
        "--port 8123",
        "--max-num-seqs 16",
        "--block-size 32",
    ):
        assert flag in joined
    assert command[:3] == [str(vllm_cpu.venv_python()), "-m", "vllm.entrypoints.openai.api_server"]
    assert server.environment()["VLLM_CPU_KVCACHE_SPACE"] == "2"
    assert server.base_url == "http://127.0.0.1:8123/v1"


def test_vllm_launch_without_a_converted_model_says_what_to_run(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="serving.vllm_cpu convert"):
        vllm_cpu.VllmServer(tmp_path / "nothing", "m").command()


def test_graph_env_points_every_tier_at_the_one_server() -> None:
    env = vllm_cpu.graph_env(8011)
    assert env["LLM_BASE_URL"] == "http://127.0.0.1:8011/v1"
    assert {env[f"{t}_MODEL"] for t in ("ROUTER", "PLANNER", "SYNTHESIZER")} == {
        vllm_cpu.MODEL.alias
    }


def test_down_stops_a_detached_process_group(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True
    )
    pid_file = tmp_path / "run" / "x.pid"
    write_pid(pid_file, process)  # type: ignore[arg-type]
    assert kill_pid_file(pid_file, grace=5)
    assert process.wait(timeout=5) != 0
    assert not pid_file.exists()
    assert not kill_pid_file(pid_file)  # nothing left to stop


METRICS = """# HELP vllm:prefix_cache_hits_total Prefix cache hits, in tokens.
# TYPE vllm:prefix_cache_hits_total counter
vllm:prefix_cache_hits_total{engine="0",model_name="a"} 900.0
vllm:prefix_cache_hits_total{engine="1",model_name="a"} 100.0
vllm:prefix_cache_queries_total{engine="0",model_name="a"} 1200.0
vllm:num_requests_running{engine="0"} 3
garbage line
"""


def test_metrics_are_summed_over_label_sets() -> None:
    values = metrics.parse(METRICS)
    assert values[metrics.PREFIX_HITS] == 1000.0
    assert values[metrics.PREFIX_QUERIES] == 1200.0
    assert values["vllm:num_requests_running"] == 3


def test_hit_rate_is_the_ratio_of_the_counters_increases() -> None:
    before = {metrics.PREFIX_HITS: 100.0, metrics.PREFIX_QUERIES: 200.0}
    after = {metrics.PREFIX_HITS: 1000.0, metrics.PREFIX_QUERIES: 1200.0}
    assert metrics.prefix_cache_hit_rate(before, after) == pytest.approx(0.9)
    assert metrics.prefix_cache_hit_rate({}, {}) is None  # no vLLM metrics: n/a
    assert metrics.prefix_cache_hit_rate(after, after) is None  # no prompt tokens in between


def test_metrics_url_is_beside_the_api() -> None:
    assert metrics.metrics_url("http://h:8000/v1") == "http://h:8000/metrics"
    assert metrics.metrics_url("http://h:8000/v1/") == "http://h:8000/metrics"


async def test_a_server_without_metrics_reads_as_empty() -> None:
    assert await metrics.scrape(f"http://127.0.0.1:{free_port()}/v1", timeout=1) == {}


def test_percentile_interpolates() -> None:
    assert load.percentile([], 50) is None
    assert load.percentile([10.0], 95) == 10.0
    assert load.percentile([1.0, 2.0, 3.0, 4.0, 5.0], 50) == 3.0
    assert load.percentile([0.0, 100.0], 95) == pytest.approx(95.0)


def test_load_questions_are_tool_questions_cycled_to_n() -> None:
    questions = load.pick_questions(40)
    assert len(questions) == 40
    assert {q.group for q in questions} == set(load.TOOL_GROUPS) and set(load.TOOL_GROUPS) < set(
        GROUPS
    )
    assert len({q.id for q in questions}) < 40  # more runs than one-tool pairs: cycled


def _row(e2e: float, error: str | None = None) -> dict[str, object]:
    return {
        "error": error, "correct": error is None, "e2e_ms": e2e, "ttft_ms": [100.0, 300.0],
        "itl_ms": [50.0], "tokens_out": 10,
    }  # fmt: skip


def test_a_phase_summary_counts_errors_and_keeps_them_out_of_latency() -> None:
    phase = load.Phase([_row(1000.0), _row(3000.0), _row(9e9, "TimeoutError: x")], wall_s=4.0)
    summary = phase.summary()
    assert (summary["runs"], summary["errors"], summary["correct"]) == (3, 1, 2)
    assert summary["e2e_p50_ms"] == 2000.0
    assert summary["ttft_p50_ms"] == 200.0 and summary["itl_p50_ms"] == 50.0
    assert summary["tokens_out_per_s"] == 5.0 and summary["runs_per_min"] == 30.0
    assert summary["error_messages"] == ["TimeoutError: x"]


def test_render_states_the_scaled_target_and_a_missing_hit_rate() -> None:
    phase = load.Phase([_row(1000.0)], wall_s=1.0).summary()
    result = {
        "label": "x", "concurrency": 4, "servers": ["s"], "models": ["m"],
        "single": phase, "concurrent": phase,
        "engine": {"decode_tok_s_1": 10.0, "decode_tok_s_4": 20.0, "batching_gain": 2.0,
                   "scale": 2.0},
        "prefix_cache_hit_rate": None,
        "targets": {"zero_errors": True, "p95_bound_ms": 3000.0, "p95_within_bound": True},
    }  # fmt: skip
    text = load.render(result)
    assert "n/a (the server has no vLLM /metrics) over the single phase" in text
    assert "1,000 ms vs 3,000 ms: met" in text
    assert "batching gain 2.0x of an ideal 4x" in text
