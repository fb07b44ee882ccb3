"""Evals and benchmarks: latency and correctness, measured."""
