/**
 * Verify on read (issue 8, item 3): an object's bytes are checked against its index record
 * (ObjectRef) before anything from it is served. The check is size plus CRC-32 (zlib's, native:
 * about 5 GB/s, where sha256 ran at about 1 GB/s on the bench machine; bench/verify.ts measures
 * both against a warm read). CRC-32 detects every error burst up to 32 bits and any odd number
 * of flipped bits, which is what storage corruption looks like; `klines validate` still checks
 * the sha256 of every object. Refs written before the CRC-32 was recorded are checked by sha256.
 */
import { crc32 } from 'node:zlib';
import { sha256Hex } from '../domain/sha256.ts';
import type { ObjectRef } from './types.ts';

/** CRC-32 (zlib polynomial, unsigned 32-bit) of `body`, as kept in ObjectRef.crc32. */
export function crc32Of(body: Uint8Array): number {
  return crc32(body) >>> 0;
}

/**
 * Why `body` is not the object `ref` describes, or undefined when it is: `body` undefined means
 * the object is missing; else its size, then its CRC-32 (or sha256 for refs without a CRC-32),
 * must equal the ref's.
 */
export function verifyObject(body: Uint8Array | undefined, ref: ObjectRef): string | undefined {
  if (!body) return 'the object does not exist';
  if (body.byteLength !== ref.sizeBytes) return `the object is ${body.byteLength} bytes, the index recorded ${ref.sizeBytes}`;
  if (ref.crc32 !== undefined) {
    const actual = crc32Of(body);
    return actual === ref.crc32 ? undefined : `the object's CRC-32 is ${actual}, the index recorded ${ref.crc32}`;
  }
  const sha256 = sha256Hex(body);
  return sha256 === ref.sha256 ? undefined : `the object's sha256 is ${sha256}, the index recorded ${ref.sha256}`;
}
