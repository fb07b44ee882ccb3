"""Measuring what a request would store: any content shape, counted in bounded steps."""

import pytest

from core.settings import Settings
from deploy.input_size import (
    InputTooLargeError,
    chars_in,
    check_chars,
    check_messages,
    messages_in,
)


def test_every_string_counts_its_characters_whatever_the_shape() -> None:
    assert chars_in("hello", 100) == 5
    # content parts, tool-call arguments, keys: all text is text
    parts = [{"type": "text", "text": "x" * 50}]
    assert chars_in(parts, 10**6) == 1 + 1 + len("type") + len("text") + len("text") + 50
    call = {"name": "t", "args": {"q": "y" * 70}}
    assert chars_in(call, 10**6) >= 70
    # anything else counts one, so a list of a million zeros is not free
    assert chars_in([0] * 1000, 10**6) == 1001


def test_counting_stops_once_past_the_limit() -> None:
    huge = [[]] * 5_000_000
    assert chars_in(huge, 1000) == 1001  # it stopped after 1,001 items, not 5 million
    assert chars_in({"a": "x" * 10**7}, 100) > 100


def test_deep_nesting_does_not_recurse() -> None:
    nested: object = "leaf"
    for _ in range(100_000):
        nested = [nested]
    assert chars_in(nested, 10**6) == 100_000 + 4


@pytest.mark.parametrize(
    ("value", "count"),
    [
        ({"messages": [{"type": "human", "content": "hi"}] * 3}, 3),
        ({"messages": {"type": "human", "content": "hi"}}, 1),
        ({"messages": "hi"}, 1),
        ({}, 0),
        (None, 0),
        ("not a dict", 0),
    ],
)
def test_messages_are_counted_in_any_shape(value: object, count: int) -> None:
    assert messages_in(value) == count


def test_a_command_that_updates_the_state_counts_with_the_input() -> None:
    run = {
        "input": {"messages": [{"type": "human", "content": "q"}] * 2},
        "command": {"update": {"messages": [{"type": "ai", "content": "a"}] * 2}},
    }
    check_messages(run, "run", 4)
    with pytest.raises(InputTooLargeError, match="4 messages; the limit is 3 .MAX_INPUT_MESSAGES"):
        check_messages(run, "run", 3)


def test_the_refusal_names_the_limit_and_its_setting() -> None:
    check_chars("x" * 10, "store item", 10)
    with pytest.raises(InputTooLargeError) as refused:
        check_chars("x" * 11, "store item", 10)
    assert str(refused.value) == (
        "store item: more than 10 characters; the limit is 10 (MAX_INPUT_CHARS)"
    )


def test_the_ceilings_are_operator_settings_from_the_environment() -> None:
    default = Settings()
    assert (default.max_input_messages, default.max_input_chars) == (200, 200_000)
    mine = Settings.from_env({"MAX_INPUT_MESSAGES": "50", "MAX_INPUT_CHARS": "1000"})
    assert (mine.max_input_messages, mine.max_input_chars) == (50, 1000)
    with pytest.raises(ValueError, match="MAX_INPUT_CHARS=0"):
        Settings(max_input_chars=0)
