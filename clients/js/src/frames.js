/**
 * Binary frames: the 28-byte header of docs/protocol.md section 4, and turning a canvas,
 * an `ImageData` or RGB bytes into what the behaviour model expects.
 *
 * Downscaling: the server never resizes, and the model was trained on frames made by
 * `gameai.client.frames.downscale_frame`, i.e. pygame's `transform.smoothscale` of the whole
 * world view. {@link smoothscale} is an exact port of smoothscale (area averaging in fixed point
 * when shrinking, X then Y; linear interpolation when enlarging), run on
 * the canvas's full-resolution pixels read with `getImageData`, so a browser game sends the
 * pixels a pygame game would, byte for byte. (A canvas's own `drawImage` resampling is not
 * used: browsers filter differently from each other and from pygame.)
 * @module gameai-client/frames
 */

import { encodePNG } from "./png.js";

/** The header's size in bytes. */
export const HEADER_SIZE = 28;
/** The header's first four bytes, `GAIF`. */
export const MAGIC = Object.freeze([0x47, 0x41, 0x49, 0x46]);
/** The header's version byte. */
export const FRAME_VERSION = 1;
/** Channels of every frame (RGB). */
export const CHANNELS = 3;
/** The encoding byte of each payload encoding. */
export const FRAME_ENCODINGS = Object.freeze({ raw: 0, png: 1, jpeg: 2 });
const ENCODING_NAMES = ["raw", "png", "jpeg"];

/**
 * The 28-byte header (little-endian, `struct` format `<4sBBBBIdHHI`).
 * @param {{seq: number, timestamp: number, width: number, height: number, payloadLength: number, encoding?: "raw"|"png"|"jpeg"}} fields
 *   `seq` is taken modulo 2^32.
 * @returns {Uint8Array}
 */
export function encodeFrameHeader({ seq, timestamp, width, height, payloadLength, encoding = "raw" }) {
  const code = FRAME_ENCODINGS[encoding];
  if (code === undefined) throw new TypeError(`encoding must be raw, png or jpeg, got ${encoding}`);
  if (!Number.isFinite(timestamp)) throw new RangeError("timestamp must be a finite number");
  if (!Number.isInteger(seq) || seq < 0) throw new RangeError(`seq must be a non-negative integer, got ${seq}`);
  for (const [name, value, max] of [["width", width, 0xffff], ["height", height, 0xffff], ["payloadLength", payloadLength, 0xffffffff]]) {
    if (!Number.isInteger(value) || value < 0 || value > max) throw new RangeError(`${name} must be an integer in 0..${max}, got ${value}`);
  }
  const header = new Uint8Array(HEADER_SIZE);
  const view = new DataView(header.buffer);
  header.set(MAGIC, 0);
  view.setUint8(4, FRAME_VERSION);
  view.setUint8(5, code);
  view.setUint8(6, CHANNELS);
  view.setUint8(7, 0);
  view.setUint32(8, seq % 2 ** 32, true);
  view.setFloat64(12, timestamp, true);
  view.setUint16(20, width, true);
  view.setUint16(22, height, true);
  view.setUint32(24, payloadLength, true);
  return header;
}

/**
 * A whole binary frame message: header then payload.
 * @param {Uint8Array} payload Raw RGB (`width * height * 3` bytes, top row first), or PNG/JPEG bytes.
 * @param {{seq: number, timestamp: number, width: number, height: number, encoding?: "raw"|"png"|"jpeg"}} fields
 * @returns {Uint8Array}
 */
export function encodeFrame(payload, { seq, timestamp, width, height, encoding = "raw" }) {
  if (encoding === "raw" && payload.length !== width * height * CHANNELS) {
    throw new RangeError(`a raw ${width}x${height} RGB frame has ${width * height * CHANNELS} bytes, got ${payload.length}`);
  }
  const message = new Uint8Array(HEADER_SIZE + payload.length);
  message.set(encodeFrameHeader({ seq, timestamp, width, height, encoding, payloadLength: payload.length }), 0);
  message.set(payload, HEADER_SIZE);
  return message;
}

