"""Who may do what through the served API (`langgraph.json` "auth"): callers are not operators.

- A caller may set only the run knobs of `core.context.Context`, within their bounds.
  A request whose `context` (or `config.configurable`, which the server copies into
  it) names an operator setting (`core.settings.Settings`: servers, models, allowed
  origins...) or any other unknown field is refused with 403 naming it; a knob out of
  bounds is refused with 422 naming it. This holds for runs (threads and stateless),
  assistants and crons: every way to give a run its context.
- With `API_KEYS` set (comma-separated), every request needs one of them in the
  `x-api-key` header, and each key is one caller (`key-` and a prefix of the key's
  SHA-256: what `core.callers` reads inside a run). A caller sees and changes only
  what it made: its threads (with their runs and state), assistants and crons carry
  `owner` in their metadata, and its store items live in namespaces whose first
  label is its identity. The graphs' own assistants (made by the server from
  `langgraph.json`) are readable and runnable by every caller and changed by none.
  A request no key vouches for (`langgraph dev` lets LangGraph Studio in without
  one) is refused. Without `API_KEYS`, anyone who reaches the server is the same
  anonymous caller: keep such a server on localhost (`make dev` listens on 127.0.0.1).
- What a request would store is measured first (`deploy.input_size`): a run's or
  cron's input over `MAX_INPUT_MESSAGES` messages, or any request storing more than
  `MAX_INPUT_CHARS` characters, is refused with 413 before anything is kept. A
  thread's state changes only through runs: the server does not show this guard the
  values of a direct state update, so those are refused (403).
"""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import fields
from typing import Any

from langgraph_sdk import Auth
from langgraph_sdk.auth.types import AssistantsCreate, AssistantsUpdate, RunsCreate

from core.context import Context
from core.settings import Settings, settings
from deploy.input_size import InputTooLargeError, check_chars, check_messages

auth = Auth()

RUN_KNOBS = frozenset(f.name for f in fields(Context))
OPERATOR_SETTINGS = frozenset(f.name for f in fields(Settings))
SYSTEM = {"created_by": "system"}  # the metadata the server gives the graphs' own assistants

Filter = dict[str, Any]


def _api_keys() -> list[str]:
    return [k.strip() for k in os.environ.get("API_KEYS", "").split(",") if k.strip()]


def identity_of(key: str) -> str:
    """Return the identity of the caller holding an API key (no part of the key itself)."""
    return "key-" + hashlib.sha256(key.encode()).hexdigest()[:16]


@auth.authenticate
async def authenticate(headers: dict[Any, Any]) -> Auth.types.MinimalUserDict:
    """Accept a request with a valid `x-api-key` (when `API_KEYS` is set), else anyone.

    LangGraph's server passes the headers as bytes, Aegra (`make stack`) as text.
    """
    keys = _api_keys()
    if not keys:
        return {"identity": "anonymous"}
    raw = headers.get(b"x-api-key") or headers.get("x-api-key") or b""
    given = raw.decode(errors="replace") if isinstance(raw, bytes) else str(raw)
    if not any(hmac.compare_digest(given, key) for key in keys):
        raise Auth.exceptions.HTTPException(status_code=401, detail="a valid x-api-key is needed")
    return {"identity": identity_of(given)}


def caller(ctx: Auth.types.AuthContext) -> str:
    """Return the caller's identity; with `API_KEYS` set, only one a key vouches for.

    Raises:
        Auth.exceptions.HTTPException: 401 for a user `authenticate` did not make
            (`langgraph dev` lets Studio's `x-auth-scheme: langsmith` requests past it).
    """
    identity = str(ctx.user.identity)
    keys = _api_keys()
    if keys and identity not in {identity_of(key) for key in keys}:
        raise Auth.exceptions.HTTPException(status_code=401, detail="a valid x-api-key is needed")
    return identity


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


def check_size(value: Any, where: str, run: dict[str, Any] | None = None) -> None:
    """Refuse a request that would store too much: 413 naming the limit and its setting.

    Args:
        value: everything the request would store (measured in characters).
        where: what it is, for the message.
        run: the run payload (`input`, `command`) whose messages are counted, if any.
    """
    operator = settings()
    try:
        if run is not None:
            check_messages(run, where, operator.max_input_messages)
        check_chars(value, where, operator.max_input_chars)
    except InputTooLargeError as err:
        raise Auth.exceptions.HTTPException(status_code=413, detail=str(err)) from None


@auth.on.threads.create_run
async def on_run(ctx: Auth.types.AuthContext, value: RunsCreate) -> Filter:
    """A run (on a thread, or stateless): its settings and size checked; the caller's threads.

    LangGraph's server hands the request's `config` and `context` in `kwargs`; Aegra
    (`make stack`) hands the request itself.
    """
    identity = caller(ctx)
    kwargs = dict(value.get("kwargs") or value)
    check_run_settings(kwargs, "run")
    check_size(value, "run", run=kwargs)
    return _owned(identity, value)


