"""Deterministic generator for the bundled Northwind Devices demo database (shop.db)."""

from __future__ import annotations

import random
import sqlite3
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

DB_PATH = Path(__file__).resolve().parent / "shop.db"
SEED = 20240101
Row = tuple[Any, ...]
START, END = date(2024, 1, 1), date(2025, 12, 31)

WARRANTY = {"laptops": 24, "monitors": 36, "audio": 12, "networking": 24, "accessories": 12}
# One "SKU name @ list price" entry per item; the SKU infix (LT, MN, ...) encodes the category.
CATALOG = """
NW-LT-1301 Northwind Aero 13 @ 999; NW-LT-1402 Northwind Aero 14 Pro @ 1399
NW-LT-1501 Northwind Forge 15 @ 1249; NW-LT-1602 Northwind Forge 16 Creator @ 2199
NW-LT-1401 Northwind Campus 14 @ 649; NW-LT-1403 Northwind Fleet 14 Business @ 1149
NW-LT-1701 Northwind Titan 17 Workstation @ 2899; NW-LT-1201 Northwind Slate 12 Convertible @ 899
NW-MN-2401 ClearView 24 FHD @ 179; NW-MN-2402 ClearView 24 USB-C @ 279
NW-MN-2701 ClearView 27 QHD @ 349; NW-MN-2702 ClearView 27 4K Pro @ 549
NW-MN-3401 ClearView 34 Ultrawide @ 699; NW-MN-3201 ClearView 32 4K Studio @ 899
NW-MN-2703 ClearView 27 Gaming 165Hz @ 429; NW-MN-1601 ClearView 16 Portable @ 229
NW-AU-0101 Tempo ANC Headphones @ 249; NW-AU-0102 Tempo Buds Pro @ 179
NW-AU-0103 Tempo Buds Lite @ 79; NW-AU-0104 Tempo Office Headset @ 119
NW-AU-0201 Huddle Conference Speaker @ 329; NW-AU-0202 Huddle Bar 4K Video Bar @ 899
NW-AU-0301 Studio Mic USB @ 129; NW-AU-0401 Soundstage Desktop Speakers @ 149
NW-NT-0601 MeshPoint AX1800 Router @ 149; NW-NT-0602 MeshPoint AX3000 2-Pack @ 279
NW-NT-0603 MeshPoint AX5400 3-Pack @ 449; NW-NT-0701 AirLink Pro Access Point @ 219
NW-NT-0801 SwitchLine 8-Port PoE Switch @ 189; NW-NT-2401 SwitchLine 24-Port Managed Switch @ 529
NW-NT-0901 EdgeGuard VPN Firewall @ 649; NW-NT-0501 CableCore Cat6 Patch Kit @ 39
NW-AC-0101 DockStation USB-C 11-in-1 @ 229; NW-AC-0102 TravelHub USB-C 6-in-1 @ 59
NW-AC-0201 Glide Wireless Mouse @ 39; NW-AC-0202 Glide Keyboard Combo @ 89
NW-AC-0301 PowerBrick 100W GaN Charger @ 69; NW-AC-0401 ErgoRise Laptop Stand @ 49
NW-AC-0501 Commuter Laptop Backpack 15 @ 79; NW-AC-0601 ProWebcam 4K @ 149
"""
CODES = {"LT": "laptops", "MN": "monitors", "AU": "audio", "NT": "networking", "AC": "accessories"}
PRODUCTS = [
    (sku, name, CODES[sku[3:5]], float(price))
    for sku, _, rest in (e.strip().partition(" ") for e in CATALOG.replace("\n", ";").split(";"))
    if sku
    for name, price in [rest.split(" @ ")]
]
# (name, segment, country, signup_date, forced order count, forced ticket count)
NAMED = [
    ("Acme Corp", "enterprise", "US", "2021-03-15", 40, 14),
    ("Globex Industries", "enterprise", "US", "2022-06-01", 30, 12),
    ("Initech", "smb", "US", "2023-02-20", 14, 8),
    ("Umbrella Health", "enterprise", "UK", "2022-11-08", 28, 11),
    ("Stark Logistics", "enterprise", "DE", "2023-05-30", 24, 10),
    ("Maria Lopez", "consumer", "US", "2023-09-12", 8, 5),
    ("Blue Harbor Dental", "smb", "CA", "2023-07-04", 10, 6),
]
WORDS = """
James Olivia Liam Emma Noah Ava Lucas Sofia Ethan Chloe Mateo Priya Arjun Hannah Kenji Fatima
Oliver Isla Daniel Grace Tomasz Lena Samuel Aisha
|Smith Nguyen Patel Kim Garcia Müller Brown Rossi Johnson Chen Dubois Walsh Okafor Larsen Silva
Tanaka Cohen Novak Murphy Haddad Schmidt Evans Ali Moreau
|Blue Summit Redwood Silver Northgate Cedar Harbor Pioneer Granite Lakeside Evergreen Brightline
Ironclad Maple Coastal Sterling Riverbend Oakridge Vertex Bluebird
|Dental Analytics Architects Legal Bakery Studios Accounting Veterinary Realty Logistics Clinic
Consulting Media Engineering Robotics Foods Capital Health Labs Retail
"""
FIRST, LAST, ADJ, NOUN = (part.split() for part in WORDS.split("|"))
SUFFIX = ["", " LLC", " Inc", " Group", " Partners", " Ltd", " Co"]
COUNTRIES = ["US"] * 10 + ["CA"] * 3 + ["UK"] * 3 + ["DE"] * 2 + ["FR", "NL", "AU", "IE"]
SUBJECTS_TEXT = """
refund: Refund request for {p}|Where is my refund for order #{o}?|Return {p} within refund window
shipping: Order #{o} not delivered yet|Tracking not updating for {p}|{p} arrived with damaged box
defect: {p} stopped working|{p} dead on arrival|Intermittent fault on {p}|{p} warranty claim
billing: Invoice for order #{o} shows wrong amount|Volume discount not applied on order #{o}|\
Duplicate charge on my card
how-to: How do I set up {p}?|Firmware update for {p}|Best settings for {p}|Loyalty tier question
"""
SUBJECTS = {  # ticket category -> subject templates
    cat: body.split("|")
    for cat, body in (ln.split(": ", 1) for ln in SUBJECTS_TEXT.split("\n") if ln)
}
SCHEMA = """
CREATE TABLE customers (
  id INTEGER PRIMARY KEY,
  name TEXT UNIQUE NOT NULL,  -- company or person, e.g. 'Acme Corp', 'Maria Lopez'
  email TEXT,
  country TEXT,  -- 'US', 'CA', 'UK', 'DE', 'FR', 'NL', 'AU', 'IE'
  segment TEXT CHECK (segment IN ('consumer', 'smb', 'enterprise')),
  signup_date TEXT  -- 'YYYY-MM-DD'
);
CREATE TABLE products (
  id INTEGER PRIMARY KEY,
  sku TEXT UNIQUE,  -- e.g. 'NW-LT-1402'
  name TEXT UNIQUE,
  category TEXT CHECK (category IN ('laptops', 'monitors', 'audio', 'networking', 'accessories')),
  unit_price REAL,  -- list price in USD
  warranty_months INTEGER
);
CREATE TABLE orders (
  id INTEGER PRIMARY KEY,
  customer_id INTEGER REFERENCES customers(id),
  product_id INTEGER REFERENCES products(id),
  quantity INTEGER,
  unit_price REAL,  -- price paid per unit, after any volume discount
  amount REAL,  -- quantity * unit_price
  order_date TEXT,  -- 'YYYY-MM-DD'
  status TEXT CHECK (status IN ('delivered', 'shipped', 'processing', 'cancelled', 'refunded'))
);
CREATE TABLE support_tickets (
  id INTEGER PRIMARY KEY,
  customer_id INTEGER REFERENCES customers(id),
  order_id INTEGER REFERENCES orders(id),  -- NULL if not about an order
  opened_at TEXT,  -- 'YYYY-MM-DD HH:MM'
  closed_at TEXT,  -- 'YYYY-MM-DD HH:MM', NULL while open or pending
  priority TEXT CHECK (priority IN ('low', 'medium', 'high', 'urgent')),
  status TEXT CHECK (status IN ('open', 'pending', 'resolved', 'closed')),
  category TEXT CHECK (category IN ('refund', 'shipping', 'defect', 'billing', 'how-to')),
  subject TEXT
);
CREATE TABLE refund_requests (
  id INTEGER PRIMARY KEY,
  order_id INTEGER NOT NULL REFERENCES orders(id),
  amount REAL NOT NULL CHECK (amount > 0),  -- USD, at most what is left of the order's amount
  reason TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('requested', 'approved', 'rejected', 'paid')),
  requested_at TEXT NOT NULL  -- 'YYYY-MM-DD HH:MM' (UTC)
);
CREATE INDEX idx_orders_customer ON orders(customer_id);
CREATE INDEX idx_orders_product ON orders(product_id);
CREATE INDEX idx_orders_date ON orders(order_date);
CREATE INDEX idx_tickets_customer ON support_tickets(customer_id);
CREATE INDEX idx_tickets_order ON support_tickets(order_id);
CREATE INDEX idx_tickets_opened ON support_tickets(opened_at);
CREATE INDEX idx_refunds_order ON refund_requests(order_id);
"""


