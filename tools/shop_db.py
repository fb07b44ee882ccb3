"""The shop's live database: a writable copy of the packaged one, and changes written once.

The packaged `tools/data/shop.db` stays pristine. The shop reads and writes a copy of it
at `SHOP_DB_PATH` (default `$XDG_CACHE_HOME/fast-agent/shop.db`, else
`~/.cache/fast-agent/shop.db`), made on first use; `reset_database` copies the pristine
file over it again (tests and evals do, before and after a run that writes). The copy is
in WAL mode: `query_database`'s read-only connections read while a change is written,
and a change is one short `BEGIN IMMEDIATE` transaction. Processes sharing it must be on
one host (WAL needs shared memory: not a network file system).

A tool that changes the data writes through `write_once`, keyed on the tool call's id:
the first call with a key writes and records its result in the same transaction; the
same key again returns that result and writes nothing (a run retried after a crash
reuses its calls' ids), and the same key with other arguments is refused. Keys are
scoped to the caller and the thread, and stored hashed, so one caller's ids can never
match, nor reveal, another's.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import sqlite3
import threading
import unicodedata
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from langchain_core.tools import BaseTool
from langgraph.config import get_config

from core.callers import caller_id
from core.resources import PerProcess

PRISTINE = Path(__file__).resolve().parent / "data" / "shop.db"
ENV_VAR = "SHOP_DB_PATH"
BUSY_SECONDS = 5.0  # how long a change waits for another to be written
MAX_WORKERS = 2  # changes are serialized by SQLite anyway; they never take the loop's threads
LEDGER = """CREATE TABLE IF NOT EXISTS tool_writes (
  key TEXT PRIMARY KEY,  -- sha256 of (caller, thread, tool call id)
  tool TEXT NOT NULL,
  request TEXT NOT NULL,  -- the arguments, as JSON: the same key must come with the same
  result TEXT NOT NULL,  -- what the first call returned, as JSON
  written_at TEXT NOT NULL
)"""
Write = Callable[[sqlite3.Connection], dict[str, Any]]

_executor = PerProcess(partial(ThreadPoolExecutor, MAX_WORKERS, thread_name_prefix="shop_db"))
_creating = threading.Lock()


class WriteRefusedError(ValueError):
    """A change was refused: its input is invalid or the data does not allow it."""


def live_path() -> Path:
    """Return where the live copy is (or will be): `SHOP_DB_PATH`, else the user's cache.

    Raises:
        ValueError: `SHOP_DB_PATH` names the packaged database itself.
    """
    configured = os.environ.get(ENV_VAR, "").strip()
    if configured:
        path = Path(configured).expanduser().resolve()
    else:
        cache = os.environ.get("XDG_CACHE_HOME", "").strip() or Path.home() / ".cache"
        path = Path(cache).expanduser().resolve() / "fast-agent" / "shop.db"
    if path == PRISTINE:
        raise ValueError(f"{ENV_VAR} must not be the packaged database {PRISTINE}")
    return path


def live_database() -> Path:
    """Return the live copy's path, copying the pristine database there on first use."""
    path = live_path()
    if not path.exists():
        with _creating:
            if not path.exists():
                _create(path)
    return path


def reset_database() -> Path:
    """Copy the pristine database over the live copy (made if missing); return its path.

    Uses SQLite's backup, which takes the write lock: readers see the old data or the
    new, never a mix, and connections open on the copy stay valid.
    """
    path = live_path()
    if not path.exists():
        return live_database()
    with _pristine() as source, _connect(path) as target:
        source.backup(target)
    return path


def _pristine() -> contextlib.closing[sqlite3.Connection]:
    return contextlib.closing(sqlite3.connect(f"file:{PRISTINE}?mode=ro", uri=True))


def _connect(path: Path) -> contextlib.closing[sqlite3.Connection]:
    """Open a connection for changes: autocommit (transactions are explicit), keys checked."""
    conn = sqlite3.connect(path, timeout=BUSY_SECONDS, isolation_level=None)
    conn.execute("PRAGMA foreign_keys = ON")
    return contextlib.closing(conn)


