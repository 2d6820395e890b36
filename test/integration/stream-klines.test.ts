/**
 * Answers streamed period by period (stream-klines.ts) on the embedded local default, against the
 * fake Binance serving the real files: the same rows and sources as one getKlines, the same
 * upstream requests when cold, one chunk per period and the object reads of getKlines after 1
 * index query when warm, and one statistics add per stream.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../lib/config.ts';
import type { CacheHandles } from '../../lib/create-service.ts';
import type { Dataset } from '../../lib/domain/kline.ts';
import { rowsFromColumns, sourcedRowsFromColumns, type SourcedColumns } from '../../lib/domain/kline-columns.ts';
import { buildService, buildStreamer, createFsCacheHandles } from '../../lib/open-service.ts';
import { INTERVAL_MS } from '../../lib/domain/intervals.ts';
import { granularityFor, periodsInRange } from '../../lib/domain/periods.ts';
import { batchPeriods } from '../../lib/service/stream-klines.ts';
import { expectedKlines } from '../helpers/expected.ts';
import { startFakeBinance, type FakeBinance } from '../helpers/fake-binance.ts';

const t = (iso: string): number => Date.parse(iso);
const BTC_1H: Dataset = { market: 'spot', symbol: 'BTCUSDT', interval: '1h' };
const NOW = '2020-12-15T10:30:00Z';
const RANGE = { startMs: t('2020-10-01T00:00:00Z'), endMs: t('2020-12-15T09:00:00Z') + 1 };

let fake: FakeBinance;
let cacheDir: string;

beforeEach(async () => {
  fake = await startFakeBinance();
  fake.setNow(t(NOW));
  cacheDir = await mkdtemp(join(tmpdir(), 'klines-stream-'));
  return async () => {
    await fake.close();
    await rm(cacheDir, { recursive: true, force: true });
  };
});

/** The service and streamer as the CLI builds them, with counters on the index queries, object reads and statistics adds. */
function build() {
  const config = loadConfig({
    KLINES_CACHE_DIR: cacheDir, KLINES_NOW: NOW, BINANCE_VISION_URL: fake.visionUrl,
    BINANCE_SPOT_API_URL: fake.spotApiUrl, BINANCE_UM_API_URL: fake.umApiUrl, BINANCE_CM_API_URL: fake.cmApiUrl,
  });
  const local = createFsCacheHandles(config);
  const calls = { queries: 0, gets: 0, statsAdds: [] as Record<string, number>[] };
  const handles: CacheHandles = {
    ...local,
    index: { ...local.index, query: (...args) => (calls.queries++, local.index.query(...args)) },
    store: { ...local.store, get: (key) => (calls.gets++, local.store.get(key)) },
    stats: { ...local.stats, add: (id, counters) => (calls.statsAdds.push({ ...counters }), local.stats.add(id, counters)) },
  };
  const service = buildService(config, handles);
  return { service, stream: buildStreamer(config, handles, service), calls };
}

