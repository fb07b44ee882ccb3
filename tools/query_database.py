"""Tool: read-only SQL over the shop's SQLite database, bounded in time, size and functions.

The tool reads the shop's live copy (`tools.shop_db`: the packaged file's data plus what
the shop's write tools changed); `run_query` reads the packaged file unless told otherwise.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from functools import cache, partial
from pathlib import Path

from langchain_core.tools import tool

from core.call_details import add_to_call
from core.domain import read_only
from core.resources import PerProcess
from tools.run_share import RunShare
from tools.shop_db import live_database
from tools.sql_process import (  # noqa: F401 (re-exported: the tool's limits)
    FUNCTIONS,
    MAX_CELL_CHARS,
    MAX_RESULT_CHARS,
    MAX_ROWS,
    Rows,
)

DB_PATH = Path(__file__).parent / "data" / "shop.db"  # pristine: never written
MAX_SECONDS = 5.0  # wall clock, from the call: waiting for a worker counts
MAX_WORKERS = 4  # queries at once, each waited for on a thread of the tool's own
MAX_WORKERS_PER_RUN = MAX_WORKERS // 2  # one run's queries leave the other threads to others
LAST_STEP_SECONDS = 1.0  # past the deadline, what the child's last step may take: then killed
SPARE_CHILDREN = 2  # started ahead, each waiting for one query: their ~35 ms start is not waited
_CHILD = [sys.executable, "-E", "-S", str(Path(__file__).with_name("sql_process.py"))]


def _start_child() -> subprocess.Popen[bytes]:
    pipe = subprocess.PIPE
    return subprocess.Popen(_CHILD, stdin=pipe, stdout=pipe, stderr=pipe)


class _Spares:
    """Child processes started ahead of their query; each runs one query and exits.

    Not `tools.isolation`'s pool: its workers import the function's package, here `tools`
    and with it langchain (1.3 s and 86 MB a worker), again after every kill, and a
    cancelled call kills one. A child here imports the standard library only (35 ms).
    """

    def __init__(self, count: int) -> None:
        self.count = count
        self._ready: list[subprocess.Popen[bytes]] = []
        self._lock = threading.Lock()

    def take(self) -> subprocess.Popen[bytes]:
        """Return a started child (one started now, if no spare is left)."""
        with self._lock:
            while self._ready:
                child = self._ready.pop()
                if child.poll() is None:
                    return child
        return _start_child()

    def top_up(self) -> None:
        """Start children until `count` are ready (on a thread: starting one takes ~2 ms)."""
        with self._lock:
            missing = self.count - len(self._ready)
        for _ in range(missing):
            child = _start_child()
            with self._lock:
                self._ready.append(child)


_executor = PerProcess(
    partial(ThreadPoolExecutor, MAX_WORKERS, thread_name_prefix="query_database")
)
_spares = PerProcess(partial(_Spares, SPARE_CHILDREN))
_threads = RunShare(MAX_WORKERS_PER_RUN)


class _Query:
    """One query, run by a child process (`tools.sql_process`), which any thread may kill."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.called = time.monotonic()
        self.deadline = self.called + timeout
        self.started: float | None = None  # when a thread began it
        self.stopped: str | None = None  # why it was stopped before its deadline
        self._child: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()

    def interrupt(self, reason: str) -> None:
        """Stop the query (now, or before it starts); safe from any thread."""
        with self._lock:
            self.stopped = self.stopped or reason
            if self._child is not None:
                self._child.kill()

    def run(self, sql: str, db_path: Path) -> tuple[str, Rows]:
        self.started = time.monotonic()
        left = self.deadline - self.started
        request = json.dumps({"sql": sql, "db": str(db_path), "seconds": left}).encode()
        with self._lock:
            if self.stopped is None and left > 0:
                self._child = _spares.get().take()
        if self._child is None:
            raise sqlite3.OperationalError(
                f"query stopped: {self.stopped}"
                if self.stopped
                else f"query not started within {self.timeout:g} s: busy"
            )
        _executor.get().submit(_spares.get().top_up)  # the next query's child, meanwhile
        try:
            out, err = self._child.communicate(request, timeout=left + LAST_STEP_SECONDS)
        except subprocess.TimeoutExpired:  # a step that outlasts the deadline: never yet seen
            self.interrupt("deadline")
            out, err = self._child.communicate()
        finally:
            with self._lock:
                code, self._child = self._child.returncode, None
        if self.stopped:
            raise sqlite3.OperationalError(self._stopped_message())
        try:
            reply = json.loads(out)
        except ValueError:
            tail = err.decode(errors="replace").strip().splitlines()[-1:] or [f"exit {code}"]
            raise sqlite3.OperationalError(f"the query's process failed: {tail[0]}") from None
        if "error" not in reply:
            return reply["table"], reply["rows"]
        if reply["stopped"]:
            raise sqlite3.OperationalError(self._stopped_message())
        raise getattr(sqlite3, reply["error"])(reply["message"])

    def _stopped_message(self) -> str:
        if self.stopped in (None, "deadline"):
            return f"query stopped after {self.timeout:g} s: too slow (narrow it down)"
        return f"query stopped: {self.stopped}"

    def waited(self) -> float:
        """Return the seconds from the call until a thread began the query (or until now)."""
        return (self.started or time.monotonic()) - self.called


def run_query(sql: str, db_path: Path = DB_PATH, timeout: float | None = None) -> str:
    """Run one query on a read-only connection; return a pipe-separated table.

    The query is interrupted `timeout` seconds (default `MAX_SECONDS`) after the call,
    whatever it is doing. At most `MAX_ROWS` rows and `MAX_RESULT_CHARS` characters are
    fetched; `tools.sql_process.LIMITS` bound what a statement may build, and the
    authorizer allows reads and the functions in `FUNCTIONS` only.

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
