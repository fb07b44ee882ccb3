"""The evaluators, and the eval as a LangSmith experiment against a local fake LangSmith."""

from __future__ import annotations

import json
import threading
import urllib.parse
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from email import policy
from email.parser import BytesParser
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import langsmith
import pytest
from langsmith import utils as ls_utils

from core.context import Context
from core.settings import Settings, use_settings
from evals.harness.dataset import Question, load_dataset
from evals.harness.experiment import (
    correctness,
    ensure_dataset,
    evaluate_row,
    first_token,
    langsmith_wanted,
    latency,
    reference_of,
    router_ok,
    run_experiment,
)
from evals.run import parse_args, run_suite, simulated_gpu
from evals.simulated.services import ExternalServices, JSONHandler

KEYS = {"correct", "e2e_ms", "first_token_ms", "route_ok"}
TENANT = "00000000-0000-0000-0000-000000000001"


def question(**changes: Any) -> Question:
    base = {
        "id": "q",
        "group": "one_tool",
        "question": "How many?",
        "route": "tools",
        "tools": ["calculator"],
        "services": [],
        "facts": ["351", "Gold"],
        "reference": "351, Gold tier.",
    }
    return Question(**(base | changes))


def row(**changes: Any) -> dict[str, Any]:
    base = {
        "error": None,
        "answer": "It is $351.00, Gold tier.",
        "e2e_ms": 812.5,
        "first_token_ms": 640.0,
        "route": "tools",
    }
    return base | changes


# --- the evaluators ---------------------------------------------------------------------------


def test_correctness_needs_every_fact_and_no_error() -> None:
    reference = reference_of(question())
    assert correctness(row(), reference) == {"key": "correct", "score": True, "comment": None}
    missed = correctness(row(answer="It is 35.1"), reference)
    assert missed["score"] is False and "351" in missed["comment"] and "Gold" in missed["comment"]
    failed = correctness(row(error="TimeoutError: "), reference)
    assert failed["score"] is False and failed["comment"].startswith("error: TimeoutError")
    assert correctness(row(answer="hello"), reference_of(question(facts=[])))["score"] is True


def test_latency_and_first_token_report_milliseconds() -> None:
    assert latency(row()) == {"key": "e2e_ms", "score": 812.5}
    assert first_token(row())["score"] == 640.0
    assert first_token(row(first_token_ms=None)) == {
        "key": "first_token_ms",
        "score": None,
        "comment": "no token",
    }


def test_router_ok_compares_the_route_and_skips_graphs_without_a_router() -> None:
    reference = reference_of(question())
    assert router_ok(row(), reference)["score"] is True
    wrong = router_ok(row(route="direct"), reference)
    assert wrong["score"] is False and wrong["comment"] == "routed direct, expected tools"
    no_router = {k: v for k, v in row().items() if k != "route"}
    assert router_ok(no_router, reference)["score"] is None


def test_evaluate_row_scores_every_key_like_the_row() -> None:
    scores = evaluate_row(row(), question())
    assert scores == {"correct": True, "e2e_ms": 812.5, "first_token_ms": 640.0, "route_ok": True}


def test_evaluators_take_only_arguments_langsmith_passes() -> None:
    from langsmith.evaluation.evaluator import run_evaluator

    from evals.harness.experiment import EVALUATORS

    for evaluator in EVALUATORS:
        run_evaluator(evaluator)  # raises on a signature LangSmith cannot call


# --- a local LangSmith ------------------------------------------------------------------------


def now() -> str:
    return datetime.now(UTC).isoformat()


