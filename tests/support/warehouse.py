"""The shop taught to use the warehouse's MCP tool: the domain an operator serves with it.

`tests/support/mcp_server.py` serves `stock_level`; `MCP_SERVERS` adds it to the served
domain (`deploy.served.with_mcp_tools`). What the README asks of any new tool, a line of
knowledge and a solved plan, comes with this domain, served as
`AGENT_DOMAIN=tests.support.warehouse:DOMAIN`. The shop's products table has SKUs too:
without them the 1.5B planner looks for stock in the database (the baseline finds the
tool by its description alone).
"""

from __future__ import annotations

import dataclasses

from core.domain import PlanExample
from tools import SHOP

STOCK_KNOWLEDGE = "Units in stock come from the warehouse's stock_level tool, not the database."
STOCK_PLAN = PlanExample("Is MON-2002 in stock?", '1. stock_level(sku="MON-2002")\n2. join()')

DOMAIN = dataclasses.replace(
    SHOP,
    knowledge=f"{SHOP.knowledge}\n{STOCK_KNOWLEDGE}",
    plan_examples=(*SHOP.plan_examples, STOCK_PLAN),
)
