"""How much a request would store: its messages and characters, measured before anything is kept.

`deploy.auth` refuses a request over the operator's ceilings (`MAX_INPUT_MESSAGES`,
`MAX_INPUT_CHARS`) before the server stores or checkpoints any of it. The measure does not
care what shape the content has: every string anywhere in the value counts its
characters (message text, content-part lists, tool-call arguments, dictionary keys), and
every other item (a number, `true`, `null`, an empty list) counts one. Counting stops as
soon as the ceiling is passed, so even a huge input is measured in at most `limit + 1` steps.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

_END = object()


class InputTooLargeError(ValueError):
    """A request carries more than the operator allows; the message names the setting."""


def chars_in(value: object, limit: int) -> int:
    """Return the characters of text in a JSON-like value, or a number above `limit`.

    Args:
        value: a parsed JSON value (dicts, lists, strings, numbers, booleans, None).
        limit: counting stops once the count passes it.
    """
    total = 0
    stack: list[Iterator[Any]] = [iter((value,))]
    while stack:
        item = next(stack[-1], _END)
        if item is _END:
            stack.pop()
            continue
        if isinstance(item, str):
            total += max(len(item), 1)
        elif isinstance(item, dict):
            total += 1
            stack.append(_keys_and_values(item))
        elif isinstance(item, list | tuple):
            total += 1
            stack.append(iter(item))
        else:
            total += 1
        if total > limit:
            return total
    return total


def messages_in(value: object) -> int:
    """Return how many messages a run's input or state update carries under `messages`."""
    messages = value.get("messages") if isinstance(value, dict) else None
    if messages is None:
        return 0
    return len(messages) if isinstance(messages, list) else 1


def check_messages(run: dict[str, Any], where: str, max_messages: int) -> None:
    """Refuse a run whose input (with any state update its `command` carries) has too many messages.

    Raises:
        InputTooLargeError: naming the count, the limit and its setting.
    """
    command = run.get("command")
    update = command.get("update") if isinstance(command, dict) else None
    count = messages_in(run.get("input")) + messages_in(update)
    if count > max_messages:
        raise InputTooLargeError(
            f"{where}: the input has {count:,} messages; the limit is {max_messages:,} "
            "(MAX_INPUT_MESSAGES)"
        )


def check_chars(value: object, where: str, max_chars: int) -> None:
    """Refuse a value with more characters of text than `max_chars`.

    Raises:
        InputTooLargeError: naming the limit and its setting.
    """
    if chars_in(value, max_chars) > max_chars:
        raise InputTooLargeError(
            f"{where}: more than {max_chars:,} characters; the limit is {max_chars:,} "
            "(MAX_INPUT_CHARS)"
        )


def _keys_and_values(mapping: dict[Any, Any]) -> Iterator[Any]:
    for key, child in mapping.items():
        yield key
        yield child
