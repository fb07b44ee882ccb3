"""Hostile SQL: refused or stopped on time, the database unchanged, other tools unaffected."""

import asyncio
import hashlib
import importlib
import os
import sqlite3
import time
from functools import partial
from pathlib import Path

import pytest

from tests.support.loop_watch import LoopWatch
from tests.support.runs import in_run
from tools.query_database import DB_PATH, query_database
from tools.search_docs import search_docs

qd = importlib.import_module("tools.query_database")  # the module: `tools` exports the tool
DEADLINE = float(os.environ.get("HOSTILE_SQL_DEADLINE", "1"))  # MAX_SECONDS for the suite
MARGIN = 0.5

WIDE = ", ".join(f"printf('%.*c', 90000, 'x') AS c{i}" for i in range(60))
MANY_PERCENT = "'" + "%a" * 45 + "b'"
# Each row's WHERE takes about 40 ms in one step (a 49 KB needle not found in 99 KB): the old
# step-counting handler looked at the clock once every ~1,000 rows, i.e. every 40 s.
EXPENSIVE_STEPS = (
    "SELECT count(*) FROM orders "
    "WHERE instr(printf('%.*c', 99000 + id % 2, 'a'), printf('%.*cb', 49000 + id % 2, 'a'))"
)
# Each ran for seconds in one step of SQLite 3.40, where no interrupt acts (12 s for the
# first, at a 5 s deadline); now each is refused before it starts.
ONE_STEP_HOGS = [
    ("SELECT printf('%.*c', 2000000000, 'x')", "printf\\(\\): the widths and precisions"),
    ("SELECT length(printf('%.2000000000c', 'x'))", "add up to 2,000,000,000"),
    ("SELECT format('%.*c', 1000000000, 'x')", "printf\\(\\): the widths"),
    ("SELECT printf('%!.*c', 1000000000, 'x')", "printf\\(\\): the widths"),
    ("SELECT printf('%-*.*c', 5, 1000000000, 'x')", "add up to 1,000,000,005"),
    ("SELECT printf('%*.*c', -7, -1000000000, 'x')", "add up to 1,000,000,007"),
    ("SELECT printf('%.*lc', ' 2000000000 rows', 'x')", "printf\\(\\): the widths"),
    ("SELECT printf('%.*c', 2e9, 'x')", "printf\\(\\): the widths"),
    ("SELECT printf('%2000000000d', 1)", "printf\\(\\): the widths"),
    ("SELECT printf('" + "%.99999c" * 100 + "', 'x')", "add up to 199,998"),
    ("SELECT printf(printf('%.*c', 99990, '%'))", "more than 100 conversions"),
    ("SELECT printf('%' || printf('%.*c', 9000, '9') || 'c', 'x')", "printf\\(\\): the widths"),
    (
        "SELECT printf(replace(printf('%.*c', 12000, 'x'), 'x', '%.99999c'), 'x')",
        "printf\\(\\): the widths",
    ),
    ("SELECT printf('%.*c', 200000, 'x') || 'y'", "at most 100,000"),
    (
        "SELECT trim(printf('%.*c', 99990, 'b'), printf('%.*c', 7990, 'a') || 'b')",
        "trim\\(\\): 7,991 characters to trim; at most 100",
    ),
    ("SELECT ltrim(printf('%.*c', 99990, 'b'), printf('%.*c', 999, 'a'))", "ltrim\\(\\)"),
    ("SELECT rtrim(printf('%.*c', 99990, 'b'), printf('%.*c', 999, 'a'))", "rtrim\\(\\)"),
]
# The most one call may cost now (up to ~60 ms a step), on every row: stopped on time.
HEAVY_STEPS = [  # each call's arguments depend on both rows: 4,000,000 calls, not 2,000
    "SELECT count(*) FROM orders a, orders b "
    "WHERE length(printf('%.*c', 99999 - (a.id + b.id) % 2, 'x')) = 0",
    "SELECT count(*) FROM orders a, orders b "
    "WHERE length(printf(printf('%.*c', 200 + (a.id + b.id) % 2, '%'))) = 0",  # 100 conversions
    "SELECT count(*) FROM orders a, orders b WHERE "
    "trim(printf('%.*c', 99990 + (a.id + b.id) % 2, 'b'), printf('%.*c', 99, 'a') || 'b') = 'x'",
    "SELECT count(*) FROM orders a, orders b WHERE length(replace(printf('%.*c', "
    "99990 + (a.id + b.id) % 2, 'a'), printf('%.*c', 49990, 'a') || 'b', 'x')) = 0",
    EXPENSIVE_STEPS,
]

