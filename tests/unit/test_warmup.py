"""The warm-up reads each stable prompt once, on the tier that uses it."""

import pytest

from core.context import Context
from deploy import warmup
from deploy.warmup import stable_prompts, warm_up
from prompts.render import planner_system
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


@pytest.fixture
def warmed(monkeypatch) -> list[Context]:  # type: ignore[no-untyped-def]
    """The contexts `deploy.warmup.main` warmed up with (no server is called)."""
    read: list[Context] = []

    async def fake_warm_up(context: Context) -> dict[str, float]:
        read.append(context)
        return {"planner": 0.1}

    monkeypatch.setattr(warmup, "warm_up", fake_warm_up)
    return read


def test_make_up_warms_servers_again_only_when_they_or_the_prompts_changed(
    tmp_path, monkeypatch, warmed
) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "llama-cpp-8080.pid").write_text("111")
    assert warmup.main(["--if-changed"], run_dir=tmp_path) == 0
    assert warmup.main(["--if-changed"], run_dir=tmp_path) == 0
    assert len(warmed) == 1  # the same servers read the same prompts: left alone
    assert warmup.main([], run_dir=tmp_path) == 0
    assert len(warmed) == 2  # without the flag: always
    (tmp_path / "llama-cpp-8080.pid").write_text("222")  # a restarted server
    assert warmup.main(["--if-changed"], run_dir=tmp_path) == 0
    assert len(warmed) == 3
    monkeypatch.setattr(warmup, "stable_prompts", lambda context, domain: [("x", "planner", "new")])
    assert warmup.main(["--if-changed"], run_dir=tmp_path) == 0
    assert len(warmed) == 4  # an edited prompt is read again


def test_servers_this_checkout_did_not_start_are_always_warmed(tmp_path, warmed) -> None:  # type: ignore[no-untyped-def]
    for _ in range(2):
        assert warmup.main(["--if-changed"], run_dir=tmp_path) == 0
    assert len(warmed) == 2
    assert not (tmp_path / "warm").exists()
