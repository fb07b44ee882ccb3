"""What the stand-in web services know and answer: weather, CRM, FX, shipping, web search.

`answer(endpoint, params)` is the services' whole data logic, without latency or HTTP:
`evals.simulated.services` serves it over HTTP, and the eval dataset's facts are checked against it.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from itertools import pairwise
from typing import Any

ENDPOINTS = ("weather", "crm", "fx", "shipping", "search")

WEATHER: dict[str, dict[str, Any]] = {
    "Washington": {"temp_c": 24, "conditions": "partly cloudy", "humidity_pct": 58},
    "New York": {"temp_c": 22, "conditions": "sunny", "humidity_pct": 51},
    "London": {"temp_c": 14, "conditions": "light rain", "humidity_pct": 82},
    "Berlin": {"temp_c": 17, "conditions": "overcast", "humidity_pct": 66},
    "Ottawa": {"temp_c": 11, "conditions": "clear", "humidity_pct": 47},
    "Toronto": {"temp_c": 13, "conditions": "windy", "humidity_pct": 55},
    "Amsterdam": {"temp_c": 15, "conditions": "drizzle", "humidity_pct": 88},
    "Dublin": {"temp_c": 12, "conditions": "showers", "humidity_pct": 85},
    "Paris": {"temp_c": 19, "conditions": "sunny", "humidity_pct": 49},
    "Canberra": {"temp_c": 8, "conditions": "frost", "humidity_pct": 71},
    "Sydney": {"temp_c": 21, "conditions": "clear", "humidity_pct": 63},
    "Oslo": {"temp_c": 6, "conditions": "snow showers", "humidity_pct": 79},
    "Tokyo": {"temp_c": 27, "conditions": "humid", "humidity_pct": 74},
}

# Country codes of the `customers.country` column -> capital (a key of WEATHER).
CAPITAL_OF: dict[str, str] = {
    "US": "Washington", "UK": "London", "DE": "Berlin", "CA": "Ottawa",
    "NL": "Amsterdam", "IE": "Dublin", "FR": "Paris", "AU": "Canberra",
}  # fmt: skip

# CRM accounts of customers in shop.db (names match `customers.name` exactly):
_CRM_ROWS: dict[str, tuple[str, int, str, int]] = {
    "Acme Corp": ("Dana Whitfield", 92, "2026-03-31", 4),
    "Globex Industries": ("Marcus Lee", 67, "2026-01-15", 2),
    "Initech": ("Priya Natarajan", 41, "2025-12-01", 1),
    "Umbrella Health": ("Tom Becker", 78, "2026-06-30", 3),
    "Stark Logistics": ("Sofia Klein", 85, "2026-09-01", 5),
    "Blue Harbor Dental": ("Marcus Lee", 73, "2026-02-28", 0),
    "Pioneer Analytics Inc": ("Sofia Klein", 58, "2026-04-30", 2),
    "Riverbend Capital LLC": ("Priya Natarajan", 36, "2025-11-15", 1),
    "Evergreen Analytics Ltd": ("Dana Whitfield", 88, "2026-08-31", 6),
    "Summit Consulting Group": ("Tom Becker", 64, "2026-05-15", 3),
    "Granite Realty Co": ("Sofia Klein", 49, "2026-01-31", 1),
    "Cedar Foods Group": ("Marcus Lee", 81, "2026-07-31", 2),
}
_CRM_FIELDS = ("account_manager", "health_score", "renewal_date", "open_opportunities")
CRM: dict[str, dict[str, Any]] = {
    name: dict(zip(_CRM_FIELDS, row, strict=True)) for name, row in _CRM_ROWS.items()
}

# Units of each currency per 1 USD.
USD_RATES: dict[str, float] = {
    "USD": 1.0, "EUR": 0.92, "GBP": 0.79, "JPY": 151.2, "CAD": 1.37,
    "AUD": 1.52, "CHF": 0.88, "NOK": 10.85, "SEK": 10.62,
}  # fmt: skip

CARRIERS = ("UPS", "FedEx", "DHL", "USPS")
# Status of the newest orders (id above a limit); older ones are delivered (every 47th: exception).
SHIP_RECENT = ((1980, "label_created"), (1950, "in_transit"), (1930, "out_for_delivery"))
SHIP_BASE_DATE = date(2024, 1, 1)
# (order id, days after SHIP_BASE_DATE): ids grow with the order date, so ETAs follow orders.
_SHIP_DAYS = ((1, 0), (250, 118), (500, 246), (750, 363), (1000, 437), (1250, 514),
              (1500, 593), (1750, 662), (2000, 730))  # fmt: skip
MAX_ORDER_ID = 2000

SEARCH_INDEX: tuple[tuple[str, str], ...] = (
    ("Average laptop lifespan", "Business laptops last 3 to 5 years on average; most companies refresh them every 4 years."),  # noqa: E501
    ("USB-C Power Delivery 3.1", "USB Power Delivery 3.1 Extended Power Range raises the USB-C maximum to 240 W at 48 V."),  # noqa: E501
    ("Wi-Fi 6 explained", "Wi-Fi 6 (802.11ax) has a maximum theoretical throughput of 9.6 Gbps across all streams."),  # noqa: E501
    ("Wi-Fi 7 arrives", "Wi-Fi 7 (802.11be) supports 320 MHz channels and up to 46 Gbps theoretical throughput."),  # noqa: E501
    ("Monitor lifespan", "An LCD monitor backlight typically lasts about 30000 hours before dimming to half brightness."),  # noqa: E501
    ("Global PC shipments", "Worldwide PC shipments reached about 245 million units in 2024, up 1 percent on the year."),  # noqa: E501
    ("Thunderbolt 5 bandwidth", "Thunderbolt 5 offers 80 Gbps bidirectional bandwidth, boosting to 120 Gbps for displays."),  # noqa: E501
    ("Laptop battery health", "Lithium-ion laptop batteries keep about 80 percent capacity after 300 to 500 full charge cycles."),  # noqa: E501
    ("HDMI 2.1 specification", "HDMI 2.1 supports up to 48 Gbps bandwidth, enough for 4K at 120 Hz and 8K at 60 Hz."),  # noqa: E501
    ("Remote work equipment", "Hybrid workers use on average 2 external monitors; 62 percent of offices now provide docks."),  # noqa: E501
    ("E-waste recycling rates", "Only 22 percent of global e-waste was documented as properly collected and recycled in 2022."),  # noqa: E501
    ("Bluetooth 5.3 range", "Bluetooth 5.3 reaches up to 240 m line of sight with LE Coded PHY, typically 10 m indoors."),  # noqa: E501
    ("Noise-cancelling headphones market", "The active noise-cancelling headphones market was worth about 13 billion USD in 2024."),  # noqa: E501
    ("DDR5 memory speeds", "DDR5 laptop memory launched at 4800 MT/s; current SO-DIMM modules reach 6400 MT/s."),  # noqa: E501
    ("Video conferencing room sizes", "Most meeting rooms are huddle rooms seating 2 to 6 people, about 70 percent of all rooms."),  # noqa: E501
)  # fmt: skip
_STOPWORDS = frozenset({
    "a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "how", "in", "is", "it",
    "of", "on", "or", "the", "to", "what", "which", "with",
})  # fmt: skip


class ServiceError(Exception):
    """A request the services refuse: carries the HTTP status code."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _words(text: str) -> set[str]:
    """Lower-cased word tokens without stopwords."""
    return {w for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in _STOPWORDS}


