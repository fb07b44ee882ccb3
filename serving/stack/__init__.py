"""The production stack on one machine, no Docker: Postgres, Redis, Aegra workers, nginx.

    python -m serving.stack up       # install what is missing, start everything, print the URL
    python -m serving.stack status
    python -m serving.stack down

- `layout`: where each part listens and keeps its files (`.run/stack/` in the checkout).
- `backends`: Postgres and Redis as local processes (Debian packages, installed if missing).
- `aegra`: the Aegra server (an open-source LangGraph API server) in its own Python 3.12
  venv with the project installed; several API processes, each running queue workers.
- `balancer`: nginx in front of the API processes, one URL for clients.
- `control`: starts and stops the whole stack in order.
"""
