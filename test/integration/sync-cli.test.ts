/**
 * Issue 10 as a user runs it: `klines sync` of many datasets, `klines ls`, `klines symbols`, the
 * built bin in a child process against the fake Binance serving the real recorded files.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { KLINE_COLUMNS } from '../../lib/domain/kline.ts';
import type { Interval } from '../../lib/domain/intervals.ts';
import type { Market } from '../../lib/domain/markets.ts';
import { startFakeBinance, type FakeBinance } from '../helpers/fake-binance.ts';
import { expectedKlines } from '../helpers/expected.ts';
import { loadRealUniverse } from '../helpers/real-data.ts';
import { runKlines } from '../helpers/run-klines.ts';

const t = (iso: string): number => Date.parse(iso);
// After the recorded um days (2022-08-24/25 ETHUSDT 1h, 2022-09-05/06 BTCUSDT 1m), every daily file published.
const FUTURES_NOW = '2022-11-01T00:00:00Z';
const SPOT_NOW = '2020-12-15T10:30:00Z';
const UM_SYNC = ['sync', '--market', 'um', '--symbols', 'BTCUSDT,ETHUSDT', '--intervals', '1m,1h', '--start', '2022-08-24', '--end', '2022-09-06T23:59:00Z'];

let fake: FakeBinance;
let cacheDir: string;

const klines = (now: string, args: string[]) => {
  fake.setNow(t(now));
  return runKlines(fake, now, { KLINES_CACHE_DIR: cacheDir }, args);
};

/** `klines get` CSV of the real rows, as the oracle. */
function expectedCsv(market: Market, symbol: string, interval: Interval, startIso: string, endIso: string): string {
  const rows = expectedKlines(market, symbol, interval, t(startIso), t(endIso));
  return `${[KLINE_COLUMNS.join(','), ...rows.map((row) => KLINE_COLUMNS.map((c) => row[c]).join(','))].join('\n')}\n`;
}

/** Requests asked more than once (same path and query). */
function repeatedRequests(): string[] {
  const seen = new Map<string, number>();
  for (const r of fake.requests) {
    const key = `${r.path}?${new URLSearchParams(r.query).toString()}`;
    seen.set(key, (seen.get(key) ?? 0) + 1);
  }
  return [...seen].filter(([, count]) => count > 1).map(([key]) => key);
}

beforeAll(async () => {
  fake = await startFakeBinance({ nowMs: t(FUTURES_NOW) });
});
afterAll(async () => {
  await fake.close();
});
beforeEach(async () => {
  cacheDir = await mkdtemp(join(tmpdir(), 'klines-sync-'));
  fake.clearRequests();
  return () => rm(cacheDir, { recursive: true, force: true });
});

