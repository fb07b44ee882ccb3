"""The shop's writes: its live copy of the database, the write tools, their keys and approval."""

from __future__ import annotations

import asyncio
import hashlib
import json
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from langchain.agents import create_agent
from langchain.agents.middleware import HumanInTheLoopMiddleware
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.tools import BaseTool
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command
from pydantic import ValidationError

from core.context import Context
from engine.language.parser import Task
from engine.scheduler.call_tool import call_tool
from tools import INTERRUPT_ON, SHOP, open_ticket, query_database, request_refund, shop_db
from tools.shop_db import (
    ENV_VAR,
    PRISTINE,
    WriteRefusedError,
    live_database,
    live_path,
    reset_database,
)


@pytest.fixture(autouse=True)
def pristine() -> None:
    """Start every test from the packaged data."""
    reset_database()


def rows(sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(f"file:{live_database()}?mode=ro", uri=True)) as conn:
        return conn.execute(sql, params).fetchall()


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


async def call(
    tool: BaseTool, args: dict[str, Any], call_id: str, config: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Call a tool as a model's tool call (the injected id arrives); return its JSON answer."""
    message = await tool.ainvoke(
        {"name": tool.name, "args": args, "id": call_id, "type": "tool_call"}, config
    )
    return json.loads(message.content)  # type: ignore[no-any-return]


TICKET = {"customer": "Initech", "subject": "Forge 16 fan is loud", "priority": "high"}
REFUND = {"order_id": 1394, "amount": 150, "reason": "Scratched lid"}


# --- the live copy --------------------------------------------------------------------------


def test_the_live_copy_is_made_on_first_use_where_the_operator_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = sha256(PRISTINE)
    target = tmp_path / "state" / "shop.db"
    monkeypatch.setenv(ENV_VAR, str(target))
    assert live_path() == target and not target.exists()
    assert live_database() == target
    with closing(sqlite3.connect(target)) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert conn.execute("SELECT COUNT(*) FROM support_tickets").fetchone() == (600,)
    assert sha256(PRISTINE) == before
    assert sorted(p.name for p in target.parent.iterdir()) == ["shop.db"]  # nothing left aside


def test_the_default_is_the_user_cache_never_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_VAR)
    monkeypatch.setenv("XDG_CACHE_HOME", "/var/cache/someone")
    assert live_path() == Path("/var/cache/someone/fast-agent/shop.db")
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert live_path() == Path.home() / ".cache" / "fast-agent" / "shop.db"
    monkeypatch.setenv(ENV_VAR, str(PRISTINE))
    with pytest.raises(ValueError, match="must not be the packaged database"):
        live_path()


def test_copies_made_at_the_same_time_end_as_one(tmp_path: Path) -> None:
    """Each process builds its copy aside and links it into place: the first link wins."""
    target = tmp_path / "shop.db"
    with ThreadPoolExecutor(4) as pool:  # what four processes would do, without the lock
        list(pool.map(shop_db._create, [target] * 4))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shop.db"]
    with closing(sqlite3.connect(target)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)


async def test_a_reset_puts_the_packaged_data_back_under_open_readers() -> None:
    await call(open_ticket, TICKET, "c1")
    await call(request_refund, REFUND, "c2")
    reader = sqlite3.connect(f"file:{live_database()}?mode=ro", uri=True)
    try:
        assert reader.execute("SELECT COUNT(*) FROM support_tickets").fetchone() == (601,)
        reset_database()
        assert reader.execute("SELECT COUNT(*) FROM support_tickets").fetchone() == (600,)
        assert reader.execute("SELECT COUNT(*) FROM refund_requests").fetchone() == (0,)
    finally:
        reader.close()
    assert rows("PRAGMA journal_mode") == [("wal",)]
    # The ledger went with the data: the same ids write again.
    assert (await call(open_ticket, TICKET, "c1"))["ticket_id"] == 601


