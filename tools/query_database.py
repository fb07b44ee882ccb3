"""Tool: read-only SQL over the shop's SQLite database, bounded in time, size and functions.

The tool reads the shop's live copy (`tools.shop_db`: the packaged file's data plus what
the shop's write tools changed); `run_query` reads the packaged file unless told otherwise.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from functools import cache, partial
from pathlib import Path
from typing import Any

from langchain_core.tools import tool

from core.call_details import add_to_call
from core.domain import read_only
from core.resources import PerProcess
from tools.run_share import RunShare
from tools.shop_db import live_database
from tools.sql_functions import BoundedFunctions

Rows = list[dict[str, Any]]  # a result's rows, column -> value: what `$N.column` reads
DB_PATH = Path(__file__).parent / "data" / "shop.db"  # pristine: never written
MAX_ROWS = 50
MAX_SECONDS = 5.0  # wall clock, from the call: waiting for a worker counts
MAX_RESULT_CHARS = 16_000  # of the table returned; rows past it are not fetched
MAX_CELL_CHARS = 1_000  # a longer value is cut
MAX_WORKERS = 4  # queries run on their own threads, never the event loop's default executor
MAX_WORKERS_PER_RUN = MAX_WORKERS // 2  # one run's queries leave the other threads to others

# What one statement may build; past these SQLite stops it with an error.
LIMITS = {
    sqlite3.SQLITE_LIMIT_LENGTH: 100_000,  # bytes in a string, blob or row
    sqlite3.SQLITE_LIMIT_SQL_LENGTH: 10_000,
    sqlite3.SQLITE_LIMIT_COLUMN: 64,
    sqlite3.SQLITE_LIMIT_EXPR_DEPTH: 100,
    sqlite3.SQLITE_LIMIT_COMPOUND_SELECT: 10,
    sqlite3.SQLITE_LIMIT_VDBE_OP: 25_000,
    sqlite3.SQLITE_LIMIT_FUNCTION_ARG: 16,
    sqlite3.SQLITE_LIMIT_ATTACHED: 0,
    sqlite3.SQLITE_LIMIT_LIKE_PATTERN_LENGTH: 100,
    sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER: 10,
    sqlite3.SQLITE_LIMIT_TRIGGER_DEPTH: 1,
    sqlite3.SQLITE_LIMIT_WORKER_THREADS: 0,
}
# The SQL functions a reporting SELECT needs; any other (randomblob, zeroblob,
# load_extension, fts3_tokenizer, json_*, sqlite_*, ...) is refused by the authorizer.
# Each runs in one step, which no interrupt stops: printf, format and trim(X, Y) are
# bounded per call (`tools.sql_functions`); the others finish within the limits above in
# well under 0.1 s (the slowest, replace and instr on two 100 KB strings: 30 to 60 ms).
FUNCTIONS = frozenset({
    "count", "sum", "total", "avg", "min", "max", "group_concat",  # aggregate
    "abs", "round", "sign", "ceil", "ceiling", "floor", "trunc", "mod", "pow", "power", "sqrt",
    "exp", "ln", "log", "log2", "log10", "pi", "random",  # numbers
    "length", "lower", "upper", "trim", "ltrim", "rtrim", "substr", "substring", "replace",
    "instr", "printf", "format", "char", "unicode", "like", "glob",  # text
    "coalesce", "ifnull", "nullif", "iif", "typeof", "likely", "unlikely", "likelihood",
    "date", "time", "datetime", "julianday", "strftime", "unixepoch",  # dates
    "row_number", "rank", "dense_rank", "percent_rank", "cume_dist", "ntile", "lag", "lead",
    "first_value", "last_value", "nth_value",  # window
})  # fmt: skip
_READ_ACTIONS = {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_RECURSIVE}

_executor = PerProcess(
    partial(ThreadPoolExecutor, MAX_WORKERS, thread_name_prefix="query_database")
)
_threads = RunShare(MAX_WORKERS_PER_RUN)


class _Query:
    """One query on its own read-only connection, which any thread may interrupt."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.called = time.monotonic()
        self.deadline = self.called + timeout
        self.started: float | None = None  # when a thread began it
        self.stopped: str | None = None  # why it was interrupted
        self.denied: str | None = None  # what the authorizer refused first
        self.functions = BoundedFunctions(LIMITS[sqlite3.SQLITE_LIMIT_LENGTH])
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    def interrupt(self, reason: str) -> None:
        """Stop the query (now, or as soon as it starts); safe from any thread."""
        with self._lock:
            self.stopped = self.stopped or reason
            if self._conn is not None:
                self._conn.interrupt()

    def _authorize(self, action: int, arg1: str | None, arg2: str | None, *_: object) -> int:
        """Allow reads and the listed functions only: nothing can write, attach or set pragmas."""
        if action == sqlite3.SQLITE_FUNCTION and (arg2 or "").lower() in FUNCTIONS:
            return sqlite3.SQLITE_OK
        if action in _READ_ACTIONS:
            return sqlite3.SQLITE_OK
        if self.denied is None:
            allowed = "; allowed: " + ", ".join(sorted(FUNCTIONS))
            self.denied = (
                f"the function {arg2}() is not allowed{allowed}"
                if action == sqlite3.SQLITE_FUNCTION
                else "only a SELECT that reads the shop's tables is allowed"
            )
        return sqlite3.SQLITE_DENY

    def _too_late(self) -> int:
        return int(self.stopped is not None or time.monotonic() > self.deadline)

    def run(self, sql: str, db_path: Path) -> tuple[str, Rows]:
        self.started = time.monotonic()
        if self._too_late():
            raise sqlite3.OperationalError(f"query not started within {self.timeout:g} s: busy")
        conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, check_same_thread=False)
        timer = threading.Timer(self.deadline - time.monotonic(), self.interrupt, ("deadline",))
        timer.daemon = True
        timer.start()
        try:
            for limit, value in LIMITS.items():
                conn.setlimit(limit, value)
            self.functions.install(conn)
            conn.set_authorizer(self._authorize)
            # The timer interrupts at the deadline; this also catches an interrupt that
            # fell before the statement started (SQLite then forgets it).
            conn.set_progress_handler(self._too_late, 100_000)
            with self._lock:
                self._conn = conn
                if self.stopped:
                    conn.interrupt()
            return _table(conn.execute(sql))
        except sqlite3.DatabaseError as err:
            if "interrupted" in str(err) and self._too_late():
                reason = self.stopped or "deadline"
                raise sqlite3.OperationalError(
                    f"query stopped after {self.timeout:g} s: too slow (narrow it down)"
                    if reason == "deadline"
                    else f"query stopped: {reason}"
                ) from err
            if self.denied and "authoriz" in str(err):
                raise type(err)(f"not authorized: {self.denied}") from err
            if self.functions.refused and "user-defined function" in str(err):
                raise sqlite3.OperationalError(f"too big: {self.functions.refused}") from err
            raise
        finally:
            timer.cancel()
            with self._lock:
                self._conn = None
            conn.close()
            self.functions.close()

    def waited(self) -> float:
        """Return the seconds from the call until a thread began the query (or until now)."""
        return (self.started or time.monotonic()) - self.called


