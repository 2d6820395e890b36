/**
 * Contract tests every ObjectStore, CoverageIndex, LeaseStore and CacheStatsStore implementation
 * must pass (local files, S3, DynamoDB), so the cache behaves the same on a laptop and in AWS
 * (DESIGN.md, Storage; issue 3). Call them inside a test file:
 * `describeObjectStoreContract('fs', async () => ({ store, cleanup }))`.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConflictError, InvalidInputError } from '../../lib/domain/errors.ts';
import type { CacheCounters, CacheStatsStore, CoverageIndex, LeaseStore, ObjectStore, PeriodRecord } from '../../lib/store/types.ts';

/** Builds a fresh, empty store per test and removes it afterwards. */
export type CreateObjectStore = () => Promise<{ store: ObjectStore; cleanup(): Promise<void> }>;
/** Builds a fresh, empty index per test and removes it afterwards. */
export type CreateCoverageIndex = () => Promise<{ index: CoverageIndex; cleanup(): Promise<void> }>;
/** Builds a fresh lease store with no lease per test and removes it afterwards. */
export type CreateLeaseStore = () => Promise<{ leases: LeaseStore; cleanup(): Promise<void> }>;
/** Builds a fresh stats store with no counters per test and removes it afterwards. */
export type CreateCacheStatsStore = () => Promise<{ stats: CacheStatsStore; cleanup(): Promise<void> }>;

const bytes = (...values: number[]): Uint8Array => new Uint8Array(values);

/**
 * put/get/delete/list semantics and key validation of an ObjectStore. `enforcesConditions`:
 * false for a server that ignores conditional headers (s3rver), whose refusals cannot be tested
 * against it (the S3 store's conditional path is tested against test/helpers/conditional-s3.ts instead).
 */