async def test_query_database_reads_the_live_copy_read_only() -> None:
    before = sha256(PRISTINE)
    await call(open_ticket, TICKET, "c1")
    text = await query_database.ainvoke({"sql": "SELECT MAX(id) AS last FROM support_tickets"})
    assert text.splitlines()[1] == "601"
    with pytest.raises(sqlite3.Error, match="not authorized"):
        await query_database.ainvoke({"sql": "DELETE FROM support_tickets"})
    with pytest.raises(sqlite3.Error):
        await query_database.ainvoke({"sql": "INSERT INTO refund_requests VALUES (1)"})
    assert rows("SELECT COUNT(*) FROM support_tickets") == [(601,)]
    assert sha256(PRISTINE) == before


async def test_readers_and_writers_together_lose_nothing() -> None:
    reads = [
        query_database.ainvoke({"sql": "SELECT COUNT(*) AS n FROM support_tickets"})
        for _ in range(20)
    ]
    writes = [call(open_ticket, {**TICKET, "subject": f"Issue {n}"}, f"c{n}") for n in range(20)]
    retries = [call(request_refund, REFUND, "same") for _ in range(10)]
    done = await asyncio.gather(*reads, *writes, *retries)
    counts = [int(text.splitlines()[1]) for text in done[:20]]
    assert all(600 <= n <= 620 for n in counts)
    assert sorted(answer["ticket_id"] for answer in done[20:40]) == list(range(601, 621))
    assert len({json.dumps(answer) for answer in done[40:]}) == 1  # ten retries, one answer
    assert rows("SELECT COUNT(*) FROM support_tickets") == [(620,)]
    assert rows("SELECT COUNT(*) FROM refund_requests") == [(1,)]


# --- open_ticket ------------------------------------------------------------------------------


async def test_open_ticket_inserts_an_open_ticket_and_answers_its_id() -> None:
    answer = await call(
        open_ticket, {**TICKET, "customer": " initech ", "subject": "Forge 16\n fan  is loud"}, "c1"
    )
    assert answer["ticket_id"] == 601 and answer["customer"] == "Initech"
    assert answer["subject"] == "Forge 16 fan is loud" and answer["status"] == "open"
    assert rows(
        "SELECT c.name, t.priority, t.status, t.subject, t.closed_at FROM support_tickets t "
        "JOIN customers c ON c.id = t.customer_id WHERE t.id = 601"
    ) == [("Initech", "high", "open", "Forge 16 fan is loud", None)]


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        ({"customer": "Initek"}, WriteRefusedError, "no customer is named 'Initek' .*'Initech'"),
        ({"customer": "Wayne Enterprises"}, WriteRefusedError, "no customer .*; nothing was"),
        ({"subject": "  \n "}, WriteRefusedError, "the subject is empty"),
        ({"subject": "x" * 201}, WriteRefusedError, "201 characters long; the limit is 200"),
        ({"subject": "bell\x07"}, WriteRefusedError, "control characters"),
        ({"priority": "asap"}, ValidationError, "'low', 'medium', 'high' or 'urgent'"),
        ({"customer": None}, ValidationError, "customer"),
    ],
)
async def test_open_ticket_refuses_bad_input_and_writes_nothing(
    args: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        await call(open_ticket, {**TICKET, **args}, "c1")
    assert rows("SELECT COUNT(*) FROM support_tickets") == [(600,)]
    assert rows("SELECT COUNT(*) FROM sqlite_master WHERE name = 'tool_writes'") == [(0,)]


def test_a_write_tool_needs_a_tool_call_id() -> None:
    with pytest.raises(ValueError, match="ToolCall"):
        asyncio.run(open_ticket.ainvoke(TICKET))


# --- request_refund ---------------------------------------------------------------------------


async def test_request_refund_records_a_request_and_what_is_left() -> None:
    answer = await call(request_refund, REFUND, "r1")
    assert answer == {
        "refund_request_id": 1, "order_id": 1394, "customer": "Initech", "amount": 150.0,
        "order_amount": 2199.0, "left_to_refund": 2049.0, "status": "requested",
        "requested_at": answer["requested_at"],
    }  # fmt: skip
    assert rows("SELECT order_id, amount, reason, status FROM refund_requests") == [
        (1394, 150.0, "Scratched lid", "requested")
    ]
    assert rows("SELECT status FROM orders WHERE id = 1394") == [("delivered",)]  # not paid yet
    second = await call(request_refund, {**REFUND, "amount": 2049}, "r2")  # the rest: allowed
    assert second["left_to_refund"] == 0.0
    with pytest.raises(WriteRefusedError, match=r"\$2,199.00, \$2,199.00 of it already .* \$0.00"):
        await call(request_refund, {**REFUND, "amount": 0.01}, "r3")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"amount": 2500}, r"order 1394 was for \$2,199.00: at most \$2,199.00 can still be"),
        ({"order_id": 99999}, "there is no order 99999"),
        ({"order_id": 44}, "order 44 was cancelled"),
        ({"order_id": 1946}, "order 1946 has not shipped yet"),
        ({"order_id": 12}, "order 12 was already refunded"),
        ({"amount": 0}, "more than 0"),
        ({"amount": -5}, "more than 0"),
        ({"amount": float("nan")}, "more than 0"),
        ({"amount": 10.005}, "whole cents"),
        ({"reason": ""}, "the reason is empty"),
        ({"reason": "x" * 501}, "the limit is 500"),
    ],
)
async def test_request_refund_refuses_what_the_order_does_not_allow(
    args: dict[str, Any], message: str
) -> None:
    with pytest.raises(WriteRefusedError, match=message):
        await call(request_refund, {**REFUND, **args}, "r1")
    assert rows("SELECT COUNT(*) FROM refund_requests") == [(0,)]


