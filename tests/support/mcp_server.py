"""A small MCP server for the tests and the overhead benchmark: a warehouse's stock.

Run it over stdio (`python tests/support/mcp_server.py`) or streamable HTTP
(`python tests/support/mcp_server.py --port 2401`: the endpoint is
`http://127.0.0.1:2401/mcp`). The server needs only the `mcp` SDK, so an MCP client can
start it by its path; `connection` and `serving_http` are for the tests and benchmarks.

Its tools cover what a loader must carry: annotations (read-only, side effects that do
or do not destroy, no hints at all), an array and an enum argument, a name that is not
an identifier, and the ways a server fails (a slow call, one that never answers, the
server's process id so a test can kill it mid-call).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

from mcp.server.fastmcp import FastMCP
from mcp.types import ToolAnnotations

server = FastMCP("warehouse", log_level="WARNING")
STOCK = {"LAP-1001": 42, "MON-2002": 7, "AUD-3003": 0}
READ_ONLY = ToolAnnotations(readOnlyHint=True)


@server.tool(annotations=READ_ONLY)
def stock_level(sku: str) -> dict[str, object]:
    """Units of one product in stock at the warehouse, by its SKU (e.g. LAP-1001)."""
    if sku not in STOCK:
        raise ValueError(f"unknown SKU {sku!r}; SKUs: {', '.join(STOCK)}")
    return {"sku": sku, "units": STOCK[sku], "warehouse": "Rotterdam"}


@server.tool(
    annotations=ToolAnnotations(readOnlyHint=False, destructiveHint=False, idempotentHint=False)
)
def reserve_units(sku: str, units: int) -> dict[str, object]:
    """Reserve units of a product for an order (takes them out of the free stock)."""
    if STOCK.get(sku, 0) < units:
        raise ValueError(f"only {STOCK.get(sku, 0)} units of {sku!r} in stock")
    STOCK[sku] -= units
    return {"sku": sku, "reserved": units, "left": STOCK[sku]}


@server.tool(annotations=ToolAnnotations(destructiveHint=True, idempotentHint=True))
def discontinue(sku: str) -> dict[str, object]:
    """Take a product out of the catalogue for good."""
    STOCK.pop(sku, None)
    return {"sku": sku, "discontinued": True}


@server.tool()  # no annotations: by the MCP defaults it may change and destroy things
def label_products(skus: list[str], color: Literal["red", "amber", "green"]) -> dict[str, object]:
    """Put a colour label on several products at once."""
    return {"labelled": skus, "color": color}


@server.tool(name="stock-report", annotations=READ_ONLY)
def stock_report() -> dict[str, int]:
    """Units in stock of every product."""
    return dict(STOCK)


@server.tool(annotations=READ_ONLY)
def ping() -> str:
    """Answer at once (the overhead benchmark's call)."""
    return "pong"


@server.tool(annotations=READ_ONLY)
def process_id() -> int:
    """The server's process id (a test kills it mid-call)."""
    return os.getpid()


@server.tool()  # not read-only: a call cut off by the server's death is not made again
async def wait(seconds: float) -> str:
    """Answer after a while."""
    await asyncio.sleep(seconds)
    return f"waited {seconds:g} s"


@server.tool(annotations=READ_ONLY)
async def hang() -> str:
    """Never answer (the server stays up and answers other calls)."""
    await asyncio.Event().wait()
    return "never"


PATH = Path(__file__).resolve()
PORTS = range(2400, 2500)  # the MCP tests' ports


def connection(port: int | None = None) -> dict[str, Any]:
    """Return this server's MCP_SERVERS entry: over stdio, or streamable HTTP on `port`."""
    if port is None:
        return {"transport": "stdio", "command": sys.executable, "args": [str(PATH)]}
    return {"transport": "streamable_http", "url": f"http://127.0.0.1:{port}/mcp"}


def free_port() -> int:
    """Return a port in `PORTS` that is free on 127.0.0.1 right now."""
    for port in random.sample(PORTS, len(PORTS)):  # test workers rarely pick the same
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {PORTS}")


@contextmanager
def serving_http(port: int) -> Iterator[subprocess.Popen[bytes]]:
    """Serve over streamable HTTP on `port` while the block runs; stop the server by its pid."""
    server = subprocess.Popen([sys.executable, str(PATH), "--port", str(port)])
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the MCP test server did not start on {port}") from None
                time.sleep(0.1)
        yield server
    finally:
        server.kill()
        server.wait()


def main() -> None:
    """Serve over stdio, or over streamable HTTP on 127.0.0.1 with --port."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, help="serve streamable HTTP on this port")
    port = parser.parse_args().port
    if port is None:
        server.run("stdio")
    else:
        server.settings.port = port
        server.run("streamable-http")


if __name__ == "__main__":
    main()
