import json

from evals.benchmarks.plan_tokens import plan_forms
from evals.simulated.services import ExternalServices
from tools import SHOP


def test_each_solved_plan_is_counted_in_three_forms_of_the_same_calls() -> None:
    forms = plan_forms(SHOP, ExternalServices.describe_at("http://127.0.0.1:9100"))
    assert len(forms) >= 10
    for form in forms:
        calls = json.loads(form["json"])["calls"]
        assert len(form["urls"].splitlines()) == len(calls) + 1  # and the join() line
        assert form["urls"].endswith(f"{len(calls) + 1}. join()")
        assert "http://127.0.0.1:9100/" not in form["services"]  # services as calls
        if any(call["tool"] == "http_get" for call in calls):
            assert "http_get(" in form["urls"]
