/**
 * Helpers of the kline and funding caches (kline-cache.ts, funding-cache.ts): merging a period's
 * pieces, checking appended rows against the answered ranges, naming new parts, describing a
 * written object, writing a whole period straight to its canonical object, and recording an
 * appended part.
 */
import { randomBytes } from 'node:crypto';
import { ConflictError, DataValidationError } from '../domain/errors.ts';
import { mergeSourcedColumns, type KlineColumns } from '../domain/kline-columns.ts';
import { formatRange, sameRanges, unionRanges, type Range } from '../domain/ranges.ts';
import { sha256Hex } from '../domain/sha256.ts';
import { crc32Of } from './object-verify.ts';
import type { RecordWriter } from './record-writer.ts';
import type { Granularity } from '../domain/periods.ts';
import type { CoverageIndex, ObjectRef, ObjectStore, PutCondition, UpstreamName } from './types.ts';

/**
 * Pieces of one period (oldest first) as one sorted column set, one row per open_time, a later
 * piece winning on a shared open_time: concatenated when they do not overlap (the usual case),
 * else merged row by row.
 */
export function mergePieces(pieces: readonly KlineColumns[]): KlineColumns {
  return mergeSourcedColumns(pieces.map((columns) => ({ columns, sources: new Uint8Array(columns.length) }))).columns;
}

/** Rows (their open_times) must be sorted, one per open_time, each inside an answered range (normalized). */
export function checkRowsInside(openTimes: Float64Array, answered: readonly Range[]): void {
  let j = 0;
  let previous = -Infinity;
  for (let i = 0; i < openTimes.length; i++) {
    const openTime = openTimes[i]!;
    if (!(openTime > previous)) {
      throw new DataValidationError(`kline cache: row ${i} (open_time ${openTime}) is not after the previous row (${previous}); rows must be sorted, one per open_time`, { row: i, open_time: openTime });
    }
    previous = openTime;
    while (j < answered.length && answered[j]!.endMs <= openTime) j++;
    const range = answered[j];
    if (!range || openTime < range.startMs) {
      throw new DataValidationError(
        `kline cache: row ${i} (open_time ${new Date(openTime).toISOString()}) lies outside the answered ranges ${answered.map(formatRange).join(', ') || '(none)'}`,
        { row: i, open_time: openTime },
      );
    }
  }
}

/** Time-ordered then random, so part names sort by creation and never collide: `0001705312800123-9f2c4e1a7b3d`. */
export function newPartId(): string {
  return `${String(Date.now()).padStart(16, '0')}-${randomBytes(6).toString('hex')}`;
}

/**
 * The ref of an object just written: its key, `rows`, checksums of `body`, sorted distinct
 * sources, and the first and last row time (`times`, sorted: open_time or calc_time) when it has rows.
 */
export function describeObject(key: string, body: Uint8Array, times: Float64Array, rows: number, sources: readonly UpstreamName[]): ObjectRef {
  return {
    key, rows, sha256: sha256Hex(body), sizeBytes: body.byteLength, crc32: crc32Of(body), sources: [...new Set(sources)].sort(),
    ...(rows > 0 ? { firstOpenMs: times[0], lastOpenMs: times[rows - 1] } : {}),
  };
}

/**
 * The condition of a put that writes only over what was at the key when it was read (`existing`,
 * from getTagged): If-Match its tag, or If-None-Match when there was nothing. Another writer that
 * put meanwhile makes the put fail (ConflictError) instead of being overwritten.
 */
export function unchangedSince(existing: { readonly tag: string } | undefined): PutCondition {
  return existing ? { ifMatch: existing.tag } : { ifNoneMatch: true };
}

/**
 * Rows answering a whole period (a Vision file whose period is the cache period) into a period
 * holding no object yet go straight to its canonical object `key` (issue 9: no part, no compaction
 * rewrite): data first, written only over what was at the key when it was looked at (If-None-Match,
 * or If-Match on a crashed writer's leftover the record does not name), then the record, inside
 * `writer`'s queue for the period. `encode` (the body and its ref) runs only for an empty period.
 * Returns false, having written nothing the index points at, when the period holds objects or
 * another writer got there first; the caller then appends a part. Throws the store's and index's
 * other errors.
 */
export async function writeWholePeriodObject(
  deps: { writer: RecordWriter; store: ObjectStore; index: CoverageIndex },
  record: { datasetId: string; period: string; granularity: Granularity }, key: string, covered: readonly Range[],
  encode: () => { body: Uint8Array; ref: ObjectRef },
): Promise<boolean> {
  const { writer, store, index } = deps;
  const { datasetId: id, period, granularity } = record;
  return writer.exclusive(id, period, async () => {
    // Tag first, record second (as the compactors): a file the record does not name is a crashed
    // writer's leftover, replaced only if it is still that version.
    const existing = await store.getTagged(key);
    const current = await writer.read(id, period);
    if (current && (current.canonical || current.parts.length > 0)) return false;
    const { body, ref } = encode();
    try {
      await store.put(key, body, unchangedSince(existing));
      await index.put({ datasetId: id, period, granularity, covered: unionRanges(current?.covered ?? [], covered), parts: [], canonical: ref, version: (current?.version ?? 0) + 1 });
      return true;
    } catch (error) {
      if (error instanceof ConflictError) return false;
      throw error;
    }
  });
}

/**
 * Adds `covered` and the part `ref` (when given) to the period's record, through `writer`. A
 * retried write whose first attempt succeeded does not list the part twice, and a write that
 * changes nothing is not made. On a ConflictError the part is deleted when the index surely does
 * not name it (so no reader can need it), and the error rethrown.
 */
export async function appendPartToRecord(
  writer: RecordWriter, store: ObjectStore, record: { datasetId: string; period: string; granularity: Granularity }, covered: readonly Range[], ref: ObjectRef | undefined,
): Promise<void> {
  const { datasetId: id, period, granularity } = record;
  try {
    await writer.update(id, period, (current) => {
      const nextCovered = unionRanges(current?.covered ?? [], covered);
      const recorded = ref !== undefined && (current?.parts ?? []).some((part) => part.key === ref.key);
      if ((!ref || recorded) && current && sameRanges(nextCovered, current.covered)) return undefined;
      return {
        datasetId: id, period, granularity, covered: nextCovered,
        parts: ref && !recorded ? [...(current?.parts ?? []), ref] : current?.parts ?? [], canonical: current?.canonical,
      };
    });
  } catch (error) {
    if (ref && error instanceof ConflictError) {
      const latest = await writer.read(id, period).catch(() => undefined);
      if (latest && !latest.parts.some((part) => part.key === ref.key)) await store.delete(ref.key).catch(() => undefined);
    }
    throw error;
  }
}
