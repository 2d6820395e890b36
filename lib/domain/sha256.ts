/** SHA-256 of a byte string (node:crypto), used for object refs and upstream checksums. */
import { createHash } from 'node:crypto';

/** The SHA-256 of `bytes` as 64 lower-case hex digits. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
