"""Copy the README's screenshots from the last `make ui-test` run into docs/screenshots.

    .venv/bin/python -m tests.ui.screenshots

Each is cut to a 64-colour palette (Pillow, from the dev extras' matplotlib): a fifth of
the size, and the page's flat colours look the same.
"""

from __future__ import annotations

import sys

from PIL import Image

from tests.ui.conftest import OUT, ROOT

DOCS = ROOT / "docs" / "screenshots"
# build/ui-test/<name> -> docs/screenshots/<name>
README_SHOTS = {
    "fast_agent-turn1-planning.png": "ui-fast-agent-1-planning.png",
    "fast_agent-turn1-tools.png": "ui-fast-agent-2-tool-cards.png",
    "fast_agent-turn1-final.png": "ui-fast-agent-3-final.png",
    "fast_agent-turn2-final.png": "ui-fast-agent-4-follow-up.png",
    "react_agent-turn1-final.png": "ui-react-agent-final.png",
}


def main() -> int:
    """Write the screenshots; return 1 if the last run lacks one."""
    missing = [name for name in README_SHOTS if not (OUT / name).exists()]
    if missing:
        sys.stderr.write(f"not in {OUT}: {', '.join(missing)}; run `make ui-test` first\n")
        return 1
    DOCS.mkdir(parents=True, exist_ok=True)
    for source, target in README_SHOTS.items():
        image = Image.open(OUT / source).convert("RGB")
        palette = image.quantize(colors=64, method=Image.Quantize.MEDIANCUT)
        palette.save(DOCS / target, optimize=True)
        sys.stdout.write(f"{DOCS / target}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
