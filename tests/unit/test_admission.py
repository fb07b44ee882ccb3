"""A busy llama.cpp server: calls wait for a free slot, in turn between callers.

The gate is tested alone (which call gets a slot, in what order), then through the
client against a fake llama.cpp server on 127.0.0.1 (`evals.simulated.slot_server`) with 2 slots
and 0.4 s an answer; a one-node graph stands for a served run, its caller named in the
config as the API server names it.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import HumanMessage
from langgraph.graph import START, StateGraph
from langgraph.runtime import Runtime

from core.context import Context
from core.settings import Settings, use_settings
from core.state import State
from core.steps import step
from evals.simulated.slot_server import SlotServer
from serving import admission
from serving.admission import FairGate, share_of
from serving.client import ModelCallError
from serving.stack import aegra
from serving.stack.layout import StackLayout

SLOTS, SECONDS = 2, 0.4
LONG_SECONDS = 1.5  # two event loops' calls overlap within one answer, however loaded the machine


# --- the gate alone ---


async def waiting(gate: FairGate, caller: str, granted: list[str], name: str) -> None:
    await gate.acquire(caller)
    granted.append(name)


async def queue(
    gate: FairGate, *calls: tuple[str, str]
) -> tuple[list[str], list[asyncio.Task[None]]]:
    """Queue calls (caller, name) in this order; return what got a slot and the tasks."""
    granted: list[str] = []
    tasks = []
    for caller, name in calls:
        tasks.append(asyncio.create_task(waiting(gate, caller, granted, name)))
        await asyncio.sleep(0)
    return granted, tasks


async def test_a_newcomer_gets_the_next_free_slot_before_the_floods_queued_calls() -> None:
    gate = FairGate(2)
    granted, _ = await queue(gate, ("B", "B1"), ("B", "B2"), ("B", "B3"), ("B", "B4"), ("A", "A1"))
    assert granted == ["B1", "B2"]
    gate.release("B")
    await asyncio.sleep(0)
    assert granted == ["B1", "B2", "A1"]  # A holds none, B one: A's turn
    gate.release("B")
    await asyncio.sleep(0)
    assert granted == ["B1", "B2", "A1", "B3"]  # B's calls keep their order


async def test_callers_take_turns_the_one_served_longest_ago_first() -> None:
    gate = FairGate(1)
    granted, _ = await queue(
        gate, ("B", "B1"), ("B", "B2"), ("B", "B3"), ("C", "C1"), ("A", "A1"), ("C", "C2")
    )
    for holder in ["B", "C", "A", "B", "C"]:
        gate.release(holder)
        await asyncio.sleep(0)
    assert granted == ["B1", "C1", "A1", "B2", "C2", "B3"]


async def test_a_capped_caller_waits_while_a_slot_is_free_for_others() -> None:
    gate = FairGate(3, per_caller=1)
    granted, _ = await queue(gate, ("B", "B1"), ("B", "B2"), ("A", "A1"))
    assert granted == ["B1", "A1"] and gate.free == 1  # B is at its cap
    gate.release("B")
    await asyncio.sleep(0)
    assert granted == ["B1", "A1", "B2"]


async def test_a_call_cancelled_while_it_waits_leaves_its_line_and_takes_no_slot() -> None:
    gate = FairGate(1)
    granted, tasks = await queue(gate, ("B", "B1"), ("A", "A1"), ("A", "A2"))
    tasks[1].cancel()
    await asyncio.gather(tasks[1], return_exceptions=True)
    gate.release("B")
    await asyncio.sleep(0)
    assert granted == ["B1", "A2"]
    gate.release("A")
    assert gate.free == 1 and not gate.held and not gate.lines


async def test_a_call_granted_as_it_is_cancelled_hands_its_slot_on() -> None:
    gate = FairGate(1)
    granted, tasks = await queue(gate, ("B", "B1"), ("A", "A1"), ("C", "C1"))
    gate.release("B")  # A's turn: granted, but it has not run yet...
    tasks[1].cancel()  # ...and never will
    await asyncio.gather(tasks[1], return_exceptions=True)
    await asyncio.sleep(0)
    assert granted == ["B1", "C1"] and dict(gate.held) == {"C": 1}


async def test_a_cancelled_waiter_is_skipped_before_it_leaves_its_line() -> None:
    gate = FairGate(1)
    granted, tasks = await queue(gate, ("B", "B1"), ("A", "A1"), ("C", "C1"))
    tasks[1].cancel()  # its wait is cancelled at once; it leaves its line when it runs
    gate.release("B")
    await asyncio.gather(tasks[1], return_exceptions=True)
    await asyncio.sleep(0)
    assert granted == ["B1", "C1"] and dict(gate.held) == {"C": 1} and not gate.lines


@pytest.mark.parametrize(
    ("slots", "processes", "share"),
    [(4, 1, 4), (4, 2, 2), (5, 2, 2), (4, 3, 1), (2, 4, 1), (4, 0, 4)],
)
def test_each_api_process_admits_an_equal_share_of_the_slots_at_least_one(
    slots: int, processes: int, share: int
) -> None:
    assert share_of(slots, processes) == share
    assert share * max(1, processes) <= slots or share == 1


# --- through the client, on a fake llama.cpp server ---


@step("answer")
async def answer(state: State, runtime: Runtime[Context]) -> dict[str, Any]:
    from serving import client

    reply = await client.stream_answer(runtime.context, "synthesizer", state.messages)
    return {"messages": [reply]}


GRAPH = StateGraph(State, context_schema=Context).add_node(answer).add_edge(START, "answer")
RUN = GRAPH.compile()


async def ask(caller: str, question: str, context: Context | None = None) -> dict[str, Any]:
    """One run of `caller` (as the API server names it), asking one question."""
    config = {"configurable": {"langgraph_auth_user_id": caller}}
    inputs = {"messages": [HumanMessage(question)]}
    return await RUN.ainvoke(inputs, config, context=context or Context())  # type: ignore[arg-type]


@pytest.fixture
def server() -> Iterator[SlotServer]:
    with SlotServer(SLOTS, SECONDS) as fake:
        yield fake
    admission._slots.pop(fake.url, None)


def on(fake: SlotServer, **overrides: float) -> Settings:
    url = fake.url
    return Settings(
        router_base_url=url, planner_base_url=url, synthesizer_base_url=url,
        llm_backend="llama_cpp", **overrides,  # type: ignore[arg-type]
    )  # fmt: skip


async def flood_then(
    fake: SlotServer, flood: int, **overrides: float
) -> tuple[list[Any], dict[str, Any] | BaseException]:
    """B asks `flood` questions at once; once they are all in, A asks one."""
    with use_settings(on(fake, **overrides)):
        floods = [asyncio.create_task(ask("key-B", f"B{i}")) for i in range(flood)]
        await asyncio.sleep(0.1)
        a = (await asyncio.gather(ask("key-A", "A"), return_exceptions=True))[0]
        return await asyncio.gather(*floods, return_exceptions=True), a


async def test_calls_beyond_the_slots_wait_and_none_spends_its_deadline_waiting(
    server: SlotServer,
) -> None:
    # 6 calls on 2 slots take 3 x 0.4 s; each call's own deadline (0.9 s) is shorter.
    with use_settings(on(server)):
        runs = [ask("local", f"q{i}", Context(llm_timeout_seconds=0.9)) for i in range(6)]
        results = await asyncio.gather(*runs, return_exceptions=True)
    assert all(isinstance(r, dict) for r in results), results
    assert server.most == SLOTS


async def test_a_wait_longer_than_the_operator_allows_says_the_server_is_busy(
    server: SlotServer,
) -> None:
    with use_settings(on(server, max_queue_seconds=0.2)):
        results = await asyncio.gather(
            *(ask("local", f"q{i}") for i in range(4)), return_exceptions=True
        )
    busy = [r for r in results if isinstance(r, ModelCallError)]
    assert len(busy) == 2
    assert "is busy: no free slot within 0.2 s (2 calls at once, MAX_QUEUE_SECONDS)" in str(busy[0])


async def test_a_server_that_does_not_say_its_slots_gets_every_call_at_once() -> None:
    with SlotServer(SLOTS, SECONDS, props=False) as fake, use_settings(on(fake)):
        results = await asyncio.gather(*(ask("local", f"q{i}") for i in range(4)))
    assert all(isinstance(r, dict) for r in results)
    assert fake.most == 2  # all 4 were sent: the server queued 2 of them itself
    assert fake.url not in admission._slots or admission._slots[fake.url] is None


async def test_a_caller_gets_the_next_free_slot_before_a_floods_queued_calls(
    server: SlotServer,
) -> None:
    floods, a = await flood_then(server, 4)
    assert isinstance(a, dict) and all(isinstance(b, dict) for b in floods)
    assert server.order.index("A") in (2, 3)  # after B's first two, not after all four
    [timing] = a["timings"]
    assert timing["model_calls"][0]["queue_ms"] > 0  # it waited, and its timing says so


async def test_a_caller_never_fails_busy_while_another_holds_more_than_its_share(
    server: SlotServer,
) -> None:
    # B's 8 calls need 1.6 s on 2 slots; A may wait 1 s: enough for one of B's calls.
    floods, a = await flood_then(server, 8, max_queue_seconds=1.0)
    assert isinstance(a, dict), a
    assert any(isinstance(b, ModelCallError) for b in floods)  # B's own flood waits too long


async def test_a_call_that_did_not_wait_records_no_wait(server: SlotServer) -> None:
    with use_settings(on(server)):
        state = await ask("key-A", "A")
    assert state["timings"][0]["model_calls"][0]["queue_ms"] < SECONDS * 1000


async def test_the_operators_cap_keeps_a_slot_for_another_caller(server: SlotServer) -> None:
    floods, a = await flood_then(server, 3, max_slots_per_caller=1)
    assert isinstance(a, dict) and all(isinstance(b, dict) for b in floods)
    assert server.order[1] == "A"  # B held one slot; A took the other at once


async def test_a_caller_at_its_cap_is_told_so(server: SlotServer) -> None:
    with use_settings(on(server, max_slots_per_caller=1, max_queue_seconds=0.2)):
        results = await asyncio.gather(
            ask("key-B", "B0"), ask("key-B", "B1"), return_exceptions=True
        )
    [busy] = [r for r in results if isinstance(r, ModelCallError)]
    assert "hold 1 of its 2 slots, the most one caller may (MAX_SLOTS_PER_CALLER)" in str(busy)
    assert server.most == 1


async def test_a_run_cancelled_while_it_waits_takes_no_slot_with_it(server: SlotServer) -> None:
    with use_settings(on(server)):
        holders = [asyncio.create_task(ask("key-B", f"B{i}")) for i in range(2)]
        await asyncio.sleep(0.1)
        waiting = asyncio.create_task(ask("key-A", "cancelled"))
        await asyncio.sleep(0.1)
        waiting.cancel()
        await asyncio.gather(*holders, waiting, return_exceptions=True)
        gate = admission._gates[asyncio.get_running_loop()][server.url]
        assert gate.free == SLOTS and not gate.held and not gate.lines
        await asyncio.gather(ask("key-A", "after"), ask("key-C", "after too"))
    assert "cancelled" not in server.order and server.most == SLOTS


class SentAtOnce:
    """Stands in for a fake server's slots, counting the requests it holds, queued ones too."""

    def __init__(self, slots: threading.Semaphore) -> None:
        self.slots, self.lock = slots, threading.Lock()
        self.now = self.most = 0

    def __enter__(self) -> None:
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)
        self.slots.acquire()

    def __exit__(self, *exc: object) -> None:
        self.slots.release()
        with self.lock:
            self.now -= 1


