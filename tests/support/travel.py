"""A second domain, built only from the documented extension points: a travel desk.

Three tools of another kind than the shop's (one takes several arguments), its own
knowledge, routing examples and solved plans; nothing of the shop.
"""

from __future__ import annotations

import asyncio
import json

from langchain_core.tools import tool

from core.domain import Domain, PlanExample, read_only

FLIGHTS = {
    "NW100": {"flight": "NW100", "status": "delayed", "gate": "B12", "departs": "14:35"},
    "NW200": {"flight": "NW200", "status": "on time", "gate": "C3", "departs": "09:10"},
}
HOTELS = {"Lisbon": 128.0, "Porto": 96.0, "Madrid": 140.0}


@read_only
@tool
async def flight_status(flight: str) -> str:
    """Return a flight's status, gate and departure time as JSON."""
    await asyncio.sleep(0.05)  # an API call
    info = FLIGHTS.get(flight.strip().upper())
    if info is None:
        raise LookupError(f"unknown flight {flight!r}")
    return json.dumps(info)


@read_only
@tool
async def hotel_rate(city: str, nights: int) -> str:
    """Return the total price in EUR of a standard room in a city for a number of nights."""
    await asyncio.sleep(0.05)
    nightly = HOTELS.get(city.strip().title())
    if nightly is None:
        raise LookupError(f"no hotels known in {city!r}")
    return json.dumps({"city": city, "nights": nights, "total_eur": nightly * int(nights)})


@read_only
@tool
async def convert_currency(amount: float, to: str) -> str:
    """Convert an amount in EUR to USD or GBP."""
    rates = {"USD": 1.08, "GBP": 0.85}
    rate = rates.get(to.strip().upper())
    if rate is None:
        raise LookupError(f"no rate for {to!r}")
    return json.dumps({"amount": round(float(amount) * rate, 2), "currency": to.upper()})


TRAVEL = Domain(
    name="Northwind Travel Desk",
    description="The travel desk books flights and hotels for Northwind staff.",
    knowledge="Flights are named like NW100. Hotel prices are in EUR.",
    tools=(flight_status, hotel_rate, convert_currency),
    route_examples=(
        ("direct", "hello there"),
        ("direct", "thanks, bye"),
        ("direct", "what is a layover?"),
        ("direct", "tell me a joke about airports"),
        ("tools", "is flight NW100 on time?"),
        ("tools", "which gate does NW200 leave from?"),
        ("tools", "how much is a hotel in Lisbon for 3 nights?"),
        ("tools", "what does 2 nights in Porto cost in dollars?"),
    ),
    plan_examples=(
        PlanExample("Is NW200 delayed?", '1. flight_status(flight="NW200")\n2. join()'),
        PlanExample(
            "Which gate does NW100 leave from, and what do 2 nights in Porto cost?",
            '1. flight_status(flight="NW100")\n2. hotel_rate(city="Porto", nights=2)\n3. join()',
        ),
        PlanExample(
            "How much are 4 nights in Lisbon, and is flight NW200 on time?",
            '1. hotel_rate(city="Lisbon", nights=4)\n2. flight_status(flight="NW200")\n3. join()',
        ),
        PlanExample(
            "What do 2 nights in Madrid cost in pounds?",
            '1. hotel_rate(city="Madrid", nights=2)\n'
            '2. convert_currency(amount="$1.total_eur", to="GBP")\n3. join()',
        ),
    ),
)
