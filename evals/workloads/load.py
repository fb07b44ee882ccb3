"""Load benchmark: N concurrent fast-agent runs against any OpenAI-compatible server.

    python -m evals.workloads.load  # the server(s) the Context points at (env vars)
    python -m evals.workloads.load --concurrency 16 --label vllm-cpu

Four phases, over the same N tool questions from the eval dataset (local services
on the `fast` profile, so the model dominates):
1. warm-up: one run, so that every tier's system prompt is in the prefix cache;
2. single: the N questions one after the other (each run has the server to itself);
3. engine: decode throughput of the synthesizer tier's server with 1 stream and with
   N streams at once (plain completions of `--tokens` tokens);
4. concurrent: the N questions all at once.

It reports p50/p95 end-to-end, time to first token and inter-token latency of the
streamed model calls, throughput, errors, and the server's prefix-cache hit rate
over each phase (from `/metrics`, vLLM). The concurrency target compares
the concurrent p95 with the single p95 scaled by how much the engine slows each
stream down when N share it: single p95 x (N x 1-stream tok/s) / (N-stream tok/s).
On a GPU, batching keeps N-stream throughput near N times the 1-stream figure and
the scale is near 1; on 2 CPU cores it is not, and the scale says by how much.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx

from core.context import Context
from core.settings import TIERS, Settings, settings, use_settings
from evals.harness.dataset import Question, load_dataset
from evals.harness.metrics import GENERATION_TOKENS, increase, prefix_cache_hit_rate, scrape
from evals.harness.runner import run_one
from evals.harness.stats import percentile
from evals.simulated.services import ExternalServices

TOOL_GROUPS = ("one_tool", "multi_tool")
TARGET_FACTOR = 1.5


def pick_questions(count: int) -> list[Question]:
    """Return `count` tool questions, alternating one-tool and multi-tool, cycled if needed."""
    questions = load_dataset()
    groups = [[q for q in questions if q.group == g] for g in TOOL_GROUPS]
    mixed = [q for pair in zip(*groups, strict=False) for q in pair]
    return [mixed[i % len(mixed)] for i in range(count)]


@dataclass
class Phase:
    """The runs of one phase and its wall time."""

    rows: list[dict[str, Any]]
    wall_s: float

    def summary(self) -> dict[str, Any]:
        """Return the phase's latency, throughput and error figures (milliseconds)."""
        ok = [r for r in self.rows if not r["error"]]
        e2e = [r["e2e_ms"] for r in ok]
        ttft = [t for r in ok for t in r["ttft_ms"]]
        itl = [g for r in ok for g in r["itl_ms"]]
        tokens = sum(r["tokens_out"] for r in ok)
        return {
            "runs": len(self.rows),
            "errors": len(self.rows) - len(ok),
            "error_messages": sorted({r["error"] for r in self.rows if r["error"]}),
            "correct": sum(bool(r["correct"]) for r in ok),
            "wall_s": self.wall_s,
            "e2e_p50_ms": percentile(e2e, 50),
            "e2e_p95_ms": percentile(e2e, 95),
            "ttft_p50_ms": percentile(ttft, 50),
            "ttft_p95_ms": percentile(ttft, 95),
            "itl_p50_ms": percentile(itl, 50),
            "itl_p95_ms": percentile(itl, 95),
            "runs_per_min": 60 * len(ok) / self.wall_s if self.wall_s else None,
            "tokens_out_per_s": tokens / self.wall_s if self.wall_s else None,
        }


async def run_phase(
    questions: list[Question], context: Context, concurrency: int, timeout: float
) -> Phase:
    """Run the fast agent on every question, at most `concurrency` at a time."""
    gate = asyncio.Semaphore(concurrency)

    async def one(question: Question) -> dict[str, Any]:
        async with gate:
            return await run_one("fast_agent", question, context, timeout)

    started = time.perf_counter()
    rows = await asyncio.gather(*(one(q) for q in questions))
    return Phase(list(rows), time.perf_counter() - started)


async def decode_throughput(context: Context, streams: int, tokens: int) -> float:
    """Return the synthesizer server's aggregate decode rate (tokens/s) with `streams` at once."""
    server = settings().tier("synthesizer")
    url = f"{server.base_url}/chat/completions"
    body = {
        "model": server.model,
        "messages": [
            {"role": "user", "content": "Write the numbers from 1 to 1000, comma-separated."}
        ],
        "max_tokens": tokens,
        "temperature": 0,
    }
    async with httpx.AsyncClient(timeout=context.llm_timeout_seconds) as http:

        async def one() -> int:
            response = await http.post(url, json=body)
            response.raise_for_status()
            return int(response.json()["usage"]["completion_tokens"])

        started = time.perf_counter()
        counts = await asyncio.gather(*(one() for _ in range(streams)))
        return sum(counts) / (time.perf_counter() - started)