def _create(path: Path) -> None:
    """Make the live copy: the pristine data in WAL mode, published atomically.

    Another process may make it at the same time: the copy is built aside and linked
    into place, and the first link wins.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    aside = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        with _pristine() as source, contextlib.closing(sqlite3.connect(aside)) as target:
            source.backup(target)
            target.execute("PRAGMA journal_mode = WAL")
        try:
            os.link(aside, path)
        except FileExistsError:
            pass  # another process made it first: use theirs
        except OSError:  # a file system without hard links
            if not path.exists():
                os.replace(aside, path)
    finally:
        aside.unlink(missing_ok=True)


def one_line(value: str, what: str, max_chars: int) -> str:
    """Return a text argument on one line, its runs of white space made single spaces.

    Raises:
        WriteRefusedError: it is empty, longer than `max_chars`, or holds control characters.
    """
    text = " ".join(value.split())
    if not text:
        raise WriteRefusedError(f"the {what} is empty")
    if len(text) > max_chars:
        raise WriteRefusedError(
            f"the {what} is {len(text)} characters long; the limit is {max_chars}"
        )
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs") for ch in text):
        raise WriteRefusedError(f"the {what} holds control characters")
    return text


def now_text() -> str:
    """Return the time as the shop's tables write it: 'YYYY-MM-DD HH:MM' (UTC)."""
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M")


def idempotency_key(tool_call_id: str) -> str:
    """Return the ledger's key for a call: its id, scoped to the caller and the thread."""
    try:
        config: dict[str, Any] = dict(get_config())
    except RuntimeError:  # not inside a run
        config = {}
    thread = (config.get("configurable") or {}).get("thread_id") or ""
    scope = json.dumps([caller_id(config), str(thread), tool_call_id])
    return hashlib.sha256(scope.encode()).hexdigest()


async def write_once(
    tool: str, tool_call_id: str, args: dict[str, Any], write: Write
) -> dict[str, Any]:
    """Run `write` in one transaction on the live copy, once per tool call id; return its result.

    `write` validates against the data (raising `WriteRefusedError`), writes, and returns
    what the tool answers. The same id again returns the first result without calling
    `write`.

    Raises:
        WriteRefusedError: `write` refused, or the id was used with other arguments.
        sqlite3.OperationalError: the database stayed busy for `BUSY_SECONDS`.
    """
    key = idempotency_key(tool_call_id)
    request = json.dumps(args, sort_keys=True, default=str)
    loop = asyncio.get_running_loop()
    # On its own thread to the end: a cancelled call still commits or rolls back whole.
    return await loop.run_in_executor(_executor.get(), _write_once, tool, key, request, write)


def _write_once(tool: str, key: str, request: str, write: Write) -> dict[str, Any]:
    path = live_database()
    try:
        return _write_in(path, tool, key, request, write)
    except sqlite3.OperationalError as err:
        if "no such table" not in str(err):
            raise
        raise sqlite3.OperationalError(
            f"the live database {path} predates this shop's tables ({err}): reset it "
            "(tools.shop_db.reset_database) or delete it to have it copied again"
        ) from err


def _write_in(path: Path, tool: str, key: str, request: str, write: Write) -> dict[str, Any]:
    with _connect(path) as conn:
        try:
            conn.execute("BEGIN IMMEDIATE")  # the write lock now: no upgrade deadlock later
        except sqlite3.OperationalError as err:
            raise sqlite3.OperationalError(
                f"the shop's database is busy with other changes ({err}); try again"
            ) from err
        try:
            conn.execute(LEDGER)
            done = conn.execute(
                "SELECT tool, request, result FROM tool_writes WHERE key = ?", (key,)
            ).fetchone()
            if done is not None:
                if (done[0], done[1]) != (tool, request):
                    raise WriteRefusedError(
                        f"this call's id was already used for another change ({done[0]} with "
                        f"{done[1]}); nothing was written"
                    )
                result: dict[str, Any] = json.loads(done[2])
            else:
                result = write(conn)
                conn.execute(
                    "INSERT INTO tool_writes VALUES (?, ?, ?, ?, ?)",
                    (key, tool, request, json.dumps(result), now_text()),
                )
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
    return result


def changes_data(tool: BaseTool) -> BaseTool:
    """Declare that a tool changes data, once per tool call id (`write_once`).

    Use it above `@tool`. Such a tool is never started before the plan asks for it (it
    is not `read_only`), and `metadata["idempotent"]` says a retried call with the same
    id is safe.
    """
    tool.metadata = {
        **(tool.metadata or {}),
        "side_effects": True,
        "idempotent": True,
        "idempotency_key": "tool_call_id",
    }
    return tool