class FakeLangSmith(ThreadingHTTPServer):
    """Just enough of the LangSmith API for a dataset, an experiment, its runs and feedback."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), FakeHandler)
        self.lock = threading.Lock()
        self.requests: list[str] = []
        self.unknown: list[str] = []
        self.datasets: dict[str, dict[str, Any]] = {}
        self.examples: dict[str, dict[str, Any]] = {}
        self.sessions: dict[str, dict[str, Any]] = {}
        self.runs: dict[str, dict[str, Any]] = {}
        self.feedback: list[dict[str, Any]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def record_run(self, run_id: str, field: str | None, value: Any) -> None:
        run = self.runs.setdefault(run_id, {})
        if field is None:  # the run itself: a post, or a patch that completes it
            run.update({k: v for k, v in value.items() if v is not None})
        else:  # inputs, outputs, events, ... sent as separate parts
            run[field] = value


class FakeHandler(JSONHandler):
    server: FakeLangSmith

    def handle_one(self, method: str) -> None:
        url = urllib.parse.urlsplit(self.path)
        path, query = url.path, urllib.parse.parse_qs(url.query)
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with self.server.lock:
            self.server.requests.append(f"{method} {path}")
            reply = self.route(method, path.rstrip("/").split("/")[1:], query, body)
        if reply is None:
            self.server.unknown.append(f"{method} {self.path}")
            self.reply(404, {"detail": "not found"})
        else:
            self.reply(200, reply)

    def route(self, method: str, parts: list[str], query: dict[str, list[str]], body: bytes) -> Any:
        fake = self.server
        match method, parts:
            case "GET", ["info"]:
                return {}  # no instance flags: the client's plain JSON endpoints
            case "GET", ["sessions"]:  # the client asks one session for its tenant id
                return list(fake.sessions.values())[:1]
            case "GET", ["datasets"]:
                names = query.get("name", [])
                return [d for d in fake.datasets.values() if not names or d["name"] in names]
            case "GET", ["datasets", dataset_id]:
                return fake.datasets.get(dataset_id)
            case "POST", ["datasets"]:
                dataset = json.loads(body) | {"id": str(uuid.uuid4()), "created_at": now()}
                fake.datasets[dataset["id"]] = dataset
                return dataset
            case "GET", ["examples"]:
                wanted = query.get("dataset", [])
                ids = query.get("id", [])
                found = [
                    e
                    for e in fake.examples.values()
                    if (not wanted or e["dataset_id"] in wanted) and (not ids or e["id"] in ids)
                ]
                offset, limit = int(query.get("offset", ["0"])[0]), query.get("limit")
                return found[offset : offset + int(limit[0])] if limit else found[offset:]
            case "POST", ["examples", "bulk"]:
                created = []
                for example in json.loads(body):
                    example.setdefault("id", str(uuid.uuid4()))
                    example["modified_at"] = example.setdefault("created_at", now())
                    fake.examples[example["id"]] = example
                    created.append(example)
                return created
            case "PATCH", ["examples", example_id] if example_id in fake.examples:
                change = {k: v for k, v in json.loads(body).items() if v is not None}
                fake.examples[example_id] |= change | {"modified_at": now()}
                return fake.examples[example_id]
            case "POST", ["sessions"]:
                session = json.loads(body)
                session |= {"id": session.get("id") or str(uuid.uuid4()), "tenant_id": TENANT}
                session.setdefault("start_time", now())
                fake.sessions[session["id"]] = session
                return session
            case "PATCH", ["sessions", session_id] if session_id in fake.sessions:
                change = {k: v for k, v in json.loads(body).items() if v is not None}
                fake.sessions[session_id] |= change
                return fake.sessions[session_id]
            case "POST", ["runs", "multipart"]:
                self.multipart(body)
                return {}
            case "POST", ["runs", "batch"]:
                batch = json.loads(body)
                for run in [*batch.get("post", []), *batch.get("patch", [])]:
                    fake.record_run(run["id"], None, run)
                return {}
            case "POST", ["runs"]:
                run = json.loads(body)
                fake.record_run(run["id"], None, run)
                return {}
            case "PATCH", ["runs", run_id]:
                fake.record_run(run_id, None, json.loads(body))
                return {}
            case "POST", ["feedback"]:
                fake.feedback.append(json.loads(body))
                return fake.feedback[-1]
        return None

    def multipart(self, body: bytes) -> None:
        head = f"Content-Type: {self.headers['Content-Type']}\r\n\r\n".encode()
        message = BytesParser(policy=policy.HTTP).parsebytes(head + body)
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            operation, item_id, *field = str(name).split(".")
            value = json.loads(part.get_payload(decode=True))
            if operation in ("post", "patch"):
                self.server.record_run(item_id, field[0] if field else None, value)
            elif operation == "feedback":
                self.server.feedback.append(value)

    def do_GET(self) -> None:
        self.handle_one("GET")

    def do_POST(self) -> None:
        self.handle_one("POST")

    def do_PATCH(self) -> None:
        self.handle_one("PATCH")


@pytest.fixture
def fake_langsmith(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeLangSmith]:
    """Serve the fake, and point LangSmith's environment at it for the test."""
    server = FakeLangSmith()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("LANGSMITH_ENDPOINT", server.url)
    monkeypatch.setenv("LANGSMITH_API_KEY", "test")
    monkeypatch.setenv("LANGSMITH_TRACING", "true")
    monkeypatch.setenv("LANGSMITH_DISABLE_RUN_COMPRESSION", "true")  # as deploy.tracing does
    for var in ("LANGCHAIN_TRACING_V2", "LANGCHAIN_ENDPOINT", "LANGCHAIN_API_KEY"):
        monkeypatch.delenv(var, raising=False)
    ls_utils.get_env_var.cache_clear()  # type: ignore[attr-defined]
    yield server
    monkeypatch.undo()
    ls_utils.get_env_var.cache_clear()  # type: ignore[attr-defined]
    server.shutdown()
    server.server_close()


