"""Local stand-ins for slow external services (weather, CRM, FX, shipping, web search)."""

from __future__ import annotations

import argparse
import json
import random
import sys
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from evals.simulated.service_data import ServiceError, answer

ROUTES = {
    "/weather": "weather", "/crm/account": "crm", "/fx": "fx",
    "/shipping/track": "shipping", "/search": "search",
}  # fmt: skip


@dataclass(frozen=True)
class LatencyProfile:
    """How long each endpoint waits before answering, drawn uniformly from a range in ms."""

    name: str
    min_ms: float
    max_ms: float
    per_endpoint: dict[str, tuple[float, float]] = field(default_factory=dict)
    distribution: str = "uniform"

    def sample(self, endpoint: str, rng: random.Random) -> float:
        """Draw one latency in seconds for an endpoint."""
        low, high = self.per_endpoint.get(endpoint, (self.min_ms, self.max_ms))
        return rng.uniform(low, high) / 1000.0


PROFILES: dict[str, LatencyProfile] = {
    "none": LatencyProfile("none", 0, 0),
    "fast": LatencyProfile("fast", 30, 80),
    "realistic": LatencyProfile(
        "realistic", 300, 2000,
        per_endpoint={"weather": (300, 600), "fx": (300, 500), "crm": (800, 1500),
                      "shipping": (500, 1200), "search": (1000, 2000)},
    ),
    "slow": LatencyProfile("slow", 2000, 4000),
}  # fmt: skip


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    services: ExternalServices

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that left before its answer (a cancelled early call) is not an error."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class JSONHandler(BaseHTTPRequestHandler):
    """Reply with JSON; log nothing. Also the base of the tests' local fake servers."""

    def reply(self, status: int, payload: Any) -> None:
        """Send `payload` as a JSON response with the given status."""
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        """Log nothing: the runs' own records are what count."""


class _Handler(JSONHandler):
    server: _Server

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        endpoint = ROUTES.get(url.path.rstrip("/") or "/")
        params = {k: v[0] for k, v in parse_qs(url.query).items()}
        status, body = 200, {}
        try:
            if endpoint is None:
                raise ServiceError(404, f"unknown path: {url.path!r}")
            self.server.services.wait(endpoint, params)
            body = answer(endpoint, params)
        except ServiceError as err:
            status, body = err.status, {"error": str(err)}
        self.reply(status, body)


class ExternalServices:
    """The services on a local HTTP server in a background thread, each request sleeping.

    A request's latency is drawn from the seed and the request itself (endpoint and
    parameters), so the same call waits as long in every run and every graph: graphs
    compared over the same questions meet the same services.
    """

    def __init__(
        self, profile: str | LatencyProfile = "realistic", seed: int = 0, port: int = 0
    ) -> None:
        """Configure (not start) the server; port 0 picks a free port on start."""
        self.profile = PROFILES[profile] if isinstance(profile, str) else profile
        self.port = port
        self.seed = seed
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._stop_event = threading.Event()

    def latency(self, endpoint: str, params: dict[str, str] | None = None) -> float:
        """Return one request's latency in seconds: the same for the same request and seed."""
        request = "&".join(f"{k}={v}" for k, v in sorted((params or {}).items()))
        return self.profile.sample(endpoint, random.Random(f"{self.seed}|{endpoint}|{request}"))

    def wait(self, endpoint: str, params: dict[str, str] | None = None) -> None:
        """Sleep the profile's latency for one request (cut short by `stop`)."""
        self._stop_event.wait(self.latency(endpoint, params))

    def start(self) -> ExternalServices:
        """Bind 127.0.0.1 and serve in a daemon thread; return self."""
        if self._server is None:
            self._stop_event.clear()
            self._server = _Server(("127.0.0.1", self.port), _Handler)
            self._server.services = self
            self.port = self._server.server_address[1]
            self._thread = threading.Thread(
                target=self._server.serve_forever, name="external-services", daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        if self._server is not None:
            self._stop_event.set()
            self._server.shutdown()
            self._server.server_close()
            if self._thread is not None:
                self._thread.join(timeout=5)
            self._server = self._thread = None

    @property
    def base_url(self) -> str:
        """The root URL, e.g. `http://127.0.0.1:9100` (the port is known once started)."""
        return f"http://127.0.0.1:{self.port}"

    def describe(self) -> str:
        """A stable text listing each endpoint and its URL template, for the planner prompt."""
        return self.describe_at(self.base_url)

    @staticmethod
    def describe_at(base: str) -> str:
        """The services' description (`HTTP_SERVICES`) for services listening at `base`."""
        return "\n".join([
            f"- weather: GET {base}/weather?city=<city> -> temp_c, conditions, humidity_pct",
            f"- crm: GET {base}/crm/account?name=<customer name> -> account_manager, "
            "health_score (0-100), renewal_date, open_opportunities",
            f"- fx: GET {base}/fx?base=<currency>&quote=<currency> -> exchange rate "
            "(USD, EUR, GBP, JPY, CAD, AUD, CHF, NOK, SEK)",
            f"- shipping: GET {base}/shipping/track?order_id=<order id> -> carrier, status, eta",
            f"- search: GET {base}/search?q=<query> -> web search results (title, snippet, url)",
        ])  # fmt: skip

    def __enter__(self) -> ExternalServices:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> None:
    """Serve the external services until Ctrl-C."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--profile", choices=sorted(PROFILES), default="realistic")
    parser.add_argument("--port", type=int, default=9100)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    services = ExternalServices(args.profile, seed=args.seed, port=args.port).start()
    print(f"serving on {services.base_url} ({args.profile})\n{services.describe()}")  # noqa: T201
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        services.stop()


if __name__ == "__main__":
    main()
