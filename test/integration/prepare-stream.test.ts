/**
 * prepareStream (prepare-stream.ts), the handlers' long answers: the gaps are filled first, then
 * the answer is read back from the cache period by period. On the embedded local default against
 * the fake Binance serving the real files, its rows, sources and statistics are those of one
 * getKlines on an identical cache, cold, partly cached and warm; warm it costs 1 index query.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../lib/config.ts';
import type { CacheHandles } from '../../lib/create-service.ts';
import type { Dataset } from '../../lib/domain/kline.ts';
import { sourcedRowsFromColumns, type SourcedColumns } from '../../lib/domain/kline-columns.ts';
import { KlinesError } from '../../lib/domain/errors.ts';
import { buildService, buildStreamPreparer, createFsCacheHandles } from '../../lib/open-service.ts';
import { startFakeBinance, type FakeBinance } from '../helpers/fake-binance.ts';

const t = (iso: string): number => Date.parse(iso);
const BTC_1H: Dataset = { market: 'spot', symbol: 'BTCUSDT', interval: '1h' };
const NOW = '2020-12-15T10:30:00Z';
const RANGE = { startMs: t('2020-06-01T00:00:00Z'), endMs: t('2020-12-15T09:00:00Z') + 1 };

let fake: FakeBinance;
const dirs: string[] = [];

beforeEach(async () => {
  fake = await startFakeBinance({ nowMs: t(NOW) });
  return async () => {
    await fake.close();
    await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  };
});

/** A fresh local cache with the service and the stream preparer on it, counting index queries and statistics adds. */
async function build() {
  const cacheDir = await mkdtemp(join(tmpdir(), 'klines-prepare-'));
  dirs.push(cacheDir);
  const config = loadConfig({
    KLINES_CACHE_DIR: cacheDir, KLINES_NOW: NOW, BINANCE_VISION_URL: fake.visionUrl,
    BINANCE_SPOT_API_URL: fake.spotApiUrl, BINANCE_UM_API_URL: fake.umApiUrl, BINANCE_CM_API_URL: fake.cmApiUrl,
  });
  const local = createFsCacheHandles(config);
  const calls = { queries: 0, statsAdds: [] as Record<string, number>[] };
  const handles: CacheHandles = {
    ...local,
    index: { ...local.index, query: (...args) => (calls.queries++, local.index.query(...args)) },
    stats: { ...local.stats, add: (id, counters) => (calls.statsAdds.push({ ...counters }), local.stats.add(id, counters)) },
  };
  const service = buildService(config, handles);
  return { service, prepare: buildStreamPreparer(config, handles, service), calls };
}

async function rowsOf(stream: AsyncIterable<SourcedColumns>) {
  const rows = [];
  for await (const chunk of stream) rows.push(...sourcedRowsFromColumns(chunk));
  return rows;
}

const ROW_COUNTS = ['rowsFromCache', 'rowsFromVision', 'rowsFromRest', 'visionFiles', 'restRequests', 'restWeight', 'gaps'] as const;
const counts = (stats: Record<(typeof ROW_COUNTS)[number], number>) => Object.fromEntries(ROW_COUNTS.map((key) => [key, stats[key]]));

describe('prepareStream (spot BTCUSDT 1h, replayed at 2020-12-15T10:30Z)', () => {
  it('cold: the rows, sources and statistics of one getKlines, counted once', async () => {
    const reference = await build();
    const whole = await reference.service.getKlines({ dataset: BTC_1H, range: RANGE });
    const { prepare, calls } = await build();
    const stream = await prepare({ dataset: BTC_1H, range: RANGE });
    expect(await rowsOf(stream)).toEqual(whole.rows);
    expect(new Set(whole.rows.map((row) => row.source))).toEqual(new Set(['vision', 'rest']));
    expect(counts(stream.stats)).toEqual(counts(whole.stats));
    expect(calls.statsAdds).toEqual([expect.objectContaining({ requests: 1, misses: 1, hits: 0, rowsServed: whole.rows.length })]);
  });

  it('partly cached: cached rows say cache, fetched rows where they came from, as getKlines says', async () => {
    const before = { dataset: BTC_1H, range: { startMs: t('2020-08-10T00:00:00Z'), endMs: t('2020-09-20T00:00:00Z') } };
    const reference = await build();
    await reference.service.getKlines(before);
    const whole = await reference.service.getKlines({ dataset: BTC_1H, range: RANGE });
    const { service, prepare } = await build();
    await service.getKlines(before);
    const stream = await prepare({ dataset: BTC_1H, range: RANGE });
    expect(await rowsOf(stream)).toEqual(whole.rows);
    expect(new Set(whole.rows.map((row) => row.source))).toEqual(new Set(['cache', 'vision', 'rest']));
    expect(counts(stream.stats)).toEqual(counts(whole.stats));
  });

  it('warm: 1 index query in all, no upstream request, every row from the cache', async () => {
    const { service, prepare, calls } = await build();
    const whole = await service.getKlines({ dataset: BTC_1H, range: RANGE });
    fake.clearRequests();
    calls.queries = 0;
    const stream = await prepare({ dataset: BTC_1H, range: RANGE });
    const rows = await rowsOf(stream);
    expect(rows.map(({ source: _s, ...row }) => row)).toEqual(whole.rows.map(({ source: _s, ...row }) => row));
    expect(rows.every((row) => row.source === 'cache')).toBe(true);
    expect(calls.queries).toBe(1);
    expect(fake.requests).toEqual([]);
  });

  it('a signal aborted before the fill ends rejects with DEADLINE_REACHED, and nothing is streamed', async () => {
    const { prepare } = await build();
    fake.inject('/data/spot/monthly/klines/BTCUSDT/1h/', { kind: 'delay', ms: 1_000 }, 10);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 200);
    const error = await prepare({ dataset: BTC_1H, range: RANGE, signal: controller.signal }).then(() => undefined, (caught: unknown) => caught);
    expect(error).toBeInstanceOf(KlinesError);
    expect((error as KlinesError).code).toBe('DEADLINE_REACHED');
  });
});