# --- idempotency ------------------------------------------------------------------------------


async def test_the_same_call_id_twice_writes_once_and_answers_the_same() -> None:
    first = await call(open_ticket, TICKET, "call_k_1")
    again = await call(open_ticket, TICKET, "call_k_1")
    assert first == again
    refund = await call(request_refund, REFUND, "call_k_2")
    assert await call(request_refund, REFUND, "call_k_2") == refund
    assert rows("SELECT COUNT(*) FROM support_tickets") == [(601,)]
    assert rows("SELECT COUNT(*) FROM refund_requests") == [(1,)]


async def test_the_same_call_id_with_other_arguments_is_refused() -> None:
    await call(request_refund, REFUND, "call_k_1")
    with pytest.raises(WriteRefusedError, match="already used for another change"):
        await call(request_refund, {**REFUND, "amount": 99}, "call_k_1")
    with pytest.raises(WriteRefusedError, match="already used for another change"):
        await call(open_ticket, TICKET, "call_k_1")  # another tool, the same id
    assert rows("SELECT amount FROM refund_requests") == [(150.0,)]


async def test_call_ids_are_scoped_to_the_thread_and_the_caller() -> None:
    def config(thread: str, user: str) -> dict[str, Any]:
        return {"configurable": {"thread_id": thread, "langgraph_auth_user_id": user}}

    a = await call(open_ticket, TICKET, "call_k_1", config("t1", "alice"))
    b = await call(open_ticket, TICKET, "call_k_1", config("t2", "alice"))
    c = await call(open_ticket, TICKET, "call_k_1", config("t1", "mallory"))
    assert await call(open_ticket, TICKET, "call_k_1", config("t1", "alice")) == a
    assert [a["ticket_id"], b["ticket_id"], c["ticket_id"]] == [601, 602, 603]
    keys = [key for (key,) in rows("SELECT key FROM tool_writes")]
    assert all(len(key) == 64 and "call_k_1" not in key for key in keys)  # hashed


async def test_the_fast_agents_calls_carry_their_stable_id() -> None:
    """`call_tool` sends `call_<run_key>_<index>`: a retried run's call writes nothing again."""
    args = {"customer": "Acme Corp", "subject": "Dock disconnects", "priority": "urgent"}
    results = []
    for _ in range(2):
        results.append(
            await call_tool(
                Task(1, "open_ticket", args),
                args,
                domain=SHOP,
                context=Context(),
                config={},
                run_key="k",
                timings=[],
            )  # fmt: skip
        )
    assert [r["ok"] for r in results] == [True, True]
    assert results[0]["data"] == results[1]["data"] and results[0]["data"]["ticket_id"] == 601
    assert rows("SELECT COUNT(*) FROM support_tickets") == [(601,)]
    refused = await call_tool(
        Task(2, "request_refund", REFUND), {**REFUND, "order_id": 44}, domain=SHOP,
        context=Context(), config={}, run_key="k", timings=[],
    )  # fmt: skip
    assert refused["status"] == "error"
    assert refused["output"].startswith("WriteRefusedError: order 44 was cancelled")


