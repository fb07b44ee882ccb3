import asyncio
import random
import socket
import struct
import time
from collections.abc import Iterator

import httpx
import pytest

from evals.simulated.service_data import answer
from evals.simulated.services import PROFILES, ExternalServices, LatencyProfile


@pytest.fixture(scope="module")
def services() -> Iterator[ExternalServices]:
    with ExternalServices("fast", seed=1) as running:
        yield running


def get(services: ExternalServices, path: str, **params: str) -> httpx.Response:
    return httpx.get(f"{services.base_url}{path}", params=params, timeout=5)


def test_weather(services: ExternalServices) -> None:
    response = get(services, "/weather", city="oslo")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {
        "city": "Oslo", "temp_c": 6, "conditions": "snow showers", "humidity_pct": 79
    }  # fmt: skip
    assert get(services, "/weather", city="Washington, D.C.").json()["city"] == "Washington"


def test_crm_account(services: ExternalServices) -> None:
    body = get(services, "/crm/account", name="Acme Corp").json()
    assert body["name"] == "Acme Corp"
    assert set(body) == {
        "name", "account_manager", "health_score", "renewal_date", "open_opportunities"
    }  # fmt: skip
    assert 0 <= body["health_score"] <= 100


def test_fx(services: ExternalServices) -> None:
    assert get(services, "/fx", base="USD", quote="EUR").json() == {
        "base": "USD", "quote": "EUR", "rate": 0.92
    }  # fmt: skip
    assert get(services, "/fx", base="eur", quote="usd").json()["rate"] == round(1 / 0.92, 4)


def test_shipping_is_deterministic_for_any_order(services: ExternalServices) -> None:
    first = get(services, "/shipping/track", order_id="1330").json()
    assert first == get(services, "/shipping/track", order_id="1330").json()
    assert set(first) == {"order_id", "carrier", "status", "eta"}
    assert first["order_id"] == 1330
    assert answer("shipping", {"order_id": "2000"})["status"] == "label_created"
    assert answer("shipping", {"order_id": "1"})["status"] == "delivered"


def test_search_matches_keywords(services: ExternalServices) -> None:
    results = get(services, "/search", q="USB-C power delivery maximum").json()["results"]
    assert results[0]["title"] == "USB-C Power Delivery 3.1"
    assert "240 W" in results[0]["snippet"]
    assert set(results[0]) == {"title", "snippet", "url"}
    assert get(services, "/search", q="zebra giraffe").json() == {"results": []}


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/weather", {"city": "Atlantis"}),
        ("/crm/account", {"name": "Nobody Inc"}),
        ("/fx", {"base": "USD", "quote": "XYZ"}),
        ("/shipping/track", {"order_id": "0"}),
        ("/shipping/track", {"order_id": "2001"}),
        ("/nowhere", {}),
    ],
)
def test_unknown_keys_are_404(
    services: ExternalServices, path: str, params: dict[str, str]
) -> None:
    response = get(services, path, **params)
    assert response.status_code == 404
    assert "error" in response.json()


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/weather", {}),
        ("/crm/account", {"name": " "}),
        ("/fx", {"base": "USD"}),
        ("/shipping/track", {}),
        ("/shipping/track", {"order_id": "abc"}),
        ("/search", {}),
    ],
)
def test_missing_or_bad_params_are_400(
    services: ExternalServices, path: str, params: dict[str, str]
) -> None:
    response = get(services, path, **params)
    assert response.status_code == 400
    assert "error" in response.json()


async def test_concurrent_requests_overlap() -> None:
    profile = LatencyProfile(
        "test", 300, 400, per_endpoint={"weather": (300, 350), "crm": (350, 400)}
    )
    paths = ["/weather?city=Paris", "/crm/account?name=Initech", "/fx?base=USD&quote=GBP",
             "/shipping/track?order_id=7"]  # fmt: skip

    async def timed_get(client: httpx.AsyncClient, path: str) -> tuple[int, float, float]:
        start = time.perf_counter()
        response = await client.get(path)
        return response.status_code, start, time.perf_counter()

    with ExternalServices(profile) as running:
        async with httpx.AsyncClient(base_url=running.base_url, timeout=5) as client:
            results = await asyncio.gather(*(timed_get(client, path) for path in paths))
    assert [status for status, _, _ in results] == [200] * 4
    assert all(end - start >= 0.3 for _, start, end in results)  # each waited its latency
    # Served one at a time, the last would wait for the other three: at least 1.3 s.
    assert max(end - start for _, start, end in results) < 1.0


def test_latency_profiles_and_seed() -> None:
    assert (PROFILES["fast"].min_ms, PROFILES["fast"].max_ms) == (30, 80)
    assert (PROFILES["slow"].min_ms, PROFILES["slow"].max_ms) == (2000, 4000)
    realistic = PROFILES["realistic"]
    assert realistic.per_endpoint["search"] == (1000, 2000)
    draws = [realistic.sample("crm", random.Random(3)) for _ in range(2)]
    assert draws[0] == draws[1]
    assert 0.8 <= draws[0] <= 1.5
    assert 0.3 <= realistic.sample("weather", random.Random(4)) <= 0.6


def test_describe_names_the_base_url_and_endpoints(services: ExternalServices) -> None:
    text = services.describe()
    assert f"- weather: GET {services.base_url}/weather?city=<city>" in text
    for path in ("/crm/account?name=", "/fx?base=", "/shipping/track?order_id=", "/search?q="):
        assert f"{services.base_url}{path}" in text
    assert services.base_url.startswith("http://127.0.0.1:")
    assert not services.base_url.endswith(":0")


def test_stop_releases_the_port() -> None:
    running = ExternalServices("fast").start()
    url = f"{running.base_url}/weather?city=Oslo"
    assert httpx.get(url, timeout=5).status_code == 200
    running.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(url, timeout=1)


def test_the_same_request_waits_as_long_in_every_run() -> None:
    first, second = ExternalServices("realistic", seed=7), ExternalServices("realistic", seed=7)
    params = {"name": "Acme Corp"}
    assert first.latency("crm", params) == second.latency("crm", params)
    assert first.latency("crm", params) == first.latency("crm", dict(params))  # not a sequence
    assert 0.8 <= first.latency("crm", params) <= 1.5
    others = {first.latency("crm", {"name": n}) for n in ("Initech", "Globex Industries", "Acme")}
    assert len(others) == 3  # each request its own draw
    assert ExternalServices("realistic", seed=8).latency("crm", params) != first.latency(
        "crm", params
    )


def test_a_client_gone_before_its_answer_prints_no_traceback(
    capfd: pytest.CaptureFixture[str],
) -> None:
    with ExternalServices(LatencyProfile("short", 200, 200)) as running:
        client = socket.create_connection(("127.0.0.1", running.port))
        client.sendall(b"GET /weather?city=oslo HTTP/1.1\r\nHost: x\r\n\r\n")
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        client.close()  # a reset, as a cancelled early call leaves
        time.sleep(0.5)
        assert get(running, "/weather", city="oslo").status_code == 200
    assert "Traceback" not in capfd.readouterr().err
