"""Who is calling: the identity a run belongs to, for what is scoped or shared per caller.

Behind the served API (`deploy.auth`) every run carries the authenticated user the
server injects (`Runtime.server_info.user`, or `configurable.langgraph_auth_user_id`,
which the server sets and a request cannot; Aegra sets `configurable.langgraph_auth_user`
instead). What one caller teaches (learned plans), and its share of a model server's
slots, are keyed on this. In-process runs (the CLI, tests, evals) are the one local
caller unless their config names another.
"""

from __future__ import annotations

from typing import Any

from langgraph.config import get_config
from langgraph.runtime import get_runtime

LOCAL = "local"  # a run not served by the API: the CLI, tests, evals


def caller_id(config: dict[str, Any] | None = None) -> str:
    """Return the identity of the caller whose run this is (`LOCAL` outside the server)."""
    try:
        info = get_runtime().server_info
    except (RuntimeError, AttributeError):
        info = None
    user = getattr(info, "user", None)
    identity = getattr(user, "identity", None)
    if isinstance(identity, str) and identity:
        return identity
    if config is None:
        try:
            config = dict(get_config())
        except RuntimeError:  # not inside a run
            return LOCAL
    configurable = config.get("configurable") or {}
    # Both servers overwrite the user; Aegra (`make stack`) sets no `_user_id` and passes
    # one a request sends through, so the user comes first.
    user = configurable.get("langgraph_auth_user")
    found = user.get("identity") if isinstance(user, dict) else getattr(user, "identity", None)
    if not (isinstance(found, str) and found):
        found = configurable.get("langgraph_auth_user_id")
    return found if isinstance(found, str) and found else LOCAL


def thread_of() -> str | None:
    """Return the thread the running graph's checkpoints go to, if it has one."""
    try:
        thread = get_config().get("configurable", {}).get("thread_id")
    except RuntimeError:  # not inside a run
        return None
    return str(thread) if thread is not None else None
