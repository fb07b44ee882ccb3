"""The plan parser: streamed text in, validated calls out, line by line."""

import pytest

from engine.language.parser import PlanError, PlanParser, Task, parse_args

TOOLS = {
    "query_database": ["sql"],
    "search_docs": ["query"],
    "http_get": ["url"],
    "add": ["a", "b"],
}


def feed_all(parser: PlanParser, text: str, step: int = 3) -> list[Task | PlanError]:
    items: list[Task | PlanError] = []
    for i in range(0, len(text), step):
        items += parser.feed(text[i : i + step])
    return items + parser.close()


def test_a_call_comes_out_the_moment_its_line_is_complete() -> None:
    parser = PlanParser(TOOLS, max_calls=8)
    assert parser.feed('1. search_docs(query="refund') == []
    [task] = parser.feed(' window")\n2. query_database(sql="SEL')
    assert task == Task(1, "search_docs", {"query": "refund window"})
    assert parser.feed('ECT 1")') == []
    [last] = parser.close()
    assert isinstance(last, Task) and last.args == {"sql": "SELECT 1"}


def test_references_become_dependencies() -> None:
    plan = (
        '1. query_database(sql="SELECT name FROM customers LIMIT 1")\n'
        '2. http_get(url="http://crm/account?name=$1.name&x=$1")\n'
        "3. join()\n"
    )
    parser = PlanParser(TOOLS, max_calls=8)
    tasks = [t for t in feed_all(parser, plan) if isinstance(t, Task)]
    assert [t.deps for t in tasks] == [frozenset(), frozenset({1})]
    assert tasks[1].references() == [(1, ".name"), (1, "")]
    assert parser.ended and not parser.replan


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ('1. search_docs(query="$1")', "not an earlier call"),  # itself: no cycle can form
        ('1. search_docs(query="$2")', "not an earlier call"),  # a later call
        ('1. send_email(to="x")', "no tool named 'send_email'"),
        ('1. search_docs(q="x")', "unknown argument 'q'"),
        ('1. search_docs(query=open("/etc/passwd"))', "not a literal"),
        ("1. search_docs(query=", "not a call"),
        ("Sure! Here is the plan:", "not a call"),
    ],
)
def test_bad_lines_are_errors_and_run_nothing(line: str, reason: str) -> None:
    parser = PlanParser(TOOLS, max_calls=8)
    [item] = feed_all(parser, line + "\n")
    assert isinstance(item, PlanError) and reason in item.reason
    assert parser.tasks == []


def test_a_reference_to_a_call_that_could_not_be_planned_is_an_error() -> None:
    plan = '1. nope(x="1")\n2. search_docs(query="$1.name")\n'
    items = feed_all(PlanParser(TOOLS, max_calls=8), plan)
    assert [type(i) for i in items] == [PlanError, PlanError]
    assert "could not be planned" in items[1].reason  # type: ignore[union-attr]


def test_calls_beyond_the_limit_are_reported_not_run() -> None:
    plan = "".join(f'{i}. search_docs(query="q{i}")\n' for i in range(1, 5))
    parser = PlanParser(TOOLS, max_calls=2)
    items = feed_all(parser, plan)
    assert [i.index for i in items if isinstance(i, Task)] == [1, 2]
    dropped = [i for i in items if isinstance(i, PlanError)]
    assert [(d.index, "not run" in d.reason) for d in dropped] == [(3, True), (4, True)]


def test_replan_ends_the_plan_and_asks_for_another_round() -> None:
    parser = PlanParser(TOOLS, max_calls=8)
    feed_all(parser, '1. query_database(sql="SELECT 1")\n2. replan()\n3. search_docs(query="x")\n')
    assert parser.replan and parser.ended and len(parser.tasks) == 1


def test_what_follows_a_finished_plan_is_ignored() -> None:
    text = '1. search_docs(query="a")\n\nQ: another question\n1. search_docs(query="b")\n'
    parser = PlanParser(TOOLS, max_calls=8)
    assert len([i for i in feed_all(parser, text) if isinstance(i, Task)]) == 1


def test_arguments_are_json_style_literals_by_name_or_position() -> None:
    assert parse_args("a=1, b=-2.5", ["a", "b"]) == {"a": 1, "b": -2.5}
    assert parse_args('"x", true', ["a", "b"]) == {"a": "x", "b": True}
    assert parse_args("a=null", ["a"]) == {"a": None}
    with pytest.raises(ValueError, match="given twice"):
        parse_args('"x", a="y"', ["a"])
    with pytest.raises(ValueError, match="positional"):
        parse_args("1, 2, 3", ["a", "b"])


def test_numbering_continues_after_an_earlier_round() -> None:
    parser = PlanParser(TOOLS, max_calls=8)
    parser.last_index = 2
    [task] = feed_all(parser, '3. search_docs(query="$1.x")\n')
    assert isinstance(task, Task) and task.index == 3 and task.deps == {1}


def test_a_later_rounds_grammar_numbers_on_from_the_calls_before_it() -> None:
    from engine.language.grammar import plan_grammar
    from tools import SHOP

    grammar = plan_grammar(SHOP, "", 2, first=3)  # round 1 was `1. ...` and `2. replan()`
    assert "root ::= line1" in grammar
    assert 'line1 ::= "3. " (call "\\n" line2 | "join()" | "replan()")' in grammar
    assert 'line3 ::= "5. " ("join()" | "replan()")' in grammar
    assert '"1. "' not in grammar  # numbering from 1 again is what the parser refuses


def test_a_plan_of_several_parts_cannot_join_before_as_many_calls() -> None:
    from engine.language.grammar import plan_grammar
    from tools import SHOP

    grammar = plan_grammar(SHOP, "", 8, min_calls=2)
    assert 'line1 ::= "1. " (call "\\n" line2 | "replan()")' in grammar
    assert 'line2 ::= "2. " (call "\\n" line3 | "replan()")' in grammar
    assert 'line3 ::= "3. " (call "\\n" line4 | "join()" | "replan()")' in grammar
