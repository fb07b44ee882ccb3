#!/usr/bin/env bash
# Production vLLM for fast-agent on a GPU box: one OpenAI-compatible server per model tier.
#
#   serving/vllm/serve.sh [small|large|both] [extra vllm serve args...]   (default: both)
#
# small: the router tier (route_query, answer_directly), port 8001.
# large: the planner and synthesizer tiers (plan_tools, synthesize_answer), port 8000.
# `both` starts large, waits for /health, starts small (two engines profiling GPU memory at
# once can trip vLLM's profiler), prints the variables that point the graph at them, and
# waits; one server dying stops the other. DRY_RUN=1 prints the commands instead.
# The flags are checked against vLLM 0.32.0's argument parser; compose.yaml runs this script.
set -euo pipefail

# Models. Served names are what the graph's *_MODEL fields ask for: keep them honest.
SMALL_MODEL=${SMALL_MODEL:-Qwen/Qwen2.5-Coder-0.5B-Instruct}
SMALL_NAME=${SMALL_NAME:-qwen2.5-coder-0.5b}
# The 1.5B fits next to the 0.5B on a 16 GB GPU. Qwen/Qwen2.5-Coder-7B-Instruct (LARGE_NAME=
# qwen2.5-coder-7b) plans and answers better: ~15 GB of bf16 weights, so a 40 GB+ GPU here.
LARGE_MODEL=${LARGE_MODEL:-Qwen/Qwen2.5-Coder-1.5B-Instruct}
LARGE_NAME=${LARGE_NAME:-qwen2.5-coder-1.5b}
SMALL_PORT=${SMALL_PORT:-8001}
LARGE_PORT=${LARGE_PORT:-8000}
HOST=${HOST:-0.0.0.0}
PUBLIC_HOST=${PUBLIC_HOST:-$(hostname 2>/dev/null || echo localhost)}  # how the graph reaches this box
# Both servers share one GPU: 0.30 + 0.55 leaves ~15% for CUDA graphs and the driver.
SMALL_GPU_MEMORY=${SMALL_GPU_MEMORY:-0.30}
LARGE_GPU_MEMORY=${LARGE_GPU_MEMORY:-0.55}
MAX_MODEL_LEN=${MAX_MODEL_LEN:-8192}
MAX_NUM_SEQS=${MAX_NUM_SEQS:-64}
KV_CACHE_DTYPE=${KV_CACHE_DTYPE:-fp8}
STRUCTURED_OUTPUTS_BACKEND=${STRUCTURED_OUTPUTS_BACKEND:-xgrammar}
SPECULATIVE=${SPECULATIVE:-1}
SPECULATIVE_CONFIG=${SPECULATIVE_CONFIG:-'{"method": "ngram", "num_speculative_tokens": 4, "prompt_lookup_max": 4, "prompt_lookup_min": 2}'}
# vLLM 0.32 turns async scheduling off for "ngram" (its proposer runs on the CPU) but not for
# "ngram_gpu": with small models that overlap can matter as much; measure both and SPECULATIVE=0.
# EAGLE instead of n-gram (better acceptance on free text; needs a draft head trained for the
# target model, e.g. one made with vllm-project/speculators; none is assumed here):
#   SPECULATIVE_CONFIG='{"method": "eagle3", "model": "<eagle3 head for LARGE_MODEL>", "num_speculative_tokens": 3}'
VLLM_BIN=${VLLM_BIN:-vllm}
READY_TIMEOUT=${READY_TIMEOUT:-900}  # seconds: weights download, load, torch.compile, CUDA graphs

# The `vllm serve` command line of one tier, into the array CMD.
build_cmd() {
  local model=$1 name=$2 port=$3 gpu_memory=$4
  CMD=(
    "$VLLM_BIN" serve "$model"
    --served-model-name "$name"
    --host "$HOST" --port "$port"
    # Shared system prompts (the planner's is ~1,000 tokens) are read once, not per run.
    --enable-prefix-caching
    # Continuous batching width: concurrent runs and parallel branches decode together.
    --max-num-seqs "$MAX_NUM_SEQS"
    # This server's share of the GPU (weights + KV cache); the two shares must sum below 1.
    --gpu-memory-utilization "$gpu_memory"
    # Longest prompt + answer; a shorter context leaves more KV cache for warm prefixes.
    --max-model-len "$MAX_MODEL_LEN"
    # Parse Qwen2.5's <tool_call> output into OpenAI tool calls (the ReAct baseline needs it).
    --enable-auto-tool-choice --tool-call-parser hermes
    # Grammar engine behind structured_outputs: the planner's plan grammar and the router's choice.
    --structured-outputs-config "{\"backend\": \"$STRUCTURED_OUTPUTS_BACKEND\"}"
    # fp8 halves KV memory per token (auto = model dtype, if quality or the GPU objects).
    --kv-cache-dtype "$KV_CACHE_DTYPE"
    # usage.prompt_tokens_details.cached_tokens: the graph's step timings show cache hits.
    --enable-prompt-tokens-details
  )
  if [[ $SPECULATIVE != 0 ]]; then
    # N-gram prompt lookup drafts tokens copied from the prompt (tool results, names, JSON
    # keys) with no draft model; verified in one forward pass, so the output is unchanged.
    CMD+=(--speculative-config "$SPECULATIVE_CONFIG")
  fi
  CMD+=("${EXTRA_ARGS[@]}")
}

