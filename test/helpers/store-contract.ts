/**
 * Contract tests every ObjectStore and CoverageIndex implementation must pass (fs now; S3 and
 * DynamoDB later), so the cache behaves the same on a laptop and in AWS (DESIGN.md, Storage).
 * Call them inside a test file: `describeObjectStoreContract('fs', async () => ({ store, cleanup }))`.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConflictError, InvalidInputError } from '../../lib/domain/errors.ts';
import type { CoverageIndex, ObjectStore, PeriodRecord } from '../../lib/store/types.ts';

/** Builds a fresh, empty store per test and removes it afterwards. */
export type CreateObjectStore = () => Promise<{ store: ObjectStore; cleanup(): Promise<void> }>;
/** Builds a fresh, empty index per test and removes it afterwards. */
export type CreateCoverageIndex = () => Promise<{ index: CoverageIndex; cleanup(): Promise<void> }>;

const bytes = (...values: number[]): Uint8Array => new Uint8Array(values);

/** put/get/delete/list semantics and key validation of an ObjectStore. */
export function describeObjectStoreContract(name: string, create: CreateObjectStore): void {
  describe(`ObjectStore contract: ${name}`, () => {
    let store: ObjectStore;
    let cleanup: () => Promise<void>;
    beforeEach(async () => ({ store, cleanup } = await create()));
    afterEach(async () => cleanup());

    it('returns undefined for a key never written', async () => {
      expect(await store.get('binance/spot/none.parquet')).toBeUndefined();
    });

    it('returns exactly the bytes put, including every byte value and an empty body', async () => {
      const all = new Uint8Array(256).map((_, i) => i);
      await store.put('a/all.bin', all);
      await store.put('a/empty.bin', new Uint8Array(0));
      expect(Array.from((await store.get('a/all.bin'))!)).toEqual(Array.from(all));
      expect((await store.get('a/empty.bin'))!.byteLength).toBe(0);
    });

    it('overwrites an existing key with the new body', async () => {
      await store.put('a/x.bin', bytes(1, 2, 3));
      await store.put('a/x.bin', bytes(9));
      expect(Array.from((await store.get('a/x.bin'))!)).toEqual([9]);
    });

    it('deletes a key, and deleting a missing key is not an error', async () => {
      await store.put('a/x.bin', bytes(1));
      await store.delete('a/x.bin');
      await store.delete('a/x.bin');
      await store.delete('never/was.bin');
      expect(await store.get('a/x.bin')).toBeUndefined();
      expect(await store.list('a/')).toEqual([]);
    });

    it('lists keys under a prefix, recursively and sorted', async () => {
      const keys = ['d/m/2024-02.parquet', 'd/m/2024-01.parquet', 'd/m/2024-01.parts/2.parquet', 'd/m/2024-01.parts/1.parquet', 'd/n/2024.parquet', 'e/x.parquet'];
      for (const key of keys) await store.put(key, bytes(1));
      expect(await store.list('d/m/')).toEqual(['d/m/2024-01.parquet', 'd/m/2024-01.parts/1.parquet', 'd/m/2024-01.parts/2.parquet', 'd/m/2024-02.parquet']);
      expect(await store.list('d/m/2024-01')).toEqual(['d/m/2024-01.parquet', 'd/m/2024-01.parts/1.parquet', 'd/m/2024-01.parts/2.parquet']);
      expect(await store.list('d/')).toHaveLength(5);
      expect(await store.list('zzz/')).toEqual([]);
    });

    it('keeps every object of concurrent puts to different keys', async () => {
      const keys = Array.from({ length: 20 }, (_, i) => `c/k${String(i).padStart(2, '0')}.bin`);
      await Promise.all(keys.map((key, i) => store.put(key, bytes(i))));
      expect(await store.list('c/')).toEqual(keys);
      expect(Array.from((await store.get('c/k07.bin'))!)).toEqual([7]);
    });

    it.each(['', '/abs/key', '../escape', 'a/../b', 'a//b', 'a/./b', 'a\\b', 'trailing/'])('rejects the key %j with InvalidInputError', async (key) => {
      await expect(store.put(key, bytes(1))).rejects.toBeInstanceOf(InvalidInputError);
      await expect(store.get(key)).rejects.toBeInstanceOf(InvalidInputError);
      await expect(store.delete(key)).rejects.toBeInstanceOf(InvalidInputError);
    });
  });
}