def rand_date(rng: random.Random, lo: date, hi: date) -> date:
    """Return a uniformly random date in [lo, hi]."""
    return lo + timedelta(days=rng.randint(0, (hi - lo).days))


def make_customers(rng: random.Random, n: int = 200) -> list[Row]:
    """Build customer rows: the named demo accounts first, then generated ones.

    Args:
        rng: Seeded random generator.
        n: Total number of customers.

    Returns:
        Rows of (id, name, email, country, segment, signup_date).

    """
    rows, seen = [], set()
    for name, seg, country, signup, _, _ in NAMED:
        rows.append((name, seg, country, signup))
        seen.add(name)
    while len(rows) < n:
        seg = rng.choices(["consumer", "smb", "enterprise"], [58, 32, 10])[0]
        if seg == "consumer":
            name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        else:
            name = f"{rng.choice(ADJ)} {rng.choice(NOUN)}{rng.choice(SUFFIX)}"
        if name in seen:
            continue
        seen.add(name)
        hi = date(2025, 10, 31) if rng.random() < 0.3 else date(2023, 12, 31)
        rows.append(
            (name, seg, rng.choice(COUNTRIES), rand_date(rng, date(2021, 1, 1), hi).isoformat())
        )
    out = []
    for i, (name, seg, country, signup) in enumerate(rows, 1):
        slug = "".join(c for c in name.lower().replace(" ", ".") if c.isalnum() or c == ".")
        domain = "example.com" if seg == "consumer" else slug.replace(".", "") + ".example"
        email = f"{slug}@{domain}" if seg == "consumer" else f"purchasing@{domain}"
        out.append((i, name, email, country, seg, signup))
    return out