tier_cmd() {
  case $1 in
    small) build_cmd "$SMALL_MODEL" "$SMALL_NAME" "$SMALL_PORT" "$SMALL_GPU_MEMORY" ;;
    large) build_cmd "$LARGE_MODEL" "$LARGE_NAME" "$LARGE_PORT" "$LARGE_GPU_MEMORY" ;;
  esac
}

print_env() {
  local small_url="http://$PUBLIC_HOST:$SMALL_PORT/v1" large_url="http://$PUBLIC_HOST:$LARGE_PORT/v1"
  echo "# point the graph here, e.g. prefix to \`make dev\` (LLM_BASE_URL: no local servers):"
  case $1 in
    small) echo "ROUTER_BASE_URL=$small_url ROUTER_MODEL=$SMALL_NAME LLM_BACKEND=vllm" ;;
    large) echo "LLM_BASE_URL=$large_url ROUTER_MODEL=$LARGE_NAME PLANNER_MODEL=$LARGE_NAME" \
      "SYNTHESIZER_MODEL=$LARGE_NAME LLM_BACKEND=vllm" ;;  # all three tiers on this server
    both) echo "LLM_BASE_URL=$large_url ROUTER_BASE_URL=$small_url PLANNER_BASE_URL=$large_url" \
      "SYNTHESIZER_BASE_URL=$large_url ROUTER_MODEL=$SMALL_NAME PLANNER_MODEL=$LARGE_NAME" \
      "SYNTHESIZER_MODEL=$LARGE_NAME LLM_BACKEND=vllm" ;;
  esac
}

healthy() {
  local url="http://127.0.0.1:$1/health"
  if command -v curl >/dev/null; then
    curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null
  else
    python3 -c "import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)" \
      "$url" 2>/dev/null
  fi
}

# Wait until the server on port $1 (process $2) answers /health.
wait_ready() {
  local port=$1 pid=$2 waited=0
  until healthy "$port"; do
    kill -0 "$pid" 2>/dev/null || { echo "serve.sh: server on port $port exited" >&2; return 1; }
    if ((waited > READY_TIMEOUT)); then echo "serve.sh: port $port not ready" >&2; return 1; fi
    sleep 2
    waited=$((waited + 2))
  done
  echo "serve.sh: port $port ready"
}

TIER=${1:-both}
shift $(($# > 0 ? 1 : 0))
EXTRA_ARGS=("$@")

case $TIER in
  small | large)
    tier_cmd "$TIER"
    print_env "$TIER"
    if [[ ${DRY_RUN:-0} != 0 ]]; then printf '%q ' "${CMD[@]}"; echo; exit 0; fi
    exec "${CMD[@]}"
    ;;
  both)
    if [[ ${DRY_RUN:-0} != 0 ]]; then
      for t in large small; do tier_cmd "$t"; printf '%q ' "${CMD[@]}"; echo; done
      print_env both
      exit 0
    fi
    PIDS=()
    stop() { kill "${PIDS[@]}" 2>/dev/null || true; wait || true; }
    trap 'stop; exit 143' INT TERM
    tier_cmd large; "${CMD[@]}" & PIDS+=($!)
    wait_ready "$LARGE_PORT" "${PIDS[0]}" || { stop; exit 1; }
    tier_cmd small; "${CMD[@]}" & PIDS+=($!)
    wait_ready "$SMALL_PORT" "${PIDS[1]}" || { stop; exit 1; }
    print_env both
    status=0
    wait -n || status=$?
    echo "serve.sh: a server exited ($status); stopping the other" >&2
    stop
    exit "$status"
    ;;
  *)
    echo "usage: $0 [small|large|both] [extra vllm serve args...]" >&2
    exit 2
    ;;
esac
