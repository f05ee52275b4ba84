/**
 * A small canvas game attached to gameai: you (blue) dodge a red NPC driven by the service's
 * agent (`act`), walk up to Brann the blacksmith (E) for a streamed line (`dialogue`), and the
 * service watches the canvas (frames at `welcome.behaviour.sample_fps`) and tells how you play.
 * The HUD is HTML beside the canvas, so the frames are the world view only, as the model expects.
 * @module gameai-example/game
 */

import { GameAIClient } from "../src/index.js";

const W = 480;
const H = 320;
const DIRECTIONS = [[0, 0], [0, -1], [1, -1], [1, 0], [1, 1], [0, 1], [-1, 1], [-1, 0], [-1, -1]]; // stand, N, NE, ... NW

/**
 * Run the game.
 * @param {{canvas: HTMLCanvasElement, hud: HTMLElement, url: string, autopilot?: boolean,
 *   onReport?: (report: Record<string, any>) => void}} options
 * @returns {{client: GameAIClient, stop: () => Promise<void>, report: Record<string, any>}}
 */
export function startGame({ canvas, hud, url, autopilot = false, onReport = () => {} }) {
  canvas.width = W;
  canvas.height = H;
  const ctx = /** @type {CanvasRenderingContext2D} */ (canvas.getContext("2d", { willReadFrequently: true }));
  const player = { x: 80, y: 160, hp: 10 };
  const enemy = { x: 400, y: 80, move: 0 };
  const smith = { x: 240, y: 270, name: "Brann" };
  const keys = new Set();
  const report = { state: "idle", sessionId: null, behaviours: 0, label: null, actions: 0, lastAction: null, deltas: 0, line: "", finish: null, errors: [], hits: 0 };
  let bubble = "";
  let talking = null;

  const client = new GameAIClient({ url, gameId: "js-example", clientName: "gameai-js-example/0.1" });
  client.on("state", ({ state, error, welcome }) => {
    report.state = state;
    if (welcome) report.sessionId = welcome.session_id;
    if (error && error.code !== "closed") report.errors.push(`${state}: ${error.code}: ${error.message}`);
    changed();
  });
  client.on("behaviour", (result) => {
    report.behaviours++;
    report.label = `${result.label} (${Math.round(result.confidence * 100)}%)`;
    changed();
  });
  client.on("error", (message) => {
    report.errors.push(`${message.code}: ${message.message}`);
    changed();
  });
  client.start();
  const stopFrames = client.streamFrames(canvas); // at welcome.behaviour.sample_fps, after each (re)connection

  function changed() {
    onReport(report);
  }

  async function talk() {
    if (talking || !client.connected) return;
    bubble = "";
    talking = client.dialogue("smith-1", "blacksmith", "Can you fix my sword?", { max_new_tokens: 24, game_state: { health: player.hp, max_health: 10 } });
    try {
      for await (const delta of talking) {
        bubble += delta.text;
        report.deltas++;
      }
      const done = await talking.done;
      report.line = done.text;
      report.finish = done.finish_reason;
    } catch (error) {
      report.errors.push(`dialogue: ${/** @type {Error} */ (error).message}`);
    } finally {
      talking = null;
      changed();
    }
  }

  // The enemy asks the agent for a move five times a second.
  const actTimer = setInterval(async () => {
    const spec = client.welcome?.agents?.[client.welcome?.default_agent];
    if (!client.connected || !spec) return;
    const observation = new Array(spec.obs_dim).fill(0);
    // A demo observation: positions and offset, in [-1, 1]; a real game sends what its agent was trained on.
    [player.x / W * 2 - 1, player.y / H * 2 - 1, enemy.x / W * 2 - 1, enemy.y / H * 2 - 1, (player.x - enemy.x) / W, (player.y - enemy.y) / H, player.hp / 10]
      .slice(0, spec.obs_dim)
      .forEach((value, i) => (observation[i] = value));
    try {
      const action = await client.act("enemy-1", observation, { timeoutMs: 2000 });
      enemy.move = action.action[0] % DIRECTIONS.length;
      report.actions++;
      report.lastAction = action.action;
      changed();
    } catch (error) {
      report.errors.push(`act: ${/** @type {Error} */ (error).message}`);
    }
  }, 200);

  const onKey = (/** @type {KeyboardEvent} */ event) => {
    if (event.type === "keydown") keys.add(event.key.toLowerCase());
    else keys.delete(event.key.toLowerCase());
    if (event.type === "keydown" && event.key.toLowerCase() === "e" && Math.hypot(player.x - smith.x, player.y - smith.y) < 70) talk();
  };
  addEventListener("keydown", onKey);
  addEventListener("keyup", onKey);

  let tick = 0;
  let last = performance.now();
  let running = true;
  function frame(now) {
    if (!running) return;
    const dt = Math.min(0.05, (now - last) / 1000);
    last = now;
    tick++;
    let dx = 0;
    let dy = 0;
    if (autopilot) {
      // wander in a figure of eight, and go talk to the smith once connected
      dx = Math.cos(tick / 40);
      dy = Math.sin(tick / 20);
      if (client.connected && !talking && !report.line) talk();
    } else {
      dx = (keys.has("d") || keys.has("arrowright") ? 1 : 0) - (keys.has("a") || keys.has("arrowleft") ? 1 : 0);
      dy = (keys.has("s") || keys.has("arrowdown") ? 1 : 0) - (keys.has("w") || keys.has("arrowup") ? 1 : 0);
    }
    player.x = Math.max(10, Math.min(W - 10, player.x + dx * 120 * dt));
    player.y = Math.max(10, Math.min(H - 10, player.y + dy * 120 * dt));
    const [ex, ey] = DIRECTIONS[enemy.move];
    enemy.x = Math.max(10, Math.min(W - 10, enemy.x + ex * 80 * dt));
    enemy.y = Math.max(10, Math.min(H - 10, enemy.y + ey * 80 * dt));
    if (Math.hypot(player.x - enemy.x, player.y - enemy.y) < 20 && tick % 30 === 0) {
      player.hp = Math.max(0, player.hp - 1);
      report.hits++;
      client.events(["hurt"]);
      if (player.hp === 0) {
        client.matchResult("loss", { npc_id: "enemy-1" });
        player.hp = 10;
      }
    }
    draw();
    hud.textContent = [
      `server: ${report.state}${client.rttMs !== null ? ` (${client.rttMs.toFixed(1)} ms)` : ""}`,
      `you play: ${report.label ?? "..."}`,
      `health: ${player.hp}`,
      `enemy action: ${report.lastAction ? JSON.stringify(report.lastAction) : "..."}`,
      `Brann: ${bubble || "(press E next to him)"}`,
    ].join("\n");
    requestAnimationFrame(frame);
  }

  function draw() {
    ctx.fillStyle = "#20242c";
    ctx.fillRect(0, 0, W, H);
    ctx.fillStyle = "#3a4150";
    for (let x = 0; x < W; x += 40) ctx.fillRect(x, 0, 1, H);
    for (let y = 0; y < H; y += 40) ctx.fillRect(0, y, W, 1);
    ctx.fillStyle = "#c8a040";
    ctx.fillRect(smith.x - 10, smith.y - 10, 20, 20);
    ctx.fillStyle = "#e04040";
    ctx.beginPath();
    ctx.arc(enemy.x, enemy.y, 10, 0, Math.PI * 2);
    ctx.fill();
    ctx.fillStyle = "#4080f0";
    ctx.beginPath();
    ctx.arc(player.x, player.y, 10, 0, Math.PI * 2);
    ctx.fill();
  }
  requestAnimationFrame(frame);

  return {
    client,
    report,
    async stop() {
      running = false;
      clearInterval(actTimer);
      stopFrames();
      removeEventListener("keydown", onKey);
      removeEventListener("keyup", onKey);
      await client.close();
    },
  };
}
