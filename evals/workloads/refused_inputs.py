"""What refused inputs cost `langgraph dev` in memory: its RSS before, at peak and after.

Starts `langgraph dev` with two API keys (the models pointed at a closed port: nothing
here reaches a model), then sends `--runs` runs of `--mb` megabytes each, one on each of
`--runs` threads of key A (half an earlier question, half an earlier AI answer, then a
short question), sampling the server's resident memory every 5 ms meanwhile. Every run
must be refused (413 from `deploy/auth.py`, or from the server's own body cap when
`--body-limit` sets `HTTP_MAX_REQUEST_BODY_BYTES`) and nothing may be stored.

    python -m evals.workloads.refused_inputs  # 10 runs of 10 MB, the default caps
    python -m evals.workloads.refused_inputs --body-limit 2000000
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from pathlib import Path

import httpx

from evals.harness.dev_server import langgraph_dev

CLOSED = "http://127.0.0.1:9/v1"  # the discard port: a model call here fails at once


def memory_mb(pid: int) -> dict[str, float]:
    """Return a process's resident memory now (VmRSS) and its peak so far (VmHWM), in MB."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            found[name] = int(rest.split()[0]) / 1024
    return found


class Sampler(threading.Thread):
    """Sample a process's RSS every few milliseconds; keep the highest."""

    def __init__(self, pid: int, every: float = 0.005) -> None:
        """Watch `pid` every `every` seconds until `stop()`."""
        super().__init__(daemon=True)
        self.pid, self.every, self.peak = pid, every, 0.0
        self._done = threading.Event()

    def run(self) -> None:
        """Sample until stopped."""
        while not self._done.is_set():
            self.peak = max(self.peak, memory_mb(self.pid)["VmRSS"])
            time.sleep(self.every)

    def stop(self) -> float:
        """Stop sampling; return the highest RSS seen, in MB."""
        self._done.set()
        self.join()
        return self.peak


def oversized_body(megabytes: float) -> bytes:
    """Return a run request whose input carries `megabytes` MB of earlier turns."""
    half = "x" * int(megabytes * 1_000_000 / 2)
    messages = [
        {"type": "human", "content": half},
        {"type": "ai", "content": half},
        {"type": "human", "content": "And how many are open?"},
    ]
    return json.dumps({"assistant_id": "fast_agent", "input": {"messages": messages}}).encode()


def measure(runs: int, megabytes: float, port: int, body_limit: int | None) -> dict[str, object]:
    """Send the oversized runs to a fresh `langgraph dev`; return what its memory did."""
    env = {"API_KEYS": "keyA,keyB", "LLM_BASE_URL": CLOSED, "FALLBACK_BASE_URL": ""}
    env |= {f"{tier}_BASE_URL": CLOSED for tier in ("ROUTER", "PLANNER", "SYNTHESIZER")}
    if body_limit is not None:
        env["HTTP_MAX_REQUEST_BODY_BYTES"] = str(body_limit)
    log = Path("build/refused_inputs/dev.log")
    with langgraph_dev(log, jobs=None, env=env, port=port) as (url, server):
        headers = {"x-api-key": "keyA", "content-type": "application/json"}
        with httpx.Client(base_url=url, headers=headers, timeout=120) as client:
            threads = [client.post("/threads", json={}).json()["thread_id"] for _ in range(runs)]
            body = oversized_body(megabytes)
            warm_up = {"assistant_id": "fast_agent", "input": {"messages": [{}] * 10_000}}
            client.post(f"/threads/{threads[0]}/runs", json=warm_up)  # refused: too many
            time.sleep(2)  # let start-up settle
            before = memory_mb(server.pid)
            sampler = Sampler(server.pid)
            sampler.start()
            statuses = [
                client.post(f"/threads/{thread}/runs", content=body).status_code
                for thread in threads
            ]
            settle(client, threads)
            peak = sampler.stop()
            after = memory_mb(server.pid)
            stored = sum(len(client.get(f"/threads/{t}/runs").json()) for t in threads)
            states = [client.get(f"/threads/{t}/state").json().get("values") for t in threads]
    return {
        "runs": runs,
        "megabytes": megabytes,
        "body_limit": body_limit,
        "statuses": sorted(set(statuses)),
        "runs_stored": stored,
        "threads_with_state": sum(bool(values) for values in states),
        "rss_before_mb": round(before["VmRSS"], 1),
        "rss_peak_mb": round(max(peak, after["VmRSS"]), 1),
        "rss_after_mb": round(after["VmRSS"], 1),
        "peak_growth_mb": round(max(peak, after["VmRSS"]) - before["VmRSS"], 1),
        "kept_growth_mb": round(after["VmRSS"] - before["VmRSS"], 1),
    }


def settle(client: httpx.Client, threads: list[str], timeout: float = 60.0) -> None:
    """Wait until no thread is busy (a run that was accepted has ended), then 2 s more."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(client.get(f"/threads/{t}").json()["status"] != "busy" for t in threads):
            break
        time.sleep(0.5)
    time.sleep(2)


def main(argv: list[str] | None = None) -> int:
    """Measure and print the figures as JSON; fail if a run was accepted or stored."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--mb", type=float, default=10.0)
    parser.add_argument("--port", type=int, default=2190)
    parser.add_argument("--body-limit", type=int, default=None)
    args = parser.parse_args(argv)
    figures = measure(args.runs, args.mb, args.port, args.body_limit)
    print(json.dumps(figures, indent=2))  # noqa: T201
    refused = figures["statuses"] == [413] and not figures["runs_stored"]
    refused = refused and not figures["threads_with_state"]
    return 0 if refused else 1


if __name__ == "__main__":
    raise SystemExit(main())
