"""The browser test's stack: agent-chat-ui built once, model servers, `langgraph dev`, the page.

Not part of the default suite: `make ui-test` runs it (it sets `UI_TEST=required`, so a
missing chromium, node or npm fails the run). `UI_TEST=1` runs it where the tools are
installed and skips it cleanly where they are not.

Everything the fixtures start (model servers on free ports, `langgraph dev`, `vite
preview`) they stop; embedded servers already up on the default ports are reused and left
running. The last run's report, screenshots and logs are in `build/ui-test/`.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from core.context import Context
from core.settings import TIERS, Settings, settings, use_settings
from deploy.warmup import warm_up
from serving.llama_cpp import embedded_servers
from serving.models import ModelError, prepare
from serving.process import ServerError, free_port, serves

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
OUT = ROOT / "build" / "ui-test"  # the last run: reports, screenshots, logs
LOGS = OUT / "logs"
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
MODE = os.environ.get("UI_TEST", "")  # "" skip, "1" run if the tools exist, "required" run
STARTED = time.time()
SETUP: dict[str, float] = {}  # seconds each setup step took, for the summary
TIMEOUT_MARGIN = 3.0  # a model call may take this many times the slowest warm-up read


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "ui: drives agent-chat-ui in chromium (make ui-test)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark the browser tests; skip them unless UI_TEST asks for them."""
    for item in items:
        if item.path.parent != HERE:
            continue
        item.add_marker(pytest.mark.ui)
        if not MODE:
            item.add_marker(pytest.mark.skip(reason="browser test: `make ui-test` runs it"))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print this run's timings and write them to build/ui-test/summary.md."""
    reports = [p for p in sorted(OUT.glob("*.json")) if p.stat().st_mtime > STARTED]
    if not reports:
        return
    text = summary([json.loads(p.read_text()) for p in reports])
    (OUT / "summary.md").write_text(text)
    terminalreporter.write_sep("-", "agent-chat-ui (build/ui-test/summary.md)")
    terminalreporter.write_line(text)


def summary(reports: list[dict[str, Any]]) -> str:
    """Return a Markdown table of when each milestone showed in the browser, per turn."""
    columns = [
        ("first_change_ms", "first change"), ("first_agent_content_ms", "agent's first content"),
        ("first_tool_card_ms", "first tool card"), ("first_tool_result_ms", "first result"),
        ("first_answer_token_ms", "first answer token"), ("final_answer_ms", "final answer"),
    ]  # fmt: skip
    lines = [
        "Milliseconds from the Enter keydown to the DOM change, measured in the page"
        " (first change: the page's own loading dots and echo).",
        "",
        "| graph | turn | " + " | ".join(title for _, title in columns) + " | answer updates |",
        "|---|---|" + "---:|" * (len(columns) + 1),
    ]
    for report in reports:
        for number, turn in enumerate(report["turns"], start=1):
            cells = [str(turn[key]) if turn[key] is not None else "-" for key, _ in columns]
            lines.append(
                f"| {report.get('label', report['assistant'])} | {number} | {' | '.join(cells)} "
                f"| {turn['answer_dom_updates']} |"
            )
    lines.append("")
    setup = ", ".join(f"{step} {seconds:.1f} s" for step, seconds in SETUP.items())
    runs = ", ".join(f"{r.get('label', r['assistant'])} {r['run_s']} s" for r in reports)
    reloads = ", ".join(
        f"{r.get('label', r['assistant'])} {r['reload']['restored_ms']} ms" for r in reports
    )
    approvals = ", ".join(
        f"{r['assistant']} resumed to its answer in {r['approval']['resumed_ms']:,} ms, "
        f"shown after the reload at {r['approval']['shown_ms']:,} ms"
        for r in reports
        if "approval" in r
    )
    lines += [
        f"Setup: {setup}.",
        f"Browser runs: {runs}.",
        f"Reload to restored thread: {reloads}.",
    ]
    if approvals:
        lines.append(f"Approval (the decision sent through the API): {approvals}.")
    return "\n".join(lines)


def missing(reason: str) -> None:
    """Fail under `make ui-test`, skip otherwise."""
    if MODE == "required":
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