async def benchmark(
    args: argparse.Namespace, base: Context | None = None, operator: Settings | None = None
) -> dict[str, Any]:
    """Run the four phases; return every figure, and the verdict on the targets."""
    questions = pick_questions(args.concurrency)
    context = base or Context()
    with ExternalServices(profile="fast", seed=0) as services:
        served = replace(
            operator or settings(),
            http_services=services.describe(),
            http_allowed_origins=services.base_url,  # the services' origin, not every port
        )
        with use_settings(served):
            say = _say(args.quiet)
            say("warm-up run")
            await run_phase(questions[:1], context, 1, args.timeout)
            say(f"single: {len(questions)} runs, one at a time")
            first = await scrape(served.planner_base_url)
            single = await run_phase(questions, context, 1, args.timeout)
            single_rate = prefix_cache_hit_rate(first, await scrape(served.planner_base_url))
            say(f"engine: decode rate with 1 and {args.concurrency} streams")
            one_stream = await decode_throughput(context, 1, args.tokens)
            n_streams = await decode_throughput(context, args.concurrency, args.tokens)
            say(f"concurrent: {len(questions)} runs at once")
            before = await scrape(served.planner_base_url)
            concurrent = await run_phase(questions, context, args.concurrency, args.timeout)
            after = await scrape(served.planner_base_url)

    single_s, concurrent_s = single.summary(), concurrent.summary()
    scale = args.concurrency * one_stream / n_streams
    bound = (single_s["e2e_p95_ms"] or 0) * scale * TARGET_FACTOR
    return {
        "label": args.label,
        "concurrency": args.concurrency,
        "servers": sorted({served.tier(tier).base_url for tier in TIERS}),
        "models": [served.tier(tier).model for tier in TIERS],
        "single": single_s,
        "concurrent": concurrent_s,
        "engine": {
            "decode_tok_s_1": one_stream,
            f"decode_tok_s_{args.concurrency}": n_streams,
            "batching_gain": n_streams / one_stream,
            "scale": scale,
        },
        "prefix_cache_hit_rate": prefix_cache_hit_rate(before, after),
        "prefix_cache_hit_rate_single": single_rate,
        "server_generation_tokens": increase(before, after, GENERATION_TOKENS),
        "targets": {
            "zero_errors": concurrent_s["errors"] == 0,
            "p95_bound_ms": bound,
            "p95_within_bound": (concurrent_s["e2e_p95_ms"] or float("inf")) <= bound,
        },
    }


def render(result: dict[str, Any]) -> str:
    """Return the benchmark's figures as markdown."""
    n = result["concurrency"]
    engine, single, concurrent = result["engine"], result["single"], result["concurrent"]
    rate = result["prefix_cache_hit_rate"]
    single_rate = result.get("prefix_cache_hit_rate_single")

    def share(value: float | None) -> str:
        return "n/a (the server has no vLLM /metrics)" if value is None else f"{value:.1%}"

    def ms(value: float | None) -> str:
        return "n/a" if value is None else f"{value:,.0f} ms"

    lines = [
        f"# Load benchmark: {result['label']}",
        "",
        f"Servers: {', '.join(result['servers'])}; models: {', '.join(result['models'])}.",
        "",
        "| phase | runs | errors | correct | e2e p50 | e2e p95 | TTFT p50 | TTFT p95 "
        "| ITL p50 | runs/min | out tok/s | wall |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, s in (("single (1 at a time)", single), (f"concurrent ({n} at once)", concurrent)):
        lines.append(
            f"| {name} | {s['runs']} | {s['errors']} | {s['correct']} | {ms(s['e2e_p50_ms'])} "
            f"| {ms(s['e2e_p95_ms'])} | {ms(s['ttft_p50_ms'])} | {ms(s['ttft_p95_ms'])} "
            f"| {ms(s['itl_p50_ms'])} | {s['runs_per_min']:.1f} | {s['tokens_out_per_s']:.1f} "
            f"| {s['wall_s']:.1f} s |"
        )
    bound = result["targets"]["p95_bound_ms"]
    lines += [
        "",
        f"- Engine decode rate: {engine['decode_tok_s_1']:.1f} tok/s with 1 stream, "
        f"{engine[f'decode_tok_s_{n}']:.1f} tok/s with {n} (batching gain "
        f"{engine['batching_gain']:.1f}x of an ideal {n}x); each of {n} streams runs "
        f"{engine['scale']:.2f}x slower than alone.",
        f"- Prefix-cache hit rate (prompt tokens): {share(single_rate)} over the single phase "
        f"(each question new to the server but the warm-up's), {share(rate)} over the "
        "concurrent phase (the same questions again: their tool results are cached too).",
        f"- Target, concurrent p95 <= {TARGET_FACTOR} x single p95 x {engine['scale']:.2f}: "
        f"{ms(concurrent['e2e_p95_ms'])} vs {ms(bound)}: "
        + ("met" if result["targets"]["p95_within_bound"] else "missed"),
        f"- Target, zero errors: {'met' if result['targets']['zero_errors'] else 'missed'}"
        + (f" ({'; '.join(concurrent['error_messages'])})" if concurrent["errors"] else ""),
    ]
    return "\n".join(lines) + "\n"


def _say(quiet: bool) -> Any:
    def say(message: str) -> None:
        if not quiet:
            print(f"[load] {message}", file=sys.stderr, flush=True)  # noqa: T201

    return say


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", type=int, default=16, help="runs at once (N)")
    parser.add_argument("--tokens", type=int, default=64, help="tokens per calibration stream")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per run")
    parser.add_argument("--label", default="server", help="name of the results files")
    parser.add_argument("--out", default="evals/results/load")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    if args.concurrency < 1:
        parser.error("--concurrency must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark, write `<out>/<label>.md` and `.json`, print the markdown."""
    args = parse_args(argv)
    result = asyncio.run(benchmark(args))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{args.label}.json").write_text(json.dumps(result, indent=2))
    text = render(result)
    (out / f"{args.label}.md").write_text(text)
    print(text)  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main())
