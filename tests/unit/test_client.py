import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, LLMResult

from core.context import Context
from core.resources import PerProcess
from core.settings import Settings, settings, use_settings
from serving import chat_models, client
from serving.compat import CompatChatOpenAI, parse_text_tool_calls
from tools import calculator


def test_assistant_tool_calls_carry_empty_content_not_null() -> None:
    model = CompatChatOpenAI(model="m", base_url="http://127.0.0.1:9/v1", api_key="x")  # type: ignore[arg-type]
    call = {"name": "calculator", "args": {"expression": "1+1"}, "id": "c1"}
    payload = model._get_request_payload(
        [HumanMessage("q"), AIMessage("", tool_calls=[call]), ToolMessage("2", tool_call_id="c1")]
    )
    assistant = payload["messages"][1]
    assert assistant["tool_calls"] and assistant["content"] == ""


ROUTES = ["direct", "tools"]


def test_a_choice_is_constrained_the_way_each_server_takes_it() -> None:
    assert client.choice_request("vllm", ROUTES) == {
        "extra_body": {"structured_outputs": {"choice": ROUTES}}
    }
    assert client.choice_request("llama_cpp", ROUTES) == {
        "extra_body": {"grammar": 'root ::= "direct" | "tools"'}
    }
    schema = client.choice_request("openai", ROUTES)["response_format"]["json_schema"]["schema"]
    assert schema["properties"]["choice"]["enum"] == ROUTES


def test_a_grammar_goes_where_each_server_reads_it() -> None:
    assert client.grammar_request("vllm", "root ::= x") == {
        "extra_body": {"structured_outputs": {"grammar": "root ::= x"}}
    }
    assert client.grammar_request("llama_cpp", "root ::= x") == {
        "extra_body": {"grammar": "root ::= x"}
    }
    assert client.grammar_request("openai", "root ::= x") == {}


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
    monkeypatch.setattr(chat_models, "_backends", PerProcess(dict))
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
        with use_settings(Settings(router_base_url=url)):
            assert await client.backend_of(Context(), "router") == backend
    finally:
        server.shutdown()


async def test_an_explicit_backend_is_not_probed(fresh_backends: None) -> None:
    with use_settings(Settings(router_base_url="http://127.0.0.1:9/v1", llm_backend="vllm")):
        assert await client.backend_of(Context(), "router") == "vllm"


@pytest.mark.parametrize(
    ("router", "planner", "backend", "shared"),
    [
        ("http://127.0.0.1:8081/v1", "http://127.0.0.1:8080/v1", "llama_cpp", True),
        ("http://127.0.0.1:8080/v1", "http://127.0.0.1:8080/v1", "llama_cpp", False),  # one
        ("http://127.0.0.1:8081/v1", "http://127.0.0.1:8080/v1", "vllm", False),
        ("http://gpu-a:8000/v1", "http://gpu-b:8000/v1", "llama_cpp", False),  # elsewhere
    ],
)
async def test_tiers_share_cores_only_in_two_local_llama_cpp_processes(
    router: str, planner: str, backend: str, shared: bool, fresh_backends: None
) -> None:
    chat_models._backends.get().update({router: backend, planner: backend})  # type: ignore[dict-item]
    with use_settings(Settings(router_base_url=router, planner_base_url=planner)):
        assert await client.share_cores(Context(), "router", "planner") is shared


async def test_swapped_models_share_no_cores(fresh_backends: None) -> None:
    router, planner = "http://127.0.0.1:8081/v1", "http://127.0.0.1:8080/v1"
    chat_models._backends.get().update({router: "llama_cpp", planner: "llama_cpp"})
    with (
        use_settings(Settings(router_base_url=router, planner_base_url=planner)),
        client.use_models(lambda **_: None),  # type: ignore[arg-type,return-value]
    ):
        assert await client.share_cores(Context(), "router", "planner") is False


async def test_one_pooled_client_and_model_per_server() -> None:
    context = Context()
    url = settings().planner_base_url
    a = client.chat_model(context, "planner")
    assert client.chat_model(context, "planner") is a
    assert client.http_client(url) is client.http_client(url)
    assert a.http_async_client is client.http_client(url)


TOOL_NAMES = {"query_database", "search_docs", "calculator"}


