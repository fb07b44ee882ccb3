"""Tools over records: order lines and sales, as pydantic models (lists of JSON objects)."""

from __future__ import annotations

import itertools
from typing import Literal

from langchain_core.tools import tool
from pydantic import BaseModel, Field

from core.domain import read_only
from evals.foreign.tools import as_json


class Item(BaseModel):
    """One line of an order: what, the unit price, how many."""

    name: str
    price: float
    quantity: int = 1


class Discount(BaseModel):
    """A discount on an order: a percentage off (10 is 10 %) or an amount off."""

    kind: Literal["percent", "amount"]
    value: float = Field(ge=0)


class Sale(BaseModel):
    """One sale: where, what, and for how much."""

    region: str
    product: str
    amount: float


def _line(item: Item) -> dict[str, float | int | str]:
    return {
        "name": item.name,
        "price": item.price,
        "quantity": item.quantity,
        "total": item.price * item.quantity,
    }


@read_only
@tool
async def rank_items(
    items: list[Item],
    by: Literal["price", "quantity", "total"] = "total",
    descending: bool = True,
    top: int | None = None,
) -> str:
    """Rank order lines by price, quantity or total (price x quantity); rows with a rank.

    Args:
        items: e.g. [{"name": "pen", "price": 1.5, "quantity": 4}].
        by: what to rank by.
        descending: largest first (the default).
        top: keep only the first this many rows.
    """
    lines = sorted(map(_line, items), key=lambda line: line[by], reverse=descending)
    ranked = [{"rank": rank, **line} for rank, line in enumerate(lines, 1)]
    return as_json(ranked[:top] if top is not None else ranked)


@read_only
@tool
async def order_total(
    items: list[Item], discount: Discount | None = None, tax_rate: float = 0.0
) -> str:
    """Total an order: subtotal, the discount, tax on the discounted amount, and the total.

    Args:
        items: the order lines, e.g. [{"name": "pen", "price": 1.5, "quantity": 4}].
        discount: optional, e.g. {"kind": "percent", "value": 10} or {"kind": "amount", "value": 5}.
        tax_rate: the sales tax as a fraction (0.2 for 20 %).
    """
    subtotal = sum(item.price * item.quantity for item in items)
    off = 0.0
    if discount is not None:
        off = subtotal * discount.value / 100 if discount.kind == "percent" else discount.value
        off = min(off, subtotal)
    tax = (subtotal - off) * tax_rate
    return as_json(
        {"subtotal": subtotal, "discount": off, "tax": tax, "total": subtotal - off + tax}
    )


@read_only
@tool
async def group_totals(sales: list[Sale], by: Literal["region", "product"] = "region") -> str:
    """Total the sales per region or per product (itertools.groupby); rows, largest total first.

    Args:
        sales: e.g. [{"region": "North", "product": "tea", "amount": 120}].
        by: what to group by.

    Returns rows: group, total, count, average.
    """
    ordered = sorted(sales, key=lambda sale: getattr(sale, by))
    rows = []
    for group, members in itertools.groupby(ordered, key=lambda sale: str(getattr(sale, by))):
        amounts = [sale.amount for sale in members]
        total = sum(amounts)
        rows.append(
            {"group": group, "total": total, "count": len(amounts), "average": total / len(amounts)}
        )
    return as_json(sorted(rows, key=lambda row: -float(row["total"])))


TOOLS = (rank_items, order_total, group_totals)
