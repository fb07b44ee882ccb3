"""Fill the prompt templates (`prompts.templates`) from a domain, the run's settings and results.

Everything stable (the system prompts) is built once per domain and configuration and
is byte-identical on every call. Tool results reach a model only through
`format_results`: each inside `<result>` tags that a result cannot forge (a tag in a
result is escaped), each cut to a size, and all of them to a total.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Sequence
from functools import lru_cache

from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from core.context import Context
from core.domain import Domain, PlanExample
from core.settings import settings
from core.state import State, ToolResult
from engine.language.schema import signature_of
from engine.language.services import parse_services, plan_calls
from prompts import templates as prompts
from prompts.conversation import earlier_turns, last_user_text
from prompts.results import format_results

STATIC_EXAMPLES = 40  # solved plans in the planner's (cached) system prompt
_SERVICE_CALL = re.compile(r"@(\w+)\(([^()]*)\)")
_PLACEHOLDER = re.compile(r"<[^<>]+>")
# What asks for something: a question word or a request verb at the start of a sentence
# (after "then", "also", ...), and "and"/"also"/"then" before another such word.
_ASKING = (
    r"what|what's|how|how's|which|who|who's|whose|when|where|is|are|was|were|does|do|did|can|"
    r"could|will|would|should|tell|give|show|list|find|check|look|get|pull|compute|calculate|"
    r"convert|search|count|compare|sort|rank"
)
_ASKS = re.compile(rf"(?:(?:then|also|and|now|next|plus|finally)\b,? ?)?(?:{_ASKING})\b", re.I)
_CLAUSE = re.compile(rf",? (?:and (?:then |also )?|also |plus |then )(?=(?:{_ASKING})\b)", re.I)
_SENTENCE_END = re.compile(r"(?<=[?.!;]) ")


@lru_cache(maxsize=16)
def shared_context(domain: Domain, services: str) -> str:
    """Return the context the planner, synthesizer and baseline prompts start with."""
    block = services_block(domain, services)
    return prompts.SHARED_CONTEXT.format(
        name=domain.name,
        description=domain.description.strip(),
        tools=tools_text(domain),
        services=block,
        knowledge=domain.knowledge.strip(),
    )


def tools_text(domain: Domain) -> str:
    """Return the tools as prompt lines: each call with its arguments' types, what it does.

    `- mean(values: list[number], weights: list[number] | null = null): Return ...`, then
    an indented line for each argument its schema describes.
    """
    lines = []
    for tool in domain.tools:
        signature = signature_of(tool)
        lines.append(f"- {signature.text()}: {inspect.cleandoc(tool.description)}")
        lines += [f"    {text}" for text in signature.described()]
    return "\n".join(lines)


@lru_cache(maxsize=16)
def planner_system(domain: Domain, services: str, max_calls: int) -> str:
    """Return the planner's system prompt: the shared context, the task, fixed examples."""
    examples = "\n\n".join(
        prompts.PLANNER_EXAMPLE.format(question=planner_question(e.question), plan=e.plan)
        for e in usable_examples(domain, services)[:STATIC_EXAMPLES]
    )
    task = prompts.PLANNER_TASK.format(max_calls=max_calls, examples=examples)
    return f"{shared_context(domain, services)}\n\n{task}"


def planner_user(
    question: str,
    nearest: Sequence[PlanExample] = (),
    results: Sequence[ToolResult] = (),
) -> str:
    """Return the planner's user turn: nearest solved plans, the question, results so far."""
    text = planner_question(question)
    if nearest:
        examples = "\n\n".join(
            prompts.PLANNER_EXAMPLE.format(question=planner_question(e.question), plan=e.plan)
            for e in nearest
        )
        text = prompts.PLANNER_NEAREST.format(examples=examples) + text
    if results:
        next_index = max(r["index"] for r in results) + 2  # after the `replan()` line
        text = prompts.PLANNER_REPLAN.format(
            question=text, results=format_results(results), next=next_index
        )
    return text


def planner_question(question: str) -> str:
    """Return a question as the planner reads it: `Q: ...`, and its parts when it has several."""
    text = prompts.PLANNER_QUESTION.format(question=question)
    parts = question_parts(question)
    if len(parts) > 1:
        text += prompts.PLANNER_PARTS.format(
            parts=" ".join(f"({i}) {part}." for i, part in enumerate(parts, 1))
        )
    return text


def question_parts(question: str) -> list[str]:
    """Return the things a question asks for: its asking sentences and their asking clauses.

    A sentence asks when it ends with "?" or starts with a question word or a request
    verb ("What ...", "Then pull ...", "Convert ..."); a sentence that only gives context
    or says how ("I have 3 loans.", "Use 3.14 for pi.") asks nothing. Within an asking
    sentence, "and"/"also"/"then" before another question word or request verb starts
    another part ("..., and what is ..."). Blanks are made single spaces first, so the
    text is read once. A question that asks nothing this way is one part.
    """
    text = " ".join(question.split())
    parts = []
    for sentence in _SENTENCE_END.split(text):
        if sentence.endswith("?") or _ASKS.match(sentence):
            parts += [p.strip(" ?.,") for p in _CLAUSE.split(sentence) if p.strip(" ?.,")]
    return parts or [text.strip(" ?.,")]