def parsed(text: str) -> list[tuple[str, dict[str, object]]]:
    calls = parse_text_tool_calls(text, TOOL_NAMES)
    assert all(c["type"] == "tool_call" and c["id"] for c in calls)
    assert len({c["id"] for c in calls}) == len(calls)
    return [(c["name"], c["args"]) for c in calls]


def test_parser_reads_a_bare_json_call() -> None:
    text = '{"name": "query_database", "arguments": {"sql": "SELECT COUNT(*) FROM customers"}}'
    assert parsed(text) == [("query_database", {"sql": "SELECT COUNT(*) FROM customers"})]


def test_parser_reads_a_fenced_call_amid_prose() -> None:
    text = (
        "I will look it up.\n```json\n"
        '{"name": "search_docs", "parameters": {"query": "refund window"}}\n```\nDone.'
    )
    assert parsed(text) == [("search_docs", {"query": "refund window"})]


def test_parser_reads_several_calls_one_per_line_and_in_a_list() -> None:
    text = (
        '{"name": "query_database", "arguments": {"sql": "SELECT 1"}}\n'
        '{"name": "calculator", "arguments": {"expression": "2*3"}}\n'
        '[{"name": "search_docs", "arguments": {"query": "warranty"}}]'
    )
    assert parsed(text) == [
        ("query_database", {"sql": "SELECT 1"}),
        ("calculator", {"expression": "2*3"}),
        ("search_docs", {"query": "warranty"}),
    ]


def test_parser_reads_qwen_tool_call_tags() -> None:
    text = (
        '<tool_call>\n{"name": "calculator", "arguments": {"expression": "1+1"}}\n</tool_call>\n'
        '<tool_call>\n{"name": "search_docs", "arguments": {"query": "gold {tier}"}}\n</tool_call>'
    )
    assert parsed(text) == [
        ("calculator", {"expression": "1+1"}),
        ("search_docs", {"query": "gold {tier}"}),
    ]


def test_parser_reads_arguments_given_as_a_json_string() -> None:
    text = '{"type": "function", "function": {"name": "calculator", "arguments": "{\\"expression\\": \\"7*6\\"}"}}'  # noqa: E501
    assert parsed(text) == [("calculator", {"expression": "7*6"})]


def test_parser_ignores_unknown_tools_and_malformed_calls() -> None:
    text = (
        '{"name": "delete_everything", "arguments": {}}\n'
        '{"name": "calculator"}\n'
        '{"name": "calculator", "arguments": "not json"}\n'
        '{"name": "calculator", "arguments": ["1+1"]}\n'
        '{"name": "calculator", "arguments": {"expression": "1+'
    )
    assert parsed(text) == []


@pytest.mark.parametrize(
    "text",
    [
        "",
        "We have 17 customers in Germany.",
        'The result {"count": 17} comes from the customers table [DE].',
        "A set like {1, 2} or a dict {'name': 'calculator'} is not JSON.",
    ],
)
def test_parser_finds_no_call_in_prose(text: str) -> None:
    assert parsed(text) == []


def completion(content: str) -> dict[str, object]:
    return {
        "id": "x",
        "object": "chat.completion",
        "created": 0,
        "model": "m",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
            }
        ],
    }


