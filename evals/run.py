"""Run both graphs over the eval dataset and write the latency report.

    python -m evals.run                      # embedded llama.cpp servers (make up)
    python -m evals.run --backend simulated  # a GPU-served vLLM's latency model
    python -m evals.run --per-group 2        # a smoke slice

Any other OpenAI-compatible backend works by configuration (LLM_BASE_URL, ...); name its
results with --label (`make vllm-cpu-eval` writes evals/results/vllm-cpu/). On vLLM the
report gives each graph's prefix-cache hit rate, read from the server's /metrics.

With a LangSmith API key set (or --langsmith), each graph runs as a LangSmith experiment
(`evals.experiment`) instead of the local loop: the same runs through `run_one`, scored by
the same evaluators, with the config as the experiment's metadata; the local results and
report are written from those runs as well. --no-langsmith keeps a keyed run local.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage
from langgraph.graph.state import CompiledStateGraph

from evals.dataset import GROUPS, Question, load_dataset, missing_facts
from evals.experiment import DATASET_NAME, evaluate_row, langsmith_wanted, run_experiment
from evals.metrics import prefix_cache_hit_rate, scrape
from evals.recorder import RunRecorder, union_seconds
from evals.report import write_report
from evals.services import PROFILES, ExternalServices
from evals.simulated import Oracle, SimulatedGPUChatModel
from graphs.context import Context
from graphs.fast_agent import graph as fast_agent
from graphs.react_agent import graph as react_agent
from serving import client

GRAPHS: dict[str, CompiledStateGraph[Any, Any, Any, Any]] = {
    "fast_agent": fast_agent,
    "react_agent": react_agent,
}
ANSWER_NODES = {"answer_directly", "synthesize_answer", "model"}


def _messages(state: Any) -> list[BaseMessage]:
    return list(state.messages if hasattr(state, "messages") else state["messages"])


async def run_one(
    name: str, question: Question, context: Context, timeout: float
) -> dict[str, Any]:
    """Run one graph on one question; return its timings, answer and checks."""
    recorder = RunRecorder()
    first_event: float | None = None
    token_at: dict[str | None, float] = {}  # first answer-token time per message id
    final: Any = None
    error = None
    try:
        async with asyncio.timeout(timeout):
            async for part in GRAPHS[name].astream(
                {"messages": [{"role": "user", "content": question.question}]},
                {"callbacks": [recorder]},
                context=context,
                stream_mode=["messages", "custom", "values"],
                version="v2",
            ):
                now = time.perf_counter() - recorder.t0
                if part["type"] == "values":
                    if final is None:  # the input echoed back is not progress
                        final = part["data"]
                        continue
                    final = part["data"]
                elif part["type"] == "messages":
                    message, meta = part["data"]
                    if message.text and meta.get("langgraph_node") in ANSWER_NODES:
                        token_at.setdefault(message.id, now)
                first_event = first_event if first_event is not None else now
    except Exception as err:  # a failed run is a result too
        error = f"{type(err).__name__}: {err}"
    total = time.perf_counter() - recorder.t0
    return measure(name, question, recorder, final, total, first_event, token_at, error)


def measure(
    name: str,
    question: Question,
    recorder: RunRecorder,
    final: Any,
    total: float,
    first_event: float | None,
    token_at: dict[str | None, float],
    error: str | None,
) -> dict[str, Any]:
    """Turn one run's records into the report's numbers (milliseconds)."""
    messages = _messages(final) if final is not None else []
    answer = messages[-1] if messages and isinstance(messages[-1], AIMessage) else None
    models, tools = recorder.model_calls(), recorder.tool_calls()
    busy = [(c["start"], c["end"]) for c in models + tools]
    ttfts, gaps = recorder.stream_stats()
    tool_spans = [(c["start"], c["end"]) for c in tools]
    row: dict[str, Any] = {
        "graph": name,
        "id": question.id,
        "group": question.group,
        "error": error,
        "e2e_ms": total * 1000,
        "first_event_ms": None if first_event is None else first_event * 1000,
        "first_token_ms": token_at[answer.id] * 1000 if answer and answer.id in token_at else None,
        "model_calls": len(models),
        "model_ms": union_seconds([(c["start"], c["end"]) for c in models]) * 1000,
        "tool_calls": [c["tool"] for c in tools],
        "tool_errors": sum("error" in c for c in tools),
        "tools_sum_ms": sum(e - s for s, e in tool_spans) * 1000,
        "tools_wall_ms": union_seconds(tool_spans) * 1000,
        "overhead_ms": (total - union_seconds(busy)) * 1000,
        "tokens_out": sum(c.get("tokens_out") or 0 for c in models),
        "ttft_ms": [t * 1000 for t in ttfts],  # per streamed model call
        "itl_ms": [g * 1000 for g in gaps],  # mean gap between tokens, per streamed call
        "answer": answer.text if answer else "",
        "waterfall": [
            {"kind": "model", "label": c["node"], "start": c["start"], "end": c["end"]}
            for c in models
        ]
        + [
            {"kind": "tool", "label": c["tool"], "start": c["start"], "end": c["end"]}
            for c in tools
        ],
    }
    row["missing"] = missing_facts(question, row["answer"]) if not error else question.facts
    row["correct"] = not error and not row["missing"]
    route = next((t for t in getattr(final, "timings", []) if t["step"] == "route_query"), None)
    if route:
        row |= {
            "route": route["route"],
            "route_ok": route["route"] == question.route,
            "route_by": route["decided_by"],
            "route_ms": route["ms"],
        }
    return row


@contextmanager
def simulated_gpu(services_url: str) -> Iterator[list[Question]]:
    """Answer every model call with the simulated GPU model; yield the current-question slot."""
    current: list[Question] = []

    def factory(context: Context, tier: str, **kwargs: Any) -> SimulatedGPUChatModel:
        return SimulatedGPUChatModel(oracle=Oracle(current[0], services_url), tier=tier)

    with client.override_models(factory, backend="vllm"):
        yield current


def select(questions: list[Question], per_group: int | None, ids: list[str]) -> list[Question]:
    """Return the chosen questions: by id, or the first `per_group` of each group."""
    if ids:
        return [q for q in questions if q.id in ids]
    if per_group is None:
        return questions
    return [q for g in GROUPS for q in [q for q in questions if q.group == g][:per_group]]


def progress(done: int, total: int, label: str) -> None:
    """Draw a progress bar on stderr."""
    width = 30
    filled = width * done // total
    bar = "#" * filled + "." * (width - filled)
    print(f"\r[{bar}] {done}/{total} {label:<48}", end="", file=sys.stderr, flush=True)  # noqa: T201


async def run_suite(args: argparse.Namespace, base: Context | None = None) -> Path:
    """Run the chosen graphs over the chosen questions; write results and the report.

    `base` is the Context to run with (default: defaults and environment variables);
    the local services' descriptions are added to it.
    """
    questions = select(load_dataset(), args.per_group, args.ids)
    try:
        use_langsmith = langsmith_wanted(args.langsmith)
    except ValueError as err:
        raise SystemExit(str(err)) from None
    out = Path(args.out) / (args.label or args.backend)
    out.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []
    experiments: list[str] = []
    with ExternalServices(profile=args.profile, seed=args.seed) as services:
        context = replace(
            base or Context(), http_services=services.describe(), http_allowed_hosts="127.0.0.1"
        )
        config: dict[str, Any] = {
            "backend": args.backend,
            "label": args.label or args.backend,
            "profile": args.profile,
            "latency_ms": {k: asdict(v) for k, v in PROFILES.items() if k == args.profile},
            "context": asdict(replace(context, http_services="(local services)")),
            "questions": len(questions),
        }
        with (
            simulated_gpu(services.base_url) if args.backend == "simulated" else _no_patch() as slot
        ):
            if use_langsmith:  # one experiment per graph; LangSmith shows its own progress
                for name in args.graphs:
                    experiment = await run_experiment(
                        name,
                        questions,
                        context,
                        timeout=args.timeout,
                        metadata=config,
                        slot=slot,
                        dataset_name=args.langsmith_dataset,
                    )
                    rows += experiment.rows
                    experiments.append(experiment.name)
            else:
                # One graph after the other: interleaved on one server, each would evict the
                # other's warm prompt prefix and both would look slower than they are.
                hit_rates: dict[str, float | None] = {}
                done, total = 0, len(args.graphs) * len(questions)
                for name in args.graphs:
                    before = await scrape(context.planner_base_url)
                    for question in questions:
                        progress(done, total, f"{name} {question.id}")
                        slot[:] = [question]
                        rows.append(await run_one(name, question, context, args.timeout))
                        done += 1
                    hit_rates[name] = prefix_cache_hit_rate(
                        before, await scrape(context.planner_base_url)
                    )
                progress(total, total, "done")
                if any(rate is not None for rate in hit_rates.values()):
                    config["prefix_cache_hit_rate"] = hit_rates
    print(file=sys.stderr)  # noqa: T201
    by_id = {q.id: q for q in questions}
    for row in rows:  # the scores LangSmith gives (or would give) each run
        row["scores"] = evaluate_row(row, by_id[row["id"]])
    with (out / "results.jsonl").open("w") as handle:
        handle.writelines(json.dumps(row) + "\n" for row in rows)
    if experiments:
        config["langsmith_experiments"] = experiments
    return write_report(rows, config, out)


@contextmanager
def _no_patch() -> Iterator[list[Question]]:
    yield []


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["embedded", "simulated"], default="embedded")
    parser.add_argument("--graphs", nargs="+", choices=list(GRAPHS), default=list(GRAPHS))
    parser.add_argument("--per-group", type=int, default=None, help="first N of each group")
    parser.add_argument("--ids", nargs="*", default=[], help="only these question ids")
    parser.add_argument("--profile", choices=list(PROFILES), default="realistic")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per run")
    parser.add_argument("--out", default="evals/results")
    parser.add_argument("--label", help="results folder and report title (default: --backend)")
    parser.add_argument(
        "--langsmith",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="run each graph as a LangSmith experiment (default: when LANGSMITH_API_KEY is set)",
    )
    parser.add_argument("--langsmith-dataset", default=DATASET_NAME, help="LangSmith dataset")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the suite and print the report."""
    report = asyncio.run(run_suite(parse_args(argv)))
    print(report.read_text())  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main())
