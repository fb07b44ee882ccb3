"""What nodes read from the conversation: the query (validated) and the earlier turns.

A LangGraph client may send a message's content as a string or as a list of parts
(chat UIs send `[{"type": "text", "text": ...}]`); both read as text here. The models
see earlier turns as plain question/answer pairs: the plan's tool-call messages and
tool results of earlier turns are for the client, not for the prompts.
"""

from __future__ import annotations

from langchain_core.messages import AIMessage, AnyMessage, HumanMessage

from core.context import Context
from core.settings import settings
from core.state import State
from serving.compat import UnsupportedContentError, content_text

HISTORY = 4  # messages of earlier turns the planner, synthesizer and direct answers see


class InvalidInputError(ValueError):
    """The run's input cannot be answered: no question, an empty one, or too long a one."""


def last_user_text(state: State, context: Context) -> str:
    """Return the text of the last user message (the query), checked before any model call.

    Raises:
        InvalidInputError: no user message, an empty or oversized one, or non-text content.
    """
    for message in reversed(state.messages):
        if isinstance(message, HumanMessage):
            break
    else:
        raise InvalidInputError(
            "the input has no user message: send {'messages': [{'role': 'user', ...}]}"
        )
    try:
        text = content_text(message.content).strip()
    except UnsupportedContentError as err:
        raise InvalidInputError(f"the question cannot be read: {err}") from None
    if not text:
        raise InvalidInputError("the question is empty: ask something")
    limit = settings().max_query_chars
    if len(text) > limit:
        raise InvalidInputError(
            f"the question has {len(text):,} characters; the limit is {limit:,} (MAX_QUERY_CHARS)"
        )
    return text


def earlier_turns(state: State) -> list[AnyMessage]:
    """Return the last few question/answer messages before the query, as plain text.

    Only user messages and final answers count (no tool calls, no tool results);
    list content becomes text, and parts that are not text are left out.
    """
    turns: list[AnyMessage] = []
    humans = [i for i, m in enumerate(state.messages) if isinstance(m, HumanMessage)]
    query = humans[-1] if humans else len(state.messages)  # its plan and results come after it
    for message in state.messages[:query]:
        if isinstance(message, HumanMessage):
            turns.append(HumanMessage(_text_only(message.content), id=message.id))
        elif isinstance(message, AIMessage) and not message.tool_calls:
            text = _text_only(message.content)
            if text.strip():
                turns.append(AIMessage(text, id=message.id))
    return turns[-HISTORY:]


def _text_only(content: str | list[str | dict[str, object]]) -> str:
    if isinstance(content, str):
        return content
    parts = [p if isinstance(p, str) else p.get("text") for p in content]
    return "\n".join(str(p) for p in parts if isinstance(p, str) and p)
