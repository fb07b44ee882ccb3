import ast
from pathlib import Path

EVALS = Path(__file__).resolve().parents[2] / "evals"
# What each part of evals/ may import of evals (its own modules aside): one way, no cycle.
MAY_IMPORT = {
    "harness": set(),
    "simulated": {"harness"},
    "workloads": {"harness", "simulated"},
    "benchmarks": {"harness", "simulated"},
    "foreign": {"harness"},
}


def _evals_imports(path: Path) -> set[str]:
    parts = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        parts |= {n.split(".")[1] for n in names if n.startswith("evals.")}
    return parts


def test_each_part_of_evals_imports_only_the_parts_below_it() -> None:
    wrong = []
    for part, allowed in MAY_IMPORT.items():
        for path in sorted((EVALS / part).rglob("*.py")):
            extra = _evals_imports(path) - allowed - {part}
            if extra:
                wrong.append(f"{path.relative_to(EVALS)} imports evals.{sorted(extra)}")
    assert not wrong, wrong