@lru_cache(maxsize=16)
def synthesizer_system(domain: Domain, services: str) -> str:
    """Return the synthesizer's system prompt: the shared context, then its task."""
    return f"{shared_context(domain, services)}\n\n{prompts.SYNTHESIZER_TASK}"


def synthesizer_user(question: str, results: Sequence[ToolResult]) -> str:
    """Return the synthesizer's user turn: the fenced results, then the question."""
    return prompts.SYNTHESIZER_USER.format(results=format_results(results), question=question)


def synthesizer_user_start(results: Sequence[ToolResult]) -> str:
    """Return how the synthesizer's user turn starts while more results are to come."""
    return prompts.SYNTHESIZER_USER.split("{results}")[0] + format_results(results)


@lru_cache(maxsize=16)
def react_system(domain: Domain, services: str) -> str:
    """Return the ReAct baseline's system prompt: the same shared context, its own task."""
    return f"{shared_context(domain, services)}\n\n{prompts.REACT_TASK}"


@lru_cache(maxsize=16)
def direct_system(domain: Domain) -> str:
    """Return the system prompt of a direct answer (no tools)."""
    return prompts.DIRECT_SYSTEM.format(name=domain.name, description=domain.description)


@lru_cache(maxsize=16)
def router_system(domain: Domain) -> str:
    """Return the system prompt of the small model when it routes."""
    return prompts.ROUTER_SYSTEM.format(name=domain.name, tools=tools_text(domain))


def services_block(domain: Domain, services: str) -> str:
    """Return the configured web services as the prompts list them (empty if none)."""
    parsed = plan_calls(domain, services).services.values()
    if not parsed:
        raw = services.strip()
        return prompts.SERVICES.format(example="name(...)", services=raw) if raw else ""
    lines = [
        prompts.SERVICE.format(signature=s.signature(), template=s.template, returns=s.returns)
        for s in parsed
    ]
    first = next(iter(parsed))
    arguments = ", ".join(f'{param}="..."' for param in first.params)
    example = f"{first.name}({arguments})"
    return prompts.SERVICES.format(example=example, services="\n".join(lines))


def usable_examples(domain: Domain, services: str) -> list[PlanExample]:
    """Return the domain's solved plans with their service calls written for `services`.

    `http_get(url="@crm(x)")` becomes the service call `crm(name="x")`; any other
    `@service(...)` its URL. An example that calls a service the run has not configured
    is left out.
    """
    parsed = parse_services(services)
    urls = {s.name: s.template for s in parsed}
    params = {s.name: s.params for s in parsed}
    examples = []
    for example in domain.plan_examples:
        plan = _expand_services(example.plan, urls, params)
        if plan is not None:
            examples.append(PlanExample(example.question, plan))
    return examples


_FETCH_SERVICE = re.compile(r'http_get\(url="@(\w+)\(([^()]*)\)"\)')


def _expand_services(
    plan: str, urls: dict[str, str], names: dict[str, tuple[str, ...]]
) -> str | None:
    missing = False

    def call(match: re.Match[str]) -> str:  # http_get(url="@crm(x)") -> crm(name="x")
        nonlocal missing
        params = names.get(match[1])
        if params is None:
            missing = True
            return match[0]
        values = [v.strip() for v in match[2].split(",")]
        pairs = ", ".join(f'{p}="{v}"' for p, v in zip(params, values, strict=False))
        return f"{match[1]}({pairs})"

    plan = _FETCH_SERVICE.sub(call, plan)

    def fill(match: re.Match[str]) -> str:
        nonlocal missing
        template = urls.get(match[1])
        if template is None:
            missing = True
            return match[0]
        values = iter(v.strip() for v in match[2].split(","))
        return _PLACEHOLDER.sub(lambda _: next(values, ""), template)

    expanded = _SERVICE_CALL.sub(fill, plan)
    return None if missing else expanded


def answer_messages(
    state: State, domain: Domain, results: Sequence[ToolResult], question: str | None
) -> list[BaseMessage]:
    """Return the synthesizer's messages; with no question yet, how they start (read ahead)."""
    if question is None:
        user = synthesizer_user_start(results)
    else:
        user = synthesizer_user(question, results)
    return [
        SystemMessage(synthesizer_system(domain, settings().http_services)),
        *earlier_turns(state),
        HumanMessage(user),
    ]


def direct_messages(state: State, context: Context, domain: Domain) -> list[BaseMessage]:
    """Return what the direct answer is asked: its prompt, recent turns and the query."""
    return [
        SystemMessage(direct_system(domain)),
        *earlier_turns(state),
        HumanMessage(last_user_text(state, context)),
    ]
