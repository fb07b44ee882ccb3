"""A latency model of a GPU-served vLLM: chat models that answer as a correct model would.

`SimulatedModels` is a model factory for `serving.client.use_models`. What a call is
for is read from the request, never from prompt text: the tier it was made for,
whether tools are bound (the ReAct baseline), and the request's
`extra_body.structured_outputs` (`choice`: the router; `grammar`: the planner).
The words come from the question's `Oracle`; the timing is vLLM's for an 8B model on
one GPU (70 ms to the first token, then 8 ms a token), the same for every graph and
counted by the same rule (`evals.harness.critical_path.tokens`). A request of a shape the graphs
should not make raises `SimulationDriftError`, and every request is logged, so a test
sees at once when the graphs and the simulation drift apart. Figures are simulated
and labelled so.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    ToolMessage,
)
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool

from core.context import Context
from evals.harness.critical_path import CHARS_PER_TOKEN, tokens
from evals.harness.dataset import Question
from evals.simulated.oracle import Oracle, call_text

# vLLM's own benchmark for an 8B model on one GPU: TTFT about 70 ms, about 8 ms a token.
GPU_TTFT_S = 0.070
GPU_PER_TOKEN_S = 0.008
SEQUENTIAL = "react_sequential"  # the graph name that makes ReAct call one tool a turn
EXPECTED_TIER = {"route": "router", "plan": "planner"}


class SimulationDriftError(RuntimeError):
    """A graph made a model request of a shape the simulation does not know."""


class Request(NamedTuple):
    """One model request the simulation answered, for tests and the report."""

    question: str
    graph: str
    tier: str
    shape: str  # route, plan, tool_calls, answer, direct
    round: int  # the planner's round (plan requests), else 0


@dataclass
class _Run:
    """What the simulation knows about the run in progress."""

    oracle: Oracle
    graph: str
    planner_calls: int = 0


# The run in progress: set by `begin`, seen by the model calls of the tasks started after it.
_current: ContextVar[_Run | None] = ContextVar("simulated_run", default=None)


@dataclass
class SimulatedModels:
    """A model factory for `client.use_models` that answers every tier like a correct model.

    Call `begin(graph, question)` before each run; the run's model calls (in tasks
    started after it) answer for that question.
    """

    services_url: str
    ttft_s: float = GPU_TTFT_S
    per_token_s: float = GPU_PER_TOKEN_S
    requests: list[Request] = field(default_factory=list)
    _oracles: dict[str, Oracle] = field(default_factory=dict)

    def begin(self, graph: str, question: Question) -> None:
        """Answer the next run's calls for this question; `react_sequential`: one tool a turn."""
        if question.id not in self._oracles:
            self._oracles[question.id] = Oracle(question, self.services_url)
        _current.set(_Run(self._oracles[question.id], graph))

    def __call__(
        self, context: Context, tier: str, *, max_tokens: int | None = None, tools: bool = False
    ) -> BaseChatModel:
        """Return a chat model for one tier (`tools`: the ReAct baseline's)."""
        return SimulatedGPUChatModel(models=self, tier=tier, tools_bound=tools)

    def reply(
        self, tier: str, tools_bound: bool, messages: Sequence[BaseMessage], kwargs: dict[str, Any]
    ) -> AIMessage:
        """Return what a correct model says to one request, by the request's shape.

        Raises:
            SimulationDriftError: no run begun, or a request of an unknown shape.
        """
        run = _current.get()
        if run is None:
            raise SimulationDriftError("a model call outside a simulated run: call begin()")
        outputs = (kwargs.get("extra_body") or {}).get("structured_outputs") or {}
        shape = (
            "route" if "choice" in outputs
            else "plan" if "grammar" in outputs
            else "tool_calls" if tools_bound
            else {"synthesizer": "answer", "router": "direct"}.get(tier, "unknown")
        )  # fmt: skip
        if shape == "unknown" or EXPECTED_TIER.get(shape, tier) != tier:
            raise SimulationDriftError(
                f"the {tier} tier got a request of an unknown shape (structured outputs "
                f"{sorted(outputs)}, tools bound: {tools_bound}): the graph and the "
                "simulation drifted apart (evals/simulated/gpu.py)"
            )
        oracle = run.oracle
        round_number = 0
        if shape == "route":
            message = AIMessage(oracle.question.route)
        elif shape == "plan":
            run.planner_calls += 1
            round_number = run.planner_calls
            message = AIMessage(oracle.plan(round_number))
            _check_numbering(str(outputs["grammar"]), str(message.content))
        elif shape == "tool_calls":
            message = self._react_turn(oracle, run, messages)
        else:
            message = AIMessage(oracle.answer(_evidence(messages)))
        self.requests.append(Request(oracle.question.id, run.graph, tier, shape, round_number))
        return message

    def _react_turn(self, oracle: Oracle, run: _Run, messages: Sequence[BaseMessage]) -> AIMessage:
        done = sum(isinstance(m, ToolMessage) for m in _this_turn(messages))
        calls = oracle.next_turn(done, sequential=run.graph == SEQUENTIAL)
        if not calls:
            return AIMessage(oracle.answer(_evidence(messages)))
        tool_calls = [
            {"name": c.tool, "args": c.args, "id": f"call_{oracle.question.id}_{c.number}"}
            for c in calls
        ]
        return AIMessage("", tool_calls=tool_calls)

    def schedule(self, message: AIMessage) -> list[tuple[float, ChatGenerationChunk]]:
        """Return the reply's chunks, each with its delay from the request (seconds).

        Text streams a token (4 characters) at a time; tool calls arrive whole, once
        their tokens are written (the prebuilt agent waits for the whole message anyway).
        """
        if message.tool_calls:
            text = "\n".join(call_text(c["name"], c["args"]) for c in message.tool_calls)
            chunks = [
                {"name": c["name"], "args": json.dumps(c["args"]), "id": c["id"], "index": i}
                for i, c in enumerate(message.tool_calls)
            ]
            last = self.ttft_s + (tokens(text) - 1) * self.per_token_s
            pieces = [(last, AIMessageChunk(content="", tool_call_chunks=chunks))]  # type: ignore[arg-type]
        else:
            text = str(message.content)
            step = CHARS_PER_TOKEN
            pieces = [
                (self.ttft_s + i * self.per_token_s, AIMessageChunk(content=text[at : at + step]))
                for i, at in enumerate(range(0, len(text), step))
            ]
        return [(delay, ChatGenerationChunk(message=chunk)) for delay, chunk in pieces]


