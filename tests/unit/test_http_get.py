import asyncio
import gzip
import time
import tracemalloc
import zlib
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from langchain_core.messages import AIMessage, ToolMessage
from langgraph.config import get_config
from langgraph.graph import START, MessagesState, StateGraph
from langgraph.prebuilt import ToolNode

from core.context import Context
from core.settings import Settings
from engine.language.parser import Task
from engine.scheduler.call_tool import call_tool
from tests.support.loop_watch import LoopWatch
from tests.support.runs import in_run
from tools import SHOP
from tools.http_get import (
    MAX_BYTES,
    MAX_CONNECTIONS,
    MAX_CONNECTIONS_PER_RUN,
    OriginNotAllowedError,
    fetch,
    http_client,
    http_get,
)

Reply = Callable[[asyncio.StreamWriter], Awaitable[None]]


def response(status: int, body: bytes, *headers: str) -> Reply:
    async def reply(writer: asyncio.StreamWriter) -> None:
        head = [f"HTTP/1.1 {status} X", f"Content-Length: {len(body)}", *headers]
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        await writer.drain()

    return reply


async def drip(writer: asyncio.StreamWriter) -> None:
    """Headers at once, then one byte a second, forever."""
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
    while True:
        writer.write(b"x")
        await writer.drain()
        await asyncio.sleep(1)


async def silent(writer: asyncio.StreamWriter) -> None:
    await asyncio.sleep(3600)  # reads the request, never answers


def late(seconds: float) -> Reply:
    """Answer after `seconds`."""

    async def reply(writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(seconds)
        await response(200, b"late")(writer)

    return reply


def zeros_compressed(size: int, make: Callable[[], Any]) -> bytes:
    """`size` bytes of zeros, compressed by a fresh compressor object (zlib's or zstandard's)."""
    compressor, chunk = make(), bytes(1 << 20)
    return b"".join([compressor.compress(chunk) for _ in range(size >> 20)] + [compressor.flush()])


@dataclass
class Server:
    """An HTTP/1.1 server on a free port of 127.0.0.1 that answers each path its own way."""

    routes: dict[str, Reply] = field(default_factory=dict)
    port: int = 0
    requests: int = 0
    paths: Counter[str] = field(default_factory=Counter)  # requests, by path
    handlers: set[asyncio.Task[None]] = field(default_factory=set)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self.handlers.add(task)
        try:
            while head := await reader.readuntil(b"\r\n\r\n"):
                self.requests += 1
                path = head.split(b" ")[1].decode()
                self.paths[path] += 1
                route = self.routes.get(path.split("?")[0])
                await (route or response(200, f"hello from {path}".encode()))(writer)
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass  # the client went away, or the test is over
        finally:
            writer.close()


@pytest.fixture
async def start_server() -> AsyncIterator[Callable[..., Awaitable[Server]]]:
    servers: list[tuple[asyncio.Server, Server]] = []

    async def start(**routes: Reply) -> Server:
        server = Server({f"/{name}": reply for name, reply in routes.items()})
        listening = await asyncio.start_server(server.handle, "127.0.0.1", 0)
        server.port = listening.sockets[0].getsockname()[1]
        servers.append((listening, server))
        return server

    yield start
    for listening, server in servers:
        listening.close()
        for task in server.handlers:
            task.cancel()
        await asyncio.gather(*server.handlers)


def allow(*servers: Server, timeout: float = 10.0) -> tuple[frozenset[str], float]:
    """What fetch takes: the operator's allowlist of these servers, and a timeout."""
    origins = ",".join(s.origin for s in servers)
    return Settings(http_allowed_origins=origins).allowed_origins(), timeout


async def test_fetches_from_an_allowed_origin(
    start_server: Callable[..., Awaitable[Server]],
) -> None:
    server = await start_server()
    text = await fetch(f"{server.origin}/status", *allow(server))
    assert text == "HTTP 200\nhello from /status"


async def test_another_port_of_an_allowed_host_is_refused(
    start_server: Callable[..., Awaitable[Server]],
) -> None:
    allowed, other = await start_server(), await start_server()
    with pytest.raises(OriginNotAllowedError, match=f"origin http://127.0.0.1:{other.port} is not"):
        await fetch(f"{other.origin}/status", *allow(allowed))
    with pytest.raises(OriginNotAllowedError):  # same host and port, other scheme
        await fetch(f"https://127.0.0.1:{allowed.port}/status", *allow(allowed))
    assert other.requests == 0


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("file:///etc/passwd", "only http"),
        ("gopher://127.0.0.1:70/", "only http"),
        ("http://user:pw@127.0.0.1:{port}/", "user name"),
        ("http://127.0.0.1:{port}@evil.test/", "user name"),
        ("http://2130706433:{port}/", "unusual spelling"),
        ("http://0x7f.1:{port}/", "unusual spelling"),
        ("http://0177.0.0.1:{port}/", "unusual spelling|Invalid IPv4"),
        ("http://127.1:{port}/", "unusual spelling"),
        ("http://127.0.0.1.:{port}/", "unusual spelling"),
        ("http://[::ffff:127.0.0.1]:{port}/", "unusual spelling"),
        ("http://[::ffff:7f00:1]:{port}/", "not allowed"),
        ("http://%31%32%37.0.0.1:{port}/", "unusual spelling"),
        ("http://localhost:{port}/", "not allowed"),
        ("http://127.0.0.1:99999/", "out of range"),
        ("http://127.0.0.1:{port}/" + "a" * 5000, "characters long"),
        ("http:///nohost", "no host"),
    ],
)
async def test_refuses_urls_that_are_not_an_allowed_origin_as_written(
    start_server: Callable[..., Awaitable[Server]], url: str, message: str
) -> None:
    server = await start_server()
    with pytest.raises(ValueError, match=message):
        await fetch(url.format(port=server.port), *allow(server))
    assert server.requests == 0


