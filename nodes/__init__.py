"""Nodes: one module per step of the fast agent."""
