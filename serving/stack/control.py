"""Start and stop the whole stack in order: Postgres, Redis, migrations, API processes, nginx."""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass, field

from serving.process import ServerError, kill_pid_file
from serving.stack import aegra
from serving.stack.backends import Postgres, Redis
from serving.stack.balancer import Balancer
from serving.stack.layout import StackLayout

# On SIGTERM an API process lets its runs finish for 30 s (WORKER_DRAIN_TIMEOUT), then
# hands the rest back to the queue for another process.
DRAIN_SECONDS = 35.0


@dataclass
class Stack:
    """The parts of one stack; `up` starts what is not running, `down` stops all of it."""

    layout: StackLayout = field(default_factory=StackLayout)
    env: dict[str, str] = field(default_factory=dict)  # extra settings for the API processes

    def __post_init__(self) -> None:
        """Name the parts (nothing is started)."""
        self.postgres = Postgres(self.layout)
        self.redis = Redis(self.layout)
        self.apis = [aegra.ApiServer(self.layout, i) for i in range(len(self.layout.api_ports))]
        self.balancer = Balancer(self.layout)

    def up(self) -> dict[str, float]:
        """Install what is missing and start every part; return the seconds each phase took."""
        took: dict[str, float] = {}
        began = time.monotonic()
        self.layout.run_dir.mkdir(parents=True, exist_ok=True)
        aegra.install(self.layout.root)
        took["install"] = time.monotonic() - began
        mark = time.monotonic()
        self.postgres.start()
        self.redis.start()
        took["postgres and redis"] = time.monotonic() - mark
        mark = time.monotonic()
        env = aegra.server_env(self.layout, self.env)
        aegra.migrate(self.layout, env)
        took["migrations"] = time.monotonic() - mark
        mark = time.monotonic()
        self.start_apis(env)
        took["api processes"] = time.monotonic() - mark
        if kill_pid_file(self.balancer.pid_file, grace=5):  # a stale one: ports may have moved
            time.sleep(0.2)
        self.balancer.start()
        took["total"] = time.monotonic() - began
        return took

    def start_apis(self, env: dict[str, str] | None = None) -> None:
        """Start the API processes that are not running; wait for each to serve.

        One starts alone first: each process creates LangGraph's checkpoint and store
        tables on start-up, and two doing it at once on a fresh database collide.
        The others then start side by side. If one fails, those started are stopped.
        """
        env = env or aegra.server_env(self.layout, self.env)
        waiting = [api for api in self.apis if api.pid() is None]
        try:
            for batch in (waiting[:1], waiting[1:]):
                started = [(api, api.start(env)) for api in batch]
                for api, process in started:
                    api.wait_ready(process)
        except ServerError:
            for api in waiting:
                kill_pid_file(api.pid_file, grace=5)
            raise

    def down(self) -> list[str]:
        """Stop every part, the balancer first and Postgres last; return what was stopped."""
        stopped = []
        if self.balancer.stop():
            stopped.append("balancer")
        for pid_file in sorted(self.layout.run_dir.glob("api-*.pid")):  # however many ran
            if kill_pid_file(pid_file, grace=DRAIN_SECONDS):
                stopped.append(pid_file.stem)
        if self.redis.stop():
            stopped.append("redis")
        if self.postgres.stop():
            stopped.append("postgres")
        return stopped

    def status(self) -> dict[str, str]:
        """Say which parts run."""
        state = {
            "postgres": "up" if self.postgres.running() else "down",
            "redis": "up" if self.redis.ping() else "down",
        }
        for api in self.apis:
            pid = api.pid()
            state[f"api-{api.index + 1}"] = f"up (pid {pid}, {api.url})" if pid else "down"
        balancer = self.balancer.pid_file.exists()
        state["balancer"] = f"up ({self.layout.url})" if balancer else "down"
        return state


def runs_per_worker(layout: StackLayout) -> dict[str, int]:
    """Count the runs each API process picked up, from its log (`Worker picked up run`)."""
    counts: Counter[str] = Counter()
    for index in range(len(layout.api_ports)):
        log = layout.api_log(index)
        if not log.exists():
            continue
        for line in log.read_text(errors="replace").splitlines():
            if "Worker picked up run" not in line:
                continue
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict) and record.get("run_id"):
                counts[f"api-{index + 1}"] += 1
    return dict(counts)
