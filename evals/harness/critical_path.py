"""The critical-path bound of a question's calls, and the one token count every report uses."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

CHARS_PER_TOKEN = 4


def tokens(text: str) -> int:
    """Count tokens as the simulation does, for every graph alike: 4 characters a token."""
    return max(1, math.ceil(len(text) / CHARS_PER_TOKEN))


class TimedCall(NamedTuple):
    """One of a question's calls: its inputs, its plan line's tokens, and how long it took."""

    number: int
    deps: list[int]
    tokens: int
    reads: bool  # a reader must derive one of its values: a model call after its inputs
    ms: float


def chain_of(calls: Sequence[TimedCall], ttft_ms: float = 0.0, per_token_ms: float = 0.0) -> float:
    """Return when the last of the calls ends, each starting once its inputs have ended.

    With a model speed, a call also waits for its own line to be written (a first token,
    then its tokens, from the run's start; a call whose value a reader derives, from the
    end of its inputs): the earliest any agent that writes its calls with a model could
    run it.
    """
    finish: dict[int, float] = {}
    for call in calls:  # inputs come first
        inputs = max((finish[d] for d in call.deps), default=0.0)
        written = ttft_ms + (call.tokens - 1) * per_token_ms if ttft_ms else 0.0
        start = inputs + written if call.reads else max(inputs, written)
        finish[call.number] = start + call.ms
    return max(finish.values(), default=0.0)
