"""`ChatOpenAI` made safe for the OpenAI-compatible servers agents run on.

Every model call of both graphs goes through `CompatChatOpenAI`. What it adds:
- messages as every server takes them: content lists (what chat UIs send) become text,
  an image is refused with a clear error where the model reads no images, an assistant
  message's `content: null` becomes `""` (llama.cpp answers HTTP 500 to null);
- a stream that ends without the server saying it finished (no `finish_reason`: the
  connection closed early) is an error, never a half answer;
- with `text_tool_calls`, tool calls a small model wrote as text (bare JSON, a fenced
  block, Qwen's `<tool_call>` tags) become real `tool_calls`.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import LanguageModelInput
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.messages.tool import ToolCall
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from langchain_openai import ChatOpenAI

_ARGS_KEYS = ("arguments", "parameters")
_JSON_START = re.compile(r"[{\[]")
_FUNCTION_TAG = re.compile(r"""<function\s+name=["']([\w-]+)["']\s+arguments='([^']*)'""")
_TEXT_PARTS = ("text", "input_text")
_IMAGE_PARTS = ("image_url", "image", "input_image", "file")


class ModelReplyError(RuntimeError):
    """A model server's reply is unusable: cut off, empty, or not what was asked for."""


class UnsupportedContentError(ValueError):
    """A message holds content the model cannot read (an image for a text-only model)."""


def content_text(content: str | list[Any]) -> str:
    """Return a message's content as text: the text parts of a list joined by newlines.

    Raises:
        UnsupportedContentError: for an image or file part (the models here read text).
    """
    if isinstance(content, str):
        return content
    texts = []
    for part in content:
        if isinstance(part, str):
            texts.append(part)
        elif isinstance(part, dict) and part.get("type") in _TEXT_PARTS:
            texts.append(str(part.get("text", "")))
        elif isinstance(part, dict) and part.get("type") in _IMAGE_PARTS:
            raise UnsupportedContentError(
                f"a {part['type']} part: this model reads text only; send the question as text"
            )
        # other parts (tool_use echoes, reasoning blocks) carry no text for the model
    return "\n".join(t for t in texts if t)


class CompatChatOpenAI(ChatOpenAI):
    """`ChatOpenAI` with the fixes OpenAI-compatible servers need (see the module doc)."""

    text_tool_calls: bool = False
    """Turn tool calls written in the answer's text into `tool_calls`."""

    def _get_request_payload(
        self, input_: LanguageModelInput, *, stop: list[str] | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        payload = super()._get_request_payload(input_, stop=stop, **kwargs)
        for message in payload.get("messages", []):
            if message.get("content") is None:
                message["content"] = ""
            elif isinstance(message["content"], list):
                message["content"] = content_text(message["content"])
        return payload

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        """Stream, checking the server finished; hold back text that starts like a tool call.

        With `text_tool_calls` and tools bound, an answer whose text starts with `{`, `[`,
        a fence or a tag is held until it ends: if it holds tool calls, they come out as
        `tool_call_chunks` and no JSON ever reaches a chat client as if it were the answer.
        """
        names = _bound_tool_names(kwargs) if self.text_tool_calls else set()
        finished, text, held = False, "", []
        decided: bool | None = None if names else False  # True: hold, False: stream
        async for chunk in super()._astream(messages, stop, None, **kwargs):
            finished = finished or bool((chunk.generation_info or {}).get("finish_reason"))
            if decided is None:
                text += chunk.text
                if text.strip():
                    decided = text.lstrip()[0] in "{[<`"
            if decided is not False:
                held.append(chunk)
                continue
            for released in [*held, chunk]:
                await _announce(run_manager, released)
                yield released
            held = []
        if not finished:
            raise ModelReplyError(
                f"the stream from {self.openai_api_base} ended before the model finished "
                "(no finish_reason: the connection closed early)"
            )
        for released in _as_tool_calls(held, names):
            await _announce(run_manager, released)
            yield released

    # Both paths to a whole response (a plain request, or a stream aggregated because a
    # streaming callback such as LangGraph's `messages` mode is attached) end in these
    # two methods, before `on_llm_end`: callbacks and callers see real tool calls.
    def _generate_with_cache(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        result = super()._generate_with_cache(messages, stop, run_manager, **kwargs)
        return self._with_text_tool_calls(result, kwargs)

    async def _agenerate_with_cache(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        result = await super()._agenerate_with_cache(messages, stop, run_manager, **kwargs)
        return self._with_text_tool_calls(result, kwargs)

    def _with_text_tool_calls(self, result: ChatResult, kwargs: dict[str, Any]) -> ChatResult:
        """Move tool calls written as text into `tool_calls`, when enabled and tools are bound."""
        names = _bound_tool_names(kwargs) if self.text_tool_calls else set()
        for generation in result.generations:
            message = generation.message
            if not names or not isinstance(message, AIMessage) or message.tool_calls:
                continue
            calls = parse_text_tool_calls(message.text, names)
            if calls:
                generation.message = message.model_copy(update={"content": "", "tool_calls": calls})
                generation.text = ""
        return result


async def _announce(
    run_manager: AsyncCallbackManagerForLLMRun | None, chunk: ChatGenerationChunk
) -> None:
    """Tell the callbacks (LangGraph's `messages` stream among them) about a chunk."""
    if run_manager is not None:
        await run_manager.on_llm_new_token(chunk.text, chunk=chunk)


def _as_tool_calls(held: list[ChatGenerationChunk], names: set[str]) -> list[ChatGenerationChunk]:
    """Return held chunks as one chunk of tool calls, if their text holds any; else as they are."""
    if not held:
        return []
    whole = held[0]
    for chunk in held[1:]:
        whole = whole + chunk
    calls = parse_text_tool_calls(whole.text, names)
    if not calls:
        return held
    message = whole.message
    tool_chunks = [
        {"name": c["name"], "args": json.dumps(c["args"]), "id": c["id"], "index": i}
        for i, c in enumerate(calls)
    ]
    return [
        ChatGenerationChunk(
            message=AIMessageChunk(
                content="",
                id=message.id,
                tool_call_chunks=tool_chunks,  # type: ignore[arg-type]
                usage_metadata=getattr(message, "usage_metadata", None),
                response_metadata=message.response_metadata,
            ),
            generation_info=whole.generation_info,
        )
    ]


def parse_text_tool_calls(text: str, tool_names: set[str]) -> list[ToolCall]:
    """Return the tool calls a model wrote as text, as langchain tool calls.

    JSON objects like `{"name": ..., "arguments": {...}}`, bare, one per line, in a
    ```json fence or in Qwen's `<tool_call>` tags, or `<function name=".." arguments='{..}'>`.
    Every JSON value in the text is read;
    a call is an object naming a known tool with an object (or a JSON string of one)
    under `arguments` or `parameters`, found at any depth (so OpenAI's
    `{"function": {...}}` wrapping and lists of calls count). Anything else is ignored.
    """
    calls: list[ToolCall] = []
    for value in _json_values(text):
        calls.extend(_calls_in(value, tool_names))
    for name, arguments in _FUNCTION_TAG.findall(text):  # <function name="x" arguments='{..}'>
        for value in _json_values(arguments):
            calls.extend(_calls_in({"name": name, "arguments": value}, tool_names))
    return calls


def _json_values(text: str) -> Iterator[Any]:
    """Yield every top-level JSON object or array embedded in free text."""
    decoder = json.JSONDecoder()
    position = 0
    while match := _JSON_START.search(text, position):
        try:
            value, end = decoder.raw_decode(text, match.start())
        except (ValueError, RecursionError):
            position = match.start() + 1
            continue
        yield value
        position = end


def _calls_in(value: Any, tool_names: set[str], depth: int = 0) -> Iterator[ToolCall]:
    """Yield the well-formed calls to known tools in a decoded JSON value."""
    if depth > 8:  # calls are never nested deeper; a deep value is not a call
        return
    if isinstance(value, list):
        for item in value:
            yield from _calls_in(item, tool_names, depth + 1)
        return
    if not isinstance(value, dict):
        return
    name = value.get("name")
    key = next((k for k in _ARGS_KEYS if k in value), None)
    if isinstance(name, str) and name in tool_names and key is not None:
        args = value[key]
        if isinstance(args, str):
            try:
                args = json.loads(args)
            except (ValueError, RecursionError):
                return
        if isinstance(args, dict):
            yield ToolCall(
                name=name, args=args, id=f"call_{uuid.uuid4().hex[:24]}", type="tool_call"
            )
        return
    for item in value.values():
        yield from _calls_in(item, tool_names, depth + 1)


def _bound_tool_names(kwargs: dict[str, Any]) -> set[str]:
    """Return the names of the tools a request binds (OpenAI format)."""
    names = set()
    for tool in kwargs.get("tools") or []:
        if isinstance(tool, dict):
            name = tool.get("function", {}).get("name") or tool.get("name")
            if isinstance(name, str):
                names.add(name)
    return names