def two_processes(fake: SlotServer, processes: int) -> list[Any]:
    """Two event loops in two threads, a gate each, as two API processes; 4 calls each.

    Both send their calls once both loops run: a thread started late on a loaded machine
    would otherwise find the other's calls answered already.
    """
    results: list[Any] = []
    both_running = threading.Barrier(2)

    async def one_process(name: str) -> None:
        await asyncio.to_thread(both_running.wait, 30)
        with use_settings(on(fake, api_processes=processes)):
            runs = [ask(f"key-{name}", f"{name}{i}") for i in range(4)]
            results.extend(await asyncio.gather(*runs, return_exceptions=True))

    threads = [threading.Thread(target=asyncio.run, args=(one_process(n),)) for n in "AB"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def test_two_api_processes_each_admit_half_so_the_server_gets_no_more_than_its_slots() -> None:
    with SlotServer(4, LONG_SECONDS) as fake:
        sent = fake.slot = SentAtOnce(fake.slot)  # type: ignore[assignment]
        results = two_processes(fake, processes=2)
    admission._slots.pop(fake.url, None)
    assert len(results) == 8 and all(isinstance(r, dict) for r in results), results
    assert sent.most == 4 and fake.most == 4  # each process held 2 of the 4 slots


def test_two_api_processes_each_told_it_is_alone_send_the_server_twice_its_slots() -> None:
    with SlotServer(4, LONG_SECONDS) as fake:
        sent = fake.slot = SentAtOnce(fake.slot)  # type: ignore[assignment]
        results = two_processes(fake, processes=1)
    admission._slots.pop(fake.url, None)
    assert all(isinstance(r, dict) for r in results), results
    assert sent.most == 8  # 4 of them waited in the server's queue, their deadlines running


async def test_a_busy_process_says_it_holds_its_share(server: SlotServer) -> None:
    with use_settings(on(server, max_queue_seconds=0.2, api_processes=2)):
        results = await asyncio.gather(
            *(ask("local", f"q{i}") for i in range(2)), return_exceptions=True
        )
    [busy] = [r for r in results if isinstance(r, ModelCallError)]
    assert "(1 calls at once from each of 2 API processes, MAX_QUEUE_SECONDS)" in str(busy)
    assert server.most == 1


def test_the_stack_tells_each_api_process_how_many_share_the_servers(tmp_path: Path) -> None:
    layout = StackLayout(api_ports=(2301, 2302, 2303), run_dir=tmp_path, root=tmp_path)
    env = aegra.server_env(layout)
    assert env["API_PROCESSES"] == "3"
    assert Settings.from_env(env).api_processes == 3