def test_a_malformed_allowlist_entry_names_the_field() -> None:
    for entry in ("api.example.com", "127.0.0.1:8080", "http://h/path", "ftp://h", "http://h:0"):
        with pytest.raises(ValueError, match="HTTP_ALLOWED_ORIGINS: .* is not an origin"):
            Settings(http_allowed_origins=f"https://ok.test, {entry}")
    origins = Settings(
        http_allowed_origins=" HTTPS://A.test, http://b.test:8080/ ,"
    ).allowed_origins()
    assert origins == {"https://a.test:443", "http://b.test:8080"}


async def test_tool_outside_a_graph_uses_the_environment(
    start_server: Callable[..., Awaitable[Server]], monkeypatch: pytest.MonkeyPatch
) -> None:
    server = await start_server()
    with pytest.raises(OriginNotAllowedError):  # by default http_get may fetch nothing
        await http_get.ainvoke({"url": f"{server.origin}/x"})
    monkeypatch.setenv("HTTP_ALLOWED_ORIGINS", server.origin)
    assert "hello from /x" in await http_get.ainvoke({"url": f"{server.origin}/x"})


async def test_long_bodies_are_cut(start_server: Callable[..., Awaitable[Server]]) -> None:
    server = await start_server(big=response(200, b"y" * 5000))
    text = await fetch(f"{server.origin}/big", *allow(server))
    assert text.endswith("(truncated)") and len(text) < MAX_BYTES + 100


async def test_redirects_are_followed_only_to_allowed_origins(
    start_server: Callable[..., Awaitable[Server]],
) -> None:
    other = await start_server()
    server = await start_server(
        inside=response(302, b"", "Location: /landed"),
        outside=response(301, b"", f"Location: {other.origin}/secret"),
        loop=response(307, b"", "Location: /loop"),
        mangled=response(302, b"", "Location: http://[bad"),
    )
    context = allow(server)
    assert await fetch(f"{server.origin}/inside", *context) == "HTTP 200\nhello from /landed"
    text = await fetch(f"{server.origin}/outside", *context)
    assert text.startswith(f"HTTP 301\nLocation: {other.origin}/secret\n(redirect not followed")
    assert other.requests == 0
    assert "more than 3 redirects" in await fetch(f"{server.origin}/loop", *context)
    assert "redirect not followed" in await fetch(f"{server.origin}/mangled", *context)


