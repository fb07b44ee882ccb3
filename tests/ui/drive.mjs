// Drive agent-chat-ui in Debian's chromium: ask each question on one thread, time what
// the page shows, reload, and print a JSON report (test_agent_chat_ui.py asserts on it).
//
//   node tests/ui/drive.mjs '{"ui": "http://127.0.0.1:4173", "api": "http://127.0.0.1:2025",
//     "assistant": "fast_agent", "questions": ["..."], "out": "build/ui-test"}'
//
// Times are read in the page: from the Enter keydown's timestamp to the DOM mutation
// that showed a change (the frame that paints it follows within ~16 ms).
//
// With "approve": {decisions: [...]}, the last question's run must pause for approval:
// the page's interrupt card is opened and read, and the run is resumed with that value
// through the API (agent-chat-ui 0.1.6 has no buttons for HumanInTheLoopMiddleware's
// request), then the page is reloaded until the answer shows.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";

const config = {
  chromium: "/usr/bin/chromium",
  turnTimeoutMs: 240_000,
  reloadTimeoutMs: 30_000,
  ...JSON.parse(process.argv[2]),
};
const FLAGS = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
];

// Runs in the page: summarizes agent-chat-ui's message list on every DOM mutation.
// Rows: h = human, a = assistant text and tool-call cards, t = tool result, w = waiting dots.
function recorder() {
  const INTERRUPT_TITLE = "Human Interrupt"; // agent-chat-ui's card for an interrupt it has no view for
  const ui = { events: [], submits: [], current: null };
  window.__ui = ui;
  const text = (el) => (el ? el.innerText.trim() : "");
  ui.rows = () => {
    const list = document.querySelector("div.max-w-3xl.mx-auto.flex.flex-col.gap-4");
    return [...(list ? list.children : [])].map((row) => {
      if (row.classList.contains("ml-auto")) return { k: "h", text: text(row.querySelector("p")) };
      if (row.querySelector(".bg-muted.h-8")) return { k: "w" };
      const title = text(row.querySelector("h3"));
      if (title.startsWith("Tool Result")) return { k: "t", text: title.replace(/\s+/g, " ") };
      const titles = [...row.querySelectorAll(".rounded-lg h3")].map((h) => h.firstChild.textContent);
      const cards = titles.filter((title) => title !== INTERRUPT_TITLE);
      const markdown = row.querySelector(":scope > div > div.py-1");
      return { k: "a", text: text(markdown), cards, ...(cards.length < titles.length && { interrupt: true }) };
    });
  };
  const snapshot = () => ({
    rows: ui.rows().map(({ k, text = "", cards = [], interrupt = false }) =>
      ({ k, n: text.length, cards: cards.length, interrupt })),
    busy: [...document.querySelectorAll("button")].some((b) => b.innerText.trim() === "Cancel"),
    toasts: [...document.querySelectorAll("[data-sonner-toast]")].map((t) => t.innerText.trim()),
  });
  let last = "";
  const record = () => {
    const snap = snapshot();
    const key = JSON.stringify(snap);
    if (key === last) return;
    last = key;
    ui.current = { t: performance.now(), ...snap };
    ui.events.push(ui.current);
  };
  new MutationObserver(record).observe(document, { childList: true, subtree: true, characterData: true });
  document.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && e.target.tagName === "TEXTAREA") ui.submits.push(e.timeStamp);
  }, true);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const ms = (t, t0) => (t === undefined ? null : Math.round(t - t0));
// What the agent added in this turn: rows after the ones before it, minus the echo and the dots.
const agentRows = (rows, before) => rows.slice(before).filter((r) => r.k !== "h" && r.k !== "w");
const isAnswer = (row) => row?.k === "a" && row.n > 0 && row.cards === 0;

// "planning" once the agent shows anything, "tools" once every tool card has its result.
function stageOf(rows) {
  const cards = rows.reduce((sum, r) => sum + (r.cards || 0), 0);
  const results = rows.filter((r) => r.k === "t").length;
  if (cards > 0 && results >= cards) return "tools";
  return rows.length ? "planning" : "waiting";
}