# --- the policy -------------------------------------------------------------------------------


def test_every_write_needs_approval_and_no_read_does() -> None:
    assert SHOP.interrupt_on is INTERRUPT_ON
    for name in SHOP.tool_names:
        assert SHOP.needs_approval(name) == (not SHOP.is_read_only(name)), name
    for config in INTERRUPT_ON.values():  # nobody answers in a change's place
        assert isinstance(config, dict) and "respond" not in config["allowed_decisions"]
        assert {"approve", "reject"} <= set(config["allowed_decisions"])


class ToolCalling(BaseChatModel):
    """Answers from a script of AIMessages (a model asking for tools, then answering)."""

    script: list[AIMessage]

    @property
    def _llm_type(self) -> str:
        return "tool-calling-script"

    def bind_tools(self, tools: Any, **kwargs: Any) -> Any:
        return self

    def _generate(self, messages: Any, stop: Any = None, run_manager: Any = None, **kw: Any) -> Any:
        return ChatResult(generations=[ChatGeneration(message=self.script.pop(0))])


EDITED = {**REFUND, "amount": 99}


def reviewed_agent(call_id: str) -> Any:
    """create_agent over the shop, paused by langchain's HITL middleware on the shop's policy."""
    asks = AIMessage("", tool_calls=[{"name": "request_refund", "args": REFUND, "id": call_id}])
    return create_agent(
        ToolCalling(script=[asks, AIMessage("Done.")]),
        list(SHOP.tools),
        middleware=[HumanInTheLoopMiddleware(dict(SHOP.interrupt_on))],  # type: ignore[arg-type]
        checkpointer=InMemorySaver(),
    )


@pytest.mark.parametrize(
    ("decision", "written"),
    [
        ({"type": "approve"}, [(150.0,)]),
        ({"type": "reject", "message": "Not without a photo."}, []),
        ({"type": "edit", "edited_action": {"name": "request_refund", "args": EDITED}}, [(99.0,)]),
    ],
    ids=["approve", "reject", "edit"],
)  # fmt: skip
async def test_a_refund_waits_for_a_persons_decision(
    decision: dict[str, Any], written: list[tuple[Any, ...]]
) -> None:
    agent = reviewed_agent("call_r_1")
    config: Any = {"configurable": {"thread_id": "t"}}
    question = {"messages": [{"role": "user", "content": "Refund $150 on order 1394."}]}
    await agent.ainvoke(question, config)
    [pause] = (await agent.aget_state(config)).interrupts
    policy: Any = INTERRUPT_ON["request_refund"]
    assert pause.value["action_requests"] == [
        {"name": "request_refund", "args": REFUND, "description": policy["description"]}
    ]
    assert pause.value["review_configs"][0]["allowed_decisions"] == ["approve", "edit", "reject"]
    assert rows("SELECT COUNT(*) FROM refund_requests") == [(0,)]  # nothing before the decision
    await agent.ainvoke(Command(resume={pause.id: {"decisions": [decision]}}), config)
    assert rows("SELECT amount FROM refund_requests") == written


async def test_nobody_may_answer_in_a_changes_place() -> None:
    agent = reviewed_agent("call_r_1")
    config: Any = {"configurable": {"thread_id": "t"}}
    await agent.ainvoke({"messages": [{"role": "user", "content": "Refund it."}]}, config)
    [pause] = (await agent.aget_state(config)).interrupts
    respond = {"decisions": [{"type": "respond", "message": "Refunded!"}]}
    with pytest.raises(ValueError, match="not allowed for tool 'request_refund'"):
        await agent.ainvoke(Command(resume={pause.id: respond}), config)
    assert rows("SELECT COUNT(*) FROM refund_requests") == [(0,)]


async def test_a_copy_older_than_the_shops_tables_says_how_to_fix_it() -> None:
    with closing(sqlite3.connect(live_database())) as conn:
        conn.execute("DROP TABLE refund_requests")
    with pytest.raises(sqlite3.OperationalError, match="predates this shop's tables.*reset it"):
        await call(request_refund, REFUND, "r1")