async def test_gzip_and_deflate_bodies_are_decoded(
    start_server: Callable[..., Awaitable[Server]],
) -> None:
    text = b"refund within 30 days " * 3
    raw_deflate = zlib.compressobj(wbits=-15)
    server = await start_server(
        gzip=response(200, gzip.compress(text), "Content-Encoding: gzip"),
        members=response(200, gzip.compress(b"a") + gzip.compress(b"b"), "Content-Encoding: gzip"),
        deflate=response(200, zlib.compress(text), "Content-Encoding: deflate"),
        raw=response(
            200, raw_deflate.compress(text) + raw_deflate.flush(), "Content-Encoding: deflate"
        ),
        broken=response(200, b"not gzip at all", "Content-Encoding: gzip"),
    )
    for path in ("gzip", "deflate", "raw"):
        assert (
            await fetch(f"{server.origin}/{path}", *allow(server)) == f"HTTP 200\n{text.decode()}"
        )
    assert await fetch(f"{server.origin}/members", *allow(server)) == "HTTP 200\nab"
    with pytest.raises(ValueError, match="not valid gzip"):
        await fetch(f"{server.origin}/broken", *allow(server))


@pytest.mark.parametrize("encoding", ["gzip", "zstd", "br", "gzip, gzip", "compress"])
async def test_compression_bombs_cost_no_memory(
    start_server: Callable[..., Awaitable[Server]], encoding: str
) -> None:
    size = 256 << 20  # decoded: 256 MiB of zeros
    if encoding == "zstd":  # httpx decodes zstd, all of it, when zstandard is installed
        try:
            import zstandard

            body = zeros_compressed(size, lambda: zstandard.ZstdCompressor().compressobj())
        except ImportError:  # still refused by its header, unread
            body = b"\x28\xb5\x2f\xfd" + bytes(1000)
    else:
        body = zeros_compressed(size, lambda: zlib.compressobj(9, zlib.DEFLATED, 31))
    server = await start_server(bomb=response(200, body, f"Content-Encoding: {encoding}"))
    tracemalloc.start()
    try:
        async with LoopWatch() as watch:
            if encoding == "gzip":
                text = await fetch(f"{server.origin}/bomb", *allow(server))
                assert text == f"HTTP 200\n{chr(0) * MAX_BYTES} ... (truncated)"
            else:  # never asked for, refused before a byte is decoded
                with pytest.raises(ValueError, match="only gzip and deflate are supported"):
                    await fetch(f"{server.origin}/bomb", *allow(server))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    print(  # noqa: T201
        f"\n{encoding} bomb ({len(body)} bytes -> {size >> 20} MiB): traced peak "
        f"{peak / 1e6:.2f} MB, RSS +{(watch.rss - watch.rss0) / 1e6:.1f} MB, "
        f"longest loop stall {watch.stall * 1000:.1f} ms"
    )
    assert peak < 8e6 and watch.rss - watch.rss0 < 64e6
    assert watch.stall < 0.05


