// The 28-byte frame header byte for byte against gameai's Python encoder, the payloads, and
// the downscale filter against pygame's smoothscale (what the behaviour model was trained on).
import { test, before } from "node:test";
import assert from "node:assert/strict";

import { HEADER_SIZE, encodeFrame, encodeFrameHeader, parseFrameHeader, smoothscale, framePixels, encodePayload, encodePNG, crc32 } from "../src/index.js";
import { pythonJSON, pythonMissing, fromHex, toHex } from "./helpers/env.js";

const missing = pythonMissing();
let reference = [];

before(async () => {
  if (!missing) reference = await pythonJSON(["frames"]);
});

test("the header of docs/protocol.md's example, byte for byte", () => {
  const header = encodeFrameHeader({ seq: 42, timestamp: 1700000000.25, width: 84, height: 84, payloadLength: 21168 });
  assert.equal(
    toHex(header).match(/../g).join(" "),
    "47 41 49 46 01 00 03 00 2a 00 00 00 00 00 10 40 fc 54 d9 41 54 00 54 00 b0 52 00 00",
  );
});

test("frames match the Python encoder byte for byte", { skip: missing ?? false }, () => {
  assert.ok(reference.length >= 8);
  for (const c of reference) {
    const expected = fromHex(c.frame);
    const payload = c.encoding === "raw" ? fromHex(c.pixels) : expected.subarray(HEADER_SIZE); // PNG/JPEG: Pillow's bytes as given
    const frame = encodeFrame(payload, { seq: c.seq, timestamp: c.timestamp, width: c.width, height: c.height, encoding: c.encoding });
    assert.equal(toHex(frame.subarray(0, HEADER_SIZE)), toHex(expected.subarray(0, HEADER_SIZE)), `header of ${c.encoding} ${c.width}x${c.height} seq ${c.seq}`);
    assert.equal(toHex(frame), c.frame, `whole ${c.encoding} frame seq ${c.seq}`);
    const parsed = parseFrameHeader(frame);
    assert.deepEqual(
      { seq: parsed.seq, timestamp: parsed.timestamp, width: parsed.width, height: parsed.height, encoding: parsed.encoding, payloadLength: parsed.payloadLength },
      { seq: c.seq % 2 ** 32, timestamp: c.timestamp, width: c.width, height: c.height, encoding: c.encoding, payloadLength: expected.length - HEADER_SIZE },
    );
  }
});

test("PNG frames made here decode in gameai to the same pixels", { skip: missing ?? false }, async () => {
  for (const c of reference.filter((r) => r.encoding === "png")) {
    const pixels = fromHex(c.pixels);
    const png = await encodePayload(pixels, c.width, c.height, "png");
    const frame = encodeFrame(png, { seq: c.seq, timestamp: c.timestamp, width: c.width, height: c.height, encoding: "png" });
    const decoded = await pythonJSON(["decode"], toHex(frame));
    assert.equal(decoded.encoding, "png");
    assert.equal(decoded.seq, c.seq);
    assert.equal(decoded.timestamp, c.timestamp);
    assert.equal(decoded.pixels, c.pixels);
  }
});

test("the header refuses what the server would refuse", () => {
  assert.throws(() => encodeFrameHeader({ seq: 1, timestamp: NaN, width: 1, height: 1, payloadLength: 3 }), RangeError);
  assert.throws(() => encodeFrameHeader({ seq: 1, timestamp: 0, width: 70000, height: 1, payloadLength: 3 }), RangeError);
  assert.throws(() => encodeFrame(new Uint8Array(5), { seq: 0, timestamp: 0, width: 2, height: 1 }), /6 bytes/);
  assert.throws(() => encodeFrameHeader({ seq: 0, timestamp: 0, width: 1, height: 1, payloadLength: 3, encoding: "gif" }), TypeError);
  assert.equal(parseFrameHeader(encodeFrameHeader({ seq: 2 ** 32 + 3, timestamp: 1, width: 1, height: 1, payloadLength: 3 })).seq, 3);
});

test("CRC-32 and PNG structure", async () => {
  assert.equal(crc32(new TextEncoder().encode("123456789")), 0xcbf43926);
  const png = await encodePNG(new Uint8Array(2 * 2 * 3).fill(200), 2, 2);
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  assert.equal(new TextDecoder().decode(png.subarray(12, 16)), "IHDR");
});

test("smoothscale matches pygame's byte for byte, both of its filters", { skip: missing ?? false }, async () => {
  const { default_backend: defaultBackend, cases } = await pythonJSON(["smoothscale"]);
  let compared = 0;
  for (const c of cases) {
    const rgb = fromHex(c.image);
    for (const [backend, hex] of Object.entries(c.downscaled)) {
      const expected = fromHex(hex);
      const label = `${c.width}x${c.height} -> ${c.out_width}x${c.out_height}, pygame ${backend} (its default here: ${defaultBackend})`;
      for (const [name, pixels] of [["rgb", rgb], ["rgba", toRGBA(rgb)]]) {
        const got = smoothscale(pixels, c.width, c.height, c.out_width, c.out_height, /** @type {any} */ (backend));
        assert.equal(got.length, expected.length);
        let differ = 0;
        let worst = 0;
        for (let i = 0; i < got.length; i++) {
          const d = Math.abs(got[i] - expected[i]);
          if (d) differ++;
          worst = Math.max(worst, d);
        }
        assert.equal(differ, 0, `${name} ${label}: ${differ} bytes differ, worst by ${worst}`);
        compared++;
      }
    }
  }
  assert.ok(compared >= 12, `compared ${compared} images`);
});

test("framePixels takes ImageData-like RGBA, RGB, regions and raw bytes", () => {
  const rgba = new Uint8ClampedArray(4 * 4 * 4);
  for (let i = 0; i < 16; i++) rgba.set([i, 2 * i, 3 * i, 255], i * 4);
  const image = { data: rgba, width: 4, height: 4 };
  assert.deepEqual([...framePixels(image, 4, 4)].slice(0, 6), [0, 0, 0, 1, 2, 3]);
  const region = framePixels(image, 2, 1, { x: 1, y: 2, width: 2, height: 1 });
  assert.deepEqual([...region], [9, 18, 27, 10, 20, 30]);
  const raw = new Uint8Array(2 * 2 * 3).fill(9);
  assert.equal(framePixels(raw, 2, 2), raw);
  assert.throws(() => framePixels(new Uint8Array(5), 2, 2), RangeError);
});

/** @param {Uint8Array} rgb */
function toRGBA(rgb) {
  const out = new Uint8ClampedArray((rgb.length / 3) * 4);
  for (let s = 0, d = 0; s < rgb.length; s += 3, d += 4) out.set([rgb[s], rgb[s + 1], rgb[s + 2], 255], d);
  return out;
}