class SimulatedGPUChatModel(BaseChatModel):
    """One tier's chat model in the simulation; `SimulatedModels` decides what it says."""

    models: Any  # the SimulatedModels that made it
    tier: str
    tools_bound: bool = False

    @property
    def _llm_type(self) -> str:
        return "simulated-gpu"

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: str | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Return a copy that answers with tool calls (the ReAct baseline binds its tools)."""
        return self.model_copy(update={"tools_bound": bool(tools) or self.tools_bound})

    def _prepare(
        self, messages: list[BaseMessage], kwargs: dict[str, Any]
    ) -> tuple[list[tuple[float, ChatGenerationChunk]], dict[str, int]]:
        models: SimulatedModels = self.models
        message = models.reply(self.tier, self.tools_bound, messages, kwargs)
        pieces = models.schedule(message)
        calls = "\n".join(call_text(c["name"], c["args"]) for c in message.tool_calls)
        out = tokens(calls if message.tool_calls else str(message.content))
        prompt = tokens("".join(str(m.content) for m in messages))
        usage = {"input_tokens": prompt, "output_tokens": out, "total_tokens": prompt + out}
        return pieces, usage

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        pieces, usage = self._prepare(messages, kwargs)
        time.sleep(pieces[-1][0] if pieces else 0)
        return _result(pieces, usage)

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        pieces, usage = self._prepare(messages, kwargs)
        await asyncio.sleep(pieces[-1][0] if pieces else 0)
        return _result(pieces, usage)

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        pieces, usage = self._prepare(messages, kwargs)
        started = time.monotonic()
        for delay, chunk in pieces:
            time.sleep(max(0.0, started + delay - time.monotonic()))
            yield chunk
        yield _usage_chunk(usage)

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        pieces, usage = self._prepare(messages, kwargs)
        loop = asyncio.get_running_loop()
        started = loop.time()  # each chunk at its own time from the start: no drift
        for delay, chunk in pieces:
            await asyncio.sleep(max(0.0, started + delay - loop.time()))
            yield chunk
        yield _usage_chunk(usage)


def _check_numbering(grammar: str, plan: str) -> None:
    """Refuse a plan whose first line the grammar would not let a server's decoder write.

    Raises:
        SimulationDriftError: the grammar numbers the round's lines from another number.
    """
    first = re.search(r'^line1 ::= "(\d+)\. "', grammar, re.MULTILINE)
    if first is not None and not plan.startswith(f"{first[1]}. "):
        raise SimulationDriftError(
            f"the plan grammar's first line is {first[1]}., the plan's is "
            f"{plan.split(' ', 1)[0]!r}: a server enforcing the grammar could not write it"
        )


def _result(pieces: list[tuple[float, ChatGenerationChunk]], usage: dict[str, int]) -> ChatResult:
    """Return the whole reply at once (`ainvoke` without streaming)."""
    message = AIMessageChunk(content="")
    for _, chunk in pieces:
        message += chunk.message  # type: ignore[assignment]
    whole = AIMessage(
        content=message.content,
        tool_calls=message.tool_calls,
        usage_metadata=usage,
    )
    return ChatResult(generations=[ChatGeneration(message=whole)])


def _usage_chunk(usage: dict[str, int]) -> ChatGenerationChunk:
    return ChatGenerationChunk(message=AIMessageChunk(content="", usage_metadata=usage))  # type: ignore[arg-type]


def _this_turn(messages: Sequence[BaseMessage]) -> Sequence[BaseMessage]:
    """Return the messages since the last user message (this question's turn)."""
    last = max((i for i, m in enumerate(messages) if isinstance(m, HumanMessage)), default=-1)
    return messages[last + 1 :] if last >= 0 else messages


def _evidence(messages: Sequence[BaseMessage]) -> str:
    """Return what an answer may rest on: the user turn (question, results) and tool results."""
    last = max((i for i, m in enumerate(messages) if isinstance(m, HumanMessage)), default=0)
    return "\n".join(str(m.content) for m in messages[last:])
