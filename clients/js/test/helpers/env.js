/**
 * Test helpers: the project's Python, a real `gameai serve` on a free loopback port.
 * GAMEAI_PYTHON and GAMEAI_BIN (the `gameai` command) override where they are; by default
 * the repository's `.venv`.
 */

import { spawn, execFile } from "node:child_process";
import { mkdtempSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const HERE = path.dirname(fileURLToPath(import.meta.url));
export const CLIENT_ROOT = path.resolve(HERE, "..", "..");
export const REPO_ROOT = path.resolve(CLIENT_ROOT, "..", "..");
export const PYTHON = process.env.GAMEAI_PYTHON || path.join(REPO_ROOT, ".venv", "bin", "python");
export const GAMEAI = process.env.GAMEAI_BIN || path.join(path.dirname(PYTHON), "gameai");
const PYTHON_FRAMES = path.join(HERE, "python_frames.py");

/** Why the Python side cannot run here, or null. */
export function pythonMissing() {
  if (!existsSync(PYTHON)) return `no Python at ${PYTHON} (set GAMEAI_PYTHON, or run make setup)`;
  if (!existsSync(GAMEAI)) return `no gameai command at ${GAMEAI} (set GAMEAI_BIN)`;
  return null;
}

/**
 * Run the Python reference helper and parse its JSON output.
 * @param {string[]} args
 * @param {string} [input] stdin
 * @returns {Promise<any>}
 */
export function pythonJSON(args, input) {
  return new Promise((resolve, reject) => {
    const child = execFile(PYTHON, [PYTHON_FRAMES, ...args], { cwd: REPO_ROOT, maxBuffer: 256 * 1024 * 1024, timeout: 60_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${PYTHON} ${args.join(" ")} failed: ${error.message}\n${stderr}`));
      else resolve(args[0] === "assets" ? null : JSON.parse(stdout));
    });
    if (input !== undefined) child.stdin.end(input);
  });
}

/** Hex to bytes. @param {string} hex */
export function fromHex(hex) {
  return Uint8Array.from(Buffer.from(hex, "hex"));
}

/** Bytes to hex. @param {Uint8Array} bytes */
export function toHex(bytes) {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString("hex");
}

/**
 * Start `gameai serve` with random-initialised test models on a free port.
 * @param {{port?: number, assets?: string, extraArgs?: string[], timeoutMs?: number}} [options]
 * @returns {Promise<{url: string, port: number, assets: string, log: () => string, stop: () => Promise<void>}>}
 */
export async function startServer(options = {}) {
  let assets = options.assets;
  let ownAssets = false;
  if (!assets) {
    assets = mkdtempSync(path.join(tmpdir(), "gameai-js-assets-"));
    ownAssets = true;
    await pythonJSON(["assets", assets]);
  }
  const args = [
    "serve",
    "--host", "127.0.0.1",
    "--port", String(options.port ?? 0),
    "--behaviour-model", path.join(assets, "behaviour"),
    "--dialogue-model", path.join(assets, "dialogue", "model"),
    "--agents-dir", path.join(assets, "agents"),
    "--device", "cpu",
    "--torch-threads", "1",
    ...(options.extraArgs ?? []),
  ];
  const child = spawn(GAMEAI, args, { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, GAMEAI_TRACEBACK: "1" } });
  let output = "";
  const exited = new Promise((resolve) => child.once("exit", resolve));
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gameai serve did not start within ${options.timeoutMs ?? 60000} ms:\n${output}`)), options.timeoutMs ?? 60000);
    const onData = (/** @type {Buffer} */ chunk) => {
      output += chunk.toString();
      const match = /serving on (ws:\/\/[^\s]+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`gameai serve exited with ${code}:\n${output}`));
    });
  });
  const port = Number(new URL(url).port);
  return {
    url,
    port,
    assets,
    log: () => output,
    async stop() {
      if (child.exitCode === null) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 15000);
        await exited;
        clearTimeout(timer);
      }
      if (ownAssets && !options.keepAssets) rmSync(assets, { recursive: true, force: true });
    },
  };
}
