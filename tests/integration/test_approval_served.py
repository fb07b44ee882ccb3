"""An approved write through `langgraph dev` and the SDK, on the embedded models: both graphs.

Each graph is asked to open a support ticket: the run pauses with langchain's
`HumanInTheLoopMiddleware` request (nothing written yet), the test approves it with
`command={"resume": {"decisions": [{"type": "approve"}]}}`, the answer follows, and the
served process's live copy of the shop's database (`SHOP_DB_PATH`) holds one new ticket,
written once. The round trip from the resume to the answer is printed (`-s`).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from langgraph_sdk import get_client
from langgraph_sdk.client import LangGraphClient

from evals.harness import dev_server
from tools import INTERRUPT_ON
from tools.shop_db import reset_database

CUSTOMER, PRIORITY = "Blue Labs Group", "medium"
QUESTIONS = {
    "fast_agent": f"Open a {PRIORITY}-priority support ticket for {CUSTOMER}: their ClearView "
    "27 QHD monitor flickers at 144 Hz.",
    "react_agent": f"Please open a {PRIORITY}-priority support ticket for {CUSTOMER}: their "
    "AirLink Pro Access Point keeps dropping clients.",
}
APPROVE = {"decisions": [{"type": "approve"}]}
ANSWER_NODES = {"synthesize_answer", "answer_directly", "model"}


@pytest.fixture(scope="module")
def served(dev_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Serve both graphs over a live database copy of their own; yield (URL, its path)."""
    folder = tmp_path_factory.mktemp("approval-dev")
    database = folder / "shop.db"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SHOP_DB_PATH", str(database))
        reset_database()  # the pristine data, in WAL mode, before the server opens it
    env = {**dev_env, "SHOP_DB_PATH": str(database)}
    with dev_server.langgraph_dev(folder / "dev.log", jobs=None, env=env) as (url, _):
        yield url, database


def tickets(database: Path) -> list[tuple[Any, ...]]:
    """Return the tickets no packaged row has (ids over 600), and the ledger's writes (if any)."""
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as conn:
        rows = conn.execute(
            "SELECT t.id, c.name, t.priority, t.status, t.subject FROM support_tickets t "
            "JOIN customers c ON c.id = t.customer_id WHERE t.id > 600"
        ).fetchall()
        made = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'tool_writes'").fetchone()
        ledger = conn.execute("SELECT tool, key FROM tool_writes").fetchall() if made else []
    return [*rows, *(("ledger", tool, key) for tool, key in ledger)]


async def run(
    client: LangGraphClient, thread: str, graph: str, **what: Any
) -> tuple[dict[str, Any], float, float | None]:
    """Stream one run; return its last values, its seconds, and when its answer began."""
    started = time.perf_counter()
    values: dict[str, Any] = {}
    first_token = None
    async for part in client.runs.stream(
        thread, graph, stream_mode=["values", "messages-tuple"], **what
    ):
        if part.event == "values":
            values = part.data
        elif part.event == "messages" and first_token is None:
            chunk, meta = part.data
            if chunk.get("content") and meta.get("langgraph_node") in ANSWER_NODES:
                first_token = time.perf_counter() - started
    return values, time.perf_counter() - started, first_token


@pytest.mark.parametrize("graph", QUESTIONS)
async def test_an_approved_write_runs_once_through_langgraph_dev(
    graph: str, served: tuple[str, Path], checks_answers: bool
) -> None:
    url, database = served
    client = get_client(url=url)
    thread = (await client.threads.create())["thread_id"]
    before = tickets(database)
    question = {"messages": [{"role": "user", "content": QUESTIONS[graph]}]}
    _, asked_s, _ = await run(client, thread, graph, input=question)

    # Paused on the call, in HumanInTheLoopMiddleware's request shape; nothing written.
    state = await client.threads.get_state(thread)
    [pending] = state["interrupts"]
    [action] = pending["value"]["action_requests"]
    assert action["name"] == "open_ticket", pending
    assert action["args"]["customer"] == CUSTOMER and action["args"]["priority"] == PRIORITY
    assert action["description"].startswith(str(INTERRUPT_ON["open_ticket"]["description"]))  # type: ignore[index]
    assert pending["value"]["review_configs"] == [
        {"action_name": "open_ticket", "allowed_decisions": ["approve", "edit", "reject"]}
    ]
    assert tickets(database) == before, "written before it was approved"

    resumed_at = time.time()
    values, resumed_s, first_token_s = await run(client, thread, graph, command={"resume": APPROVE})
    steps = [
        f"{t['step']} {t['ms']:,.0f} ms"
        + "".join(f" {k}={t[k]:,.0f}" for k in ("ttft_ms", "tokens_out") if t.get(k) is not None)
        for t in values.get("timings", [])
        if t["start"] >= resumed_at
    ]
    print(  # noqa: T201
        f"\n{graph}: question -> pause {asked_s * 1000:,.0f} ms; approval round trip "
        f"(resume -> answer) {resumed_s * 1000:,.0f} ms, first answer token at "
        f"{(first_token_s or 0) * 1000:,.0f} ms; answer {len(values['messages'][-1]['content'])}"
        f" chars; after the resume: {'; '.join(steps) or '-'}"
    )
    state = await client.threads.get_state(thread)
    assert not state["interrupts"] and not state["next"], state["interrupts"]
    new = [row for row in tickets(database) if row not in before]
    [ticket] = [row for row in new if row[0] != "ledger"]
    assert ticket[1:4] == (CUSTOMER, PRIORITY, "open"), ticket
    assert [row[:2] for row in new if row[0] == "ledger"] == [("ledger", "open_ticket")]

    messages = values["messages"]
    calls = [c for m in messages if m["type"] == "ai" for c in m.get("tool_calls") or []]
    assert [c["name"] for c in calls] == ["open_ticket"], calls  # asked once, not re-planned
    [result] = [m for m in messages if m["type"] == "tool"]
    assert f'"ticket_id": {ticket[0]}' in str(result["content"]), result
    if graph == "fast_agent":  # one plan, then the approved round: no planning again
        steps = [t["step"] for t in values["timings"] if t.get("turn") == 1]
        assert steps.count("plan_and_call_tools") == 1 and "approve_calls" in steps, steps
        [written] = [r for r in values["tool_results"] if r["tool"] == "open_ticket"]
        assert written["ok"] and written["data"]["ticket_id"] == ticket[0], written
    answer = messages[-1]
    assert answer["type"] == "ai" and answer["content"], answer
    if checks_answers:
        assert str(ticket[0]) in answer["content"], answer["content"]
