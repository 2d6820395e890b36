/**
 * Pure helpers of the kline cache (kline-cache.ts): merging a period's pieces, checking appended
 * rows against the answered ranges, and naming new parts.
 */
import { randomBytes } from 'node:crypto';
import { DataValidationError } from '../domain/errors.ts';
import { mergeSourcedColumns, type KlineColumns } from '../domain/kline-columns.ts';
import { formatRange, type Range } from '../domain/ranges.ts';

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
