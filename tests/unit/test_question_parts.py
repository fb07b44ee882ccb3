"""How many calls a plan must make at least: the parts a question asks for."""

import pytest

from prompts.render import planner_user, question_parts


@pytest.mark.parametrize(
    ("question", "parts"),
    [
        ("How many urgent tickets are open, and what is their first-response target?", 2),
        ("Who placed order 1394? Then pull that customer's health score from our CRM.", 2),
        ("What's Initech's spend, and which loyalty tier does that put them in?", 2),
        ("Compute the mean of [1, 2.5, 3] and then sort the list.", 2),
        # Context and instructions ask for nothing: one call may be all it needs.
        ("Find the area of a circle with radius 5. Use 3.14 for pi.", 1),
        ("I have a loan of $200,000 at 5% for 30 years. What is the monthly payment?", 1),
        ("The readings were 1.6e-19 and 3.2e-19. Round the sum to 2 digits.", 1),
        ("Calculate the mean and the standard deviation of [2, 4, 4, 5].", 1),  # one clause
        ("hello there", 1),
        ("x" + " " * 4000 + "y?", 1),
    ],
)
def test_a_question_has_as_many_parts_as_it_asks_for(question: str, parts: int) -> None:
    assert len(question_parts(question)) == parts


def test_the_planner_sees_the_parts_only_when_there_are_several() -> None:
    assert "Parts:" in planner_user("Who placed order 7? Then check its shipping status.")
    assert "Parts:" not in planner_user("Find the area of a circle of radius 5. Use 3.14 for pi.")
