/**
 * Page payloads for the cache's Parquet files: PLAIN int64 and double values,
 * BYTE_STREAM_SPLIT doubles (apache/parquet-format Encodings.md), and ZSTD through Node's
 * native zlib (node:zlib zstdCompressSync, Node 22.15+). Values are JS numbers held in
 * Float64Arrays (kline-columns.ts); int64 values must be safe integers.
 */
import zlib from 'node:zlib';
import { knownSizeOutput } from '../zlib-output.ts';

const TWO_POW_32 = 4_294_967_296;
/** Float64Array bytes are the PLAIN DOUBLE bytes (IEEE little-endian) on a little-endian host. */
export const LITTLE_ENDIAN_HOST = new Uint8Array(new Float64Array([1]).buffer)[7] === 0x3f;

/**
 * ZSTD level of the cache's pages. Measured on the real 1m and 1h recordings: levels 5-9 write
 * 1-7 % fewer bytes than level 3 (zstd's default) at 2-3x its time; level 1 up to 4 % more.
 */
export const ZSTD_LEVEL = 3;

/**
 * One ZSTD frame of `bytes`, with its content size and a content checksum (4 bytes a page), so a
 * page damaged at rest fails to decompress instead of decoding to other numbers.
 */
export function zstdCompress(bytes: Uint8Array, level: number = ZSTD_LEVEL): Uint8Array {
  // One output chunk the size of the input (plus the frame's overhead) avoids zlib's 16 KiB chunk loop;
  // the pledged size lets zstd size its window and tables to the page, not to 2 MiB (level 3's
  // default), which keeps each call's native memory, and the GC work it triggers, small.
  return zlib.zstdCompressSync(bytes, {
    chunkSize: Math.max(64, bytes.byteLength + 1024),
    pledgedSrcSize: bytes.byteLength,
    params: { [zlib.constants.ZSTD_c_compressionLevel]: level, [zlib.constants.ZSTD_c_checksumFlag]: 1 },
  });
}

/**
 * The `size` bytes a ZSTD page holds, in one output chunk (knownSizeOutput: without the slack,
 * every page read would cost two allocations of its size). When `size + ZLIB_OUTPUT_SLACK` is at
 * least half of Buffer.poolSize (32 KiB on Node 24), they are at offset 0 of an output buffer zlib
 * allocated for this call alone, at most ZLIB_OUTPUT_SLACK bytes longer; smaller outputs are slices of
 * Buffer's shared pool. Throws
 * RangeError (from zlib) when the frame holds more than `size` bytes, and Error when it is
 * corrupt or holds fewer.
 */
export function zstdDecompress(bytes: Uint8Array, size: number): Uint8Array {
  const out = zlib.zstdDecompressSync(bytes, knownSizeOutput(size));
  if (out.byteLength !== size) throw new Error(`zstd page holds ${out.byteLength} bytes, its header says ${size}`);
  return out;
}

/** PLAIN INT64 bytes of `values[0, n)` (safe integers): two little-endian int32 halves each. */
export function encodePlainInt64(values: Float64Array, n: number): Uint8Array {
  const bytes = new Uint8Array(8 * n);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < n; i++) {
    const value = values[i]!;
    // setInt32 keeps the low 32 bits (ToInt32 is modular); the floored quotient is the high word.
    view.setInt32(8 * i, value, true);
    view.setInt32(8 * i + 4, Math.floor(value / TWO_POW_32), true);
  }
  return bytes;
}

/** PLAIN DOUBLE bytes of `values[0, n)`: a view of the array itself on a little-endian host. */
export function encodePlainDouble(values: Float64Array, n: number): Uint8Array {
  if (LITTLE_ENDIAN_HOST) return new Uint8Array(values.buffer, values.byteOffset, 8 * n);
  const bytes = new Uint8Array(8 * n);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < n; i++) view.setFloat64(8 * i, values[i]!, true);
  return bytes;
}

/**
 * BYTE_STREAM_SPLIT bytes of `values[0, n)`: stream k (n bytes) holds byte k of every value's
 * little-endian IEEE 754 bytes, so the slowly changing sign/exponent/high mantissa bytes of
 * prices and volumes sit together for the compressor.
 */
export function encodeByteStreamSplit(values: Float64Array, n: number): Uint8Array {
  const out = new Uint8Array(8 * n);
  if (!LITTLE_ENDIAN_HOST) {
    const source = encodePlainDouble(values, n);
    for (let k = 0; k < 8; k++) for (let i = 0; i < n; i++) out[k * n + i] = source[8 * i + k]!;
    return out;
  }
  // Two 32-bit reads a value instead of eight strided byte reads.
  const words = new Uint32Array(values.buffer, values.byteOffset, 2 * n);
  for (let i = 0; i < n; i++) {
    const low = words[2 * i]!;
    const high = words[2 * i + 1]!;
    out[i] = low;
    out[n + i] = low >>> 8;
    out[2 * n + i] = low >>> 16;
    out[3 * n + i] = low >>> 24;
    out[4 * n + i] = high;
    out[5 * n + i] = high >>> 8;
    out[6 * n + i] = high >>> 16;
    out[7 * n + i] = high >>> 24;
  }
  return out;
}

/** Reads n = target.length PLAIN INT64 values at `offset` of `view` as doubles (exact for safe integers, else rounded once like Number(bigint)). */
export function decodePlainInt64(view: DataView, offset: number, target: Float64Array): void {
  for (let i = 0, p = offset; i < target.length; i++, p += 8) {
    target[i] = view.getInt32(p + 4, true) * TWO_POW_32 + view.getUint32(p, true);
  }
}

/** Reads n = target.length PLAIN DOUBLE values at `offset` of `bytes`. */
export function decodePlainDouble(bytes: Uint8Array, offset: number, target: Float64Array): void {
  const n = target.length;
  if (LITTLE_ENDIAN_HOST) {
    new Uint8Array(target.buffer, target.byteOffset, 8 * n).set(bytes.subarray(offset, offset + 8 * n));
    return;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < n; i++) target[i] = view.getFloat64(offset + 8 * i, true);
}

/** Reads n = target.length BYTE_STREAM_SPLIT doubles at `offset` of `bytes` (8 streams of n bytes). */
export function decodeByteStreamSplit(bytes: Uint8Array, offset: number, target: Float64Array): void {
  const n = target.length;
  if (!LITTLE_ENDIAN_HOST) {
    const plain = new Uint8Array(8 * n);
    for (let k = 0; k < 8; k++) for (let i = 0; i < n; i++) plain[8 * i + k] = bytes[offset + k * n + i]!;
    decodePlainDouble(plain, 0, target);
    return;
  }
  // Two 32-bit writes a value instead of eight strided byte writes.
  const words = new Uint32Array(target.buffer, target.byteOffset, 2 * n);
  const b = bytes;
  const o = offset;
  for (let i = 0; i < n; i++) {
    words[2 * i] = (b[o + i]! | (b[o + n + i]! << 8) | (b[o + 2 * n + i]! << 16) | (b[o + 3 * n + i]! << 24)) >>> 0;
    words[2 * i + 1] = (b[o + 4 * n + i]! | (b[o + 5 * n + i]! << 8) | (b[o + 6 * n + i]! << 16) | (b[o + 7 * n + i]! << 24)) >>> 0;
  }
}
