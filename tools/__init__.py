"""The shop: its tools (one module each, all async, all offline) and what the agent knows.

`SHOP` is the one place the shop's domain is declared: replace it (or add a tool to
its list) to make the template yours; every prompt, the router's classifier and the
planner's examples follow from it. See the README's "Make it yours".
"""

from __future__ import annotations

from pathlib import Path

from core.domain import Domain, load_plan_examples, load_route_examples
from tools.calculator import calculator
from tools.http_get import http_get
from tools.query_database import query_database, schema_text
from tools.search_docs import search_docs

DATA = Path(__file__).parent / "data"

KNOWLEDGE = """The SQLite database (query_database) has these tables:
{schema}
Write one SELECT per question part, using only the columns above. Match customer and \
product names exactly with =. Revenue and spend count orders with status 'delivered' or \
'shipped'. Dates are text 'YYYY-MM-DD': filter years with strftime('%Y', order_date) = '2025'.
Rules and definitions (loyalty tiers, refund windows, SLAs and response targets, warranty \
terms, discounts, shipping, returns, billing, privacy) live in the documents: get them with \
search_docs, never from the database. A question part about a rule needs its own \
search_docs call.
Live data (weather, CRM accounts, exchange rates, shipment tracking, web search results) \
comes only from the web services, through http_get; never from search_docs or the database. \
Tracking an order (its carrier, shipment status, eta) is the shipping service's. Counts and \
sums of orders, tickets and amounts are a COUNT or SUM in the database, never a CRM field. \
An amount in another currency is the fx rate times the amount: a calculator call after both."""

SHOP = Domain(
    name="Northwind Devices",
    description=(
        "Northwind Devices sells laptops, monitors, audio, networking gear and accessories "
        "to companies and consumers. Its assistant looks up customers, orders, products and "
        "support tickets, searches the company's policies and product manuals, calculates, "
        "and calls the web services it is given."
    ),
    knowledge=KNOWLEDGE.format(schema=schema_text()),
    tools=(query_database, search_docs, calculator, http_get),
    route_examples=load_route_examples(DATA / "route_examples.tsv"),
    plan_examples=load_plan_examples(DATA / "plan_examples.txt"),
)

__all__ = ["SHOP", "calculator", "http_get", "query_database", "search_docs"]
