"""Dequantize a GGUF model into a bf16 safetensors folder that vLLM loads.

Runs inside the vLLM venv (it needs torch, transformers, gguf and accelerate, none
of which the project's own environment has): `python gguf_to_hf.py MODEL.gguf OUT_DIR`.
vLLM's own GGUF loader needs CUDA, and no PyPI package ships weights vLLM loads,
so the project's GGUF weights are turned back into an ordinary Hugging Face folder.
`save_pretrained` refuses a model loaded from GGUF, so the state dict, config,
generation config and tokenizer are written one by one.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import torch
from safetensors.torch import save_model
from transformers import AutoModelForCausalLM, AutoTokenizer


def convert(gguf: Path, out: Path) -> None:
    """Write `out/` (model.safetensors, config.json, tokenizer files) from a GGUF file."""
    out.mkdir(parents=True, exist_ok=True)
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(
        gguf.parent, gguf_file=gguf.name, dtype=torch.bfloat16
    )
    save_model(model, str(out / "model.safetensors"))  # dense bf16 tensors
    model.generation_config.save_pretrained(out)
    tokenizer.save_pretrained(out)  # includes the chat template, with Qwen's tool calling
    config = model.config.to_dict()
    config.pop("quantization_config", None)  # the saved tensors are plain bf16
    config.pop("_model_name_or_path", None)
    (out / "config.json").write_text(json.dumps(config, indent=2))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: gguf_to_hf.py MODEL.gguf OUT_DIR")
    convert(Path(sys.argv[1]), Path(sys.argv[2]))
