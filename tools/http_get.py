"""Tool: HTTP GET to allowlisted origins, under one deadline and a byte cap no encoding can pass."""

from __future__ import annotations

import asyncio
import re
import time
import zlib
from typing import Any

import httpx
from langchain_core.tools import tool

from core.call_details import add_to_call
from core.context import current_context
from core.domain import read_only
from core.resources import PerLoop
from core.settings import origin_of, settings
from tools.run_share import RunShare

MAX_BYTES = 4000  # of the body, decoded, in the text returned
MAX_RAW_BYTES = 1_000_000  # read off the wire per response, however little it decodes to
MAX_URL_CHARS = 4096
MAX_REDIRECTS = 3
MAX_CONNECTIONS = 16  # the pool's bound, whatever the number of origins
MAX_CONNECTIONS_PER_RUN = 4  # one run's share: its slow fetches leave the rest to other runs
REDIRECTS = {301, 302, 303, 307, 308}

# An IPv4 address as inet_aton also reads it: 1 to 4 parts, decimal, octal or hex.
_NUMERIC_HOST = re.compile(r"(?:0x[0-9a-f]*|[0-9]+)(?:\.(?:0x[0-9a-f]*|[0-9]+)){0,3}\.?")
_DOTTED_QUAD = re.compile(r"(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}"
                          r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])")  # fmt: skip


class OriginNotAllowedError(ValueError):
    """The URL's origin (scheme, host and port) is not on the allowlist."""


def check_url(url: str | httpx.URL, allowed: frozenset[str]) -> httpx.URL:
    """Return the URL, parsed, if http_get may fetch it.

    The URL's origin, as `origin_of` writes it, must be one of `allowed` exactly: same
    scheme, host and port. A host written as an IP address in an unusual spelling
    (`2130706433`, `0x7f.1`, `[::ffff:127.0.0.1]`) is refused with its own message.

    Raises:
        OriginNotAllowedError: if the origin is not allowed.
        ValueError: if the URL is malformed, too long, not http(s), or carries a user name.
    """
    if len(str(url)) > MAX_URL_CHARS:
        raise ValueError(
            f"the URL is {len(str(url))} characters long; the limit is {MAX_URL_CHARS}"
        )
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as err:
        raise ValueError(f"not a valid URL: {str(url)[:100]!r} ({err})") from None
    origin = origin_of(parsed)  # ValueError for other schemes, no host, a bad port
    if parsed.userinfo:
        raise ValueError("URLs with a user name or password are not allowed")
    if origin in allowed:
        return parsed
    host = parsed.raw_host.decode("ascii").lower()
    odd_ipv4 = _NUMERIC_HOST.fullmatch(host) and not _DOTTED_QUAD.fullmatch(host)
    if odd_ipv4 or "%" in host or (":" in host and "." in host):
        raise OriginNotAllowedError(
            f"host {host!r} is an IP address in an unusual spelling: only an allowed origin, "
            f"written as it is allowed, may be fetched; allowed: {sorted(allowed)}"
        )
    raise OriginNotAllowedError(f"origin {origin} is not allowed; allowed: {sorted(allowed)}")


async def fetch(url: str, allowed: frozenset[str], timeout: float) -> str:
    """GET a URL from an allowed origin; return the status and the body, cut at `MAX_BYTES`.

    Everything happens within one deadline, `timeout` seconds: waiting for a connection
    (one of the run's `MAX_CONNECTIONS_PER_RUN`, then one of the pool's), connecting, the
    headers, the body, and redirects. The wait is reported to the tool call as `wait_ms`
    (`core.call_details`) and named in a timeout's message. A redirect is followed only
    when its target is itself allowed (up to `MAX_REDIRECTS`); otherwise the result is its
    status and `Location`, not followed. The body is read raw and decoded here (identity,
    gzip or deflate, what the client asks for), stopping once `MAX_BYTES` are decoded or
    `MAX_RAW_BYTES` read, so a compression bomb costs no more than that; other encodings
    (br, zstd, ...) are refused.

    Raises:
        OriginNotAllowedError: if the origin is not in `allowed` (see `Settings`).
        ValueError: for a malformed URL, or a body in an encoding that is not supported.
        TimeoutError: if the deadline passes first.
        httpx.HTTPError: on connection and protocol errors.
    """
    target = check_url(url, allowed)
    wait = _Wait()
    try:
        async with asyncio.timeout(timeout):
            for _ in range(MAX_REDIRECTS + 1):
                status, location, text = await _get(target, timeout, wait)
                if location is None:
                    return f"HTTP {status}\n{text}"
                try:
                    target = check_url(target.join(location), allowed)
                except (ValueError, httpx.InvalidURL) as err:
                    return f"HTTP {status}\nLocation: {location}\n(redirect not followed: {err})"
            return f"HTTP {status}\nLocation: {location}\n(more than {MAX_REDIRECTS} redirects)"
    except TimeoutError:
        wait.end()
        raise TimeoutError(
            f"{url[:100]} did not answer in full within {timeout:g} s "
            f"({wait.seconds:.1f} s of it waiting for a connection)"
        ) from None
    finally:
        wait.end()
        add_to_call(wait_ms=wait.seconds * 1000)


