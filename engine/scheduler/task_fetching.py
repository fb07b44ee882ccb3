"""The task fetching unit: start each planned call the moment its inputs are ready.

Each call added becomes an asyncio task at once. A call with references (`$1`, `$2.rate`)
first awaits the futures of the calls it names: it starts the instant the last of them
ends (no polling, no superstep barrier), with the references replaced by their values.
A call whose input failed is not run; its result says which input failed. A reference
that names a field its input does not have leaves the call `unresolved`: the planner
gets another round for it (the only case that costs one).
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

from core.state import CallStatus, ToolResult
from engine.language.parser import REFERENCE, Task

Execute = Callable[[Task, dict[str, Any]], Awaitable[ToolResult]]
Progress = Callable[[list[ToolResult], bool], None]


class UnresolvedReferenceError(LookupError):
    """A `$N.field` names a field that call N's result does not have."""


class TaskFetchingUnit:
    """Run planned calls concurrently, each as soon as the calls it refers to are done.

    Args:
        execute: runs one call with its resolved arguments; never raises (a failure is
            a result with `ok` False). None: set before the first call is added.
        max_parallel: most calls running at once, or the slots it shares with other
            calls of the run (speculative ones).
        done: results of earlier rounds, which `$N` may name.
    """

    def __init__(
        self,
        execute: Execute | None,
        max_parallel: int | asyncio.Semaphore,
        done: list[ToolResult] | None = None,
    ) -> None:
        """Start with no calls."""
        self.execute = execute
        self.slots = (
            max_parallel
            if isinstance(max_parallel, asyncio.Semaphore)
            else asyncio.Semaphore(max_parallel)
        )
        self.results: dict[int, asyncio.Future[ToolResult]] = {}
        self.running: list[asyncio.Task[None]] = []
        self.first_of: dict[str, int] = {}  # a call's identity -> the number it first had
        for result in done or []:
            self._settle(result["index"], result)

    def add(self, task: Task) -> None:
        """Schedule a call: it starts now, or when its last input ends.

        A call the plan already made (same tool, same arguments) is not run again: it
        gets the first one's result, under its own number.
        """
        self.results[task.index] = asyncio.get_running_loop().create_future()
        identity = json.dumps([task.tool, task.args], sort_keys=True, default=str)
        first = self.first_of.setdefault(identity, task.index)
        work = self._run(task) if first == task.index else self._same_as(task, first)
        self.running.append(asyncio.create_task(work, name=f"call {task.index}"))

    async def _same_as(self, task: Task, first: int) -> None:
        result = await self.results[first]
        self.results[task.index].set_result({**result, "index": task.index})

    def skip(self, index: int, tool: str, reason: str, status: CallStatus = "error") -> None:
        """Record a planned call that will not run (a bad plan line), so dependents fail."""
        self._settle(index, not_run(index, tool, {}, reason, status))

    def running_calls(self) -> int:
        """Return how many calls are still running."""
        return sum(not task.done() for task in self.running)

    async def join(self, on_progress: Progress | None = None) -> list[ToolResult]:
        """Wait for every added call; return all results, earlier rounds' too, by number.

        `on_progress` hears, now and each time a call ends, the results in so far (in
        call order, up to the first still running) and whether any call still runs.
        """
        running = {task for task in self.running if not task.done()}
        while on_progress is not None:
            on_progress(self.ready(), bool(running))
            if not running:
                break
            _, running = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
        await asyncio.gather(*self.running)
        return [self.results[i].result() for i in sorted(self.results)]

    def ready(self) -> list[ToolResult]:
        """Return the results that have ended, in call order, up to the first still running."""
        ready = []
        for index in sorted(self.results):
            future = self.results[index]
            if not future.done() or future.cancelled():
                break
            ready.append(future.result())
        return ready

    async def cancel(self) -> None:
        """Stop every call still running (the run was cancelled or its planner failed)."""
        for task in self.running:
            task.cancel()
        await asyncio.gather(*self.running, return_exceptions=True)

    async def _run(self, task: Task) -> None:
        future = self.results[task.index]
        try:
            inputs = {i: await self.results[i] for i in sorted(task.deps)}
            failed = [f"${i}" for i, result in inputs.items() if not result["ok"]]
            if failed:
                reason = f"not run: its input {', '.join(failed)} failed"
                result = not_run(task.index, task.tool, task.args, reason)
            else:
                try:
                    args = resolve(task.args, inputs)
                except UnresolvedReferenceError as err:
                    result = not_run(task.index, task.tool, task.args, str(err), "unresolved")
                else:
                    assert self.execute is not None, "the unit was given no executor"
                    async with self.slots:
                        result = await self.execute(task, args)
        except asyncio.CancelledError:
            future.cancel()
            raise
        if not future.done():
            future.set_result(result)

    def _settle(self, index: int, result: ToolResult) -> None:
        future = asyncio.get_running_loop().create_future()
        future.set_result(result)
        self.results[index] = future