/**
 * Read a frame header (for tests and tools; the server checks frames itself).
 * @param {Uint8Array} bytes At least the 28 header bytes.
 * @returns {{version: number, encoding: string, channels: number, flags: number, seq: number, timestamp: number, width: number, height: number, payloadLength: number}}
 */
export function parseFrameHeader(bytes) {
  if (bytes.length < HEADER_SIZE) throw new RangeError(`a frame needs a ${HEADER_SIZE}-byte header, got ${bytes.length} bytes`);
  if (MAGIC.some((byte, i) => bytes[i] !== byte)) throw new RangeError("bad magic, expected GAIF");
  const view = new DataView(bytes.buffer, bytes.byteOffset, HEADER_SIZE);
  return {
    version: view.getUint8(4),
    encoding: ENCODING_NAMES[view.getUint8(5)] ?? String(view.getUint8(5)),
    channels: view.getUint8(6),
    flags: view.getUint8(7),
    seq: view.getUint32(8, true),
    timestamp: view.getFloat64(12, true),
    width: view.getUint16(20, true),
    height: view.getUint16(22, true),
    payloadLength: view.getUint32(24, true),
  };
}

// pygame has two smoothscale filters: its portable C ("GENERIC") and, on x86-64, MMX/SSE
// assembly ("SSE", what the shipped model's training frames were made with). They compute the
// same area average in different fixed point (16.16 with 16-bit accumulators, and 2.14 with
// 16-bit multiply-high), so their results differ by 1-2 in a few percent of the bytes. Each is
// ported here exactly: `scale` is 1 << 16 or 1 << 14, `mulhi` the product's rounding.

/**
 * @typedef {object} Filter
 * @property {number} one Fixed-point one (0x10000 or 0x4000).
 * @property {number} expandOne Fixed-point one of the enlarging filter (0x10000 or 0x100).
 * @property {(src: number, weight: number) => number} part `(src * weight) >> 16` in the filter's arithmetic.
 * @property {(sum: number, recip: number) => number} out The output byte of an accumulated sum.
 */

/** @type {Record<"generic"|"sse", Filter>} */
const FILTERS = {
  generic: {
    one: 0x10000,
    expandOne: 0x10000,
    part: (src, weight) => (src * weight) >>> 16,
    out: (sum, recip) => ((sum * recip) >>> 16) & 0xff, // (Uint8) cast
  },
  sse: {
    one: 0x4000,
    expandOne: 0x100,
    part: (src, weight) => ((src << 2) * weight) >>> 16, // psllw 2; pmulhuw
    out: (sum, recip) => {
      const value = ((sum & 0xffff) * recip) >>> 16; // paddw wraps; pmulhuw
      return value > 0x7fff ? 0 : value > 255 ? 255 : value; // packuswb saturates a signed word
    },
  },
};

/**
 * Shrink rows (pygame's `filter_shrink_X`), 3 channels out of `step`-byte pixels.
 * @param {Filter} f
 * @param {ArrayLike<number>} src
 * @param {number} step Bytes per source pixel (3 or 4).
 * @param {number} srcWidth
 * @param {number} height
 * @param {number} dstWidth
 * @returns {Uint8Array} `dstWidth * height * 3` bytes.
 */
function shrinkX(f, src, step, srcWidth, height, dstWidth) {
  const dst = new Uint8Array(dstWidth * height * 3);
  const xspace = Math.floor((f.one * srcWidth) / dstWidth);
  const xrecip = Math.floor((f.one * 0x10000) / xspace);
  const acc = new Uint16Array(3);
  let d = 0;
  for (let y = 0; y < height; y++) {
    let s = y * srcWidth * step;
    acc[0] = acc[1] = acc[2] = 0;
    let xcounter = xspace;
    for (let x = 0; x < srcWidth; x++, s += step) {
      if (xcounter > f.one) {
        acc[0] += src[s];
        acc[1] += src[s + 1];
        acc[2] += src[s + 2];
        xcounter -= f.one;
      } else {
        const xfrac = f.one - xcounter;
        for (let c = 0; c < 3; c++) {
          dst[d++] = f.out(acc[c] + f.part(src[s + c], xcounter), xrecip);
          acc[c] = f.part(src[s + c], xfrac);
        }
        xcounter = xspace - xfrac;
      }
    }
  }
  return dst;
}

