"""Reading the answer's prompt ahead: when a read goes out, what it holds, what it costs."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from langchain_core.tools import tool

from core.context import Context
from core.domain import Domain
from core.state import ToolResult
from engine.accelerators.read_ahead import ReadAhead
from graphs.fast_agent import build_graph
from serving import client
from tools import SHOP


@tool
async def slow_lookup(seconds: float) -> str:
    """Look something up, slowly."""
    await asyncio.sleep(seconds)
    return "found it"


DOMAIN = Domain(
    "Test", "A test.", "", tools=(*SHOP.tools, slow_lookup), route_examples=SHOP.route_examples
)


def result(index: int) -> ToolResult:
    return ToolResult(
        index=index, tool="t", args={}, ok=True, status="ok", output=f"value {index}",
        data=None, started_at=0.0, ended_at=0.0,
    )  # fmt: skip


class Reads:
    """A server that takes `seconds` to read; records what it was given."""

    def __init__(self, seconds: float = 0.0, fail: bool = False) -> None:
        self.seconds, self.fail = seconds, fail
        self.sent: list[list[int]] = []

    async def __call__(self, results: list[ToolResult]) -> bool:
        self.sent.append([r["index"] for r in results])
        await asyncio.sleep(self.seconds)
        if self.fail:
            raise client.ModelCallError("the synthesizer model at http://x timed out")
        return True


async def test_a_read_goes_out_only_while_calls_run_and_only_with_more_results() -> None:
    reads = Reads()
    ahead = ReadAhead(reads)
    ahead.update([], pending=True)  # nothing in yet
    ahead.update([result(1)], pending=True)
    await ahead.finish()
    ahead.update([result(1)], pending=True)  # nothing new
    ahead.update([result(1), result(2)], pending=False)  # the answer is next: no read
    await ahead.finish()
    assert reads.sent == [[1]]
    assert [t["step"] for t in ahead.timings] == ["read_ahead"]


async def test_one_read_at_a_time_and_the_answer_waits_for_it() -> None:
    reads = Reads(seconds=0.1)
    ahead = ReadAhead(reads)
    ahead.update([result(1)], pending=True)
    ahead.update([result(1), result(2)], pending=True)  # the first is still being read
    assert ahead.reading is not None and not ahead.reading.done()
    await ahead.finish()
    assert ahead.reading.done() and reads.sent == [[1]]


async def test_a_failed_read_costs_the_run_nothing_but_is_on_record() -> None:
    ahead = ReadAhead(Reads(fail=True))
    ahead.update([result(1)], pending=True)
    await ahead.finish()  # does not raise
    assert "timed out" in ahead.timings[0]["error"]


async def test_a_cancelled_run_stops_its_read() -> None:
    ahead = ReadAhead(Reads(seconds=10))
    ahead.update([result(1)], pending=True)
    await asyncio.sleep(0)
    await ahead.cancel()
    assert ahead.reading is not None and ahead.reading.cancelled()


@pytest.mark.parametrize("on", [True, False])
async def test_the_graph_reads_the_answers_start_while_a_slow_call_runs(  # type: ignore[no-untyped-def]
    scripted, monkeypatch: pytest.MonkeyPatch, on: bool
) -> None:
    plan = '1. calculator(expression="6 * 7")\n2. slow_lookup(seconds=0.3)\n3. join()'
    scripted(planner=[plan], synthesizer=["42."])
    read: list[list[str]] = []
    answered: list[list[str]] = []
    stream_answer = client.stream_answer

    async def read_prompt(context: Any, tier: str, messages: list[Any]) -> bool:
        read.append([m.content for m in messages])
        return True

    async def answer(context: Any, tier: str, messages: list[Any], **kwargs: Any) -> Any:
        answered.append([m.content for m in messages])
        return await stream_answer(context, tier, messages, **kwargs)

    monkeypatch.setattr(client, "read_prompt", read_prompt)
    monkeypatch.setattr(client, "stream_answer", answer)
    state = await build_graph(DOMAIN).ainvoke(
        {"messages": [{"role": "user", "content": "What is 6 times 7, and what does it find?"}]},
        context=Context(read_ahead=on),
    )
    if not on:
        assert read == [] and len(answered) == 1
        return
    [ahead], [whole] = read, answered
    assert ahead[:-1] == whole[:-1] and whole[-1].startswith(ahead[-1])  # the answer's start
    assert "42" in ahead[-1] and "found it" not in ahead[-1] and "found it" in whole[-1]
    assert [t["results"] for t in state["timings"] if t["step"] == "read_ahead"] == [1]