def client_for(server: FakeLangSmith) -> langsmith.Client:
    return langsmith.Client(api_url=server.url, api_key="test", auto_batch_tracing=True)


def test_ensure_dataset_creates_once_and_updates_what_changed(
    fake_langsmith: FakeLangSmith,
) -> None:
    client = client_for(fake_langsmith)
    questions = load_dataset()[:3]
    dataset = ensure_dataset(client, "evals", questions)
    examples = list(fake_langsmith.examples.values())
    assert [d["name"] for d in fake_langsmith.datasets.values()] == ["evals"]
    assert {e["metadata"]["id"] for e in examples} == {q.id for q in questions}
    assert all(e["dataset_id"] == str(dataset.id) for e in examples)
    first = next(e for e in examples if e["metadata"]["id"] == questions[0].id)
    assert first["inputs"] == {"question": questions[0].question}
    assert first["outputs"] == reference_of(questions[0])

    ensure_dataset(client, "evals", questions)  # again: nothing to do
    assert len(fake_langsmith.datasets) == 1 and len(fake_langsmith.examples) == 3
    assert "PATCH" not in " ".join(fake_langsmith.requests)

    changed = [questions[0].__class__(**{**vars(questions[0]), "facts": ["new fact"]})]
    ensure_dataset(client, "evals", changed + questions[1:] + load_dataset()[3:4])
    assert len(fake_langsmith.examples) == 4
    assert fake_langsmith.examples[first["id"]]["outputs"]["facts"] == ["new fact"]
    assert fake_langsmith.unknown == []


