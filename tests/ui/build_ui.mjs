// Build agent-chat-ui once into a cache folder and print that folder.
//
// agent-chat-ui is not on npm itself; create-agent-chat-app (pinned in package.json)
// ships it as a Vite template. This scaffolds it, installs the web app with the
// versions pinned in web-package-lock.json (`npm ci`) and builds it with Vite. The
// result is reused while the pins stay the same.
//
//   node tests/ui/build_ui.mjs                 # prints the folder; its dist/ is the app
//   node tests/ui/build_ui.mjs --update-lock   # re-resolve the web app's versions (npm install)
//                                              # and write them to web-package-lock.json
//
// FAST_AGENT_UI_CACHE moves the cache (default ~/.cache/fast-agent/ui).
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const webLock = join(here, "web-package-lock.json");
const updateLock = process.argv.includes("--update-lock");
const creator = JSON.parse(
  readFileSync(join(here, "node_modules/create-agent-chat-app/package.json"), "utf8"),
);
const pins = updateLock ? "unpinned" : hash(readFileSync(webLock));
const cache = process.env.FAST_AGENT_UI_CACHE || join(homedir(), ".cache/fast-agent/ui");
const out = join(cache, `create-agent-chat-app-${creator.version}-${pins}`);

function hash(bytes) {
  return createHash("sha256").update(bytes).digest("hex").slice(0, 10);
}

function run(step, command, args, cwd, env = {}) {
  const started = Date.now();
  console.error(`[build_ui] ${step}: ${command} ${args.join(" ")}`);
  execFileSync(command, args, {
    cwd,
    env: { ...process.env, ...env },
    stdio: ["ignore", 2, 2], // stdout carries only the folder this prints
    timeout: 15 * 60 * 1000,
  });
  console.error(`[build_ui] ${step} took ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

if (!updateLock && existsSync(join(out, "dist/index.html"))) {
  console.log(out);
  process.exit(0);
}

const work = mkdtempSync(join(tmpdir(), "agent-chat-ui-"));
const partial = `${out}.partial`;
try {
  // Every option given: create-agent-chat-app asks nothing. `none` matches no agent.
  run("scaffold", join(here, "node_modules/.bin/create-agent-chat-app"), [
    "--project-name", "acu", "--package-manager", "npm", "--install-deps", "false",
    "--framework", "vite", "--include-agent", "none",
  ], work);
  rmSync(partial, { recursive: true, force: true });
  cpSync(join(work, "acu/apps/web"), partial, { recursive: true });
  const npmFlags = ["--no-audit", "--no-fund", "--loglevel=error"];
  if (updateLock) {
    run("install", "npm", ["install", ...npmFlags], partial);
    cpSync(join(partial, "package-lock.json"), webLock);
  } else {
    cpSync(webLock, join(partial, "package-lock.json"));
    run("install", "npm", ["ci", ...npmFlags], partial);
  }
  // The template's own `build` script assumes its turbo monorepo: call Vite directly.
  run("build", join(partial, "node_modules/.bin/vite"), ["build", "--logLevel", "warn"], partial);
  if (updateLock) {
    console.error(`[build_ui] wrote ${webLock}; run again without --update-lock to build`);
    rmSync(partial, { recursive: true, force: true });
  } else {
    rmSync(out, { recursive: true, force: true });
    renameSync(partial, out);
    console.log(out);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
