"""A text tool: counts by the character classes of the `string` module."""

from __future__ import annotations

import string

from langchain_core.tools import tool

from core.domain import read_only
from evals.foreign.tools import as_json


@read_only
@tool
async def text_stats(text: str) -> str:
    """Count a text's characters, letters, digits, punctuation marks, spaces and words.

    Also returns the text with each word capitalized (string.capwords).
    """
    return as_json(
        {
            "characters": len(text),
            "letters": sum(c in string.ascii_letters for c in text),
            "digits": sum(c in string.digits for c in text),
            "punctuation": sum(c in string.punctuation for c in text),
            "spaces": sum(c in string.whitespace for c in text),
            "words": len(text.split()),
            "capitalized": string.capwords(text),
        }
    )


TOOLS = (text_stats,)
