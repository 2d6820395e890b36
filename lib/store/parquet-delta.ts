/**
 * Parquet DELTA_BINARY_PACKED for INT64 columns held as doubles (apache/parquet-format,
 * Encodings.md "Delta Encoding"): a header <block size> <miniblocks per block> <value count>
 * <first value (zigzag)>, then blocks of <min delta (zigzag)> <one bit width per miniblock>
 * <miniblocks of (delta − min delta) bit-packed little-endian, 32 values each>. We write blocks of
 * 128 values in 4 miniblocks of 32, like parquet-java.
 *
 * Encoding works on JS numbers, so it is exact only while every delta and every value stays far
 * inside the safe integers: `canDeltaEncode` says when (kline times and trade counts always do)
 * and the caller writes PLAIN otherwise. Relative deltas are packed at most 32 bits wide.
 */

const BLOCK_SIZE = 128;
const MINIBLOCKS = 4;
const MINIBLOCK_SIZE = BLOCK_SIZE / MINIBLOCKS;
/** |value| and |delta| bound: zigzag (2|v| + 1) and min/max arithmetic stay exact below 2^53. */
const EXACT_LIMIT = 2 ** 51;
const TWO_POW_32 = 4_294_967_296;

/**
 * Whether `values[0, n)` can be written by encodeDeltaInt64 exactly: integers, every |value| and
 * |value[i] − value[i−1]| below 2^51, and the spread of deltas in each block below 2^32.
 */
export function canDeltaEncode(values: Float64Array, n: number): boolean {
  if (n === 0) return true;
  if (!(Math.abs(values[0]!) < EXACT_LIMIT) || !Number.isInteger(values[0]!)) return false;
  for (let start = 1; start < n; start += BLOCK_SIZE) {
    const end = Math.min(start + BLOCK_SIZE, n);
    let min = Infinity;
    let max = -Infinity;
    for (let i = start; i < end; i++) {
      const value = values[i]!;
      if (!(Math.abs(value) < EXACT_LIMIT) || !Number.isInteger(value)) return false;
      const delta = value - values[i - 1]!;
      if (delta < min) min = delta;
      if (delta > max) max = delta;
    }
    if (!(max - min < TWO_POW_32)) return false;
  }
  return true;
}

/**
 * DELTA_BINARY_PACKED bytes of `values[0, n)`. The caller checks canDeltaEncode first; values
 * outside it would be written wrong.
 */
export function encodeDeltaInt64(values: Float64Array, n: number): Uint8Array {
  // Worst case: header, and per block a 10-byte min delta, 4 widths and 128 × 4 bytes.
  const out = new Uint8Array(32 + Math.ceil(Math.max(n - 1, 0) / BLOCK_SIZE) * (14 + BLOCK_SIZE * 4));
  let p = writeVarint(out, 0, BLOCK_SIZE);
  p = writeVarint(out, p, MINIBLOCKS);
  p = writeVarint(out, p, n);
  p = writeVarint(out, p, zigzag(n > 0 ? values[0]! : 0));
  const deltas = new Float64Array(BLOCK_SIZE);
  for (let start = 1; start < n; start += BLOCK_SIZE) {
    const count = Math.min(BLOCK_SIZE, n - start);
    let minDelta = Infinity;
    for (let i = 0; i < count; i++) {
      const delta = values[start + i]! - values[start + i - 1]!;
      deltas[i] = delta;
      if (delta < minDelta) minDelta = delta;
    }
    p = writeVarint(out, p, zigzag(minDelta));
    const widthsAt = p;
    p += MINIBLOCKS;
    for (let m = 0; m < MINIBLOCKS; m++) {
      const from = m * MINIBLOCK_SIZE;
      if (from >= count) {
        out[widthsAt + m] = 0;
        continue;
      }
      const to = Math.min(from + MINIBLOCK_SIZE, count);
      let spread = 0;
      for (let i = from; i < to; i++) spread = Math.max(spread, deltas[i]! - minDelta);
      const width = 32 - Math.clz32(spread); // spread < 2^32 (canDeltaEncode)
      out[widthsAt + m] = width;
      p = packMiniblock(out, p, deltas, from, to, minDelta, width);
    }
  }
  return out.subarray(0, p);
}

/** Bit-packs 32 relative deltas (zeros past `to`) `width` bits each, LSB first; returns the end offset. */
function packMiniblock(out: Uint8Array, start: number, deltas: Float64Array, from: number, to: number, minDelta: number, width: number): number {
  if (width === 0) return start;
  let p = start;
  let buffer = 0; // pending bits, fewer than 8 between values
  let bits = 0;
  for (let i = from; i < from + MINIBLOCK_SIZE; i++) {
    const value = i < to ? (deltas[i]! - minDelta) >>> 0 : 0;
    // Two 16-bit halves, so `buffer` never holds more than 23 bits and stays exact in int32 ops.
    const halves = width > 16 ? 2 : 1;
    for (let h = 0; h < halves; h++) {
      const take = h === 0 ? Math.min(width, 16) : width - 16;
      buffer |= ((value >>> (16 * h)) & ((1 << take) - 1)) << bits;
      bits += take;
      while (bits >= 8) {
        out[p++] = buffer & 0xff;
        buffer >>>= 8;
        bits -= 8;
      }
    }
  }
  return p; // 32 values × width bits is always whole bytes
}