BIG = "printf('%.*c', 99990, 'a')"  # about 100 KB: the length limit
NEEDLE = "printf('%.*c', 49990, 'a') || 'b'"  # found nowhere in BIG, after 49,990 equal bytes
WIDE_UTF8 = "printf('%.*c', 33000, '€')"  # 99 KB of three-byte characters
OVER = "(ORDER BY id ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)"
# The costliest call of every allowed function within the limits: one step of SQLite each,
# which no interrupt stops; it must be short (the query ends at deadline + that step).
WORST_CALLS = {
    "count": f"SELECT count({BIG})",
    "sum": "SELECT sum(9223372036854775807)",
    "total": "SELECT total(1e308)",
    "avg": "SELECT avg(1e308)",
    "min": "SELECT min(" + ", ".join([BIG] * 15) + ")",
    "max": "SELECT max(" + ", ".join([BIG] * 15) + ")",
    "group_concat": f"SELECT length(group_concat({BIG}, {BIG}))",
    "abs": "SELECT abs(-9223372036854775807)",
    "round": "SELECT round(1e308, 2000000000)",
    "sign": "SELECT sign(-1e308)",
    "ceil": "SELECT ceil(1e308)",
    "ceiling": "SELECT ceiling(-1e308)",
    "floor": "SELECT floor(1e308)",
    "trunc": "SELECT trunc(-1e308)",
    "mod": "SELECT mod(1e308, 4.9e-324)",
    "pow": "SELECT pow(1e308, 1e308)",
    "power": "SELECT power(-1e308, 0.5)",
    "sqrt": "SELECT sqrt(1e308)",
    "exp": "SELECT exp(1e308)",
    "ln": "SELECT ln(4.9e-324)",
    "log": "SELECT log(4.9e-324, 1e308)",
    "log2": "SELECT log2(1e308)",
    "log10": "SELECT log10(1e308)",
    "pi": "SELECT pi()",
    "random": "SELECT random()",
    "length": f"SELECT length({WIDE_UTF8})",
    "lower": f"SELECT length(lower({BIG}))",
    "upper": f"SELECT length(upper({WIDE_UTF8}))",
    "trim": "SELECT trim(printf('%.*c', 99990, 'b'), printf('%.*c', 99, 'a') || 'b')",
    "ltrim": "SELECT ltrim(printf('%.*c', 99990, 'b'), printf('%.*c', 99, 'a') || 'b')",
    "rtrim": "SELECT rtrim(printf('%.*c', 99990, 'b'), printf('%.*c', 99, 'a') || 'b')",
    "substr": f"SELECT length(substr({WIDE_UTF8}, -2000000000, 2000000000))",
    "substring": f"SELECT length(substring({WIDE_UTF8}, 32999, 2000000000))",
    "replace": f"SELECT length(replace({BIG}, {NEEDLE}, 'x'))",
    "instr": f"SELECT instr({BIG}, {NEEDLE})",
    "printf": "SELECT length(printf('" + "%999d" * 100 + "', 1))",
    "format": "SELECT length(format('%.*c', 99999, 'x'))",
    "char": "SELECT char(" + ", ".join(["1114111"] * 15) + ")",
    "unicode": f"SELECT unicode({WIDE_UTF8})",
    "like": f"SELECT {BIG} LIKE '" + "%a" * 49 + "b'",
    "glob": f"SELECT {BIG} GLOB '" + "*a" * 49 + "b'",
    "coalesce": "SELECT length(coalesce(" + ", ".join(["NULL"] * 14 + [BIG]) + "))",
    "ifnull": f"SELECT length(ifnull(NULL, {BIG}))",
    "nullif": f"SELECT nullif({BIG}, {BIG})",
    "iif": f"SELECT length(iif({BIG} = {BIG}, {BIG}, 0))",
    "typeof": f"SELECT typeof({BIG})",
    "likely": f"SELECT length(likely({BIG}))",
    "unlikely": f"SELECT length(unlikely({BIG}))",
    "likelihood": f"SELECT length(likelihood({BIG}, 0.5))",
    "date": "SELECT date('now'" + ", '+2000000000 days'" * 15 + ")",
    "time": "SELECT time('now'" + ", '-2000000000 seconds'" * 15 + ")",
    "datetime": "SELECT datetime(1e308" + ", 'start of month', 'localtime'" * 7 + ")",
    "julianday": "SELECT julianday('now'" + ", '+999999999.9 years'" * 15 + ")",
    "strftime": "SELECT length(strftime(replace(printf('%.*c', 8000, 'x'), 'x', '%J'), 'now'))",
    "unixepoch": "SELECT unixepoch('now'" + ", 'weekday 6', 'start of year'" * 7 + ")",
    **{
        name: f"SELECT max(n) FROM (SELECT {call} OVER {OVER} AS n FROM orders)"
        for name, call in [
            ("row_number", "row_number()"),
            ("rank", "rank()"),
            ("dense_rank", "dense_rank()"),
            ("percent_rank", "percent_rank()"),
            ("cume_dist", "cume_dist()"),
            ("ntile", "ntile(2000000000)"),
            ("lag", "lag(id, 2000000000)"),
            ("lead", "lead(id, 2000000000)"),
            ("first_value", "first_value(id)"),
            ("last_value", "last_value(id)"),
            ("nth_value", "nth_value(id, 1999)"),
        ]
    },  # fmt: skip
}
REFUSED = [  # (sql, what the error says)
    ("DELETE FROM orders", "not authorized: only a SELECT"),
    ("UPDATE products SET unit_price = 0", "not authorized"),
    ("INSERT INTO customers (name) VALUES ('x')", "not authorized"),
    ("REPLACE INTO customers (id, name) VALUES (1, 'x')", "not authorized"),
    ("INSERT INTO orders SELECT * FROM orders", "not authorized"),
    ("WITH x AS (SELECT 1) DELETE FROM orders", "not authorized"),
    ("DROP TABLE orders", "not authorized"),
    ("DROP INDEX idx_orders_date", "not authorized"),
    ("CREATE TABLE t (x)", "not authorized"),
    ("CREATE TEMP TABLE t AS SELECT * FROM orders", "not authorized"),
    ("CREATE VIEW v AS SELECT 1", "not authorized"),
    ("CREATE TRIGGER t AFTER INSERT ON orders BEGIN SELECT 1; END", "not authorized"),
    ("ALTER TABLE orders ADD COLUMN x", "not authorized"),
    ("UPDATE sqlite_master SET sql = ''", "not authorized|may not be modified"),
    ("ATTACH DATABASE ':memory:' AS other", "not authorized"),
    ("ATTACH DATABASE '/tmp/evil.db' AS other", "not authorized"),
    ("DETACH DATABASE main", "not authorized"),
    ("PRAGMA query_only = OFF", "not authorized"),
    ("PRAGMA writable_schema = ON", "not authorized"),
    ("PRAGMA journal_mode = DELETE", "not authorized"),
    ("PRAGMA table_info(orders)", "not authorized"),
    ("VACUUM", "not authorized|authorization denied"),
    ("VACUUM INTO '/tmp/copy-of-shop.db'", "not authorized|authorization denied"),
    ("REINDEX", "not authorized"),
    ("ANALYZE", "not authorized"),
    ("BEGIN IMMEDIATE", "not authorized"),
    ("SAVEPOINT s", "not authorized"),
    ("SELECT 1; DELETE FROM orders", "one statement at a time"),
    ("SELECT 1; ATTACH DATABASE ':memory:' AS x", "one statement at a time"),
    ("SELECT randomblob(1000000000)", "randomblob\\(\\) is not allowed"),
    ("SELECT hex(randomblob(100000000))", "is not allowed"),
    ("SELECT length(randomblob(100000000)) FROM orders", "randomblob\\(\\) is not allowed"),
    ("SELECT zeroblob(100000000)", "zeroblob\\(\\) is not allowed"),
    ("SELECT zeroblob(1e9) FROM orders", "zeroblob\\(\\) is not allowed"),
    ("SELECT fts3_tokenizer('simple')", "fts3_tokenizer\\(\\) is not allowed"),
    ("SELECT load_extension('/tmp/evil.so')", "load_extension\\(\\) is not allowed"),
    ("SELECT readfile('/etc/passwd')", "no such function|not allowed"),
    ("SELECT writefile('/tmp/x', 'y')", "no such function|not allowed"),
    ("SELECT sqlite_compileoption_get(0)", "is not allowed"),
    ("SELECT json('{}')", "json\\(\\) is not allowed"),
    ("""SELECT '{"a": 1}' ->> '$.a'""", "is not allowed"),
    ("SELECT group_concat(a.status) FROM orders a, orders b", "too big"),
    (
        "WITH RECURSIVE s(x) AS (SELECT 'ab' UNION ALL SELECT x || x FROM s) "
        "SELECT max(length(x)) FROM s",
        "too big",
    ),
    ("SELECT replace(printf('%.*c', 90000, 'x'), 'x', 'xxxxxxxxxx')", "too big"),
    ("SELECT name FROM customers WHERE name LIKE '" + "%" * 150 + "'", "pattern too complex"),
    ("SELECT " + "(" * 300 + "1" + ")" * 300, "too large|stack overflow"),
    ("SELECT " + "+".join(["1"] * 200), "Expression tree is too large"),
    ("SELECT 1" + " UNION SELECT 1" * 20, "too many terms in compound SELECT"),
    ("SELECT " + ", ".join(["1"] * 100), "too many columns"),
    ("SELECT '" + "x" * 20000 + "'", "too large|too big|too long"),
    ("SELECT ?", "bindings"),
    *ONE_STEP_HOGS,
]
SLOW = [  # run until the deadline stops them
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c",
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION SELECT x + 1 FROM c) SELECT count(*) FROM c",
    "SELECT count(*) FROM orders a, orders b, orders c",
    "SELECT * FROM orders a, orders b, orders c WHERE a.id + b.id + c.id = -1",
    "SELECT sum(length(printf('%.*c', 50000 + a.id % 2, 'x'))) FROM orders a, orders b",
    "SELECT count(*) FROM orders a, orders b "
    f"WHERE printf('%.*c', 5000 + (a.id + b.id) % 2, 'a') LIKE {MANY_PERCENT}",
    EXPENSIVE_STEPS,
    "SELECT a.id FROM orders a, orders b, orders c ORDER BY random() LIMIT 1",
    "SELECT a.id, b.id FROM orders a, orders b, orders c ORDER BY random()",
    *HEAVY_STEPS,
]
ANSWERED = [  # (sql, the last line of the table)
    ("SELECT count(*) AS n FROM orders", "2000"),
    ("SELECT * FROM orders a, orders b", "... (first 50 rows shown)"),
    (f"SELECT {WIDE} FROM orders", "... (first 1 rows shown)"),
    ("SELECT substr(printf('%.*c', 90000, 'x'), 1, 3000) FROM orders", "... (first 15 rows shown)"),
    ("SELECT length(printf('%.*c', 99999, 'x'))", "99999"),  # printf at the length limit
    (  # printf past the length limit: NULL, as SQLite's printf gives
        "SELECT printf('%s%s', printf('%.*c', 60000, 'x'), printf('%.*c', 60000, 'x')) AS t",
        "NULL",
    ),
    (  # a bounded printf prints what SQLite's own prints
        "SELECT printf('%,d|%5.1f%%|%-4s|%.*c|%q', 1234567, 12.345, 'ab', 3, 'z', 'it''s')",
        "1,234,567| 12.3%|ab  |zzz|it''s",
    ),
    ("SELECT trim('xxhixx', 'x') || ltrim('  a') || rtrim('b--', '-')", "hiab"),
    ("SELECT * FROM orders WHERE id IN (" + ",".join(map(str, range(2000))) + ")", None),
    ("SELECT upper(name) FROM customers WHERE id = 0", "(no rows)"),
    ("SELECT printf('%.2f', sum(amount)) FROM orders WHERE status = 'refunded'", None),
    ("SELECT strftime('%Y', order_date) AS y, count(*) FROM orders GROUP BY y LIMIT 1", None),
    ("SELECT id, rank() OVER (ORDER BY amount DESC) FROM orders LIMIT 3", None),
    (
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 5) "
        "SELECT sum(x) FROM c",
        "15",
    ),
]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def short_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(qd, "MAX_SECONDS", DEADLINE)