/**
 * Shrink columns (pygame's `filter_shrink_Y`), 3 channels out of `step`-byte pixels.
 * @param {Filter} f
 * @param {ArrayLike<number>} src
 * @param {number} step Bytes per source pixel (3 or 4).
 * @param {number} width
 * @param {number} srcHeight
 * @param {number} dstHeight
 * @returns {Uint8Array} `width * dstHeight * 3` bytes.
 */
function shrinkY(f, src, step, width, srcHeight, dstHeight) {
  const dst = new Uint8Array(width * dstHeight * 3);
  const yspace = Math.floor((f.one * srcHeight) / dstHeight);
  const yrecip = Math.floor((f.one * 0x10000) / yspace);
  const acc = new Uint16Array(width * 3);
  let ycounter = yspace;
  let d = 0;
  for (let y = 0; y < srcHeight; y++) {
    const row = y * width * step;
    if (ycounter > f.one) {
      for (let x = 0, s = row, a = 0; x < width; x++, s += step, a += 3) {
        acc[a] += src[s];
        acc[a + 1] += src[s + 1];
        acc[a + 2] += src[s + 2];
      }
      ycounter -= f.one;
    } else {
      const yfrac = f.one - ycounter;
      for (let x = 0, s = row, a = 0; x < width; x++, s += step, a += 3) {
        for (let c = 0; c < 3; c++) {
          dst[d++] = f.out(acc[a + c] + f.part(src[s + c], ycounter), yrecip);
          acc[a + c] = f.part(src[s + c], yfrac);
        }
      }
      ycounter = yspace - yfrac;
    }
  }
  return dst;
}

/**
 * Enlarge rows (pygame's `filter_expand_X`, linear), 3 channels out of `step`-byte pixels.
 * @param {Filter} f
 * @param {ArrayLike<number>} src
 * @param {number} step
 * @param {number} srcWidth
 * @param {number} height
 * @param {number} dstWidth
 * @returns {Uint8Array}
 */
function expandX(f, src, step, srcWidth, height, dstWidth) {
  const one = f.expandOne;
  const shift = one === 0x100 ? 8 : 16;
  const dst = new Uint8Array(dstWidth * height * 3);
  const index = new Int32Array(dstWidth);
  const mult0 = new Int32Array(dstWidth);
  const mult1 = new Int32Array(dstWidth);
  for (let x = 0; x < dstWidth; x++) {
    index[x] = Math.floor((x * (srcWidth - 1)) / dstWidth);
    mult1[x] = Math.floor((one * ((x * (srcWidth - 1)) % dstWidth)) / dstWidth);
    mult0[x] = one - mult1[x];
  }
  let d = 0;
  for (let y = 0; y < height; y++) {
    const row = y * srcWidth * step;
    for (let x = 0; x < dstWidth; x++) {
      const s = row + index[x] * step;
      for (let c = 0; c < 3; c++) dst[d++] = (src[s + c] * mult0[x] + src[s + step + c] * mult1[x]) >>> shift;
    }
  }
  return dst;
}

/**
 * Enlarge columns (pygame's `filter_expand_Y`, linear), 3 channels out of `step`-byte pixels.
 * @param {Filter} f
 * @param {ArrayLike<number>} src
 * @param {number} step
 * @param {number} width
 * @param {number} srcHeight
 * @param {number} dstHeight
 * @returns {Uint8Array}
 */
function expandY(f, src, step, width, srcHeight, dstHeight) {
  const one = f.expandOne;
  const shift = one === 0x100 ? 8 : 16;
  const dst = new Uint8Array(width * dstHeight * 3);
  const rowBytes = width * step;
  let d = 0;
  for (let y = 0; y < dstHeight; y++) {
    const row0 = Math.floor((y * (srcHeight - 1)) / dstHeight) * rowBytes;
    const mult1 = Math.floor((one * ((y * (srcHeight - 1)) % dstHeight)) / dstHeight);
    const mult0 = one - mult1;
    for (let x = 0, s = row0; x < width; x++, s += step) {
      for (let c = 0; c < 3; c++) dst[d++] = (src[s + c] * mult0 + src[s + rowBytes + c] * mult1) >>> shift;
    }
  }
  return dst;
}