def stream_body(content: str, finish: bool = True) -> bytes:
    events = []
    pieces = [(content[: len(content) // 2], None), (content[len(content) // 2 :], None)]
    for piece, reason in pieces + ([("", "stop")] if finish else []):
        chunk = {
            "id": "x",
            "object": "chat.completion.chunk",
            "created": 0,
            "model": "m",
            "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": reason}],
        }
        events.append(f"data: {json.dumps(chunk)}\n\n")
    return ("".join(events) + ("data: [DONE]\n\n" if finish else "")).encode()


def text_server(content: str, requests: list[dict[str, object]]) -> httpx.AsyncClient:
    """A fake OpenAI-compatible server whose model writes `content` as plain text."""

    def handle(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        requests.append(body)
        if body.get("stream"):
            return httpx.Response(
                200, content=stream_body(content), headers={"content-type": "text/event-stream"}
            )
        return httpx.Response(200, json=completion(content))

    return httpx.AsyncClient(transport=httpx.MockTransport(handle))


def text_model(content: str, requests: list[dict[str, object]], **kw: object) -> CompatChatOpenAI:
    return CompatChatOpenAI(
        model="m",
        base_url="http://llama.test/v1",
        api_key="x",  # type: ignore[arg-type]
        http_async_client=text_server(content, requests),
        **kw,  # type: ignore[arg-type]
    )


TEXT_CALL = '<tool_call>\n{"name": "calculator", "arguments": {"expression": "6*7"}}\n</tool_call>'


class Collect(BaseCallbackHandler):
    """Records the tokens and the final result the callbacks see."""

    def __init__(self) -> None:
        self.tokens: list[str] = []
        self.ended: list[LLMResult] = []

    def on_llm_new_token(self, token: str, **kwargs: object) -> None:
        self.tokens.append(token)

    def on_llm_end(self, response: LLMResult, **kwargs: object) -> None:
        self.ended.append(response)


@pytest.mark.parametrize("streamed", [False, True])
async def test_llama_cpp_model_turns_text_tool_calls_into_tool_calls(streamed: bool) -> None:
    requests: list[dict[str, object]] = []
    model = text_model(TEXT_CALL, requests, text_tool_calls=True).bind_tools([calculator])
    collect = Collect()

    # stream=True takes the path a streaming callback (LangGraph's `messages` mode) takes:
    # chunks aggregated by langchain-core rather than one response.
    answer = await model.ainvoke("What is 6*7?", {"callbacks": [collect]}, stream=streamed)

    assert isinstance(answer, AIMessage)
    assert [(c["name"], c["args"]) for c in answer.tool_calls] == [
        ("calculator", {"expression": "6*7"})
    ]
    assert answer.content == ""
    assert bool(requests[0].get("stream")) is streamed
    assert bool(collect.tokens) is streamed
    ended = collect.ended[0].generations[0][0]  # callbacks see the calls, not the text
    assert isinstance(ended, ChatGeneration) and ended.message.tool_calls  # type: ignore[attr-defined]
    assert "tool_call" not in "".join(collect.tokens)  # no JSON streamed as if it were the answer


async def test_prose_still_streams_token_by_token_with_tools_bound() -> None:
    requests: list[dict[str, object]] = []
    model = text_model("We have 200 customers.", requests, text_tool_calls=True)
    collect = Collect()
    answer = await model.bind_tools([calculator]).ainvoke(
        "How many?", {"callbacks": [collect]}, stream=True
    )
    assert answer.content == "We have 200 customers." and not answer.tool_calls  # type: ignore[union-attr]
    assert [t for t in collect.tokens if t] == ["We have 200", " customers."]


async def test_text_is_left_alone_without_tools_or_off_llama_cpp() -> None:
    requests: list[dict[str, object]] = []
    no_tools = await text_model(TEXT_CALL, requests, text_tool_calls=True).ainvoke("q")
    other_backend = await (
        text_model(TEXT_CALL, requests).bind_tools([calculator]).ainvoke("q")  # flag off
    )
    for answer in (no_tools, other_backend):
        assert isinstance(answer, AIMessage)
        assert answer.content == TEXT_CALL and not answer.tool_calls


async def test_a_tool_calling_model_reads_text_tool_calls() -> None:
    context = Context()
    model = client.chat_model(context, "synthesizer", tools=True)
    assert isinstance(model, CompatChatOpenAI) and model.text_tool_calls
    plain = client.chat_model(context, "synthesizer")
    assert isinstance(plain, CompatChatOpenAI) and not plain.text_tool_calls


async def test_tool_results_go_back_to_the_server_with_the_call() -> None:
    requests: list[dict[str, object]] = []
    model = text_model("42", requests, text_tool_calls=True).bind_tools([calculator])
    call = {"name": "calculator", "args": {"expression": "6*7"}, "id": "c1", "type": "tool_call"}
    await model.ainvoke(
        [
            HumanMessage("6*7?"),
            AIMessage("", tool_calls=[call]),
            ToolMessage("42", tool_call_id="c1"),
        ]
    )
    sent = requests[0]["messages"]
    assert isinstance(sent, list)
    assert sent[1]["content"] == "" and sent[1]["tool_calls"][0]["id"] == "c1"
    assert sent[2] == {"role": "tool", "content": "42", "tool_call_id": "c1"}


def test_parser_reads_function_tags() -> None:
    text = """<tools><function name="query_database" arguments='{"sql": "SELECT 1"}'></tools>"""
    assert parsed(text) == [("query_database", {"sql": "SELECT 1"})]