async def test_hostile_queries_are_refused_or_stopped_and_change_nothing(
    short_deadline: None,
) -> None:
    before = sha256(DB_PATH)
    files_before = sorted(p.name for p in DB_PATH.parent.iterdir())
    slowest = stopped = 0.0
    async with LoopWatch() as watch:
        for sql, message in REFUSED:
            started = time.perf_counter()
            with pytest.raises(sqlite3.Error, match=message):
                await query_database.ainvoke({"sql": sql})
            slowest = max(slowest, time.perf_counter() - started)
        for sql in SLOW:
            started = time.perf_counter()
            with pytest.raises(sqlite3.OperationalError, match=f"stopped after {DEADLINE:g} s"):
                await query_database.ainvoke({"sql": sql})
            elapsed = time.perf_counter() - started
            assert DEADLINE - 0.05 < elapsed < DEADLINE + MARGIN, (sql, elapsed)
            stopped = max(stopped, elapsed)
        for sql, last_line in ANSWERED:
            started = time.perf_counter()
            text = await query_database.ainvoke({"sql": sql})
            slowest = max(slowest, time.perf_counter() - started)
            assert len(text) < qd.MAX_RESULT_CHARS + 66 * qd.MAX_CELL_CHARS
            assert last_line is None or text.splitlines()[-1] == last_line, (sql, text[-200:])
    print(  # noqa: T201
        f"\nSQL: {len(REFUSED)} refused, {len(SLOW)} stopped at {DEADLINE:g} s, {len(ANSWERED)} "
        f"answered; slowest refusal or answer {slowest * 1000:.0f} ms, slowest stopped query "
        f"{stopped:.2f} s (deadline {DEADLINE:g} s), longest loop stall "
        f"{watch.stall * 1000:.1f} ms, RSS +{(watch.rss - watch.rss0) / 1e6:.1f} MB"
    )
    assert len(REFUSED) + len(SLOW) + len(ANSWERED) >= 40
    assert slowest < DEADLINE
    assert watch.stall < 0.05
    assert sha256(DB_PATH) == before
    assert sorted(p.name for p in DB_PATH.parent.iterdir()) == files_before  # no journal, no copy