class _Wait:
    """How long one fetch waited for connections: for its run's share, then for the pool."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._since: float | None = None

    def begin(self) -> None:
        """A request starts waiting for a connection."""
        self._since = time.monotonic()

    def end(self) -> None:
        """The request has a connection (or gave up): count its wait."""
        if self._since is not None:
            self.seconds += time.monotonic() - self._since
            self._since = None

    async def trace(self, event: str, info: dict[str, Any]) -> None:
        """Take httpcore's `trace` events: a request's first is on the connection it got."""
        self.end()


async def _get(url: httpx.URL, timeout: float, wait: _Wait) -> tuple[int, str | None, str]:
    """GET once, on the run's share of the pool; return the status, `Location`, the text.

    `Location` is a redirect's (None for any other response).
    """
    wait.begin()
    async with (
        _connections.slot(),
        http_client().stream(
            "GET", url, timeout=timeout, extensions={"trace": wait.trace}
        ) as response,
    ):
        location = response.headers.get("location")
        if response.status_code in REDIRECTS and location:
            return response.status_code, location[:MAX_URL_CHARS], ""
        decoder = _Decoder(response.headers.get("content-encoding", ""))
        body, raw_bytes = bytearray(), 0
        async for chunk in response.aiter_raw():
            raw_bytes += len(chunk)
            body += decoder.decode(chunk, MAX_BYTES + 1 - len(body))
            if len(body) > MAX_BYTES or raw_bytes > MAX_RAW_BYTES:
                break
    cut = len(body) > MAX_BYTES or raw_bytes > MAX_RAW_BYTES
    try:
        text = body[:MAX_BYTES].decode(response.encoding or "utf-8", errors="replace")
    except LookupError:  # a charset that is not a text encoding
        text = body[:MAX_BYTES].decode("utf-8", errors="replace")
    return response.status_code, None, text + (" ... (truncated)" if cut else "")


class _Decoder:
    """Decode a body chunk by chunk, never producing more than asked for."""

    def __init__(self, content_encoding: str) -> None:
        codings = [c.strip().lower() for c in content_encoding.split(",")]
        codings = [c for c in codings if c not in ("", "identity")]
        if len(codings) > 1 or codings[:1] not in ([], ["gzip"], ["x-gzip"], ["deflate"]):
            raise ValueError(
                f"the response is encoded as {content_encoding[:60]!r}: "
                "only gzip and deflate are supported"
            )
        self.coding = codings[0] if codings else "identity"
        wbits = {"gzip": 31, "x-gzip": 31, "deflate": 15}.get(self.coding, 0)
        self._zlib = zlib.decompressobj(wbits) if wbits else None
        self._first = True

    def decode(self, data: bytes, limit: int) -> bytes:
        """Return the next at most `limit` (> 0) decoded bytes of the body, given its next bytes."""
        if self._zlib is None:
            return data[:limit]
        out = b""
        try:
            while True:
                out += self._zlib.decompress(data, limit - len(out))
                self._first = False
                more = self._zlib.eof and self._zlib.unused_data and len(out) < limit
                if not (more and self.coding != "deflate"):
                    return out
                data, self._zlib = self._zlib.unused_data, zlib.decompressobj(31)  # gzip member
        except zlib.error as err:
            if self._first and self.coding == "deflate":  # deflate sent without its zlib header
                self._zlib, self._first = zlib.decompressobj(-15), False
                return self.decode(data, limit)
            raise ValueError(f"the body is not valid {self.coding}: {err}") from None


# One bounded client per event loop (connections belong to a loop), for every origin and
# run; each run holds at most its share of the connections at a time.
_connections = RunShare(MAX_CONNECTIONS_PER_RUN)


def http_client() -> httpx.AsyncClient:
    """Return http_get's client for the running loop: at most `MAX_CONNECTIONS` connections.

    Share it as `fetch` does, within a `_connections` slot, or one run can take them all.
    """
    return _clients.get()


def _new_client() -> httpx.AsyncClient:
    return httpx.AsyncClient(
        follow_redirects=False,  # fetch() decides, redirect by redirect
        headers={"Accept-Encoding": "gzip, deflate"},
        limits=httpx.Limits(
            max_connections=MAX_CONNECTIONS,
            max_keepalive_connections=MAX_CONNECTIONS // 2,
            keepalive_expiry=10.0,
        ),
    )


_clients = PerLoop(_new_client)


@read_only
@tool
async def http_get(url: str) -> str:
    """Fetch a URL with HTTP GET (only allowed origins) and return the status and body."""
    return await fetch(url, settings().allowed_origins(), current_context().tool_timeout_seconds)