@pytest.mark.parametrize("path", ["drip", "silent"])
async def test_one_deadline_covers_the_whole_request(
    start_server: Callable[..., Awaitable[Server]], path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = await start_server(drip=drip, silent=silent)
    started = time.perf_counter()
    with pytest.raises(TimeoutError, match="did not answer in full within 1.5 s"):
        await fetch(f"{server.origin}/{path}", *allow(server, timeout=1.5))
    assert 1.4 < time.perf_counter() - started < 2.5
    # The tool itself keeps the deadline: the ReAct baseline's ToolNode sets no timeout.
    monkeypatch.setenv("HTTP_ALLOWED_ORIGINS", server.origin)
    monkeypatch.setenv("TOOL_TIMEOUT_SECONDS", "1")
    started = time.perf_counter()
    with pytest.raises(TimeoutError):
        await http_get.ainvoke({"url": f"{server.origin}/{path}"})
    assert 0.9 < time.perf_counter() - started < 2.0


async def test_one_bounded_client_for_any_number_of_origins(
    start_server: Callable[..., Awaitable[Server]],
) -> None:
    servers = [await start_server() for _ in range(50)]
    context = allow(*servers)
    texts = await asyncio.gather(*(fetch(f"{s.origin}/n", *context) for s in servers))
    assert texts == ["HTTP 200\nhello from /n"] * 50
    for s in servers:
        assert await fetch(f"{s.origin}/again", *context) == "HTTP 200\nhello from /again"
    client = http_client()
    assert client is http_client()
    pool = client._transport._pool  # type: ignore[attr-defined]
    assert len(pool.connections) <= MAX_CONNECTIONS // 2  # idle ones kept, at most


async def fetch_in_a_run(graph: str, urls: list[str]) -> list[tuple[str, dict[str, Any]]]:
    """Fetch URLs together in one run, as a graph does; return each result and its timing.

    `tool_node`: the ReAct baseline's way (a ToolNode runs one message's calls together);
    `plan_node`: the fast agent's (call_tool, with the planning node's config).
    """
    if graph == "tool_node":
        builder = StateGraph(MessagesState)
        builder.add_node("tools", ToolNode([http_get]))
        builder.add_edge(START, "tools")
        calls = [
            {"name": "http_get", "args": {"url": u}, "id": f"c{i}"} for i, u in enumerate(urls)
        ]
        state = await builder.compile().ainvoke({"messages": [AIMessage("", tool_calls=calls)]})
        return [(m.text, {}) for m in state["messages"] if isinstance(m, ToolMessage)]

    async def plan_node() -> list[tuple[str, dict[str, Any]]]:
        config, timings = get_config(), []
        results = await asyncio.gather(
            *(call_tool(Task(i, "http_get", {"url": u}), {"url": u}, domain=SHOP,
                        context=Context(), config=config, run_key="k", timings=timings)
              for i, u in enumerate(urls))
        )  # fmt: skip
        by_call = {t["call"]: t for t in timings}
        return [(r["output"], by_call[r["index"]]) for r in results]

    return await in_run(plan_node)


@pytest.mark.parametrize("graph", ["tool_node", "plan_node"])
async def test_one_runs_slow_fetches_never_starve_another_runs_fast_fetch(
    start_server: Callable[..., Awaitable[Server]], monkeypatch: pytest.MonkeyPatch, graph: str
) -> None:
    server = await start_server(slow=silent, fast=response(200, b"fast"))
    monkeypatch.setenv("HTTP_ALLOWED_ORIGINS", server.origin)
    monkeypatch.setenv("TOOL_TIMEOUT_SECONDS", "5")
    run_a = asyncio.create_task(fetch_in_a_run(graph, [f"{server.origin}/slow"] * 16))
    while server.paths["/slow"] < MAX_CONNECTIONS_PER_RUN:
        await asyncio.sleep(0.01)
    started = time.perf_counter()
    [(text, timing)] = await fetch_in_a_run(graph, [f"{server.origin}/fast"])
    elapsed = time.perf_counter() - started
    print(  # noqa: T201
        f"\n{graph}: run B's fetch took {elapsed * 1000:.0f} ms beside run A's 16 hanging ones"
        f" ({server.paths['/slow']} of them holding a connection)"
    )
    assert text == "HTTP 200\nfast"  # within its 5 s: not behind run A's 16
    assert not run_a.done()  # run A's fetches still hang, on its own share of the pool
    assert server.paths["/slow"] == MAX_CONNECTIONS_PER_RUN < MAX_CONNECTIONS
    if graph == "plan_node":
        assert timing["wait_ms"] < 1000
    run_a.cancel()
    await asyncio.gather(run_a, return_exceptions=True)


async def test_the_wait_for_a_connection_is_in_the_calls_timing(
    start_server: Callable[..., Awaitable[Server]], monkeypatch: pytest.MonkeyPatch
) -> None:
    server = await start_server(late=late(0.5))
    monkeypatch.setenv("HTTP_ALLOWED_ORIGINS", server.origin)
    urls = [f"{server.origin}/late"] * (MAX_CONNECTIONS_PER_RUN + 1)
    results = await fetch_in_a_run("plan_node", urls)
    assert [text for text, _ in results] == ["HTTP 200\nlate"] * len(urls)
    *first, last = sorted(timing["wait_ms"] for _, timing in results)
    print(f"\nwait_ms of {len(urls)} calls of one run: {first + [last]}")  # noqa: T201
    assert all(wait < 250 for wait in first)  # a connection at once
    assert last > 400  # for one of the first four to end: its 0.5 s, shown in its timing


async def test_a_timeout_says_how_long_it_waited_for_a_connection(
    start_server: Callable[..., Awaitable[Server]],
) -> None:
    server = await start_server(slow=silent)
    fetches = [fetch(f"{server.origin}/slow", *allow(server, timeout=0.5)) for _ in range(5)]
    errors = await asyncio.gather(*fetches, return_exceptions=True)
    messages = sorted(str(e) for e in errors)
    assert all(isinstance(e, TimeoutError) for e in errors)
    assert messages[0].endswith("(0.0 s of it waiting for a connection)")
    assert messages[-1].endswith("(0.5 s of it waiting for a connection)")
