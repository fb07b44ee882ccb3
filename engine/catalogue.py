"""What follows from a domain and the operator's settings, compiled once, not per run.

The calls a plan may make (tools and web services, each with its argument schemas),
the planner's system prompt, the grammar pieces and each accelerator's own compiled
part (`derived`: the reviewed templates, the example index, ...). `catalogue_for` builds
it the first time a (domain, services) pair is seen, which `graphs.fast_agent` does
when it builds the graph; a run only looks it up.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, TypeVar

from core.domain import Domain, PlanExample
from engine.language.grammar import plan_grammar
from engine.language.services import PlanCalls, plan_calls
from prompts.render import planner_system, usable_examples

T = TypeVar("T")


@dataclass(frozen=True, eq=False)
class Catalogue:
    """A domain's calls, prompts and compiled pieces under one operator's services."""

    domain: Domain
    services: str
    calls: PlanCalls
    examples: tuple[PlanExample, ...]  # the solved plans, services written for `services`
    _derived: dict[str, Any] = field(default_factory=dict, repr=False)

    def planner_system(self, max_calls: int) -> str:
        """Return the planner's system prompt (cached: it is the server's prompt prefix)."""
        return planner_system(self.domain, self.services, max_calls)

    def grammar(self, max_calls: int, min_calls: int, first: int) -> str:
        """Return the plan grammar for this round (cached per shape)."""
        return plan_grammar(self.domain, self.services, max_calls, min_calls, first)

    def derived(self, name: str, build: Callable[[Catalogue], T]) -> T:
        """Return a piece an accelerator compiles from the catalogue, built once."""
        if name not in self._derived:
            self._derived[name] = build(self)
        found: T = self._derived[name]
        return found


@lru_cache(maxsize=16)
def catalogue_for(domain: Domain, services: str) -> Catalogue:
    """Return the catalogue of a domain under these services (built once per pair)."""
    return Catalogue(
        domain, services, plan_calls(domain, services), tuple(usable_examples(domain, services))
    )
