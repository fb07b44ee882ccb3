"""Answer while planning: the direct answer begun beside the planner, taken or dropped."""

import asyncio
from typing import Any

import pytest
from langchain_core.messages import AIMessage

from core.context import Context
from engine.accelerators import early_answer
from serving import client
from tests.unit.test_fast_agent import run

UNSURE = Context(router_confidence=1.0)  # the classifier is never sure: the planner decides


@pytest.mark.parametrize(
    ("text", "call"),
    [
        ("", False),
        ("1", False),
        ("1. jo", False),
        ("1. join()\n", False),
        (" 1.join()\n\nQ: next", False),
        ("1. s", True),
        ('1. search_docs(query="x")', True),
        ("Thought: let me", True),
    ],
)
def test_a_plan_shows_a_call_once_it_is_not_join(text: str, call: bool) -> None:
    assert early_answer.plans_a_call(text) is call


async def test_deltas_replay_what_was_written_then_follow_the_rest() -> None:
    go = asyncio.Event()

    async def write(answer: early_answer.EarlyAnswer) -> AIMessage:
        answer.add("Hello")
        await go.wait()
        answer.add(", world")
        return AIMessage("Hello, world")

    key = early_answer.begin(write, 1)
    await asyncio.sleep(0)
    answer = early_answer.take(key)
    assert answer is not None and early_answer.take(key) is None  # taken once
    seen = []
    async for text in answer.deltas():
        seen.append(text)
        go.set()
    assert seen == ["Hello", ", world"]


async def test_a_failed_answer_raises_from_its_deltas() -> None:
    async def write(answer: early_answer.EarlyAnswer) -> AIMessage:
        raise RuntimeError("server down")

    answer = early_answer.take(early_answer.begin(write, 1))
    assert answer is not None
    with pytest.raises(RuntimeError, match="server down"):
        async for _ in answer.deltas():
            pass


async def test_cancel_stops_the_answer_and_forgets_it() -> None:
    async def write(answer: early_answer.EarlyAnswer) -> AIMessage:
        await asyncio.sleep(60)
        return AIMessage("never")

    key = early_answer.begin(write, 1)
    answer = early_answer._held.get()[key]
    await early_answer.cancel(key)
    assert answer.task.cancelled() and early_answer.take(key) is None
    await early_answer.cancel(None)  # nothing to cancel: nothing happens


async def test_an_answer_never_taken_is_dropped_later(monkeypatch: pytest.MonkeyPatch) -> None:
    async def write(answer: early_answer.EarlyAnswer) -> AIMessage:
        await asyncio.sleep(60)
        return AIMessage("never")

    stale = early_answer.begin(write, 1)
    answer = early_answer._held.get()[stale]
    monkeypatch.setattr(early_answer, "KEEP_SECONDS", -1.0)
    fresh = early_answer.begin(write, 1)
    await asyncio.sleep(0)
    assert early_answer.take(stale) is None and answer.task.cancelled()
    await early_answer.cancel(fresh)


def _router_calls(state: dict[str, Any]) -> list[dict[str, Any]]:
    [direct] = [t for t in state["timings"] if t["step"] == "answer_directly"]
    return direct["model_calls"]


async def test_with_no_call_planned_the_answer_began_with_the_planner(scripted) -> None:  # type: ignore[no-untyped-def]
    models = scripted(delay=0.05, planner=["1. join()"], router=["Paris is the capital of France."])
    out = await run("capital of France?", UNSURE)
    state = out["state"]
    assert sorted(models.calls) == ["planner", "router"]  # one answer call, not two
    assert state["messages"][-1].content == "Paris is the capital of France."
    assert "".join(t for _, t in out["tokens"]) == "Paris is the capital of France."
    assert {node for node, _ in out["tokens"]} == {"answer_directly"}
    [plan] = [t for t in state["timings"] if t["step"] == "plan_and_call_tools"]
    [call] = _router_calls(state)
    assert call["start"] < plan["end"]  # written while the planner decided
    assert plan["answer_while_planning"] is True
    assert state["early_answer"] is None
    assert [e for e in out["events"] if e["event"] == "first_token"]


async def test_with_a_call_planned_the_early_answer_never_reaches_anyone(scripted) -> None:  # type: ignore[no-untyped-def]
    plan = '1. calculator(expression="2+2")\n2. join()'
    models = scripted(
        delay=0.05, planner=[plan], router=["A guess nobody should see."], synthesizer=["It is 4."]
    )
    out = await run("2+2, please", UNSURE)
    state = out["state"]
    assert "router" in models.calls  # it began ...
    texts = [str(m.content) for _, m in out["messages"]] + [
        str(m.content) for m in state["messages"]
    ]
    assert not any("guess" in text for text in texts)  # ... and was dropped unseen
    assert state["messages"][-1].content == "It is 4."
    assert state["early_answer"] is None and early_answer._held.get() == {}


