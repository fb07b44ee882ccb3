"""The eval as a LangSmith experiment, and the evaluators the local report shares with it.

With a LangSmith API key, `python -m evals.run` runs each graph as an `aevaluate`
experiment over the LangSmith dataset made from `evals/dataset.jsonl`; each example goes
through the same `run_one` as a local run, and the evaluators below score it there.
Offline, `evals.run` calls the same evaluators on each row itself (`evaluate_row`).

The evaluators take LangSmith's keyword arguments: `outputs` (one run's row, as
`evals.harness.runner.measure` makes it), `reference_outputs` (the example's facts, reference,
group and route) and `inputs` (the question). Each returns `{"key", "score"}`, and a
`comment` where the score needs one; a key is named after the row field it checks.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import langsmith
from langsmith import schemas
from langsmith.utils import LangSmithNotFoundError

from core.context import Context
from deploy import tracing
from deploy.tracing import API_KEY_VARS, tracing_wanted
from evals.harness.dataset import Question, load_dataset, missing_facts
from evals.harness.runner import run_one

DATASET_NAME = "fast-agent-eval"
DATASET_DESCRIPTION = (
    "fast-agent eval questions (evals/dataset.jsonl): inputs.question; outputs: the facts a "
    "correct answer contains, a reference answer, the question's group and expected route."
)

Evaluation = dict[str, Any]


def inputs_of(question: Question) -> dict[str, Any]:
    """Return an example's inputs for `question`."""
    return {"question": question.question}


def reference_of(question: Question) -> dict[str, Any]:
    """Return an example's reference outputs for `question`."""
    return {
        "facts": list(question.facts),
        "reference": question.reference,
        "group": question.group,
        "route": question.route,
    }


def metadata_of(question: Question) -> dict[str, Any]:
    """Return an example's metadata: the question id ties it to the local dataset."""
    return {"id": question.id, "group": question.group}


def _question(inputs: Mapping[str, Any], reference_outputs: Mapping[str, Any]) -> Question:
    return Question(
        id="",
        group=reference_outputs.get("group", ""),
        question=inputs.get("question", ""),
        route=reference_outputs.get("route", ""),
        tools=[],
        services=[],
        facts=list(reference_outputs.get("facts", [])),
        reference=reference_outputs.get("reference", ""),
    )


def correctness(outputs: dict[str, Any], reference_outputs: dict[str, Any]) -> Evaluation:
    """Score 1 when the run did not fail and its answer holds every reference fact.

    A run that changed the database must also have passed the question's checks
    (`db_failed`, which the runner fills in).
    """
    question = _question({}, reference_outputs)
    error = outputs.get("error")
    missing = question.facts if error else missing_facts(question, outputs.get("answer") or "")
    failed = outputs.get("db_failed") or []
    comment = (
        f"error: {error}" if error
        else f"missing: {missing}" if missing
        else f"database: {failed}" if failed
        else None
    )  # fmt: skip
    return {"key": "correct", "score": not error and not missing and not failed, "comment": comment}


def latency(outputs: dict[str, Any]) -> Evaluation:
    """The run's end-to-end time in milliseconds."""
    return {"key": "e2e_ms", "score": outputs.get("e2e_ms")}


def first_token(outputs: dict[str, Any]) -> Evaluation:
    """Milliseconds to the answer's first token; no score when no answer token came."""
    ms = outputs.get("first_token_ms")
    return {"key": "first_token_ms", "score": ms, "comment": None if ms is not None else "no token"}


def router_ok(outputs: dict[str, Any], reference_outputs: dict[str, Any]) -> Evaluation:
    """Whether the router chose the expected route; no score for a graph without a router."""
    route = outputs.get("route")
    if route is None:
        return {"key": "route_ok", "score": None, "comment": "no router in this graph"}
    expected = reference_outputs.get("route")
    comment = None if route == expected else f"routed {route}, expected {expected}"
    return {"key": "route_ok", "score": route == expected, "comment": comment}


EVALUATORS: list[Callable[..., Evaluation]] = [correctness, latency, first_token, router_ok]


def evaluate_row(row: dict[str, Any], question: Question) -> dict[str, Any]:
    """Score one local row with every evaluator, as LangSmith would; return key -> score."""
    available = {"inputs": inputs_of(question), "outputs": row}
    available["reference_outputs"] = reference_of(question)
    scores = {}
    for evaluator in EVALUATORS:
        wanted = inspect.signature(evaluator).parameters
        result = evaluator(**{name: available[name] for name in wanted})
        scores[result["key"]] = result["score"]
    return scores


