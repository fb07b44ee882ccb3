"""A latency model of a GPU-served vLLM: a fake chat model that replays measured timings.

Its words come from an oracle built from the dataset (the expected route, tool calls
and reference answer), so it measures the architecture, not a model's judgement:
what parallel branches and fewer model turns save when the model is fast and the
tools dominate. Every figure it produces is simulated and labelled so.
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.parse
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool

from evals.dataset import Question

# vLLM's own benchmark for an 8B model on one GPU: TTFT about 70 ms, about 8 ms a token.
GPU_TTFT_S = 0.070
GPU_PER_TOKEN_S = 0.008
CHARS_PER_TOKEN = 4


@dataclass
class Oracle:
    """What a correct model would say for one question, at every turn."""

    question: Question
    services_url: str

    def calls(self) -> list[dict[str, Any]]:
        """Return the question's tool calls: data look-ups first, then what uses them."""
        q = self.question
        lookups = [{"tool": "query_database", "args": {"sql": sql}} for sql in q.sql]
        lookups += [{"tool": "search_docs", "args": {"query": q.question}}] if q.docs else []
        services = [
            {"tool": "http_get", "args": {"url": self._url(c["service"], c["params"])}}
            for c in q.service_calls
        ]
        maths = [{"tool": "calculator", "args": {"expression": e}} for e in q.calc]
        return lookups + services + maths

    def rounds(self) -> list[list[dict[str, Any]]]:
        """Return the planner's rounds: one, or two for a dependent chain."""
        calls = self.calls()
        if self.question.group != "chain":
            return [calls]
        first = [c for c in calls if c["tool"] in ("query_database", "search_docs")]
        return [first, [c for c in calls if c not in first]]

    def _url(self, service: str, params: dict[str, Any]) -> str:
        path = {"crm": "crm/account", "shipping": "shipping/track"}.get(service, service)
        return f"{self.services_url}/{path}?{urllib.parse.urlencode(params)}"


class SimulatedGPUChatModel(BaseChatModel):
    """Answers like a correct model, at a GPU's speed: TTFT, then a fixed time a token."""

    oracle: Oracle
    tier: str
    ttft_s: float = GPU_TTFT_S
    per_token_s: float = GPU_PER_TOKEN_S
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
        """Return a copy that answers with tool calls (the ReAct baseline binds tools)."""
        return self.model_copy(update={"tools_bound": bool(tools)})

    def reply(self, messages: list[BaseMessage]) -> AIMessage:
        """Return what a correct model says next, given the conversation so far."""
        if self.tools_bound:  # ReAct: one tool call a turn, then the answer
            done = sum(isinstance(m, ToolMessage) for m in messages)
            calls = self.oracle.calls()
            if done < len(calls):
                call = calls[done]
                tool_call = {"name": call["tool"], "args": call["args"], "id": f"call_{done}"}
                return AIMessage("", tool_calls=[tool_call])
            return AIMessage(self.oracle.question.reference)
        if self.tier == "router" and "Reply with JSON" in str(messages[0].content):
            return AIMessage(json.dumps({"route": self.oracle.question.route}))
        if self.tier == "planner":
            rounds = self.oracle.rounds()
            done = str(messages[-1].content).count("Results so far:")
            calls = rounds[done] if done < len(rounds) else []
            return AIMessage(json.dumps({"calls": calls, "followup": done + 1 < len(rounds)}))
        return AIMessage(self.oracle.question.reference)

    def _tokens(self, message: AIMessage) -> int:
        text = str(message.content) + json.dumps(message.tool_calls)
        return max(1, len(text) // CHARS_PER_TOKEN)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        message = self.reply(messages)
        time.sleep(self.ttft_s + self._tokens(message) * self.per_token_s)
        return ChatResult(generations=[ChatGeneration(message=message)])

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        message = self.reply(messages)
        await asyncio.sleep(self.ttft_s + self._tokens(message) * self.per_token_s)
        usage = {"input_tokens": 0, "output_tokens": self._tokens(message), "total_tokens": 0}
        message.usage_metadata = usage  # type: ignore[assignment]
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        raise NotImplementedError("the simulated model streams asynchronously only")

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        message = self.reply(messages)
        if message.tool_calls:  # tool calls arrive whole, after their tokens' time
            await asyncio.sleep(self.ttft_s + self._tokens(message) * self.per_token_s)
            chunks = [
                {"name": c["name"], "args": json.dumps(c["args"]), "id": c["id"], "index": i}
                for i, c in enumerate(message.tool_calls)
            ]
            yield ChatGenerationChunk(message=AIMessageChunk(content="", tool_call_chunks=chunks))  # type: ignore[arg-type]
            return
        await asyncio.sleep(self.ttft_s)
        words = str(message.content).split(" ")
        for i, word in enumerate(words):
            text = word if i == 0 else f" {word}"
            chunk = ChatGenerationChunk(message=AIMessageChunk(content=text))
            if run_manager:
                await run_manager.on_llm_new_token(text, chunk=chunk)
            yield chunk
            await asyncio.sleep(max(1, len(text) // CHARS_PER_TOKEN) * self.per_token_s)
        usage = {"input_tokens": 0, "output_tokens": self._tokens(message), "total_tokens": 0}
        yield ChatGenerationChunk(message=AIMessageChunk(content="", usage_metadata=usage))  # type: ignore[arg-type]