/** A record for the contract tests. */
export function sampleRecord(overrides: Partial<PeriodRecord> = {}): PeriodRecord {
  return {
    datasetId: 'binance/spot/klines/BTCUSDT/1h',
    period: '2024-01',
    granularity: 'monthly',
    covered: [{ startMs: 1_704_067_200_000, endMs: 1_706_745_600_000 }],
    parts: [{ key: 'binance/spot/klines/monthly/BTCUSDT/1h/2024-01.parts/p1.parquet', rows: 744, sha256: 'ab'.repeat(32), sizeBytes: 50_000, sources: ['vision'] }],
    version: 1,
    ...overrides,
  };
}

/** Conditional put, query bounds and ordering, and the single winner of concurrent puts. */
export function describeCoverageIndexContract(name: string, create: CreateCoverageIndex): void {
  describe(`CoverageIndex contract: ${name}`, () => {
    let index: CoverageIndex;
    let cleanup: () => Promise<void>;
    beforeEach(async () => ({ index, cleanup } = await create()));
    afterEach(async () => cleanup());
    const id = 'binance/spot/klines/BTCUSDT/1h';

    it('returns no records for an unknown dataset', async () => {
      expect(await index.query(id, '0000', '9999')).toEqual([]);
    });

    it('stores a first record at version 1 and returns it unchanged', async () => {
      const canonical = { key: 'binance/spot/klines/monthly/BTCUSDT/1h/2024-01.parquet', rows: 10, sha256: 'cd'.repeat(32), sizeBytes: 900, sources: ['vision', 'rest'] as const };
      const record = sampleRecord({ canonical });
      await index.put(record);
      expect(await index.query(id, '2024-01', '2024-01')).toEqual([record]);
    });

    it('accepts only version stored + 1: a second version 1 conflicts, version 2 succeeds, a skipped version conflicts', async () => {
      await index.put(sampleRecord({ version: 1 }));
      await expect(index.put(sampleRecord({ version: 1, parts: [] }))).rejects.toBeInstanceOf(ConflictError);
      await expect(index.put(sampleRecord({ version: 3 }))).rejects.toBeInstanceOf(ConflictError);
      const second = sampleRecord({ version: 2, parts: [], covered: [] });
      await index.put(second);
      expect(await index.query(id, '2024-01', '2024-01')).toEqual([second]);
    });

    it('rejects a version-2 write when there is no record yet', async () => {
      await expect(index.put(sampleRecord({ version: 2 }))).rejects.toBeInstanceOf(ConflictError);
      expect(await index.query(id, '2024-01', '2024-01')).toEqual([]);
    });

    it('queries period keys between the bounds inclusive, in period order, within one dataset', async () => {
      for (const period of ['2024-03', '2023-12', '2024-05', '2024-01', '2024-02', '2024-04']) await index.put(sampleRecord({ period }));
      await index.put(sampleRecord({ datasetId: 'binance/spot/klines/ETHUSDT/1h', period: '2024-02' }));
      const found = await index.query(id, '2024-01', '2024-04');
      expect(found.map((r) => r.period)).toEqual(['2024-01', '2024-02', '2024-03', '2024-04']);
      expect(found.every((r) => r.datasetId === id)).toBe(true);
      expect((await index.query(id, '2024-05', '2024-12')).map((r) => r.period)).toEqual(['2024-05']);
      expect(await index.query(id, '2025-01', '2025-12')).toEqual([]);
    });

    it('lets exactly one of concurrent puts of the same version win', async () => {
      const contenders = Array.from({ length: 8 }, (_, i) => sampleRecord({ covered: [{ startMs: i * 1000, endMs: i * 1000 + 500 }] }));
      const results = await Promise.allSettled(contenders.map((record) => index.put(record)));
      const winners = results.flatMap((result, i) => (result.status === 'fulfilled' ? [contenders[i]] : []));
      const losers = results.flatMap((result) => (result.status === 'rejected' ? [result.reason] : []));
      expect(winners).toHaveLength(1);
      expect(losers.every((reason) => reason instanceof ConflictError)).toBe(true);
      expect(await index.query(id, '2024-01', '2024-01')).toEqual(winners);
    });
  });
}