def run_step(step: str, command: list[str], cwd: Path, timeout: float) -> str:
    """Run a setup command, its output in build/ui-test/logs/<step>.log; return its stdout."""
    log = LOGS / f"{step}.log"
    started = time.monotonic()
    with log.open("w") as err:
        try:
            done = subprocess.run(
                command, cwd=cwd, stdout=subprocess.PIPE, stderr=err, text=True,
                timeout=timeout, check=False,
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            pytest.fail(f"{step}: no end after {timeout:.0f} s; see {log}", pytrace=False)
    if done.returncode:
        pytest.fail(f"{step} failed (exit {done.returncode}); see {log}", pytrace=False)
    SETUP[step] = time.monotonic() - started
    return done.stdout


@pytest.fixture(scope="session")
def ui_app() -> Path:
    """Build agent-chat-ui (pinned, once per pin set, cached); return its folder."""
    if not CHROMIUM.exists():
        missing(f"no chromium at {CHROMIUM}: apt-get install -y chromium")
    for tool in ("node", "npm"):
        if shutil.which(tool) is None:
            missing(f"{tool} is not installed (Node 20+ with npm)")
    LOGS.mkdir(parents=True, exist_ok=True)
    for old in [*OUT.glob("*.png"), *OUT.glob("*.json")]:
        old.unlink()
    installed = HERE / "node_modules" / ".package-lock.json"
    lock = HERE / "package-lock.json"
    if not installed.exists() or installed.stat().st_mtime < lock.stat().st_mtime:
        run_step("npm-ci", ["npm", "ci", "--no-audit", "--no-fund"], HERE, timeout=300)
    built = run_step("build-ui", ["node", "build_ui.mjs"], HERE, timeout=1200)
    return Path(built.strip().splitlines()[-1])


@pytest.fixture(scope="session")
def llm_settings(ui_app: Path) -> Iterator[Settings]:
    """The model servers: the configured ones if they answer, else new ones on free ports."""
    started = time.monotonic()
    with _model_servers(settings()) as operator:
        SETUP["model servers"] = time.monotonic() - started
        yield operator


@pytest.fixture(scope="session")
def llm_context(llm_settings: Settings) -> Context:
    """Warm the servers; return a run Context whose model deadline the cold read sized."""
    started = time.monotonic()
    with use_settings(llm_settings):
        took = asyncio.run(warm_up(Context(), timeout=600))
    SETUP["warm-up"] = time.monotonic() - started
    timeout = max(Context().llm_timeout_seconds, TIMEOUT_MARGIN * max(took.values()))
    timeout = min(timeout, llm_settings.max_llm_timeout_seconds)  # the operator's ceiling
    return Context(llm_timeout_seconds=timeout)


@contextmanager
def _model_servers(configured: Settings) -> Iterator[Settings]:
    """Reuse running servers (and leave them running), or serve the models on free ports."""
    if all(serves(configured.tier(t).base_url, configured.tier(t).model) for t in TIERS):
        yield configured
        return
    small, large = (f"http://127.0.0.1:{free_port()}/v1" for _ in range(2))
    operator = replace(
        configured, router_base_url=small, planner_base_url=large, synthesizer_base_url=large
    )
    servers = embedded_servers(operator)
    try:
        for server in servers:
            prepare(server.spec)
            server.log_path = LOGS / f"{server.alias}.log"
            server.log_path.unlink(missing_ok=True)
            server.start()
        for server in servers:
            server.wait_ready()
    except (ServerError, ModelError) as err:
        for server in servers:
            server.stop()
        pytest.fail(f"model servers: {err} (logs in {LOGS})", pytrace=False)
    try:
        yield operator
    finally:
        for server in servers:
            server.stop()


@contextmanager
def service(name: str, command: list[str], cwd: Path, url: str, **env: str) -> Iterator[str]:
    """Run a server in its own process group until the block ends; yield its URL once up."""
    log_path = LOGS / f"{name}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, cwd=cwd, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                pytest.fail(f"{name} exited with {process.returncode}; see {log_path}")
            try:
                with urllib.request.urlopen(url, timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"{name} not up at {url} in 120 s; see {log_path}")
                time.sleep(0.3)
        yield url
    finally:
        stop_group(process)


def stop_group(process: subprocess.Popen[Any]) -> None:
    """Terminate the process group of a process started here; kill it after 15 s."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture(scope="session")
def langgraph_dev(
    llm_settings: Settings, llm_context: Context, shop_database: Path
) -> Iterator[str]:
    """Serve the graphs with `langgraph dev` (no reload: others may be editing the code).

    Its changes go to the session's live copy of the shop's database (`shop_database`).
    """
    port = free_port()
    cli = str(Path(sys.executable).with_name("langgraph"))
    tiers = {
        f"{tier}_{knob}".upper(): str(getattr(llm_settings.tier(tier), knob))
        for tier in TIERS
        for knob in ("base_url", "model")
    }
    env = {
        **tiers,
        "LLM_TIMEOUT_SECONDS": str(llm_context.llm_timeout_seconds),
        "LANGSMITH_TRACING": "false",
        "LANGGRAPH_CLI_NO_ANALYTICS": "1",
        "LANGGRAPH_NO_VERSION_CHECK": "true",
        "SHOP_DB_PATH": str(shop_database),
    }
    command = [cli, "dev", "--no-browser", "--no-reload", "--port", str(port)]
    command += ["--n-jobs-per-worker", "4"]
    with service("langgraph-dev", command, ROOT, f"http://127.0.0.1:{port}/ok", **env):
        yield f"http://127.0.0.1:{port}"


@pytest.fixture(scope="session")
def ui_url(ui_app: Path) -> Iterator[str]:
    """Serve the built agent-chat-ui with `vite preview`; yield its URL."""
    port = free_port()
    vite = str(ui_app / "node_modules" / ".bin" / "vite")
    command = [vite, "preview", "--host", "127.0.0.1", "--port", str(port), "--strictPort"]
    with service("vite-preview", command, ui_app, f"http://127.0.0.1:{port}/") as url:
        yield url.rstrip("/")
