"""Run llama.cpp's own HTTP server (through xllamacpp's prebuilt wheel) on one GGUF model.

    python -m serving.llama_server --model M.gguf --alias NAME --port 8080 --parallel 4

llama.cpp's C++ server batches concurrent requests across `--parallel` slots, keeps
each slot's prompt in its KV cache, and moves prompts it has to evict into a RAM cache
(`--cache-ram`) from which a later request with the same prefix restores them. So one
process serves every tier that uses its model, and no tier's prompt evicts another's.
The process serves until it gets SIGTERM or SIGINT. `serving.llama_cpp` starts it.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from typing import Any


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="GGUF file")
    parser.add_argument("--alias", required=True, help="the name /v1/models lists")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--parallel", type=int, default=4, help="slots: requests decoded at once")
    parser.add_argument("--ctx-per-slot", type=int, default=8192, help="tokens per slot")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--cache-ram", type=int, default=2048, help="MiB of evicted prompts")
    parser.add_argument("--draft", help="GGUF of a smaller model of the same family: it drafts")
    parser.add_argument("--draft-max", type=int, default=8, help="most tokens drafted a step")
    parser.add_argument(
        "--lookup", action="store_true", help="draft by n-gram lookup in the prompt (no model)"
    )
    parser.add_argument(
        "--flash-attn", choices=("auto", "on", "off"), default="auto",
        help="flash attention (auto: on for a CPU; see server_params for when off pays)",
    )  # fmt: skip
    return parser.parse_args(argv)


def server_params(args: argparse.Namespace) -> Any:
    """Return the llama.cpp server parameters (`xllamacpp.CommonParams`) for the arguments."""
    import xllamacpp as xlc  # imported here: `--help` works without the wheel

    params = xlc.CommonParams()
    params.model.path = args.model
    params.model_alias = {args.alias}
    params.hostnames = [args.host]
    params.port = args.port
    params.n_parallel = args.parallel
    params.n_ctx = args.parallel * args.ctx_per_slot
    params.cpuparams.n_threads = args.threads
    params.cpuparams_batch.n_threads = args.threads
    params.cache_ram_mib = args.cache_ram
    # Reuse a slot only for a prompt it holds nearly whole. The planner's and synthesizer's
    # prompts share their first half: with the default (0.1) they take turns in one slot,
    # each reading the other's half again; at 0.9 a request that fits no slot takes the
    # least recently used one, whose prompt goes to the RAM cache, and restores its own.
    params.slot_prompt_similarity = 0.9
    # Flash attention: llama.cpp's auto turns it on for a CPU. Off, on 2 cores, the 1.5B
    # writes faster at long contexts (42.2 against 48.7 ms a token over the planner's
    # 2,300-token prompt) and reads a few new tokens faster (50: 20.9 against 26.6 ms a
    # token), but reads long results slower (440 tokens after the synthesizer's prompt: 9.1
    # against 7.7 s) and cold prompts too (the warm-up: 72 against 50 s). Over the eval
    # slice the plan step's p50 fell 23 % and the answer's rose 3 %, and the demo's first
    # question took 15.9 s against 13.3 s: so auto stays. A q8_0 KV cache was slower still.
    kinds = xlc.llama_flash_attn_type
    params.flash_attn_type = {
        "off": kinds.LLAMA_FLASH_ATTN_TYPE_DISABLED,
        "on": kinds.LLAMA_FLASH_ATTN_TYPE_ENABLED,
        "auto": kinds.LLAMA_FLASH_ATTN_TYPE_AUTO,
    }[args.flash_attn]
    params.endpoint_metrics = True  # /metrics: prompt and generation token counters
    params.endpoint_slots = True
    if args.draft:
        draft = params.speculative.draft
        draft.mparams.path = args.draft
        draft.n_max, draft.n_min = args.draft_max, 0
        draft.cpuparams.n_threads = draft.cpuparams_batch.n_threads = args.threads
        # Without the type the draft model is loaded but never asked for a token.
        params.speculative.types = [
            xlc.common_speculative_type.COMMON_SPECULATIVE_TYPE_DRAFT_SIMPLE
        ]
    elif args.lookup:
        params.speculative.types = [
            xlc.common_speculative_type.COMMON_SPECULATIVE_TYPE_NGRAM_SIMPLE
        ]
        params.speculative.draft.n_max = args.draft_max
    return params


def serve(args: argparse.Namespace) -> None:
    """Start the server in this process and block until SIGTERM or SIGINT."""
    import xllamacpp as xlc

    params = server_params(args)
    # Block the signals before the server's threads start, so only sigwait receives them.
    stop = {signal.SIGTERM, signal.SIGINT}
    signal.pthread_sigmask(signal.SIG_BLOCK, stop)
    server = xlc.Server(params)
    print(f"serving {args.alias} at {server.listening_address}", flush=True)  # noqa: T201
    signal.sigwait(stop)
    os._exit(0)  # the C++ server's threads need no orderly teardown


def main(argv: list[str] | None = None) -> int:
    """Serve until stopped; a model that fails to load exits with 1."""
    args = parse_args(argv)
    try:
        serve(args)
    except RuntimeError as err:  # xllamacpp: "Failed to init server" (bad model, port taken)
        print(f"error: {err}", file=sys.stderr)  # noqa: T201
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