@auth.on.threads.update
async def on_thread_update(ctx: Auth.types.AuthContext, value: Any) -> Filter:
    """Changing a thread (metadata, cancelling its runs): only the caller's; no state writes.

    A direct state update (`POST /threads/{id}/state`, `POST /threads` with
    `supersteps`) reaches this handler with nothing but the thread's id, so its values
    could not be measured: it is refused, and a thread's state changes only through runs.
    """
    identity = caller(ctx)
    if set(value) == {"thread_id"}:
        raise Auth.exceptions.HTTPException(
            status_code=403,
            detail="thread state: a thread's state changes only through runs, whose input is "
            "checked; send the messages as a run's input",
        )
    check_size(value, "thread")
    return _owned(identity, value)


@auth.on.threads
async def on_threads(ctx: Auth.types.AuthContext, value: Any) -> Filter:
    """Threads (and their runs and state): a caller sees and deletes only its own."""
    identity = caller(ctx)
    if ctx.action == "create":
        check_size(value, "thread")
    return _owned(identity, value)


@auth.on.assistants.create
async def on_assistant_create(ctx: Auth.types.AuthContext, value: AssistantsCreate) -> Filter:
    """An assistant gives every run on it its context: checked like a run's; the caller's."""
    identity = caller(ctx)
    check_run_settings(dict(value), "assistant")
    check_size(value, "assistant")
    return _stamp_assistant(identity, value)


@auth.on.assistants.update
async def on_assistant_update(ctx: Auth.types.AuthContext, value: AssistantsUpdate) -> Filter:
    """Updating an assistant's context is setting it; only the caller's own (not the graphs')."""
    identity = caller(ctx)
    check_run_settings(dict(value), "assistant")
    check_size(value, "assistant")
    return _stamp_assistant(identity, value)


@auth.on.assistants.delete
async def on_assistant_delete(ctx: Auth.types.AuthContext, value: Any) -> Filter:
    """Only the caller's own assistants can be deleted (not the graphs')."""
    return {"owner": caller(ctx)}


@auth.on(resources="assistants", actions=["read", "search"])
async def on_assistant_read(ctx: Auth.types.AuthContext, value: Any) -> Filter:
    """A caller sees (and runs) its own assistants and the graphs' own."""
    return {"$or": [{"owner": caller(ctx)}, SYSTEM]}


@auth.on.crons
async def on_crons(ctx: Auth.types.AuthContext, value: Any) -> Filter:
    """Crons start runs: their context and input checked like a run's; the caller's own."""
    identity = caller(ctx)
    payload = value.get("payload") if isinstance(value, dict) else None
    if isinstance(payload, dict):
        check_run_settings(payload, "cron")
    if ctx.action in ("create", "update"):
        check_size(value, "cron", run=payload if isinstance(payload, dict) else None)
    return _owned(identity, value)


@auth.on.store
async def on_store(ctx: Auth.types.AuthContext, value: Any) -> None:
    """Store items: a caller reaches only namespaces whose first label is its identity.

    Searching or listing with no prefix is narrowed to the caller's namespaces.
    Graph code (learned plans under `(identity, "plan_templates")`) uses the store
    directly, not through this API, so this rule does not apply to it.
    """
    identity = caller(ctx)
    namespace = tuple(value.get("namespace") or ())
    if not namespace and ctx.action in ("search", "list_namespaces"):
        value["namespace"] = (identity,)
        return
    if namespace[:1] != (identity,):
        raise Auth.exceptions.HTTPException(
            status_code=403,
            detail=f"store: a caller reaches only namespaces that start with its identity: "
            f"use [{identity!r}, ...]",
        )
    if ctx.action == "put":
        check_size(value, "store item")


@auth.on
async def nothing_else(ctx: Auth.types.AuthContext, value: Any) -> None:
    """Anything no handler above covers (a resource or action a newer server adds): refused."""
    raise Auth.exceptions.HTTPException(
        status_code=403, detail=f"{ctx.resource}.{ctx.action} is not allowed by deploy/auth.py"
    )


def _owned(identity: str, value: Any) -> Filter:
    """Stamp what is made with its owner; return the filter that limits reads to it."""
    owner = {"owner": identity}
    metadata = value.get("metadata") if isinstance(value, dict) else None
    if isinstance(metadata, dict):
        metadata.update(owner)
    elif isinstance(value, dict) and "metadata" in value:
        value["metadata"] = owner
    return owner


def _stamp_assistant(identity: str, value: Any) -> Filter:
    """Stamp an assistant with its owner, so no caller can pass one off as the graphs' own."""
    stamp = {"owner": identity, "created_by": identity}
    metadata = value.get("metadata")
    if isinstance(metadata, dict):
        metadata.update(stamp)
    else:
        value["metadata"] = stamp
    return {"owner": identity}
