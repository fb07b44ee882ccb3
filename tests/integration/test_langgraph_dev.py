"""End to end through a real `langgraph dev` server, with the LangGraph SDK, as chat UIs call it."""

from __future__ import annotations

from typing import Any

from langgraph_sdk import get_client

from tools.query_database import run_query

QUESTION = "How many urgent support tickets are open, and what is the first-response target for urgent tickets?"  # noqa: E501
FOLLOW_UP = "And how many high-priority tickets are open?"
OPEN_URGENT_SQL = (
    "SELECT COUNT(*) FROM support_tickets WHERE priority = 'urgent' AND status = 'open'"
)


def user(text: str) -> dict[str, Any]:
    """A user message as chat UIs send it: content as a list of parts."""
    return {"type": "human", "content": [{"type": "text", "text": text}]}


async def stream_turn(client: Any, thread_id: str, graph: str, text: str) -> dict[str, Any]:
    out: dict[str, Any] = {"tokens": [], "steps": [], "tool_calls": 0, "tool_results": 0}
    async for part in client.runs.stream(
        thread_id,
        graph,
        input={"messages": [user(text)]},
        stream_mode=["messages-tuple", "custom", "values"],
    ):
        if part.event == "messages":
            message, meta = part.data
            if message.get("type") == "tool":
                out["tool_results"] += 1
            elif message.get("tool_call_chunks") or message.get("tool_calls"):
                out["tool_calls"] += 1
            elif message.get("content") and not str(message.get("id")).startswith("plan_"):
                out["tokens"].append((meta["langgraph_node"], message["content"]))
        elif part.event == "custom":
            out["steps"].append((part.data["event"], part.data.get("step")))
        elif part.event == "error":
            raise AssertionError(part.data)
    return out


async def test_two_turns_of_a_thread_stream_through_langgraph_dev(
    langgraph_dev: str, checks_answers: bool
) -> None:
    client = get_client(url=langgraph_dev)
    assistants = await client.assistants.search(graph_id="fast_agent")
    assert assistants, "fast_agent is not served"
    thread = await client.threads.create()

    first = await stream_turn(client, thread["thread_id"], "fast_agent", QUESTION)
    assert len(first["tokens"]) > 1 and {node for node, _ in first["tokens"]} == {
        "synthesize_answer"
    }
    assert ("step_end", "plan_and_call_tools") in first["steps"]
    assert first["tool_calls"] and first["tool_results"]

    state = (await client.threads.get_state(thread["thread_id"]))["values"]
    assert {r["tool"] for r in state["tool_results"]} >= {"query_database", "search_docs"}
    assert [t["step"] for t in state["timings"]][0] == "route_query"
    answer = state["messages"][-1]["content"]
    assert answer.strip()
    if checks_answers:
        expected = run_query(OPEN_URGENT_SQL).splitlines()[1]
        assert expected in answer and "1 hour" in answer, answer

    # The second turn of the thread (content as a list again) is answered too.
    second = await stream_turn(client, thread["thread_id"], "fast_agent", FOLLOW_UP)
    assert second["tokens"], second
    state = (await client.threads.get_state(thread["thread_id"]))["values"]
    humans = [m for m in state["messages"] if m["type"] == "human"]
    assert len(humans) == 2 and state["messages"][-1]["type"] == "ai"
    assert state["messages"][-1]["content"].strip()
    assert all(t["turn"] == 2 for t in state["timings"])


async def test_the_baseline_answers_a_content_list_through_langgraph_dev(
    langgraph_dev: str,
) -> None:
    client = get_client(url=langgraph_dev)
    thread = await client.threads.create()
    out = await stream_turn(
        client, thread["thread_id"], "react_agent", "How many customers do we have in total?"
    )
    state = (await client.threads.get_state(thread["thread_id"]))["values"]
    assert state["messages"][-1]["type"] == "ai" and state["messages"][-1]["content"].strip()
    assert any(m["type"] == "tool" for m in state["messages"]), state["messages"]
    assert out["tool_results"]