async def test_every_allowed_function_is_one_short_step_at_worst(short_deadline: None) -> None:
    assert set(WORST_CALLS) == qd.FUNCTIONS  # a function allowed later needs its worst call here
    spent = {}
    for name, sql in WORST_CALLS.items():
        started = time.perf_counter()
        try:
            await query_database.ainvoke({"sql": sql})
        except sqlite3.Error as err:  # too big, say: refused in its one step
            assert "not authorized" not in str(err), (name, err)
        spent[name] = time.perf_counter() - started
    slowest = max(spent, key=spent.__getitem__)
    print(f"\nWorst calls: the slowest, {slowest}, took {spent[slowest] * 1000:.0f} ms")  # noqa: T201
    assert spent[slowest] < MARGIN, (slowest, spent[slowest])


async def test_the_deadline_holds_for_a_query_of_few_expensive_steps() -> None:
    started = time.perf_counter()
    with pytest.raises(sqlite3.OperationalError, match=f"stopped after {qd.MAX_SECONDS:g} s"):
        await query_database.ainvoke({"sql": EXPENSIVE_STEPS})
    assert qd.MAX_SECONDS - 0.05 < time.perf_counter() - started < qd.MAX_SECONDS + MARGIN


async def timed(sql: str) -> tuple[float, str]:
    """Run a query; return how long it took and how it ended (its error, or "ok")."""
    started = time.perf_counter()
    try:
        await query_database.ainvoke({"sql": sql})
        outcome = "ok"
    except sqlite3.Error as err:
        outcome = str(err)
    return time.perf_counter() - started, outcome