/**
 * Decodes DELTA_BINARY_PACKED bytes of exactly `target.length` values into `target`, starting at
 * `offset` of `bytes`. Returns the offset after the last block read, or -1 when the stream is not
 * one this decoder reads exactly (a bit width above 32, a value count that differs, a value
 * beyond the safe integers, truncated bytes): the caller then uses a general reader.
 */
export function decodeDeltaInt64(bytes: Uint8Array, offset: number, target: Float64Array): number {
  const state = { p: offset };
  const blockSize = readVarint(bytes, state);
  const miniblocks = readVarint(bytes, state);
  const count = readVarint(bytes, state);
  const first = unzigzag(readVarint(bytes, state));
  const perMiniblock = blockSize / miniblocks;
  if (!(Math.abs(first) < EXACT_LIMIT) || count !== target.length || !(perMiniblock % 32 === 0) || blockSize % 128 !== 0 || state.p > bytes.length) return -1;
  if (count === 0) return state.p;
  target[0] = first;
  let prev = first;
  let i = 1;
  while (i < count) {
    const minDelta = unzigzag(readVarint(bytes, state));
    if (!(Math.abs(minDelta) < EXACT_LIMIT)) return -1;
    const widthsAt = state.p;
    state.p += miniblocks;
    for (let m = 0; m < miniblocks && i < count; m++) {
      const width = bytes[widthsAt + m]!;
      if (width > 32 || state.p + (perMiniblock * width) / 8 > bytes.length) return -1;
      prev = unpackMiniblock(bytes, state.p, width, perMiniblock, minDelta, prev, target, i);
      if (Number.isNaN(prev)) return -1;
      state.p += (perMiniblock * width) / 8;
      i = Math.min(i + perMiniblock, count);
    }
  }
  return state.p;
}

/**
 * Unpacks one miniblock into target[at …], each value prev + minDelta + packed; returns the last
 * value, or NaN when a value leaves ±2^53 (where the sums would stop being exact).
 */
function unpackMiniblock(
  bytes: Uint8Array, start: number, width: number, perMiniblock: number, minDelta: number, prev: number, target: Float64Array, at: number,
): number {
  const end = Math.min(at + perMiniblock, target.length);
  if (width === 0) {
    for (let i = at; i < end; i++) target[i] = prev += minDelta;
    return Math.abs(prev) <= Number.MAX_SAFE_INTEGER ? prev : Number.NaN;
  }
  const mask = width === 32 ? 0xffff_ffff : (1 << width) - 1;
  let bitPos = start * 8;
  for (let i = at; i < end; i++, bitPos += width) {
    const byte = bitPos >>> 3;
    const shift = bitPos & 7;
    // Up to 5 bytes hold the value; combine the low 4 with the unsigned shift, then the fifth.
    const low = (bytes[byte]! | (bytes[byte + 1]! << 8) | (bytes[byte + 2]! << 16) | (bytes[byte + 3]! << 24)) >>> shift;
    const high = shift === 0 ? 0 : (bytes[byte + 4] ?? 0) << (32 - shift);
    const packed = ((low | high) & mask) >>> 0;
    prev += minDelta + packed;
    if (prev > Number.MAX_SAFE_INTEGER || prev < -Number.MAX_SAFE_INTEGER) return Number.NaN;
    target[i] = prev;
  }
  return prev;
}

function writeVarint(out: Uint8Array, start: number, value: number): number {
  let p = start;
  let rest = value;
  while (rest >= 0x80) {
    out[p++] = (rest % 0x80) | 0x80;
    rest = Math.floor(rest / 0x80);
  }
  out[p++] = rest;
  return p;
}

function readVarint(bytes: Uint8Array, state: { p: number }): number {
  let result = 0;
  let scale = 1;
  for (;;) {
    const byte = bytes[state.p++];
    if (byte === undefined) return Number.NaN;
    result += (byte & 0x7f) * scale;
    if (byte < 0x80) return result;
    scale *= 0x80;
    if (scale > 2 ** 63) return Number.NaN;
  }
}

/** 0, -1, 1, -2 … → 0, 1, 2, 3 …, exact for |value| < 2^52. */
function zigzag(value: number): number {
  return value >= 0 ? value * 2 : -value * 2 - 1;
}

function unzigzag(value: number): number {
  return value % 2 === 0 ? value / 2 : -(value + 1) / 2;
}