async def test_a_graph_runs_as_an_experiment_with_runs_and_feedback(
    fake_langsmith: FakeLangSmith,
) -> None:
    client = client_for(fake_langsmith)
    questions = [q for q in load_dataset() if q.id in ("greet-afternoon", "customers-ireland")]
    config = {"backend": "simulated", "profile": "fast", "context": {"planner_model": "x"}}
    with ExternalServices(profile="fast", seed=0) as services:
        served = Settings(http_services=services.describe(), http_allowed_origins=services.base_url)
        with use_settings(served), simulated_gpu(services.base_url) as models:
            experiment = await run_experiment(
                "fast_agent", questions, Context(), metadata=config, begin=models.begin,
                client=client,
            )  # fmt: skip

    assert fake_langsmith.unknown == [], fake_langsmith.unknown
    # the rows are the local report's rows, as good as a local run's
    assert [r["id"] for r in experiment.rows] == [q.id for q in questions]
    assert all(r["error"] is None and r["correct"] for r in experiment.rows)

    # the dataset: every question of evals/dataset.jsonl, once
    [dataset] = fake_langsmith.datasets.values()
    examples = {e["metadata"]["id"]: e for e in fake_langsmith.examples.values()}
    assert set(examples) == {q.id for q in load_dataset()}

    # the experiment: on the dataset, with the config in its metadata
    [session] = fake_langsmith.sessions.values()
    assert session["name"] == experiment.name and session["name"].startswith("fast_agent")
    assert session["reference_dataset_id"] == dataset["id"]
    metadata = session["extra"]["metadata"]
    assert metadata["graph"] == "fast_agent" and metadata["context"] == config["context"]
    assert metadata["backend"] == "simulated" and metadata["profile"] == "fast"

    # one root run per example, in the experiment, its outputs the row
    roots = [
        r
        for r in fake_langsmith.runs.values()
        if r.get("session_name") == session["name"] and not r.get("parent_run_id")
    ]
    assert sorted(r["reference_example_id"] for r in roots) == sorted(
        examples[q.id]["id"] for q in questions
    )
    question_of = {e["id"]: question_id for question_id, e in examples.items()}
    for root in roots:
        assert root["outputs"]["id"] == question_of[root["reference_example_id"]]
        assert root["outputs"]["correct"] is True
    # the graph's own steps are traced under the runs
    assert "route_query" in {r.get("name") for r in fake_langsmith.runs.values()}

    # feedback: every evaluator's key, once per run
    by_run: dict[str, set[str]] = {}
    for item in fake_langsmith.feedback:
        by_run.setdefault(item["run_id"], set()).add(item["key"])
    assert by_run == {root["id"]: KEYS for root in roots}
    scores = {(f["run_id"], f["key"]): f["score"] for f in fake_langsmith.feedback}
    assert all(scores[root["id"], "correct"] in (True, 1) for root in roots)
    assert all(scores[root["id"], "route_ok"] in (True, 1) for root in roots)


@pytest.mark.parametrize(
    "flag, env, wanted",
    [
        (None, {}, False),  # offline: the local loop
        (None, {"LANGSMITH_API_KEY": "k"}, True),  # a key: experiments
        (None, {"LANGSMITH_API_KEY": "k", "LANGSMITH_TRACING": "false"}, False),
        (False, {"LANGSMITH_API_KEY": "k"}, False),  # --no-langsmith
        (True, {"LANGSMITH_API_KEY": "k", "LANGSMITH_TRACING": "false"}, True),  # --langsmith
    ],
)
def test_experiments_run_with_a_key_unless_told_otherwise(
    flag: bool | None, env: dict[str, str], wanted: bool
) -> None:
    assert langsmith_wanted(flag, env) is wanted


def test_langsmith_flag_without_a_key_is_an_error() -> None:
    with pytest.raises(ValueError, match="LANGSMITH_API_KEY"):
        langsmith_wanted(True, {})


async def test_the_eval_runner_writes_the_report_from_the_experiments(
    fake_langsmith: FakeLangSmith, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from deploy import tracing

    client = client_for(fake_langsmith)
    monkeypatch.setattr(tracing, "install_client", lambda: client)  # no process-wide client
    ids = ["greet-afternoon", "customers-ireland"]
    argv = ["--langsmith", "--backend", "simulated", "--profile", "fast", "--ids", *ids]
    args = parse_args([*argv, "--graphs", "fast_agent", "--out", str(tmp_path)])
    report = await run_suite(args)

    rows = [json.loads(line) for line in (tmp_path / "simulated" / "results.jsonl").open()]
    assert [r["id"] for r in rows] == ids and all(r["correct"] for r in rows)
    for r in rows:  # the local scores are the evaluators' and agree with the row
        assert r["scores"] == {key: r[key] for key in KEYS}
    [session] = fake_langsmith.sessions.values()
    metadata = session["extra"]["metadata"]
    assert metadata["backend"] == "simulated" and metadata["questions"] == 2
    assert metadata["settings"]["http_allowed_origins"].startswith("http://127.0.0.1:")
    assert session["name"] in report.read_text()  # the report names the experiment
    assert len({f["run_id"] for f in fake_langsmith.feedback}) == 2
    assert fake_langsmith.unknown == []
