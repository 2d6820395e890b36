/**
 * The retry policy of conditional index writes (lib/store/record-writer.ts): bounded,
 * exponential, jittered; and one process's writes to one record never conflict with each other.
 */
import { describe, expect, it } from 'vitest';
import { ConflictError } from '../../lib/domain/errors.ts';
import { conflictBackoffMs, createRecordWriter, MAX_UPDATE_TRIES } from '../../lib/store/record-writer.ts';
import type { CoverageIndex, PeriodRecord } from '../../lib/store/types.ts';

describe('conflictBackoffMs', () => {
  it.each([
    [1, 10, 20], [2, 20, 40], [3, 40, 80], [6, 320, 640], [7, 500, 1000], [12, 500, 1000],
  ])('waits between %i → [%i, %i] ms, from the low end (random 0) to the high end (random 1)', (attempt, low, high) => {
    expect(conflictBackoffMs(attempt, () => 0)).toBe(low);
    expect(conflictBackoffMs(attempt, () => 0.999999)).toBeCloseTo(high, 2);
  });

  it('keeps the whole retry budget bounded (under 7 s) and spreads racing workers apart', () => {
    const worst = Array.from({ length: MAX_UPDATE_TRIES - 1 }, (_, i) => conflictBackoffMs(i + 1, () => 1)).reduce((a, b) => a + b, 0);
    expect(worst).toBeLessThan(7_000);
    expect(new Set(Array.from({ length: 20 }, () => conflictBackoffMs(3))).size).toBeGreaterThan(1);
  });
});

/** An in-memory index with the contract's conditional put, counting conflicts. */
function memoryIndex(): Pick<CoverageIndex, 'query' | 'put' | 'scan'> & { conflicts: number } {
  const records = new Map<string, PeriodRecord>();
  const index = {
    conflicts: 0,
    async query(datasetId: string, from: string, to: string) {
      return [...records.values()].filter((r) => r.datasetId === datasetId && r.period >= from && r.period <= to);
    },
    async put(record: PeriodRecord) {
      await new Promise((resolve) => setTimeout(resolve, 1)); // a round trip, so concurrent writers interleave
      if ((records.get(record.period)?.version ?? 0) !== record.version - 1) {
        index.conflicts++;
        throw new ConflictError('stale');
      }
      records.set(record.period, record);
    },
    async *scan() { yield* records.values(); },
  };
  return index;
}

describe('createRecordWriter', () => {
  it('applies 50 concurrent updates of one record from one process without a single conflict', async () => {
    const index = memoryIndex();
    const writer = createRecordWriter(index);
    await Promise.all(Array.from({ length: 50 }, (_, i) => writer.update('d', '2024-01', (current) => ({
      datasetId: 'd', period: '2024-01', granularity: 'monthly', parts: [], canonical: undefined,
      covered: [...(current?.covered ?? []), { startMs: i * 10, endMs: i * 10 + 5 }],
    }))));
    const [record] = await index.query('d', '2024-01', '2024-01');
    expect(record!.version).toBe(50);
    expect(record!.covered).toHaveLength(50);
    expect(index.conflicts).toBe(0);
  });
});