// Times of a turn's milestones from the page's events after its submit. The answer is
// the row that ends the turn; while the fast agent plans, an earlier row shows a notice.
function timeline(events, submitAt, before, answerIndex) {
  const turn = events.filter((e) => e.t >= submitAt);
  const first = (test) => turn.find((e) => test(agentRows(e.rows, before)))?.t;
  const answerOf = (rows) => (isAnswer(rows[answerIndex]) ? rows[answerIndex] : null);
  const lengths = [];
  for (const e of turn) {
    const answer = answerOf(agentRows(e.rows, before));
    if (answer && answer.n !== lengths.at(-1)) lengths.push(answer.n);
  }
  const startedAt = turn.find((e) => e.busy)?.t;
  return {
    first_change_ms: ms(turn[0]?.t, submitAt), // the page's own: the dots, the question
    echo_ms: ms(turn.find((e) => e.rows.slice(before).some((r) => r.k === "h"))?.t, submitAt),
    first_agent_content_ms: ms(first((rows) => rows.length > 0), submitAt),
    first_tool_card_ms: ms(first((rows) => rows.some((r) => r.cards > 0)), submitAt),
    first_tool_result_ms: ms(first((rows) => rows.some((r) => r.k === "t")), submitAt),
    first_answer_token_ms: ms(first((rows) => answerOf(rows)), submitAt),
    final_answer_ms: lengths.length ? ms(first((rows) => answerOf(rows)?.n === lengths.at(-1)), submitAt) : null,
    idle_ms: ms(turn.find((e) => e.t > startedAt && !e.busy)?.t, submitAt),
    answer_dom_updates: lengths.length,
    answer_lengths: lengths.length > 6 ? [...lengths.slice(0, 3), "…", ...lengths.slice(-3)] : lengths,
  };
}

async function ask(page, question, index, shots) {
  const before = (await page.evaluate(() => window.__ui.rows())).length;
  await page.locator("textarea").fill(question);
  await page.locator("textarea").press("Enter");
  const deadline = Date.now() + config.turnTimeoutMs;
  const taken = new Set(["waiting"]);
  let seenBusy = false;
  for (;;) {
    const now = await page.evaluate(() => window.__ui.current);
    const stage = stageOf(agentRows(now.rows, before));
    seenBusy ||= now.busy;
    if (now.toasts.length) throw new Error(`turn ${index + 1}: the page shows ${now.toasts.join(" | ")}`);
    if (!taken.has(stage)) {
      taken.add(stage);
      shots.push(await shoot(page, `turn${index + 1}-${stage}`));
    }
    if (seenBusy && !now.busy) break;
    if (Date.now() > deadline) {
      throw new Error(`turn ${index + 1}: no end in ${config.turnTimeoutMs} ms (stage: ${stage})`);
    }
    await sleep(50);
  }
  await sleep(300); // the run's last values event may still re-render the list
  shots.push(await shoot(page, `turn${index + 1}-final`));
  const { events, submits } = await page.evaluate(() => window.__ui);
  const rows = agentRows(await page.evaluate(() => window.__ui.rows()), before);
  const last = rows.at(-1);
  const answered = last?.k === "a" && last.text && last.cards.length === 0;
  return {
    question,
    ...timeline(events, submits[index], before, answered ? rows.length - 1 : null),
    tool_cards: rows.flatMap((r) => r.cards || []),
    tool_results: rows.filter((r) => r.k === "t").map((r) => r.text),
    answer: answered ? last.text : "",
    ...(config.trace && { trace: trace(events, submits[index], before) }),
  };
}

// With "trace": true, each change the page showed: ms after submit, then one letter a row
// (h human, w dots, a assistant with its text length and tool cards, t tool result).
function trace(events, submitAt, before) {
  const row = (r) => (r.k === "a" ? `a${r.n}${r.cards ? `+${r.cards}` : ""}${r.interrupt ? "!" : ""}` : r.k);
  return events.filter((e) => e.t >= submitAt).map((e) =>
    `${ms(e.t, submitAt)} ${e.rows.slice(before).map(row).join(" ")}${e.busy ? " (busy)" : ""}`);
}

async function shoot(page, name) {
  const path = join(config.out, `${config.label || config.assistant}-${name}.png`);
  await page.screenshot({ path });
  return path;
}