def langsmith_wanted(flag: bool | None, env: Mapping[str, str] = os.environ) -> bool:
    """Return whether to run the eval as LangSmith experiments.

    `flag` is `--langsmith` (True), `--no-langsmith` (False) or neither (None): then
    experiments run exactly when traces would be sent, a key set and tracing not
    switched off (`deploy.tracing.tracing_wanted`).

    Raises:
        ValueError: `--langsmith` without an API key.
    """
    if flag and not any(env.get(var, "").strip() for var in API_KEY_VARS):
        raise ValueError("--langsmith needs LANGSMITH_API_KEY")
    return tracing_wanted(env) if flag is None else flag


def _stale(example: schemas.Example, question: Question) -> bool:
    return (
        example.inputs != inputs_of(question)
        or (example.outputs or {}) != reference_of(question)
        or (example.metadata or {}).get("group") != question.group
    )


def ensure_dataset(
    client: langsmith.Client, name: str, questions: list[Question]
) -> schemas.Dataset:
    """Return the LangSmith dataset `name`, made to hold one example per question.

    Creates the dataset when it is missing, adds the questions it lacks and updates those
    that changed (matched by question id in the example's metadata); run it again and
    nothing changes. Examples for questions no longer in `questions` are left alone.
    """
    dataset: schemas.Dataset
    try:
        dataset = client.read_dataset(dataset_name=name)
    except LangSmithNotFoundError:
        dataset = client.create_dataset(name, description=DATASET_DESCRIPTION)
    existing = {
        (example.metadata or {}).get("id"): example
        for example in client.list_examples(dataset_id=dataset.id)
    }
    new = [
        {"inputs": inputs_of(q), "reference_outputs": reference_of(q), "metadata": metadata_of(q)}
        for q in questions
        if q.id not in existing
    ]
    if new:
        client.create_examples(dataset_id=dataset.id, examples=new)
    for q in questions:
        if q.id in existing and _stale(existing[q.id], q):
            client.update_example(
                existing[q.id].id,
                inputs=inputs_of(q),
                outputs=reference_of(q),
                metadata=metadata_of(q),
                dataset_id=dataset.id,
            )
    return dataset


@dataclass
class ExperimentRun:
    """What one experiment produced: its name in LangSmith and the local rows."""

    name: str
    rows: list[dict[str, Any]]


async def run_experiment(
    graph_name: str,
    questions: list[Question],
    context: Context,
    *,
    timeout: float = 300.0,
    metadata: dict[str, Any] | None = None,
    begin: Callable[[str, Question], None] | None = None,
    client: langsmith.Client | None = None,
    dataset_name: str = DATASET_NAME,
) -> ExperimentRun:
    """Run `graph_name` over `questions` as a LangSmith experiment; return its rows.

    The dataset is first brought in line with `evals/dataset.jsonl` (all of it); the
    experiment covers only `questions`' examples. Each example runs through
    `evals.harness.runner.run_one`, one at a time (concurrent runs would skew each other's
    latency), and its row is the run's outputs.

    Args:
        graph_name: a key of `evals.harness.runner.GRAPHS`; also the experiment's name prefix.
        questions: the questions to run (the local dataset's, matched by id).
        context: the Context every run gets.
        timeout: seconds per run.
        metadata: the experiment's metadata (the run's config); the graph is added.
        begin: called with the graph's name and the question before each run (the
            simulated backend's models learn which question they answer).
        client: the LangSmith client (default: the one `deploy.tracing` installs).
        dataset_name: the LangSmith dataset.
    """
    client = client or tracing.install_client()
    dataset = ensure_dataset(client, dataset_name, load_dataset())
    by_id = {q.id: q for q in questions}
    examples = [
        example
        for example in client.list_examples(dataset_id=dataset.id)
        if (example.metadata or {}).get("id") in by_id
    ]
    order = [q.id for q in questions]
    examples.sort(key=lambda example: order.index((example.metadata or {})["id"]))
    rows: list[dict[str, Any]] = []

    async def target(inputs: dict[str, Any], metadata: dict[str, Any]) -> dict[str, Any]:
        question = by_id[metadata["id"]]
        if begin is not None:
            begin(graph_name, question)
        row = await run_one(graph_name, question, context, timeout)
        rows.append(row)
        return dict(row)  # LangSmith serializes its copy later, in the background

    results = await langsmith.aevaluate(
        target,
        data=examples,
        evaluators=EVALUATORS,
        experiment_prefix=graph_name,
        description=f"{graph_name} over {len(examples)} questions of {dataset_name}",
        metadata={"graph": graph_name, **(metadata or {})},
        max_concurrency=1,
        client=client,
    )
    client.flush()  # every run and score is sent before the caller moves on
    return ExperimentRun(name=results.experiment_name, rows=rows)