def order_status(rng: random.Random, d: date) -> str:
    """Pick an order status consistent with how recent the order date is."""
    age = (END - d).days
    if age <= 3:
        return rng.choices(["processing", "cancelled"], [92, 8])[0]
    if age <= 14:
        return rng.choices(["shipped", "processing", "delivered"], [70, 10, 20])[0]
    return rng.choices(["delivered", "refunded", "cancelled"], [89, 6, 5])[0]


def make_orders(rng: random.Random, customers: list[Row], n: int = 2000) -> list[Row]:
    """Build order rows with skewed spend and volume discounts baked into unit_price.

    Args:
        rng: Seeded random generator.
        customers: Customer rows from make_customers.
        n: Number of orders.

    Returns:
        Rows of (id, customer_id, product_id, quantity, unit_price, amount, order_date, status).

    """
    weight = {"consumer": 1.0, "smb": 1.5, "enterprise": 2.5}
    picks = [c for c, nm in zip(customers[: len(NAMED)], NAMED, strict=True) for _ in range(nm[4])]
    rest = customers[len(NAMED) :]
    picks += rng.choices(
        rest, [weight[c[4]] * rng.uniform(0.3, 1.7) for c in rest], k=n - len(picks)
    )
    rows = []
    for cust in picks:
        seg = cust[4]
        pid = rng.randint(1, len(PRODUCTS))
        price = PRODUCTS[pid - 1][3]
        cheap = price < 300
        if seg == "consumer":
            qty = rng.choices([1, 2, 3], [82, 14, 4])[0]
        elif seg == "smb":
            qty = rng.choices(
                [1, 2, 3, 5, 10, 12], [40, 22, 14, 12, 8 if cheap else 3, 4 if cheap else 1]
            )[0]
        else:
            big = [6, 4] if cheap else [2, 1]
            qty = rng.choices([1, 2, 3, 5, 10, 15, 25, 40], [20, 18, 15, 15, 14, 8, *big])[0]
        disc = 0.08 if qty >= 25 else 0.05 if qty >= 10 else 0.0
        unit = round(price * (1 - disc), 2)
        lo = max(START, date.fromisoformat(cust[5]))
        d = rand_date(rng, lo, END)
        if d < date(2025, 1, 1) and rng.random() < 0.2:  # mild growth into 2025
            d = rand_date(rng, max(lo, date(2025, 1, 1)), END)
        rows.append(
            [cust[0], pid, qty, unit, round(qty * unit, 2), d.isoformat(), order_status(rng, d)]
        )
    rows.sort(key=lambda r: (r[5], r[0], r[1]))
    return [(i, *r) for i, r in enumerate(rows, 1)]