SERVED = [  # another run's ordinary questions
    "SELECT count(*) AS n FROM orders WHERE status = 'refunded'",
    "SELECT name FROM customers WHERE id = 7",
    "SELECT printf('%.2f', sum(amount)) FROM orders",
]


async def test_four_hogs_of_one_run_end_on_time_while_another_run_is_served(
    short_deadline: None,
) -> None:
    async def hostile() -> list[tuple[float, str]]:
        refused = await asyncio.gather(*(timed(sql) for sql, _ in ONE_STEP_HOGS[:4]))
        return refused + await asyncio.gather(*(timed(sql) for sql in HEAVY_STEPS[:4]))

    async def ordinary() -> list[tuple[float, str]]:
        await asyncio.sleep(0.1)  # the heavy queries hold this run's share of the threads
        return [await timed(sql) for sql in SERVED]

    async with LoopWatch() as watch:
        hogs, served = await asyncio.gather(in_run(hostile), in_run(ordinary))
    slowest = max(elapsed for elapsed, _ in hogs)
    print(  # noqa: T201
        f"\nFour at once, one run: slowest {slowest:.2f} s (deadline {DEADLINE:g} s); another "
        f"run's {len(served)} queries meanwhile: slowest {max(e for e, _ in served) * 1000:.0f} "
        f"ms; longest loop stall {watch.stall * 1000:.1f} ms"
    )
    assert all("too big: printf()" in outcome for _, outcome in hogs[:4]), hogs[:4]
    for elapsed, outcome in hogs[4:]:  # two run, two wait for this run's threads: then busy
        assert "stopped after" in outcome or "busy" in outcome, outcome
        assert elapsed < DEADLINE + 1, (elapsed, outcome)
    assert [outcome for _, outcome in served] == ["ok"] * len(SERVED)
    assert sum(elapsed for elapsed, _ in served) < DEADLINE  # served while the hogs ran


