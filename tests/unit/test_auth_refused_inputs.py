"""The refused-inputs measurement's pieces: the oversized request and the memory reading."""

import json
import os

from evals.workloads.refused_inputs import memory_mb, oversized_body


def test_the_oversized_request_carries_its_megabytes_in_earlier_turns() -> None:
    body = oversized_body(1.0)
    assert 1_000_000 <= len(body) < 1_001_000
    messages = json.loads(body)["input"]["messages"]
    assert [m["type"] for m in messages] == ["human", "ai", "human"]
    assert len(messages[-1]["content"]) < 100  # the question itself is short


def test_memory_is_read_now_and_at_peak() -> None:
    memory = memory_mb(os.getpid())
    assert 0 < memory["VmRSS"] <= memory["VmHWM"]
