"""One read-only SQLite query, run in a process of its own (`query_database`'s child).

Why a process: `printf`, `format` and `trim` are bounded by Python functions that SQLite
calls on every row (`tools.sql_functions`). On a thread of the server, a query calling them
on millions of rows takes and drops the GIL millions of times, and the event loop, which
needs the GIL after every wait, lost it for 60 to 250 ms at a time (measured on 2 cores,
SQLite 3.40, Python 3.11) for as long as the query ran: every other caller's stream stalled.
A child process has a GIL of its own; it also takes a crash in SQLite with it.

The parent writes one JSON request on stdin (`sql`, `db`, `seconds`) and reads one JSON
reply on stdout: `{"table": ..., "rows": [...]}`, or `{"error": class name, "message": ...,
"stopped": bool}`. The child imports the standard library and `sql_functions` only, and
starts in about 30 ms (`python -E -S`, no site-packages).
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
import threading
import time
from typing import Any

if __name__ == "__main__":  # the child: this folder is on sys.path, not the `tools` package
    from sql_functions import BoundedFunctions  # type: ignore[import-not-found,unused-ignore]
else:
    from tools.sql_functions import BoundedFunctions

Rows = list[dict[str, Any]]  # a result's rows, column -> value: what `$N.column` reads
MAX_ROWS = 50
MAX_RESULT_CHARS = 16_000  # of the table returned; rows past it are not fetched
MAX_CELL_CHARS = 1_000  # a longer value is cut

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


class Stopped(sqlite3.OperationalError):
    """The query reached its deadline (SQLite says only "interrupted")."""


class Query:
    """One query on a read-only connection, interrupted at its deadline by a timer."""

    def __init__(self, seconds: float) -> None:
        """Allow the query `seconds` from now."""
        self.deadline = time.monotonic() + seconds
        self.denied: str | None = None  # what the authorizer refused first
        self.functions = BoundedFunctions(LIMITS[sqlite3.SQLITE_LIMIT_LENGTH])

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
        return int(time.monotonic() > self.deadline)

    def run(self, sql: str, db: str) -> tuple[str, Rows]:
        """Return the query's table and rows.

        Raises:
            Stopped: at the deadline.
            sqlite3.Error: on bad SQL, anything but a read, a function not allowed or a
                limit passed; the message says which.
        """
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, check_same_thread=False)
        timer = threading.Timer(self.deadline - time.monotonic(), conn.interrupt)
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
            return _table(conn.execute(sql))
        except sqlite3.DatabaseError as err:
            if "interrupted" in str(err) and self._too_late():
                raise Stopped(str(err)) from err
            if self.denied and "authoriz" in str(err):
                raise type(err)(f"not authorized: {self.denied}") from err
            if self.functions.refused and "user-defined function" in str(err):
                raise sqlite3.OperationalError(f"too big: {self.functions.refused}") from err
            raise
        finally:
            timer.cancel()
            conn.close()
            self.functions.close()


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


def reply(request: dict[str, Any]) -> dict[str, Any]:
    """Run one request (`sql`, `db`, `seconds`); return the reply the parent reads."""
    try:
        table, rows = Query(float(request["seconds"])).run(str(request["sql"]), str(request["db"]))
    except (sqlite3.Error, sqlite3.Warning) as err:
        name = type(err).__name__ if hasattr(sqlite3, type(err).__name__) else "OperationalError"
        return {"error": name, "message": str(err), "stopped": isinstance(err, Stopped)}
    return {"table": table, "rows": rows}


if __name__ == "__main__":
    sys.stdout.write(json.dumps(reply(json.load(sys.stdin))))
    sys.stdout.flush()
    os._exit(0)  # the reply is out; tearing the interpreter down would cost ~10 ms more