async def test_four_runs_holding_every_thread_free_them_at_the_deadline(
    short_deadline: None,
) -> None:
    async def late() -> tuple[float, str]:
        await asyncio.sleep(DEADLINE / 2)  # every thread is held by a heavy query
        return await in_run(partial(timed, SERVED[0]))

    hogs = [in_run(partial(timed, sql)) for sql in HEAVY_STEPS[:4]]
    *held, (waited, outcome) = await asyncio.gather(*hogs, late())
    slowest = max(elapsed for elapsed, _ in held)
    print(  # noqa: T201
        f"\nFour at once, four runs (every thread): slowest {slowest:.2f} s (deadline "
        f"{DEADLINE:g} s); a fifth run's query, {DEADLINE / 2:g} s later: {outcome} after "
        f"{waited:.2f} s"
    )
    for elapsed, stopped in held:
        assert f"stopped after {DEADLINE:g} s" in stopped
        assert elapsed < DEADLINE + 1, (elapsed, stopped)
    assert outcome == "ok"  # not "busy": the threads were free before its own deadline


async def test_slow_queries_never_starve_search_docs(monkeypatch: pytest.MonkeyPatch) -> None:
    await search_docs.ainvoke({"query": "refund window"})  # the index is built once
    monkeypatch.setattr(qd, "MAX_SECONDS", 30.0)
    slow = "SELECT count(*) FROM orders a, orders b, orders c"
    abandoned = [asyncio.create_task(query_database.ainvoke({"sql": slow})) for _ in range(6)]
    await asyncio.sleep(0.2)
    started = time.perf_counter()
    assert "refund" in (await search_docs.ainvoke({"query": "refund window"})).lower()
    assert time.perf_counter() - started < 1.0  # 30 s behind six such queries before
    # The calls time out or are cancelled: each interrupts its query, and frees its thread.
    for task in abandoned:
        task.cancel()
    await asyncio.gather(*abandoned, return_exceptions=True)
    started = time.perf_counter()
    assert await query_database.ainvoke({"sql": "SELECT 1 AS one"}) == "one\n1"
    assert time.perf_counter() - started < 1.0


async def test_a_timed_out_tool_call_interrupts_its_query() -> None:
    slow = "SELECT count(*) FROM orders a, orders b, orders c"
    calls = [asyncio.wait_for(query_database.ainvoke({"sql": slow}), 0.3) for _ in range(8)]
    results = await asyncio.gather(*calls, return_exceptions=True)
    assert all(isinstance(r, TimeoutError) for r in results)
    started = time.perf_counter()  # eight queries on four threads: all were stopped
    assert await query_database.ainvoke({"sql": "SELECT 2 AS two"}) == "two\n2"
    assert time.perf_counter() - started < 1.0