/**
 * Drop channels beyond the third: RGBA (or RGB) pixels to packed RGB.
 * @param {ArrayLike<number>} pixels
 * @param {number} step Bytes per pixel (3 or 4).
 * @param {number} count Pixels.
 * @returns {Uint8Array}
 */
function toRGB(pixels, step, count) {
  const out = new Uint8Array(count * 3);
  for (let i = 0, s = 0, d = 0; i < count; i++, s += step, d += 3) {
    out[d] = pixels[s];
    out[d + 1] = pixels[s + 1];
    out[d + 2] = pixels[s + 2];
  }
  return out;
}

/**
 * Resize pixels exactly as pygame's `smoothscale` does, to packed RGB (alpha is dropped).
 * @param {ArrayLike<number>} pixels RGBA (`ImageData.data`) or RGB bytes, top row first.
 * @param {number} srcWidth
 * @param {number} srcHeight
 * @param {number} width Target width.
 * @param {number} height Target height.
 * @param {"sse"|"generic"} [backend] pygame's filter to reproduce: `"sse"` (default; pygame on
 *   x86-64, with which the shipped model's training frames were made) or `"generic"` (its portable C).
 * @returns {Uint8Array} `width * height * 3` RGB bytes.
 */
export function smoothscale(pixels, srcWidth, srcHeight, width, height, backend = "sse") {
  const f = FILTERS[backend];
  if (!f) throw new TypeError(`backend must be sse or generic, got ${backend}`);
  const count = srcWidth * srcHeight;
  if (!(srcWidth > 0 && srcHeight > 0 && width > 0 && height > 0)) {
    throw new RangeError(`sizes must be positive: ${srcWidth}x${srcHeight} -> ${width}x${height}`);
  }
  const step = pixels.length === count * 4 ? 4 : pixels.length === count * 3 ? 3 : 0;
  if (step === 0) {
    throw new RangeError(`${srcWidth}x${srcHeight} pixels need ${count * 4} (RGBA) or ${count * 3} (RGB) bytes, got ${pixels.length}`);
  }
  let data = pixels;
  let stride = step;
  if (width !== srcWidth) {
    data = width < srcWidth ? shrinkX(f, data, stride, srcWidth, srcHeight, width) : expandX(f, data, stride, srcWidth, srcHeight, width);
    stride = 3;
  }
  if (height !== srcHeight) {
    data = height < srcHeight ? shrinkY(f, data, stride, width, srcHeight, height) : expandY(f, data, stride, width, srcHeight, height);
    stride = 3;
  }
  return stride === 3 && data !== pixels ? /** @type {Uint8Array} */ (data) : toRGB(data, stride, width * height);
}

/**
 * A scratch 2D canvas (OffscreenCanvas where there is one).
 * @param {number} width
 * @param {number} height
 * @returns {any}
 */
function scratchCanvas(width, height) {
  if (typeof OffscreenCanvas === "function") return new OffscreenCanvas(width, height);
  if (typeof document !== "undefined") {
    const canvas = document.createElement("canvas");
    canvas.width = width;
    canvas.height = height;
    return canvas;
  }
  throw new TypeError("reading or encoding a canvas needs a browser (no canvas here); pass ImageData-like pixels or bytes");
}

/**
 * A rectangle of pixels of the source, as RGBA (ImageData) or RGB.
 * @param {any} source A canvas (2D or WebGL), OffscreenCanvas, ImageBitmap, image, video,
 *   `ImageData`, or `{data, width, height}` with RGBA or RGB bytes.
 * @param {{x: number, y: number, width: number, height: number}} [region] Part of the source (the world view, not the HUD).
 * @returns {{data: ArrayLike<number>, width: number, height: number}}
 */