describe('klines sync', () => {
  it('fills two um symbols x two intervals asking each file once, then a rerun asks nothing; ls and get agree', async () => {
    const cold = await klines(FUTURES_NOW, [...UM_SYNC, '--json']);
    expect(cold.code).toBe(0);
    expect(repeatedRequests()).toEqual([]);
    const zips = fake.requests.filter((r) => r.kind === 'vision-zip' && r.status === 200).map((r) => r.path).sort();
    expect(zips).toEqual([
      '/data/futures/um/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2022-09-05.zip', '/data/futures/um/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2022-09-06.zip',
      '/data/futures/um/daily/klines/ETHUSDT/1h/ETHUSDT-1h-2022-08-24.zip', '/data/futures/um/daily/klines/ETHUSDT/1h/ETHUSDT-1h-2022-08-25.zip',
    ]);
    // The days with a real file are never asked of REST.
    const restStarts = fake.requests.filter((r) => r.kind === 'rest').map((r) => `${r.query.symbol} ${r.query.interval} ${r.query.startTime}`);
    expect(restStarts).not.toContain(`BTCUSDT 1m ${t('2022-09-05')}`);
    expect(restStarts).not.toContain(`ETHUSDT 1h ${t('2022-08-24')}`);
    const summary = JSON.parse(cold.stdout) as { datasetId: string; rowsAdded: number; visionFiles: number; error?: unknown }[];
    expect(summary.map((s) => [s.datasetId, s.rowsAdded, s.visionFiles])).toEqual([
      ['binance/um/klines/BTCUSDT/1m', 2880, 2], ['binance/um/klines/BTCUSDT/1h', 0, 0],
      ['binance/um/klines/ETHUSDT/1m', 0, 0], ['binance/um/klines/ETHUSDT/1h', 48, 2],
    ]);

    fake.clearRequests();
    const warm = await klines(FUTURES_NOW, UM_SYNC);
    expect(warm.code).toBe(0);
    expect(fake.requests).toEqual([]);
    expect(warm.stdout).toMatch(/^total\s+0\s+0\s+0\s+0\s*$/m);

    const ls = JSON.parse((await klines(FUTURES_NOW, ['ls', '--market', 'um', '--json'])).stdout) as Record<string, unknown>[];
    const withRows = ls.filter((d) => (d.rows as number) > 0);
    expect(withRows.map((d) => [d.symbol, d.interval, d.dataType, d.firstOpenMs, d.lastOpenMs, d.rows])).toEqual([
      ['BTCUSDT', '1m', 'klines', t('2022-09-05T00:00:00Z'), t('2022-09-06T23:59:00Z'), 2880],
      ['ETHUSDT', '1h', 'klines', t('2022-08-24T00:00:00Z'), t('2022-08-25T23:00:00Z'), 48],
    ]);
    // Binance answered the other days with no rows: covered and empty, not holes never fetched.
    expect(ls.every((d) => (d.neverFetched as unknown[]).length === 0)).toBe(true);
    expect(ls.find((d) => d.symbol === 'BTCUSDT' && d.interval === '1h')).toMatchObject({ rows: 0, emptyUpstream: expect.arrayContaining([{ period: '2022-08', candles: 8 * 24 }]) });

    const table = (await klines(FUTURES_NOW, ['ls', '--market', 'um', '--symbol', 'ETHUSDT', '--interval', '1h'])).stdout.trim().split('\n');
    expect(table[0]).toMatch(/^market\s+data_type\s+symbol\s+interval\s+first_open_time\s+last_open_time\s+rows\s+bytes\s+sources/);
    expect(table.slice(1)).toEqual([expect.stringMatching(/^um\s+klines\s+ETHUSDT\s+1h\s+2022-08-24T00:00:00.000Z\s+2022-08-25T23:00:00.000Z\s+48\s+\d+\s+vision\s/)]);

    fake.clearRequests();
    const btc = await klines(FUTURES_NOW, ['get', 'BTCUSDT', '1m', '--market', 'um', '--start', '2022-09-05', '--end', '2022-09-06T23:59:00Z']);
    const eth = await klines(FUTURES_NOW, ['get', 'ETHUSDT', '1h', '--market', 'um', '--start', '2022-08-24', '--end', '2022-08-25T23:00:00Z']);
    expect(btc.stdout).toBe(expectedCsv('um', 'BTCUSDT', '1m', '2022-09-05', '2022-09-06T23:59:00Z'));
    expect(eth.stdout).toBe(expectedCsv('um', 'ETHUSDT', '1h', '2022-08-24', '2022-08-25T23:00:00Z'));
    expect(fake.requests).toEqual([]);
  });

  it('whole published spot months cost one monthly file per symbol and month, and nothing else', async () => {
    // Only spot BTCUSDT 1h has monthly files in the recorded data (SOURCES.md), so one symbol here.
    const result = await klines(SPOT_NOW, ['sync', '--symbols', 'BTCUSDT', '--intervals', '1h', '--start', '2020-01-01', '--end', '2020-03-31T23:00:00Z']);
    expect(result.code).toBe(0);
    expect(fake.requests.filter((r) => r.kind !== 'vision-checksum').map((r) => r.path)).toEqual(expect.arrayContaining([
      '/data/spot/monthly/klines/BTCUSDT/1h/BTCUSDT-1h-2020-01.zip', '/data/spot/monthly/klines/BTCUSDT/1h/BTCUSDT-1h-2020-02.zip',
      '/data/spot/monthly/klines/BTCUSDT/1h/BTCUSDT-1h-2020-03.zip',
    ]));
    expect(fake.requests.filter((r) => r.kind !== 'vision-checksum')).toHaveLength(3);
    fake.clearRequests();
    const get = await klines(SPOT_NOW, ['get', 'BTCUSDT', '1h', '--start', '2020-01-01', '--end', '2020-03-31T23:00:00Z']);
    expect(get.stdout).toBe(expectedCsv('spot', 'BTCUSDT', '1h', '2020-01-01', '2020-03-31T23:00:00Z'));
    expect(fake.requests).toEqual([]);
  });

  it('resolves --symbols-regex against exchangeInfo and --days back from the last closed candle', async () => {
    const result = await klines(FUTURES_NOW, ['sync', '--market', 'um', '--symbols-regex', 'ETH.*', '--intervals', '1h', '--days', '70', '--json']);
    expect(result.code).toBe(0);
    const summary = JSON.parse(result.stdout) as { datasetId: string; startMs: number; endMs: number; rowsAdded: number }[];
    expect(summary).toMatchObject([{ datasetId: 'binance/um/klines/ETHUSDT/1h', startMs: t(FUTURES_NOW) - 70 * 86_400_000, endMs: t(FUTURES_NOW), rowsAdded: 48 }]);
    expect(fake.requests.filter((r) => r.kind === 'exchange-info').map((r) => r.path)).toEqual(['/fapi/v1/exchangeInfo']);
  });

  it('exits 1 when a dataset fails, keeps the others, and says which failed', async () => {
    const result = await klines(FUTURES_NOW, ['sync', '--market', 'um', '--symbols', 'NOSUCHPAIR,ETHUSDT', '--intervals', '1h', '--start', '2022-08-24', '--end', '2022-08-25T23:00:00Z']);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/um NOSUCHPAIR 1h .*-1121/);
    expect(result.stdout).toMatch(/^total .*1 failed$/m);
    fake.clearRequests();
    const eth = await klines(FUTURES_NOW, ['get', 'ETHUSDT', '1h', '--market', 'um', '--start', '2022-08-24', '--end', '2022-08-25T23:00:00Z']);
    expect(eth.stdout).toBe(expectedCsv('um', 'ETHUSDT', '1h', '2022-08-24', '2022-08-25T23:00:00Z'));
    expect(fake.requests).toEqual([]);
  });

  it.each([
    { args: ['sync', '--intervals', '1h', '--start', '2020-01-01'], says: '--symbols A,B or --symbols-regex R' },
    { args: ['sync', '--symbols', 'BTCUSDT', '--intervals', '1h'], says: 'or days: the last N days' },
    { args: ['sync', '--symbols', 'BTCUSDT', '--intervals', '1h', '--days', '0'], says: 'a whole number from 1 to' },
    { args: ['sync', '--symbols', 'BTCUSDT', '--intervals', '1h,7m', '--days', '1'], says: 'is not a Binance interval' },
    { args: ['sync', '--symbols-regex', '(', '--intervals', '1h', '--days', '1'], says: 'is not a regular expression' },
  ])('bad input $args exits 2 and says what is accepted', async ({ args, says }) => {
    const result = await klines(SPOT_NOW, args);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(says);
    expect(fake.requests.filter((r) => r.kind !== 'exchange-info')).toEqual([]);
  });
});