def _cell(value: object) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bytes):
        value = value[:MAX_CELL_CHARS]
    text = str(value)
    return text if len(text) <= MAX_CELL_CHARS else text[:MAX_CELL_CHARS] + "..."


def _value(value: object) -> object:
    """Return a cell as a JSON value (what `$N.column` references read)."""
    if isinstance(value, bytes):
        return _cell(value)
    if isinstance(value, str) and len(value) > MAX_CELL_CHARS:
        return _cell(value)
    return value


def _table(cursor: sqlite3.Cursor) -> tuple[str, Rows]:
    """Fetch rows one at a time into a pipe-separated table, up to the row and size caps.

    Returns the table and the same rows as dicts (column -> value).
    """
    columns = [d[0] for d in cursor.description or []]
    lines, rows = [" | ".join(columns)], []
    size, cut = len(lines[0]), False
    for row in cursor:
        line = " | ".join(_cell(v) for v in row)
        if len(lines) > MAX_ROWS or (len(lines) > 1 and size + len(line) > MAX_RESULT_CHARS):
            cut = True
            break
        lines.append(line)
        rows.append({c: _value(v) for c, v in zip(columns, row, strict=False)})
        size += len(line) + 1
    if cut:
        lines.append(f"... (first {len(lines) - 1} rows shown)")
    elif len(lines) == 1:
        lines.append("(no rows)")
    return "\n".join(lines), rows


def run_query(sql: str, db_path: Path = DB_PATH, timeout: float | None = None) -> str:
    """Run one query on a read-only connection; return a pipe-separated table.

    The query is interrupted `timeout` seconds (default `MAX_SECONDS`) after the call,
    whatever it is doing. At most `MAX_ROWS` rows and `MAX_RESULT_CHARS` characters are
    fetched; `LIMITS` bound what a statement may build, and the authorizer allows reads
    and the functions in `FUNCTIONS` only.

    Raises:
        sqlite3.Error: on bad SQL, anything but a read, a function not allowed, a limit
            passed, or a query running too long.
    """
    return _Query(MAX_SECONDS if timeout is None else timeout).run(sql, db_path)[0]


@read_only
@tool(response_format="content_and_artifact")
async def query_database(sql: str) -> tuple[str, Rows]:
    """Run one read-only SQLite SELECT over the shop database (customers, products, orders, support_tickets, refund_requests) and return the rows."""  # noqa: E501
    query = _Query(MAX_SECONDS)
    try:  # on the tool's own threads: slow queries never hold up asyncio.to_thread users
        async with _threads.slot():  # this run's share of them; past its deadline: busy
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(_executor.get(), _on_live_copy, query, sql)
    except asyncio.CancelledError:  # the tool call timed out or was cancelled
        query.interrupt("the tool call was cancelled")
        raise
    finally:
        add_to_call(wait_ms=query.waited() * 1000)


def _on_live_copy(query: _Query, sql: str) -> tuple[str, Rows]:
    """Run the query on the live copy (made on first use: not on the event loop)."""
    return query.run(sql, live_database())


@cache
def schema_text(db_path: Path = DB_PATH) -> str:
    """Return the database's CREATE TABLE statements (for the planner's prompt)."""
    uri = f"file:{db_path}?mode=ro"
    with sqlite3.connect(uri, uri=True) as conn:
        rows = conn.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND sql IS NOT NULL ORDER BY name"
        ).fetchall()
    return "\n".join(sql for (sql,) in rows)