export function readPixels(source, region) {
  if (source && source.data && typeof source.width === "number" && typeof source.getContext !== "function") {
    if (!region) return source;
    const step = source.data.length / (source.width * source.height);
    const out = new Uint8Array(region.width * region.height * step);
    for (let y = 0; y < region.height; y++) {
      const start = ((region.y + y) * source.width + region.x) * step;
      out.set(source.data.subarray(start, start + region.width * step), y * region.width * step);
    }
    return { data: out, width: region.width, height: region.height };
  }
  const width = source.videoWidth || source.naturalWidth || source.width;
  const height = source.videoHeight || source.naturalHeight || source.height;
  const { x, y, width: w, height: h } = region ?? { x: 0, y: 0, width, height };
  let context = null;
  if (typeof source.getContext === "function") {
    try {
      context = source.getContext("2d"); // null for a WebGL canvas
    } catch {
      context = null;
    }
  }
  if (!context) {
    const scratch = scratchCanvas(w, h);
    context = scratch.getContext("2d", { willReadFrequently: true });
    context.drawImage(source, x, y, w, h, 0, 0, w, h); // 1:1 copy, no resampling
    return context.getImageData(0, 0, w, h);
  }
  return context.getImageData(x, y, w, h);
}

/**
 * A source downscaled to the model's frame size, as packed RGB (see the module doc).
 * @param {any} source See {@link readPixels}; also a `Uint8Array` of raw RGB already at `width x height`.
 * @param {number} width Target width (`welcome.behaviour.width`).
 * @param {number} height Target height (`welcome.behaviour.height`).
 * @param {{x: number, y: number, width: number, height: number}} [region] Part of the source to send.
 * @param {"sse"|"generic"} [backend] pygame's filter to reproduce (see {@link smoothscale}).
 * @returns {Uint8Array} `width * height * 3` bytes.
 */
export function framePixels(source, width, height, region, backend = "sse") {
  if (source instanceof Uint8Array || source instanceof Uint8ClampedArray) {
    if (source.length !== width * height * 3) {
      throw new RangeError(`raw bytes must be ${width}x${height} RGB (${width * height * 3} bytes), got ${source.length}; pass {data, width, height} to downscale`);
    }
    return source instanceof Uint8Array ? source : new Uint8Array(source.buffer, source.byteOffset, source.length);
  }
  const pixels = readPixels(source, region);
  return smoothscale(pixels.data, pixels.width, pixels.height, width, height, backend);
}

/**
 * Encode RGB pixels as a frame payload.
 * @param {Uint8Array} rgb `width * height * 3` bytes.
 * @param {number} width
 * @param {number} height
 * @param {"raw"|"png"|"jpeg"} encoding `raw` costs nothing; `png` is lossless (pure JS, anywhere);
 *   `jpeg` needs a canvas (browsers) and is lossy.
 * @param {{jpegQuality?: number}} [options] JPEG quality in (0, 1], default 0.9.
 * @returns {Promise<Uint8Array>}
 */
export async function encodePayload(rgb, width, height, encoding, options = {}) {
  if (encoding === "raw") return rgb;
  if (encoding === "png") return encodePNG(rgb, width, height);
  if (encoding !== "jpeg") throw new TypeError(`encoding must be raw, png or jpeg, got ${encoding}`);
  const canvas = scratchCanvas(width, height);
  const context = canvas.getContext("2d");
  const image = context.createImageData(width, height);
  for (let i = 0, s = 0; s < rgb.length; i += 4, s += 3) {
    image.data[i] = rgb[s];
    image.data[i + 1] = rgb[s + 1];
    image.data[i + 2] = rgb[s + 2];
    image.data[i + 3] = 255;
  }
  context.putImageData(image, 0, 0);
  const quality = options.jpegQuality ?? 0.9;
  const blob =
    typeof canvas.convertToBlob === "function"
      ? await canvas.convertToBlob({ type: "image/jpeg", quality })
      : await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", quality));
  return new Uint8Array(await blob.arrayBuffer());
}