def not_run(
    index: int, tool: str, args: dict[str, Any], reason: str, status: CallStatus = "error"
) -> ToolResult:
    """Return the result of a call that did not run, saying why."""
    now = time.time()
    return ToolResult(
        index=index, tool=tool, args=args, ok=False, status=status, output=reason,
        data=None, started_at=now, ended_at=now,
    )  # fmt: skip


def resolve(args: dict[str, Any], inputs: dict[int, ToolResult]) -> dict[str, Any]:
    """Replace every reference in the arguments (in lists and objects too) with its value.

    A string that is one reference becomes the value itself (a number stays a number, a
    column of rows a list); references inside longer strings are replaced by their text.

    Raises:
        UnresolvedReferenceError: a field or element the result does not have.
    """

    def value(match: Any) -> Any:
        return lookup(inputs[int(match[1])], match[2])

    def filled(arg: Any) -> Any:
        if isinstance(arg, dict):
            return {key: filled(item) for key, item in arg.items()}
        if isinstance(arg, list):
            return [filled(item) for item in arg]
        if not isinstance(arg, str) or "$" not in arg:
            return arg
        if whole := REFERENCE.fullmatch(arg.strip()):
            return value(whole)
        return REFERENCE.sub(lambda m: _text(value(m)), arg)

    return {name: filled(arg) for name, arg in args.items()}


_STEP = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]")


def lookup(result: ToolResult, path: str | None) -> Any:
    """Return a call's value (`$N`) or what a path reaches in it (`$N.field`, `$N[0].id`).

    `data` is what the tool handed back besides its text: rows (a list of dicts) from a
    database, a JSON object from a web service, a number from the calculator. A first
    field of rows is that column (one value, or the list of them); a first field of an
    object is found at any depth; later fields are keys of what came before (a column of
    a list of objects), `[i]` its i-th element. Without a path: the single value of a
    one-cell result, else its rows or object (a list or object argument takes them
    whole; a text argument gets them as JSON), else the text.
    """
    data = result.get("data")
    if not path:  # one cell's value, else the rows or object themselves, else the text
        single = _single_value(data)
        if single is not None:
            return single
        return data if isinstance(data, list | dict) and data else result["output"]
    if path[0] not in ".[":
        path = "." + path  # a bare field name
    current: Any = data
    for number, (field, index) in enumerate(_STEP.findall(path)):
        if index:
            items = current if isinstance(current, list) else None
            if items is None or int(index) >= len(items):
                size = f"{len(items)} items" if items is not None else "not a list"
                raise UnresolvedReferenceError(
                    f"${result['index']} ({result['tool']}) has no item [{index}] at "
                    f"{path!r}: {size}"
                )
            current = items[int(index)]
            continue
        found = _find(current, field.lower()) if number == 0 else _key(current, field.lower())
        if found is None:
            keys = ", ".join(sorted(_keys(current))) or "none (plain text)"
            raise UnresolvedReferenceError(
                f"${result['index']} ({result['tool']}) has no field {field!r}; its fields: {keys}"
            )
        current = found[0] if len(found) == 1 else found
    return current


def _key(data: Any, field: str) -> list[Any] | None:
    """Return the value under a key of an object, or that key of each object of a list."""
    if isinstance(data, dict):
        found = [v for k, v in data.items() if k.lower() == field]
        return found or None
    if isinstance(data, list) and data and all(isinstance(item, dict) for item in data):
        column = [v for item in data for k, v in item.items() if k.lower() == field]
        return column or None
    return None


def _single_value(data: Any) -> Any:
    if isinstance(data, int | float | str) and not isinstance(data, bool):
        return data
    if isinstance(data, list) and len(data) == 1 and isinstance(data[0], dict):
        row = data[0]
        return next(iter(row.values())) if len(row) == 1 else None
    return None


def _find(data: Any, field: str) -> list[Any] | None:
    """Return every value under a key named `field` (case-insensitive): rows, then depth."""
    if isinstance(data, list) and data and all(isinstance(row, dict) for row in data):
        values = [v for row in data for k, v in row.items() if k.lower() == field]
        return values or None
    queue = [data]
    while queue:  # breadth first: the shallowest match wins
        item = queue.pop(0)
        if isinstance(item, dict):
            for key, value in item.items():
                if key.lower() == field:
                    return [value]
            queue.extend(item.values())
        elif isinstance(item, list):
            queue.extend(item)
    return None


def _keys(data: Any) -> set[str]:
    if isinstance(data, dict):
        return set(data)
    if isinstance(data, list):
        return {k for row in data if isinstance(row, dict) for k in row}
    return set()


def _text(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(_text(item) for item in value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return value if isinstance(value, str) else json.dumps(value)