async def test_an_early_answer_that_failed_silently_is_asked_again(scripted) -> None:  # type: ignore[no-untyped-def]
    models = scripted(planner=["1. join()"], router=["", "Asked again."])  # "" fails: empty
    out = await run("capital of France?", UNSURE)
    assert models.calls.count("router") == 2
    assert out["state"]["messages"][-1].content == "Asked again."


async def test_switched_off_the_answer_waits_for_the_plan(scripted) -> None:  # type: ignore[no-untyped-def]
    models = scripted(planner=["1. join()"], router=["Paris."])
    context = Context(router_confidence=1.0, answer_while_planning=False)
    out = await run("capital of France?", context)
    assert models.calls == ["planner", "router"]
    assert out["state"]["messages"][-1].content == "Paris."
    assert "answered_while_planning" not in out["state"]["timings"][-1]


async def test_not_beside_a_planner_on_the_same_cores(scripted, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    async def same_cores(context: Context, *tiers: str) -> bool:
        return set(tiers) == {"router", "planner"}

    monkeypatch.setattr(client, "share_cores", same_cores)
    scripted(delay=0.05, planner=["1. join()"], router=["Paris."])
    out = await run("capital of France?", UNSURE)
    state = out["state"]
    [plan] = [t for t in state["timings"] if t["step"] == "plan_and_call_tools"]
    [call] = _router_calls(state)
    assert call["start"] >= plan["end"]  # one after the other
    assert plan["answer_while_planning"] is False
    assert state["messages"][-1].content == "Paris."


async def test_an_answer_that_only_repeats_the_question_is_never_shown(scripted) -> None:  # type: ignore[no-untyped-def]
    question = "How can I check if a file exists in Python?"
    models = scripted(router=[question], synthesizer=["Use os.path.exists(path)."])
    out = await run(question)
    assert models.calls == ["router", "synthesizer"]  # the larger tier answered instead
    assert "".join(t for _, t in out["tokens"]) == "Use os.path.exists(path)."
    assert out["state"]["messages"][-1].content == "Use os.path.exists(path)."
    [direct] = [t for t in out["state"]["timings"] if t["step"] == "answer_directly"]
    assert direct["echoed_question"] is True and len(direct["model_calls"]) == 2


async def test_a_reworded_question_back_is_not_an_answer_either(scripted) -> None:  # type: ignore[no-untyped-def]
    models = scripted(router=["How can I sort a list?"], synthesizer=["Use sorted(items)."])
    out = await run("How do I sort a list?")
    assert models.calls == ["router", "synthesizer"]
    assert out["state"]["messages"][-1].content == "Use sorted(items)."


async def test_a_short_answer_in_the_questions_words_is_kept(scripted) -> None:  # type: ignore[no-untyped-def]
    models = scripted(router=["The capital of Japan is Tokyo."])
    out = await run("what is the capital of Japan?", Context(router_confidence=0.0))
    assert models.calls == ["router"]
    assert "".join(t for _, t in out["tokens"]) == "The capital of Japan is Tokyo."


async def test_an_answer_that_starts_like_the_question_is_shown_whole(scripted) -> None:  # type: ignore[no-untyped-def]
    answer = "Hello there! How can I help?"
    models = scripted(router=[answer])
    out = await run("Hello there")
    assert models.calls == ["router"]
    assert "".join(t for _, t in out["tokens"]) == answer


async def test_an_early_answer_that_repeats_the_question_goes_to_the_larger_tier(scripted) -> None:  # type: ignore[no-untyped-def]
    question = "capital of France?"
    models = scripted(planner=["1. join()"], router=[question], synthesizer=["Paris."])
    out = await run(question, UNSURE)
    assert sorted(models.calls) == ["planner", "router", "synthesizer"]  # no second router call
    assert out["state"]["messages"][-1].content == "Paris."


async def test_a_held_answer_of_an_earlier_turn_never_answers_a_later_one(scripted) -> None:  # type: ignore[no-untyped-def]
    from langchain_core.messages import HumanMessage
    from langgraph.checkpoint.memory import InMemorySaver

    from graphs.fast_agent import build_graph
    from tools import SHOP

    async def stale(answer: early_answer.EarlyAnswer) -> AIMessage:
        answer.add("The answer to the first question.")
        return AIMessage("The answer to the first question.")

    models = scripted(router=["Hello! How can I help?"])
    graph = build_graph(SHOP)
    graph.checkpointer = InMemorySaver()
    config: Any = {"configurable": {"thread_id": "stale-held-answer"}}
    key = early_answer.begin(stale, 1)  # begun in turn 1, never taken (its run failed)
    await graph.aupdate_state(
        config,
        {"messages": [HumanMessage("first question"), AIMessage("")], "early_answer": key},
        as_node="answer_directly",
    )
    state = await graph.ainvoke(
        {"messages": [{"role": "user", "content": "Hello there"}]},
        config,
        context=Context(router_confidence=0.0),
    )
    assert state["messages"][-1].content == "Hello! How can I help?"
    assert models.calls == ["router"] and state["early_answer"] is None
    assert early_answer.take(key) is None  # dropped when the new question started
    assert early_answer.take(key, 1) is None
