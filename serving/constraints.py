"""How each server is asked to constrain what a model writes: a choice, or a grammar.

vLLM takes `structured_outputs`, llama.cpp a GBNF `grammar`, others a JSON schema (a
choice) or nothing (a grammar: the caller parses and validates what comes back).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Literal

ConcreteBackend = Literal["llama_cpp", "vllm", "openai"]


def choice_request(backend: ConcreteBackend, choices: Sequence[str]) -> dict[str, Any]:
    """Return the request fields that make a backend answer with exactly one of `choices`.

    vLLM and llama.cpp constrain the output to the words themselves (one or two tokens);
    others get a JSON object `{"choice": ...}` whose schema limits it to the choices.
    """
    if backend == "vllm":
        return {"extra_body": {"structured_outputs": {"choice": list(choices)}}}
    if backend == "llama_cpp":
        return {"extra_body": {"grammar": "root ::= " + " | ".join(f'"{c}"' for c in choices)}}
    schema = {
        "type": "object",
        "properties": {"choice": {"type": "string", "enum": list(choices)}},
        "required": ["choice"],
        "additionalProperties": False,
    }
    return {
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "Choice", "schema": schema, "strict": True},
        }
    }


def grammar_request(backend: ConcreteBackend, grammar: str) -> dict[str, Any]:
    """Return the request fields that make a backend's decoder follow a GBNF grammar.

    Servers without grammars (OpenAI and others) get nothing: the caller parses and
    validates what comes back.
    """
    if backend == "vllm":
        return {"extra_body": {"structured_outputs": {"grammar": grammar}}}
    if backend == "llama_cpp":
        return {"extra_body": {"grammar": grammar}}
    return {}


def json_choice(text: str) -> str:
    """Return the choice of a JSON answer `{"choice": ...}`, else the text as it is."""
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return text
    return str(value.get("choice", "")) if isinstance(value, dict) else text
