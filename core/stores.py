"""The store of what outlives a run (learned plans): the server's, else one in this process.

Served by a LangGraph server, a graph gets the server's store (`Runtime.store`: in
memory under `langgraph dev`, Postgres on a production server), which every worker of
the server shares and whose namespaces the auth handler (`deploy.auth`) scopes to the
caller that owns them. A graph run in-process (the CLI, tests, evals) has no server
store and gets `LOCAL`, an in-memory store that lives as long as the process; tests
and evals swap it with `use_store`. Nothing else that outlives a run is kept in a
module global.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from langgraph.store.base import BaseStore
from langgraph.store.memory import InMemoryStore

LOCAL: BaseStore = InMemoryStore()
_override: ContextVar[BaseStore | None] = ContextVar("store_override", default=None)


def store_of(runtime: Any) -> BaseStore:
    """Return the run's store: the server's, else the one `use_store` set, else `LOCAL`."""
    store = getattr(runtime, "store", None)
    if isinstance(store, BaseStore):
        return store
    return _override.get() or LOCAL


@contextmanager
def use_store(store: BaseStore) -> Iterator[BaseStore]:
    """Use another store for in-process runs started in this context, for a while."""
    previous = _override.get()
    _override.set(store)
    try:
        yield store
    finally:
        _override.set(previous)
