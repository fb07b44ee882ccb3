"""agent-chat-ui in a real browser against `langgraph dev` on the embedded models.

`drive.mjs` asks the questions in chromium and reports what the page showed and when;
this file asserts on structure, not facts (the planner is a 1.5B model on 2 CPU cores):
something shows within 2 s of Enter, the tool calls and their results are rendered, the
answer streams in several DOM updates, a follow-up on the same thread is answered, and a
reload restores the thread.

A change behind approval: the run pauses, the page shows the pending call (agent-chat-ui
0.1.6, the one on npm, shows HumanInTheLoopMiddleware's request as a generic interrupt
card, for both graphs alike, with no decision buttons: the newer agent-chat-ui that has
them is not published), the decision goes through the API as a reviewer's tool sends it,
and the answer shows on the thread, the ticket written once.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.ui.conftest import CHROMIUM, HERE, LOGS, OUT, stop_group
from tools.shop_db import live_database

QUESTION = "How many urgent support tickets are open, and what is the first-response target for urgent tickets?"  # noqa: E501
FOLLOW_UP = "And how many high-priority tickets are open?"
CUSTOMER = "Blue Health Inc"
WRITE = f"Open a low-priority support ticket for {CUSTOMER}: they ask how to mount the ClearView 24 FHD on a wall."  # noqa: E501
APPROVE = {"decisions": [{"type": "approve"}]}
VISIBLE_WITHIN_MS = 2000
TURN_TIMEOUT_S = 240


@dataclass(frozen=True)
class Case:
    questions: list[str]
    agent_shows_within_2_s: bool  # the agent's own first content, not just the page's echo


CASES = {
    # The fast agent streams a planning notice at once, then each call and result.
    "fast_agent": Case([QUESTION, FOLLOW_UP], agent_shows_within_2_s=True),
    # The ReAct baseline shows nothing of its own until its first model call ends.
    "react_agent": Case([QUESTION], agent_shows_within_2_s=False),
}


def drive(
    graph: str, questions: list[str], ui_url: str, api_url: str, **extra: Any
) -> dict[str, Any]:
    """Run drive.mjs for one thread; return its report (with the seconds it took).

    `extra` goes to drive.mjs as is: `label` names the report and screenshots (default:
    the graph), `approve` the decision to resume a paused run with.
    """
    label = extra.get("label", graph)
    config = {
        "ui": ui_url, "api": api_url, "assistant": graph, "questions": questions,
        "out": str(OUT), "chromium": str(CHROMIUM), "turnTimeoutMs": TURN_TIMEOUT_S * 1000,
        "trace": True, **extra,
    }  # fmt: skip
    log = LOGS / f"drive-{label}.log"
    started = time.monotonic()
    with log.open("w") as err:
        process = subprocess.Popen(
            ["node", "drive.mjs", json.dumps(config)], cwd=HERE, stdout=subprocess.PIPE,
            stderr=err, text=True, start_new_session=True,
        )  # fmt: skip
        try:
            turns = len(questions) + ("approve" in extra)
            stdout, _ = process.communicate(timeout=TURN_TIMEOUT_S * turns + 120)
        except subprocess.TimeoutExpired:
            stop_group(process)  # SIGTERM first: playwright then closes its chromium
            pytest.fail(f"drive.mjs ({label}) did not end; see {log}", pytrace=False)
    if process.returncode:
        error = log.read_text().strip().splitlines()
        pytest.fail(
            f"drive.mjs ({label}) failed: {error[0] if error else '?'}\n"
            f"see {log} and the screenshots in {OUT}",
            pytrace=False,
        )
    report: dict[str, Any] = json.loads(stdout)
    report["run_s"] = round(time.monotonic() - started, 1)
    (OUT / f"{label}.json").write_text(json.dumps(report, indent=2))
    return report


@pytest.mark.parametrize("graph", CASES)
def test_agent_chat_ui_streams_a_thread(graph: str, ui_url: str, langgraph_dev: str) -> None:
    case = CASES[graph]
    report = drive(graph, case.questions, ui_url, langgraph_dev)
    where = f"(report: {OUT / f'{graph}.json'})"
    assert not report["page_errors"], f"the page threw {report['page_errors']} {where}"

    for number, turn in enumerate(report["turns"], start=1):
        label = f"{graph} turn {number} {where}"
        # Something is visible at once: the page shows its dots and the question, and the
        # fast agent streams its own first content (the planning notice) within 2 s too.
        changed = turn["first_change_ms"]
        assert changed is not None and changed <= VISIBLE_WITHIN_MS, f"{changed} ms: {label}"
        if case.agent_shows_within_2_s:
            shown = turn["first_agent_content_ms"]
            assert shown is not None and shown <= VISIBLE_WITHIN_MS, f"{shown} ms: {label}"
        # The answer is rendered and grew over several DOM updates (it streamed).
        assert turn["answer"].strip(), f"no answer: {label}"
        assert turn["answer_dom_updates"] >= 3, f"the answer did not stream: {label}"
        assert turn["first_answer_token_ms"] < turn["final_answer_ms"], label
        # Every tool card has its result card, rendered before the answer starts.
        assert len(turn["tool_results"]) == len(turn["tool_cards"]), label
        if turn["tool_cards"]:
            assert turn["first_tool_card_ms"] <= turn["first_tool_result_ms"], label
            assert turn["first_tool_result_ms"] <= turn["first_answer_token_ms"], label
    assert report["turns"][0]["tool_cards"], f"the first question used no tool {where}"

    # A reload of the thread's URL shows the same messages, read back from the server.
    reload = report["reload"]
    humans = [row for row in reload["rows"] if row["k"] == "h"]
    assert len(humans) == len(case.questions), f"reload restored {humans} {where}"
    assert reload["same"], f"the reloaded thread differs {where}"


def tickets(database: Path) -> list[tuple[Any, ...]]:
    """Return the tickets the packaged data lacks (ids over 600) of the live copy."""
    assert live_database() == database  # made if no test has written yet
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as conn:
        return conn.execute(
            "SELECT t.id, c.name, t.priority, t.status FROM support_tickets t "
            "JOIN customers c ON c.id = t.customer_id WHERE t.id > 600"
        ).fetchall()


@pytest.mark.parametrize("graph", CASES)
def test_agent_chat_ui_shows_a_pending_approval(
    graph: str, ui_url: str, langgraph_dev: str, shop_database: Path
) -> None:
    before = tickets(shop_database)
    label = f"{graph}-approval"
    report = drive(graph, [WRITE], ui_url, langgraph_dev, label=label, approve=APPROVE)
    where = f"(report: {OUT / f'{label}.json'})"
    assert not report["page_errors"], f"the page threw {report['page_errors']} {where}"
    [turn] = report["turns"]
    assert turn["first_change_ms"] is not None and turn["first_change_ms"] <= VISIBLE_WITHIN_MS
    assert not turn["answer"], f"answered before the approval: {turn['answer']!r} {where}"

    # The page showed the pending call: the request's action, its arguments, the decisions.
    approval = report["approval"]
    pending = approval["pending"]
    for shown in ("action_requests", "open_ticket", CUSTOMER, "review_configs", "approve"):
        assert shown in pending, f"{shown!r} not in the page's interrupt card {where}"
    assert (OUT / f"{label}-approval-pending.png").exists()

    # Approved, the call ran once and the answer shows on the thread.
    rows = approval["rows"]
    assert [r["k"] for r in rows].count("t") == 1, f"one tool result: {rows} {where}"
    assert approval["answer"].strip(), f"no answer after the approval {where}"
    new = [row for row in tickets(shop_database) if row not in before]
    assert [row[1:] for row in new] == [(CUSTOMER, "low", "open")], new
