"""Web services as calls of their own in the plan: `weather(city="Oslo")`, not a URL.

The operator lists the services an agent may call (`HTTP_SERVICES`, one a line:
`- weather: GET http://host/weather?city=<city> -> temp_c, conditions`). In the plan
language each becomes a call named after it, with one string argument per `<...>`
part (named after its query parameter): far fewer tokens than a URL, nothing for a
small planner to mistype, and a reference fills a part (`crm(name="$1.name")`), URL-
encoded. The call runs as `http_get` on the filled-in URL: the same allowlist, byte cap
and deadline as any other fetch.
"""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from core.domain import Domain
from engine.language.schema import Signature, conform, signature_of, strings

_LINE = re.compile(r"^- (\w+): GET (.+?)(?:\s+->\s*(.*))?$", re.MULTILINE)
_PLACEHOLDER = re.compile(r"<([^<>]+)>")
FETCH_TOOL = "http_get"


@dataclass(frozen=True)
class Service:
    """One configured web service: its name, URL template, parameters and what it returns."""

    name: str
    template: str
    params: tuple[str, ...]
    returns: str

    def url(self, args: dict[str, Any]) -> str:
        """Return the URL with each `<...>` part filled by its argument, URL-encoded."""
        values = iter(urllib.parse.quote(str(args.get(p, "")), safe="") for p in self.params)
        return _PLACEHOLDER.sub(lambda _: next(values, ""), self.template)

    def signature(self) -> str:
        """Return the call as the planner sees it: `weather(city)`."""
        return f"{self.name}({', '.join(self.params)})"


@lru_cache(maxsize=16)
def parse_services(text: str, reserved: frozenset[str] = frozenset()) -> tuple[Service, ...]:
    """Return the services of an `HTTP_SERVICES` text (a name a tool has is left out)."""
    services = []
    for name, template, returns in _LINE.findall(text):
        if name in reserved or not name.isidentifier():
            continue
        params: list[str] = []
        for match in _PLACEHOLDER.finditer(template):
            key = re.search(r"[?&]([A-Za-z_]\w*)=$", template[: match.start()])
            param = key[1] if key else re.sub(r"\W+", "_", match[1].strip()).strip("_").lower()
            while param in params or not param:
                param = f"{param or 'value'}_{len(params) + 1}"
            params.append(param)
        services.append(Service(name, template, tuple(params), returns.strip()))
    return tuple(services)


def as_fetch(service: Service, args: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Return the `http_get` call a service call runs as."""
    return FETCH_TOOL, {"url": service.url(args)}


@dataclass(frozen=True)
class PlanCalls:
    """What a plan may call: the domain's tools and the configured services, by name."""

    domain: Domain
    signatures: dict[str, Signature]
    services: dict[str, Service]

    @property
    def arg_names(self) -> dict[str, list[str]]:
        """Return each call's argument names, in order."""
        return {name: sig.names for name, sig in self.signatures.items()}

    def conform(self, name: str, args: dict[str, Any]) -> dict[str, Any]:
        """Return resolved arguments in the shapes the call's schema takes (`conform`)."""
        signature = self.signatures.get(name)
        if signature is None:
            return args
        return {arg: conform(value, signature.schema(arg)) for arg, value in args.items()}

    def runs_as(self, name: str, args: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """Return the tool call a planned call runs as: a service's `http_get`, else itself."""
        service = self.services.get(name)
        return as_fetch(service, args) if service is not None else (name, args)

    def read_only(self, name: str) -> bool:
        """Whether a call only reads: its tool says so (a service runs as the fetch tool)."""
        return self.domain.is_read_only(FETCH_TOOL if name in self.services else name)


@lru_cache(maxsize=16)
def plan_calls(domain: Domain, services: str) -> PlanCalls:
    """Return the calls a plan may make with this domain and these services."""
    reserved = frozenset(domain.tool_names)
    fetches = FETCH_TOOL in reserved  # services run as http_get: only with that tool
    found = {s.name: s for s in parse_services(services, reserved)} if fetches else {}
    signatures = {tool.name: signature_of(tool) for tool in domain.tools}
    signatures |= {n: strings(n, s.params) for n, s in found.items()}
    return PlanCalls(domain, signatures, found)
