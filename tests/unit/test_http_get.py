import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from graphs.context import Context
from tools.http_get import HostNotAllowedError, fetch, http_get


class Hello(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = f"hello from {self.path}".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def server_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Hello)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


async def test_fetches_from_an_allowed_host(server_url: str) -> None:
    text = await fetch(f"{server_url}/status", Context(http_allowed_hosts="127.0.0.1"))
    assert text == "HTTP 200\nhello from /status"


async def test_refuses_hosts_off_the_allowlist(server_url: str) -> None:
    with pytest.raises(HostNotAllowedError, match="not allowed"):
        await fetch(f"{server_url}/status", Context(http_allowed_hosts="example.com"))


async def test_refuses_other_schemes() -> None:
    with pytest.raises(ValueError, match="only http"):
        await fetch("file:///etc/passwd", Context())


async def test_tool_outside_a_graph_uses_the_environment(
    server_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(HostNotAllowedError):  # by default http_get may fetch nothing
        await http_get.ainvoke({"url": f"{server_url}/x"})
    monkeypatch.setenv("HTTP_ALLOWED_HOSTS", "127.0.0.1")
    assert "hello from /x" in await http_get.ainvoke({"url": f"{server_url}/x"})


async def test_long_bodies_are_cut(server_url: str) -> None:
    text = await fetch(f"{server_url}/{'y' * 5000}", Context(http_allowed_hosts="127.0.0.1"))
    assert text.endswith("(truncated)") and len(text) < 4100