describe('klines symbols', () => {
  it('lists the symbols the fake serves, then answers from its day-old copy without asking again', async () => {
    const realSpot = [...new Set([...loadRealUniverse().datasets.values()].filter((d) => d.market === 'spot').map((d) => d.symbol))].sort();
    const first = await klines(SPOT_NOW, ['symbols', '--market', 'spot', '--json']);
    expect(first.code).toBe(0);
    const listed = JSON.parse(first.stdout) as { market: string; symbols: { symbol: string; status: string }[] };
    expect(listed.symbols).toEqual(realSpot.map((symbol) => ({ symbol, status: 'TRADING' })));
    expect(fake.requests.map((r) => r.path)).toEqual(['/api/v3/exchangeInfo']);

    fake.clearRequests();
    await klines('2020-12-16T10:00:00Z', ['symbols', '--market', 'spot', '--regex', 'BTC.*']);
    expect(fake.requests).toEqual([]);
    const dayLater = await klines('2020-12-16T10:30:00Z', ['symbols', '--market', 'spot', '--regex', 'BTC.*']);
    expect(fake.requests.map((r) => r.path)).toEqual(['/api/v3/exchangeInfo']);
    expect(dayLater.stdout.trim().split('\n').slice(1).map((line) => line.split(/\s+/)[0])).toEqual(['BTCUSDT']);
  });

  it('gives futures symbols their onboard date', async () => {
    const listed = JSON.parse((await klines(FUTURES_NOW, ['symbols', '--market', 'cm', '--json'])).stdout) as { symbols: Record<string, unknown>[] };
    expect(listed.symbols).toEqual([{ symbol: 'BTCUSD_PERP', status: 'TRADING', onboardMs: expect.any(Number), onboard: expect.stringMatching(/T00:00:00.000Z$/) }]);
  });
});

describe('klines get --days and --time-format', () => {
  it('asks for the last N days up to the last closed candle, with ISO-8601 times on request', async () => {
    const byDays = await klines(SPOT_NOW, ['get', 'BTCUSDT', '1h', '--days', '2']);
    expect(byDays.stdout).toBe(expectedCsv('spot', 'BTCUSDT', '1h', '2020-12-13T10:00:00Z', '2020-12-15T09:00:00Z'));
    const iso = await klines(SPOT_NOW, ['get', 'BTCUSDT', '1h', '--days', '2', '--time-format', 'iso']);
    const [header, firstLine] = iso.stdout.split('\n');
    expect(header).toBe(KLINE_COLUMNS.join(','));
    expect(firstLine).toMatch(/^2020-12-13T10:00:00\.000Z,[^,]+,[^,]+,[^,]+,[^,]+,[^,]+,2020-12-13T10:59:59\.999Z,/);
    const json = JSON.parse((await klines(SPOT_NOW, ['get', 'BTCUSDT', '1h', '--days', '1', '--format', 'json', '--time-format', 'iso'])).stdout) as Record<string, unknown>[];
    expect(json).toHaveLength(24);
    expect(json[23]).toMatchObject({ open_time: '2020-12-15T09:00:00.000Z', close_time: '2020-12-15T09:59:59.999Z' });
    const both = await klines(SPOT_NOW, ['get', 'BTCUSDT', '1h', '--days', '2', '--start', '2020-12-01']);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('give one of them, not both');
  });
});
