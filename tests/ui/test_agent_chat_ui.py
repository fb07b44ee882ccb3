"""agent-chat-ui in a real browser against `langgraph dev` on the embedded models.

`drive.mjs` asks the questions in chromium and reports what the page showed and when;
this file asserts on structure, not facts (the planner is a 1.5B model on 2 CPU cores):
something shows within 2 s of Enter, the tool calls and their results are rendered, the
answer streams in several DOM updates, a follow-up on the same thread is answered, and a
reload restores the thread.
"""

from __future__ import annotations

import json
import subprocess
import time
from dataclasses import dataclass
from typing import Any

import pytest

from tests.ui.conftest import CHROMIUM, HERE, LOGS, OUT, stop_group

QUESTION = "How many urgent support tickets are open, and what is the first-response target for urgent tickets?"  # noqa: E501
FOLLOW_UP = "And how many high-priority tickets are open?"
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


def drive(graph: str, questions: list[str], ui_url: str, api_url: str) -> dict[str, Any]:
    """Run drive.mjs for one thread; return its report (with the seconds it took)."""
    config = {
        "ui": ui_url, "api": api_url, "assistant": graph, "questions": questions,
        "out": str(OUT), "chromium": str(CHROMIUM), "turnTimeoutMs": TURN_TIMEOUT_S * 1000,
        "trace": True,
    }  # fmt: skip
    log = LOGS / f"drive-{graph}.log"
    started = time.monotonic()
    with log.open("w") as err:
        process = subprocess.Popen(
            ["node", "drive.mjs", json.dumps(config)], cwd=HERE, stdout=subprocess.PIPE,
            stderr=err, text=True, start_new_session=True,
        )  # fmt: skip
        try:
            stdout, _ = process.communicate(timeout=TURN_TIMEOUT_S * len(questions) + 120)
        except subprocess.TimeoutExpired:
            stop_group(process)  # SIGTERM first: playwright then closes its chromium
            pytest.fail(f"drive.mjs ({graph}) did not end; see {log}", pytrace=False)
    if process.returncode:
        error = log.read_text().strip().splitlines()
        pytest.fail(
            f"drive.mjs ({graph}) failed: {error[0] if error else '?'}\n"
            f"see {log} and the screenshots in {OUT}",
            pytrace=False,
        )
    report: dict[str, Any] = json.loads(stdout)
    report["run_s"] = round(time.monotonic() - started, 1)
    (OUT / f"{graph}.json").write_text(json.dumps(report, indent=2))
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
