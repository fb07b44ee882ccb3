"""End to end through a real `langgraph dev` server, with the LangGraph SDK."""

from __future__ import annotations

from langgraph_sdk import get_client

QUESTION = "How many urgent support tickets are open, and what is the first-response target for urgent tickets?"  # noqa: E501
OPEN_URGENT_SQL = (
    "SELECT COUNT(*) FROM support_tickets WHERE priority = 'urgent' AND status = 'open'"
)


async def test_stream_a_run_through_langgraph_dev(langgraph_dev: str, checks_answers: bool) -> None:
    from tools.query_database import run_query

    client = get_client(url=langgraph_dev)
    assistants = await client.assistants.search(graph_id="fast_agent")
    assert assistants, "fast_agent is not served"
    thread = await client.threads.create()

    tokens, steps = [], []
    async for part in client.runs.stream(
        thread["thread_id"],
        "fast_agent",
        input={"messages": [{"role": "user", "content": QUESTION}]},
        stream_mode=["messages-tuple", "custom", "values"],
    ):
        if part.event == "messages" and part.data[0].get("content"):
            tokens.append((part.data[1]["langgraph_node"], part.data[0]["content"]))
        elif part.event == "custom":
            steps.append((part.data["event"], part.data.get("step")))
        elif part.event == "error":
            raise AssertionError(part.data)

    assert len(tokens) > 1 and {node for node, _ in tokens} == {"synthesize_answer"}
    assert ("step_end", "plan_tools") in steps and ("step_end", "synthesize_answer") in steps

    state = (await client.threads.get_state(thread["thread_id"]))["values"]
    assert {r["tool"] for r in state["tool_results"]} >= {"query_database", "search_docs"}
    assert [t["step"] for t in state["timings"]][0] == "route_query"
    answer = state["messages"][-1]["content"]
    assert answer.strip()
    if checks_answers:
        expected = run_query(OPEN_URGENT_SQL).splitlines()[1]
        assert expected in answer and "1 hour" in answer, answer
