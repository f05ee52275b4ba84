/**
 * A small PNG encoder for RGB pixels, with no dependency: zlib through the standard
 * `CompressionStream("deflate")` (browsers, Node >= 18), CRC-32 in plain JavaScript.
 * @module gameai-client/png
 */

/** @type {Uint32Array|null} */
let crcTable = null;

/**
 * CRC-32 (the PNG/zlib polynomial) of some bytes.
 * @param {Uint8Array} bytes
 * @param {number} [crc] A running CRC to continue.
 * @returns {number} The CRC as an unsigned 32-bit integer.
 */
export function crc32(bytes, crc = 0) {
  if (crcTable === null) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = ~crc >>> 0;
  for (let i = 0; i < bytes.length; i++) c = crcTable[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

/**
 * zlib-compress bytes with the platform's `CompressionStream`.
 * @param {Uint8Array} bytes
 * @returns {Promise<Uint8Array>}
 */
async function deflate(bytes) {
  if (typeof CompressionStream !== "function") {
    throw new TypeError("PNG encoding needs CompressionStream (browsers, Node >= 18)");
  }
  const stream = new Blob([bytes]).stream().pipeThrough(new CompressionStream("deflate"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/**
 * One PNG chunk: length, type, data, CRC.
 * @param {string} type Four ASCII letters.
 * @param {Uint8Array} data
 * @returns {Uint8Array}
 */
function chunk(type, data) {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/**
 * Encode RGB pixels as an 8-bit RGB PNG (no filter, one IDAT chunk).
 * @param {Uint8Array} rgb `width * height * 3` bytes, top row first.
 * @param {number} width
 * @param {number} height
 * @returns {Promise<Uint8Array>} The PNG file's bytes.
 */
export async function encodePNG(rgb, width, height) {
  const stride = width * 3;
  if (rgb.length !== stride * height) {
    throw new RangeError(`expected ${stride * height} RGB bytes for ${width}x${height}, got ${rgb.length}`);
  }
  const raw = new Uint8Array((stride + 1) * height); // each row: filter byte 0, then the pixels
  for (let y = 0; y < height; y++) raw.set(rgb.subarray(y * stride, (y + 1) * stride), y * (stride + 1) + 1);
  const header = new Uint8Array(13);
  const view = new DataView(header.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  header.set([8, 2, 0, 0, 0], 8); // bit depth 8, colour type 2 (RGB), deflate, no filter method, no interlace
  const parts = [
    new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", await deflate(raw)),
    chunk("IEND", new Uint8Array(0)),
  ];
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
