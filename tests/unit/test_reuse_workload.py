"""The repeated-shape workload: fresh values, true facts, and templates that apply to it."""

import json

from engine.accelerators.shapes import make_template, read_shape
from evals.harness.dataset import Question, load_dataset
from evals.workloads.reuse import SHAPES, WORKLOAD, workload


def test_the_file_is_what_the_generator_writes() -> None:
    rows = [json.loads(line) for line in WORKLOAD.read_text(encoding="utf-8").splitlines()]
    assert rows == workload()
    assert len(load_dataset(WORKLOAD)) == 4 * len(SHAPES)


def test_no_question_is_an_eval_question_and_every_one_has_facts() -> None:
    eval_questions = {q.question for q in load_dataset()}
    for question in load_dataset(WORKLOAD):
        assert isinstance(question, Question) and question.facts
        assert question.question not in eval_questions
        assert all(fact in question.reference for fact in question.facts[:1])


def test_each_shape_comes_once_before_any_comes_again() -> None:
    ids = [row["id"] for row in workload()]
    firsts = ids[: len(SHAPES)]
    assert all(i.endswith("-1") for i in firsts)


def test_a_plan_for_the_first_variant_fills_in_for_the_second() -> None:
    first, second = workload()[1], workload()[1 + len(SHAPES)]  # warranty-of
    plan = f'1. query_database(sql="{first["sql"][0]}")\n2. join()'
    template = make_template(first["question"], plan)
    assert template is not None
    assert (
        template.fill(read_shape(second["question"]))
        == f'1. query_database(sql="{second["sql"][0]}")\n2. join()'
    )
