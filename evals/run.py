"""Run the graphs over the eval dataset and write the latency report.

    python -m evals.run                      # embedded llama.cpp servers (make up)
    python -m evals.run --backend simulated  # a GPU-served vLLM's latency model
    python -m evals.run --per-group 2        # a smoke slice
    python -m evals.run --domain evals.foreign:DOMAIN --dataset evals/foreign/dataset.jsonl

On real servers it runs the fast agent and the ReAct baseline (`create_agent`: the tool
calls of one model turn run together), interleaved: each question is asked of every graph
in turn, so load from elsewhere falls on both alike (`--order sequential`: one graph after
the other). The simulated backend adds `react_sequential`,
the same baseline asking for one tool a turn, so every speed table shows both ratios.
Any OpenAI-compatible backend works by configuration (LLM_BASE_URL, ...); name its
results with --label (`make vllm-cpu-eval` writes evals/results/vllm-cpu/). On vLLM the
report gives each graph's prefix-cache hit rate, read from the server's /metrics.

`--domain module:NAME` runs the graphs built for another `Domain` (default: the shop). A
dataset whose questions carry `expected_calls` (evals/foreign) also grades each run's
calls (`evals.foreign.grading`): exactly right or not, and identical calls asked twice.

With a LangSmith API key set (or --langsmith), each graph runs as a LangSmith experiment
(`evals.harness.experiment`) instead of the local loop: the same runs through `run_one`, scored by
the same evaluators, with the config as the experiment's metadata; the local results and
report are written from those runs as well. --no-langsmith keeps a keyed run local.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from core.context import Context
from core.domain import Domain
from core.settings import Settings, settings, use_settings
from deploy.warmup import warm_up
from evals.foreign.grading import calls_section, grade
from evals.harness.critical_path import chain_of
from evals.harness.dataset import DATASET, GROUPS, Question, load_dataset
from evals.harness.experiment import DATASET_NAME, evaluate_row, langsmith_wanted, run_experiment
from evals.harness.report import write_report
from evals.harness.runner import GRAPHS, graphs_for
from evals.harness.sweep import run_locally
from evals.simulated.gpu import GPU_PER_TOKEN_S, GPU_TTFT_S, SimulatedModels
from evals.simulated.oracle import Oracle
from evals.simulated.services import PROFILES, ExternalServices
from serving import client
from tools import SHOP
from tools.shop_db import reset_database

REAL_GRAPHS = ["fast_agent", "react_agent"]  # react_sequential needs the simulated model


@contextmanager
def simulated_gpu(services_url: str, speedup: float = 1.0) -> Iterator[SimulatedModels]:
    """Answer every model call with the simulated GPU models; yield them (call `begin`).

    `speedup` divides every simulated model time (tests that check shapes, not speed).
    """
    models = SimulatedModels(
        services_url, ttft_s=GPU_TTFT_S / speedup, per_token_s=GPU_PER_TOKEN_S / speedup
    )
    with client.use_models(models, backend="vllm"):
        yield models


def load_domain(spec: str | None) -> Domain:
    """Return the domain named `module:NAME` (None: the shop)."""
    if not spec:
        return SHOP
    module, _, name = spec.partition(":")
    domain = getattr(importlib.import_module(module), name or "DOMAIN", None)
    if not isinstance(domain, Domain):
        raise SystemExit(f"--domain {spec}: not a core.domain.Domain")
    return domain


def _slug(name: str) -> str:
    return "-".join("".join(c if c.isalnum() else " " for c in name.lower()).split())


def select(questions: list[Question], per_group: int | None, ids: list[str]) -> list[Question]:
    """Return the chosen questions: by id, or the first `per_group` of each group."""
    if ids:
        return [q for q in questions if q.id in ids]
    if per_group is None:
        return questions
    return [q for g in GROUPS for q in [q for q in questions if q.group == g][:per_group]]


def add_bounds(rows: list[dict[str, Any]], questions: list[Question], services_url: str) -> None:
    """Give each row its question's calls, timed as the run measured them, and their chain.

    `calls`: the oracle's calls with the run's latencies (`evals.harness.critical_path.TimedCall`);
    `chain_ms`: the slowest dependent chain of them.
    """
    oracles = {q.id: Oracle(q, services_url) for q in questions}
    for row in rows:
        runs = [(tool, args, ms) for tool, args, ms in row["tool_runs"]]
        calls = oracles[row["id"]].timed_calls(runs)
        row["calls"] = [list(c) for c in calls]
        row["chain_ms"] = chain_of(calls)


async def run_suite(
    args: argparse.Namespace, base: Context | None = None, operator: Settings | None = None
) -> Path:
    """Run the chosen graphs over the chosen questions; write results and the report.

    `base` is the run Context and `operator` the Settings (default: the environment's);
    the local services' descriptions and origin are added to the settings. On real
    servers every stable prompt is read once first (`deploy.warmup`), untimed.
    """
    questions = select(load_dataset(Path(args.dataset)), args.per_group, args.ids)
    simulated = args.backend == "simulated"
    graphs = args.graphs or (list(GRAPHS) if simulated else REAL_GRAPHS)
    if not simulated and "react_sequential" in graphs:
        raise SystemExit("react_sequential needs --backend simulated (a model told to be slow)")
    try:
        use_langsmith = langsmith_wanted(args.langsmith)
    except ValueError as err:
        raise SystemExit(str(err)) from None
    domain = load_domain(getattr(args, "domain", None))
    if domain is not SHOP and use_langsmith:  # the LangSmith dataset holds the shop's questions
        if args.langsmith:
            raise SystemExit("--langsmith runs the shop's dataset only; this domain runs locally")
        use_langsmith = False
    default_label = args.backend if domain is SHOP else f"{args.backend}-{_slug(domain.name)}"
    label = args.label or default_label
    out = Path(args.out) / label
    out.mkdir(parents=True, exist_ok=True)
    reset_database()  # every question reads the packaged data (a write question resets again)
    rows: list[dict[str, Any]] = []
    context = base or Context()
    with ExternalServices(profile=args.profile, seed=args.seed) as services:
        served = replace(
            operator or settings(),
            # the shop's web services; another domain's prompts list none
            http_services=services.describe() if domain is SHOP else "",
            http_allowed_origins=services.base_url,  # the services' origin, not every port
        )
        config: dict[str, Any] = {
            "backend": args.backend,
            "label": label,
            "profile": args.profile,
            "latency_ms": {k: asdict(v) for k, v in PROFILES.items() if k == args.profile},
            "context": asdict(context),
            "settings": asdict(replace(served, http_services="(local services)")),
            "questions": len(questions),
            "dataset": Path(args.dataset).name,
            "domain": domain.name,
            "graphs": graphs,
        }
        if simulated:
            config["model_speed"] = {
                "ttft_ms": GPU_TTFT_S * 1000,
                "per_token_ms": GPU_PER_TOKEN_S * 1000,
            }
        with (
            use_settings(served),
            simulated_gpu(services.base_url) if simulated else _real() as models,
        ):
            by_name = graphs_for(domain)  # built here: the baseline reads the settings
            if not simulated:
                await warm_up(context, domain)
            begin = models.begin if models is not None else None
            if use_langsmith:  # one experiment per graph; LangSmith shows its own progress
                experiments = []
                for name in graphs:
                    experiment = await run_experiment(
                        name, questions, context, timeout=args.timeout, metadata=config,
                        begin=begin, dataset_name=args.langsmith_dataset,
                    )  # fmt: skip
                    rows += experiment.rows
                    experiments.append(experiment.name)
                config["langsmith_experiments"] = experiments
            else:
                rows = await run_locally(
                    graphs, questions, context, args.timeout, begin, config, by_name,
                    getattr(args, "order", "interleaved"),
                )  # fmt: skip
        add_bounds(rows, questions, services.base_url)
    print(file=sys.stderr)  # noqa: T201
    by_id = {q.id: q for q in questions}
    graded = any(q.expected_calls for q in questions)
    for row in rows:  # the scores LangSmith gives (or would give) each run
        row["scores"] = evaluate_row(row, by_id[row["id"]])
        if graded:
            row |= grade(row, by_id[row["id"]], domain)
            row["scores"] |= {k: row[k] for k in ("calls_right", "repeated_calls")}
    with (out / "results.jsonl").open("w") as handle:
        handle.writelines(json.dumps(row) + "\n" for row in rows)
    report = write_report(rows, config, out)
    if graded:
        ran = [g for g in graphs if any(r["graph"] == g for r in rows)]
        with report.open("a") as handle:
            handle.write("\n" + "\n".join(calls_section(rows, ran)))
    return report


@contextmanager
def _real() -> Iterator[None]:
    yield None


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["embedded", "simulated"], default="embedded")
    parser.add_argument(
        "--graphs", nargs="+", choices=list(GRAPHS), default=None,
        help="default: all three on the simulated backend, else fast_agent and react_agent",
    )  # fmt: skip
    parser.add_argument(
        "--dataset",
        default=str(DATASET),
        help="questions (JSON lines; evals/reuse.jsonl: shapes repeat)",
    )
    parser.add_argument(
        "--domain",
        default=None,
        help="the graphs' domain as module:NAME (default: the shop); e.g. evals.foreign:DOMAIN",
    )
    parser.add_argument("--per-group", type=int, default=None, help="first N of each group")
    parser.add_argument("--ids", nargs="*", default=[], help="only these question ids")
    parser.add_argument("--profile", choices=list(PROFILES), default="realistic")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--order",
        choices=["interleaved", "sequential"],
        default="interleaved",
        help="ask each question of every graph in turn (load falls on all alike), or one "
        "graph over every question after the other (each graph's own prefix-cache hit rate)",
    )
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
