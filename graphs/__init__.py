"""Graphs: the fast agent and the sequential baseline, wired from nodes and tools."""
