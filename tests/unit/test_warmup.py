"""The warm-up reads each stable prompt once, on the tier that uses it."""

from graphs.context import Context
from graphs.warmup import stable_prompts, warm_up
from nodes.render_prompts import planner_system
from tests.support.travel import TRAVEL
from tools import SHOP


async def test_every_stable_prompt_is_read_once_on_its_tier(scripted) -> None:  # type: ignore[no-untyped-def]
    models = scripted()
    took = await warm_up(Context())
    assert set(took) == {"planner", "synthesizer", "react_agent", "answer_directly", "route_query"}
    assert models.calls == []  # one token each, no scripted answer used (max_tokens=1)
    prompts = dict((name, (tier, text)) for name, tier, text in stable_prompts(Context(), SHOP))
    assert prompts["planner"] == ("planner", planner_system(SHOP, "", Context().max_tool_calls))
    assert prompts["answer_directly"][0] == "router"


def test_another_domain_warms_its_own_prompts() -> None:
    texts = [text for _, _, text in stable_prompts(Context(), TRAVEL)]
    assert all("Northwind Travel Desk" in text for text in texts)
