/**
 * The sync's library side (lib/service/sync.ts) on the local default against the fake Binance:
 * fill-only calls read nothing back, and many datasets share one service's upstream limits.
 * Counting wrappers (no mocks) prove how many reads and how many fetches at once happened.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createKlinesService } from '../../lib/service/klines-service.ts';
import { resolveSyncQuery, runSync } from '../../lib/service/sync.ts';
import { createHttpClient } from '../../lib/sources/http-client.ts';
import { createRestClient } from '../../lib/sources/rest-client.ts';
import type { RestSource, VisionSource } from '../../lib/sources/types.ts';
import { createVisionClient } from '../../lib/sources/vision-client.ts';
import { createFsCoverageIndex } from '../../lib/store/fs-coverage-index.ts';
import { createFsLeaseStore } from '../../lib/store/fs-lease-store.ts';
import { createFsObjectStore } from '../../lib/store/fs-object-store.ts';
import { createKlineCache } from '../../lib/store/kline-cache.ts';
import type { ObjectStore } from '../../lib/store/types.ts';
import { expectedKlines } from '../helpers/expected.ts';
import { startFakeBinance, type FakeBinance } from '../helpers/fake-binance.ts';

const t = (iso: string): number => Date.parse(iso);
const NOW = '2022-11-01T00:00:00Z';

let fake: FakeBinance;
let cacheDir: string;
beforeAll(async () => {
  fake = await startFakeBinance({ nowMs: t(NOW) });
});
afterAll(async () => {
  await fake.close();
});
beforeEach(async () => {
  cacheDir = await mkdtemp(join(tmpdir(), 'klines-sync-service-'));
  fake.clearRequests();
  return () => rm(cacheDir, { recursive: true, force: true });
});

/** Keys read, in order. */
function countingStore(store: ObjectStore, reads: string[]): ObjectStore {
  return { ...store, get: (key) => (reads.push(key), store.get(key)) };
}

/** Runs `call` counting how many run at once; `peak.max` is the most seen. */
function trackConcurrency<A extends unknown[], R>(call: (...args: A) => Promise<R>, peak: { now: number; max: number }): (...args: A) => Promise<R> {
  return async (...args) => {
    peak.now++;
    peak.max = Math.max(peak.max, peak.now);
    try {
      return await call(...args);
    } finally {
      peak.now--;
    }
  };
}

function buildService(options: { reads?: string[]; visionPeak?: { now: number; max: number }; restPeak?: { now: number; max: number } } = {}) {
  const http = createHttpClient();
  const vision = createVisionClient({ baseUrl: fake.visionUrl, http });
  const rest = createRestClient({ spotUrl: fake.spotApiUrl, umUrl: fake.umApiUrl, cmUrl: fake.cmApiUrl, http });
  const trackedVision: VisionSource = options.visionPeak ? { fetchFile: trackConcurrency(vision.fetchFile, options.visionPeak) } : vision;
  const trackedRest: RestSource = options.restPeak ? { ...rest, fetchRange: trackConcurrency(rest.fetchRange, options.restPeak) } : rest;
  const store = countingStore(createFsObjectStore(cacheDir), options.reads ?? []);
  return createKlinesService({
    cache: createKlineCache({ store, index: createFsCoverageIndex(cacheDir) }), leases: createFsLeaseStore(cacheDir),
    vision: trackedVision, rest: trackedRest, nowMs: () => t(NOW), visionConcurrency: 3, restConcurrency: 1,
  });
}

describe('runSync', () => {
  it('fills without reading cached rows back: a fill-only call over a cached range reads none of its objects', async () => {
    const reads: string[] = [];
    const service = buildService({ reads });
    const dataset = { market: 'um', symbol: 'BTCUSDT', interval: '1m' } as const;
    await service.getKlines({ dataset, range: { startMs: t('2022-09-05'), endMs: t('2022-09-06') } });
    reads.length = 0;
    const filled = await service.getKlines({ dataset, range: { startMs: t('2022-09-05'), endMs: t('2022-09-07') }, fillOnly: true });
    expect(reads).toEqual([]);
    // Only the day fetched now is in the answer; the cached day was not read.
    expect(filled.columns.length).toBe(1440);
    expect(filled.stats).toMatchObject({ rowsFromVision: 1440, rowsFromCache: 0, visionFiles: 1 });
    const all = await service.getKlines({ dataset, range: { startMs: t('2022-09-05'), endMs: t('2022-09-07') } });
    expect(Array.from(all.columns.open_time.subarray(0, all.columns.length))).toEqual(
      expectedKlines('um', 'BTCUSDT', '1m', t('2022-09-05'), t('2022-09-06T23:59:00Z')).map((row) => row.open_time),
    );
  });

  it('runs many datasets through one service, never past its Vision and REST limits, and reports each', async () => {
    const visionPeak = { now: 0, max: 0 };
    const restPeak = { now: 0, max: 0 };
    const service = buildService({ visionPeak, restPeak });
    const queries = await resolveSyncQuery(
      { market: 'um', symbols: 'BTCUSDT,ETHUSDT', intervals: '1m,1h', start: '2022-08-24', end: '2022-09-06T23:59:00Z' },
      t(NOW), async () => [],
    );
    const progress: number[] = [];
    const results = await runSync(service, queries, { datasetConcurrency: 4, onProgress: (p) => progress.push(p.datasetsDone) });
    expect(results.map((r) => [r.datasetId, r.rowsAdded, r.error])).toEqual([
      ['binance/um/klines/BTCUSDT/1m', 2880, undefined], ['binance/um/klines/BTCUSDT/1h', 0, undefined],
      ['binance/um/klines/ETHUSDT/1m', 0, undefined], ['binance/um/klines/ETHUSDT/1h', 48, undefined],
    ]);
    expect(visionPeak.max).toBeLessThanOrEqual(3);
    expect(restPeak.max).toBe(1);
    expect(progress.at(-1)).toBe(4);
    // Weight 2 a page of 499 rows; the one-row lookups of a dataset's first and latest candle
    // (issue 8, listing dates) weigh 1 on futures.
    const weights = fake.requests.filter((r) => r.kind === 'rest').map((r) => (r.query.limit === '1' ? 1 : 2));
    expect(results.reduce((sum, r) => sum + r.restWeight, 0)).toBe(weights.reduce((sum, w) => sum + w, 0));
  });
});
