"""Node: answer a query that needs no tools with the small model, streamed.

When the planner decided (the router was unsure), the answer may already be under way
(`engine.accelerators.early_answer`): it is streamed from there instead of asked for again.

A small model sometimes answers a question by repeating it, reworded or not ("How can I
...?"). Tokens that so far could be the question again are held back; an answer that
turns out to be a question in the question's words never reaches the user, and the larger
(synthesizer) tier answers instead.
"""

from __future__ import annotations

import re
import time
from functools import partial
from typing import Any

from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
)
from langgraph.graph.message import push_message
from langgraph.runtime import Runtime

from core.context import Context
from core.domain import Domain
from core.state import State, turn_of
from core.steps import emit, note, step
from engine.accelerators import early_answer
from engine.accelerators.early_answer import write_answer
from prompts.render import direct_messages
from serving import client

NOVEL_WORDS = 2  # words an answer may add to the question and still be the question again


@step("answer_directly")
async def answer_directly(
    state: State, runtime: Runtime[Context], *, domain: Domain
) -> dict[str, Any]:
    """Stream a short answer from the router tier, with the recent conversation."""
    context = runtime.context
    messages = direct_messages(state, context, domain)
    question = str(messages[-1].content)  # the query, read and checked by direct_messages
    message: AIMessage | None = None
    echoed = False  # the small model only repeated the question (nothing was shown)
    early = early_answer.take(state.early_answer, turn_of(state.messages))
    if early is not None:
        try:
            message = await _stream(early, question)
            echoed = message is None
        except client.ModelCallError:
            if early.shown:
                raise  # part of it reached the user: fail as any answer would
        finally:
            note(answered_while_planning=True, model_calls=early.details.get("model_calls", []))
    if message is None and not echoed:  # none begun, or it failed before a word was shown
        router = early_answer.start(partial(write_answer, context, "router", messages))
        message = await _stream(router, question)
        echoed = message is None
    if message is None:  # the larger tier answers what the small one only repeated
        note(echoed_question=True)
        fallback = early_answer.start(partial(write_answer, context, "synthesizer", messages))
        message = await _stream(fallback, None)
        if message is None:
            raise client.ModelCallError("the synthesizer tier streamed an empty answer")
    return {"messages": [message], "early_answer": None}


async def _stream(answer: early_answer.EarlyAnswer, question: str | None) -> AIMessage | None:
    """Stream an answer to the user as it is written; None if it only repeated `question`.

    Deltas that so far could be the question again are held until the answer says more.

    Raises:
        ModelCallError: the model call failed (`answer.shown` says if any of it was sent).
    """
    message_id = f"direct_{id(answer):x}"
    held: list[str] = []
    texts: list[str] = []

    def show() -> None:
        for piece in held:
            if not texts:
                answer.shown = True
                emit("first_token", ttft_ms=(time.time() - answer.started) * 1000)
            texts.append(piece)
            push_message(AIMessageChunk(content=piece, id=message_id), state_key=None)
        held.clear()

    async for text in answer.deltas():
        held.append(text)
        if question is None or texts or not _only_repeats("".join(held), question):
            show()
    if not texts and "".join(held).strip().endswith("?"):
        return None  # a question back, in the question's own words: not an answer
    show()  # a short answer in the question's words: shown whole
    if not texts:
        return None
    reply = answer.task.result()
    return AIMessage(content="".join(texts), id=message_id, usage_metadata=reply.usage_metadata)


def _only_repeats(text: str, question: str) -> bool:
    """Whether an answer's text so far could still be the question again, reworded.

    It could while it has at most `NOVEL_WORDS` words the question lacks, and not many
    more words than the question has.
    """
    said, asked = _words(text), set(_words(question))
    novel = [w for w in said if w not in asked]
    return len(novel) <= NOVEL_WORDS and len(said) <= len(asked) + NOVEL_WORDS


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())
