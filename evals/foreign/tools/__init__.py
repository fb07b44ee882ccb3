"""Tools nobody here wrote: thin async LangChain wrappers over well-known library functions.

Written as a newcomer following the README's "Make it yours" would: one `@tool` each,
with type hints and a docstring, `@read_only` because none has side effects, every
result as JSON so a later call can refer into it (`$1.mean`, `$1[0].name`).
"""

from __future__ import annotations

import json
from typing import Any

DECIMALS = 6  # results are rounded to this many places: long floats cost tokens to read


def as_json(value: Any) -> str:
    """Return a result as JSON, every float rounded to `DECIMALS` places.

    Raises:
        ValueError: a result out of a float's range (JSON has no infinity).
    """
    return json.dumps(rounded(value), allow_nan=False)


def rounded(value: Any) -> Any:
    """Return a value with its floats (at any depth) rounded to `DECIMALS` places."""
    if isinstance(value, float):
        return round(value, DECIMALS) + 0.0  # + 0.0: no "-0.0"
    if isinstance(value, dict):
        return {key: rounded(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [rounded(item) for item in value]
    return value
