/**
 * A scripted websocket server on node:http, with no dependency: it completes (or refuses) the
 * handshake, sends what a test tells it, and keeps the JSON text messages the client sends
 * (`received()`); it answers none of them. For the client's timeouts, refusals, backoff and
 * message shapes, which a real server does not produce (or show) on demand.
 */

import { createServer } from "node:http";
import { createHash } from "node:crypto";

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/**
 * One unmasked server-to-client frame.
 * @param {number} opcode 1 text, 8 close.
 * @param {Buffer} payload
 */
function frame(opcode, payload) {
  const length = payload.length;
  const head = length < 126 ? Buffer.from([0x80 | opcode, length]) : Buffer.from([0x80 | opcode, 126, length >> 8, length & 0xff]);
  return Buffer.concat([head, payload]);
}

/**
 * @typedef {object} FakeSocket
 * @property {(message: object) => void} send Send a JSON text message.
 * @property {(code: number, reason?: string) => void} close Send a close frame and end the connection.
 */

/**
 * Start the server. `onConnection(socket, index)` is called on every accepted handshake;
 * `refuse(index)` (optional) returns an HTTP status to refuse handshake number `index` with;
 * `onMessage(message, socket, index)` (optional) is called with every JSON text message the
 * client sends (`hello` included), after `received()` has it.
 * @param {{onConnection?: (socket: FakeSocket, index: number) => void, refuse?: (index: number) => number|null,
 *   onMessage?: (message: any, socket: FakeSocket, index: number) => void}} script
 * @returns {Promise<{url: string, attempts: () => number, received: () => {index: number, message: any}[], stop: () => Promise<void>}>}
 */
export async function startFakeServer({ onConnection = () => {}, refuse = () => null, onMessage = () => {} }) {
  let attempts = 0;
  /** The client's text messages, parsed, oldest first, with the connection's index. @type {{index: number, message: any}[]} */
  const received = [];
  /** @type {Set<import("node:net").Socket>} */
  const sockets = new Set();
  const server = createServer((_, response) => response.writeHead(404).end());
  server.on("upgrade", (request, socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    const index = attempts++;
    const status = refuse(index);
    if (status) {
      socket.end(`HTTP/1.1 ${status} Refused\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
      return;
    }
    const accept = createHash("sha1").update(request.headers["sec-websocket-key"] + GUID).digest("base64");
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
    /** @type {FakeSocket} */
    const fake = {
      send: (message) => socket.write(frame(1, Buffer.from(JSON.stringify(message)))),
      close: (code, reason = "") => {
        const payload = Buffer.concat([Buffer.from([code >> 8, code & 0xff]), Buffer.from(reason)]);
        socket.end(frame(8, payload));
      },
    };
    // Keep the client's text messages (each in one unfragmented frame, as browsers and Node send
    // them), skip its binary frames, and answer its close (opcode 8) as servers do.
    let pending = Buffer.alloc(0);
    socket.on("data", (data) => {
      pending = Buffer.concat([pending, data]);
      while (pending.length >= 2) {
        let length = pending[1] & 0x7f;
        let offset = 2;
        if (length === 126) [length, offset] = [pending.length >= 4 ? pending.readUInt16BE(2) : Infinity, 4];
        else if (length === 127) [length, offset] = [pending.length >= 10 ? Number(pending.readBigUInt64BE(2)) : Infinity, 10];
        const end = offset + 4 + length; // client frames are masked: 4 mask bytes
        if (pending.length < end) break;
        const opcode = pending[0] & 0x0f;
        if (opcode === 1) {
          const mask = pending.subarray(offset, offset + 4);
          const text = Buffer.from(pending.subarray(offset + 4, end)).map((byte, i) => byte ^ mask[i % 4]).toString("utf8");
          const message = JSON.parse(text);
          received.push({ index, message });
          onMessage(message, fake, index);
        }
        pending = pending.subarray(end);
        if (opcode === 8 && !socket.destroyed) socket.end(frame(8, Buffer.from([0x03, 0xe8])));
      }
    });
    onConnection(fake, index);
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(undefined)));
  const address = /** @type {import("node:net").AddressInfo} */ (server.address());
  return {
    url: `ws://127.0.0.1:${address.port}/`,
    attempts: () => attempts,
    received: () => [...received],
    stop: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A minimal welcome, like the server's for a session with one agent of 4 observations. */
export const WELCOME = Object.freeze({
  type: "welcome",
  protocol: 1,
  session_id: "fake-session",
  server: "fake/0",
  services: ["behaviour", "dialogue", "agents"],
  models: {},
  behaviour: { width: 4, height: 3, channels: 3, frames_per_window: 2, sample_fps: 5, classes: ["idle"], bot_like_minimums: [] },
  agents: { arena: { obs_dim: 4, action_nvec: [9, 4, 2], difficulty_input: true } },
  default_agent: "arena",
  difficulty: 0.5,
  limits: {},
});