def make_tickets(
    rng: random.Random, customers: list[Row], orders: list[Row], n: int = 600
) -> list[Row]:
    """Build support tickets linked to customers and (mostly) to their orders.

    Args:
        rng: Seeded random generator.
        customers: Customer rows.
        orders: Order rows.
        n: Number of tickets.

    Returns:
        Rows of (id, customer_id, order_id, opened_at, closed_at, priority, status, category,
        subject).

    """
    by_cust: dict[int, list[Row]] = {}
    for o in orders:
        by_cust.setdefault(o[1], []).append(o)
    picks = [c for c, nm in zip(customers[: len(NAMED)], NAMED, strict=True) for _ in range(nm[5])]
    rest = [c for c in customers[len(NAMED) :] if c[0] in by_cust]
    picks += rng.choices(rest, [len(by_cust[c[0]]) for c in rest], k=n - len(picks))
    resolve_hours = {"urgent": (2, 30), "high": (6, 90), "medium": (20, 150), "low": (48, 280)}
    end_dt = datetime(2025, 12, 31, 18, 0)
    rows = []
    for cust in picks:
        order = rng.choice(by_cust[cust[0]]) if rng.random() < 0.85 else None
        if order and order[7] == "refunded":
            cat = rng.choices(["refund", "billing", "defect"], [75, 15, 10])[0]
        else:
            cat = rng.choices(
                ["shipping", "defect", "billing", "how-to", "refund"], [26, 26, 16, 22, 10]
            )[0]
        if order is None and cat in ("refund", "shipping"):
            cat = "how-to"
        lag = timedelta(days=rng.randint(1, 45))
        base = date.fromisoformat(order[6]) + lag if order else rand_date(rng, START, END)
        opened = datetime.combine(min(base, END), datetime.min.time()) + timedelta(
            hours=rng.randint(7, 19), minutes=rng.choice([0, 5, 12, 20, 30, 41, 45, 55])
        )
        opened = min(opened, end_dt)
        pw = [20, 40, 28, 12] if cust[4] == "enterprise" else [35, 40, 19, 6]
        prio = rng.choices(["low", "medium", "high", "urgent"], pw)[0]
        age_h = (end_dt - opened).total_seconds() / 3600
        hours = rng.uniform(*resolve_hours[prio])
        if hours > age_h or rng.random() < 0.04:
            status, closed = rng.choice(["open", "pending"]), None
        else:
            status = rng.choices(["closed", "resolved"], [70, 30])[0]
            closed = (opened + timedelta(hours=hours)).strftime("%Y-%m-%d %H:%M")
        pname = PRODUCTS[order[2] - 1][1] if order else rng.choice(PRODUCTS)[1]
        subject = rng.choice(SUBJECTS[cat]).format(p=pname, o=order[0] if order else "")
        if order is None:
            subject = subject.replace(" #", "").replace("order  ", "order ")
        oid, opened_s = (order[0] if order else None), opened.strftime("%Y-%m-%d %H:%M")
        rows.append([cust[0], oid, opened_s, closed, prio, status, cat, subject])
    rows.sort(key=lambda r: (r[2], r[0]))
    return [(i, *r) for i, r in enumerate(rows, 1)]


def build(path: Path = DB_PATH) -> dict[str, int]:
    """(Re)write the SQLite database at ``path``.

    Args:
        path: Destination file; an existing file is replaced.

    Returns:
        Mapping of table name to row count.

    """
    rng = random.Random(SEED)
    customers = make_customers(rng)
    orders = make_orders(rng, customers)
    tickets = make_tickets(rng, customers, orders)
    products = [(i, *p, WARRANTY[p[2]]) for i, p in enumerate(PRODUCTS, 1)]
    tables = {"customers": customers, "products": products, "orders": orders}
    tables["support_tickets"] = tickets
    path.unlink(missing_ok=True)
    con = sqlite3.connect(path)
    try:
        con.executescript(SCHEMA)
        for table, rows in tables.items():
            marks = ", ".join("?" * len(rows[0]))
            con.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)
        con.commit()
        con.execute("VACUUM")
    finally:
        con.close()
    return {table: len(rows) for table, rows in tables.items()}


def main() -> None:
    """Build the database and report row counts."""
    print(f"wrote {DB_PATH}: {build()}")  # noqa: T201


if __name__ == "__main__":
    main()