def _lookup(table: dict[str, dict[str, Any]], key: str, what: str) -> tuple[str, dict[str, Any]]:
    """Find a key case-insensitively; 404 if unknown."""
    wanted = re.sub(r"[^a-z0-9]", "", key.lower())
    for name, row in table.items():
        if re.sub(r"[^a-z0-9]", "", name.lower()) in (wanted, wanted.removesuffix("dc")):
            return name, row
    raise ServiceError(404, f"unknown {what}: {key!r}")


def answer(endpoint: str, params: dict[str, str]) -> dict[str, Any]:
    """Compute one endpoint's JSON answer (no latency): the services' whole data logic.

    Raises:
        ServiceError: 400 for a missing or bad parameter, 404 for an unknown key or endpoint.
    """

    def param(name: str) -> str:
        if not params.get(name, "").strip():
            raise ServiceError(400, f"missing parameter {name!r}")
        return params[name].strip()

    if endpoint == "weather":
        city, row = _lookup(WEATHER, param("city"), "city")
        return {"city": city, **row}
    if endpoint == "crm":
        name, row = _lookup(CRM, param("name"), "account")
        return {"name": name, **row}
    if endpoint == "fx":
        base, quote = param("base").upper(), param("quote").upper()
        for code in (base, quote):
            if code not in USD_RATES:
                raise ServiceError(404, f"unknown currency: {code!r}")
        return {"base": base, "quote": quote, "rate": round(USD_RATES[quote] / USD_RATES[base], 4)}
    if endpoint == "shipping":
        raw = param("order_id")
        if not raw.isdigit():
            raise ServiceError(400, f"order_id must be an integer, not {raw!r}")
        order_id = int(raw)
        if not 1 <= order_id <= MAX_ORDER_ID:
            raise ServiceError(404, f"unknown order: {order_id}")
        (id0, day0), (id1, day1) = next(p for p in pairwise(_SHIP_DAYS) if order_id <= p[1][0])
        ordered = day0 + (order_id - id0) * (day1 - day0) // (id1 - id0)
        eta = SHIP_BASE_DATE + timedelta(days=ordered + 12 + order_id % 4)
        status = next((s for limit, s in SHIP_RECENT if order_id > limit), "delivered")
        if order_id % 47 == 0:
            status = "exception"
        return {"order_id": order_id, "carrier": CARRIERS[order_id % len(CARRIERS)],
                "status": status, "eta": eta.isoformat()}  # fmt: skip
    if endpoint == "search":
        query = _words(param("q"))
        scored = [(len(query & _words(f"{t} {s}")), i) for i, (t, s) in enumerate(SEARCH_INDEX)]
        hits = sorted((-score, i) for score, i in scored if score > 0)[:3]
        return {
            "results": [
                {"title": SEARCH_INDEX[i][0], "snippet": SEARCH_INDEX[i][1],
                 "url": f"https://search.example/doc/{i + 1}"}
                for _, i in hits
            ]
        }  # fmt: skip
    raise ServiceError(404, f"unknown endpoint: {endpoint!r}")
