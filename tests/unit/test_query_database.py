import asyncio
import importlib
import signal
import sqlite3
import subprocess
import sys
import time
from functools import partial

import pytest

from core.call_details import call_details
from core.resources import PerProcess
from tests.support.runs import in_run
from tools.query_database import (
    MAX_CELL_CHARS,
    MAX_RESULT_CHARS,
    MAX_ROWS,
    query_database,
    run_query,
    schema_text,
)


def test_schema_lists_the_business_tables() -> None:
    schema = schema_text()
    for table in ("customers", "products", "orders", "support_tickets"):
        assert f"CREATE TABLE {table}" in schema


def test_select_returns_a_header_and_rows() -> None:
    lines = run_query("SELECT COUNT(*) AS n FROM orders").splitlines()
    assert lines[0] == "n"
    assert int(lines[1]) > 1000


def test_rows_are_capped() -> None:
    lines = run_query("SELECT id FROM orders").splitlines()
    assert len(lines) == 1 + MAX_ROWS + 1
    assert "first 50 rows" in lines[-1]


@pytest.mark.parametrize(
    "sql",
    [
        "DELETE FROM orders",
        "UPDATE products SET unit_price = 0",
        "INSERT INTO customers (name) VALUES ('x')",
        "DROP TABLE orders",
        "CREATE TABLE t (x)",
        "ATTACH DATABASE ':memory:' AS other",
        "PRAGMA query_only = OFF",
        "SELECT 1; DELETE FROM orders",
    ],
)
def test_the_connection_cannot_write(sql: str) -> None:
    before = run_query("SELECT COUNT(*) FROM orders")
    with pytest.raises((sqlite3.Error, sqlite3.Warning)):
        run_query(sql)
    assert run_query("SELECT COUNT(*) FROM orders") == before


async def test_tool_is_async_and_reports_bad_sql() -> None:
    assert "customers" not in await query_database.ainvoke({"sql": "SELECT 1 AS one"})
    with pytest.raises(sqlite3.OperationalError):
        await query_database.ainvoke({"sql": "SELECT * FROM no_such_table"})


def test_rows_are_capped_by_size_as_well() -> None:
    lines = run_query("SELECT printf('%.*c', 5000, 'x') AS wide FROM orders").splitlines()
    assert lines[-1] == f"... (first {len(lines) - 2} rows shown)"
    assert sum(map(len, lines)) < MAX_RESULT_CHARS + 100
    assert all(len(line) <= MAX_CELL_CHARS + 3 for line in lines)  # each cell cut at 1,000


def test_functions_outside_the_allowlist_are_refused_by_name() -> None:
    with pytest.raises(sqlite3.DatabaseError, match="not authorized: the function zeroblob"):
        run_query("SELECT length(zeroblob(100000000))")
    assert run_query("SELECT round(avg(amount), 2) > 0 AS ok FROM orders") == "ok\n1"


def test_the_deadline_stops_any_query_called_directly() -> None:
    started = time.perf_counter()
    with pytest.raises(sqlite3.OperationalError, match="stopped after 0.5 s"):
        run_query("SELECT count(*) FROM orders a, orders b, orders c", timeout=0.5)
    assert 0.45 < time.perf_counter() - started < 1.0


async def test_the_wait_for_a_thread_is_reported_to_the_call(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(importlib.import_module("tools.query_database"), "MAX_SECONDS", 0.5)
    slow = "SELECT count(*) FROM orders a, orders b, orders c"

    async def one(sql: str) -> tuple[float, str]:
        with call_details() as details:
            try:
                outcome = await query_database.ainvoke({"sql": sql})
            except sqlite3.Error as err:
                outcome = str(err)
        return details["wait_ms"], outcome

    async def one_run() -> list[tuple[float, str]]:  # two threads are this run's share
        return await asyncio.gather(one(slow), one(slow), one("SELECT 1 AS one"))

    (wait_a, a), (wait_b, b), (wait_c, c) = await in_run(one_run)
    assert "stopped after 0.5 s" in a and "stopped after 0.5 s" in b
    assert "busy" in c  # its 0.5 s went waiting for one of this run's threads
    assert wait_a < 250 and wait_b < 250 and wait_c > 400


def test_a_query_runs_in_a_process_of_its_own_and_one_that_dies_says_so(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    qd = importlib.import_module("tools.query_database")
    assert run_query("SELECT 1 AS one") == "one\n1"  # the child's Python: no site-packages
    dies = "import sys; sys.stderr.write('MemoryError\\n'); sys.exit(1)"
    monkeypatch.setattr(qd, "_CHILD", [sys.executable, "-c", dies])
    monkeypatch.setattr(qd, "_spares", PerProcess(partial(qd._Spares, 0)))
    with pytest.raises(sqlite3.OperationalError, match="the query's process failed: MemoryError"):
        run_query("SELECT 1")


async def test_a_cancelled_call_kills_its_querys_process() -> None:
    qd = importlib.import_module("tools.query_database")
    started: list[subprocess.Popen[bytes]] = []
    take = qd._Spares.take

    def recorded(self: object) -> subprocess.Popen[bytes]:
        started.append(take(self))
        return started[-1]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(qd._Spares, "take", recorded)
        call = asyncio.create_task(
            query_database.ainvoke({"sql": "SELECT count(*) FROM orders a, orders b, orders c"})
        )
        await asyncio.sleep(0.5)
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
    [child] = started
    assert child.wait(timeout=2) == -signal.SIGKILL  # long before its 5 s deadline
