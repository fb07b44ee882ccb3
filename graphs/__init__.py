"""The wiring: the fast agent and the create_agent baseline over a domain, and the CLI.

`fast_agent.build_graph(domain)` and `react_agent.build_graph(domain)`; `graph` in each is
the served domain's (`deploy.served`). May import every package but `evals`.
"""
