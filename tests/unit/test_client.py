import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from pydantic import BaseModel

from graphs.context import Context
from serving import client


def test_assistant_tool_calls_carry_empty_content_not_null() -> None:
    model = client.CompatChatOpenAI(model="m", base_url="http://127.0.0.1:9/v1", api_key="x")  # type: ignore[arg-type]
    call = {"name": "calculator", "args": {"expression": "1+1"}, "id": "c1"}
    payload = model._get_request_payload(
        [HumanMessage("q"), AIMessage("", tool_calls=[call]), ToolMessage("2", tool_call_id="c1")]
    )
    assistant = payload["messages"][1]
    assert assistant["tool_calls"] and assistant["content"] == ""


class Choice(BaseModel):
    route: str


@pytest.mark.parametrize(
    ("backend", "expected_type"), [("llama_cpp", "json_object"), ("vllm", "json_schema")]
)
def test_structured_output_uses_each_servers_form(backend: str, expected_type: str) -> None:
    model = client.CompatChatOpenAI(model="m", base_url="http://127.0.0.1:9/v1", api_key="x")  # type: ignore[arg-type]
    runnable = client.structured_model(model, Choice, backend, {"type": "object"})  # type: ignore[arg-type]
    bound = runnable.first  # type: ignore[attr-defined]
    assert bound.kwargs["response_format"]["type"] == expected_type


def models_server(owner: str) -> ThreadingHTTPServer:
    class Models(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = json.dumps({"data": [{"id": "m", "owned_by": owner}]}).encode()
            self.send_response(200)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Models)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def fresh_backends(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(client, "_backends", {})
    yield


@pytest.mark.parametrize(
    ("owner", "backend"), [("me", "llama_cpp"), ("vllm", "vllm"), ("system", "openai")]
)
async def test_backend_is_detected_from_the_server(
    owner: str, backend: str, fresh_backends: None
) -> None:  # noqa: E501
    server = models_server(owner)
    url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    try:
        assert await client.backend_of(Context(router_base_url=url), "router") == backend
    finally:
        server.shutdown()


async def test_an_explicit_backend_is_not_probed(fresh_backends: None) -> None:
    context = Context(router_base_url="http://127.0.0.1:9/v1", llm_backend="vllm")
    assert await client.backend_of(context, "router") == "vllm"


async def test_one_pooled_client_and_model_per_server() -> None:
    context = Context()
    a = client.chat_model(context, "planner")
    assert client.chat_model(context, "planner") is a
    assert client.http_client(context.planner_base_url) is client.http_client(
        context.planner_base_url
    )
    assert a.http_async_client is client.http_client(context.planner_base_url)
