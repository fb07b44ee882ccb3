"""Fair admission on a real llama.cpp server: a caller is not queued behind another's flood."""

from __future__ import annotations

import httpx

from core.context import Context
from core.settings import Settings, use_settings
from evals.workloads.fairness import flood_then_ask, operator
from serving.admission import server_slots


async def test_a_caller_gets_a_slot_before_the_calls_another_caller_queued(
    llm_settings: Settings, llm_context: Context
) -> None:
    small = llm_settings.tier("router")  # the 0.5B: the quicker of the two
    async with httpx.AsyncClient() as http:
        slots = await server_slots(http, small.base_url)
    assert slots is not None and slots >= 1, "a llama.cpp server says its slots in /props"
    context = Context(
        synthesizer_max_tokens=32, llm_timeout_seconds=llm_context.llm_timeout_seconds
    )
    with use_settings(operator(small.base_url, small.model)):
        a, *floods = await flood_then_ask(2 * slots, context, head_start=0.5)
    assert a.error is None and a.began is not None, a.error
    assert all(b.error is None and b.began is not None for b in floods)
    ahead = sorted(b.name for b in floods if b.began is not None and b.began < a.began)
    assert len(ahead) <= slots, ahead  # only the calls that held the slots when A came
