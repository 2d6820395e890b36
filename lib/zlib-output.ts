/**
 * Output options for a node:zlib sync call whose output size is known before it runs: a ZSTD
 * Parquet page (its page header says; parquet-page-codecs.ts) and the CSV member of a Vision zip
 * (its central directory says; sources/zip-member.ts).
 */

/**
 * Bytes an output buffer holds past the expected output. node:zlib's sync loop (lib/zlib.js
 * processChunkSync) allocates a further chunk whenever one ends exactly full, and joins several
 * chunks with a copy: with this room an output of the expected size is one chunk, one allocation.
 */
export const ZLIB_OUTPUT_SLACK = 8;

/**
 * `{ chunkSize, maxOutputLength }` for an output of `size` bytes: one chunk of `size` +
 * ZLIB_OUTPUT_SLACK (at least zlib's minimum, 64; at most `maxChunkBytes`, past which the output
 * comes in chunks of that size, joined at the end), and a longer output refused: zlib throws a
 * RangeError (code ERR_BUFFER_TOO_LARGE) as soon as it passes `size`.
 */
export function knownSizeOutput(size: number, maxChunkBytes = Number.MAX_SAFE_INTEGER): { chunkSize: number; maxOutputLength: number } {
  return { chunkSize: Math.min(maxChunkBytes, Math.max(64, size + ZLIB_OUTPUT_SLACK)), maxOutputLength: Math.max(1, size) };
}
