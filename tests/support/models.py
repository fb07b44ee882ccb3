"""Scripted chat models for unit tests, installed through `serving.client.use_models`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult


class ScriptedChatModel(BaseChatModel):
    """Answers with the next scripted text, streamed in pieces `delay` seconds apart."""

    answer: str
    delay: float = 0.0
    piece: int = 8  # characters per streamed chunk

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def bind_tools(self, tools: Any, **kwargs: Any) -> Any:
        """Take the tools and ignore them: the script says what is answered."""
        return self

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=AIMessage(self.answer))])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        raise NotImplementedError("scripted models stream asynchronously")

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        for start in range(0, len(self.answer), self.piece):
            if self.delay:
                await asyncio.sleep(self.delay)
            text = self.answer[start : start + self.piece]
            chunk = ChatGenerationChunk(message=AIMessageChunk(content=text))
            if run_manager:
                await run_manager.on_llm_new_token(text, chunk=chunk)
            yield chunk


class ScriptedModels:
    """A model factory for `client.use_models`: each tier answers from its own script.

    Records which tier was called and every prompt it was sent, as text.
    """

    def __init__(self, delay: float = 0.0, **scripts: list[str]) -> None:
        self.scripts = {tier: list(answers) for tier, answers in scripts.items()}
        self.delay = delay
        self.calls: list[str] = []
        self.prompts: list[tuple[str, str]] = []  # (tier, every message sent, as text)

    def __call__(self, context: Any, tier: str, **kwargs: Any) -> Any:
        if kwargs.get("max_tokens") == 1:  # the warm-up reads prompts: answer anything
            return ScriptedChatModel(answer=".")
        self.calls.append(tier)
        if not self.scripts.get(tier):
            raise AssertionError(f"unexpected call to the {tier} model")
        model = ScriptedChatModel(answer=self.scripts[tier].pop(0), delay=self.delay)
        return model.with_listeners(on_start=lambda run: self.record(tier, run.inputs))

    def record(self, tier: str, inputs: dict[str, Any]) -> None:
        messages = inputs.get("messages", [[]])[0]
        self.prompts.append((tier, "\n".join(str(getattr(m, "content", m)) for m in messages)))
