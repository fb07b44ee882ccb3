"""Who may do what through the served API (`langgraph.json` "auth"): callers are not operators.

- A caller may set only the run knobs of `graphs.context.Context`, within their bounds.
  A request whose `context` (or `config.configurable`, which the server copies into
  it) names an operator setting (`graphs.settings.Settings`: servers, models, allowed
  origins...) or any other unknown field is refused with 403 naming it; a knob out of
  bounds is refused with 422 naming it. This holds for runs (threads and stateless),
  assistants and crons: every way to give a run its context.
- With `API_KEYS` set (comma-separated), every request needs one of them in the
  `x-api-key` header, and each key sees only the threads (with their runs) and crons
  it made. Without it, anyone who reaches the server is the same anonymous caller:
  keep such a server on localhost (`make dev` listens on 127.0.0.1).
"""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import fields
from typing import Any

from langgraph_sdk import Auth
from langgraph_sdk.auth.types import AssistantsCreate, AssistantsUpdate, RunsCreate

from graphs.context import Context
from graphs.settings import Settings

auth = Auth()

RUN_KNOBS = frozenset(f.name for f in fields(Context))
OPERATOR_SETTINGS = frozenset(f.name for f in fields(Settings))


@auth.authenticate
async def authenticate(headers: dict[Any, Any]) -> Auth.types.MinimalUserDict:
    """Accept a request with a valid `x-api-key` (when `API_KEYS` is set), else anyone.

    LangGraph's server passes the headers as bytes, Aegra (`make stack`) as text.
    """
    keys = [k.strip() for k in os.environ.get("API_KEYS", "").split(",") if k.strip()]
    if not keys:
        return {"identity": "anonymous"}
    raw = headers.get(b"x-api-key") or headers.get("x-api-key") or b""
    given = raw.decode(errors="replace") if isinstance(raw, bytes) else str(raw)
    if not any(hmac.compare_digest(given, key) for key in keys):
        raise Auth.exceptions.HTTPException(status_code=401, detail="a valid x-api-key is needed")
    return {"identity": "key-" + hashlib.sha256(given.encode()).hexdigest()[:16]}


def check_run_settings(payload: dict[str, Any], where: str) -> None:
    """Refuse a payload whose context or configurable sets what a caller may not set.

    Raises:
        Auth.exceptions.HTTPException: 403 for an operator setting or unknown field,
            422 for a run knob out of bounds; the detail names the field.
    """
    context = payload.get("context") or {}
    configurable = (payload.get("config") or {}).get("configurable") or {}
    operator = sorted((OPERATOR_SETTINGS & set(configurable)) | (OPERATOR_SETTINGS & set(context)))
    if operator:
        names = ", ".join(operator)
        raise Auth.exceptions.HTTPException(
            status_code=403,
            detail=f"{where}: {names} cannot be set by a request; the operator sets "
            f"{', '.join(n.upper() for n in operator)} in the server's environment",
        )
    unknown = sorted(set(context) - RUN_KNOBS)
    if unknown:
        raise Auth.exceptions.HTTPException(
            status_code=403,
            detail=f"{where}: unknown context field(s) {', '.join(unknown)}; "
            f"a request may set {', '.join(sorted(RUN_KNOBS))}",
        )
    knobs = {k: v for k, v in {**configurable, **context}.items() if k in RUN_KNOBS}
    try:
        Context(**knobs)
    except (TypeError, ValueError) as err:
        raise Auth.exceptions.HTTPException(status_code=422, detail=f"{where}: {err}") from None


@auth.on.threads.create_run
async def on_run(ctx: Auth.types.AuthContext, value: RunsCreate) -> dict[str, str]:
    """A run (on a thread, or stateless): check its settings; only on the caller's threads.

    LangGraph's server hands the request's `config` and `context` in `kwargs`; Aegra
    (`make stack`) hands the request itself.
    """
    check_run_settings(dict(value.get("kwargs") or value), "run")
    return _owned(ctx, value)


@auth.on.threads
async def on_threads(ctx: Auth.types.AuthContext, value: Any) -> dict[str, str]:
    """Threads (and their runs and state): a caller sees and changes only its own."""
    return _owned(ctx, value)


@auth.on.crons
async def on_crons(ctx: Auth.types.AuthContext, value: Any) -> dict[str, str]:
    """Crons start runs: check the context they give them; a caller sees only its own."""
    payload = value.get("payload") if isinstance(value, dict) else None
    if isinstance(payload, dict):
        check_run_settings(payload, "cron")
    return _owned(ctx, value)


@auth.on.assistants.create
async def on_assistant_create(ctx: Auth.types.AuthContext, value: AssistantsCreate) -> None:
    """An assistant gives every run on it its context: check it like a run's."""
    check_run_settings(dict(value), "assistant")


@auth.on.assistants.update
async def on_assistant_update(ctx: Auth.types.AuthContext, value: AssistantsUpdate) -> None:
    """Updating an assistant's context is setting it: check it like a run's."""
    check_run_settings(dict(value), "assistant")


@auth.on
async def everything_else(ctx: Auth.types.AuthContext, value: Any) -> None:
    """Reading assistants (the graphs' own included) and the rest: allowed."""
    return None


def _owned(ctx: Auth.types.AuthContext, value: Any) -> dict[str, str]:
    """Stamp what is made with its owner; return the filter that limits reads to it."""
    owner = {"owner": ctx.user.identity}
    metadata = value.get("metadata") if isinstance(value, dict) else None
    if isinstance(metadata, dict):
        metadata.update(owner)
    elif isinstance(value, dict) and "metadata" in value:
        value["metadata"] = owner
    return owner
