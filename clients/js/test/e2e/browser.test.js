// End to end in headless Chromium: the example game (on autopilot) attaches to a real
// `gameai serve` from a page served on another loopback port (so the server must allow that
// origin), gets behaviour results, a streamed NPC line and actions. Chromium is driven over the
// DevTools protocol with Node's own WebSocket: no npm package.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { createServer } from "node:http";
import { mkdtempSync, readFileSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { startServer, pythonMissing, CLIENT_ROOT } from "../helpers/env.js";

/** The Chromium to drive: CHROMIUM, else the first of these on PATH. */
function findChromium() {
  if (process.env.CHROMIUM) return existsSync(process.env.CHROMIUM) ? process.env.CHROMIUM : null;
  for (const name of ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"]) {
    try {
      return execFileSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" }).trim() || null;
    } catch {
      // not this one
    }
  }
  return null;
}

const chromium = findChromium();
const skip =
  pythonMissing() ??
  (typeof WebSocket !== "function" ? "no global WebSocket (run node --experimental-websocket on Node 20)" : null) ??
  (chromium ? null : "no chromium on PATH (apt-get install chromium, or set CHROMIUM)");
const TYPES = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".json": "application/json" };

/** Serve clients/js/ statically on a free loopback port. */
async function startStatic() {
  const server = createServer((request, response) => {
    const file = path.join(CLIENT_ROOT, decodeURIComponent(new URL(request.url ?? "/", "http://x").pathname));
    if (!file.startsWith(CLIENT_ROOT) || !existsSync(file)) return response.writeHead(404).end();
    response.writeHead(200, { "content-type": TYPES[path.extname(file)] ?? "application/octet-stream" }).end(readFileSync(file));
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(undefined)));
  const port = /** @type {import("node:net").AddressInfo} */ (server.address()).port;
  return { origin: `http://127.0.0.1:${port}`, stop: () => new Promise((resolve) => server.close(resolve)) };
}

/**
 * Start headless Chromium on a page; returns a DevTools session on that page.
 * @param {string} url
 */
async function startChromium(url) {
  const profile = mkdtempSync(path.join(tmpdir(), "gameai-chromium-"));
  const child = spawn(
    /** @type {string} */ (chromium),
    ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--no-default-browser-check", "--remote-allow-origins=*", `--user-data-dir=${profile}`, "--remote-debugging-port=0", url],
    { stdio: ["ignore", "ignore", "pipe"], detached: true },
  );
  let stderr = "";
  child.stderr.on("data", (chunk) => (stderr += chunk));
  const portFile = path.join(profile, "DevToolsActivePort");
  const deadline = Date.now() + 20_000;
  while (!existsSync(portFile) || readFileSync(portFile, "utf8").split("\n").length < 2) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`chromium did not start:\n${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const port = readFileSync(portFile, "utf8").split("\n")[0].trim();
  let target;
  while (!target) {
    const targets = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
    target = targets.find((t) => t.type === "page" && t.url.startsWith(url.split("?")[0]));
    if (!target) await new Promise((resolve) => setTimeout(resolve, 100));
    if (Date.now() > deadline) throw new Error(`no page target for ${url}`);
  }
  const ws = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => ((ws.onopen = resolve), (ws.onerror = () => reject(new Error("DevTools websocket failed")))));
  let nextId = 0;
  /** @type {Map<number, (message: any) => void>} */
  const waiting = new Map();
  const console = [];
  ws.onmessage = (event) => {
    const message = JSON.parse(String(event.data));
    if (message.id !== undefined) waiting.get(message.id)?.(message);
    else if (message.method === "Runtime.consoleAPICalled") console.push(message.params.args.map((a) => a.value ?? a.description).join(" "));
    else if (message.method === "Runtime.exceptionThrown") console.push(`exception: ${message.params.exceptionDetails.exception?.description ?? message.params.exceptionDetails.text}`);
  };
  /** @param {string} method @param {object} [params] */
  const send = (method, params = {}) =>
    new Promise((resolve) => {
      const id = ++nextId;
      waiting.set(id, resolve);
      ws.send(JSON.stringify({ id, method, params }));
    });
  await send("Runtime.enable");
  return {
    console,
    /** @param {string} expression */
    async evaluate(expression) {
      const reply = /** @type {any} */ (await send("Runtime.evaluate", { expression, returnByValue: true }));
      return reply.result?.result?.value;
    },
    async stop() {
      ws.close();
      try {
        process.kill(-(/** @type {number} */ (child.pid)), "SIGKILL"); // its whole process group
      } catch {
        // already gone
      }
      await new Promise((resolve) => (child.exitCode !== null ? resolve(undefined) : child.once("exit", resolve)));
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** @type {any} */ let page;
/** @type {any} */ let gameai;
/** @type {any} */ let site;

before(async () => {
  if (skip) return;
  site = await startStatic();
  gameai = await startServer({ extraArgs: ["--allowed-origins", site.origin] });
});

after(async () => {
  await page?.stop();
  await gameai?.stop();
  await site?.stop();
});

test("a canvas game in headless Chromium: behaviour results, a streamed NPC line, actions", { skip: skip ?? false, timeout: 90_000 }, async () => {
  page = await startChromium(`${site.origin}/test/e2e/index.html?server=${encodeURIComponent(gameai.url)}`);
  const deadline = Date.now() + 45_000;
  let state = null;
  while (Date.now() < deadline) {
    state = JSON.parse((await page.evaluate("JSON.stringify(window.__gameaiE2E ?? null)")) ?? "null");
    if (state?.done || state?.pageError) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const details = `page state: ${JSON.stringify(state)}\nconsole:\n${page.console.join("\n")}\nserver log:\n${gameai.log().slice(-3000)}`;
  assert.ok(state?.done, `the game did not finish in time\n${details}`);
  const report = state.report;
  assert.equal(typeof report.sessionId, "string", details);
  assert.ok(report.behaviours >= 2, details);
  assert.ok(report.actions >= 2 && report.lastAction.length === 3, details);
  assert.ok(report.deltas >= 1 && report.line.length > 0, details);
  assert.ok(["stop", "length"].includes(report.finish), details);
  assert.deepEqual(report.errors, [], details);
  assert.ok(state.framesSent >= state.spec.frames_per_window, details);
});