async function drain(stream: AsyncIterable<SourcedColumns>): Promise<SourcedColumns[]> {
  const chunks: SourcedColumns[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

const rowsOf = (chunks: readonly SourcedColumns[]) => chunks.flatMap((chunk) => sourcedRowsFromColumns(chunk));

describe('streamKlines (spot BTCUSDT 1h, replayed at 2020-12-15T10:30Z)', () => {
  it('cold: the exact rows, fetching what one getKlines fetches; short periods (a month of 1h) go in one request', async () => {
    const { stream, calls } = build();
    const streamed = stream({ dataset: BTC_1H, range: RANGE });
    const chunks = await drain(streamed);
    expect(chunks).toHaveLength(1); // 3 months of 1h: 1,800 candles, well under a month of 1m
    expect(chunks.flatMap((c) => rowsFromColumns(c.columns))).toEqual(expectedKlines('spot', 'BTCUSDT', '1h', RANGE.startMs, RANGE.endMs - 1));
    const zips = fake.requests.filter((r) => r.kind === 'vision-zip').map((r) => r.path.split('/').pop()!);
    expect(zips.filter((name) => /-\d{4}-\d{2}\.zip$/.test(name)).sort()).toEqual(['BTCUSDT-1h-2020-10.zip', 'BTCUSDT-1h-2020-11.zip']);
    expect(zips.filter((name) => /-\d{4}-\d{2}-\d{2}\.zip$/.test(name))).toHaveLength(13);
    expect(fake.requests.filter((r) => r.kind === 'rest')).toHaveLength(1);
    expect(streamed.rows).toBe(rowsOf(chunks).length);
    expect(streamed.stats).toMatchObject({ rowsFromCache: 0, restRequests: 1, visionFiles: 15 });
    expect(streamed.stats.rowsFromVision + streamed.stats.rowsFromRest).toBe(streamed.rows);
    expect(calls.statsAdds).toEqual([expect.objectContaining({ requests: 1, misses: 1, hits: 0, rowsServed: streamed.rows })]);
  });

  it('warm: the same rows as getKlines, from 1 index query and the object reads of getKlines, no upstream request', async () => {
    const { service, stream, calls } = build();
    await service.getKlines({ dataset: BTC_1H, range: RANGE });
    calls.gets = 0;
    const whole = await service.getKlines({ dataset: BTC_1H, range: RANGE });
    const wholeGets = calls.gets;
    fake.clearRequests();
    Object.assign(calls, { queries: 0, gets: 0, statsAdds: [] });
    const streamed = stream({ dataset: BTC_1H, range: RANGE });
    const chunks = await drain(streamed);
    expect(fake.requests).toEqual([]);
    expect(rowsOf(chunks)).toEqual(whole.rows);
    expect(chunks).toHaveLength(3);
    expect(calls.queries).toBe(1);
    expect(calls.gets).toBe(wholeGets); // Oct and Nov compacted, December's parts (it is still open)
    expect(calls.gets).toBeGreaterThanOrEqual(3);
    expect(calls.statsAdds).toEqual([expect.objectContaining({ requests: 1, hits: 1, misses: 0, rowsServed: whole.columns.length })]);
  });

  it('a range partly cached streams cache and fresh rows merged, clipped to the request', async () => {
    const { service, stream } = build();
    await service.getKlines({ dataset: BTC_1H, range: { startMs: t('2020-11-10T00:00:00Z'), endMs: t('2020-11-20T00:00:00Z') } });
    const range = { startMs: t('2020-10-20T05:00:00Z'), endMs: t('2020-12-02T07:00:00Z') };
    const chunks = await drain(stream({ dataset: BTC_1H, range, source: 'auto' }));
    const rows = rowsOf(chunks);
    expect(rows.map(({ source: _s, ...row }) => row)).toEqual(expectedKlines('spot', 'BTCUSDT', '1h', range.startMs, range.endMs - 1));
    const again = await service.getKlines({ dataset: BTC_1H, range });
    expect(rows.map((r) => r.open_time)).toEqual(again.rows.map((r) => r.open_time));
  });

  it('an empty range is an error at once', () => {
    const { stream } = build();
    expect(() => stream({ dataset: BTC_1H, range: { startMs: RANGE.startMs, endMs: RANGE.startMs } })).toThrow(/is empty/);
  });
});

describe('batchPeriods (the requests of a cold stream)', () => {
  const year = { startMs: t('2023-01-01'), endMs: t('2024-01-01') };
  const periods = (interval: '1s' | '1m' | '1h' | '4h', range = year) => periodsInRange(range, granularityFor(interval)).map((p) => p.range);

  it('keeps each month of 1m and each day of 1s a request of its own', () => {
    expect(batchPeriods(periods('1m'), INTERVAL_MS['1m'])).toEqual(periods('1m'));
    const days = periods('1s', { startMs: t('2023-01-01'), endMs: t('2023-01-04') });
    expect(batchPeriods(days, INTERVAL_MS['1s'])).toEqual(days);
  });

  it('joins consecutive months of 1h and 4h while they hold at most a month of 1m in candles', () => {
    expect(batchPeriods(periods('1h'), INTERVAL_MS['1h'])).toEqual([year]); // 8,760 candles
    const hours = periods('1h', { startMs: t('2018-01-01'), endMs: t('2024-01-01') });
    const batches = batchPeriods(hours, INTERVAL_MS['1h']);
    expect(batches[0]).toEqual({ startMs: t('2018-01-01'), endMs: t('2023-02-01') }); // 61 months, 44,640 hours
    expect(batches.at(-1)!.endMs).toBe(t('2024-01-01'));
    expect(batches.every((b) => (b.endMs - b.startMs) / INTERVAL_MS['1h'] <= 44_640)).toBe(true);
  });
});
