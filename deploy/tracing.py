"""LangSmith tracing: on only with an API key, and never able to slow or hang a run.

Policy (`configure_tracing`, run once when a graph module is imported):

- tracing is on when a LangSmith API key is set (`LANGSMITH_API_KEY` or
  `LANGCHAIN_API_KEY`) and no tracing switch (`LANGSMITH_TRACING`,
  `LANGCHAIN_TRACING_V2`, ...) is set to anything but `true`;
- otherwise it is off, even if a switch says `true`: without a key there is nowhere to send.

The decision is written back to the environment, where LangChain and LangSmith read it.

When tracing is on, runs are queued in memory and sent by LangSmith's background
threads, so a run never waits for LangSmith. What could still cost time is the exit:
LangSmith's senders are ordinary threads that Python waits for, and a send to an
unreachable endpoint takes 10 s or more per batch (a silent one: minutes; its timeout,
3 s to connect and 10 s to read, with 3 attempts and urllib3 retries, is fixed in
LangSmith). So the client we install:

- runs its senders as daemon threads (`LANGSMITH_USE_DAEMON=true`): exit does not wait;
- sends uncompressed (`LANGSMITH_DISABLE_RUN_COMPRESSION=true`): compressed batches go
  through a thread pool that Python joins at exit, without a limit;
- flushes at exit for at most `EXIT_FLUSH_SECONDS`, so the last runs still go out;
- gives its other calls (the `/info` it asks first) short timeouts.
"""

from __future__ import annotations

import atexit
import os
from collections.abc import Mapping, MutableMapping

import langsmith
from langsmith import utils as ls_utils

from core.resources import PerProcess

API_KEY_VARS = ("LANGSMITH_API_KEY", "LANGCHAIN_API_KEY")
TRACING_VARS = (
    "LANGSMITH_TRACING",
    "LANGSMITH_TRACING_V2",
    "LANGCHAIN_TRACING_V2",
    "LANGCHAIN_TRACING",
)
EXIT_FLUSH_SECONDS = 3.0
TIMEOUT_MS = (2_000, 5_000)  # connect, read: for calls other than the batched sends


def _new_client() -> langsmith.Client:
    client = langsmith.Client(timeout_ms=TIMEOUT_MS)
    atexit.register(client.flush, timeout=EXIT_FLUSH_SECONDS)
    langsmith.configure(client=client)
    return client


_client = PerProcess(_new_client)  # one per process (`core.resources`)


def tracing_wanted(env: Mapping[str, str]) -> bool:
    """Return whether to trace: an API key is set and no tracing switch says other than true."""
    has_key = any(env.get(var, "").strip() for var in API_KEY_VARS)
    switches = [env[var].strip().lower() for var in TRACING_VARS if env.get(var, "").strip()]
    return has_key and all(value == "true" for value in switches)


def configure_tracing(env: MutableMapping[str, str] = os.environ) -> bool:
    """Turn LangSmith tracing on or off by `tracing_wanted`, and return whether it is on.

    Args:
        env: where the settings are read and the decision written; LangSmith itself
            reads `os.environ`, so pass anything else only to check a decision to turn off.
    """
    on = tracing_wanted(env)
    if on:
        env["LANGSMITH_TRACING"] = "true"
        env["LANGSMITH_USE_DAEMON"] = "true"
        env["LANGSMITH_DISABLE_RUN_COMPRESSION"] = "true"
    else:
        env["LANGSMITH_TRACING"] = "false"
        for var in TRACING_VARS:  # every switch that is set, as LANGCHAIN_TRACING_V2 outranks
            if var in env:
                env[var] = "false"
    # LangSmith caches what it read before (an lru_cache the overload stubs hide)
    ls_utils.get_env_var.cache_clear()  # type: ignore[attr-defined]
    if on:
        install_client()
    return on


def install_client() -> langsmith.Client:
    """Make the one LangSmith client every tracer uses, with bounded timeouts and exit."""
    return _client.get()


TRACING = configure_tracing()
