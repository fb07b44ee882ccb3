"""`python -m serving.stack up|down|status|install|runs`: the production stack on this machine."""

from __future__ import annotations

import argparse
import sys

from serving.process import ServerError
from serving.stack import aegra
from serving.stack.control import Stack, runs_per_worker
from serving.stack.layout import DEFAULT_PORT, DEFAULT_WORKERS, StackLayout


def main(argv: list[str] | None = None) -> int:
    """Run `up`, `down`, `status`, `install` or `runs` (runs each API process picked up)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["up", "down", "status", "install", "runs"])
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="the balancer's port")
    parser.add_argument("--workers", type=int, default=DEFAULT_WORKERS, help="API processes")
    args = parser.parse_args(argv)
    stack = Stack(StackLayout.on_port(args.port, args.workers))
    try:
        if args.action == "up":
            took = stack.up()
            phases = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in took.items())
            print(f"stack up in {took['total']:.0f} s ({phases})")  # noqa: T201
            for name, state in stack.status().items():
                print(f"  {name}: {state}")  # noqa: T201
            print(f"API URL: {stack.layout.url}")  # noqa: T201
        elif args.action == "down":
            stopped = stack.down()
            print(f"stopped: {', '.join(stopped)}" if stopped else "nothing was running")  # noqa: T201
        elif args.action == "status":
            for name, state in stack.status().items():
                print(f"{name}: {state}")  # noqa: T201
        elif args.action == "install":
            print(aegra.install(stack.layout.root))  # noqa: T201
        else:
            for name, count in sorted(runs_per_worker(stack.layout).items()):
                print(f"{name}: {count} runs")  # noqa: T201
    except ServerError as err:
        print(f"error: {err}", file=sys.stderr)  # noqa: T201
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
