import ast
import asyncio
import threading
from pathlib import Path

from core.resources import PerLoop, PerProcess

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("core", "serving", "tools", "engine", "prompts", "nodes", "graphs", "deploy")
MUTABLE_CALLS = {"dict", "list", "set", "WeakKeyDictionary", "WeakValueDictionary"}
MUTABLE_CALLS |= {"ThreadPoolExecutor", "ProcessPoolExecutor", "defaultdict", "OrderedDict"}
# serving/admission.py's lines and slot counts are per-loop state of their own, listed in
# core.resources; the multi-caller work owns that module.
KNOWN = {"serving/admission.py": {"_slots", "_gates"}}


def test_one_per_loop_and_a_closed_loops_goes() -> None:
    made = PerLoop(object)

    async def get() -> object:
        return made.get()

    async def twice() -> tuple[object, object]:
        return made.get(), await asyncio.create_task(get())

    first, again = asyncio.run(twice())
    assert first is again
    assert asyncio.run(get()) is not first  # another loop, another one
    assert len(made._by_loop) == 0  # both loops are closed and gone


def test_one_per_process_from_any_thread() -> None:
    made = PerProcess(object)
    seen: list[object] = []
    threads = [threading.Thread(target=lambda: seen.append(made.get())) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(s) for s in seen}) == 1 and seen[0] is made.get()


def _mutable(value: ast.expr) -> bool:
    if isinstance(value, (ast.Dict, ast.List, ast.Set, ast.DictComp, ast.ListComp, ast.SetComp)):
        return True
    if isinstance(value, ast.Call):
        func = value.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        return name in MUTABLE_CALLS
    return False


def test_no_module_global_holds_state_but_through_core_resources() -> None:
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            where = str(path.relative_to(ROOT))
            tree = ast.parse(path.read_text())
            for node in ast.walk(tree):
                if isinstance(node, ast.Global):
                    found.append(f"{where}: global {', '.join(node.names)}")
            for node in tree.body:
                if isinstance(node, ast.AnnAssign) and node.value is not None:
                    targets, value = [node.target], node.value
                elif isinstance(node, ast.Assign):
                    targets, value = node.targets, node.value
                else:
                    continue
                for target in targets:
                    name = getattr(target, "id", "")
                    constant = name.lstrip("_").isupper() or name == "__all__"
                    known = name in KNOWN.get(where, set())
                    if name and not constant and not known and _mutable(value):
                        found.append(f"{where}: {name}")
    assert not found, f"module state outside core.resources: {found}"