// The paused run: open agent-chat-ui's interrupt card and read it, resume the run with
// config.approve through the API (as a reviewer's tool would), reload until the answer shows.
async function approve(page) {
  const card = page.locator("div.border.rounded-lg.overflow-hidden")
    .filter({ has: page.getByRole("heading", { name: "Human Interrupt" }) }).last();
  await card.waitFor({ timeout: config.reloadTimeoutMs });
  const more = card.locator("button");
  if (await more.count()) {
    await more.first().click(); // show the whole request, not its truncated preview
    await sleep(400); // the card's animation
  }
  const pending = (await card.innerText()).trim();
  const screenshots = [await shoot(page, "approval-pending")];
  const thread = new URL(page.url()).searchParams.get("threadId");
  if (!thread) throw new Error(`no threadId in ${page.url()}`);
  const started = Date.now();
  const response = await fetch(`${config.api}/threads/${thread}/runs/wait`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ assistant_id: config.assistant, command: { resume: config.approve } }),
  });
  const body = await response.text(); // the run's end: the headers come at its start
  if (!response.ok) throw new Error(`resume: HTTP ${response.status}: ${body}`);
  const resumed_ms = Date.now() - started;
  await page.reload();
  const answered = () => {
    const rows = window.__ui ? window.__ui.rows() : [];
    const last = rows.at(-1);
    return last?.k === "a" && last.text && !last.cards.length && !last.interrupt;
  };
  try {
    await page.waitForFunction(answered, null, { timeout: config.reloadTimeoutMs });
  } catch (err) {
    await shoot(page, "approval-no-answer");
    const rows = await page.evaluate(() => (window.__ui ? window.__ui.rows() : null));
    throw new Error(`no answer after the approval (${err.message}); rows: ${JSON.stringify(rows)}`);
  }
  const shown_ms = Date.now() - started;
  await sleep(300);
  screenshots.push(await shoot(page, "approved"));
  const rows = await page.evaluate(() => window.__ui.rows());
  return { pending, thread, resumed_ms, shown_ms, rows, answer: rows.at(-1).text, screenshots };
}

// After a reload, wait until the thread shows as many rows as before (its history loaded).
async function reload(page, expected) {
  const started = Date.now();
  await page.reload();
  const loaded = (n) => window.__ui && window.__ui.rows().length >= n;
  await page.waitForFunction(loaded, expected.length, { timeout: config.reloadTimeoutMs }).catch(() => {});
  const restored_ms = Date.now() - started;
  await sleep(300);
  const rows = await page.evaluate(() => window.__ui.rows());
  return { restored_ms, rows, same: JSON.stringify(rows) === JSON.stringify(expected) };
}

async function main() {
  mkdirSync(config.out, { recursive: true });
  const browser = await chromium.launch({ executablePath: config.chromium, args: FLAGS, timeout: 60_000 });
  const report = { assistant: config.assistant, label: config.label || config.assistant, turns: [], screenshots: [] };
  report.page_errors = [];
  report.console_errors = [];
  try {
    const page = await browser.newPage({ viewport: { width: 1000, height: 900 } });
    page.setDefaultTimeout(30_000);
    page.on("pageerror", (e) => report.page_errors.push(String(e).slice(0, 300)));
    page.on("console", (m) => m.type() === "error" && report.console_errors.push(m.text().slice(0, 300)));
    await page.addInitScript(recorder);
    const url = `${config.ui}/?apiUrl=${encodeURIComponent(config.api)}&assistantId=${config.assistant}`;
    await page.goto(url, { waitUntil: "networkidle" });
    await page.locator("textarea").waitFor();
    for (const [index, question] of config.questions.entries()) {
      report.turns.push(await ask(page, question, index, report.screenshots));
    }
    if (config.approve) report.approval = await approve(page);
    report.thread_url = page.url();
    const before = await page.evaluate(() => window.__ui.rows());
    report.reload = await reload(page, before);
    report.rows_before_reload = before;
    report.screenshots.push(await shoot(page, "reloaded"));
  } finally {
    await browser.close();
  }
  console.log(JSON.stringify(report));
}

main().catch((err) => {
  console.error(`drive.mjs: ${err.stack || err}`);
  process.exit(1);
});