export function describeObjectStoreContract(name: string, create: CreateObjectStore, options: { enforcesConditions: boolean } = { enforcesConditions: true }): void {
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

    it('tags each version: getTagged returns the bytes and a tag that changes with every write', async () => {
      await store.put('t/x.bin', bytes(1));
      const first = await store.getTagged('t/x.bin');
      expect(Array.from(first!.body)).toEqual([1]);
      await store.put('t/x.bin', bytes(2), { ifMatch: first!.tag });
      const second = await store.getTagged('t/x.bin');
      expect(Array.from(second!.body)).toEqual([2]);
      expect(second!.tag).not.toBe(first!.tag);
      expect(await store.getTagged('t/none.bin')).toBeUndefined();
      await store.put('t/new.bin', bytes(3), { ifNoneMatch: true });
      expect(Array.from((await store.get('t/new.bin'))!)).toEqual([3]);
    });

    it.skipIf(!options.enforcesConditions)('refuses a conditional write whose condition no longer holds, with ConflictError, and keeps the object', async () => {
      await store.put('t/x.bin', bytes(1));
      const read = await store.getTagged('t/x.bin');
      await store.put('t/x.bin', bytes(2), { ifMatch: read!.tag }); // a newer writer
      await expect(store.put('t/x.bin', bytes(9), { ifMatch: read!.tag })).rejects.toBeInstanceOf(ConflictError);
      await expect(store.put('t/x.bin', bytes(9), { ifNoneMatch: true })).rejects.toBeInstanceOf(ConflictError);
      expect(Array.from((await store.get('t/x.bin'))!)).toEqual([2]);
      const racers = await Promise.allSettled(Array.from({ length: 6 }, (_, i) => store.put('t/y.bin', bytes(i), { ifNoneMatch: true })));
      expect(racers.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
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

    it('stores a first record at version 1 and returns it unchanged (a ref with a CRC-32 and one from before it was kept)', async () => {
      const canonical = { key: 'binance/spot/klines/monthly/BTCUSDT/1h/2024-01.parquet', rows: 10, sha256: 'cd'.repeat(32), sizeBytes: 900, crc32: 4_294_967_295, sources: ['vision', 'rest'] as const };
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

    it('keeps the first and last open_time of object refs (issue 10, the listing), and refs without them stay without', async () => {
      const part = { ...sampleRecord().parts[0]!, firstOpenMs: 1_704_067_200_000, lastOpenMs: 1_706_742_000_000 };
      const canonical = { key: 'binance/spot/klines/monthly/BTCUSDT/1h/2024-02.parquet', rows: 5, sha256: 'cd'.repeat(32), sizeBytes: 600, sources: ['rest'] as const, firstOpenMs: 0, lastOpenMs: 1 };
      const january = sampleRecord({ parts: [part] });
      const february = sampleRecord({ period: '2024-02', parts: [], canonical });
      const march = sampleRecord({ period: '2024-03' });
      for (const record of [january, february, march]) await index.put(record);
      expect(await index.query(id, '2024-01', '2024-03')).toEqual([january, february, march]);
      expect(sortRecords(await collect(index.scan()))).toEqual([january, february, march]);
    });

    it('keeps one bounds record per dataset, versioned, out of period queries and scans', async () => {
      expect(await index.readBounds(id)).toBeUndefined();
      const listed = { datasetId: id, first: { openMs: Date.UTC(2017, 7, 17, 4), checkedAtMs: Date.UTC(2020, 11, 15) }, version: 1 };
      await index.putBounds(listed);
      await expect(index.putBounds({ ...listed, first: { openMs: null, checkedAtMs: 1 } })).rejects.toBeInstanceOf(ConflictError);
      expect(await index.readBounds(id)).toEqual({ ...listed, last: undefined });
      const delisted = { ...listed, last: { openMs: Date.UTC(2022, 7, 25, 23), checkedAtMs: Date.UTC(2022, 10, 1) }, version: 2 };
      await index.putBounds(delisted);
      expect(await index.readBounds(id)).toEqual(delisted);
      expect(await index.readBounds('binance/spot/klines/ETHUSDT/1h')).toBeUndefined();
      await index.put(sampleRecord());
      expect((await index.query(id, '0000', '9999')).map((r) => r.period)).toEqual(['2024-01']);
      expect((await collect(index.scan())).map((r) => r.period)).toEqual(['2024-01']);
    });

    it('scans nothing from an empty index', async () => {
      expect(await collect(index.scan())).toEqual([]);
    });

    it('scans every record of every dataset once, at its latest version', async () => {
      const eth = 'binance/um/klines/ETHUSDT/1d';
      const stored = [
        sampleRecord({ period: '2024-01' }),
        sampleRecord({ period: '2024-02', canonical: { key: 'k/2024-02.parquet', rows: 1, sha256: 'ef'.repeat(32), sizeBytes: 10, sources: ['rest'] } }),
        sampleRecord({ datasetId: eth, period: '2023', granularity: 'yearly', parts: [] }),
        sampleRecord({ datasetId: 'binance/spot/klines/BTCUSDT/1s', period: '2024-01-15', granularity: 'daily' }),
      ];
      for (const record of stored) await index.put(record);
      const updated = sampleRecord({ datasetId: eth, period: '2023', granularity: 'yearly', parts: [], covered: [], version: 2 });
      await index.put(updated);
      const expected = [stored[0], stored[1], updated, stored[3]];
      expect(sortRecords(await collect(index.scan()))).toEqual(sortRecords(expected as PeriodRecord[]));
    });
  });
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

function sortRecords(records: readonly PeriodRecord[]): PeriodRecord[] {
  const keyOf = (r: PeriodRecord): string => `${r.datasetId}\u0000${r.period}`;
  return [...records].sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : keyOf(a) > keyOf(b) ? 1 : 0));
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Lease semantics (issue 3: workers racing for one gap fetch it once; a crashed worker blocks
 * the others only until its lease expires). Expiry tests use a 50 ms ttl and wait well past it.
 */
export function describeLeaseStoreContract(name: string, create: CreateLeaseStore): void {
  describe(`LeaseStore contract: ${name}`, () => {
    let leases: LeaseStore;
    let cleanup: () => Promise<void>;
    beforeEach(async () => ({ leases, cleanup } = await create()));
    afterEach(async () => cleanup());
    const id = 'binance/spot/klines/BTCUSDT/1m';
    const key = 'vision-2024-01';
    const longMs = 60_000;

    it('gives a free lease to its first owner and refuses a second owner while it is held', async () => {
      expect(await leases.acquire(id, key, 'worker-a', longMs)).toBe(true);
      expect(await leases.acquire(id, key, 'worker-b', longMs)).toBe(false);
      expect(await leases.acquire(id, key, 'worker-c', longMs)).toBe(false);
    });

    it('keeps leases of other keys and other datasets independent', async () => {
      expect(await leases.acquire(id, key, 'worker-a', longMs)).toBe(true);
      expect(await leases.acquire(id, 'vision-2024-02', 'worker-b', longMs)).toBe(true);
      expect(await leases.acquire('binance/um/klines/BTCUSDT/1m', key, 'worker-c', longMs)).toBe(true);
    });

    it('lets the holder renew, which extends the expiry', async () => {
      expect(await leases.acquire(id, key, 'worker-a', 50)).toBe(true);
      expect(await leases.acquire(id, key, 'worker-a', longMs)).toBe(true);
      await sleep(200);
      expect(await leases.acquire(id, key, 'worker-b', longMs)).toBe(false);
    });

    it('lets another owner take over an expired lease, after which the old holder is refused', async () => {
      expect(await leases.acquire(id, key, 'crashed', 50)).toBe(true);
      await sleep(200);
      expect(await leases.acquire(id, key, 'worker-b', longMs)).toBe(true);
      expect(await leases.acquire(id, key, 'crashed', longMs)).toBe(false);
    });

    it('ignores a release by someone who does not hold the lease', async () => {
      expect(await leases.acquire(id, key, 'worker-a', longMs)).toBe(true);
      await leases.release(id, key, 'worker-b');
      await leases.release(id, 'never-taken', 'worker-b');
      expect(await leases.acquire(id, key, 'worker-c', longMs)).toBe(false);
    });

    it('frees the lease when its holder releases it', async () => {
      expect(await leases.acquire(id, key, 'worker-a', longMs)).toBe(true);
      await leases.release(id, key, 'worker-a');
      expect(await leases.acquire(id, key, 'worker-b', longMs)).toBe(true);
      expect(await leases.acquire(id, key, 'worker-a', longMs)).toBe(false);
    });

    it('gives a lease to exactly one of many concurrent acquirers', async () => {
      const owners = Array.from({ length: 10 }, (_, i) => `worker-${i}`);
      const won = await Promise.all(owners.map((owner) => leases.acquire(id, key, owner, longMs)));
      expect(won.filter(Boolean)).toHaveLength(1);
      const winner = owners[won.indexOf(true)]!;
      expect(await leases.acquire(id, key, winner, longMs)).toBe(true);
      expect(await leases.acquire(id, key, 'late-comer', longMs)).toBe(false);
    });

    it('gives an expired lease to exactly one of many concurrent acquirers', async () => {
      expect(await leases.acquire(id, key, 'crashed', 50)).toBe(true);
      await sleep(200);
      const owners = Array.from({ length: 10 }, (_, i) => `worker-${i}`);
      const won = await Promise.all(owners.map((owner) => leases.acquire(id, key, owner, longMs)));
      expect(won.filter(Boolean)).toHaveLength(1);
    });
  });
}

/** Every counter at 0. */
const ZERO: CacheCounters = {
  requests: 0, hits: 0, misses: 0, errors: 0, rowsServed: 0, rowsFromCache: 0, visionFiles: 0, restRequests: 0, restWeight: 0,
  corruptObjects: 0, cleanupFailures: 0,
};

/** Atomic counter semantics of a CacheStatsStore (issue 3: `klines stats`). */
export function describeCacheStatsStoreContract(name: string, create: CreateCacheStatsStore): void {
  describe(`CacheStatsStore contract: ${name}`, () => {
    let stats: CacheStatsStore;
    let cleanup: () => Promise<void>;
    beforeEach(async () => ({ stats, cleanup } = await create()));
    afterEach(async () => cleanup());
    const id = 'binance/spot/klines/BTCUSDT/1m';

    it('reads no dataset before any add', async () => {
      expect((await stats.read()).size).toBe(0);
    });

    it('accumulates adds, counting missing counters as 0', async () => {
      await stats.add(id, { requests: 1, hits: 1, rowsServed: 60, rowsFromCache: 60 });
      await stats.add(id, { requests: 1, misses: 1, rowsServed: 1440, rowsFromCache: 0, visionFiles: 1, restRequests: 2, restWeight: 4 });
      await stats.add(id, { requests: 1, errors: 1 });
      expect(await stats.read()).toEqual(new Map([[id, {
        ...ZERO, requests: 3, hits: 1, misses: 1, errors: 1, rowsServed: 1500, rowsFromCache: 60, visionFiles: 1, restRequests: 2, restWeight: 4,
      }]]));
    });

    it('loses no add among many concurrent ones', async () => {
      await Promise.all(Array.from({ length: 25 }, (_, i) => stats.add(id, { requests: 1, rowsServed: i, restWeight: 2 })));
      expect((await stats.read()).get(id)).toEqual({ ...ZERO, requests: 25, rowsServed: 300, restWeight: 50 });
    });

    it('reads the totals of every dataset, each separately', async () => {
      const ids = ['binance/spot/klines/BTCUSDT/1m', 'binance/um/klines/ETHUSDT/1h', 'binance/cm/klines/BTCUSD_PERP/1d', 'binance/spot/klines/BTCUSDT/1s'];
      await Promise.all(ids.map((dataset, i) => stats.add(dataset, { requests: i + 1, hits: i })));
      await stats.add(ids[0]!, { misses: 7 });
      const read = await stats.read();
      expect([...read.keys()].sort()).toEqual([...ids].sort());
      ids.forEach((dataset, i) => expect(read.get(dataset)).toEqual({ ...ZERO, requests: i + 1, hits: i, misses: i === 0 ? 7 : 0 }));
    });
  });
}
